"""What folding PP-LCNetV3's affine blocks (slimocr_zoo/runtime/fold.py) does to Paddle Inference:
the same model and input through a predictor of the program as published and one of the folded
program, alternating rounds, fp32 and (where the CPU has it) bf16, 1 thread; how far the outputs
move; and the recognizer's accuracy on the ICDAR 2015 word crops with each.

    python benchmarks/perf/fold.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, alternating, median, write  # noqa: E402
from e2e import DET736  # noqa: E402


def rec_accuracy(stage, predictor, crops, labels) -> float:
    from slimocr_zoo.metrics import rec_metrics

    stage.predictor, kept = predictor, stage.predictor
    try:
        return rec_metrics([r.text for r in stage(crops)], labels)["accuracy"]
    finally:
        stage.predictor = kept


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer runs, 400 word crops")
    a = ap.parse_args()
    n, rounds = (5, 3) if a.quick else (10, 5)
    import numpy as np

    from slimocr_zoo import load
    from slimocr_zoo.data import read_rec_labels
    from slimocr_zoo.ocr.det import preprocess
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.ocr.rec import resize_norm
    from slimocr_zoo.runtime.libs import bf16_supported
    from slimocr_zoo.runtime.paddle import PaddlePredictor

    img = read_image(SHARED / "data/icdar2015_det/images/img_2.jpg")
    words = read_rec_labels(SHARED / "data/icdar2015_rec/labels.txt")[:400 if a.quick else None]
    crops, labels = [read_image(p) for p, _ in words], [t for _, t in words]
    rows, reference = [], {}
    for precision in ["fp32"] + (["bf16"] if bf16_supported() else []):
        for mid in ("ch_PP-OCRv4_det", "ch_PP-OCRv4_rec"):
            m = load(mid, threads=1, mirror=str(SHARED / "models"), quiet=True)
            x = (preprocess(img, {**m.entry.input, **DET736})[0] if m.entry.task == "det"
                 else np.stack([resize_norm(c, m.entry.input, 320) for c in crops[:6]]))
            preds = {"as published": PaddlePredictor(m, 1, precision=precision, fold=False),
                     "folded": PaddlePredictor(m, 1, precision=precision)}
            out = {k: p.run(x)[0] for k, p in preds.items()}
            ref = reference.setdefault(mid, out["as published"])  # fp32, as published: what both are held to
            times = alternating({k: (lambda p=p: p.run(x)) for k, p in preds.items()}, rounds, n)
            ms = {k: median(v) for k, v in times.items()}
            row = {"model": mid, "precision": precision, "input": list(x.shape),
                   "folded_ops": dict(zip(("scale", "into_conv"), preds["folded"].folded)),
                   "as_published_ms": ms["as published"], "folded_ms": ms["folded"],
                   "speedup": ms["as published"] / ms["folded"],
                   "max_abs_diff_vs_fp32": {k: float(np.abs(v - ref).max()) for k, v in out.items()},
                   "round_means_ms": times}
            if m.entry.task == "rec":
                row["accuracy"] = {k: rec_accuracy(m.stage, p, crops, labels) for k, p in preds.items()}
            rows.append(row)
    md = ("| model | precision | input | ops rewritten (mul+add -> scale, scale -> conv) | as published ms | "
          "folded ms | speed-up | outputs' max abs diff from fp32 as published: as published, folded | "
          "rec accuracy: as published, folded |\n|---|---|---|---|---|---|---|---|---|\n")
    md += "\n".join(f"| {r['model']} | {r['precision']} | {'x'.join(map(str, r['input']))} | "
                    f"{r['folded_ops']['scale']}, {r['folded_ops']['into_conv']} | {r['as_published_ms']:.1f} | "
                    f"{r['folded_ms']:.1f} | {r['speedup']:.2f}x | {r['max_abs_diff_vs_fp32']['as published']:.1e}, "
                    f"{r['max_abs_diff_vs_fp32']['folded']:.1e} | "
                    + (f"{r['accuracy']['as published']:.2%}, {r['accuracy']['folded']:.2%}" if "accuracy" in r else "")
                    + " |" for r in rows)
    md += (f"\n\nMedian of {rounds} alternating rounds of {n} runs, 1 thread; the det input is an ICDAR image at "
           f"short side 736, the rec input 6 ICDAR word crops at 48x320; rec accuracy (exact match) on "
           f"{len(words)} ICDAR 2015 word crops. The whole of ICDAR 2015 with the folded programs: "
           "benchmarks/results/eval-cpu.json (fp32) and eval-cpu-bf16.json.")
    write("fold", {"runs": rows, "rounds": rounds, "runs_per_round": n, "rec_crops": len(words)}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
