"""Predictors: Paddle Inference for ``paddle`` artifacts, Paddle Lite for ``nb`` (and paddle via opt).

A predictor takes one float32 NCHW array and returns its outputs as numpy arrays that the
caller owns (never views into a runtime's buffers). Modules: ``libs`` (importing paddle and
paddlelite safely), ``paddle`` and ``fold`` (Paddle Inference), ``lite``, ``opt`` and ``nbfile``
(Paddle Lite and its files).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, Protocol

from ..artifacts import RUNTIMES
from ..errors import RuntimeUnavailableError

if TYPE_CHECKING:  # the core (registry, fetch, load) imports this module and has no numpy
    import numpy as np


class Predictor(Protocol):
    runtime: str
    threads: int

    def run(self, x: np.ndarray) -> List[np.ndarray]: ...


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def create(loaded, runtime: str = "paddle", threads=None) -> Predictor:
    """A predictor for a loaded model's artifact on this machine."""
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
