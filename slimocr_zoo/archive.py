"""Safe extraction of upstream tar archives.

Every member is checked before anything is written: absolute names are refused (tarfile's
own ``data`` filter would silently strip the slash), then the standard library's ``data``
filter refuses ``..`` escapes, links that leave the target and device files.
"""
from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import Dict

from .errors import DownloadError, UnsafeArchiveError, ZooError


def _check(member: tarfile.TarInfo, dest: str, archive: str) -> None:
    if member.name.startswith(("/", "\\")) or os.path.isabs(member.name) or (len(member.name) > 1 and member.name[1] == ":"):
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: absolute path")
    try:
        tarfile.data_filter(member, dest)
    except tarfile.FilterError as e:
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: {e}") from None


def extract(archive: Path, members: Dict[str, Path], dest: Path, label: str = "") -> None:
    """Extract ``members`` (name in the archive -> path under ``dest``) after checking them all.

    ``label`` names the archive in errors (its URL); the local file name is used otherwise.
    """
    label = label or archive.name
    if not hasattr(tarfile, "data_filter"):  # PEP 706: Python 3.9.17, 3.10.12, 3.11.4, 3.12
        raise ZooError("safe tar extraction needs Python >= 3.9.17 / 3.10.12 / 3.11.4; please upgrade Python")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        tar = tarfile.open(archive)
    except (tarfile.TarError, OSError) as e:
        raise DownloadError(f"{label} is not a readable tar archive: {e}") from None
    with tar:
        infos = tar.getmembers()
        for info in infos:
            _check(info, str(dest), label)
        by_name = {(i.name[2:] if i.name.startswith("./") else i.name): i for i in infos}
        for name, out in members.items():
            info = by_name.get(name)
            if info is None or not info.isfile():
                raise DownloadError(f"{label} has no file {name!r} (it holds {sorted(by_name)[:8]})")
            src = tar.extractfile(info)
            out.parent.mkdir(parents=True, exist_ok=True)
            with src, open(out, "wb") as f:
                while True:
                    block = src.read(1 << 20)
                    if not block:
                        break
                    f.write(block)
