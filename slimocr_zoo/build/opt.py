"""opt recipe: a paddle parent -> a Paddle Lite ``.nb`` for the artifact's target (runtime/opt.py does
the conversion; this module is the recipe around it). The parent's program goes to opt without the
attributes only paddle's oneDNN/cuDNN kernels or paddle's bookkeeping read (runtime/opt.py's
lite_program): a smaller .nb, the same model."""
from __future__ import annotations

from pathlib import Path

from ..runtime.opt import convert, lite_program

# 2: header bytes after the version are zeroed; 3: oneDNN/cuDNN attributes dropped; 4: paddle's bookkeeping too
VERSION = 4


def build(parent, art, recipe, staging: Path, calib, quiet=False):
    prog, params = parent.program_files()
    lean = staging / "program.pdmodel"
    lite_program(prog, lean)
    made = convert(lean, params, recipe.get("target", art.target), staging / "model", recipe.get("quant_type", ""))
    (name,) = [f.name for f in art.files]
    return {name: made}
