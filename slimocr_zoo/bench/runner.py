"""One benchmark run: the device profile, the configurations, the images, then the host or the phone."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from ..data import DET_SET, default_data_dir, read_det_labels
from ..devices import device
from ..errors import UsageError, ZooError
from ..registry import get_registry



def default_images(n: int) -> Optional[List[Path]]:
    d = default_data_dir()
    if d is None:
        return None
    return [p for p, _ in read_det_labels(Path(d) / DET_SET / "labels.txt")[:n]]


def images_for(images_dir: Optional[Path], prof: dict, quick: bool) -> List[Path]:
    """--images DIR: every image in it; else the profile's count of the default set."""
    n = dict(prof["quick" if quick else "protocol"]).get("images", 5)
    if images_dir:
        if not images_dir.is_dir():
            raise UsageError(f"--images {images_dir}: not a folder (give a folder of .jpg/.png images)")
        from ..ocr.image import image_files

        return image_files([images_dir])
    return default_images(n) or []


def run(a, command: str) -> int:
    """``a``: the parsed options of ``slimocr-zoo bench``; ``a.configs`` are row numbers or DET+REC pairs."""
    prof = device(a.device)
    reg = get_registry()
    a.configs = [reg.config(c) for c in a.configs or sorted(reg.configs)]
    images = images_for(a.images, prof, a.quick)
    a.out_dir = Path("benchmarks/results")
    if a.out is not None and a.out.is_dir():  # a folder: the default name inside it
        a.out_dir, a.out = a.out, None
    if prof["kind"] == "adb":
        from .phone import run_phone

        if getattr(a, "profile", False):
            raise UsageError("--profile: the host's Paddle Inference only (--device cpu); on a phone, Paddle Lite's "
                             "benchmark_bin prints per-op times only when built with -DLITE_WITH_PROFILE=ON")
        return run_phone(a, prof, images, command)
    from .host import run_host

    a.runtime = a.runtime or "paddle"
    if a.runtime not in ("paddle", "lite"):
        raise ZooError(f"--runtime {a.runtime}: --device {a.device} runs paddle or lite")
    return run_host(a, prof, images, command)
