"""Which activations break int8 for a detector, one at a time.

PaddleSlim's post-training quantization (hist 0.9999, as the qat recipe starts) gives every
activation feeding a conv one per-tensor int8 scale. For each such activation this measures the
probability-map error against the float model when only that activation is quantized (every
other activation float, the weights int8 as in the PTQ model), and its channel spread: the
largest channel's |max| over the median channel's. A depthwise conv filters each channel alone,
so one channel 36x wider than the rest leaves the others a handful of int8 levels.

    python benchmarks/experiments/activation_outliers.py [--model MobileNetV3_DB] [--images 20] [--out FILE]

Images: ICDAR det lines 300.. (the recipes' calibration images; lines 0-299 stay the evaluation
set). A model may be ID/ARTIFACT (SlimTextDet_pruning/paddle: the pruned float parent).
"""
import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # detector_cli

import numpy as np  # noqa: E402

import slimocr_zoo  # noqa: E402
from slimocr_zoo.build import quant  # noqa: E402
from slimocr_zoo.build.calibration import calibration_set  # noqa: E402
from slimocr_zoo.data import DET_SET  # noqa: E402
from slimocr_zoo.files import write_atomic  # noqa: E402
from slimocr_zoo.logs import captured  # noqa: E402
from slimocr_zoo.results import environment  # noqa: E402

from detector_cli import check_detectors  # noqa: E402

CALIB = {"set": DET_SET, "start": 300, "count": 100}
PTQ = {"algo": "hist", "hist_percent": 0.9999, "quantizable_op_type": ["conv2d", "depthwise_conv2d"]}


