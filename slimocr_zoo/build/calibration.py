"""Calibration / sensitivity images drawn from the evaluation data, disjoint from what eval scores.

A recipe names ``{"set": "icdar2015_det", "start": 300, "count": 16}``: label lines 300..315.
The data folder is ``SLIMOCR_ZOO_DATA``, else ``../shared/data`` beside the checkout or cwd.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

from ..data import DET_SET, REC_SET, data_dir, read_det_labels, read_rec_labels
from ..errors import ZooError
from ..files import sha256_of

SETS = {DET_SET: "det", REC_SET: "rec"}


@dataclass
class CalibrationSet:
    spec: dict
    items: List[Path]
    digest: str
    labels: list  # ground truth per item: det boxes (PaddleOCR json) or rec text

    def describe(self) -> dict:
        return {**self.spec, "images": [p.name for p in self.items], "sha256": self.digest}

    def arrays(self, input_spec: dict, task: str) -> Iterator:
        """Each item as a 1xCxHxW float32 array, pre-processed as the model expects."""
        from ..ocr.image import read_image

        input_spec = {**input_spec, **self.spec.get("input", {})}  # e.g. a smaller side for sensitivity
        for p in self.items:
            img = read_image(p)
            if task == "det":
                from ..ocr.det import preprocess

                yield preprocess(img, input_spec)[0]
            else:
                from ..ocr.rec import resize_norm

                yield resize_norm(img, input_spec, input_spec["width"])[None]


def calibration_set(spec: Optional[dict], model) -> Optional[CalibrationSet]:
    if not spec:
        return None
    name = spec["set"]
    root = data_dir("this recipe's calibration") / name
    labels = root / "labels.txt"
    if not labels.is_file():
        raise ZooError(f"calibration set {name} not found at {root} (set SLIMOCR_ZOO_DATA)")
    rows = read_det_labels(labels) if SETS[name] == "det" else read_rec_labels(labels)
    start, count = spec.get("start", 0), spec["count"]
    items = [p for p, _ in rows[start:start + count]]
    labels = [gt for _, gt in rows[start:start + count]]
    if len(items) < count:
        raise ZooError(f"calibration set {name} has {len(rows)} items; the recipe wants {start}..{start + count - 1}")
    h = hashlib.sha256()  # a digest of the items' digests, in order
    for p in items:
        h.update(bytes.fromhex(sha256_of(p)))
    return CalibrationSet(spec, items, h.hexdigest(), labels)
