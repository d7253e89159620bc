"""The third-party runtimes, imported the way they work here: paddle (Paddle Inference) and
paddlelite, each with a clear error when missing and the pitfalls measured on these machines."""
from __future__ import annotations

import logging
import re
import sys

from ..errors import RuntimeUnavailableError
from ..settings import quiet_native_logs


def import_paddle():
    """Import paddle, with the interpreter's zlib loaded first.

    paddle's native libraries carry their own zlib; loaded first, its symbols shadow Python's and
    a later Cython module that decompresses its strings with zlib (pyclipper 1.4) fails to import
    with "zlib.error: Error -2 ... inconsistent stream state" (seen here).
    """
    import zlib  # noqa: F401

    if "paddle" not in sys.modules and not logging.getLogger("slimocr_zoo").isEnabledFor(logging.INFO):
        quiet_native_logs()  # paddle's own INFO lines: only with -v
    try:
        import paddle
    except ImportError:
        raise RuntimeUnavailableError(
            "Paddle Inference is not installed: pip install 'slimocr-zoo[paddle]' (paddlepaddle==2.6.2)") from None
    return paddle


def paddle_inference():
    import_paddle()
    import paddle.inference as pi

    return pi


def paddlelite():
    """paddlelite.lite, refused with numpy 2 (it silently corrupts tensors there)."""
    import numpy as np

    if int(np.__version__.split(".")[0]) >= 2:
        raise RuntimeUnavailableError(
            f"numpy {np.__version__} with paddlelite 2.13 silently corrupts tensors: "
            f"pip install 'numpy<2' (the 'lite' extra pins numpy==1.26.4)")
    try:
        import paddlelite.lite as lite
    except ImportError:
        raise RuntimeUnavailableError(
            "Paddle Lite is not installed: pip install 'slimocr-zoo[lite]' "
            "(paddlelite 2.13rc0 has wheels for CPython <= 3.10 only)") from None
    return lite


def lite_version() -> str:
    """The version string opt writes into ``.nb`` headers for this paddlelite (2.13rc0 -> v2.13-rc)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("paddlelite")
    except PackageNotFoundError:
        raise RuntimeUnavailableError("Paddle Lite is not installed: pip install 'slimocr-zoo[lite]'") from None
    m = re.match(r"(\d+)\.(\d+)(?:\.\d+)?(rc|b|a)?", v)
    return f"v{m.group(1)}.{m.group(2)}" + ("-rc" if m.group(3) == "rc" else "")


def int8_supported() -> bool:
    """Whether oneDNN runs int8 convolutions fast on this CPU (AVX512-VNNI; AMX CPUs have it too).
    Without it an int8 model runs as simulated int8: fake-quant ops in fp32, right but slow."""
    import_paddle()
    from paddle.base import core

    return bool(core.supports_vnni())


def bf16_supported() -> bool:
    """Whether this CPU runs oneDNN's bfloat16 kernels fast (AVX512-BF16 or AMX)."""
    import_paddle()
    from paddle.base import core

    return bool(core.supports_bfloat16_fast_performance())
