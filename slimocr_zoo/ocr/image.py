"""Images in: a path, bytes or a numpy array -> a BGR uint8 array, EXIF orientation honoured."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ImageError


def read_image(src, name=None) -> np.ndarray:
    import cv2

    if isinstance(src, np.ndarray):
        img = src
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.ndim == 3 and img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        if img.ndim != 3 or img.shape[2] != 3 or img.size == 0:
            raise ImageError(f"{name or 'array'}: expected an HxWx3 BGR image, got shape {src.shape}")
        return np.ascontiguousarray(img, dtype=np.uint8)
    if isinstance(src, (str, Path)):
        name = name or str(src)
        try:
            data = Path(src).read_bytes()
        except OSError as e:
            raise ImageError(f"cannot read image {name}: {e.strerror or e}") from None
    elif isinstance(src, (bytes, bytearray, memoryview)):
        data, name = bytes(src), name or "image bytes"
    else:
        raise ImageError(f"cannot read an image from {type(src).__name__}: give a path, bytes or a numpy array")
    # imdecode applies EXIF orientation (like imread) and copes with any path encoding
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if img is None:
        raise ImageError(f"{name} is not a readable image (corrupt, truncated, or not an image format OpenCV reads)")
    return img
