"""Pruned PP-OCRv4 recognizers, as experiments outside the manifest: 25% of four convs of stages
4-5, compensated (prune recipe ``compensate: true``), then distillation, each variant a model of
rec_pruned_manifest.json beside this file. Prints rec accuracy on word crops 0-1199 (scored) before
and after fine-tuning, and on crops 1200-1599 (the distillation crops: how well it fits them).

    SLIMOCR_ZOO_MANIFEST=benchmarks/experiments/rec_pruned_manifest.json python benchmarks/experiments/rec_pruned.py [ID]

ID: exp_rec_pruned (300 steps at 1e-5, the default), exp_rec_pruned_lr1e-4 (600 steps at 1e-4,
cosine), exp_rec_pruned_features (that, plus the backbone's and neck's outputs as targets). Each
takes 15-30 minutes on 2 cores. The figures are recorded in benchmarks/results/experiments/.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import slimocr_zoo  # noqa: E402
from slimocr_zoo import eval as ev  # noqa: E402
from slimocr_zoo.api import build  # noqa: E402
from slimocr_zoo.data import read_rec_labels  # noqa: E402

mid = sys.argv[1] if len(sys.argv) > 1 else "exp_rec_pruned"
kw = {"mirror": str(ROOT.parent / "shared/models")}
data = ROOT.parent / "shared/data"
pruned = build(mid, "pruned", **kw)
print("compensated:", json.loads(pruned.files["pruning.json"].read_text()).get("compensated"))
for name in ("pruned", "paddle"):  # before and after the distillation
    if name == "paddle":
        build(mid, "paddle", **kw)
    r = ev.eval_rec(mid, data, "paddle", limit=1200, quiet=True, artifact=name, **kw)
    print(f"{name}: rec accuracy {r['metrics']['accuracy']:.4f} on word crops 0-1199")
seen = read_rec_labels(data / "icdar2015_rec/labels.txt")[1200:1600]
for m in (slimocr_zoo.load(mid, quiet=True, **kw), slimocr_zoo.load("ch_PP-OCRv4_rec", quiet=True, **kw)):
    got = m([p for p, _ in seen])
    print(f"{m.id}: reads {sum(g.text == t for g, (_, t) in zip(got, seen)) / len(seen):.4f} of crops 1200-1599 "
          "as labelled (exact text)")
print("float ch_PP-OCRv4_rec params bytes:", slimocr_zoo.load("ch_PP-OCRv4_rec", **kw).files["inference.pdiparams"].stat().st_size,
      "pruned:", pruned.files["inference.pdiparams"].stat().st_size)
