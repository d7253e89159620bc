"""DB text detection: PaddleOCR's DetResizeForTest + NormalizeImage + DBPostProcess, driven by the
model's ``input`` and ``postprocess`` specs in the manifest."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from .geometry import filter_boxes


@dataclass
class DetResult:
    boxes: np.ndarray  # (N, 4, 2) float32, clockwise from top-left, in image pixels
    scores: List[float]
    timings: Dict[str, float] = field(default_factory=dict)  # ms

    def __len__(self):
        return len(self.boxes)


# the longest side the detector is given, whatever the limit type: a "min" limit would scale a
# 9000x400 panorama up to 16560x736 (PaddleOCR 2.8's DetResizeForTest caps it the same way)
MAX_SIDE = 4000


def det_ratio(hw, spec: dict) -> float:
    """The factor DB's resize applies to an image of this (height, width), before rounding."""
    h, w = hw
    side = spec.get("limit_side_len", 960)
    if spec.get("limit_type", "max") == "max":
        ratio = side / max(h, w) if max(h, w) > side else 1.0
    else:
        ratio = side / min(h, w) if min(h, w) < side else 1.0
    return min(ratio, spec.get("max_side_limit", MAX_SIDE) / max(h, w))


def resize_for_det(img: np.ndarray, spec: dict):
    import cv2

    h, w = img.shape[:2]
    ratio, multiple = det_ratio((h, w), spec), spec.get("multiple", 32)
    rh = max(int(round(int(h * ratio) / multiple) * multiple), multiple)
    rw = max(int(round(int(w * ratio) / multiple) * multiple), multiple)
    return cv2.resize(img, (rw, rh)), (rh / h, rw / w)


def normalize(img: np.ndarray, spec: dict) -> np.ndarray:
    """HWC uint8 in the model's channel order -> 1xCxHxW float32."""
    rgb = spec.get("channel_order", "BGR") == "RGB"
    scale = np.float32(spec.get("scale", 1 / 255))
    mean = np.array(spec.get("mean", [0.485, 0.456, 0.406]), np.float32)
    std = np.array(spec.get("std", [0.229, 0.224, 0.225]), np.float32)
    a, b = scale / std, -mean / std  # x * a + b == (x * scale - mean) / std, one pass per plane
    out = np.empty((1, 3) + img.shape[:2], np.float32)  # written planar: no temporaries, no transpose copy
    for c in range(3):
        np.multiply(img[:, :, 2 - c if rgb else c], a[c], out=out[0, c], dtype=np.float32)
        out[0, c] += b[c]
    return out


def preprocess(img: np.ndarray, spec: dict):
    resized, ratios = resize_for_det(img, spec)
    return normalize(resized, spec), ratios


def _mini_box(contour):
    import cv2

    rect = cv2.minAreaRect(contour)
    pts = sorted(list(cv2.boxPoints(rect)), key=lambda p: p[0])
    i1, i4 = (0, 1) if pts[1][1] > pts[0][1] else (1, 0)
    i2, i3 = (2, 3) if pts[3][1] > pts[2][1] else (3, 2)
    return np.array([pts[i1], pts[i2], pts[i3], pts[i4]]), min(rect[1])


def _score_fast(prob, box):
    import cv2

    h, w = prob.shape
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = box.copy()
    shifted[:, 0] -= xmin
    shifted[:, 1] -= ymin
    cv2.fillPoly(mask, shifted.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(prob[ymin:ymax + 1, xmin:xmax + 1], mask)[0]


def _score_slow(prob, contour):
    import cv2

    h, w = prob.shape
    c = contour.reshape(-1, 2).astype(np.float32)
    xmin, xmax = int(np.clip(c[:, 0].min(), 0, w - 1)), int(np.clip(c[:, 0].max(), 0, w - 1))
    ymin, ymax = int(np.clip(c[:, 1].min(), 0, h - 1)), int(np.clip(c[:, 1].max(), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    c[:, 0] -= xmin
    c[:, 1] -= ymin
    cv2.fillPoly(mask, c.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(prob[ymin:ymax + 1, xmin:xmax + 1], mask)[0]


def _unclip(box, ratio):
    import pyclipper
    from shapely.geometry import Polygon

    poly = Polygon(box)
    distance = poly.area * ratio / poly.length
    off = pyclipper.PyclipperOffset()
    off.AddPath(box.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return off.Execute(distance)


def postprocess(prob: np.ndarray, src_hw, spec: dict):
    """Probability map (H x W) -> quads in source-image pixels and their scores."""
    import cv2

    thresh = spec.get("thresh", 0.3)
    box_thresh = spec.get("box_thresh", 0.6)
    unclip_ratio = spec.get("unclip_ratio", 1.5)
    max_candidates = spec.get("max_candidates", 1000)
    min_size = spec.get("min_size", 3)
    slow = spec.get("score_mode", "fast") == "slow"
    height, width = prob.shape
    dest_h, dest_w = src_hw
    bitmap = (prob > thresh).astype(np.uint8) * 255
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[-2:]
    boxes, scores = [], []
    for contour in contours[:max_candidates]:
        points, sside = _mini_box(contour)
        if sside < min_size:
            continue
        score = _score_slow(prob, contour) if slow else _score_fast(prob, points.reshape(-1, 2))
        if score < box_thresh:
            continue
        expanded = _unclip(points, unclip_ratio)
        if len(expanded) != 1:
            continue
        box, sside = _mini_box(np.array(expanded[0]).reshape(-1, 1, 2))
        if sside < min_size + 2:
            continue
        box[:, 0] = np.clip(np.round(box[:, 0] / width * dest_w), 0, dest_w)
        box[:, 1] = np.clip(np.round(box[:, 1] / height * dest_h), 0, dest_h)
        boxes.append(box.astype(np.int16))
        scores.append(float(score))
    return filter_boxes(boxes, scores, dest_h, dest_w)


class DBDetector:
    def __init__(self, predictor, input_spec: dict, post_spec: dict, model=None):
        self.predictor, self.input_spec, self.post_spec = predictor, input_spec, post_spec
        self.model = model  # the loaded model it runs, when made by make_stage

    def probability_map(self, img: np.ndarray) -> np.ndarray:
        x, _ = preprocess(img, self.input_spec)
        return self.predictor.run(x)[0][0, 0]

    def __call__(self, img: np.ndarray) -> DetResult:
        t0 = time.perf_counter()
        x, _ = preprocess(img, self.input_spec)
        t1 = time.perf_counter()
        prob = self.predictor.run(x)[0][0, 0]
        t2 = time.perf_counter()
        boxes, scores = postprocess(prob, img.shape[:2], self.post_spec)
        t3 = time.perf_counter()
        return DetResult(boxes, scores, {"det_pre": (t1 - t0) * 1e3, "det": (t2 - t1) * 1e3,
                                         "det_post": (t3 - t2) * 1e3})
