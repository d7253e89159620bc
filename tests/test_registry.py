"""The manifest: schema, seed figures, mirror layout, user manifests, lookups."""
import hashlib
import json
import re
from pathlib import Path

import pytest

import slimocr_zoo
from slimocr_zoo.errors import ManifestError, UnknownModelError
from slimocr_zoo.registry import builtin_manifest

from conftest import SHARED

SEED_IDS = ["MobileNetV3_DB", "MobileNetV3_CRNN", "SlimTextDet", "SlimTextRec",
            "SlimTextDet_quat_pruning", "SlimTextDet_pruning"]


def builtin():
    return json.loads(builtin_manifest().read_text("utf-8"))


def seed_rows():
    """The seed's HTML table as (model, accuracy, latency, e2e, speed-up, size, compression) per row pair."""
    seed = SHARED / "seed" / "000_c5f40bd2629ca8cd.txt"
    if not seed.is_file():
        pytest.skip(f"seed table not found at {seed} (set SLIMOCR_SHARED_DIR)")
    text = seed.read_text("utf-8")
    rows = re.findall(r"<tr>(.*?)</tr>", text.split("<tbody>")[1], re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows]
    out = []
    for det, rec in zip(cells[0::2], cells[1::2]):
        # det row: no, task, model, method, acc, ms, e2e, speed, size, ratio, link; rec row: task, model, method, acc, ms, link
        out.append({"row": int(det[0]), "det": (det[2], float(det[4]), float(det[5])),
                    "rec": (rec[1], float(rec[3]), float(rec[4])), "e2e": float(det[6]),
                    "speedup": det[7], "size": float(det[8]), "compression": det[9]})
    return out


def test_all_seed_ids_and_configs_present():
    ids = {m.id for m in slimocr_zoo.list_models()}
    assert set(SEED_IDS) <= ids
    assert [c.id for c in slimocr_zoo.configs()] == [0, 1, 2, 3, 4, 5, 6, 7]  # the seed's, then PP-OCRv4's
    assert [c.baseline for c in slimocr_zoo.configs()] == [None, 0, 0, 0, None, 4, 4, 4]
    assert {m.task for m in slimocr_zoo.list_models()} == {"det", "rec", "cls", "dict"}
    assert [m.id for m in slimocr_zoo.list_models(task="dict")] == ["ppocr_keys_v1"]


def test_reported_figures_match_the_seed_table_cell_by_cell():
    for row in seed_rows():
        cfg = slimocr_zoo.configs()[row["row"]]
        for task in ("det", "rec"):
            name, acc, ms = row[task]
            assert getattr(cfg, task) == name
            rep = slimocr_zoo.info(name).reported
            assert rep["source"] == "seed" and rep["device"] == "sd855"
            assert (rep["accuracy"]["value"], rep["latency_ms"]) == (acc, ms), name
        r = cfg.reported
        assert r["e2e_latency_ms"] == row["e2e"] and r["size_mb"] == row["size"]
        assert ("-" if r["speedup_pct"] is None else f"{r['speedup_pct']}%") == row["speedup"]
        assert ("-" if r["compression_pct"] is None else f"{r['compression_pct']}%") == row["compression"]


def test_seed_derived_columns_are_consistent():
    base = slimocr_zoo.configs()[0].reported
    for cfg in slimocr_zoo.configs()[1:4]:
        r = cfg.reported
        assert round((base["e2e_latency_ms"] / r["e2e_latency_ms"] - 1) * 100) == r["speedup_pct"]
        # sizes are printed rounded to 0.1 MB, the ratio was computed from unrounded ones
        assert abs((1 - r["size_mb"] / base["size_mb"]) * 100 - r["compression_pct"]) < 1.2


def test_aliases_and_case():
    assert slimocr_zoo.info("SlimTextDet_quant_pruning").id == "SlimTextDet_quat_pruning"
    assert slimocr_zoo.info("ch_ppocr_mobile_v1.1_det").id == "MobileNetV3_DB"
    assert slimocr_zoo.info("mobilenetv3_db").id == "MobileNetV3_DB"


def test_unknown_id_suggests_nearest():
    with pytest.raises(UnknownModelError) as e:
        slimocr_zoo.load("SlimTextDet_quant_prunning")
    assert e.value.suggestions[0] == "SlimTextDet_quat_pruning"
    assert "did you mean SlimTextDet_quat_pruning" in str(e.value)
    with pytest.raises(UnknownModelError) as e:
        slimocr_zoo.info("zzzz")
    assert e.value.suggestions == [] and "slimocr-zoo list" in str(e.value)


