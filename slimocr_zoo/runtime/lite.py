"""Paddle Lite (paddlelite 2.13rc0) on x86: ``.nb`` files through MobileConfig, paddle models
through CxxConfig (which has threads) or an x86 ``.nb`` made by opt.

Measured pitfalls this module guards against (../shared/README.md):
- an x86 predictor must not change input shape: one predictor per shape, kept in an LRU bounded by
  memory as well as by count (a PP-OCRv4 detector's predictor at 960x960 holds about 1 GB: sixteen
  of them took the machine's 23 GB);
- ``Tensor.numpy()`` is a view the next run overwrites: outputs are copied;
- ARM ``.nb`` files and fully int8 ``.nb`` files run on x86 and return garbage: refused;
- numpy 2 silently corrupts tensors: refused.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections import OrderedDict
from typing import List, Optional

import numpy as np

from .. import settings
from ..errors import RuntimeUnavailableError
from .libs import lite_version, paddlelite
from .nbfile import check_program, inspect_nb
from .opt import x86_nb

MAX_SHAPES = 16


@functools.lru_cache(maxsize=1)
def _mallinfo2():
    """glibc's mallinfo2, or None (another libc, or glibc < 2.33)."""
    import ctypes

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                   "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        f = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    f.restype = Info
    return f


def allocated_bytes() -> Optional[int]:
    """Bytes this process has allocated now: glibc's in-use heap and mmap'd blocks (mallinfo2, which
    counts a predictor's buffers even where they reuse memory freed before), else the resident size
    (Linux), else None. Measured around a cls predictor made after another was freed: mallinfo2 +5.4
    MB, RSS +44 KB."""
    info = _mallinfo2()
    if info is not None:
        m = info()
        return m.uordblks + m.hblkhd
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def check_nb_for_x86(path, artifact=None) -> None:
    """Refuse an ``.nb`` the x86 runtime would run wrongly, before any number is produced."""
    if artifact is not None and artifact.target == "arm":
        raise RuntimeUnavailableError(
            f"{artifact.key} is an ARM .nb: the x86 Paddle Lite runtime runs it without error and returns "
            f"garbage. Run it on the phone (python -m slimocr_zoo.bench --device sd855) or load format='paddle'")
    info = inspect_nb(path)
    if "arm" in info.targets and "x86" not in info.targets:
        raise RuntimeUnavailableError(
            f"{path} holds ARM kernels (opt --valid_targets=arm): on x86 it returns garbage. "
            f"Convert the paddle model with --valid_targets=x86 for this machine, or run it on the phone")
    if info.int8_kernels:
        raise RuntimeUnavailableError(
            f"{path} is an int8 .nb ({info.int8_kernels} int8 kernels): x86 Paddle Lite 2.13 gives garbage for it. "
            f"Measure its accuracy through Paddle Inference (runtime='paddle') and its speed on the phone")
    want = lite_version()
    if info.version != want:
        raise RuntimeUnavailableError(
            f"{path} was built by opt {info.version}, this runtime is paddlelite {want}: "
            f"rebuild it with this paddle_lite_opt (or install the matching paddlelite)")


@contextlib.contextmanager
def _quiet_stdout():
    """Paddle Lite prints progress from C++ to fd 1; keep the caller's stdout clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class LitePredictor:
    runtime = "lite"

    def __init__(self, loaded, threads: int = 1, use_opt: bool = None):
        self._lite = paddlelite()
        self.threads = threads
        art = loaded.artifact
        if art.format == "nb":
            (self._nb,) = [p for p in loaded.files.values() if p.suffix == ".nb"]
            check_nb_for_x86(self._nb, art)
            self.mode = "nb"
        elif art.format == "paddle":
            self._prog, self._params = loaded.program_files()
            check_program(self._prog)
            # MobileConfig has no threads on x86; CxxConfig does and loads the paddle model directly.
            if use_opt or (use_opt is None and threads == 1):
                self._nb = x86_nb(loaded)
                check_nb_for_x86(self._nb)
                self.mode = "nb"
            else:
                self.mode = "cxx"
        else:
            raise RuntimeUnavailableError(f"{art.key}: Paddle Lite cannot run a {art.format!r} artifact")
        self._by_shape: "OrderedDict[tuple, object]" = OrderedDict()
        self._bytes: "dict[tuple, int]" = {}  # each held predictor's memory, as measured or estimated
        # Where only RSS can be read, memory freed by an evicted predictor is reused by the next and RSS
        # undercounts it: a predictor's memory scales with its input's size, and the largest bytes per
        # element seen stands.
        self._per_element = 0.0

    def _create(self):
        lite = self._lite
        if self.mode == "nb":
            config = lite.MobileConfig()
            config.set_model_from_file(str(self._nb))
        else:
            config = lite.CxxConfig()
            config.set_model_file(str(self._prog))
            config.set_param_file(str(self._params))
            config.set_valid_places([lite.Place(lite.TargetType.X86, lite.PrecisionType.FP32),
                                     lite.Place(lite.TargetType.Host, lite.PrecisionType.FP32)])
            config.set_threads(self.threads)
        with _quiet_stdout():
            return lite.create_paddle_predictor(config)

    @property
    def shapes(self) -> List[tuple]:
        """The input shapes that have a predictor now, least recently used first."""
        return list(self._by_shape)

    @property
    def held_bytes(self) -> int:
        """What the held predictors added to this process's memory, as measured when each was made."""
        return sum(self._bytes.get(s, 0) for s in self._by_shape)

    def _predictor(self, shape):
        p = self._by_shape.get(shape)
        if p is not None:
            self._by_shape.move_to_end(shape)
        return p

    def _evict(self) -> None:
        budget = settings.lite_memory_mb() * 2**20
        while len(self._by_shape) > 1 and (len(self._by_shape) > MAX_SHAPES or self.held_bytes > budget):
            shape, _ = self._by_shape.popitem(last=False)
            self._bytes.pop(shape, None)

    def run(self, x: np.ndarray) -> List[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        shape = tuple(x.shape)
        p = self._predictor(shape)
        if p is None:
            before = allocated_bytes()
            p = self._create()
            out = self._run(p, x)
            after = allocated_bytes()
            grew = max(0, after - before) if before is not None and after is not None else 0
            self._per_element = max(self._per_element, grew / x.size)
            self._by_shape[shape] = p
            self._bytes[shape] = max(grew, int(self._per_element * x.size))
            self._evict()
            return out
        return self._run(p, x)

    @staticmethod
    def _run(p, x) -> List[np.ndarray]:
        p.get_input(0).from_numpy(x)
        p.run()
        return [np.array(p.get_output(i).numpy(), copy=True) for i in range(len(p.get_output_names()))]
