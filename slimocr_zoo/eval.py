"""The accuracy runner: det, rec and end-to-end OCR scored on labelled data (see metrics.py for
the protocols, data.py for the label formats), into an eval results document (results.py)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional, Sequence

from .api import load, pipeline
from .data import DET_SET, REC_SET, read_det_labels, read_rec_labels
from .errors import ZooError
from .metrics import det_image_counts, det_metrics, e2e_image_counts, rec_correct, rec_metrics
from .registry import get_registry
from .results import dataset_record, header, model_record


def _progress(items, desc, quiet):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, disable=True if quiet else None, leave=False)


def refuse_synthetic(*loaded) -> None:
    for m in loaded:
        if m is not None and m.artifact.synthetic:
            raise ZooError(f"{m.id}/{m.artifact.name} has synthetic (random) weights: it stands in for latency only "
                           f"and has no accuracy to evaluate")


def eval_det(model_id, data_dir, runtime="paddle", threads=None, limit=None, quiet=False, **load_kw) -> dict:
    from .ocr.image import read_image

    labels_path = Path(data_dir) / DET_SET / "labels.txt"
    items = read_det_labels(labels_path)[:limit]
    m = load(model_id, runtime=runtime, threads=threads, quiet=quiet, **load_kw)
    refuse_synthetic(m)
    counts, t0 = [], time.perf_counter()
    for img_path, gt in _progress(items, f"det {model_id} [{runtime}]", quiet):
        found = m(read_image(img_path))
        counts.append(det_image_counts(gt, found.boxes))
    return {"task": "det", "model": model_record(m), "runtime": runtime, "threads": m.stage.predictor.threads,
            "dataset": dataset_record(labels_path, len(items)), "metrics": det_metrics(counts),
            "per_item": [list(c) for c in counts],  # (matched, gt, det) per image: for paired intervals
            "seconds": round(time.perf_counter() - t0, 2)}


def eval_rec(model_id, data_dir, runtime="paddle", threads=None, limit=None, quiet=False, **load_kw) -> dict:
    from .ocr.image import read_image

    labels_path = Path(data_dir) / REC_SET / "labels.txt"
    items = read_rec_labels(labels_path)[:limit]
    m = load(model_id, runtime=runtime, threads=threads, quiet=quiet, **load_kw)
    refuse_synthetic(m)
    preds, t0, chunk = [], time.perf_counter(), 96
    for start in _progress(range(0, len(items), chunk), f"rec {model_id} [{runtime}]", quiet):
        crops = [read_image(p) for p, _ in items[start:start + chunk]]
        preds += [r.text for r in m.stage(crops)]
    return {"task": "rec", "model": model_record(m), "runtime": runtime, "threads": m.stage.predictor.threads,
            "dataset": dataset_record(labels_path, len(items)), "metrics": rec_metrics(preds, [t for _, t in items]),
            "per_item": rec_correct(preds, [t for _, t in items]),  # 1: read right, per crop
            "seconds": round(time.perf_counter() - t0, 2)}


def eval_e2e(config, data_dir, runtime="paddle", threads=None, limit=None, quiet=False, **load_kw) -> dict:
    """``config``: a row number or a ``DET+REC[+CLS]`` pair (Registry.config)."""
    c = get_registry().config(config)
    labels_path = Path(data_dir) / DET_SET / "labels.txt"
    items = read_det_labels(labels_path)[:limit]
    ocr = pipeline(det=c.det, rec=c.rec, cls=c.cls, runtime=runtime, threads=threads, quiet=quiet, **load_kw)
    refuse_synthetic(*ocr.models)
    found = total = 0
    per_item, t0 = [], time.perf_counter()
    for img_path, gt in _progress(items, f"e2e {c.det}+{c.rec} [{runtime}]", quiet):
        f, n = e2e_image_counts(gt, ocr(img_path).lines)
        found, total = found + f, total + n
        per_item.append([f, n])
    return {"task": "e2e", "models": [model_record(m) for m in ocr.models], "runtime": runtime,
            "dataset": dataset_record(labels_path, len(items)),
            "metrics": {"words_found": found / total if total else 0.0, "found": found, "words": total},
            "per_item": per_item,  # (found, words) per image: for paired intervals
            "seconds": round(time.perf_counter() - t0, 2)}


def run(models: Sequence[str], e2e: Sequence[str], runtimes: Sequence[str], data_dir, command: str,
        threads: Optional[int] = None, limit: Optional[int] = None, quiet: bool = False, **load_kw) -> dict:
    """Every model (det on the det set, rec on the rec set) and every end-to-end configuration, per
    runtime: an eval results document."""
    reg = get_registry()
    for mid in models:  # every id checked before the first long run
        task = reg.resolve(mid).task
        if task not in ("det", "rec"):
            raise ZooError(f"{mid} is a {task} model: eval scores det and rec models (and --e2e pairs)")
    configs = [reg.config(c) for c in e2e]
    runs: List[dict] = []
    for rt in runtimes:
        for mid in models:
            fn = eval_det if reg.resolve(mid).task == "det" else eval_rec
            runs.append(fn(mid, data_dir, rt, threads, limit, quiet, **load_kw))
        for c in configs:
            runs.append(eval_e2e(c.id, data_dir, rt, threads, limit, quiet, **load_kw))
    return header("eval", command, runs=runs)


if __name__ == "__main__":  # python -m slimocr_zoo.eval: an entry point, the CLI layer
    import sys

    from .cli import main

    sys.exit(main(["eval", *sys.argv[1:]], prog="python -m slimocr_zoo.eval"))
