"""det -> (cls) -> rec on one image, in reading order, with per-stage timings (ms)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ..errors import ZooError
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


# A short or very wide image (a cropped text line) is padded above and below before detection, as
# RapidOCR does: DB was trained on scenes and splits a 445x39 line into words or misses its ends,
# while the recognizer reads the whole line. Below MIN_HEIGHT or beyond WIDE (width / height), the
# image gets height max(width / WIDE, MIN_HEIGHT) * 2, in its own border colour.
MIN_HEIGHT, WIDE = 30, 8


def pad_for_det(img: np.ndarray):
    """(image to detect on, rows added on top)."""
    import cv2

    h, w = img.shape[:2]
    if h >= MIN_HEIGHT and w / h <= WIDE:
        return img, 0
    top = max(int(max(w / WIDE, MIN_HEIGHT) * 2) - h, 2) // 2
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    colour = [int(v) for v in np.median(border, axis=0)]
    return cv2.copyMakeBorder(img, top, top, 0, 0, cv2.BORDER_CONSTANT, value=colour), top


class OCR:
    """det -> (cls) -> rec over stages (see make_stage); ``slimocr_zoo.pipeline()`` makes one from model ids."""

    def __init__(self, det, rec, cls=None, drop_score: float = 0.5):
        self.det, self.rec, self.cls = det, rec, cls
        self.drop_score = drop_score

    @property
    def det_model(self):
        return self.det.model

    @property
    def rec_model(self):
        return self.rec.model

    @property
    def cls_model(self):
        return self.cls.model if self.cls is not None else None

    @property
    def models(self) -> list:
        """The loaded models of the stages, det, cls, rec (cls only when there is one)."""
        return [s.model for s in (self.det, self.cls, self.rec) if s is not None and s.model is not None]

    @property
    def ids(self) -> dict:
        def mid(stage):
            return stage.model.id if stage is not None and stage.model is not None else None

        return {"det": mid(self.det), "cls": mid(self.cls), "rec": mid(self.rec)}

    def __call__(self, image, name: Optional[str] = None):
        """One image (a path, bytes or an array) -> OCRResult; a list or tuple of them -> a list."""
        if isinstance(image, (list, tuple)):
            return [self.one(x) for x in image]
        return self.one(image, name)

    def one(self, image, name: Optional[str] = None) -> OCRResult:
        t0 = time.perf_counter()
        img = read_image(image, name)
        t1 = time.perf_counter()
        padded, top = pad_for_det(img)
        found = self.det(padded)
        if top:  # back to the image's own rows
            found.boxes = found.boxes - np.array([0, top], found.boxes.dtype)
            found.boxes[:, :, 1] = found.boxes[:, :, 1].clip(0, img.shape[0] - 1)
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
        raise ZooError(f"cannot write {out_path}: use a .png or .jpg name in a writable folder")
