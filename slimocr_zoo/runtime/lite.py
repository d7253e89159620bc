"""Paddle Lite (paddlelite 2.13rc0) on x86: ``.nb`` files through MobileConfig, paddle models
through CxxConfig (which has threads) or an x86 ``.nb`` made by opt.

Measured pitfalls this module guards against (../shared/README.md):
- an x86 predictor must not change input shape: one predictor per shape, kept in a small LRU;
- ``Tensor.numpy()`` is a view the next run overwrites: outputs are copied;
- ARM ``.nb`` files and fully int8 ``.nb`` files run on x86 and return garbage: refused;
- numpy 2 silently corrupts tensors: refused.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections import OrderedDict
from typing import List

import numpy as np

from ..errors import RuntimeUnavailableError
from .libs import lite_version, paddlelite
from .nbfile import check_program, inspect_nb
from .opt import x86_nb

MAX_SHAPES = 16


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

    def _predictor(self, shape):
        p = self._by_shape.get(shape)
        if p is None:
            p = self._create()
            self._by_shape[shape] = p
            while len(self._by_shape) > MAX_SHAPES:
                self._by_shape.popitem(last=False)
        else:
            self._by_shape.move_to_end(shape)
        return p

    def run(self, x: np.ndarray) -> List[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        p = self._predictor(tuple(x.shape))
        p.get_input(0).from_numpy(x)
        p.run()
        return [np.array(p.get_output(i).numpy(), copy=True) for i in range(len(p.get_output_names()))]
