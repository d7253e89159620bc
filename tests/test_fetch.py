"""Downloads over real loopback HTTP: every fault ends in a verified file or a clear error."""
import hashlib
from pathlib import Path

import pytest

import slimocr_zoo
from slimocr_zoo.errors import DownloadError, OfflineError

PARAMS = "ppocr_v1.1_det/params"
MODEL = "ppocr_v1.1_det/model"


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def expected(rel):
    art = slimocr_zoo.info("MobileNetV3_DB").artifact("paddle")
    return next(f for f in art.files if f.path == rel)


def assert_clean_cache(home):
    """No partial or foreign file ever sits among the cache's finished files."""
    for p in (home / "files").rglob("*") if (home / "files").exists() else []:
        if p.is_file() and not p.name.endswith(".incomplete"):
            rel = p.relative_to(home / "files").as_posix()
            art = [f for m in slimocr_zoo.list_models() for a in m.artifacts for f in a.files if f.path == rel]
            assert art and sha(p) == (art[0].sha256 or sha(p)), f"corrupt file in cache: {p}"


def test_plain_download_verifies_and_caches(mirror, zoo_env):
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert set(m.files) == {"model", "params"}
    for name, path in m.files.items():
        f = expected(f"ppocr_v1.1_det/{name}")
        assert path.stat().st_size == f.size and sha(path) == f.sha256
    assert m.files["params"] == zoo_env / "files" / PARAMS
    n = len(mirror.requests)
    again = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)  # warm: no request at all
    assert again.files == m.files and len(mirror.requests) == n


def test_connection_reset_mid_body_resumes(mirror, zoo_env):
    mirror.fault(PARAMS, "reset", 300_000)
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    gets = mirror.gets(PARAMS)
    assert len(gets) == 2 and gets[1]["range"] and gets[1]["status"] == 206
    start = int(gets[1]["range"].split("=")[1].rstrip("-"))
    assert 0 < start <= 300_000  # resumed from what arrived, not from zero


def test_503_then_success(mirror):
    mirror.fault(PARAMS, "status", 503, times=2)
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert [r["status"] for r in mirror.gets(PARAMS)] == [503, 503, 200]


def test_short_body_is_retried_with_range(mirror):
    mirror.fault(PARAMS, "short", 1000)
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert mirror.gets(PARAMS)[-1]["range"] == "bytes=1000-"


def test_flipped_byte_falls_through_to_next_mirror(mirror, shared_models, zoo_env, tmp_path):
    from httpmirror import MirrorServer

    with MirrorServer(shared_models) as bad:
        bad.fault(PARAMS, "flip", times=None)
        m = slimocr_zoo.load("MobileNetV3_DB", mirror=[bad.url, mirror.url])
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert len(mirror.gets(PARAMS)) == 1
    assert not (zoo_env / "files" / (PARAMS + ".incomplete")).exists()


def test_flipped_byte_everywhere_fails_naming_url_and_hashes(mirror, zoo_env):
    mirror.fault(PARAMS, "flip", times=None)
    with pytest.raises(DownloadError) as e:
        slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    msg = str(e.value)
    assert f"{mirror.url}/{PARAMS}" in msg
    assert expected(PARAMS).sha256 in msg  # the expected hash
    assert "got " in msg and len(msg.split("got ")[1][:64].strip(";. ")) == 64  # and the actual one
    assert not (zoo_env / "files" / PARAMS).exists()
    assert not (zoo_env / "files" / (PARAMS + ".incomplete")).exists()
    assert_clean_cache(zoo_env)


def test_404_on_first_mirror_uses_second(empty_mirror, mirror):
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=[empty_mirror.url, mirror.url])
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert [r["status"] for r in empty_mirror.gets(PARAMS)] == [404]  # 404 is not retried


@pytest.mark.slow
def test_stalled_server_times_out_then_next_source(mirror, shared_models, monkeypatch):
    from httpmirror import MirrorServer

    monkeypatch.setenv("SLIMOCR_ZOO_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("SLIMOCR_ZOO_RETRIES", "1")
    with MirrorServer(shared_models) as stalled:
        stalled.fault(PARAMS, "stall", 3, times=None)
        m = slimocr_zoo.load("MobileNetV3_DB", mirror=[stalled.url, mirror.url])
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert len(stalled.gets(PARAMS)) == 1 + 1  # first try and one retry


@pytest.mark.slow
def test_stalled_only_source_is_a_clear_error(mirror, monkeypatch, zoo_env):
    monkeypatch.setenv("SLIMOCR_ZOO_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("SLIMOCR_ZOO_RETRIES", "0")
    mirror.fault(PARAMS, "stall", 2, times=None)
    with pytest.raises(DownloadError, match="gave up after 1 tries"):
        slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert not (zoo_env / "files" / PARAMS).exists()


def test_server_ignoring_range_restarts_from_zero(mirror, zoo_env):
    mirror.ignore_range = True
    part = zoo_env / "files" / (PARAMS + ".incomplete")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 5000)  # a partial file the server will not resume
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert mirror.gets(PARAMS)[0]["status"] == 200


def test_partial_that_is_not_a_prefix_is_caught_by_the_hash(mirror, zoo_env, shared_models):
    part = zoo_env / "files" / (PARAMS + ".incomplete")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 5000)  # garbage a resume would keep: the sha256 check must catch it
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert not part.exists()  # the bad partial is gone, so the next run starts clean
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert sha(m.files["params"]) == expected(PARAMS).sha256


