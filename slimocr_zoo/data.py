"""Labelled data in PaddleOCR's label formats, and where it is on this machine.

det: ``image<TAB>[{"transcription": ..., "points": [[x, y], ...]}, ...]`` per line; rec:
``image<TAB>text``. The data folder holds ``icdar2015_det/`` and ``icdar2015_rec/``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Tuple

from . import settings
from .errors import ZooError

DET_SET, REC_SET = "icdar2015_det", "icdar2015_rec"


def read_det_labels(path) -> List[Tuple[Path, List[dict]]]:
    path = Path(path)
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            img, js = line.split("\t", 1)
            out.append((path.parent / img, json.loads(js)))
        except ValueError as e:
            raise ValueError(f"{path}:{n}: not a PaddleOCR det label line ({e})") from None
    return out


def read_rec_labels(path) -> List[Tuple[Path, str]]:
    path = Path(path)
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise ValueError(f"{path}:{n}: not a PaddleOCR rec label line (image<TAB>text)")
        img, text = line.split("\t", 1)
        out.append((path.parent / img, text))
    return out


def default_data_dir() -> Optional[Path]:
    """SLIMOCR_ZOO_DATA (when set, only it), else ../shared/data beside the working directory or the checkout."""
    env = settings.data_dir()
    for cand in [env] if env else [Path.cwd() / "../shared/data", Path(__file__).resolve().parents[2] / "shared/data"]:
        if (cand / DET_SET).is_dir():
            return cand.resolve()
    return None


def data_dir(needed_for: str = "this") -> Path:
    """The data folder, or an error that says how to give one."""
    d = default_data_dir()
    if d is None:
        raise ZooError(f"{needed_for} needs the ICDAR 2015 data: set SLIMOCR_ZOO_DATA (or --data) to a folder "
                       f"holding {DET_SET}/ and {REC_SET}/ (PaddleOCR label format)")
    return d
