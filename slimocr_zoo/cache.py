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

import datetime
import hashlib
import json
from pathlib import Path
from typing import Optional

from filelock import FileLock

from . import settings
from .errors import ZooError
from .files import write_atomic

INCOMPLETE = ".incomplete"


def home() -> Path:
    return settings.home()


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


def record(rel: str, sha256: str) -> None:
    """Remember that the cached file at ``rel`` was verified to have ``sha256``."""
    st = file_path(rel).stat()
    write_atomic(state_path(rel), json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


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
        raise ZooError(f"{_pins_path()} is corrupt ({e}); delete it to pin upstream files anew") from None


def pinned(key: str) -> Optional[dict]:
    return pins().get(key)


def pin(key: str, sha256: str, size: int, url: str) -> None:
    with lock("pins.json"):
        data = pins()
        data[key] = {"sha256": sha256, "size": size, "url": url,
                     "pinned_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        write_atomic(_pins_path(), json.dumps(data, indent=1, sort_keys=True))
