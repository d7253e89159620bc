"""How faithfully each slim detector reproduces its float teacher, on images no recipe used: the
teacher's own boxes taken as the ground truth (ICDAR's IoU 0.5 protocol, so "agreement" is the
hmean of the student's boxes against the teacher's), and the mean squared difference of their
probability maps (every 4th pixel).

Why beside hmean: on 300 ICDAR images one box is 0.08 hmean points, and builds of one recipe
that differ only in their seed spread over more than a point of hmean while agreeing with the
teacher equally well. Agreement does not ask which of two noisy boxes a human labelled, so it
tells recipes apart where hmean cannot.

    python benchmarks/teacher_agreement.py [--models SlimTextDet ...] [--limit 300] [--out FILE]

A model may be ID/ARTIFACT (SlimTextDet_pruning/pruned: a build's intermediate step). Each row
also gives the hmean against ICDAR's labels of the same boxes (``labels``), so one run scores both.

SLIMOCR_ZOO_HOME picks the builds measured (an experiment's own cache, say).
"""
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import slimocr_zoo  # noqa: E402
from slimocr_zoo.data import read_det_labels  # noqa: E402
from slimocr_zoo.files import write_atomic  # noqa: E402
from slimocr_zoo.metrics import det_image_counts, det_metrics  # noqa: E402
from slimocr_zoo.ocr.det import postprocess  # noqa: E402
from slimocr_zoo.ocr.image import read_image  # noqa: E402
from slimocr_zoo.results import environment, model_record  # noqa: E402

from detector_cli import check_detectors, labels_file, parser  # noqa: E402


def outputs(model_id, items, mirror):
    """Each image's boxes and its probability map (every 4th pixel), through the paddle runtime:
    one forward pass an image, the boxes post-processed from that map as the pipeline does."""
    mid, _, artifact = model_id.partition("/")
    m = slimocr_zoo.load(mid, artifact=artifact or None, runtime="paddle", quiet=True, mirror=mirror)
    boxes, maps = [], []
    for path, _ in items:
        img = read_image(path)
        prob = m.stage.probability_map(img)
        maps.append(prob[::4, ::4])
        boxes.append([b.tolist() for b in postprocess(prob, img.shape[:2], m.stage.post_spec)[0]])
    return m, boxes, maps


def main():
    p = parser(ROOT / "benchmarks/results/teacher-agreement.json")
    p.add_argument("--limit", type=int, default=300, help="ICDAR label lines 0..N-1 (the recipes use 300+)")
    a = p.parse_args()
    labels = labels_file(p, a.data)
    if a.limit < 1:
        p.error(f"--limit {a.limit}: give the number of images to score, 1 or more")
    check_detectors(p, [a.teacher] + a.models, artifacts=True)
    try:
        items = read_det_labels(labels)[:a.limit]
        teacher, t_boxes, t_maps = outputs(a.teacher, items, a.mirror)
        runs = [(model_id,) + outputs(model_id, items, a.mirror) for model_id in a.models]
    except slimocr_zoo.ZooError as e:
        p.error(str(e))  # one line, exit 2

    def labelled(boxes):  # the same boxes scored against ICDAR's labels
        return det_metrics([det_image_counts(gt, b) for (_, gt), b in zip(items, boxes)])

    rows = []
    for model_id, m, boxes, maps in runs:
        counts = [det_image_counts([{"points": b} for b in tb], sb) for tb, sb in zip(t_boxes, boxes)]
        same = all(s.shape == t.shape for s, t in zip(maps, t_maps))  # else another input size: boxes only
        mse = float(np.mean([np.mean((s - t) ** 2) for s, t in zip(maps, t_maps)])) if same else None
        rows.append({"model": model_record(m), "agreement": det_metrics(counts), "map_mse": mse,
                     "labels": labelled(boxes)})
        agree = rows[-1]["agreement"]
        print(f"{model_id:28s} agreement with {a.teacher}: {agree['hmean']:.4f} (P {agree['precision']:.3f}, "
              f"R {agree['recall']:.3f}), " + (f"map mse {mse:.3e}" if mse is not None else "maps of another size")
              + f", hmean on the labels {rows[-1]['labels']['hmean']:.4f}")
    doc = {"kind": "teacher-agreement",
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/teacher_agreement.py " + " ".join(sys.argv[1:]), "environment": environment(),
           "teacher": model_record(teacher), "teacher_labels": labelled(t_boxes),
           "images": f"ICDAR 2015 det lines 0..{a.limit - 1}", "rows": rows}
    write_atomic(a.out, json.dumps(doc, indent=1) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
