"""Real int8 on this CPU: each int8 model against its float parent, as users load them
(``load(id, threads=1)``, then ``m(image)``: pre-processing, predictor, post-processing), on the same
ICDAR images, alternating rounds in one process. Boxes found (det) and text read (rec) beside the time.

    python benchmarks/perf/int8.py [--quick]      (models not built here are listed with the command)

Paddle Inference runs an int8 model's convolutions as oneDNN int8 where the CPU has AVX512-VNNI
(``precision`` "int8"); ``int8-simulated`` (fake-quant ops in fp32) is timed once for comparison.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, alternating, median, write  # noqa: E402

# (model, precision asked, its float reference)
DET = [("MobileNetV3_DB", "fp32", None), ("SlimTextDet", "fp32", "MobileNetV3_DB"),
       ("SlimTextDet", "int8-simulated", "MobileNetV3_DB"), ("SlimTextDet_pruning", "fp32", "MobileNetV3_DB"),
       ("SlimTextDet_quat_pruning", "fp32", "MobileNetV3_DB"), ("ch_PP-OCRv4_det", "fp32", None),
       ("ch_PP-OCRv4_det_quant", "fp32", "ch_PP-OCRv4_det"), ("ch_PP-OCRv4_det_pruning", "fp32", "ch_PP-OCRv4_det"),
       ("ch_PP-OCRv4_det_quant_pruning", "fp32", "ch_PP-OCRv4_det")]
REC = [("ch_PP-OCRv4_rec", "fp32", None), ("ch_PP-OCRv4_rec_quant", "fp32", "ch_PP-OCRv4_rec")]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n_img, rounds = (3, 2) if a.quick else (10, 5)
    os.environ.setdefault("SLIMOCR_ZOO_DATA", str(SHARED / "data"))
    from slimocr_zoo import ZooError, load
    from slimocr_zoo.ocr.image import read_image

    images = [read_image(SHARED / f"data/icdar2015_det/images/img_{i}.jpg") for i in range(1, n_img + 1)]
    crops = [read_image(SHARED / f"data/icdar2015_rec/images/word_{i}.png") for i in range(1, 10 * n_img + 1)]
    runs, rows, missing = {}, [], []
    for table, inputs in ((DET, images), (REC, crops)):
        for mid, precision, ref in table:
            try:
                m = load(mid, threads=1, precision=precision, mirror=str(SHARED / "models"), quiet=True)
            except ZooError as e:
                missing.append(f"{mid}: {str(e).splitlines()[0]}")
                continue
            outs = [m(x) for x in inputs]  # warm-up: each shape's primitives made once
            found = sum(len(o) for o in outs) if m.entry.task == "det" else [o.text for o in outs]
            key = (mid, m.precision)
            runs[key] = (lambda m=m, inputs=inputs: [m(x) for x in inputs])
            rows.append({"model": mid, "task": m.entry.task, "precision": m.precision, "reference": ref,
                         "found": found, "inputs": len(inputs)})
    times = alternating(runs, rounds, 1)
    by = {}
    for r in rows:
        per_input = [t / r["inputs"] for t in times[(r["model"], r["precision"])]]
        r["ms"], r["median_ms"] = per_input, median(per_input)
        by.setdefault(r["model"], r) if r["precision"] != "int8-simulated" else None
    for r in rows:
        ref = by.get(r["reference"])
        if ref:
            r["vs_reference"] = r["median_ms"] / ref["median_ms"]
            if r["task"] == "det":
                r["found_vs_reference"] = r["found"] / max(1, ref["found"])
            else:
                r["same_text_as_reference"] = sum(x == y for x, y in zip(r["found"], ref["found"])) / r["inputs"]
    md = ("| model | runs as | median ms per image / crop | vs its float parent | boxes found (det) / "
          "same text as the float model (rec) |\n|---|---|---|---|---|\n")
    for r in rows:
        vs = f"{r['vs_reference']:.2f}x" if "vs_reference" in r else "-"
        if r["task"] == "det":
            found = f"{r['found']}" + (f" ({r['found_vs_reference']:.0%})" if "found_vs_reference" in r else "")
        else:
            found = f"{r['same_text_as_reference']:.0%}" if "same_text_as_reference" in r else "-"
        md += f"| {r['model']} | {r['precision']} | {r['median_ms']:.1f} | {vs} | {found} |\n"
    md += (f"\nPaddle Inference, 1 thread, `load(id, threads=1)` then `m(image)` (pre- and post-processing "
           f"included), det on ICDAR img_1..{n_img}, rec on word_1..{10 * n_img}; median of {rounds} alternating "
           f"rounds over all models. int8 models run oneDNN int8 (CPU with AVX512-VNNI), except the row marked "
           f"int8-simulated (fake-quant ops in fp32, what a CPU without VNNI runs).\n")
    if missing:
        md += "\nNot timed (build them first, `slimocr-zoo build ID`):\n" + "".join(f"- {x}\n" for x in missing)
    for r in rows:
        if r["task"] == "rec":
            r["found"] = len(r["found"])  # the texts themselves are not the point of this file
    write("int8", {"rounds": rounds, "images": n_img, "rows": rows, "not_timed": missing}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
