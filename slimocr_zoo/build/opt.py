"""opt recipe: a paddle parent -> a Paddle Lite ``.nb`` for the artifact's target (runtime/opt.py does
the conversion; this module is the recipe around it)."""
from __future__ import annotations

from pathlib import Path

from ..runtime.opt import convert

VERSION = 2  # 2: header bytes after the version are zeroed


def build(parent, art, recipe, staging: Path, calib, quiet=False):
    prog, params = parent.program_files()
    made = convert(prog, params, recipe.get("target", art.target), staging / "model", recipe.get("quant_type", ""))
    (name,) = [f.name for f in art.files]
    return {name: made}
