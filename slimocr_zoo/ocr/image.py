"""Images in: a path, bytes or a numpy array -> a BGR uint8 array, EXIF orientation honoured.

Images from the wild are made what the models expect: grayscale and palette images become BGR,
16-bit and float ones 8-bit, and a transparent image (RGBA, gray + alpha) is composited on white,
as a viewer shows it (dropping the alpha instead leaves black text on black where it was clear).
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from ..errors import ImageError

JPEG = b"\xff\xd8"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def image_files(paths) -> List[Path]:
    """Files as given, and for a folder the images in it (by suffix, sorted, not recursive)."""
    out: List[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(x for x in p.iterdir() if x.suffix.lower() in IMAGE_SUFFIXES) if p.is_dir() else [p])
    return out


def _to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    if img.dtype == bool:
        return img.astype(np.uint8) * 255
    if np.issubdtype(img.dtype, np.floating):  # [0, 1] as most libraries give it, else [0, 255]
        f = np.nan_to_num(img.astype(np.float32))
        return np.clip(f * 255 if f.size and f.max() <= 1.0 else f, 0, 255).round().astype(np.uint8)
    if np.issubdtype(img.dtype, np.integer):
        return np.clip(img, 0, 255).astype(np.uint8)
    raise ImageError(f"an image of dtype {img.dtype} cannot be read: give uint8, uint16 or float pixels")


def to_bgr(img: np.ndarray, name: str = "array") -> np.ndarray:
    """Any HxW, HxWx1, HxWx2 (gray + alpha), HxWx3 (BGR) or HxWx4 (BGRA) array -> HxWx3 BGR uint8."""
    import cv2

    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.size == 0 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (2, 3, 4)):
        raise ImageError(f"{name}: expected an HxW gray or HxWx3 BGR (or BGRA) image, got shape {img.shape}")
    img = _to_uint8(img)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 3:
        return np.ascontiguousarray(img)
    color = cv2.cvtColor(np.ascontiguousarray(img[:, :, 0]), cv2.COLOR_GRAY2BGR) if img.shape[2] == 2 else img[:, :, :3]
    alpha = img[:, :, -1:].astype(np.float32) / 255
    return (color.astype(np.float32) * alpha + 255 * (1 - alpha)).round().astype(np.uint8)  # on white


def read_image(src, name=None) -> np.ndarray:
    import cv2

    if isinstance(src, np.ndarray):
        return to_bgr(src, name or "array")
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
    buf = np.frombuffer(data, np.uint8)
    img = None
    if data and not data.startswith(JPEG):  # PNG, TIFF, WebP may carry alpha or 16 bits: read them as they are
        raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if raw is not None and (raw.dtype != np.uint8 or (raw.ndim == 3 and raw.shape[2] in (2, 4))):
            img = to_bgr(raw, name)
    if img is None and data:  # imdecode applies EXIF orientation (like imread) and copes with any path encoding
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise ImageError(f"{name} is not a readable image (corrupt, truncated, or not an image format OpenCV reads)")
    return img
