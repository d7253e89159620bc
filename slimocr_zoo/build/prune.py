"""prune: PaddleSlim static-graph filter pruning, with ratios given or found the way PaddleOCR 1.1
did it: the sensitivity of each prunable conv at several ratios on calibration images, then
``get_ratios_by_loss(sensitivities, budget)``, skipping the layers it skipped.

That budget is per layer: each layer alone loses at most it, and together they lose more (a
3% budget, 16 images: -19% hmean relative, -8.4 points on ICDAR lines 0-299). ``budget: joint``
makes it the whole model's: the ratios are scaled down together (bisection on one factor) until
the pruned model's loss on the calibration images is within the budget.

The metric is det hmean on the calibration images, or for a recognizer the share of calibration
crops it reads as before (``_metric``). With ``compensate``, each trial is compensated as the final
prune is, so a conv after PP-LCNetV3's affine blocks is not judged by a removal the build undoes.
``ratio`` prunes every prunable conv (``params`` / ``skip`` patterns) by the same ratio: no metric.
Fine-tuning is the ``distill`` recipe's job (an artifact of its own).
"""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from ..errors import BuildError


def prunable(program, skip) -> list:
    names = []
    for op in program.global_block().ops:
        if op.type == "conv2d":  # depthwise convs follow their producer; PaddleOCR skipped them too
            w = op.input("Filter")[0]
            if not any(fnmatch.fnmatch(w, pat) for pat in skip) and w not in names:
                names.append(w)
    return names


def scalars_as_y(program, outputs=None) -> list:
    """``scale * x`` with a one-element weight as X (PP-LCNetV3's learnable affine blocks) becomes
    ``x * scale``: the same op, in the operand order PaddleSlim's pruner can follow. Returns the
    swapped ops' outputs; given those (``outputs``), swaps them back instead, so the pruned program
    is saved as its parent was exported."""
    import numpy as np

    block, swapped = program.global_block(), []
    for op in block.ops:
        if op.type in ("elementwise_mul", "elementwise_add"):
            x, y = block.var(op.input("X")[0]), block.var(op.input("Y")[0])
            back = outputs is not None and op.output("Out")[0] in outputs
            if back or (outputs is None and x.persistable and int(np.prod(x.shape)) == 1 and not y.persistable):
                op.desc.set_input("X", [y.name])
                op.desc.set_input("Y", [x.name])
                swapped.append(op.output("Out")[0])
    return swapped


def input_means(exe, program, scope, feed, arrays) -> dict:
    """Each conv2d's input, its mean per channel over ``arrays``: {filter name: (C,)}."""
    import numpy as np

    convs = [o for o in program.global_block().ops if o.type == "conv2d"]
    names = [o.input("Input")[0] for o in convs]
    sums, n = None, 0
    for x in arrays:
        outs = exe.run(program, feed={feed: x}, fetch_list=names, scope=scope)
        means = [np.asarray(o, np.float64).mean(axis=(0, 2, 3)) for o in outs]
        sums = means if sums is None else [a + b for a, b in zip(sums, means)]
        n += 1
    return {o.input("Filter")[0]: v / n for o, v in zip(convs, sums or [])} if n else {}


def conv_params(program, scope) -> dict:
    """{filter name: (filter, bias name or None, bias)} of each conv2d, copied: what pruning changes.
    Only a bias added after the conv counts: through a batch norm's mean (MobileNetV3_DB) the same
    correction gave 36.2 against 35.9 hmean and a worse probability map (2026-12-01), so none."""
    import numpy as np

    block, out = program.global_block(), {}
    for op in [o for o in block.ops if o.type == "conv2d"]:
        name = op.input("Filter")[0]
        add = next((o for o in block.ops if o.type == "elementwise_add" and op.output("Output")[0] in o.input("X")), None)
        bias = add.input("Y")[0] if add is not None else None
        if bias is not None and (not block.var(bias).persistable or scope.find_var(bias) is None):
            bias = None
        out[name] = (np.array(scope.find_var(name).get_tensor()), bias,
                     np.array(scope.find_var(bias).get_tensor()).reshape(-1) if bias else None)
    return out


