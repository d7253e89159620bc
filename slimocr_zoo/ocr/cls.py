"""Text direction (0 / 180 degrees): PaddleOCR's TextClassifier pre- and post-processing."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np

from .rec import resize_norm


@dataclass
class ClsResult:
    angle: int
    score: float


class AngleClassifier:
    def __init__(self, predictor, input_spec: dict, batch_size: int = 6, model=None):
        self.predictor, self.spec, self.batch_size = predictor, input_spec, batch_size
        self.model = model
        self.labels = input_spec.get("labels", ["0", "180"])
        self.thresh = input_spec.get("thresh", 0.9)

    def __call__(self, crops: Sequence[np.ndarray], timings: Dict[str, float] = None) -> List[ClsResult]:
        timings = timings if timings is not None else {}
        out: List[ClsResult] = []
        for start in range(0, len(crops), self.batch_size):
            t0 = time.perf_counter()
            x = np.stack([resize_norm(c, self.spec, self.spec["width"]) for c in crops[start:start + self.batch_size]])
            t1 = time.perf_counter()
            probs = self.predictor.run(x)[0]
            timings["cls_pre"] = timings.get("cls_pre", 0.0) + (t1 - t0) * 1e3
            timings["cls"] = timings.get("cls", 0.0) + (time.perf_counter() - t1) * 1e3
            for p in probs:
                k = int(p.argmax())
                out.append(ClsResult(int(self.labels[k]), float(p[k])))
        return out

    def rotate(self, crops: List[np.ndarray], results: List[ClsResult]) -> List[np.ndarray]:
        """Turn crops read as upside down (above the threshold) the right way up."""
        import cv2

        return [cv2.rotate(c, cv2.ROTATE_180) if r.angle == 180 and r.score > self.thresh else c
                for c, r in zip(crops, results)]
