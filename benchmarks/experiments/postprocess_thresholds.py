"""Does a slim detector need post-process thresholds of its own? Each model's DB thresholds
(``thresh`` x ``box_thresh``, unclip 1.6) are chosen on ICDAR label lines 300-399 (the recipes'
calibration images) by agreement with the float teacher's boxes at its own thresholds (no labels),
then lines 0-299 are scored at the manifest's thresholds and at the chosen ones: against the
labels and against the teacher.

    python benchmarks/experiments/postprocess_thresholds.py [--models SlimTextDet ...] [--out FILE]

Measured 2026-12-01 on SlimTextDet and SlimTextDet_pruning as built on a Xeon
(benchmarks/results/experiments/postprocess-thresholds.json): no. SlimTextDet's choice is the
manifest's thresholds; SlimTextDet_pruning's (box_thresh 0.6, by 0.002 of agreement) scored less on
lines 0-299, against the labels and against the teacher.
"""
import datetime
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # detector_cli

import slimocr_zoo  # noqa: E402
from slimocr_zoo.data import read_det_labels  # noqa: E402
from slimocr_zoo.files import write_atomic  # noqa: E402
from slimocr_zoo.metrics import det_image_counts, det_metrics  # noqa: E402
from slimocr_zoo.ocr.det import postprocess  # noqa: E402
from slimocr_zoo.ocr.image import read_image  # noqa: E402
from slimocr_zoo.results import environment, model_record  # noqa: E402

from detector_cli import check_detectors, labels_file, parser  # noqa: E402

THRESH, BOX_THRESH = (0.3, 0.35, 0.4), (0.5, 0.55, 0.6, 0.65)


def main():
    p = parser(ROOT / "benchmarks/results/experiments/postprocess-thresholds.json")
    a = p.parse_args()
    labels = labels_file(p, a.data)
    check_detectors(p, [a.teacher] + a.models)  # before minutes of inference
    items = read_det_labels(labels)[:400]
    scored = items[:300]  # lines 300-399: items[300:]

    def maps(mid):  # one forward pass an image: every threshold reuses it
        m = slimocr_zoo.load(mid, runtime="paddle", quiet=True, mirror=a.mirror)
        return m, [(m.stage.probability_map(img), img.shape[:2]) for img in (read_image(q) for q, _ in items)]

    def boxes(ms, spec):
        return [[b.tolist() for b in postprocess(prob, hw, spec)[0]] for prob, hw in ms]

    def agreement(tb, sb):
        return det_metrics([det_image_counts([{"points": b} for b in t], s) for t, s in zip(tb, sb)])

    teacher, tm = maps(a.teacher)
    spec0 = dict(teacher.stage.post_spec)
    tb = boxes(tm, spec0)
    rows = []
    for mid in a.models:
        m, sm = maps(mid)
        grid = []
        for th, bt in itertools.product(THRESH, BOX_THRESH):
            spec = dict(m.stage.post_spec, thresh=th, box_thresh=bt)
            grid.append({"thresh": th, "box_thresh": bt,
                         "agreement_300_399": agreement(tb[300:], boxes(sm[300:], spec))["hmean"]})
        best = max(grid, key=lambda g: g["agreement_300_399"])
        row = {"model": model_record(m), "grid": grid}
        for name, g in (("manifest", m.stage.post_spec), ("chosen", best)):
            sb = boxes(sm[:300], dict(m.stage.post_spec, thresh=g["thresh"], box_thresh=g["box_thresh"]))
            lab = det_metrics([det_image_counts(gt, b) for (_, gt), b in zip(scored, sb)])
            row[name] = {"thresh": g["thresh"], "box_thresh": g["box_thresh"], "labels_0_299": lab,
                         "agreement_0_299": agreement(tb[:300], sb)}
            print(f"{mid:26s} {name:8s} thresh {g['thresh']} box_thresh {g['box_thresh']}: hmean {lab['hmean']:.4f} "
                  f"({lab['det']} boxes), agreement {row[name]['agreement_0_299']['hmean']:.4f} on lines 0-299")
        rows.append(row)
    doc = {"kind": "postprocess-thresholds",
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/experiments/postprocess_thresholds.py " + " ".join(sys.argv[1:]),
           "environment": environment(), "teacher": model_record(teacher), "calibration": "ICDAR 2015 det lines 300-399",
           "scored": "ICDAR 2015 det lines 0-299", "rows": rows}
    write_atomic(a.out, json.dumps(doc, indent=1) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
