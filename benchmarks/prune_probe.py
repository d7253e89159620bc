"""Pruning against zeroing the same filters of one conv: how many of 100 word crops (1200-1299)
the PP-OCRv4 recognizer still reads the same, before any fine-tuning.

    python benchmarks/prune_probe.py conv2d_180.w_0 0.1 [conv2d_181.w_0]

``zero`` sets the filters geometry_median would remove (and their bias; with a third argument the
next depthwise conv's too) to 0; ``prune`` removes them with PaddleSlim. Where the two differ
widely, the removed channels did not carry 0 downstream: PP-LCNetV3's affine blocks (x * a + b,
scalars) after each conv give a zeroed channel a constant, which removal drops from the next conv's
sum (measured 2026-11-30: conv2d_180 at 10%: zero 71, zero through the depthwise conv 64, prune 2).
``prune+compensate`` is the prune recipe's ``compensate: true``: the removed channels' means (the
first 16 crops) into the next conv's bias (76).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from slimocr_zoo.runtime.libs import import_paddle  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(weight: str, ratio: float, depthwise: str = None) -> None:
    paddle = import_paddle()
    paddle.enable_static()
    from paddleslim.prune import Pruner

    import slimocr_zoo
    from slimocr_zoo.build.prune import compensate, conv_params, input_means, readings, scalars_as_y
    from slimocr_zoo.data import read_rec_labels
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.ocr.rec import resize_norm

    data = ROOT.parent / "shared/data/icdar2015_rec"
    m = slimocr_zoo.load("ch_PP-OCRv4_rec", mirror=str(ROOT.parent / "shared/models"))
    xs = [resize_norm(read_image(p), m.entry.input, 320)[None] for p, _ in read_rec_labels(data / "labels.txt")[1200:1300]]
    prog_file = m.program_files()[0]
    exe, place = paddle.static.Executor(paddle.CPUPlace()), paddle.CPUPlace()

    def read(prog, feeds, fetches):
        return [readings(exe.run(prog, feed={feeds[0]: x}, fetch_list=fetches)[0])[0] for x in xs]

    def zero(scope, block, name, idx):
        t = scope.find_var(name).get_tensor()
        w = np.array(t)
        w[idx] = 0
        t.set(w, place)
        op = next(o for o in block.ops if name in o.input_arg_names)
        add = next(o for o in block.ops if op.output_arg_names[0] in o.input_arg_names)
        for y in (n for n in add.input_arg_names if block.var(n).persistable):
            b = np.array(scope.find_var(y).get_tensor())
            if b.size == w.shape[0]:
                b = b.copy()
                b.reshape(-1)[idx] = 0
                scope.find_var(y).get_tensor().set(b, place)

    for mode in ("zero", "prune", "prune+compensate"):
        scope = paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            prog, feeds, fetches = paddle.static.load_inference_model(str(prog_file.parent / "inference"), exe)
            ref = read(prog, feeds, fetches)
            f = np.array(scope.find_var(weight).get_tensor()).reshape(len(np.array(scope.find_var(weight).get_tensor())), -1)
            dist = np.array([np.linalg.norm(f - f[i], axis=1).sum() for i in range(len(f))])
            idx = np.argsort(dist)[: int(len(f) * ratio)]  # geometry_median's choice
            if mode == "zero":
                zero(scope, prog.global_block(), weight, idx)
                if depthwise:
                    zero(scope, prog.global_block(), depthwise, idx)
            else:
                before = conv_params(prog, scope)
                means = input_means(exe, prog, scope, feeds[0], xs[:16]) if mode.endswith("compensate") else {}
                scalars = scalars_as_y(prog)
                prog, _, _ = Pruner("geometry_median").prune(prog, scope, params=[weight], ratios=[ratio], place=place,
                                                             only_graph=False)
                scalars_as_y(prog, set(scalars))
                if means:  # what the prune recipe's compensate does
                    print("  compensated:", compensate(prog, scope, place, before, means))
            got = read(prog, feeds, fetches)
        same = sum(a == b for a, b in zip(got, ref))
        print(f"{mode} {weight} {ratio}{' + ' + depthwise if depthwise and mode == 'zero' else ''}: "
              f"{same}/100 readings unchanged", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), *sys.argv[3:4])
