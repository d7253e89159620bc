"""Text recognition: PaddleOCR's rec resize/normalize/pad and CTC greedy decoding, driven by the
model's ``input`` spec (height, width policy, dictionary, space character)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Dict, List, Sequence

import numpy as np


@dataclass
class RecResult:
    text: str
    score: float


def batch_width(crops: Sequence[np.ndarray], spec: dict, step: int = 1) -> int:
    """The padded width of a batch, by the spec's width policy, rounded up to a multiple of ``step``."""
    h, w = spec["height"], spec["width"]
    policy = spec.get("width_policy", "ratio_min")
    if policy == "fixed":
        return w
    ratio = max(c.shape[1] / float(c.shape[0]) for c in crops)
    if policy == "ratio_min":  # PaddleOCR 2.x: starts from width / height
        ratio = max(ratio, w / h)
    return -(-max(int(h * ratio), 1) // step) * step


def resize_norm(crop: np.ndarray, spec: dict, width: int) -> np.ndarray:
    """HxWx3 uint8 -> 3 x height x width float32, aspect kept, right-padded with zeros."""
    import cv2

    h = spec["height"]
    ratio = crop.shape[1] / float(crop.shape[0])
    rw = min(width, int(math.ceil(h * ratio)))
    img = crop[:, :, ::-1] if spec.get("channel_order", "BGR") == "RGB" else crop
    x = cv2.resize(img, (rw, h)).astype(np.float32)
    mean = np.array(spec.get("mean", [0.5] * 3), np.float32)
    std = np.array(spec.get("std", [0.5] * 3), np.float32)
    x = (x * np.float32(spec.get("scale", 1 / 255)) - mean) / std
    out = np.zeros((3, h, width), dtype=np.float32)
    out[:, :, :rw] = x.transpose(2, 0, 1)
    return out


def load_charset(dict_path, use_space_char: bool) -> List[str]:
    """blank + the dictionary's characters (+ space): the CTC classes in order."""
    with open(dict_path, "rb") as f:
        chars = [line.decode("utf-8").rstrip("\r\n") for line in f]
    if use_space_char:
        chars.append(" ")
    return ["blank"] + chars


def ctc_keep(seq: np.ndarray) -> np.ndarray:
    """Greedy CTC's kept steps of one sequence of best classes: repeats merged, blanks (0) dropped."""
    keep = np.ones(len(seq), dtype=bool)
    keep[1:] = seq[1:] != seq[:-1]
    return keep & (seq != 0)


def ctc_decode(probs: np.ndarray, charset: List[str]) -> List[RecResult]:
    """Greedy CTC: best class per step, merge repeats, drop blanks; score = mean kept probability."""
    idx = probs.argmax(axis=2)
    conf = probs.max(axis=2)
    out = []
    for seq, c in zip(idx, conf):
        keep = ctc_keep(seq)
        chars = [charset[i] if i < len(charset) else "" for i in seq[keep]]
        out.append(RecResult("".join(chars), float(np.mean(c[keep])) if keep.any() else 0.0))
    return out


# A batch's width rounded up to a multiple of this (1: PaddleOCR's own widths). Rounding to 32 px gave
# nothing end to end here (the difference flipped with the run order), though a width seen before
# runs faster than a new one
WIDTH_STEP = 1


class CTCRecognizer:
    def __init__(self, predictor, input_spec: dict, charset: List[str], batch_size: int = 6, model=None,
                 width_step: int = WIDTH_STEP):
        self.predictor, self.spec, self.charset, self.batch_size = predictor, input_spec, charset, batch_size
        self.model, self.width_step = model, width_step

    def _probs(self, outputs, n: int) -> np.ndarray:
        c = len(self.charset)
        # 2.x programs give (N, T, C); 1.1 CRNN programs a LoD tensor (N*T, C) next to their own decode
        probs = [o if o.ndim == 3 else o.reshape(n, -1, c) for o in outputs
                 if o.shape[-1] == c and (o.ndim == 3 or (o.ndim == 2 and o.shape[0] % n == 0))]
        if not probs:
            shapes = [o.shape for o in outputs]
            raise ValueError(f"recognizer outputs {shapes} have no (N, T, {len(self.charset)}) probability tensor: "
                             f"does the dictionary match the model?")
        return probs[0]

    def __call__(self, crops: Sequence[np.ndarray], timings: Dict[str, float] = None) -> List[RecResult]:
        """Recognize crops; they are batched by aspect ratio like PaddleOCR (results in input order)."""
        timings = timings if timings is not None else {}
        results: List[RecResult] = [None] * len(crops)
        order = np.argsort([c.shape[1] / float(c.shape[0]) for c in crops])
        for start in range(0, len(crops), self.batch_size):
            ids = order[start:start + self.batch_size]
            t0 = time.perf_counter()
            width = batch_width([crops[i] for i in ids], self.spec, self.width_step)
            x = np.stack([resize_norm(crops[i], self.spec, width) for i in ids])
            t1 = time.perf_counter()
            outputs = self.predictor.run(x)
            t2 = time.perf_counter()
            for i, r in zip(ids, ctc_decode(self._probs(outputs, len(ids)), self.charset)):
                results[i] = r
            t3 = time.perf_counter()
            for k, v in (("rec_pre", t1 - t0), ("rec", t2 - t1), ("rec_decode", t3 - t2)):
                timings[k] = timings.get(k, 0.0) + v * 1e3
        return results
