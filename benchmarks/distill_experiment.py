"""The distilling recipes on a float model (the v1.1 detector by default), measured on ICDAR lines no recipe used.

    python benchmarks/distill_experiment.py qat --iterations 400 --learning-rate 2e-5
    python benchmarks/distill_experiment.py distill --student SlimTextDet_pruning --iterations 300
    python benchmarks/distill_experiment.py ptq --algo mse
    python benchmarks/distill_experiment.py qat --teacher ch_PP-OCRv4_rec --iterations 300 --batch 8

ptq: the float teacher and post-training quantization only (the start of qat).

qat: the float teacher, post-training quantization on the same images (the student at 0
iterations) and QAT. distill: the teacher, the student as it is (e.g. pruned, not fine-tuned)
and the student fine-tuned towards the teacher. Everything is built by the real recipes through a
user manifest in a private cache. Writes benchmarks/results/experiments/KIND-ITERATIONS-LR.json.
Detectors: calibration and distillation use label lines 300..399 only; lines 0..N-1 are scored,
never trained on. Recognizers: crops 1200..1599 train, crops 0..1199 are scored.
"""
import argparse
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import slimocr_zoo  # noqa: E402
from slimocr_zoo import eval as ev  # noqa: E402
from slimocr_zoo.api import build  # noqa: E402
from slimocr_zoo.files import write_atomic  # noqa: E402
from slimocr_zoo.results import environment  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["qat", "distill", "ptq"])
    p.add_argument("--teacher", default="MobileNetV3_DB", help="the float model (qat, ptq: also the one quantized)")
    p.add_argument("--student", default="SlimTextDet_pruning", help="distill: the model fine-tuned (its paddle artifact)")
    p.add_argument("--augment", choices=["yes", "no"], default="yes")
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--learning-rate", type=float, default=2e-5)
    p.add_argument("--algo", default="hist", help="qat, ptq: how post-training quantization picks activation scales")
    p.add_argument("--hist-percent", type=float, default=0.9999)
    p.add_argument("--skip", nargs="*", default=[], help="qat, ptq: weights whose ops stay float")
    p.add_argument("--loss", choices=["mse", "boundary", "bce", "db"], default="mse")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=640)
    p.add_argument("--images", type=int, default=None,
                   help="calibration / distillation images: det lines 300..300+N-1 (100), rec 1200..1200+N-1 (400)")
    p.add_argument("--limit", type=int, default=None, help="scored: label lines 0..N-1 (det 300, rec 1200)")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    p.add_argument("--mirror", default=str(ROOT.parent / "shared/models"))
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    import os

    os.environ["SLIMOCR_ZOO_DATA"] = str(a.data)
    home = Path(tempfile.mkdtemp(prefix="distill-experiment-"))
    os.environ["SLIMOCR_ZOO_HOME"] = str(home)  # a private cache: every figure is built by this run
    teacher = slimocr_zoo.info(a.teacher)
    task = teacher.task
    rec = task == "rec"
    a.limit = a.limit or (1200 if rec else 300)
    calib = {"set": f"icdar2015_{task}", "start": 1200 if rec else 300, "count": a.images or (400 if rec else 100)}
    score = ev.eval_rec if rec else ev.eval_det
    metric = "accuracy" if rec else "hmean"
    ops = ["conv2d", "depthwise_conv2d"]
    train = {"calibration": calib, "iterations": a.iterations, "learning_rate": a.learning_rate, "batch": a.batch,
             "crop": a.crop, "augment": a.augment == "yes", "loss": a.loss}
    if a.kind in ("qat", "ptq"):
        q = {"quantizable_op_type": ops, "algo": a.algo, "hist_percent": a.hist_percent, "skip": a.skip}
        recipes = {"before": {"type": "quant_post", "parent": a.teacher, "parent_artifact": "paddle",
                              "calibration": calib, **q}}
        if a.kind == "qat":
            recipes["after"] = {"type": "qat", "parent": a.teacher, "parent_artifact": "paddle", **q, **train}
    else:
        recipes = {"after": {"type": "distill", "parent": a.student, "parent_artifact": "paddle",
                             "teacher": a.teacher, **train}}
    arts = [{"name": k, "format": "paddle", "layout": "pdmodel", "precision": "int8", "sources": [], "recipe": r,
             "provenance": "benchmarks/distill_experiment.py",
             "files": [{"path": f"built/experiment/{k}/{n}"} for n in
                       ("inference.pdmodel", "inference.pdiparams") + ((f"{a.kind}.json",) if k == "after" else ())]}
            for k, r in recipes.items()]
    manifest = home / "experiment.json"
    manifest.write_text(json.dumps({"schema_version": 1, "models": [
        {"id": "experiment", "task": task, "family": "experiment", "description": "benchmarks/distill_experiment.py",
         "input": teacher.input, "postprocess": teacher.postprocess, "artifacts": arts}]}))
    slimocr_zoo.register_manifest(manifest)
    rows, seconds = {}, {}
    for name in recipes:
        t0 = time.perf_counter()
        m = build("experiment", name, mirror=a.mirror, quiet=True)
        seconds[name] = round(time.perf_counter() - t0, 1)
        rows[name] = score("experiment", a.data, "paddle", limit=a.limit, quiet=True, artifact=name)
    if a.kind == "distill":
        rows["before"] = score(a.student, a.data, "paddle", limit=a.limit, quiet=True, artifact="paddle",
                               mirror=a.mirror)
    rows["float"] = score(a.teacher, a.data, "paddle", limit=a.limit, quiet=True, mirror=a.mirror)
    log = json.loads(m.files[f"{a.kind}.json"].read_text()) if "after" in recipes else None
    doc = {"kind": "experiment", "name": a.kind,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/distill_experiment.py " + " ".join(sys.argv[1:]), "environment": environment(),
           "recipes": recipes, "build_seconds": seconds, "log": log,
           metric: {k: round(r["metrics"][metric], 4) for k, r in rows.items()},
           "runs": rows}
    name = f"ptq-{a.algo}" if a.kind == "ptq" else f"{a.kind}-{a.iterations}-{a.learning_rate:g}"
    name = name if a.teacher == "MobileNetV3_DB" else f"{a.teacher}-{name}"
    name += f"-{a.loss}" if a.loss != "mse" else ""
    name += f"-{a.hist_percent:g}" if a.kind != "distill" and a.algo == "hist" and a.hist_percent != 0.9999 else ""
    name += f"-skip{len(a.skip)}" if a.skip else ""
    out = a.out or ROOT / f"benchmarks/results/experiments/{name}.json"
    write_atomic(out, json.dumps(doc, indent=1) + "\n")
    h = doc[metric]
    what = f"{task} {metric} on ICDAR lines 0..{a.limit - 1}"
    if log is None:
        print(f"{what}: float {h['float']:.4f}, post-training int8 "
              f"({a.algo}) {h['before']:.4f} ({(h['before'] - h['float']) * 100:+.2f}); built in "
              f"{seconds['before'] / 60:.1f} min\nwrote {out}")
        return 0
    print(f"{what}: float {h['float']:.4f}, before {h['before']:.4f} "
          f"({(h['before'] - h['float']) * 100:+.2f}), after {a.kind} {h['after']:.4f} "
          f"({(h['after'] - h['float']) * 100:+.2f}); built in {seconds['after'] / 60:.1f} min "
          f"({log['seconds_per_iteration']} s/iteration)\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