class _Art:  # what quant.build reads of the artifact it builds (its key, in errors)
    key = "activation_outliers/ptq"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="MobileNetV3_DB", help="a float detector: ID or ID/ARTIFACT")
    p.add_argument("--images", type=int, default=20, help="calibration images the error is measured on")
    p.add_argument("--greedy", type=int, default=5, help="then keep the worst 1..N activations float together")
    p.add_argument("--mirror", default=str(ROOT.parent / "shared/models"))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/experiments/activation-outliers.json")
    a = p.parse_args()
    if not 1 <= a.images <= CALIB["count"]:
        p.error(f"--images {a.images}: give 1..{CALIB['count']}")
    check_detectors(p, [a.model], artifacts=True)
    mid, _, artifact = a.model.partition("/")
    try:
        parent = slimocr_zoo.load(mid, artifact=artifact or None, format="paddle", runtime="paddle", quiet=True,
                                  mirror=a.mirror)
        calib = calibration_set(CALIB, parent.entry)
    except slimocr_zoo.ZooError as e:
        p.error(str(e))  # one line, exit 2

    import paddle

    xs = list(calib.arrays(parent.entry.input, "det"))
    log = Path(tempfile.gettempdir()) / "activation_outliers.log"
    print(f"post-training quantization of {a.model} on {CALIB['count']} images, then one run over {a.images} "
          f"images per activation (about 15 s each at 20); paddle's and PaddleSlim's output: {log}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, captured(log):
        ptq = quant.build(parent, _Art(), PTQ, Path(tmp), calib, quiet=True)
        doc = measure(paddle, parent, ptq, xs[:a.images], a.greedy)
    doc = {"kind": "activation-outliers", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/experiments/activation_outliers.py " + " ".join(sys.argv[1:]),
           "environment": environment(), "model": a.model, "ptq": PTQ,
           "images": f"ICDAR det lines {CALIB['start']}..{CALIB['start'] + a.images - 1}", **doc}
    write_atomic(a.out, json.dumps(doc, indent=1) + "\n")
    print(f"all quantized: map mse {doc['all_quantized_mse']:.3e}; weights only: {doc['weights_only_mse']:.3e}")
    for r in sorted(doc["activations"], key=lambda r: -r["alone_mse"])[:8]:
        print(f"  {r['activation']:24s} -> {r['consumer']} ({r['weight']}): alone {r['alone_mse']:.3e}, "
              f"channel spread {r.get('spread', float('nan')):.1f}, scale {r['scale']:.2f}")
    for g in doc["greedy"]:
        print(f"  float: {', '.join(g['float']) or '(none)'} -> {g['mse']:.3e}")
    print(f"wrote {a.out}")


def measure(paddle, parent, ptq, xs, greedy):
    paddle.enable_static()
    try:
        exe = paddle.static.Executor(paddle.CPUPlace())

        def load(prog, params):
            scope = paddle.static.Scope()
            with paddle.static.scope_guard(scope):
                p, feeds, fetches = paddle.static.load_inference_model(
                    str(prog.parent), exe, model_filename=prog.name, params_filename=params.name)
            return scope, p, feeds, fetches

        def run(m, x, extra=()):
            scope, p, feeds, fetches = m
            with paddle.static.scope_guard(scope):
                return exe.run(p, feed={feeds[0]: x}, fetch_list=list(fetches) + list(extra))

        float_m = load(*parent.program_files())
        full = load(ptq["inference.pdmodel"], ptq["inference.pdiparams"])
        quant_ops = [op for op in full[1].global_block().ops if op.type.startswith("fake_quantize")]
        acts = [op.input("X")[0] for op in quant_ops]
        scales = {op.input("X")[0]: float(np.array(full[0].find_var(op.input("InScale")[0]).get_tensor()).reshape(-1)[0])
                  for op in quant_ops}

        def quantized_only(keep):
            """A copy of the PTQ program (its weights shared) with every activation quantize op but those in
            ``keep`` made the identity (x * 127 / scale: what its dequantize op undoes)."""
            prog = full[1].clone()
            block = prog.global_block()
            for i, op in enumerate(list(block.ops)):
                x = op.input("X")[0] if op.type.startswith("fake_quantize") else None
                if x is None or x in keep:
                    continue
                levels = (1 << (op.attr("bit_length") - 1)) - 1
                out = block.var(op.output("Out")[0])
                block._remove_op(i)
                block._insert_op(i, type="scale", inputs={"X": [block.var(x)]}, outputs={"Out": [out]},
                                 attrs={"scale": levels / scales[x], "bias": 0.0, "bias_after_scale": True})
            return (full[0], prog) + full[2:]

        fblock = float_m[1].global_block()
        consumers = {}
        for op in fblock.ops:
            if op.type in PTQ["quantizable_op_type"]:
                consumers.setdefault(op.input("Input")[0], (op.type, op.input("Filter")[0]))
        float_acts = [n for n in acts if fblock.has_var(n)]
        targets, ranges = [], {n: [] for n in float_acts}
        for x in xs:
            outs = run(float_m, x, float_acts)
            targets.append(outs[0])
            for n, v in zip(float_acts, outs[1:]):
                ranges[n].append(np.abs(v[0]).reshape(v.shape[1], -1).max(axis=1))

        def mse(m):
            return float(np.mean([np.mean((run(m, x)[0] - t) ** 2) for x, t in zip(xs, targets)]))

        def spread(n):  # each channel's |max| over the images
            if not ranges.get(n):
                return {}
            cm = np.max(np.stack(ranges[n]), axis=0)
            return {"channels": int(cm.size), "channel_max": round(float(cm.max()), 3),
                    "channel_median": round(float(np.median(cm)), 3),
                    "spread": round(float(cm.max() / max(np.median(cm), 1e-6)), 2)}

        rows = []
        for n in acts:
            op_type, weight = consumers.get(n, ("?", "?"))
            rows.append({"activation": n, "consumer": op_type, "weight": weight, "scale": round(scales[n], 3),
                         **spread(n), "alone_mse": mse(quantized_only({n}))})
        worst = [r["activation"] for r in sorted(rows, key=lambda r: -r["alone_mse"])]
        steps = []
        for k in range(greedy + 1):
            keep = set(acts) - set(worst[:k])
            steps.append({"float": worst[:k], "weights": [consumers.get(n, ("?", "?"))[1] for n in worst[:k]],
                          "mse": mse(quantized_only(keep))})
        return {"all_quantized_mse": steps[0]["mse"], "weights_only_mse": mse(quantized_only(set())),
                "activations": rows, "greedy": steps}
    finally:
        paddle.disable_static()


if __name__ == "__main__":
    main()
