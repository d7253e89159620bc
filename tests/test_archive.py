"""Upstream tar archives: trust on first use, --require-pinned, and refusal of unsafe members."""
import io
import json
import logging
import tarfile

import pytest

import slimocr_zoo
from slimocr_zoo.errors import DownloadError, UnpinnedError, UnsafeArchiveError
from httpmirror import MirrorServer


def _manifest(tmp_path, url, strip="my_det_infer/", mid="my_det"):
    m = {"schema_version": 1, "models": [{
        "id": mid, "task": "det", "family": "test", "description": "an upstream-only test model",
        "artifacts": [{"name": "paddle-upstream", "format": "paddle", "layout": "combined",
                       "files": [{"path": f"{mid}/model"}, {"path": f"{mid}/params"}],
                       "sources": [{"type": "archive", "url": url, "strip": strip}],
                       "provenance": "a tar built by the test"}]}]}
    p = tmp_path / f"{mid}.json"
    p.write_text(json.dumps(m))
    return p


def _tar(path, members):
    """members: list of (TarInfo-like dict, bytes or None)."""
    with tarfile.open(path, "w") as t:
        for info, data in members:
            ti = tarfile.TarInfo(info["name"])
            for k, v in info.items():
                setattr(ti, k, v)
            if data is not None:
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


@pytest.fixture
def upstream(tmp_path, shared_models):
    d = tmp_path / "upstream"
    d.mkdir()
    model = (shared_models / "ppocr_v1.1_det/model").read_bytes()
    params = (shared_models / "ppocr_v1.1_det/params").read_bytes()
    _tar(d / "good.tar", [({"name": "my_det_infer/model"}, model), ({"name": "my_det_infer/params"}, params)])
    with MirrorServer(d) as server:
        server.dir, server.model, server.params = d, model, params
        yield server


def test_archive_pins_on_first_use_then_enforces(upstream, tmp_path, zoo_env, caplog):
    slimocr_zoo.register_manifest(_manifest(tmp_path, upstream.url + "/good.tar"))
    with caplog.at_level(logging.WARNING, logger="slimocr_zoo"):
        m = slimocr_zoo.load("my_det")
    assert m.files["params"].read_bytes() == upstream.params
    assert "pinned" in caplog.text and "on first use" in caplog.text
    pins = json.loads((zoo_env / "pins.json").read_text())
    assert {"archive:" + upstream.url + "/good.tar", "file:my_det/model", "file:my_det/params"} <= set(pins)
    assert not list((zoo_env / "downloads").iterdir())  # archive and staging removed

    # the upstream tar changes behind the same URL: the pin catches it
    from slimocr_zoo.cli import main

    main(["cache", "rm", "my_det"])
    _tar(upstream.dir / "good.tar", [({"name": "my_det_infer/model"}, upstream.model),
                                     ({"name": "my_det_infer/params"}, upstream.params[:-1] + b"x")])
    with pytest.raises(DownloadError, match="sha256 mismatch.*good.tar"):
        slimocr_zoo.load("my_det")
    assert not (zoo_env / "files/my_det/params").exists()


def test_require_pinned_refuses_unpinned_upstream(upstream, tmp_path):
    slimocr_zoo.register_manifest(_manifest(tmp_path, upstream.url + "/good.tar"))
    with pytest.raises(UnpinnedError, match="require"):
        slimocr_zoo.load("my_det", require_pinned=True)
    assert upstream.requests == []


def test_missing_member_is_a_clear_error(upstream, tmp_path):
    slimocr_zoo.register_manifest(_manifest(tmp_path, upstream.url + "/good.tar", strip="other_dir/"))
    with pytest.raises(DownloadError, match="has no file 'other_dir/model'"):
        slimocr_zoo.load("my_det")


EVIL = {
    "dotdot": [({"name": "my_det_infer/../../x"}, b"evil")],
    "absolute": [({"name": "/etc/x"}, b"evil")],
    "symlink_out": [({"name": "my_det_infer/link", "type": tarfile.SYMTYPE, "linkname": "../../../etc/passwd"}, None)],
    "symlink_abs": [({"name": "my_det_infer/link", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, None)],
    "hardlink_out": [({"name": "my_det_infer/hl", "type": tarfile.LNKTYPE, "linkname": "../outside"}, None)],
    "device": [({"name": "my_det_infer/dev", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, None)],
}


@pytest.mark.parametrize("kind", sorted(EVIL))
def test_unsafe_archives_are_refused(kind, upstream, tmp_path, zoo_env):
    members = EVIL[kind] + [({"name": "my_det_infer/model"}, upstream.model),
                            ({"name": "my_det_infer/params"}, upstream.params)]
    _tar(upstream.dir / "evil.tar", members)
    slimocr_zoo.register_manifest(_manifest(tmp_path, upstream.url + "/evil.tar"))
    with pytest.raises(UnsafeArchiveError, match="refusing member"):
        slimocr_zoo.load("my_det")
    assert not (zoo_env / "files" / "my_det").exists()  # nothing extracted, not even the good members
    assert not (tmp_path / "x").exists() and not (zoo_env / "x").exists()
    assert not json.loads((zoo_env / "pins.json").read_text() if (zoo_env / "pins.json").exists() else "{}")
