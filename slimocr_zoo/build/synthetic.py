"""synthetic_params: the real program with random weights of the right shapes.

For a parent whose weights cannot be had (the v1.1 recognizer): the graph, shapes and op mix
are real, so its latency is; its outputs are noise, so every artifact built from it is flagged
``synthetic`` and refused by eval. Seeded, so the same program gives the same bytes.
"""
from __future__ import annotations

from pathlib import Path

VERSION = 2  # 2: lstm scratch outputs restored


def _value(name: str, shape, rng):
    import numpy as np

    shape = [int(d) for d in shape]
    if name.endswith(("_variance", ".w_2")) or "variance" in name:
        return np.ones(shape, np.float32)  # batch-norm variances must be positive
    if name.endswith(("_scale", "_gamma")) or name.endswith(".w_0") and "bn" in name:
        return np.ones(shape, np.float32)
    if name.endswith(("_mean", "_offset", "_beta", ".b_0", "_bias")):
        return np.zeros(shape, np.float32)
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else max(shape[0], 1)
    return (rng.standard_normal(shape) * np.sqrt(1.0 / max(fan_in, 1))).astype(np.float32)


def _drop_export_ops(block):
    """Remove the feed/fetch ops and the ``save_infer_model/scale_*`` ops of an exported program.

    Saving again adds them anew (clashing names otherwise), and prunes what no kept output uses:
    the 1.1 CRNN's own ctc_align decode, which Paddle Lite 2.13's opt cannot convert, goes that way
    when the recipe keeps only the probabilities (``fetch``).
    """
    for i in reversed(range(len(block.ops))):
        op = block.ops[i]
        if op.type in ("feed", "fetch") or (op.type == "scale" and op.output_arg_names[0].startswith("save_infer_model/")):
            block._remove_op(i)
    for name in [v for v in block.vars if v.startswith("save_infer_model/") or v in ("feed", "fetch")]:
        block._remove_var(name)


def _complete_lstm_outputs(block):
    """Give 1.x ``lstm`` ops back the BatchGate / BatchCellPreAct outputs the old export dropped.

    Paddle Lite's opt requires them (op_desc.cc "Check failed: it != outputs_.end()" otherwise);
    they are scratch tensors, so fresh temporaries are all they need.
    """
    changed = 0
    for op in block.ops:
        if op.type != "lstm":
            continue
        for slot in ("BatchGate", "BatchCellPreAct"):
            if slot not in op.output_names or not op.output(slot):
                name = f"{op.output('Hidden')[0]}.{slot}"
                block.create_var(name=name, dtype="float32", persistable=False)
                op.desc.set_output(slot, [name])
                changed += 1
    return changed


def build(parent, art, recipe, staging: Path, calib, quiet=False):
    import numpy as np

    from ..runtime.libs import import_paddle

    paddle = import_paddle()
    paddle.enable_static()
    try:
        prog_file = next(iter(parent.files.values()))
        program = paddle.static.Program.parse_from_string(prog_file.read_bytes())
        block = program.global_block()
        feeds = [op.output("Out")[0] for op in block.ops if op.type == "feed"]
        fetches = recipe.get("fetch") or [op.input("X")[0] for op in block.ops if op.type == "fetch"]
        _drop_export_ops(block)
        place = paddle.CPUPlace()
        exe = paddle.static.Executor(place)
        scope = paddle.static.Scope()
        rng = np.random.default_rng(recipe.get("seed", 0))
        with paddle.static.scope_guard(scope):
            for var in sorted(program.list_vars(), key=lambda v: v.name):
                if var.persistable and var.name not in ("feed", "fetch") and var.shape:
                    scope.var(var.name).get_tensor().set(_value(var.name, var.shape, rng), place)
            paddle.static.save_inference_model(
                str(staging / "inference"), [block.var(n) for n in feeds], [block.var(n) for n in fetches],
                exe, program=program)
        # after saving: its pruning would drop the unused outputs again
        saved = paddle.static.Program.parse_from_string((staging / "inference.pdmodel").read_bytes())
        if _complete_lstm_outputs(saved.global_block()):
            (staging / "inference.pdmodel").write_bytes(saved.desc.serialize_to_string())
    finally:
        paddle.disable_static()
    return {"inference.pdmodel": staging / "inference.pdmodel", "inference.pdiparams": staging / "inference.pdiparams"}
