"""quant_post: PaddleSlim post-training static quantization (quant_post_static) on calibration
images pre-processed exactly as the model expects.

It stands in for PACT quantization-aware training, which needs the training set and a GPU.
conv2d_transpose is left out of the default op list: x86 Paddle Lite has no int8 kernel for it.
PaddleSlim's quant_recon_static (AdaRound) was tried in its place and left out: the steps affordable
here changed nothing in paddle's executor, and its export scored 0.000 through Paddle Inference
(benchmarks/results/experiments/ptq-recon-*.json, rerun at commit 4545e9e).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import BuildError

DEFAULT_OPS = ["conv2d", "depthwise_conv2d", "mul"]


def build(parent, art, recipe, staging: Path, calib, quiet=False):
    from ..runtime.libs import import_paddle

    if calib is None:
        raise BuildError(f"{art.key}: quant_post needs a calibration set in its recipe")
    paddle = import_paddle()
    try:
        from paddleslim.quant import quant_post_static
    except ImportError:
        raise BuildError("quant_post needs paddleslim: pip install 'slimocr-zoo[build]'") from None
    prog, params = parent.program_files()
    arrays = list(calib.arrays(parent.entry.input, parent.entry.task))

    class Samples(paddle.io.Dataset):
        def __getitem__(self, i):
            return arrays[i][0]

        def __len__(self):
            return len(arrays)

    paddle.enable_static()
    try:
        exe = paddle.static.Executor(paddle.CPUPlace())
        program, feeds, _ = paddle.static.load_inference_model(
            str(prog.parent), exe, model_filename=prog.name, params_filename=params.name)
        # quant_post_static wants a paddle.io.DataLoader that yields feed dicts (return_list=False)
        loader = paddle.io.DataLoader(Samples(), feed_list=[program.global_block().var(feeds[0])],
                                      return_list=False, batch_size=1, shuffle=False)
        quant_post_static(
            executor=exe,
            model_dir=str(prog.parent), model_filename=prog.name, params_filename=params.name,
            quantize_model_path=str(staging / "q"),
            save_model_filename="inference.pdmodel", save_params_filename="inference.pdiparams",
            data_loader=loader, batch_nums=len(arrays),
            algo=recipe.get("algo", "hist"), hist_percent=recipe.get("hist_percent", 0.9999),
            quantizable_op_type=recipe.get("quantizable_op_type", DEFAULT_OPS),
            weight_quantize_type=recipe.get("weight_quantize_type", "channel_wise_abs_max"),
            activation_quantize_type=recipe.get("activation_quantize_type", "range_abs_max"),
            onnx_format=recipe.get("onnx_format", False),
            skip_tensor_list=recipe.get("skip") or None)
    finally:
        paddle.disable_static()
    out = staging / "q"
    return {"inference.pdmodel": out / "inference.pdmodel", "inference.pdiparams": out / "inference.pdiparams"}