def compensate(program, scope, place, before: dict, means: dict) -> dict:
    """A removed input channel is not a zero one: PP-LCNetV3's affine blocks (x * a + b) give it a
    mean far from 0, and the next conv's sum loses it. Its mean times its weights goes into that
    conv's bias. ``before``: conv_params before pruning. Returns {filter: input channels gone}.
    Measured on the PP-OCRv4 recognizer, 10% of one stage-5 conv pruned: 2 of 100 readings
    unchanged; compensated, 76 (benchmarks/prune_probe.py)."""
    import numpy as np

    done = {}
    for name, (w0, bias, b0) in before.items():
        if name not in means or bias is None or scope.find_var(name) is None:
            continue
        w1 = np.array(scope.find_var(name).get_tensor())
        if w1.shape[1] == w0.shape[1]:
            continue
        t = scope.find_var(bias).get_tensor()
        b1 = np.array(t).reshape(-1)
        if w1.shape[0] != w0.shape[0]:  # its own outputs pruned too: which rows stayed, by their biases
            where = {v.tobytes(): i for i, v in enumerate(b0)}
            rows = [where.get(v.tobytes()) for v in b1]
            if None in rows or len(set(rows)) != len(rows):
                continue
            w0 = w0[rows]
        cols = {w0[:, c].tobytes(): c for c in range(w0.shape[1])}
        kept = [cols.get(w1[:, c].tobytes()) for c in range(w1.shape[1])]
        if None in kept:  # not a plain removal of input channels: leave it
            continue
        gone = sorted(set(range(w0.shape[1])) - set(kept))
        delta = (w0[:, gone].sum(axis=(2, 3)) * means[name][gone]).sum(axis=1)
        t.set((b1 + delta).reshape(np.array(t).shape).astype(b1.dtype), place)
        done[name] = len(gone)
    return done


def readings(probs) -> list:
    """What a recognizer reads, as label ids (greedy CTC, as the pipeline decodes): one tuple a crop."""
    from ..ocr.rec import ctc_keep

    return [tuple(seq[ctc_keep(seq)].tolist()) for seq in probs.argmax(-1)]