def test_local_directory_mirror(shared_models):
    m = slimocr_zoo.load("ch_PP-OCRv4_det", mirror=str(shared_models))
    assert sha(m.files["inference.pdiparams"]) == sha(shared_models / "PP-OCRv4_det/inference.pdiparams")
    m2 = slimocr_zoo.load("ppocr_keys_v1", mirror="file://" + str(shared_models))
    assert m2.files["ppocr_keys_v1.txt"].read_text("utf-8").splitlines()[:1]


def test_env_mirror(mirror, monkeypatch):
    monkeypatch.setenv("SLIMOCR_ZOO_MIRROR", mirror.url)
    assert slimocr_zoo.load("ch_ppocr_mobile_v1.1_cls").artifact.name == "paddle"


def test_corrupt_cached_file_is_detected_and_replaced(mirror, zoo_env):
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    data = bytearray(m.files["params"].read_bytes())
    data[100] ^= 1
    m.files["params"].write_bytes(bytes(data))  # changes mtime, so the next load re-hashes
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert len(mirror.gets(PARAMS)) == 2


def test_no_source_at_all_says_how_to_fix():
    with pytest.raises(DownloadError, match="SLIMOCR_ZOO_MIRROR"):
        slimocr_zoo.load("MobileNetV3_DB")


def test_unreachable_mirror_is_retried_then_reported(zoo_env):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connection refused
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}"):
        slimocr_zoo.load("MobileNetV3_DB", mirror=f"http://127.0.0.1:{port}")
    assert_clean_cache(zoo_env)


def test_offline_miss_is_clear(mirror, monkeypatch):
    monkeypatch.setenv("SLIMOCR_ZOO_OFFLINE", "1")
    with pytest.raises(OfflineError, match="offline"):
        slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    assert mirror.requests == []


def test_offline_hit_and_local_mirror_work(mirror, shared_models, monkeypatch):
    slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    monkeypatch.setenv("SLIMOCR_ZOO_OFFLINE", "1")
    assert slimocr_zoo.load("MobileNetV3_DB").files["params"].is_file()
    assert slimocr_zoo.load("ch_ppocr_mobile_v1.1_cls", mirror=str(shared_models)).files["params"].is_file()


def test_warm_load_does_not_rehash(mirror, monkeypatch):
    slimocr_zoo.load("ch_PP-OCRv4_rec", mirror=mirror.url)
    import builtins

    read, real_open = [], builtins.open

    def spy(file, mode="r", *a, **k):  # any read of a cached file's bytes (hashing reads them all)
        if "r" in mode and "b" in mode and "files" in Path(str(file)).parts:
            read.append(file)
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    m = slimocr_zoo.load("ch_PP-OCRv4_rec")
    assert m.files["inference.pdiparams"].is_file() and read == []


def test_disk_full_mid_download_is_clear_and_keeps_the_part(mirror, zoo_env, monkeypatch):
    """ENOSPC in the writer thread: a clear error, what was written stays for a resume, nothing installed."""
    import builtins
    import errno

    from slimocr_zoo import fetch

    class Full:
        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, b):
            if self.n + len(b) > 500_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.n += len(b)
            return self.f.write(b)

        def __getattr__(self, k):
            return getattr(self.f, k)

    def full_open(path, mode="r", *a, **k):
        f = builtins.open(path, mode, *a, **k)
        return Full(f) if "b" in mode and ("a" in mode or "w" in mode) and str(path).endswith(".incomplete") else f

    monkeypatch.setattr(fetch, "open", full_open, raising=False)
    with pytest.raises(DownloadError, match="No space left on device"):
        slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)
    part = zoo_env / "files" / (PARAMS + ".incomplete")
    assert part.is_file() and 0 < part.stat().st_size <= 500_000
    assert not (zoo_env / "files" / PARAMS).exists()
    monkeypatch.delattr(fetch, "open")
    m = slimocr_zoo.load("MobileNetV3_DB", mirror=mirror.url)  # space again: resumes and verifies
    assert sha(m.files["params"]) == expected(PARAMS).sha256
    assert mirror.gets(PARAMS)[-1]["range"]


def test_body_is_synced_on_the_way_and_once_before_install(mirror, zoo_env, monkeypatch):
    """Write-back starts while the body streams in, one fsync of the whole part, then the rename:
    crash safe, and no second full fsync at the end."""
    import os

    from slimocr_zoo import fetch

    events = []

    def spy(kind, real):
        def call(fd, *a):
            path = os.readlink(f"/proc/self/fd/{fd}")
            events.append((kind, path, os.fstat(fd).st_size))
            return real(fd, *a)
        return call

    real_replace = os.replace
    monkeypatch.setattr(fetch, "SYNC_EVERY", 2**20)
    monkeypatch.setattr(fetch, "_writeback", spy("writeback", fetch._writeback))
    monkeypatch.setattr(os, "fsync", spy("fsync", os.fsync))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append(("replace", str(a), str(b))) or real_replace(a, b))
    m = slimocr_zoo.load("ch_PP-OCRv4_rec", mirror=mirror.url)
    params = m.files["inference.pdiparams"]
    size = params.stat().st_size
    part = str(params) + ".incomplete"
    mine = [e for e in events if e[1] == part]
    syncs = [e for e in mine if e[0] == "writeback"]
    assert len(syncs) >= size // 2**20 - 1 and all(0 < e[2] < size for e in syncs), mine
    assert [e[0] for e in mine[len(syncs):]] == ["fsync", "replace"] and mine[len(syncs)][2] == size, mine
