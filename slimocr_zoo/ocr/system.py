"""det -> (cls) -> rec on one image, in reading order, with per-stage timings (ms)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np

from .geometry import crop, reading_order
from .image import read_image


@dataclass
class TextLine:
    box: List[List[float]]  # 4 points, clockwise from top-left, image pixels
    text: str
    score: float  # recognition confidence
    det_score: float
    angle: int = 0


@dataclass
class OCRResult:
    lines: List[TextLine]
    timings: Dict[str, float] = field(default_factory=dict)
    image_size: tuple = (0, 0)  # (height, width)
    boxes_found: int = 0  # before drop_score: what det found and rec ran on

    @property
    def boxes(self):
        return [ln.box for ln in self.lines]

    @property
    def texts(self):
        return [ln.text for ln in self.lines]

    @property
    def scores(self):
        return [ln.score for ln in self.lines]

    def to_dict(self) -> dict:
        return {"image_size": list(self.image_size), "boxes_found": self.boxes_found,
                "lines": [asdict(ln) for ln in self.lines],
                "timings_ms": {k: round(v, 3) for k, v in self.timings.items()}}


class OCR:
    def __init__(self, det, rec, cls=None, drop_score: float = 0.5):
        from . import make_stage

        self.det_model, self.rec_model, self.cls_model = det, rec, cls
        self.det, self.rec = make_stage(det), make_stage(rec)
        self.cls = make_stage(cls) if cls is not None else None
        self.drop_score = drop_score

    @classmethod
    def create(cls_, config=None, det=None, rec=None, cls=None, runtime="paddle", threads=None,
               drop_score: float = 0.5, **load_kwargs):
        from ..loader import load
        from ..registry import get_registry

        if config is not None:
            c = get_registry().config(config)
            det, rec, cls = det or c.det, rec or c.rec, cls or c.cls
        if det is None or rec is None:
            raise ValueError("pipeline needs config=N or both det= and rec=")

        def get(x):
            return x if x is None or not isinstance(x, str) else load(x, runtime=runtime, threads=threads, **load_kwargs)

        return cls_(get(det), get(rec), get(cls), drop_score=drop_score)

    @property
    def ids(self) -> dict:
        return {"det": self.det_model.id, "cls": self.cls_model.id if self.cls_model else None,
                "rec": self.rec_model.id}

    def __call__(self, image, name: Optional[str] = None) -> OCRResult:
        t0 = time.perf_counter()
        img = read_image(image, name)
        t1 = time.perf_counter()
        found = self.det(img)
        timings = {"read": (t1 - t0) * 1e3, **found.timings}
        t2 = time.perf_counter()
        order = reading_order(found.boxes)
        boxes = [found.boxes[i] for i in order]
        det_scores = [found.scores[i] for i in order]
        crops = [crop(img, b) for b in boxes]
        timings["crop"] = (time.perf_counter() - t2) * 1e3
        angles = [0] * len(crops)
        if self.cls is not None and crops:
            res = self.cls(crops, timings)
            crops = self.cls.rotate(crops, res)
            angles = [r.angle if r.score > self.cls.thresh else 0 for r in res]
        recs = self.rec(crops, timings) if crops else []
        lines = [TextLine(b.round(1).tolist(), r.text, r.score, ds, a)
                 for b, r, ds, a in zip(boxes, recs, det_scores, angles) if r.score >= self.drop_score]
        timings["total"] = (time.perf_counter() - t0) * 1e3
        return OCRResult(lines, timings, img.shape[:2], len(boxes))


def draw(image, result: OCRResult, out_path) -> None:
    """The image with each box and its text drawn (text in ASCII-safe form: cv2 has no CJK font)."""
    import cv2

    img = read_image(image).copy()
    for ln in result.lines:
        pts = np.array(ln.box, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], True, (0, 200, 0), 2)
        label = ln.text.encode("ascii", "replace").decode() + f" {ln.score:.2f}"
        x, y = int(ln.box[0][0]), max(int(ln.box[0][1]) - 4, 10)
        cv2.putText(img, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1, cv2.LINE_AA)
    if not cv2.imwrite(str(out_path), img):
        from ..errors import ZooError

        raise ZooError(f"cannot write {out_path}: use a .png or .jpg name in a writable folder")
