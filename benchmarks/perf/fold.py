"""What folding PP-LCNetV3's affine blocks (slimocr_zoo/runtime/fold.py) does to Paddle Inference:
the same model and input through a predictor of the program as published and one of the folded
program, alternating rounds, fp32 and (where the CPU has it) bf16, 1 thread; and how far the
outputs move.

    python benchmarks/perf/fold.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, median, write  # noqa: E402
from e2e import DET736, bf16_cpu  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n, rounds = (5, 3) if a.quick else (10, 5)
    import numpy as np

    from slimocr_zoo import load
    from slimocr_zoo.eval import read_rec_labels
    from slimocr_zoo.ocr.det import preprocess
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.ocr.rec import resize_norm
    from slimocr_zoo.runtime.paddle import PaddlePredictor

    img = read_image(SHARED / "data/icdar2015_det/images/img_2.jpg")
    crops = [read_image(p) for p, _ in read_rec_labels(SHARED / "data/icdar2015_rec/labels.txt")[:6]]
    rows, reference = [], {}
    for precision in ["fp32"] + (["bf16"] if bf16_cpu() else []):
        for mid in ("ch_PP-OCRv4_det", "ch_PP-OCRv4_rec"):
            m = load(mid, threads=1, mirror=str(SHARED / "models"), quiet=True)
            x = (preprocess(img, {**m.entry.input, **DET736})[0] if m.entry.task == "det"
                 else np.stack([resize_norm(c, m.entry.input, 320) for c in crops]))
            preds = {"as published": PaddlePredictor(m, 1, precision=precision, fold=False),
                     "folded": PaddlePredictor(m, 1, precision=precision)}
            out = {k: p.run(x)[0] for k, p in preds.items()}
            ref = reference.setdefault(mid, out["as published"])  # fp32, as published: what both are held to
            times = {k: [] for k in preds}
            for _ in range(rounds):
                for k, p in preds.items():
                    for _ in range(n):
                        t = time.perf_counter()
                        p.run(x)
                        times[k].append((time.perf_counter() - t) * 1e3)
            ms = {k: median(v) for k, v in times.items()}
            rows.append({"model": mid, "precision": precision, "input": list(x.shape),
                         "folded_ops": dict(zip(("scale", "into_conv"), preds["folded"].folded)),
                         "as_published_ms": ms["as published"], "folded_ms": ms["folded"],
                         "speedup": ms["as published"] / ms["folded"],
                         "max_abs_diff_vs_fp32": {k: float(np.abs(v - ref).max()) for k, v in out.items()},
                         "samples_ms": times})
    md = ("| model | precision | input | ops rewritten (mul+add -> scale, scale -> conv) | as published ms | "
          "folded ms | speed-up | outputs' max abs diff from fp32 as published: as published, folded |\n"
          "|---|---|---|---|---|---|---|---|\n")
    md += "\n".join(f"| {r['model']} | {r['precision']} | {'x'.join(map(str, r['input']))} | "
                    f"{r['folded_ops']['scale']}, {r['folded_ops']['into_conv']} | {r['as_published_ms']:.1f} | "
                    f"{r['folded_ms']:.1f} | {r['speedup']:.2f}x | {r['max_abs_diff_vs_fp32']['as published']:.1e}, "
                    f"{r['max_abs_diff_vs_fp32']['folded']:.1e} |" for r in rows)
    md += (f"\n\nMedian of {n * rounds} runs each, 1 thread, alternating rounds; the det input is an ICDAR image at "
           "short side 736, the rec input 6 ICDAR word crops at 48x320. Accuracy on all of ICDAR 2015 with the "
           "folded programs: benchmarks/results/eval-cpu.json (fp32) and eval-cpu-bf16.json (bf16: the recognizer's "
           "accuracy was 58.75% before folding, its affine blocks in bfloat16; 65.00% after, fp32 65.44%).")
    write("fold", {"runs": rows}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
