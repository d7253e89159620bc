"""``slimocr-zoo doctor``: what this machine has for the zoo, one line a check, each ok / warning /
error with what to do. Nothing here changes the machine (``adb devices`` may start adb's server)."""
from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, List, Optional

from . import cache, settings


@dataclass
class Check:
    what: str
    level: str  # "ok" | "warning" | "error"
    detail: str


def _version(dist: str) -> Optional[str]:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def python() -> Check:
    v = platform.python_version()
    if sys.version_info[:2] <= (3, 10):
        return Check("python", "ok", f"{v} ({sys.executable})")
    return Check("python", "warning", f"{v}: paddlelite 2.13 has wheels for CPython <= 3.10 only, so no .nb "
                                      f"conversion or Lite runs here; use Python 3.10 for the 'lite' extra")


def packages() -> List[Check]:
    out = []
    for dist, extra, what in (("paddlepaddle", "paddle", "Paddle Inference: runs paddle models on this CPU"),
                              ("paddlelite", "lite", "Paddle Lite: .nb files (opt) and x86 runs"),
                              ("paddleslim", "build", "the quantization and pruning recipes")):
        v = _version(dist)
        out.append(Check(dist, "ok", f"{v}") if v else
                   Check(dist, "warning", f"not installed ({what}): pip install 'slimocr-zoo[{extra}]'"))
    np = _version("numpy")
    if np is None:
        out.append(Check("numpy", "warning", "not installed: pip install 'slimocr-zoo[paddle]'"))
    elif int(np.split(".")[0]) >= 2 and _version("paddlelite"):
        out.append(Check("numpy", "error", f"{np} with paddlelite silently corrupts tensors: pip install 'numpy<2'"))
    else:
        out.append(Check("numpy", "ok", np))
    return out


def cpu() -> List[Check]:
    if not _version("paddlepaddle"):
        return [Check("cpu", "warning", "not checked: needs paddlepaddle")]
    from .runtime.libs import bf16_supported, int8_supported

    out = []
    out.append(Check("cpu int8 (AVX512-VNNI)", "ok", "int8 models run real int8 kernels") if int8_supported() else
               Check("cpu int8 (AVX512-VNNI)", "warning",
                     "absent: int8 models run as simulated int8, slower than float here (right outputs)"))
    out.append(Check("cpu bfloat16", "ok", "precision='bf16' runs fast") if bf16_supported() else
               Check("cpu bfloat16", "warning", "absent: leave precision at fp32"))
    return out


def adb() -> Check:
    from .devices.adb import Adb
    from .errors import DeviceError

    try:
        a = Adb(timeout=30)
        found = a.devices()
    except DeviceError as e:
        return Check("adb", "warning", f"{e} (only the phone benchmark needs it)")
    if not found:
        return Check("adb", "warning", f"{a.exe}: no device attached (the phone benchmark needs one: `adb devices`)")
    ready = [d for d in found if d.state == "device"]
    names = ", ".join(f"{d.serial} ({d.state})" for d in found)
    return Check("adb", "ok" if ready else "warning", f"{a.exe}: {names}" +
                 ("" if ready else ": none is ready; authorize USB debugging on the phone"))


def cache_dir() -> Check:
    home = cache.home()
    size = sum(p.stat().st_size for p in home.rglob("*") if p.is_file()) if home.is_dir() else 0
    probe = home if home.is_dir() else next((p for p in home.parents if p.exists()), Path("/"))
    if not os.access(probe, os.W_OK):
        return Check("cache", "error", f"{home} is not writable: set SLIMOCR_ZOO_HOME to a folder you can write")
    return Check("cache", "ok", f"{home} ({size / 1e6:.1f} MB)")


def mirrors(extra: Optional[List[str]] = None) -> List[Check]:
    names = list(extra or []) + settings.mirrors()
    if not names:
        return [Check("mirror", "ok", "none set: the manifest's own sources are used (SLIMOCR_ZOO_MIRROR to add one)")]
    out = []
    for m in names:
        if "://" not in m:
            ok = Path(m).expanduser().is_dir()
            out.append(Check("mirror", "ok" if ok else "error", m if ok else f"{m}: no such folder"))
        elif settings.offline():
            out.append(Check("mirror", "warning", f"{m}: not checked (offline mode is on)"))
        else:
            import requests

            try:
                r = requests.head(m, timeout=settings.connect_timeout(), allow_redirects=True)
                out.append(Check("mirror", "ok", f"{m} (HTTP {r.status_code})"))
            except requests.RequestException as e:
                out.append(Check("mirror", "error", f"{m}: unreachable ({type(e).__name__}); check the URL or "
                                                    f"the network, or use --offline with a filled cache"))
    return out


def run(mirror: Optional[List[str]] = None) -> List[Check]:
    steps: List[Callable[[], object]] = [python, packages, cpu, adb, cache_dir, lambda: mirrors(mirror)]
    out: List[Check] = []
    for step in steps:
        got = step()
        out.extend(got if isinstance(got, list) else [got])
    return out
