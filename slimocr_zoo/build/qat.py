"""qat: quantization-aware training by distillation from the float parent (no labels needed).

The float parent is the teacher; the student is the same program with PaddleSlim's fake-quant
ops (channel-wise abs-max weights; activations quantized with scales calibrated first by
post-training quantization, ``algo=hist``, then held fixed); the student's weights learn, by
gradient through the fake-quant ops, to give the teacher's output under quantization. The loss
is the mean squared difference of the two probability maps on augmented crops of the
calibration images.

Measured here (PaddleSlim's auto-compression out of the box destroys the detector): moving
abs-max activation scales fitted on a few batches are far worse than hist-calibrated ones, so
the scales come from PTQ and stay; batch norm runs on its running statistics (``use_global_stats``)
as it does at inference, so small batches do not shift it.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from ..errors import BuildError

VERSION = 1
log = logging.getLogger("slimocr_zoo")

DEFAULTS = {"iterations": 300, "batch": 4, "crop": 640, "learning_rate": 1e-5, "seed": 0,
            "quantizable_op_type": ["conv2d", "depthwise_conv2d"], "hist_percent": 0.9999}


def _augmented(arrays_hw, crop: int, batch: int, rng, spec):
    """A batch of random scaled crops (and flips) of the images, normalized as the model expects."""
    import cv2
    import numpy as np

    from ..ocr.det import normalize

    out = []
    for _ in range(batch):
        img = arrays_hw[rng.integers(len(arrays_hw))]
        s = rng.uniform(0.5, 1.5) * crop / max(img.shape[:2])
        h, w = max(int(img.shape[0] * s), 32), max(int(img.shape[1] * s), 32)
        img = cv2.resize(img, (w, h))
        canvas = np.zeros((max(h, crop), max(w, crop), 3), np.uint8)
        canvas[:h, :w] = img
        y, x = rng.integers(canvas.shape[0] - crop + 1), rng.integers(canvas.shape[1] - crop + 1)
        patch = canvas[y:y + crop, x:x + crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        out.append(normalize(np.ascontiguousarray(patch), spec)[0])
    return np.stack(out)


def _trainable(program, block, paddle):
    """Inference programs hold weights as plain variables: make them parameters again, except the
    batch-norm statistics, which stay what the float model learned."""
    from paddle.base.framework import Parameter

    stats = {n for op in block.ops if op.type == "batch_norm" for slot in ("Mean", "Variance") for n in op.input(slot)}
    made = []
    for name, var in list(block.vars.items()):
        if not var.persistable or name in ("feed", "fetch") or var.dtype != paddle.float32 or name in stats:
            continue
        p = Parameter(block, shape=var.shape, dtype=var.dtype, name=name, trainable=True)
        block.vars[name] = p
        made.append(name)
    for op in block.ops:
        if op.type == "batch_norm":
            op._set_attr("is_test", False)
            op._set_attr("use_global_stats", True)  # running statistics, as at inference
        elif op.type == "conv2d_transpose" and not op.has_attr("output_padding"):
            op._set_attr("output_padding", [])  # a paddle 1.x export lacks it; its backward needs it
    return made


def build(parent, art, recipe, staging: Path, calib, quiet=False):
    from ..runtime.libs import import_paddle
    from . import quant

    if parent.entry.task != "det":
        raise BuildError(f"{art.key}: the qat recipe distills a detector's probability map; {parent.id} is "
                         f"a {parent.entry.task} model")
    if calib is None:
        raise BuildError(f"{art.key}: qat needs a calibration set in its recipe")
    cfg = {**DEFAULTS, **recipe}
    paddle = import_paddle()
    try:
        from paddleslim.quant import convert, quant_aware
    except ImportError:
        raise BuildError("qat needs paddleslim: pip install 'slimocr-zoo[build]'") from None
    import numpy as np
    from tqdm.auto import tqdm

    from ..ocr.image import read_image

    # 1. activation scales by post-training quantization (hist), on the same images
    ptq_recipe = {"algo": "hist", "hist_percent": cfg["hist_percent"],
                  "quantizable_op_type": cfg["quantizable_op_type"]}
    ptq = quant.build(parent, art, ptq_recipe, staging / "ptq", calib, quiet=quiet)
    prog_file, params_file = parent.program_files()
    spec = parent.entry.input
    images = [read_image(p) for p in calib.items]
    rng = np.random.default_rng(cfg["seed"])
    qcfg = {"weight_quantize_type": "channel_wise_abs_max", "activation_quantize_type": "moving_average_abs_max",
            "quantize_op_types": cfg["quantizable_op_type"], "onnx_format": False}

    paddle.enable_static()
    try:
        place = paddle.CPUPlace()
        exe = paddle.static.Executor(place)
        teacher_scope, scope, ptq_scope = paddle.static.Scope(), paddle.static.Scope(), paddle.static.Scope()
        with paddle.static.scope_guard(teacher_scope):
            teacher, t_feeds, t_fetches = paddle.static.load_inference_model(
                str(prog_file.parent), exe, model_filename=prog_file.name, params_filename=params_file.name)
        with paddle.static.scope_guard(ptq_scope):
            ptq_prog, _, _ = paddle.static.load_inference_model(
                str(ptq["inference.pdmodel"].parent), exe, model_filename="inference.pdmodel",
                params_filename="inference.pdiparams")
        with paddle.static.scope_guard(scope):
            program, feeds, fetches = paddle.static.load_inference_model(
                str(prog_file.parent), exe, model_filename=prog_file.name, params_filename=params_file.name)
            block = program.global_block()
            for i in reversed(range(len(block.ops))):  # training runs the graph, not its feed/fetch plumbing
                if block.ops[i].type in ("feed", "fetch"):
                    block._remove_op(i)
            startup = paddle.static.Program()
            with paddle.static.program_guard(program, startup):
                _trainable(program, block, paddle)
                out = block.var(fetches[0].name)
                test_program = program.clone(for_test=True)
                target = paddle.static.data("teacher_map", shape=[-1, out.shape[1], -1, -1], dtype="float32")
                loss = paddle.mean(paddle.square(out - target))
                opt = paddle.optimizer.Adam(learning_rate=cfg["learning_rate"])
                opt.minimize(loss)
            kept = {n: np.array(scope.find_var(n).get_tensor()) for n in block.vars
                    if block.vars[n].persistable and scope.find_var(n) is not None and n not in ("feed", "fetch")}
            exe.run(startup)  # the optimizer's state; it would also re-initialize the weights: put them back
            for n, v in kept.items():
                scope.find_var(n).get_tensor().set(v, place)
            train = _fixed_activation_scales(quant_aware(program, place, qcfg, scope=scope, for_test=False,
                                                         return_program=True))
            test = _fixed_activation_scales(quant_aware(test_program, place, qcfg, scope=scope, for_test=True))
            copied = _copy_scales(ptq_prog, ptq_scope, scope, place)
            if not copied:
                raise BuildError(f"{art.key}: no activation scale of the PTQ model matches the student's")
            x_name = feeds[0]
            losses, t0 = [], time.perf_counter()
            bar = tqdm(range(cfg["iterations"]), desc=f"qat {art.model_id}", disable=True if quiet else None,
                       leave=False)
            for it in bar:
                x = _augmented(images, cfg["crop"], cfg["batch"], rng, spec)
                with paddle.static.scope_guard(teacher_scope):
                    t = exe.run(teacher, feed={t_feeds[0]: x}, fetch_list=t_fetches)[0]
                (lv,) = exe.run(train, feed={x_name: x, "teacher_map": t}, fetch_list=[loss.name])
                losses.append(float(np.asarray(lv).reshape(-1)[0]))
                bar.set_postfix(loss=f"{losses[-1]:.2e}")
            seconds = time.perf_counter() - t0
            # one run of the test program computes its weights' scales, which the freeze pass reads
            x = _augmented(images, cfg["crop"], 1, rng, spec)
            with paddle.static.scope_guard(teacher_scope):
                t = exe.run(teacher, feed={t_feeds[0]: x}, fetch_list=t_fetches)[0]
            s = exe.run(test, feed={x_name: x}, fetch_list=[out.name])[0]
            held_out = float(np.mean((s - t) ** 2))
            frozen = convert(test, place, qcfg, scope=scope)
            fblock = frozen.global_block()
            paddle.static.save_inference_model(str(staging / "inference"), [fblock.var(x_name)],
                                               [fblock.var(fetches[0].name)], exe, program=frozen)
    finally:
        paddle.disable_static()
    import json

    tenth = max(1, len(losses) // 10)  # the loss curve in ten means: noisy per batch, clear in tenths
    curve = [float(np.mean(losses[i:i + tenth])) for i in range(0, len(losses), tenth)]
    (staging / "qat.json").write_text(json.dumps({
        "iterations": cfg["iterations"], "seconds": round(seconds, 1), "seconds_per_iteration":
        round(seconds / len(losses), 2) if losses else None, "scales_from_ptq": copied,
        "check_batch_mse": held_out, "loss_by_tenth": curve}, indent=1))
    log.info("qat %s: %d iterations in %.0f s, loss by tenth %s", art.key, cfg["iterations"], seconds,
             " ".join(f"{v:.3g}" for v in curve))
    out = {"inference.pdmodel": staging / "inference.pdmodel", "inference.pdiparams": staging / "inference.pdiparams"}
    if any(f.name == "qat.json" for f in art.files):
        out["qat.json"] = staging / "qat.json"
    return out


def _fixed_activation_scales(program):
    """Activations keep the scales they are given (is_test: the op reads its scale, never updates it);
    weights get theirs from the weights at every run (not is_test: an is_test weight op reads a stored
    scale, which nothing else would keep up to date)."""
    for op in program.global_block().ops:
        if op.type.startswith("fake_") and op.has_attr("is_test"):
            op._set_attr("is_test", "channel_wise" not in op.type)
    return program


def _copy_scales(ptq_prog, ptq_scope, scope, place) -> int:
    """The PTQ model's activation scales (``X@scale``) into the student's variables of the same name."""
    import numpy as np

    n = 0
    for var in ptq_prog.list_vars():
        if not var.persistable or not var.name.endswith("@scale"):
            continue
        src, dst = ptq_scope.find_var(var.name), scope.find_var(var.name)
        if src is None or dst is None:
            continue
        dst.get_tensor().set(np.array(src.get_tensor()), place)
        n += 1
    return n
