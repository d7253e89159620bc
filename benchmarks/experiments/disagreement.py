"""Where a slim detector and its float teacher disagree, on ICDAR label lines 0-299: each teacher box
the student does not match (ICDAR's IoU 0.5, one to one), and each student box the teacher lacks,
counted by score (borderline: under 0.55, where box_thresh is 0.5) and by cover: split or merged
(half or more of the smaller box inside a box of the other model) or whole (under a tenth: the box
is simply not there in the other's output), with the shorter side of the whole ones in image pixels.

    python benchmarks/experiments/disagreement.py [--models SlimTextDet ...] [--out FILE]

Written to tell which loss or recipe could help: borderline boxes want a calibrated map, split and
merged ones a loss on the gaps between words, whole ones capacity for small text.
"""
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # detector_cli

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

import slimocr_zoo  # noqa: E402
from slimocr_zoo.data import read_det_labels  # noqa: E402
from slimocr_zoo.files import write_atomic  # noqa: E402
from slimocr_zoo.ocr.image import read_image  # noqa: E402
from slimocr_zoo.results import environment, model_record  # noqa: E402

from detector_cli import check_detectors, labels_file, parser  # noqa: E402


def detect(mid, items, mirror):
    """The model and, per image, its boxes as (polygon, score), through the pipeline's detector stage."""
    m = slimocr_zoo.load(mid, runtime="paddle", quiet=True, mirror=mirror)
    out = []
    for path, _ in items:
        r = m.stage(read_image(path))
        out.append([(Polygon(b).buffer(0), s) for b, s in zip(r.boxes, r.scores)])
    return m, out


def _overlap(a, b, smaller=False):
    inter = a.intersection(b).area
    den = min(a.area, b.area) if smaller else a.union(b).area
    return inter / den if den else 0.0


def sort_out(mine, other):
    """Boxes of ``mine`` with no IoU-0.5 partner in ``other`` (greedy one to one), as (score, cover, short side)."""
    used, left = set(), []
    for poly, score in mine:
        best = max(((_overlap(poly, q), j) for j, (q, _) in enumerate(other) if j not in used), default=(0.0, -1))
        if best[0] >= 0.5:
            used.add(best[1])
            continue
        cover = max((_overlap(poly, q, smaller=True) for q, _ in other), default=0.0)
        rect = cv2.minAreaRect(np.asarray(poly.exterior.coords, np.float32))
        left.append((score, cover, min(rect[1])))
    return left


def summary(left, total):
    whole = [s for s in left if s[1] < 0.1]
    return {"count": len(left), "of": total, "borderline": sum(s[0] < 0.55 for s in left),
            "split_or_merged": sum(s[1] >= 0.5 for s in left), "whole": len(whole),
            "whole_short_side_px_p10_p50_p90": np.percentile([s[2] for s in whole], [10, 50, 90]).round(1).tolist()
            if whole else None}


def main():
    p = parser(ROOT / "benchmarks/results/experiments/disagreement.json")
    a = p.parse_args()
    labels = labels_file(p, a.data)
    check_detectors(p, [a.teacher] + a.models)  # before minutes of inference
    items = read_det_labels(labels)[:300]
    teacher, t = detect(a.teacher, items, a.mirror)
    sides = [min(cv2.minAreaRect(np.asarray(q.exterior.coords, np.float32))[1]) for boxes in t for q, _ in boxes]
    rows = []
    for mid in a.models:
        m, s = detect(mid, items, a.mirror)
        missed = [x for tb, sb in zip(t, s) for x in sort_out(tb, sb)]
        extra = [x for tb, sb in zip(t, s) for x in sort_out(sb, tb)]
        rows.append({"model": model_record(m), "teacher_boxes_missed": summary(missed, sum(map(len, t))),
                     "student_boxes_extra": summary(extra, sum(map(len, s)))})
        for k in ("teacher_boxes_missed", "student_boxes_extra"):
            r = rows[-1][k]
            print(f"{mid:26s} {k}: {r['count']} of {r['of']}: borderline {r['borderline']}, split or merged "
                  f"{r['split_or_merged']}, whole {r['whole']} (short side {r['whole_short_side_px_p10_p50_p90']} px)")
    doc = {"kind": "disagreement", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/experiments/disagreement.py " + " ".join(sys.argv[1:]),
           "environment": environment(), "teacher": model_record(teacher), "images": "ICDAR 2015 det lines 0..299",
           "teacher_short_side_px_p10_p50_p90": np.percentile(sides, [10, 50, 90]).round(1).tolist(), "rows": rows}
    write_atomic(a.out, json.dumps(doc, indent=1) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