def test_every_model_has_an_input_spec_and_every_file_a_provenance():
    for m in slimocr_zoo.list_models():
        if m.task == "det":
            assert {"limit_side_len", "multiple", "mean", "std", "channel_order"} <= set(m.input), m.id
            assert {"thresh", "box_thresh", "unclip_ratio"} <= set(m.postprocess), m.id
        if m.task == "rec":
            assert m.input["dictionary"] == "ppocr_keys_v1" and m.input["height"] in (32, 48), m.id
        for a in m.artifacts:
            assert a.provenance and a.files
            if a.format == "nb":
                assert a.target in ("arm", "x86") and a.opt_version
            if not a.pinned and not a.recipe:
                assert any(s.url.startswith("https://") for s in a.sources), f"{a.key}: unpinned and no upstream URL"
            if a.recipe:
                assert not a.sources and a.recipe["parent"] in {m.id, m.parent} | {x.id for x in slimocr_zoo.list_models()}


def test_compression_details_as_published():
    """The seed's words stay the seed's (reported.compression); compression says what the recipes do."""
    seed = slimocr_zoo.info("SlimTextDet").reported["compression"]["quantization"]
    assert seed["algorithm"] == "PACT" and seed["quantizable_op_type"] == ["conv2d", "depthwise_conv2d", "mul"]
    rec = slimocr_zoo.info("SlimTextRec").compression["quantization"]  # upstream's own file: upstream's words
    assert rec["not_quant_pattern"] == ["skip_quant"]
    prune = slimocr_zoo.info("SlimTextDet_pruning").artifact("pruned").recipe
    assert prune["criterion"] == "geometry_median" and "conv12_se_2_weights" in prune["skip"]
    for mid in ("SlimTextDet", "SlimTextDet_quat_pruning"):
        m = slimocr_zoo.info(mid)  # upstream never published them: every artifact is built here
        assert m.artifacts and all(a.recipe for a in m.artifacts)
        assert m.artifact("paddle").recipe["type"] == "qat" and m.artifact("nb-arm").recipe["type"] == "opt"
    assert slimocr_zoo.info("SlimTextDet_quat_pruning").artifact("paddle").recipe["parent"] == "SlimTextDet_pruning"
    rec = slimocr_zoo.info("SlimTextRec").artifact("synthetic")
    assert rec.synthetic and rec.recipe["parent_artifact"] == "synthetic"  # flagged all the way down


KIND = {"qat": "quantization-aware training by distillation", "quant_post": "post-training quantization"}


def test_compression_follows_the_recipes():
    """Where compression names the artifact whose recipe did it, its figures are that recipe's."""
    seen = 0
    for m in slimocr_zoo.list_models():
        q = m.compression.get("quantization", {})
        if "recipe" in q:
            r = m.artifact(q["recipe"]).recipe
            assert q["kind"] == KIND[r["type"]] and q["quantizable_op_type"] == r["quantizable_op_type"], m.id
            assert (q.get("teacher"), q.get("iterations"), q.get("batch")) == (
                r.get("teacher", r["parent"]), r.get("iterations"), r.get("batch")), m.id
            seen += 1
        tune = m.compression.get("pruning", {}).get("fine_tuning")
        if isinstance(tune, dict):
            r = m.artifact("paddle").recipe
            assert r["type"] == "distill" and (tune["iterations"], tune["batch"]) == (r["iterations"], r["batch"]), m.id
            assert m.artifact(r["parent_artifact"]).recipe["type"] == "prune"
            seen += 1
    assert seen >= 3


def test_pinned_files_match_the_shared_mirror(shared_models):
    """../shared/models is laid out as a mirror: every pinned path exists there with its hash."""
    n = 0
    for m in slimocr_zoo.list_models():
        for a in m.artifacts:
            for f in a.files:
                if f.pinned:
                    p = shared_models / f.path
                    assert p.is_file(), f.path
                    assert p.stat().st_size == f.size
                    assert hashlib.sha256(p.read_bytes()).hexdigest() == f.sha256, f.path
                    n += 1
    assert n == len([p for p in shared_models.rglob("*") if p.is_file()])  # and nothing there is unlisted


