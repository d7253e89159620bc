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
