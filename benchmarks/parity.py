"""Parity with PaddleOCR's own implementation, and Paddle Lite x86 against Paddle Inference.

    python benchmarks/parity.py [--limit N]       (make parity: sets up .venv-ref first)

1. Our DB det (MobileNetV3_DB, ch_PP-OCRv4_det) and CTC rec (ch_PP-OCRv4_rec) against PaddleOCR
   2.7.3's TextDetector / TextRecognizer (tools/infer) run in .venv-ref on the same weights and
   the manifest's parameters: det hmean and rec accuracy on ../shared/data (our metric code
   scores both sides), plus how many images get identical boxes. Target: within 0.3 points.
2. The probability maps of Paddle Lite x86 and Paddle Inference for the float detectors.
   Target: max |difference| <= 1e-3.
Writes benchmarks/parity.json and benchmarks/parity.md.
"""
import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import slimocr_zoo  # noqa: E402
from slimocr_zoo import data, metrics  # noqa: E402
from slimocr_zoo.files import sha256_of  # noqa: E402
from slimocr_zoo.results import environment  # noqa: E402
from slimocr_zoo.ocr.image import read_image  # noqa: E402

DETS = ["MobileNetV3_DB", "ch_PP-OCRv4_det"]
RECS = ["ch_PP-OCRv4_rec"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    p.add_argument("--mirror", default=str(ROOT.parent / "shared/models"))
    p.add_argument("--ref-python", default=str(ROOT / ".venv-ref/bin/python"))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--lite-images", type=int, default=20, help="images for the Lite/Inference map comparison")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    a = p.parse_args()
    det_items = data.read_det_labels(a.data / "icdar2015_det/labels.txt")[: a.limit]
    rec_items = data.read_rec_labels(a.data / "icdar2015_rec/labels.txt")[: a.limit and a.limit * 4]
    load = lambda mid, **kw: slimocr_zoo.load(mid, mirror=a.mirror, threads=a.threads, quiet=True, **kw)  # noqa: E731

    # --- ours ---
    ours = {"det": {}, "rec": {}}
    spec = {"threads": a.threads, "images": [str(pth) for pth, _ in det_items],
            "crops": [str(pth) for pth, _ in rec_items], "det": [], "rec": []}
    for mid in DETS:
        m = load(mid)
        ours["det"][mid] = [m(read_image(pth)).boxes.tolist() for pth, _ in det_items]
        spec["det"].append({"id": mid, "files": {k: str(v) for k, v in m.files.items()},
                            "input": m.entry.input, "post": m.entry.postprocess})
    for mid in RECS:
        m = load(mid)
        texts = []
        for i in range(0, len(rec_items), 96):
            texts += [r.text for r in m.stage([read_image(pth) for pth, _ in rec_items[i:i + 96]])]
        ours["rec"][mid] = texts
        d = load(m.entry.input["dictionary"])
        spec["rec"].append({"id": mid, "files": {k: str(v) for k, v in m.files.items()}, "input": m.entry.input,
                            "dictionary": str(next(iter(d.files.values())))})

    # --- the reference, in its own environment ---
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    t0 = time.time()
    r = subprocess.run([a.ref_python, str(ROOT / "benchmarks/parity_reference.py"), "--spec", f.name],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"reference run failed (is .venv-ref set up? `make parity` does it):\n{r.stderr[-3000:]}")
    ref = json.loads(r.stdout.strip().splitlines()[-1])
    ref_version = subprocess.run([a.ref_python, "-c", "import importlib.metadata as m; print(m.version('paddleocr'))"],
                                 capture_output=True, text=True).stdout.strip()
    print(f"reference ran in {time.time() - t0:.0f} s")

    rows = []
    for mid in DETS:
        gts = [gt for _, gt in det_items]
        mine = metrics.det_metrics([metrics.det_image_counts(g, b) for g, b in zip(gts, ours["det"][mid])])
        theirs = metrics.det_metrics([metrics.det_image_counts(g, ref["det"][mid][str(pth)]) for g, (pth, _) in
                                 zip(gts, det_items)])
        same = sum(np.array_equal(np.asarray(b, np.float32).reshape(-1, 4, 2),
                                  np.asarray(ref["det"][mid][str(pth)], np.float32).reshape(-1, 4, 2))
                   for b, (pth, _) in zip(ours["det"][mid], det_items))
        diff = abs(mine["hmean"] - theirs["hmean"]) * 100
        rows.append({"check": f"det hmean {mid}", "ours": round(mine["hmean"] * 100, 2),
                     "reference": round(theirs["hmean"] * 100, 2), "difference_points": round(diff, 3),
                     "target": "<= 0.3 points", "ok": diff <= 0.3,
                     "detail": f"identical boxes on {same}/{len(det_items)} images"})
    for mid in RECS:
        labels = [t for _, t in rec_items]
        mine, theirs = metrics.rec_metrics(ours["rec"][mid], labels), metrics.rec_metrics(ref["rec"][mid], labels)
        same = sum(x == y for x, y in zip(ours["rec"][mid], ref["rec"][mid]))
        diff = abs(mine["accuracy"] - theirs["accuracy"]) * 100
        rows.append({"check": f"rec accuracy {mid}", "ours": round(mine["accuracy"] * 100, 2),
                     "reference": round(theirs["accuracy"] * 100, 2), "difference_points": round(diff, 3),
                     "target": "<= 0.3 points", "ok": diff <= 0.3,
                     "detail": f"identical text on {same}/{len(rec_items)} crops; "
                               f"alnum/nocase {mine['accuracy_alnum_nocase'] * 100:.2f} vs {theirs['accuracy_alnum_nocase'] * 100:.2f}"})

    # --- Paddle Lite x86 against Paddle Inference ---
    for mid in DETS:
        pi, lite = load(mid), load(mid, runtime="lite")
        worst = 0.0
        for pth, _ in det_items[: a.lite_images]:
            img = read_image(pth)
            worst = max(worst, float(np.abs(pi.stage.probability_map(img) - lite.stage.probability_map(img)).max()))
        rows.append({"check": f"prob map Lite x86 vs Inference {mid}", "ours": f"{worst:.2e}", "reference": "-",
                     "difference_points": None, "target": "max |diff| <= 1e-3", "ok": worst <= 1e-3,
                     "detail": f"{min(a.lite_images, len(det_items))} images"})

    env = environment()
    env["paddleocr_reference"] = ref_version
    doc = {"kind": "parity", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/parity.py " + " ".join(sys.argv[1:]), "environment": env,
           "data": {"det_images": len(det_items), "rec_crops": len(rec_items),
                    "det_labels_sha256": sha256_of(a.data / "icdar2015_det/labels.txt"),
                    "rec_labels_sha256": sha256_of(a.data / "icdar2015_rec/labels.txt")},
           "rows": rows}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "parity.json").write_text(json.dumps(doc, indent=1) + "\n")
    from tabulate import tabulate

    table = tabulate([[r["check"], r["ours"], r["reference"], r["difference_points"] if r["difference_points"] is not None else "-",
                       r["target"], "yes" if r["ok"] else "NO", r["detail"]] for r in rows],
                     headers=["check", "ours", "PaddleOCR 2.7.3", "diff (points)", "target", "ok", "detail"],
                     tablefmt="github", disable_numparse=True)
    md = (f"# Parity with PaddleOCR's reference implementation\n\n"
          f"Made by `{doc['command']}` on {doc['date']}: {env['processor']}, {env['cores']} cores, "
          f"Python {env['python']}, paddlepaddle {env.get('paddlepaddle')}, paddlelite {env.get('paddlelite')}, "
          f"numpy {env['numpy']}, reference paddleocr {ref_version}. Data: ICDAR 2015 test, "
          f"{len(det_items)} images and {len(rec_items)} word crops from ../shared/data; "
          f"Paddle Inference, {a.threads} threads, MKLDNN. Both sides are scored by slimocr_zoo.eval.\n\n{table}\n")
    (a.out / "parity.md").write_text(md)
    print(table)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
