"""A pruned PP-OCRv4 recognizer, as an experiment outside the manifest: 25% of four convs of stages
4-5, compensated (prune recipe ``compensate: true``), then 300 distillation steps; rec accuracy on
word crops 0-1199 before and after fine-tuning. The model and its recipes are in
rec_pruned_manifest.json beside this file (about 15 minutes on 2 cores).

    SLIMOCR_ZOO_MANIFEST=benchmarks/experiments/rec_pruned_manifest.json python benchmarks/experiments/rec_pruned.py

Prints the figures recorded in
benchmarks/results/experiments/ch_PP-OCRv4_rec-prune25x4-compensate-distill300.json.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import slimocr_zoo  # noqa: E402
from slimocr_zoo import eval as ev  # noqa: E402
from slimocr_zoo.api import build  # noqa: E402

kw = {"mirror": str(ROOT.parent / "shared/models")}
data = ROOT.parent / "shared/data"
pruned = build("exp_rec_pruned", "pruned", **kw)
print("compensated:", json.loads(pruned.files["pruning.json"].read_text()).get("compensated"))
for name in ("pruned", "paddle"):  # before and after the distillation
    if name == "paddle":
        build("exp_rec_pruned", "paddle", **kw)
    r = ev.eval_rec("exp_rec_pruned", data, "paddle", limit=1200, quiet=True, artifact=name, **kw)
    print(f"{name}: rec accuracy {r['metrics']['accuracy']:.4f} on word crops 0-1199")
print("float ch_PP-OCRv4_rec params bytes:", slimocr_zoo.load("ch_PP-OCRv4_rec", **kw).files["inference.pdiparams"].stat().st_size,
      "pruned:", pruned.files["inference.pdiparams"].stat().st_size)
