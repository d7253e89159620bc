"""The average of several int8 builds of one qat recipe (seeds apart), as one int8 paddle model:
each conv's weights dequantized (int x its channel scale / 127), averaged, and quantized again
channel-wise abs-max; every other float variable (batch norm, biases, activation scales, which
the recipe fixes) averaged. An experiment: does averaging runs ("model soup") beat one run?

    python benchmarks/average_builds.py OUT_DIR BUILD_DIR BUILD_DIR [BUILD_DIR...]

Each BUILD_DIR holds inference.pdmodel + inference.pdiparams (a cache's files/built/ID/paddle).
Score the result as your own model:
    slimocr-zoo add --id soup --task det --like MobileNetV3_DB --manifest soup.json OUT_DIR/inference.*
    SLIMOCR_ZOO_MANIFEST=soup.json slimocr-zoo eval --models soup --limit 300 --runtime paddle
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from slimocr_zoo.runtime.fold import DEQUANT  # noqa: E402
from slimocr_zoo.runtime.libs import import_paddle  # noqa: E402


def channel_scales(program) -> dict:
    """conv weight -> the variable holding its channel scales (numbered differently in each build)."""
    block = program.global_block()
    by_output = {op.input("X")[0]: op.input("Scales")[0] for op in block.ops if op.type == DEQUANT}
    return {op.input("Filter")[0]: by_output[op.output("Output")[0]] for op in block.ops
            if op.type in ("conv2d", "depthwise_conv2d") and op.output("Output")[0] in by_output}


def main(out: str, dirs) -> int:
    paddle = import_paddle()  # paddle's own INFO lines off the console, as everywhere in the zoo
    paddle.enable_static()
    exe, place = paddle.static.Executor(paddle.CPUPlace()), paddle.CPUPlace()
    builds = []
    for d in dirs:
        scope = paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            prog, feeds, fetches = paddle.static.load_inference_model(str(Path(d) / "inference"), exe)
        builds.append((prog, feeds, fetches, scope, channel_scales(prog)))
    prog, feeds, fetches, scope0, scales0 = builds[0]

    def get(scope, name):
        return np.array(scope.find_var(name).get_tensor())

    for w in scales0:
        floats = []
        for _, _, _, scope, scales in builds:
            q, s = get(scope, w).astype(np.float64), get(scope, scales[w])
            floats.append(q * s.reshape((-1,) + (1,) * (q.ndim - 1)) / 127)
        avg = np.mean(floats, axis=0)
        s = np.abs(avg).reshape(avg.shape[0], -1).max(1)
        q = np.clip(np.round(avg / s.reshape((-1,) + (1,) * (avg.ndim - 1)) * 127), -127, 127)
        scope0.find_var(w).get_tensor().set(q.astype(np.float32), place)
        scope0.find_var(scales0[w]).get_tensor().set(s.astype(np.float32), place)
    skip = set(scales0) | set(scales0.values()) | {"feed", "fetch"}
    for v in prog.list_vars():
        if v.persistable and v.name not in skip and scope0.find_var(v.name) is not None \
                and get(scope0, v.name).dtype == np.float32:
            avg = np.mean([get(scope, v.name) for _, _, _, scope, _ in builds], axis=0)
            scope0.find_var(v.name).get_tensor().set(avg.astype(np.float32), place)
    block = prog.global_block()
    with paddle.static.scope_guard(scope0):
        paddle.static.save_inference_model(str(Path(out) / "inference"), [block.var(feeds[0])],
                                           [block.var(f.name) for f in fetches], exe, program=prog, clip_extra=False)
    print(f"averaged {len(dirs)} builds ({len(scales0)} int8 convs) into {out}")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="the average of several int8 qat builds as one int8 model")
    p.add_argument("out", help="the folder to write inference.pdmodel + .pdiparams into")
    p.add_argument("builds", nargs="+", help="two or more folders with inference.pdmodel + .pdiparams")
    a = p.parse_args()
    missing = [d for d in a.builds if not (Path(d) / "inference.pdmodel").is_file()
               or not (Path(d) / "inference.pdiparams").is_file()]
    if missing or len(a.builds) < 2:
        p.error(f"{missing[0]} has no inference.pdmodel + .pdiparams" if missing else "give two or more builds")
    sys.exit(main(a.out, a.builds))
