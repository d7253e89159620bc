"""Fold the scalar affine blocks of PP-LCNetV3 (PP-OCRv3/v4 det and rec) before Paddle Inference
sees the program: its own passes leave them as two full passes over memory each.

PP-LCNetV3's "learnable affine block" is ``y = a * x + b`` with one scalar ``a`` and ``b`` per
block, exported as elementwise_mul + elementwise_add. oneDNN runs each as a binary primitive
over the whole tensor (25% of the recognizer's time here), and because they sit between a
convolution and its activation, the convolution + activation fusion does not apply either.
Two rewrites, exact up to float rounding:

1. ``elementwise_add(elementwise_mul(a, x), b)`` with scalar parameters -> ``scale(x, a, b)``;
2. ``scale(conv(x, W) + bias, a, b)`` -> ``conv(x, a*W) + (a*bias + b)`` when W and bias are
   used by that convolution only;
3. in a quantized program, ``scale(dequantize(conv(x, Wq), s) + bias, a, b)`` ->
   ``dequantize(conv(x, Wq), a*s) + (a*bias + b)`` for a > 0: the int8 weights stay as they are,
   their per-channel scales take the factor. oneDNN's int8 passes then fuse the activation into
   the int8 convolution (the v4 detector: 54 scale and 24 hard_swish ops ran in fp32 between them).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, List, Optional

log = logging.getLogger("slimocr_zoo")

CONVS = ("conv2d", "depthwise_conv2d")
DEQUANT = "fake_channel_wise_dequantize_max_abs"


@dataclass
class Folded:
    program: bytes
    params: bytes
    scales: int  # mul + add pairs made one scale op
    convs: int  # scale ops folded into a convolution's weights, or its int8 weights' scales


def _consumers(block) -> Dict[str, List]:
    out: Dict[str, List] = {}
    for op in block.ops:
        for name in op.input_arg_names:
            out.setdefault(name, []).append(op)
    return out


class _Params:
    def __init__(self, block, scope):
        self.block, self.scope = block, scope

    def value(self, name):
        import numpy as np

        var = self.block.vars.get(name)
        if var is None or not var.persistable:
            return None
        return np.array(self.scope.find_var(name).get_tensor())

    def scalar(self, name) -> Optional[float]:
        v = self.value(name)
        return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None

    def set(self, name, value) -> None:
        import paddle

        self.scope.find_var(name).get_tensor().set(value, paddle.CPUPlace())


def _mul_add_to_scale(block, p: _Params) -> int:
    n, i = 0, 0
    while i < len(block.ops):
        op = block.ops[i]
        i += 1
        if op.type != "elementwise_mul":
            continue
        x, y = op.input("X")[0], op.input("Y")[0]
        ax = p.scalar(x)
        a, tensor = (ax, y) if ax is not None else (p.scalar(y), x)
        out = op.output("Out")[0]
        users = _consumers(block).get(out, [])
        if a is None or len(users) != 1 or users[0].type != "elementwise_add" or users[0].input("X")[0] != out:
            continue
        add = users[0]
        b = p.scalar(add.input("Y")[0])
        if b is None:
            continue
        result = add.output("Out")[0]
        block._remove_op(list(block.ops).index(add))
        block._remove_op(i - 1)
        block._insert_op(i - 1, type="scale", inputs={"X": [block.var(tensor)]}, outputs={"Out": [block.var(result)]},
                         attrs={"scale": a, "bias": b, "bias_after_scale": True})
        n += 1
    return n


def _bias_then_scale(cons, out: str, param: str):
    """(add, bias, scale) when ``out`` feeds only ``+ bias`` (per channel), which feeds only a scale
    op, and ``param`` and the bias are used there only; else None."""
    users = cons.get(out, [])
    if len(users) != 1 or users[0].type != "elementwise_add" or users[0].attr("axis") != 1:
        return None
    add = users[0]
    bias = add.input("Y")[0]
    after = cons.get(add.output("Out")[0], [])
    if len(after) != 1 or after[0].type != "scale" or len(cons.get(param, [])) != 1 or len(cons.get(bias, [])) != 1:
        return None
    return add, bias, after[0]


def _fold_scale(block, p: _Params, param: str, add, bias: str, sc) -> bool:
    """``param`` (a conv's weights, or its int8 weights' per-channel scales) and the bias take the
    scale op's factor and offset, which is then removed. False when the shapes do not allow it, or
    when the factor is not positive and ``param`` holds int8 scales."""
    import numpy as np

    w, b = p.value(param), p.value(bias)
    a, c = np.float32(sc.attr("scale")), np.float32(sc.attr("bias"))
    if w is None or b is None or b.ndim != 1 or w.shape[0] != b.shape[0]:
        return False
    p.set(param, (w * a).astype(w.dtype))
    p.set(bias, (b * a + c).astype(b.dtype))
    add._rename_output(add.output("Out")[0], sc.output("Out")[0])
    block._remove_op(list(block.ops).index(sc))
    return True


def _scale_into_conv(block, p: _Params) -> int:
    n, i = 0, 0
    while i < len(block.ops):  # by index: an Operator object of a removed op must not be touched again
        op = block.ops[i]
        i += 1
        if op.type not in CONVS or ("Bias" in op.input_names and op.input("Bias")):
            continue
        weight = op.input("Filter")[0]
        found = _bias_then_scale(_consumers(block), op.output("Output")[0], weight)
        n += bool(found and _fold_scale(block, p, weight, *found))
    return n


def _scale_into_dequant(block, p: _Params) -> int:
    n, i = 0, 0
    while i < len(block.ops):
        op = block.ops[i]
        i += 1
        if op.type != DEQUANT or len(op.input("Scales")) != 2:
            continue
        channel_scales = op.input("Scales")[0]
        found = _bias_then_scale(_consumers(block), op.output("Out")[0], channel_scales)
        if found and found[2].attr("scale") > 0:  # a negative factor would make a negative int8 scale
            n += _fold_scale(block, p, channel_scales, *found)
    return n


def fold(program: bytes, params: bytes) -> Optional[Folded]:
    """The rewritten program and parameters, or None when there is nothing to fold."""
    from .libs import import_paddle

    paddle = import_paddle()
    from paddle.base.framework import _dygraph_guard

    # static graph mode for this block only, in whatever thread: paddle.enable_static() does nothing
    # in a thread other than the main one (measured), and the caller's mode must come back anyway
    with _dygraph_guard(None):
        scope = paddle.static.Scope()
        exe = paddle.static.Executor(paddle.CPUPlace())
        quiet = logging.getLogger("paddle.static.io")  # "from memory is deprecated": it is what we want
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        with paddle.static.scope_guard(scope):
            try:
                prog, feeds, fetches = paddle.static.load_inference_model(
                    None, exe, model_filename=program, params_filename=params)
            finally:
                quiet.setLevel(level)
            block = prog.global_block()
            p = _Params(block, scope)
            scales = _mul_add_to_scale(block, p)
            if not scales:
                return None
            convs = _scale_into_conv(block, p) + _scale_into_dequant(block, p)
            feed_vars = [block.var(n) for n in feeds]
            return Folded(paddle.static.serialize_program(feed_vars, fetches, program=prog),
                          paddle.static.serialize_persistables(feed_vars, fetches, exe, program=prog), scales, convs)
