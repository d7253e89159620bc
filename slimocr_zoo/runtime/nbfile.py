"""What a file says about itself: Paddle Lite ``.nb`` headers and kernels, paddle program formats.

An ``.nb`` (naive buffer) starts with a uint16 (2) and the opt version string. Its ops carry
kernel keys ``op/alias/target/precision/layout`` with Paddle Lite's enums: target 1 host,
2 x86, 4 arm; precision 1 float, 2 int8.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet

from ..errors import RuntimeUnavailableError

TARGETS = {2: "x86", 4: "arm", 3: "cuda", 5: "opencl", 6: "fpga", 7: "npu", 8: "xpu"}
_KEY = re.compile(rb"([a-z0-9_]+)/([a-z0-9_]+)/(\d+)/(\d+)/(\d+)\x00?")


@dataclass(frozen=True)
class NbInfo:
    version: str
    targets: FrozenSet[str]  # device targets of the kernels (host kernels left out)
    int8_kernels: int
    kernels: int


def inspect_nb(path) -> NbInfo:
    data = Path(path).read_bytes()
    if len(data) < 8 or data[:2] != b"\x02\x00":
        raise RuntimeUnavailableError(f"{path} is not a Paddle Lite naive-buffer (.nb) model")
    version = data[2:data.index(b"\x00", 2)].decode("ascii", "replace")
    targets, int8, n = set(), 0, 0
    for m in _KEY.finditer(data):
        target, precision = int(m.group(3)), int(m.group(4))
        if m.group(1) in (b"feed", b"fetch"):
            continue
        n += 1
        if target in TARGETS:
            targets.add(TARGETS[target])
        if precision == 2 and m.group(1) in (b"conv2d", b"depthwise_conv2d", b"mul", b"fc", b"matmul", b"matmul_v2"):
            int8 += 1
    return NbInfo(version, frozenset(targets), int8, n)


def check_program(path) -> None:
    """Refuse a paddle 3 JSON (PIR) program early: opt aborts on it and old runtimes misread it."""
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    if head.startswith(b"{"):
        raise RuntimeUnavailableError(
            f"{path} is a paddle 3.x JSON (PIR) program: paddle_lite_opt and paddlepaddle 2.6 cannot read it. "
            f"Re-export the model with paddlepaddle 2.6 (or paddle 3 with FLAGS_enable_pir_api=0)")
