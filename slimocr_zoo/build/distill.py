"""distill: fine-tune a model by distillation from a teacher (no labels needed), and the training
loop the qat recipe shares.

A detector learns to give the teacher's probability map (mean squared difference) on augmented
crops of the calibration images: random scale, crop, flip (``augment: false``: the images
themselves, pre-processed as at inference, one a step; ``"strong"``: also rotation, colour
jitter, blur and mixup, which need no labels since the teacher sees the same image). A recognizer
learns the teacher's character distribution at every CTC time step (KL divergence, so the
blank-dominated steps do not drown the characters) on word crops, jittered at their edges. ``features`` adds intermediate maps
the student shares with its teacher (e.g. a pruned recognizer's neck output), each a squared error
relative to the teacher's mean square: far more to learn from each of a few hundred crops. Batch
norm runs on its running statistics (``use_global_stats``), as at inference, so small batches do
not shift it. With
``ptq`` the student carries PaddleSlim's fake-quant ops (quantization-aware training): weights
channel-wise abs-max at every step, activations at the scales of the post-training quantized
model, held fixed (moving abs-max scales fitted on a few batches were what broke PaddleSlim's
auto-compression here).
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Optional

from ..errors import BuildError
from ..logs import console
from . import interrupt

VERSION = 1
log = logging.getLogger("slimocr_zoo")

DEFAULTS = {"iterations": 300, "batch": 4, "crop": 640, "learning_rate": 1e-5, "seed": 0, "augment": True,
            "quantizable_op_type": ["conv2d", "depthwise_conv2d"], "algo": "hist", "hist_percent": 0.9999,
            "skip": [], "loss": "mse", "schedule": "constant", "rec_width": "fixed", "det_scale": None, "ema": None,
            "select_every": None, "features": [], "feature_weight": 1.0}
QUANT = {"weight_quantize_type": "channel_wise_abs_max", "activation_quantize_type": "moving_average_abs_max",
         "onnx_format": False}


def _crop(arrays_hw, crop: int, rng, spec, scale):
    import cv2
    import numpy as np

    from ..ocr.det import det_ratio

    img = arrays_hw[rng.integers(len(arrays_hw))]
    if scale:
        s = rng.uniform(*scale) * det_ratio(img.shape[:2], spec)
    else:
        s = rng.uniform(0.5, 1.5) * crop / max(img.shape[:2])
    h, w = max(int(img.shape[0] * s), 32), max(int(img.shape[1] * s), 32)
    img = cv2.resize(img, (w, h))
    canvas = np.zeros((max(h, crop), max(w, crop), 3), np.uint8)
    canvas[:h, :w] = img
    y, x = rng.integers(canvas.shape[0] - crop + 1), rng.integers(canvas.shape[1] - crop + 1)
    patch = canvas[y:y + crop, x:x + crop]
    return np.ascontiguousarray(patch[:, ::-1] if rng.random() < 0.5 else patch)


def _strong(patch, other, rng):
    """Beyond crops and flips, for a student that only has to match its teacher (no labels to keep
    true): a small rotation, colour and contrast jitter, sometimes a blur, and half the time a blend
    with another crop (mixup). The teacher sees the same image, so any image is a valid lesson, and
    these give a few hundred crops of 100 images more variety than crops alone."""
    import cv2
    import numpy as np

    h, w = patch.shape[:2]
    if rng.random() < 0.5:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-10, 10), 1.0)
        patch = cv2.warpAffine(patch, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    x = patch.astype(np.float32)
    gray = x.mean(axis=2, keepdims=True)
    x = gray + (x - gray) * rng.uniform(0.6, 1.4)             # saturation
    x = x.mean() + (x - x.mean()) * rng.uniform(0.7, 1.3)     # contrast
    x = x * rng.uniform(0.7, 1.3)                             # brightness
    if rng.random() < 0.2:
        x = cv2.GaussianBlur(x, (5, 5), 0)
    if rng.random() < 0.5:
        lam = rng.uniform(0.3, 0.7)
        x = lam * x + (1 - lam) * other.astype(np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)


def _augmented(arrays_hw, crop: int, batch: int, rng, spec, scale=None, strong=False):
    """A batch of random scaled crops (and flips) of the images, normalized as the model expects.
    ``scale``: None, each image scaled by 0.5-1.5 x crop / its longest side (most of them smaller than
    the detector sees them); [lo, hi], by lo-hi x the scale the pipeline gives it (DB resize).
    ``strong``: each crop also goes through ``_strong``."""
    import numpy as np

    from ..ocr.det import normalize

    out = []
    for _ in range(batch):
        patch = _crop(arrays_hw, crop, rng, spec, scale)
        if strong:
            patch = _strong(patch, _crop(arrays_hw, crop, rng, spec, scale), rng)
        out.append(normalize(patch, spec)[0])
    return np.stack(out)


def _jittered_crops(crops, batch: int, rng, spec, width: str = "fixed"):
    """A batch of word crops with their edges moved by a few pixels. ``width``: "fixed" resizes each
    into the spec's width (a wide word is squeezed); "batch" pads the batch to its widest crop, each
    at its own aspect ratio, as the pipeline batches them at inference."""
    import numpy as np

    from ..ocr.rec import batch_width, resize_norm

    picked = []
    for _ in range(batch):
        c = crops[rng.integers(len(crops))]
        h, w = c.shape[:2]
        t, b = rng.integers(0, max(h // 10, 1) + 1, 2)
        left, right = rng.integers(0, max(w // 25, 1) + 1, 2)
        picked.append(c[t:max(h - b, t + 8), left:max(w - right, left + 8)])
    wide = batch_width(picked, spec, 32) if width == "batch" else spec["width"]  # 32: fewer shapes to train on
    return np.stack([resize_norm(c, spec, wide) for c in picked])


def _batch(task, images, cfg, rng, spec, n):
    return (_augmented(images, cfg["crop"], n, rng, spec, cfg["det_scale"], cfg["augment"] == "strong") if task == "det"
            else _jittered_crops(images, n, rng, spec, cfg["rec_width"]))


def _loss(paddle, task, out, target, kind="mse", thresh=0.3):
    if task == "det":
        if kind == "db":  # as DB trains its map, on the teacher's binarized at the post-process threshold and
            eps = 1e-6    # dilated (PaddleOCR's DistillationDilaDBLoss): balanced BCE + dice, which weighs a small
            label = paddle.nn.functional.max_pool2d(  # box like a large one where squared error weighs pixels
                paddle.cast(target > thresh, "float32"), kernel_size=3, stride=1, padding=1)
            s = paddle.clip(out, eps, 1.0 - eps)
            bce = -(label * paddle.log(s) + (1.0 - label) * paddle.log(1.0 - s))
            pos = paddle.sum(label * bce) / (paddle.sum(label) + 1.0)
            neg = paddle.sum((1.0 - label) * bce) / (paddle.sum(1.0 - label) + 1.0)
            dice = 1.0 - 2.0 * paddle.sum(out * label) / (paddle.sum(out) + paddle.sum(label) + eps)
            return pos + neg + dice
        if kind == "bce":  # KL between per-pixel Bernoullis (DB trains its map by BCE): 0 at a match, and its
            eps = 1e-6     # gradient at the logit is student - teacher, where squared error's fades near 0 and 1
            s = paddle.clip(out, eps, 1.0 - eps)
            return paddle.mean(target * (paddle.log(target + eps) - paddle.log(s))
                               + (1.0 - target) * (paddle.log(1.0 - target + eps) - paddle.log(1.0 - s)))
        err = paddle.square(out - target)
        if kind == "boundary":  # where the map crosses the binarization threshold, an error moves a box edge
            err = err * (1.0 + 36.0 * target * (1.0 - target))  # weight 1 far from it, up to 10 at p = 0.5
        return paddle.mean(err)
    eps = 1e-7  # KL(teacher || student) per time step, summed over the classes
    kl = paddle.sum(target * (paddle.log(target + eps) - paddle.log(out + eps)), axis=-1)
    return paddle.mean(kl)


def _trainable(block, paddle, feeds):
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
    for name, var in block.vars.items():  # a paddle 2.x export marks every variable stop_gradient
        if name not in feeds and name not in stats and not (var.persistable and name not in made):
            var.stop_gradient = False
    for op in block.ops:
        if op.type == "batch_norm":
            op._set_attr("is_test", False)
            op._set_attr("use_global_stats", True)  # running statistics, as at inference
        elif op.type == "conv2d_transpose" and not op.has_attr("output_padding"):
            op._set_attr("output_padding", [])  # a paddle 1.x export lacks it; its backward needs it
    return made


def _learning_rate(paddle, cfg):
    """constant, or cosine: decays to 0 over the iterations, so the last steps settle instead of
    leaving the weights wherever a full-size step put them."""
    if cfg["schedule"] == "constant":
        return cfg["learning_rate"]
    if cfg["schedule"] == "cosine":
        return paddle.optimizer.lr.CosineAnnealingDecay(cfg["learning_rate"], T_max=max(cfg["iterations"], 1))
    raise BuildError(f"recipe schedule {cfg['schedule']!r}: use constant or cosine")


def _tenth_line(kind, art, done: int, total: int, losses, seconds: float) -> None:
    step = max(total // 10, 1)
    if done % step and done != total:
        return
    left = seconds / done * (total - done)
    print(f"{kind} {art.model_id}: {done}/{total} iterations, loss {sum(losses[-step:]) / len(losses[-step:]):.2e}, "
          f"{seconds / done:.1f} s/iteration, about {left / 60:.0f} min left", file=console(), flush=True)


def _keep_float(block, weights) -> None:
    """Ops reading one of ``weights`` stay float: PaddleSlim skips ops in the ``skip_quant`` name scope
    (the same mark quant_post's skip_tensor_list sets)."""
    for op in block.ops:
        if set(op.input_arg_names) & set(weights):
            op._set_attr("op_namescope", "/skip_quant/")


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


def _det_metrics(exe, program, x_name, out_name, images, labels, spec, post_spec) -> dict:
    """The training student's hmean on the calibration images (their labels are used for this choice
    only): each image as at inference, through the program being trained (fake-quant ops and all)."""
    from ..metrics import det_image_counts, det_metrics
    from ..ocr.det import postprocess, preprocess

    counts = []
    for img, gt in zip(images, labels):
        x, _ = preprocess(img, spec)
        prob = exe.run(program, feed={x_name: x}, fetch_list=[out_name])[0][0, 0]
        boxes, _ = postprocess(prob, img.shape[:2], post_spec)
        counts.append(det_image_counts(gt, boxes))
    return det_metrics(counts)


class _Average:
    """An exponential moving average of the trained weights (``ema``: its decay, e.g. 0.99: about the
    last 100 steps). Each step's weights carry the noise of one small batch of crops; their average
    carries less. Early steps weigh more (decay min(ema, (1 + t) / (10 + t))), so the start is not
    the float parent's weights."""

    def __init__(self, scope, names, decay: float, place):
        import numpy as np

        self.scope, self.decay, self.place, self.t = scope, float(decay), place, 0
        self.avg = {n: np.array(scope.find_var(n).get_tensor(), dtype=np.float64) for n in names
                    if scope.find_var(n) is not None}

    def update(self) -> None:
        import numpy as np

        d = min(self.decay, (1 + self.t) / (10 + self.t))
        self.t += 1
        for n, a in self.avg.items():
            a *= d
            a += (1 - d) * np.array(self.scope.find_var(n).get_tensor())

    def install(self) -> None:
        import numpy as np

        for n, a in self.avg.items():
            self.scope.find_var(n).get_tensor().set(a.astype(np.float32), self.place)


def _features(block, t_block, names, art) -> list:
    """The student's variables named in ``features``, each also in the teacher, of the same shape."""
    out = []
    for n in names:
        if not block.has_var(n) or not t_block.has_var(n):
            raise BuildError(f"{art.key}: feature {n!r} is not a variable of both the student and the teacher")
        if list(block.var(n).shape) != list(t_block.var(n).shape):
            raise BuildError(f"{art.key}: feature {n!r} has shape {block.var(n).shape} in the student and "
                             f"{t_block.var(n).shape} in the teacher: give one that pruning left whole")
        out.append(block.var(n))
    return out


def _place(paddle):
    """A GPU when asked or, by default, when this paddle has CUDA and sees one; else the CPU."""
    from ..settings import train_device

    want = train_device()
    has_gpu = paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
    if want == "gpu" and not has_gpu:
        raise BuildError("SLIMOCR_ZOO_TRAIN_DEVICE=gpu, but this paddle has no CUDA or sees no GPU "
                         "(pip install paddlepaddle-gpu, or unset it to train on the CPU)")
    return paddle.CUDAPlace(0) if has_gpu and want != "cpu" else paddle.CPUPlace()


def _load(paddle, exe, files):
    prog, params = files
    return paddle.static.load_inference_model(str(prog.parent), exe, model_filename=prog.name,
                                              params_filename=params.name)


def check_options(cfg: dict, task: str, art) -> None:
    """Options that cannot go together, said before any minute of work."""
    if cfg["select_every"] and task != "det":
        raise BuildError(f"{art.key}: select_every scores detectors (hmean on the calibration images); "
                         f"leave it out for a {task} model")
    if cfg["augment"] == "strong" and task != "det":
        raise BuildError(f"{art.key}: augment \"strong\" (rotation, colour, mixup) is for detectors' crops; "
                         f"give true for a {task} model")
    if cfg["select_every"] and cfg["ema"]:
        raise BuildError(f"{art.key}: give one of ema and select_every: the checkpoint chosen is not an average")


def train(student, teacher, art, staging: Path, calib, cfg: dict, quiet: bool = False,
          ptq: Optional[dict] = None) -> dict:
    """Train ``student`` (a loaded paddle artifact) towards ``teacher``'s map; save the result as
    ``staging/inference.pdmodel|.pdiparams`` (quantized when ``ptq``, the PTQ model's files, is
    given) and ``staging/<kind>.json`` (the loss curve). Returns that log."""
    from ..runtime.libs import import_paddle

    task = student.entry.task
    if task not in ("det", "rec"):
        raise BuildError(f"{art.key}: distillation here trains detectors and recognizers; {student.id} is "
                         f"a {task} model")
    if calib is None:
        raise BuildError(f"{art.key}: {art.recipe['type']} needs a calibration set in its recipe")
    check_options(cfg, task, art)
    every = cfg["select_every"]
    paddle = import_paddle()
    try:
        from paddleslim.quant import convert, quant_aware
    except ImportError:
        raise BuildError(f"{art.recipe['type']} needs paddleslim: pip install 'slimocr-zoo[build]'") from None
    import numpy as np
    from tqdm.auto import tqdm

    from ..ocr.image import read_image

    spec = student.entry.input
    images = [read_image(p) for p in calib.items]
    fixed = list(calib.arrays(spec, task)) if not cfg["augment"] else []  # as the model sees them, one a batch
    rng = np.random.default_rng(cfg["seed"])
    qcfg = {**QUANT, "quantize_op_types": cfg["quantizable_op_type"]}
    kind = "qat" if ptq else "distill"
    copied = 0
    paddle.enable_static()
    try:
        place = _place(paddle)
        exe = paddle.static.Executor(place)
        teacher_scope, scope = paddle.static.Scope(), paddle.static.Scope()
        with paddle.static.scope_guard(teacher_scope):
            t_prog, t_feeds, t_fetches = _load(paddle, exe, teacher.program_files())
        with paddle.static.scope_guard(scope):
            program, feeds, fetches = _load(paddle, exe, student.program_files())
            block = program.global_block()
            for i in reversed(range(len(block.ops))):  # training runs the graph, not its feed/fetch plumbing
                if block.ops[i].type in ("feed", "fetch"):
                    block._remove_op(i)
            _keep_float(block, cfg["skip"])
            startup = paddle.static.Program()
            # the loss's and the optimizer's variables under names of their own: paddle's generator starts
            # again at tmp_0 in each process, and an exported program has its own tmp_0, tmp_1... (PP-OCRv4):
            # sharing a name, the loss overwrote the model's activations (NaN gradients, SIGSEGV)
            with paddle.static.program_guard(program, startup), paddle.utils.unique_name.guard("distill_"):
                made = _trainable(block, paddle, set(feeds))
                out = block.var(fetches[0].name)
                test = program.clone(for_test=True)
                target = paddle.static.data("teacher_map", shape=[-1] * len(out.shape), dtype="float32")
                loss = _loss(paddle, task, out, target, cfg["loss"], student.entry.postprocess.get("thresh", 0.3))
                feats = _features(block, t_prog.global_block(), cfg["features"], art)
                for i, f in enumerate(feats):  # intermediate maps too: more to learn from each of few crops
                    t = paddle.static.data(f"teacher_feature_{i}", shape=[-1] * len(f.shape), dtype="float32")
                    loss = loss + cfg["feature_weight"] * paddle.mean(paddle.square(f - t)) / (
                        paddle.mean(paddle.square(t)) + 1e-6)
                lr = _learning_rate(paddle, cfg)
                paddle.optimizer.Adam(learning_rate=lr).minimize(loss)
            kept = {n: np.array(scope.find_var(n).get_tensor()) for n in block.vars
                    if block.vars[n].persistable and scope.find_var(n) is not None and n not in ("feed", "fetch")}
            exe.run(startup)  # the optimizer's state; it would also re-initialize the weights: put them back
            for n, v in kept.items():
                scope.find_var(n).get_tensor().set(v, place)
            run_prog = program
            if ptq:
                run_prog = _fixed_activation_scales(quant_aware(program, place, qcfg, scope=scope, for_test=False,
                                                                return_program=True))
                test = _fixed_activation_scales(quant_aware(test, place, qcfg, scope=scope, for_test=True))
                ptq_scope = paddle.static.Scope()
                with paddle.static.scope_guard(ptq_scope):
                    ptq_prog, _, _ = _load(paddle, exe, (ptq["inference.pdmodel"], ptq["inference.pdiparams"]))
                copied = _copy_scales(ptq_prog, ptq_scope, scope, place)
                if not copied:
                    raise BuildError(f"{art.key}: no activation scale of the PTQ model matches the student's")
            x_name = feeds[0]

            def teacher_outputs(x):
                with paddle.static.scope_guard(teacher_scope):
                    return exe.run(t_prog, feed={t_feeds[0]: x}, fetch_list=list(t_fetches) + [f.name for f in feats])

            def teacher_map(x):
                return teacher_outputs(x)[0]

            def targets(x):
                outs = teacher_outputs(x)
                return {"teacher_map": outs[0], **{f"teacher_feature_{i}": v for i, v in enumerate(outs[1:])}}

            sched = None if isinstance(lr, (int, float)) else lr
            if sched is not None:  # the executor feeds the rate from the program it runs: the quantized one too
                run_prog.lr_scheduler = sched
            ema = _Average(scope, made, cfg["ema"], place) if cfg["ema"] else None
            picks, best = [], None  # each checkpoint's scores; (hmean, iteration, weights) of the best

            def score():
                return _det_metrics(exe, test, x_name, out.name, images, calib.labels, spec, student.entry.postprocess)
            losses, t0 = [], time.perf_counter()
            bar = tqdm(range(cfg["iterations"]), desc=f"{kind} {art.model_id}", disable=True if quiet else None,
                       leave=False, file=console())
            for it in bar:
                interrupt.check()  # a Ctrl-C swallowed before (PaddleSlim's rewriting of the program)
                x = _batch(task, images, cfg, rng, spec, cfg["batch"]) if cfg["augment"] else fixed[it % len(fixed)]
                (lv,) = exe.run(run_prog, feed={x_name: x, **targets(x)}, fetch_list=[loss.name])
                losses.append(float(np.asarray(lv).reshape(-1)[0]))
                if ema is not None:
                    ema.update()
                if sched is not None:
                    sched.step()
                bar.set_postfix(loss=f"{losses[-1]:.2e}")
                if every and ((it + 1) % every == 0 or it + 1 == cfg["iterations"]):
                    picks.append({"iteration": it + 1, **{k: v for k, v in score().items() if k != "precision"}})
                    if best is None or picks[-1]["hmean"] >= best[0]:  # a tie: the later step
                        best = (picks[-1]["hmean"], it + 1, {n: np.array(scope.find_var(n).get_tensor()) for n in made})
                    log.info("%s %s: step %d scores hmean %.4f on the calibration images", kind, art.key,
                             picks[-1]["iteration"], picks[-1]["hmean"])
                if bar.disable and not quiet:  # no terminal (CI, a log): a line every tenth instead of a bar
                    _tenth_line(kind, art, it + 1, cfg["iterations"], losses, time.perf_counter() - t0)
            seconds = time.perf_counter() - t0
            if ema is not None:  # what is checked and saved: the average, not the last noisy step
                ema.install()
            if best is not None:  # the checkpoint that scored best on the calibration images
                for n, v in best[2].items():
                    scope.find_var(n).get_tensor().set(v, place)
            last_lr = float(np.array(scope.find_var(sched._var_name).get_tensor()).reshape(-1)[0]) if sched else lr
            # a check batch; for QAT this run also computes the weights' scales that the freeze pass reads
            x = _batch(task, images, cfg, rng, spec, 1) if cfg["augment"] else fixed[0]
            check = float(np.mean((exe.run(test, feed={x_name: x}, fetch_list=[out.name])[0] - teacher_map(x)) ** 2))
            if ptq:
                test = convert(test, place, qcfg, scope=scope)
            tb = test.global_block()
            # clip_extra=False keeps what the parent's export had: the outputs backward needs (XShape, dropout's
            # Mask) when a child recipe trains it, attributes Paddle Lite's opt reads (swish's beta)
            paddle.static.save_inference_model(str(staging / "inference"), [tb.var(x_name)],
                                               [tb.var(fetches[0].name)], exe, program=test, clip_extra=False)
    finally:
        paddle.disable_static()
    tenth = max(1, len(losses) // 10)  # the loss curve in ten means: noisy per batch, clear in tenths
    curve = [float(np.mean(losses[i:i + tenth])) for i in range(0, len(losses), tenth)]
    doc = {"kind": kind, "teacher": f"{teacher.id}/{teacher.artifact.name}", "iterations": cfg["iterations"],
           "device": str(place), "schedule": cfg["schedule"], "last_learning_rate": last_lr,
           "seconds": round(seconds, 1), "seconds_per_iteration": round(seconds / len(losses), 2) if losses else None,
           "ema": cfg["ema"], "scales_from_ptq": copied, "checkpoints": picks, "chosen": best[1] if best else None,
           "check_batch_mse": check, "loss_by_tenth": curve}
    (staging / f"{kind}.json").write_text(json.dumps(doc, indent=1))
    log.info("%s %s: %d iterations in %.0f s, loss by tenth %s", kind, art.key, cfg["iterations"], seconds,
             " ".join(f"{v:.3g}" for v in curve))
    return doc


def outputs(art, staging: Path, kind: str) -> dict:
    out = {"inference.pdmodel": staging / "inference.pdmodel", "inference.pdiparams": staging / "inference.pdiparams"}
    if any(f.name == f"{kind}.json" for f in art.files):
        out[f"{kind}.json"] = staging / f"{kind}.json"
    return out


def build(parent, art, recipe, staging: Path, calib, quiet=False, teacher=None):
    """Float fine-tuning of ``parent`` (e.g. a pruned detector) towards ``teacher`` (the recipe's)."""
    if teacher is None:
        raise BuildError(f"{art.key}: the distill recipe needs a teacher (recipe.teacher)")
    train(parent, teacher, art, staging, calib, {**DEFAULTS, **recipe}, quiet=quiet)
    return outputs(art, staging, "distill")
