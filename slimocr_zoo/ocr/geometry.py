"""Box geometry shared by the stages, following PaddleOCR's tools/infer/utility.py and predict_system.py."""
from __future__ import annotations

import numpy as np


def order_points_clockwise(pts: np.ndarray) -> np.ndarray:
    rect = np.zeros((4, 2), dtype=np.float32)
    s = pts.sum(axis=1)
    rect[0], rect[2] = pts[np.argmin(s)], pts[np.argmax(s)]
    rest = np.delete(pts, (np.argmin(s), np.argmax(s)), axis=0)
    diff = np.diff(np.array(rest), axis=1)
    rect[1], rect[3] = rest[np.argmin(diff)], rest[np.argmax(diff)]
    return rect


def filter_boxes(boxes, scores, height, width):
    """Clockwise order, clip to the image, drop boxes 3 px or thinner (PaddleOCR's filter_tag_det_res)."""
    keep_b, keep_s = [], []
    for box, score in zip(boxes, scores):
        box = order_points_clockwise(np.asarray(box, dtype=np.float32))
        box[:, 0] = np.clip(box[:, 0], 0, width - 1)
        box[:, 1] = np.clip(box[:, 1], 0, height - 1)
        if int(np.linalg.norm(box[0] - box[1])) <= 3 or int(np.linalg.norm(box[0] - box[3])) <= 3:
            continue
        keep_b.append(box)
        keep_s.append(score)
    return np.array(keep_b, dtype=np.float32).reshape(-1, 4, 2), keep_s


def reading_order(boxes: np.ndarray) -> list:
    """Indices of boxes top-to-bottom, then left-to-right within a 10 px line (PaddleOCR's sorted_boxes)."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0][1], boxes[i][0][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            a, b = boxes[order[j]], boxes[order[j + 1]]
            if abs(b[0][1] - a[0][1]) < 10 and b[0][0] < a[0][0]:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return order


def crop(img: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Perspective-rectified crop of a quad; tall crops are turned to read left to right."""
    import cv2

    points = points.astype(np.float32)
    w = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    h = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(points, dst)
    out = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if out.shape[0] * 1.0 / max(out.shape[1], 1) >= 1.5:
        out = np.rot90(out)
    return out