def build(parent, art, recipe, staging: Path, calib, quiet=False):
    import numpy as np
    from tqdm.auto import tqdm

    from ..logs import console
    from ..runtime.libs import import_paddle

    paddle = import_paddle()
    try:
        from paddleslim.prune import Pruner, get_ratios_by_loss, sensitivity
    except ImportError:
        raise BuildError("prune needs paddleslim: pip install 'slimocr-zoo[build]'") from None
    task = parent.entry.task
    if task not in ("det", "rec") and not (recipe.get("ratios") or recipe.get("ratio")):
        raise BuildError(f"{art.key}: pruning by sensitivity scores det hmean or rec readings; for {parent.id}, a "
                         f"{task} model, give ratios or ratio")
    prog_file, params_file = parent.program_files()
    criterion = recipe.get("criterion", "geometry_median")
    paddle.enable_static()
    try:
        place = paddle.CPUPlace()
        exe = paddle.static.Executor(place)
        scope = paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            program, feeds, fetches = paddle.static.load_inference_model(
                str(prog_file.parent), exe, model_filename=prog_file.name, params_filename=params_file.name)
            swapped = scalars_as_y(program)
            params = recipe.get("params") or prunable(program, recipe.get("skip", []))
            ratios = recipe.get("ratios")
            if recipe.get("ratio"):
                ratios = {p: recipe["ratio"] for p in params}
            before, means = {}, {}
            if recipe.get("compensate"):
                if calib is None:
                    raise BuildError(f"{art.key}: compensate needs a calibration set (the channels' means)")
                before = conv_params(program, scope)
                means = input_means(exe, program, scope, feeds[0], list(calib.arrays(parent.entry.input, task))[:16])
            report = {}
            if not ratios:
                if calib is None:
                    raise BuildError(f"{art.key}: pruning by sensitivity needs a calibration set")
                metric = _metric(exe, scope, feeds, fetches, calib, parent, task, program)
                trials = recipe.get("sensitivity_ratios", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
                bar = tqdm(total=len(params) * len(trials) + 1, desc=f"sensitivity {art.model_id}", leave=False,
                           disable=True if quiet else None, file=console())  # minutes of trials: show them

                def scored(prog):  # compensated as the final prune will be, then the biases put back
                    bar.update(1)
                    if not means:
                        return metric(prog)
                    compensate(prog, scope, place, before, means)
                    try:
                        return metric(prog)
                    finally:
                        for _, bias, b0 in before.values():
                            t = scope.find_var(bias).get_tensor() if bias is not None else None
                            if t is not None and np.array(t).size == b0.size:  # a pruned one: PaddleSlim's to put back
                                t.set(b0.reshape(np.array(t).shape), place)

                sens_file = staging / "sensitivities.data"
                sens = sensitivity(program, place, params, scored, sensitivities_file=str(sens_file),
                                   pruned_ratios=trials, criterion=criterion)
                bar.close()
                budget = recipe.get("loss_budget", 0.03)
                ratios = {k: v for k, v in get_ratios_by_loss(sens, budget).items() if v > 0}
                base = scored(program)
                report = {"sensitivities": {k: {str(r): float(l) for r, l in v.items()} for k, v in sens.items()},
                          "metric": "det hmean" if task == "det" else "rec readings unchanged",
                          "baseline_hmean" if task == "det" else "baseline": base}

                def joint_loss(factor):  # the whole model pruned by ratios * factor, then put back
                    pruned, backup, _ = Pruner(criterion).prune(
                        program.clone(), scope, params=list(ratios), ratios=[float(r) * factor for r in ratios.values()],
                        place=place, only_graph=False, param_backup=True)
                    loss = (base - scored(pruned)) / base if base else 0.0
                    for name, value in backup.items():
                        scope.find_var(name).get_tensor().set(value, place)
                    return loss

                if ratios and recipe.get("budget", "per_layer") == "joint":
                    lo, hi, losses = 0.0, 1.0, {1.0: joint_loss(1.0)}
                    if losses[1.0] > budget:
                        for _ in range(recipe.get("bisection_steps", 6)):
                            mid = (lo + hi) / 2
                            losses[mid] = joint_loss(mid)
                            lo, hi = (mid, hi) if losses[mid] <= budget else (lo, mid)
                        ratios = {k: round(float(v) * lo, 4) for k, v in ratios.items() if v * lo > 0}
                    report["joint"] = {"budget": budget, "factor": lo if losses[1.0] > budget else 1.0,
                                       "losses": {str(k): v for k, v in sorted(losses.items())}}
            if not ratios:
                raise BuildError(f"{art.key}: no layer can be pruned within a loss of {recipe.get('loss_budget')}")
            channels = {p: [_out_channels(scope, p)] for p in ratios}
            pruned, _, _ = Pruner(criterion).prune(
                program, scope, params=list(ratios), ratios=[float(r) for r in ratios.values()], place=place,
                only_graph=False)
            for p in ratios:
                channels[p].append(_out_channels(scope, p))
            # what was removed, not what was asked: PaddleSlim leaves some convs whole (one whose output a
            # concat shares with others), whatever their ratio
            report["out_channels"] = channels
            report["left_whole"] = [p for p, (a, b) in channels.items() if a == b]
            scalars_as_y(pruned, set(swapped))  # the parent's operand order
            if means:
                report["compensated"] = compensate(pruned, scope, place, before, means)
            block = pruned.global_block()
            # clip_extra=False keeps the outputs backward needs (XShape, dropout's Mask): fine-tuning trains it
            paddle.static.save_inference_model(str(staging / "inference"), [block.var(feeds[0])],
                                               [block.var(f.name) for f in fetches], exe, program=pruned,
                                               clip_extra=False)
    finally:
        paddle.disable_static()
    (staging / "pruning.json").write_text(json.dumps({"ratios": {k: float(v) for k, v in ratios.items()}, **report},
                                                     indent=1))
    out = {"inference.pdmodel": staging / "inference.pdmodel", "inference.pdiparams": staging / "inference.pdiparams"}
    if any(f.name == "pruning.json" for f in art.files):
        out["pruning.json"] = staging / "pruning.json"
    return out


def _out_channels(scope, param: str) -> int:
    import numpy as np

    return int(np.array(scope.find_var(param).get_tensor()).shape[0])


def _metric(exe, scope, feeds, fetches, calib, parent, task, program):
    """The score sensitivity compares: det hmean on the calibration images (our DB post-processing,
    ICDAR protocol), or for a recognizer the share of calibration crops read as the unpruned parent
    reads them (smoother than accuracy: a reading that turns wrong and one that turns right do not
    cancel)."""
    if task == "det":
        from ..metrics import det_image_counts, det_metrics
        from ..ocr.det import postprocess
        from ..ocr.image import read_image

        sizes = [read_image(p).shape[:2] for p in calib.items]  # boxes map back to these
        samples = list(zip(calib.labels, calib.arrays(parent.entry.input, "det"), sizes))

        def hmean(prog):
            counts = []
            for gt, x, hw in samples:
                prob = exe.run(prog, feed={feeds[0]: x}, fetch_list=fetches, scope=scope)[0][0, 0]
                boxes, _ = postprocess(prob, hw, parent.entry.postprocess)
                counts.append(det_image_counts(gt, boxes))
            return det_metrics(counts)["hmean"]
        return hmean

    arrays = list(calib.arrays(parent.entry.input, "rec"))

    def read(prog):
        return [readings(exe.run(prog, feed={feeds[0]: x}, fetch_list=fetches, scope=scope)[0])[0] for x in arrays]

    ref = read(program)

    def kept(prog):
        return sum(a == b for a, b in zip(read(prog), ref)) / len(ref)
    return kept
