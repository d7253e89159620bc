"""The local cache: where files live, what has been verified, and trust-on-first-use pins.

Layout under the home directory (``SLIMOCR_ZOO_HOME``, else the platform's user cache):

    files/<mirror-relative path>              verified files, moved in atomically
    files/<path>.incomplete                   a partial download, resumed with HTTP Range
    state/<path>.json                         size, mtime and sha256 seen at verification
    downloads/<name>                          archives while they are fetched and extracted
    locks/                                    filelocks, one per file or archive
    pins.json                                 sha256 of upstream files the manifest does not pin
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from filelock import FileLock

INCOMPLETE = ".incomplete"
CHUNK = 1 << 20


def home() -> Path:
    env = os.environ.get("SLIMOCR_ZOO_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("slimocr_zoo"))


def file_path(rel: str) -> Path:
    return home() / "files" / rel


def state_path(rel: str) -> Path:
    return home() / "state" / (rel + ".json")


def lock(key: str) -> FileLock:
    """A cross-process lock for one cache entry (a file path or an archive URL)."""
    d = home() / "locks"
    d.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(key.encode()).hexdigest()[:24]
    return FileLock(str(d / f"{name}.lock"))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def record(rel: str, sha256: str) -> None:
    """Remember that the cached file at ``rel`` was verified to have ``sha256``."""
    p, st = state_path(rel), file_path(rel).stat()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    os.replace(tmp, p)


def verified_sha256(rel: str) -> Optional[str]:
    """The sha256 recorded at verification, if the file is unchanged since (size and mtime).

    This keeps a warm load from re-hashing megabytes; ``slimocr-zoo verify`` re-hashes all.
    """
    try:
        st = file_path(rel).stat()
        rec = json.loads(state_path(rel).read_text())
    except (OSError, ValueError):
        return None
    if rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns:
        return rec.get("sha256")
    return None


def forget(rel: str) -> None:
    for p in (file_path(rel), state_path(rel)):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


# --- pins: trust on first use for upstream files nobody here has hashed ---------------

def _pins_path() -> Path:
    return home() / "pins.json"


def pins() -> dict:
    try:
        return json.loads(_pins_path().read_text())
    except FileNotFoundError:
        return {}
    except ValueError as e:
        from .errors import ZooError

        raise ZooError(f"{_pins_path()} is corrupt ({e}); delete it to pin upstream files anew") from None


def pinned(key: str) -> Optional[dict]:
    return pins().get(key)


def pin(key: str, sha256: str, size: int, url: str) -> None:
    import datetime

    with lock("pins.json"):
        data = pins()
        data[key] = {"sha256": sha256, "size": size, "url": url,
                     "pinned_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        tmp = _pins_path().with_suffix(f".{os.getpid()}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, _pins_path())
