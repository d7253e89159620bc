"""The quantized speed-up where it can be seen here: float vs int8 .nb of each detector on Paddle Lite
x86 (1 thread, 1x3x544x960, alternating rounds), and opt's weight-only int8 (size and time).

On x86 Paddle Lite 2.13rc0, PaddleSlim's fully int8 .nb give wrong outputs (the runtime refuses them
for inference; timed here only) and are slower than float: int8 speed-ups belong to ARM phones.

    python benchmarks/perf/quant_x86.py [--quick]      (builds missing artifacts; the pruned ones take ~15 min)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, alternating, median, write  # noqa: E402

ARTS = [("MobileNetV3_DB", "nb-x86", "fp32"), ("MobileNetV3_DB", "nb-x86-int8w", "weight-only int8 (opt)"),
        ("SlimTextDet", "nb-x86", "int8 (PaddleSlim post-training)"), ("SlimTextDet_pruning", "nb-x86", "fp32, pruned"),
        ("SlimTextDet_quat_pruning", "nb-x86", "int8, pruned")]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n, rounds = (5, 2) if a.quick else (20, 5)
    os.environ.setdefault("SLIMOCR_ZOO_DATA", str(SHARED / "data"))
    import numpy as np
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    from slimocr_zoo import load

    preds, rows = {}, []
    x = np.random.default_rng(0).random((1, 3, 544, 960), dtype=np.float32)
    for mid, art, what in ARTS:
        m = load(mid, artifact=art, mirror=str(SHARED / "models"), quiet=True)
        path = next(iter(m.files.values()))
        c = MobileConfig()
        c.set_model_from_file(str(path))
        p = create_paddle_predictor(c)
        p.get_input(0).from_numpy(x)
        for _ in range(2):
            p.run()
        preds[(mid, art)] = p
        rows.append({"model": mid, "artifact": art, "what": what, "bytes": path.stat().st_size})
    times = alternating({k: p.run for k, p in preds.items()}, rounds, n)
    for r in rows:
        r["ms"] = times[(r["model"], r["artifact"])]
    ref = median(rows[0]["ms"])
    for r in rows:
        r["median_ms"] = median(r["ms"])
        r["vs_MobileNetV3_DB_fp32"] = r["median_ms"] / ref
    md = "| model | .nb | what | MB | median ms | vs MobileNetV3_DB fp32 |\n|---|---|---|---|---|---|\n"
    md += "\n".join(f"| {r['model']} | {r['artifact']} | {r['what']} | {r['bytes'] / 1e6:.2f} | {r['median_ms']:.1f} "
                    f"| {r['vs_MobileNetV3_DB_fp32']:.2f}x |" for r in rows)
    slower = [r["model"] for r in rows if r["what"].startswith("int8")]
    md += (f"\n\nPaddle Lite x86 (paddlelite wheel), 1 thread, input 1x3x544x960, median of {rounds} alternating "
           f"rounds of {n} runs.\n\nWhat this says: the PaddleSlim int8 detectors ({', '.join(slower)}) run SLOWER "
           "than float on x86 Lite (its int8 kernels are not the optimized path there, and their outputs are wrong on "
           "2.13rc0), so an x86 machine cannot show the seed's int8 speed-up: that figure needs the ARM phone "
           "(`python -m slimocr_zoo.bench --device sd855`). opt's weight-only int8 shrinks the file and dequantizes "
           "weights at load, so its run time is the float one.")
    write("quant_x86", {"rounds": rounds, "runs_per_round": n, "rows": rows}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
