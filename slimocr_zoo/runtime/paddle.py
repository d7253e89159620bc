"""Paddle Inference (paddlepaddle 2.6) on the CPU, MKLDNN on: the fast path on x86."""
from __future__ import annotations

import functools
import logging
import os
from typing import List

import numpy as np

from ..errors import RuntimeUnavailableError
from ..logs import captured
from ..settings import native_log
from . import fold
from .libs import bf16_supported, paddle_inference
from .nbfile import check_program

log = logging.getLogger("slimocr_zoo")
# input shapes whose oneDNN primitives are kept: bounded, as rec widths vary without end. 64 kept
# the classifier's shapes between images (a few % faster end to end) but grew the pipeline's memory
# by 650 MB over 200 images, still growing; 10 stayed near 1 GB (measured here)
MKLDNN_SHAPES = 10
# what quantization (build.quant, build.qat) fake-quantizes, for oneDNN's int8 passes. fused_conv2d is
# what paddle's conv + batch_norm + activation fusions make of a conv before those passes run: without
# it 8 of SlimTextDet's 56 convs ran int8 (48 ms), with it all 56 (35 ms; fp32 58 ms; measured here).
# conv2d_transpose is never quantized (no x86 int8 kernel).
INT8_OPS = {"conv2d", "depthwise_conv2d", "fused_conv2d"}
LOG_BYTES = 4 << 20


def _check_bf16(mkldnn: bool) -> None:
    """bfloat16 needs oneDNN and a CPU with AVX512-BF16 or AMX; without them paddle silently runs fp32."""
    if not mkldnn:
        raise RuntimeUnavailableError("precision='bf16' runs through oneDNN (MKLDNN): leave mkldnn on")
    if not bf16_supported():
        raise RuntimeUnavailableError(
            "this CPU has no bfloat16 instructions (AVX512-BF16 or AMX): precision='bf16' would run no "
            "faster, or fall back; use precision='fp32'")


@functools.lru_cache(maxsize=8)
def _fold_cached(prog: str, params: str, stamp: tuple):
    with open(prog, "rb") as a, open(params, "rb") as b:
        return fold.fold(a.read(), b.read())


def _folded(prog, params):
    """The program with PP-LCNetV3's affine blocks folded (see fold.py), once per process and files;
    None when there is nothing to fold, or when folding fails: the program then runs as published."""
    st = [os.stat(p) for p in (prog, params)]
    try:
        return _fold_cached(str(prog), str(params), tuple((s.st_size, s.st_mtime_ns) for s in st))
    except Exception as e:  # an optimization must never keep a model from running
        log.warning("%s: not folded (%s: %s); running the program as published", prog, type(e).__name__, e)
        return None


class PaddlePredictor:
    runtime = "paddle"

    def __init__(self, loaded, threads: int, mkldnn: bool = True, precision: str = "fp32", fold: bool = True):
        pi = paddle_inference()
        if precision == "bf16":
            _check_bf16(mkldnn)
        if precision == "int8" and not mkldnn:
            raise RuntimeUnavailableError("precision='int8' runs through oneDNN (MKLDNN): leave mkldnn on")
        prog, params = loaded.program_files()
        check_program(prog)
        folded = _folded(prog, params) if fold else None
        if folded is None:
            config = pi.Config(str(prog), str(params))
        else:
            config = pi.Config()
            config.set_model_buffer(folded.program, len(folded.program), folded.params, len(folded.params))
        self.folded = (folded.scales, folded.convs) if folded else (0, 0)
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(threads)
        if mkldnn:
            config.enable_mkldnn()
            config.set_mkldnn_cache_capacity(MKLDNN_SHAPES)
            if precision == "bf16":
                config.enable_mkldnn_bfloat16()
            elif precision == "int8":  # the fake-quant ops' scales become real int8 kernels
                config.enable_mkldnn_int8(INT8_OPS)
        config.switch_ir_optim(True)
        config.enable_memory_optim()
        config.disable_glog_info()
        self.threads = threads
        self.mkldnn = mkldnn
        self.precision = precision
        # the int8 and bf16 passes print coloured lines straight to stderr: into the log unless -v
        logfile = native_log()
        small = logfile.is_file() and logfile.stat().st_size < LOG_BYTES  # else started afresh
        with captured(logfile, enabled=not log.isEnabledFor(logging.INFO), append=small):
            self._p = pi.create_predictor(config)
        self._input = self._p.get_input_handle(self._p.get_input_names()[0])
        self._outputs = [self._p.get_output_handle(n) for n in self._p.get_output_names()]

    def run(self, x: np.ndarray) -> List[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        self._input.reshape(list(x.shape))
        self._input.copy_from_cpu(x)
        self._p.run()
        return [o.copy_to_cpu() for o in self._outputs]

