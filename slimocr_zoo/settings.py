"""Every SLIMOCR_ZOO_* environment variable, read here and nowhere else.

Each is read when asked for (not at import), so a test or a long-lived process that changes the
environment sees the change.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from .errors import UsageError

TRUE = {"1", "true", "yes", "on"}

VARIABLES = {
    "SLIMOCR_ZOO_HOME": "the cache folder (default: the platform's user cache, slimocr_zoo)",
    "SLIMOCR_ZOO_MIRROR": "mirrors tried before the manifest's sources: http(s) base URLs or folders, "
                          "separated by spaces or commas",
    "SLIMOCR_ZOO_OFFLINE": "1: never open a network connection",
    "SLIMOCR_ZOO_MANIFEST": "extra manifest files, separated by the OS path separator",
    "SLIMOCR_ZOO_DATA": "the evaluation / calibration data folder (icdar2015_det/, icdar2015_rec/)",
    "SLIMOCR_ZOO_DEVICES": "a JSON file of extra device profiles (the shape of manifests/devices.json)",
    "SLIMOCR_ZOO_ADB": "the adb executable (default: adb on PATH)",
    "SLIMOCR_ZOO_BENCHMARK_BIN": "Paddle Lite's benchmark_bin for the phone",
    "SLIMOCR_ZOO_CONNECT_TIMEOUT": "seconds to connect to a download source (default 10)",
    "SLIMOCR_ZOO_READ_TIMEOUT": "seconds without a byte before a download retries (default 30)",
    "SLIMOCR_ZOO_RETRIES": "failures without progress before a source is given up (default 3)",
    "SLIMOCR_ZOO_BACKOFF": "first pause between retries in seconds, doubled each time (default 0.5)",
    "SLIMOCR_ZOO_LITE_MEMORY_MB": "memory the x86 Paddle Lite runtime may hold in predictors, one per input shape, "
                                  "per model (default 2048; the least recently used shape goes first)",
    "SLIMOCR_ZOO_TRAIN_DEVICE": "where training recipes (qat, distill) run: auto (a GPU when paddle has CUDA and "
                                "sees one, else the CPU), cpu or gpu",
}


def _get(name: str) -> str:
    assert name in VARIABLES, name  # one list of what the package reads
    return os.environ.get(name, "")


def _float(name: str, default: float) -> float:
    try:
        return float(_get(name) or default)
    except ValueError:
        return default


def home() -> Path:
    env = _get("SLIMOCR_ZOO_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("slimocr_zoo"))


def native_log() -> Path:
    """Where the runtimes' own console output goes when not -v (appended)."""
    return home() / "logs" / "runtime.log"


def mirrors() -> List[str]:
    return _get("SLIMOCR_ZOO_MIRROR").replace(",", " ").split()


def offline() -> bool:
    return _get("SLIMOCR_ZOO_OFFLINE").lower() in TRUE


def manifests() -> List[Path]:
    return [Path(p) for p in _get("SLIMOCR_ZOO_MANIFEST").split(os.pathsep) if p]


def data_dir() -> Optional[Path]:
    env = _get("SLIMOCR_ZOO_DATA")
    return Path(env).expanduser() if env else None


def devices_file() -> Optional[str]:
    return _get("SLIMOCR_ZOO_DEVICES") or None


def adb() -> Optional[str]:
    return _get("SLIMOCR_ZOO_ADB") or None


def benchmark_bin() -> Optional[str]:
    return _get("SLIMOCR_ZOO_BENCHMARK_BIN") or None


def connect_timeout() -> float:
    return _float("SLIMOCR_ZOO_CONNECT_TIMEOUT", 10.0)


def read_timeout() -> float:
    return _float("SLIMOCR_ZOO_READ_TIMEOUT", 30.0)


def retries() -> int:
    return int(_float("SLIMOCR_ZOO_RETRIES", 3))


def backoff() -> float:
    return _float("SLIMOCR_ZOO_BACKOFF", 0.5)


def lite_memory_mb() -> float:
    value = _get("SLIMOCR_ZOO_LITE_MEMORY_MB") or "2048"
    try:
        mb = float(value)
    except ValueError:
        mb = 0.0
    if not mb > 0:
        raise UsageError(f"SLIMOCR_ZOO_LITE_MEMORY_MB={value}: give megabytes, a number above 0 (default 2048)")
    return mb


def train_device() -> str:
    value = (_get("SLIMOCR_ZOO_TRAIN_DEVICE") or "auto").lower()
    if value not in ("auto", "cpu", "gpu"):
        raise UsageError(f"SLIMOCR_ZOO_TRAIN_DEVICE={value}: use auto, cpu or gpu")
    return value


def quiet_native_logs() -> None:
    """paddle's C++ INFO lines ("New Executor is Running.") off a quiet console. glog reads this once,
    when paddle's library loads; a user's own setting wins. Not 2: with WARNING hidden too, Ctrl-C no
    longer stopped a training build (measured; tests/test_build.py)."""
    os.environ.setdefault("GLOG_minloglevel", "1")
