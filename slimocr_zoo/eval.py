"""Accuracy on labelled data in PaddleOCR's label formats.

det: precision / recall / hmean at IoU 0.5 by the ICDAR 2015 protocol (``###`` boxes are
don't-care, and so is a detection lying mostly (> 50 %) inside one); rec: exact accuracy
(spaces ignored, as PaddleOCR's RecMetric), case-insensitive alphanumeric accuracy, and
1 - normalized edit distance; e2e: the fraction of cared-for ground-truth words matched by a
detected box (IoU 0.5) whose recognized text is the same (case-insensitive alphanumeric).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import string
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

IOU = 0.5
DONT_CARE_OVERLAP = 0.5


# --- labels -----------------------------------------------------------------------------

def read_det_labels(path) -> List[Tuple[Path, List[dict]]]:
    """``image<TAB>[{"transcription": ..., "points": [[x, y], ...]}, ...]`` per line."""
    path = Path(path)
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            img, js = line.split("\t", 1)
            out.append((path.parent / img, json.loads(js)))
        except ValueError as e:
            raise ValueError(f"{path}:{n}: not a PaddleOCR det label line ({e})") from None
    return out


def read_rec_labels(path) -> List[Tuple[Path, str]]:
    """``image<TAB>text`` per line."""
    path = Path(path)
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise ValueError(f"{path}:{n}: not a PaddleOCR rec label line (image<TAB>text)")
        img, text = line.split("\t", 1)
        out.append((path.parent / img, text))
    return out


# --- det --------------------------------------------------------------------------------

def _polygon(points):
    from shapely.geometry import Polygon

    p = Polygon(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    return p if p.is_valid and p.is_simple else None


def det_image_counts(gt: List[dict], pred: Sequence) -> Tuple[int, int, int]:
    """(matched, cared-for ground truth, cared-for detections) of one image."""
    gts, gt_dc = [], set()
    for g in gt:
        p = _polygon(g["points"])
        if p is None:
            continue
        if g.get("transcription") == "###" or g.get("ignore"):
            gt_dc.add(len(gts))
        gts.append(p)
    dets, det_dc = [], set()
    for d in pred:
        p = _polygon(d)
        if p is None:
            continue
        for i in gt_dc:
            if p.area > 0 and gts[i].intersection(p).area / p.area > DONT_CARE_OVERLAP:
                det_dc.add(len(dets))
                break
        dets.append(p)
    matched = 0
    if gts and dets:
        gt_used, det_used = set(), set()
        for gi, g in enumerate(gts):
            for di, d in enumerate(dets):
                if gi in gt_used or di in det_used or gi in gt_dc or di in det_dc:
                    continue
                inter = g.intersection(d).area
                union = g.union(d).area
                if union > 0 and inter / union > IOU:
                    gt_used.add(gi)
                    det_used.add(di)
                    matched += 1
    return matched, len(gts) - len(gt_dc), len(dets) - len(det_dc)


def det_metrics(counts: Sequence[Tuple[int, int, int]]) -> Dict[str, float]:
    m, g, d = (sum(c[i] for c in counts) for i in range(3))
    recall = m / g if g else 0.0
    precision = m / d if d else 0.0
    hmean = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "hmean": hmean, "matched": m, "gt": g, "det": d}


# --- rec --------------------------------------------------------------------------------

def alnum(text: str) -> str:
    return "".join(c for c in text if c in string.digits + string.ascii_letters).lower()


def rec_metrics(preds: Sequence[str], labels: Sequence[str]) -> Dict[str, float]:
    from rapidfuzz.distance import Levenshtein

    n = len(labels)
    exact = sum(p.replace(" ", "") == t.replace(" ", "") for p, t in zip(preds, labels))
    loose = sum(alnum(p) == alnum(t) for p, t in zip(preds, labels))
    ned = sum(Levenshtein.normalized_distance(p.replace(" ", ""), t.replace(" ", "")) for p, t in zip(preds, labels))
    return {"accuracy": exact / n if n else 0.0, "accuracy_alnum_nocase": loose / n if n else 0.0,
            "norm_edit_similarity": 1 - ned / n if n else 0.0, "n": n}


# --- end to end ---------------------------------------------------------------------------

def e2e_image_counts(gt: List[dict], lines) -> Tuple[int, int]:
    """(ground-truth words found with the right text, cared-for ground-truth words)."""
    words = [(p, alnum(g["transcription"])) for g in gt
             if g.get("transcription") != "###" and (p := _polygon(g["points"])) is not None]
    preds = [(p, alnum(ln.text)) for ln in lines if (p := _polygon(ln.box)) is not None]
    used, found = set(), 0
    for g, text in words:
        for i, (d, t) in enumerate(preds):
            if i in used or t != text:
                continue
            union = g.union(d).area
            if union > 0 and g.intersection(d).area / union > IOU:
                used.add(i)
                found += 1
                break
    return found, len(words)


# --- running ------------------------------------------------------------------------------

from .cache import sha256_of as file_sha256  # noqa: E402  (one hashing code path: streamed)


def environment() -> dict:
    import numpy

    env = {"python": platform.python_version(), "numpy": numpy.__version__, "machine": platform.machine(),
           "processor": _cpu_name(), "cores": os.cpu_count(), "platform": platform.platform()}
    for mod, key in (("paddle", "paddlepaddle"), ("cv2", "opencv")):
        try:
            env[key] = __import__(mod).__version__
        except ImportError:
            pass
    try:
        from importlib.metadata import version

        env["paddlelite"] = version("paddlelite")
    except Exception:
        pass
    from . import __version__

    env["slimocr_zoo"] = __version__
    return env


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _model_record(loaded) -> dict:
    return {"id": loaded.id, "artifact": loaded.artifact.name, "format": loaded.artifact.describe(),
            "files": {n: file_sha256(p) for n, p in loaded.files.items()}, "precision": loaded.precision}


def _progress(items, desc, quiet):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, disable=True if quiet else None, leave=False)


def eval_det(model_id, data_dir, runtime="paddle", threads=None, limit=None, quiet=False, **load_kw) -> dict:
    from .loader import load
    from .ocr.image import read_image

    labels_path = Path(data_dir) / "icdar2015_det" / "labels.txt"
    items = read_det_labels(labels_path)[:limit]
    m = load(model_id, runtime=runtime, threads=threads, quiet=quiet, **load_kw)
    _refuse_synthetic(m)
    counts, t0 = [], time.perf_counter()
    for img_path, gt in _progress(items, f"det {model_id} [{runtime}]", quiet):
        found = m(read_image(img_path))
        counts.append(det_image_counts(gt, found.boxes))
    return {"task": "det", "model": _model_record(m), "runtime": runtime, "threads": m.stage.predictor.threads,
            "dataset": _dataset(labels_path, len(items)), "metrics": det_metrics(counts),
            "seconds": round(time.perf_counter() - t0, 2)}


def eval_rec(model_id, data_dir, runtime="paddle", threads=None, limit=None, quiet=False, **load_kw) -> dict:
    from .loader import load
    from .ocr.image import read_image

    labels_path = Path(data_dir) / "icdar2015_rec" / "labels.txt"
    items = read_rec_labels(labels_path)[:limit]
    m = load(model_id, runtime=runtime, threads=threads, quiet=quiet, **load_kw)
    _refuse_synthetic(m)
    preds, t0, chunk = [], time.perf_counter(), 96
    for start in _progress(range(0, len(items), chunk), f"rec {model_id} [{runtime}]", quiet):
        crops = [read_image(p) for p, _ in items[start:start + chunk]]
        preds += [r.text for r in m.stage(crops)]
    return {"task": "rec", "model": _model_record(m), "runtime": runtime, "threads": m.stage.predictor.threads,
            "dataset": _dataset(labels_path, len(items)), "metrics": rec_metrics(preds, [t for _, t in items]),
            "seconds": round(time.perf_counter() - t0, 2)}


def eval_e2e(det_id, rec_id, data_dir, cls_id=None, runtime="paddle", threads=None, limit=None, quiet=False,
             **load_kw) -> dict:
    from .ocr.system import OCR

    labels_path = Path(data_dir) / "icdar2015_det" / "labels.txt"
    items = read_det_labels(labels_path)[:limit]
    ocr = OCR.create(det=det_id, rec=rec_id, cls=cls_id, runtime=runtime, threads=threads, quiet=quiet, **load_kw)
    for m in (ocr.det_model, ocr.rec_model, ocr.cls_model):
        if m is not None:
            _refuse_synthetic(ocr.det_model, ocr.cls_model, ocr.rec_model)
    found = total = 0
    t0 = time.perf_counter()
    for img_path, gt in _progress(items, f"e2e {det_id}+{rec_id} [{runtime}]", quiet):
        f, n = e2e_image_counts(gt, ocr(img_path).lines)
        found, total = found + f, total + n
    models = [_model_record(m) for m in (ocr.det_model, ocr.cls_model, ocr.rec_model) if m is not None]
    return {"task": "e2e", "models": models, "runtime": runtime, "dataset": _dataset(labels_path, len(items)),
            "metrics": {"words_found": found / total if total else 0.0, "found": found, "words": total},
            "seconds": round(time.perf_counter() - t0, 2)}


def _refuse_synthetic(*loaded):
    from .errors import ZooError

    for m in loaded:
        if m is not None and m.artifact.synthetic:
            raise ZooError(f"{m.id}/{m.artifact.name} has synthetic (random) weights: it stands in for latency only "
                           f"and has no accuracy to evaluate")


def _dataset(labels_path: Path, n: int) -> dict:
    return {"labels": str(labels_path), "labels_sha256": file_sha256(labels_path), "items": n}


def default_data_dir():
    env = os.environ.get("SLIMOCR_ZOO_DATA")
    for cand in ([Path(env)] if env else []) + [Path.cwd() / "../shared/data",
                                                 Path(__file__).resolve().parents[2] / "shared/data"]:
        if (cand / "icdar2015_det").is_dir():
            return cand.resolve()
    return None


def summary(result: dict, fmt: str = "simple", seconds: bool = True) -> str:
    """A results document as a table (tabulate format ``fmt``); ``seconds``: the wall time of each run."""
    from tabulate import tabulate

    rows = []
    for r in result["runs"]:
        name = r["model"]["id"] if "model" in r else "+".join(m["id"] for m in r["models"])
        mt = r["metrics"]
        if r["task"] == "det":
            fig = f"hmean {mt['hmean']:.4f} (P {mt['precision']:.4f}, R {mt['recall']:.4f})"
        elif r["task"] == "rec":
            fig = (f"acc {mt['accuracy']:.4f}, alnum/nocase {mt['accuracy_alnum_nocase']:.4f}, "
                   f"1-NED {mt['norm_edit_similarity']:.4f}")
        else:
            fig = f"words found {mt['words_found']:.4f} ({mt['found']}/{mt['words']})"
        prec = {m.get("precision", "fp32") for m in ([r["model"]] if "model" in r else r["models"])}
        rt = r["runtime"] + "".join(f" {p}" for p in sorted(prec - {"fp32"}))
        rows.append([r["task"], name, rt, r["dataset"]["items"], fig] + ([r["seconds"]] if seconds else []))
    headers = ["task", "model", "runtime", "n", "metrics"] + (["wall s"] if seconds else [])
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def main(argv=None) -> int:
    from .errors import guarded

    p = argparse.ArgumentParser(prog="python -m slimocr_zoo.eval",
                                description="Accuracy of zoo models on ICDAR 2015 (PaddleOCR label formats).")
    p.add_argument("--models", nargs="+", default=["MobileNetV3_DB", "ch_PP-OCRv4_det", "ch_PP-OCRv4_rec"],
                   help="det models are scored on icdar2015_det, rec models on icdar2015_rec")
    p.add_argument("--e2e", nargs="*", default=[], metavar="DET+REC[+CLS]",
                   help="end-to-end pairs, e.g. ch_PP-OCRv4_det+ch_PP-OCRv4_rec")
    p.add_argument("--runtime", nargs="+", default=["paddle", "lite"], choices=["paddle", "lite"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="bf16: Paddle Inference's oneDNN bfloat16 (CPUs with AVX512-BF16/AMX)")
    p.add_argument("--data", type=Path, default=None, help="folder with icdar2015_det/ and icdar2015_rec/")
    p.add_argument("--limit", type=int, default=None, help="only the first N images / crops")
    p.add_argument("--mirror", action="append", default=[])
    p.add_argument("--offline", action="store_true", default=None)
    p.add_argument("--out", type=Path, help="write the results JSON here")
    p.add_argument("--quiet", "-q", action="store_true")
    p.add_argument("--show", type=Path, metavar="RESULTS", help="print the table of a results file and exit")
    p.add_argument("--format", default="simple", help="tabulate format for --show (github, grid, html, ...)")
    args = p.parse_args(argv)
    if args.show:
        if not args.show.is_file():
            print(f"error: no results file {args.show}", file=sys.stderr)
            return 2
        doc = json.loads(args.show.read_text("utf-8"))
        env = doc["environment"]
        print(summary(doc, args.format, seconds=False))  # wall times are no benchmark: left out
        print(f"\n{doc['date']}, `{doc['command']}`: {env['processor']} ({env['cores']} cores), Python {env['python']}, "
              f"paddlepaddle {env.get('paddlepaddle')}, paddlelite {env.get('paddlelite')}, slimocr_zoo {env['slimocr_zoo']}")
        return 0
    data = args.data or default_data_dir()
    if data is None or not (Path(data) / "icdar2015_det").is_dir():
        print("error: no data folder: give --data DIR holding icdar2015_det/ and icdar2015_rec/", file=sys.stderr)
        return 2
    kw = {"mirror": args.mirror, "offline": args.offline, "precision": args.precision}
    return guarded(lambda: _run(args, argv, data, kw))


def _run(args, argv, data, kw) -> int:
    from .errors import ZooError
    from .registry import get_registry

    runs = []
    for rt in args.runtime:
        for mid in args.models:
            task = get_registry().resolve(mid).task
            fn = {"det": eval_det, "rec": eval_rec}.get(task)
            if fn is None:
                raise ZooError(f"{mid} is a {task} model: eval scores det and rec models (and --e2e pairs)")
            runs.append(fn(mid, data, rt, args.threads, args.limit, args.quiet, **kw))
        for pair in args.e2e:
            ids = pair.split("+")
            runs.append(eval_e2e(ids[0], ids[1], data, ids[2] if len(ids) > 2 else None, rt, args.threads,
                                 args.limit, args.quiet, **kw))
    result = {"kind": "eval", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "command": "python -m slimocr_zoo.eval " + " ".join(argv if argv is not None else sys.argv[1:]),
              "environment": environment(), "runs": runs}
    print(summary(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
