"""opt: a paddle model -> a Paddle Lite ``.nb`` for a target (arm for the phone, x86 here),
optionally with opt's weight-only quantization (QUANT_INT8 / QUANT_INT16); ``lite_program``: a
program without the attributes only paddle's oneDNN and cuDNN kernels, or paddle's own bookkeeping, read.

opt runs in a child process: it prints from C++ and aborts the process on models it cannot read.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .. import cache
from ..errors import BuildError
from ..files import sha256_of
from .libs import lite_version
from .nbfile import check_program

_CODE = """
import sys, paddlelite.lite as l
prog, params, target, out, quant = sys.argv[1:6]
o = l.Opt()
o.set_model_file(prog)
o.set_param_file(params)
o.set_valid_places(target)
o.set_model_type("naive_buffer")
if quant:
    o.set_quant_model(True)
    o.set_quant_type(quant)
o.set_optimize_out(out)
o.run()
"""

# Attributes only paddle's oneDNN and cuDNN kernels read. A paddle 1.x export, and a program saved with
# clip_extra=False (as distill saves, to keep what opt needs, e.g. swish's beta), carry them on every op;
# Paddle Lite reads none, and opt copies them into the .nb (SlimTextDet: 63 KB of 0.94 MB).
_BACKEND_NAMES = frozenset({"exhaustive_search", "workspace_size_MB", "force_fp32_output", "use_addto",
                            "fuse_relu_before_depthwise_conv", "fuse_residual_connection", "fuse_activation",
                            "fuse_alpha", "fuse_beta", "fuse_relu", "fuse_with_relu"})
# Paddle's bookkeeping on every op (where it was made, its role in training): paddle's own passes ignore
# them when comparing ops (fusion_group's ignore_attr list). A program saved with clip_extra=False keeps
# op_callstack's Python tracebacks (244 KB on SlimTextDet_pruning); opt copied the others into the .nb
# (18 KB of its 1.29 MB).
_BOOKKEEPING = frozenset({"op_callstack", "op_device", "op_namescope", "op_role", "op_role_var",
                          "with_quant_attr"})
_VALUE_FIELDS = {0: "i", 1: "f", 2: "s", 3: "ints", 4: "floats", 5: "strings", 6: "b", 7: "bools", 9: "l"}


def _droppable(attr, extra: dict) -> bool:
    """Paddle's bookkeeping, or an extra attribute of its op that only oneDNN/cuDNN read, at paddle's
    default. ``is_test`` at any value: where it is extra (convs, pools, softmax) only those kernels read
    it; where it means something (batch_norm, dropout) paddle registers it as a real attribute, and it
    stays."""
    name = attr.name
    if name in _BOOKKEEPING:
        return True
    if name not in extra:
        return False
    if name == "is_test":
        return True
    backend = (name in _BACKEND_NAMES or name.startswith("Scale_")
               or any(k in name for k in ("mkldnn", "cudnn", "quantizer")))
    return backend and _value(attr) == extra[name]


def _value(attr):
    field = _VALUE_FIELDS.get(attr.type)
    if field is None:
        return attr  # a type none of those attributes has: never equal to a default
    v = getattr(attr, field)
    return list(v) if field.endswith("s") and field != "s" else v


def lite_program(prog: Path, out: Path) -> int:
    """Write ``prog`` to ``out`` without paddle's bookkeeping attributes and without the oneDNN/cuDNN
    attributes (those paddle registers as the op's extra attributes) that hold paddle's default; every
    other attribute, op and variable is kept as it was. Returns how many were dropped. Needs paddle
    (its program format)."""
    from .libs import import_paddle

    import_paddle()
    from paddle.base import core
    from paddle.base.proto import framework_pb2

    desc = framework_pb2.ProgramDesc()
    desc.ParseFromString(Path(prog).read_bytes())
    dropped, defaults = 0, {}
    for block in desc.blocks:
        for op in block.ops:
            if op.type not in defaults:
                try:
                    defaults[op.type] = core.get_op_extra_attrs(op.type)
                except Exception:  # an op this paddle does not register: leave it whole
                    defaults[op.type] = {}
            keep = [a for a in op.attrs if not _droppable(a, defaults[op.type])]
            dropped += len(op.attrs) - len(keep)
            del op.attrs[:]
            op.attrs.extend(keep)
    Path(out).write_bytes(desc.SerializeToString())
    return dropped


VERSION_FIELD = slice(2, 18)  # uint16 2, then the opt version in a 16-byte char field


def convert(prog: Path, params: Path, target: str, out_stem: Path, quant_type: str = "") -> Path:
    """Run opt; returns ``out_stem.nb`` with a reproducible header."""
    check_program(prog)
    r = subprocess.run([sys.executable, "-c", _CODE, str(prog), str(params), target, str(out_stem), quant_type],
                       capture_output=True, text=True)
    made = out_stem.with_name(out_stem.name + ".nb")
    if r.returncode != 0 or not made.is_file():
        tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        hint = ""
        if "conv2d_transpose" in (r.stderr + r.stdout) and target == "x86":
            hint = " (an int8 conv2d_transpose has no x86 kernel: quantize conv2d/depthwise_conv2d/mul only)"
        raise BuildError(f"paddle_lite_opt --valid_targets={target} failed on {prog} (exit {r.returncode}){hint}: {tail}")
    normalize_header(made)
    return made


def normalize_header(path: Path) -> None:
    """Zero the bytes after the version string's NUL in the header.

    opt 2.13 leaves uninitialized stack bytes there (seen here: 3 bytes differ between two
    conversions of the same model, nothing else); zeroing them makes builds reproducible
    byte for byte, and the reader stops at the NUL anyway.
    """
    with open(path, "r+b") as f:
        head = bytearray(f.read(VERSION_FIELD.stop))
        end = head.index(0, VERSION_FIELD.start)
        head[end:VERSION_FIELD.stop] = bytes(VERSION_FIELD.stop - end)
        f.seek(0)
        f.write(head)


def x86_nb(loaded) -> Path:
    """A paddle artifact converted to an x86 ``.nb`` by this paddlelite's opt; cached by sha256."""
    prog, params = loaded.program_files()
    check_program(prog)
    digest = sha256_of(params)[:16]
    out = cache.home() / "built" / "nb-x86" / f"{loaded.id}-{digest}-{lite_version()}" / "model.nb"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with cache.lock(str(out)):
        if not out.is_file():
            made = convert(prog, params, "x86", out.with_name(f"tmp{os.getpid()}"))
            os.replace(made, out)
    return out
