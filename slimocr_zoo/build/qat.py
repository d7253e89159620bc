"""qat: quantization-aware training by distillation from a float teacher (the parent, unless the
recipe names another), no labels needed: post-training quantization (hist) on the calibration
images gives the activation scales, then the student's weights learn under fake quantization to
give the teacher's map (distill.train). At 0 iterations the result is the PTQ model itself."""
from __future__ import annotations

from pathlib import Path

from ..settings import train_device
from . import distill, quant

VERSION = 1


def build(parent, art, recipe, staging: Path, calib, quiet=False, teacher=None):
    train_device()  # a wrong SLIMOCR_ZOO_TRAIN_DEVICE says so before minutes of calibration
    cfg = {**distill.DEFAULTS, **recipe}
    distill.check_options(cfg, parent.entry.task, art)  # before calibration
    ptq_recipe = {k: cfg[k] for k in ("algo", "hist_percent", "quantizable_op_type", "skip")}
    ptq = quant.build(parent, art, ptq_recipe, staging / "ptq", calib, quiet=quiet)
    distill.train(parent, teacher or parent, art, staging, calib, cfg, quiet=quiet, ptq=ptq)
    return distill.outputs(art, staging, "qat")
