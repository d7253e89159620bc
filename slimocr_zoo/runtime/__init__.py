"""Predictors: Paddle Inference for ``paddle`` artifacts, Paddle Lite for ``nb`` (and paddle via opt).

A predictor takes one float32 NCHW array and returns its outputs as numpy arrays that the
caller owns (never views into a runtime's buffers).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, Protocol

if TYPE_CHECKING:  # the core (registry, fetch, load) imports this module and has no numpy
    import numpy as np

RUNTIMES = ("paddle", "lite")
PRECISIONS = ("fp32", "bf16")


class Predictor(Protocol):
    runtime: str

    def run(self, x: np.ndarray) -> List[np.ndarray]: ...


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def check_precision(precision: str, runtime: str) -> None:
    """Refuse a precision the runtime cannot give, before anything is downloaded or built."""
    from ..errors import RuntimeUnavailableError

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "bf16" and runtime != "paddle":
        raise RuntimeUnavailableError(
            f"precision='bf16' is Paddle Inference's (oneDNN) only; Paddle Lite x86 has no bfloat16 "
            f"kernels: use runtime='paddle' or precision='fp32'")


def create(loaded, runtime: str = "paddle", threads=None) -> Predictor:
    """A predictor for a loaded model's artifact on this machine."""
    from ..errors import RuntimeUnavailableError

    threads = threads or default_threads()
    if runtime == "paddle":
        if loaded.artifact.format != "paddle":
            raise RuntimeUnavailableError(
                f"{loaded.id}: Paddle Inference runs 'paddle' artifacts, this one is {loaded.artifact.describe()}; "
                f"use runtime='lite' or load(format='paddle')")
        from .paddle import PaddlePredictor

        return PaddlePredictor(loaded, threads, precision=loaded.precision)
    if runtime == "lite":
        from .lite import LitePredictor

        return LitePredictor(loaded, threads)
    raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