def test_bar_every_model_with_files_on_the_mirror_loads_verified(mirror):
    """The issue's bar: with the mirror on a loopback server, load() returns verified files."""
    loaded = 0
    for m in slimocr_zoo.list_models():
        for a in m.artifacts:
            if a.pinned:
                got = slimocr_zoo.load(m.id, artifact=a.name, mirror=mirror.url, quiet=True)
                for f in a.files:
                    p = got.files[f.name]
                    assert hashlib.sha256(p.read_bytes()).hexdigest() == f.sha256
                loaded += 1
    assert loaded == 12


def test_load_defaults_to_the_preferred_format(mirror):
    assert slimocr_zoo.load("ch_ppocr_mobile_v2.0_cls", mirror=mirror.url).artifact.format == "paddle"
    nb = slimocr_zoo.load("ch_ppocr_mobile_v2.0_cls", format="nb", target="arm", mirror=mirror.url)
    assert nb.artifact.name == "nb-arm" and nb.files["ch_ppocr_mobile_v2.0_cls_opt.nb"].read_bytes()[2:9] == b"6010b5f"


def test_synthetic_artifacts_are_never_a_default():
    m = slimocr_zoo.info("MobileNetV3_CRNN")
    from slimocr_zoo.artifacts import candidates

    assert [a.name for a in candidates(m)] == ["paddle-upstream"]
    assert [a.name for a in candidates(m, artifact="synthetic")] == ["synthetic"]
    assert [a.name for a in candidates(slimocr_zoo.info("MobileNetV3_DB"), format="nb", target="arm")] == [
        "nb-arm", "nb-arm-upstream"]  # built here (matching our opt) before upstream-unpinned


def test_program_only_artifact_is_not_a_default(mirror):
    m = slimocr_zoo.load("MobileNetV3_CRNN", artifact="program", mirror=mirror.url)
    assert set(m.files) == {"model"}
    with pytest.raises(slimocr_zoo.DownloadError, match="ch_ppocr_mobile_v1.1_rec_infer.tar"):
        slimocr_zoo.load("MobileNetV3_CRNN", mirror=mirror.url)  # the full model is upstream only


# --- malformed manifests ---------------------------------------------------------------

def _write(tmp_path, data, name="user.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def _one_model(**over):
    m = {"id": "my_model", "task": "det", "family": "mine", "description": "d",
         "artifacts": [{"name": "paddle", "format": "paddle", "layout": "combined",
                        "files": [{"path": "mine/model", "size": 3, "sha256": "a" * 64}],
                        "sources": [], "provenance": "made by me"}]}
    m.update(over)
    return {"schema_version": 1, "models": [m]}


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["models"][0].update(task="detection"), "$.models[0].task"),
    (lambda d: d["models"][0]["artifacts"][0]["files"][0].update(sha256="xyz"), "$.models[0].artifacts[0].files[0].sha256"),
    (lambda d: d["models"][0]["artifacts"][0]["files"][0].update(path="../etc/passwd"), "$.models[0].artifacts[0].files[0].path"),
    (lambda d: d["models"][0]["artifacts"][0].update(format="nb", layout=None), "$.models[0].artifacts[0]"),
    (lambda d: d["models"][0].pop("family"), "$.models[0]"),
    (lambda d: d.update(schema_version=2), "$.schema_version"),
    (lambda d: d["models"][0]["artifacts"][0].update(sources=[{"type": "url", "url": "ftp://x"}]), "$.models[0].artifacts[0].sources[0].url"),
])
def test_malformed_manifest_names_the_bad_field(tmp_path, mutate, where):
    data = _one_model()
    mutate(data)
    p = _write(tmp_path, data)
    with pytest.raises(ManifestError) as e:
        slimocr_zoo.register_manifest(p)
    assert str(p) in str(e.value) and f"{where}:" in str(e.value)
    assert "my_model" not in {m.id for m in slimocr_zoo.list_models()}  # a bad manifest is not half-merged


def test_builtin_manifest_mutations_are_caught(tmp_path, monkeypatch):
    data = builtin()
    data["models"][2]["reported"]["latency_ms"] = "fast"
    p = _write(tmp_path, data, "slimocr.json")
    from slimocr_zoo.registry import Registry

    with pytest.raises(ManifestError, match=r"\$\.models\[2\]\.reported\.latency_ms"):
        Registry([p])


def test_invalid_json_names_line_and_column(tmp_path):
    p = _write(tmp_path, '{"schema_version": 1,\n "models": [}')
    with pytest.raises(ManifestError, match=r"line 2 column"):
        slimocr_zoo.register_manifest(p)


