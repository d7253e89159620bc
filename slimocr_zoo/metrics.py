"""Accuracy metrics, pure functions of predictions and labels.

det: precision / recall / hmean at IoU 0.5 by the ICDAR 2015 protocol (``###`` boxes are
don't-care, and so is a detection lying mostly (> 50 %) inside one); rec: exact accuracy
(spaces ignored, as PaddleOCR's RecMetric), case-insensitive alphanumeric accuracy, and
1 - normalized edit distance; e2e: the fraction of cared-for ground-truth words matched by a
detected box (IoU 0.5) whose recognized text is the same (case-insensitive alphanumeric).
"""
from __future__ import annotations

import string
from typing import Dict, List, Sequence, Tuple

import numpy as np

IOU = 0.5
DONT_CARE_OVERLAP = 0.5


def _polygon(points):
    import numpy as np
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


def paired_interval(a: Sequence, b: Sequence, n: int = 2000, seed: int = 0, level: float = 0.95) -> Tuple[float, float]:
    """How sure a difference of two models' scores on the same items is: the ``level`` interval of
    score(b) - score(a) over ``n`` resamples of the items (paired: both models on the same resample).
    Items are det (matched, gt, det) counts -> hmean, e2e (found, words) -> words found, or rec 0/1
    correctness -> accuracy."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not len(a):
        raise ValueError(f"paired scores need the same items: {a.shape} and {b.shape}")
    idx = np.random.default_rng(seed).integers(0, len(a), size=(n, len(a)))

    def score(x):
        if x.ndim == 1:  # correctness per crop
            return x[idx].mean(axis=1)
        if x.shape[1] == 2:  # words found, words per image
            f, n = x[:, 0][idx].sum(axis=1), x[:, 1][idx].sum(axis=1)
            return np.divide(f, n, out=np.zeros_like(f), where=n > 0)
        m, g, d = (x[:, i][idx].sum(axis=1) for i in range(3))
        r, p = np.divide(m, g, out=np.zeros_like(m), where=g > 0), np.divide(m, d, out=np.zeros_like(m), where=d > 0)
        return np.divide(2 * p * r, p + r, out=np.zeros_like(m), where=p + r > 0)

    diff = score(b) - score(a)
    lo, hi = np.quantile(diff, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


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


def rec_correct(preds: Sequence[str], labels: Sequence[str]) -> List[int]:
    """1 where a reading is exactly right (spaces aside, as ``accuracy``), per crop."""
    return [int(p.replace(" ", "") == t.replace(" ", "")) for p, t in zip(preds, labels)]


def e2e_image_counts(gt: List[dict], lines) -> Tuple[int, int]:
    """(ground-truth words found with the right text, cared-for ground-truth words); ``lines`` have
    ``.box`` and ``.text`` (the pipeline's TextLine)."""
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
