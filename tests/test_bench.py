"""The benchmark on this machine (--device cpu), kept tiny: row 0, two images, two repeats."""
import json
import shutil

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("paddle")

from slimocr_zoo import cli  # noqa: E402

from conftest import SHARED  # noqa: E402

pytestmark = pytest.mark.paddle


def main(argv):
    return cli.main(["bench", *argv], prog="python -m slimocr_zoo.bench")


def test_cpu_bench_row0_writes_results_and_resumes(tmp_path, shared_models, capsys):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for n in (1, 2):
        shutil.copy(SHARED / f"data/icdar2015_det/images/img_{n}.jpg", imgs)
    out = tmp_path / "bench.json"
    args = ["--device", "cpu", "--configs", "0", "--warmup", "0", "--repeats", "2", "--images", str(imgs),
            "--out", str(out), "--mirror", str(shared_models), "-q"]
    assert main(args) == 0
    doc = json.loads(out.read_text())
    det, rec = doc["models"]
    assert det["id"] == "MobileNetV3_DB" and len(det["samples_ms"]) == 2 and det["input_shape"] == [1, 3, 544, 960]
    assert rec["synthetic"] and "synthetic stand-in" in rec["notes"][0]  # labelled, never passed off as real
    e2e = doc["e2e"][0]
    assert e2e["config"] == 0 and len(e2e["samples_ms"]) == 2 and sum(e2e["boxes_per_image"]) > 0
    assert doc["measured"] is True and doc["protocol"]["threads"] == 1
    assert "MEASURED on cpu" in capsys.readouterr().out
    before = out.read_text()
    assert main(args + ["--resume"]) == 0
    assert json.loads(out.read_text())["models"] == json.loads(before)["models"]  # finished entries kept, not rerun


def test_unknown_device_and_wrong_runtime_are_clear(capsys):
    assert main(["--device", "sd85"]) == 1
    assert "did you mean sd855" in capsys.readouterr().err
    assert main(["--device", "cpu", "--runtime", "/tmp/benchmark_bin"]) == 1
    assert "--device cpu runs paddle or lite" in capsys.readouterr().err


def test_a_row_whose_model_trains_is_named_with_its_command(tmp_path, shared_models, capsys):
    """make demo's promise: a model whose build is long is not built behind the user's back; the run
    goes on, and says which model and the command that builds it."""
    import slimocr_zoo

    spec = slimocr_zoo.info("MobileNetV3_DB")
    art = {"name": "paddle", "format": "paddle", "layout": "pdmodel", "sources": [], "provenance": "test",
           "build_minutes": 40, "files": [{"path": "built/slow_det/paddle/inference.pdmodel"},
                                          {"path": "built/slow_det/paddle/inference.pdiparams"}],
           "recipe": {"type": "distill", "parent": "MobileNetV3_DB", "parent_artifact": "paddle",
                      "teacher": "MobileNetV3_DB", "iterations": 300,
                      "calibration": {"set": "icdar2015_det", "start": 300, "count": 4}}}
    p = tmp_path / "slow.json"
    p.write_text(json.dumps({"schema_version": 1, "models": [
        {"id": "slow_det", "task": "det", "family": "test", "description": "test", "input": spec.input,
         "postprocess": spec.postprocess, "artifacts": [art]}]}))
    slimocr_zoo.register_manifest(p)
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    shutil.copy(SHARED / "data/icdar2015_det/images/img_1.jpg", imgs)
    out = tmp_path / "bench.json"
    assert main(["--device", "cpu", "--configs", "slow_det+MobileNetV3_CRNN", "--warmup", "0", "--repeats", "1",
                 "--images", str(imgs), "--out", str(out), "--mirror", str(shared_models), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "not timed:" in printed and "about 40 minutes" in printed and "slimocr-zoo build slow_det" in printed
    assert printed.rstrip().splitlines()[-3] == "  slimocr-zoo build slow_det"  # one command for all of them
    doc = json.loads(out.read_text())
    assert [m["id"] for m in doc["models"] if "skipped" in m] == ["slow_det"] and "skipped" in doc["e2e"][0]


def test_profile_says_where_each_models_time_goes(tmp_path, shared_models, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "bench.json"
    assert main(["--device", "cpu", "--configs", "0", "--warmup", "1", "--repeats", "2", "--no-e2e", "--profile",
                 "--images", str(SHARED / "data/icdar2015_det/images"), "--out", str(out),
                 "--mirror", str(shared_models), "-q"]) == 0
    det = json.loads(out.read_text())["models"][0]
    prof = det["op_profile"]
    assert list(prof)[0] in {"fused_conv2d", "conv2d", "depthwise_conv2d", "conv2d_transpose"}  # convs dominate
    assert prof["conv2d_transpose"]["calls"] == 2 and abs(sum(v["share"] for v in prof.values()) - 1) < 0.01
    # the op times add up to (most of) the run: none invented, none lost
    assert 0.5 * det["stats"]["median"] < sum(v["ms"] for v in prof.values()) < 1.5 * det["stats"]["median"]
    assert "Where the time goes" in capsys.readouterr().out
    assert not (tmp_path / "profiler_log").exists()  # paddle writes its trace there by default


def test_profile_is_refused_on_a_phone(capsys):
    assert main(["--device", "sd855", "--profile"]) == 2
    assert "LITE_WITH_PROFILE" in capsys.readouterr().err