def test_dangling_reference_is_an_error(tmp_path):
    p = _write(tmp_path, {"schema_version": 1, "models": _one_model()["models"],
                          "configs": [{"id": 17, "det": "my_model", "rec": "NoSuchRec"}]})
    with pytest.raises(ManifestError, match=r"configs\[17\]\.rec refers to unknown model 'NoSuchRec'"):
        slimocr_zoo.register_manifest(p)


def test_a_baseline_must_be_a_row(tmp_path):
    p = _write(tmp_path, {"schema_version": 1, "models": _one_model()["models"],
                          "configs": [{"id": 17, "det": "my_model", "rec": "MobileNetV3_CRNN", "baseline": 9}]})
    with pytest.raises(ManifestError, match=r"configs\[17\]\.baseline is 9, which is no configuration"):
        slimocr_zoo.register_manifest(p)


def test_user_manifest_merges(tmp_path, monkeypatch, shared_models):
    data = _one_model(aliases=["mine"])
    f = shared_models / "ppocr_v1.1_det/model"
    data["models"][0]["artifacts"][0]["files"] = [
        {"path": "ppocr_v1.1_det/model", "size": f.stat().st_size, "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}]
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(_write(tmp_path, data)))
    assert slimocr_zoo.info("mine").manifest == (tmp_path / "user.json").resolve()
    assert "MobileNetV3_DB" in {m.id for m in slimocr_zoo.list_models()}
    assert slimocr_zoo.load("mine", mirror=str(shared_models)).files["model"].is_file()


def test_duplicate_id_names_both_files(tmp_path):
    data = _one_model(id="MobileNetV3_DB")
    p = _write(tmp_path, data)
    with pytest.raises(ManifestError) as e:
        slimocr_zoo.register_manifest(p)
    msg = str(e.value)
    assert "'MobileNetV3_DB'" in msg and str(builtin_manifest()) in msg and str(p) in msg


def test_alias_clash_between_user_manifests(tmp_path, monkeypatch):
    a = _write(tmp_path, _one_model(id="a_model", aliases=["shared_name"]), "a.json")
    b = _one_model(id="b_model", aliases=["shared_name"])
    b["models"][0]["artifacts"][0]["files"][0]["path"] = "other/model"
    b = _write(tmp_path, b, "b.json")
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", f"{a}:{b}")
    with pytest.raises(ManifestError, match=r"'shared_name'.*a\.json.*b\.json"):
        slimocr_zoo.list_models()


def test_same_path_with_two_hashes_is_an_error(tmp_path):
    data = _one_model()
    data["models"][0]["artifacts"][0]["files"][0]["path"] = "ppocr_v1.1_det/params"
    with pytest.raises(ManifestError, match="different sha256"):
        slimocr_zoo.register_manifest(_write(tmp_path, data))


def test_packaged_manifest_is_the_repository_one():
    root = Path(__file__).resolve().parent.parent / "manifests" / "slimocr.json"
    assert builtin_manifest().read_bytes() == root.read_bytes()


def test_unregister_manifest_takes_a_user_manifest_back(tmp_path):
    a = _write(tmp_path, _one_model(), "a.json")
    b = _write(tmp_path, _one_model(id="my_other"), "b.json")
    slimocr_zoo.register_manifest(a)
    slimocr_zoo.register_manifest(b)
    assert {"my_model", "my_other"} <= {m.id for m in slimocr_zoo.list_models()}
    slimocr_zoo.unregister_manifest(a)
    ids = {m.id for m in slimocr_zoo.list_models()}
    assert "my_model" not in ids and "my_other" in ids
    with pytest.raises(UnknownModelError):
        slimocr_zoo.info("my_model")
    slimocr_zoo.unregister_manifest()
    assert "my_other" not in {m.id for m in slimocr_zoo.list_models()}
    assert "MobileNetV3_DB" in {m.id for m in slimocr_zoo.list_models()}  # the built-in one stays



@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "benchmarks/experiments").glob("*.json")),
                         ids=lambda p: p.name)
def test_experiment_manifests_merge_with_the_builtin_one(path):
    """The manifests that make benchmarks/results/experiments/ rerunnable still validate, and their
    recipes' parents and teachers still resolve (a stale id would only fail hours into a rerun)."""
    reg = slimocr_zoo.register_manifest(path)
    ids = [m["id"] for m in json.loads(path.read_text())["models"]]
    assert ids and all(reg.resolve(i).manifest == path.resolve() for i in ids)
    assert all(reg.resolve(i).recipes for i in ids)  # each is something built here, not a download
