"""Hashing and atomic writes: the two things every layer does to files, done one way.

An atomic write goes to a temporary file beside the target, is flushed to disk and moved onto
it, so a reader (or an interrupted writer) never sees half a file.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Iterator, Union

CHUNK = 1 << 20


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def replacing(path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) to write; moved onto ``path`` when the block
    ends without error, removed when it raises (Ctrl-C included)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path, data: Union[str, bytes]) -> None:
    """Write text (UTF-8) or bytes to ``path`` atomically."""
    with replacing(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, "utf-8")
        else:
            tmp.write_bytes(data)
