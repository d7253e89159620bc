"""End-to-end OCR per image on this machine: our pipeline (PP-OCRv4 det + v2.0 cls + PP-OCRv4 rec;
Paddle Inference and Paddle Lite x86) against RapidOCR 1.4.4 (the same models as ONNX, onnxruntime)
on the same ICDAR 2015 images, same thread count, det at short side >= 736 as RapidOCR does.
One run alternates per image between our pipelines and RapidOCR, each in a worker process of its
own (ours_worker.py; rapid_worker.py in .venv-rapid), so all see the same machine state and none
shares oneDNN's primitive cache with another (in one process they evicted each other's). Goals:
the fastest pipeline <= 0.4x RapidOCR's median, fp32 <= 0.7x.
``paddle-bf16`` is Paddle Inference with every model in oneDNN bfloat16 (``precision="bf16"``, CPUs
with AVX512-BF16 or AMX; its accuracy beside fp32's: benchmarks/results/eval-cpu-bf16.json).
``paddle-int8`` runs the int8 builds of the PP-OCRv4 det and rec (row 5) as real int8; ``paddle-fastest``
takes each stage's fastest precision among those, measured in the same run before the timed loop.

    python benchmarks/perf/e2e.py [--quick] [--images N] [--threads 1 2] [--runtimes paddle paddle-bf16 ...]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SHARED, median, p90, write  # noqa: E402

DET736 = {"limit_type": "min", "limit_side_len": 736}  # RapidOCR 1.4's det resize


# pipeline -> runtime and (model, precision) per stage. int8: the PP-OCRv4 models' int8 builds (rows
# 5: QAT), real int8 where the CPU has VNNI; "fastest": each stage's fastest precision here, chosen by
# this script's --stages run (benchmarks/results/perf/e2e_stages.md), not by hand
V4 = {"det": "ch_PP-OCRv4_det", "rec": "ch_PP-OCRv4_rec", "cls": "ch_ppocr_mobile_v2.0_cls"}
INT8 = {"det": "ch_PP-OCRv4_det_quant", "rec": "ch_PP-OCRv4_rec_quant", "cls": "ch_ppocr_mobile_v2.0_cls"}
PIPELINES = {
    "paddle": ("paddle", {k: (m, "fp32") for k, m in V4.items()}),
    "paddle-bf16": ("paddle", {k: (m, "bf16") for k, m in V4.items()}),
    "paddle-int8": ("paddle", {k: (m, "int8" if m != V4[k] else "fp32") for k, m in INT8.items()}),
    "lite": ("lite", {k: (m, "fp32") for k, m in V4.items()}),
}


def ours(pipeline, threads: int):
    """``pipeline``: a name of PIPELINES, or (runtime, {stage: (model, precision)})."""
    from slimocr_zoo import LoadedModel, load
    from slimocr_zoo.ocr.system import OCR

    runtime, stages = PIPELINES[pipeline] if isinstance(pipeline, str) else pipeline
    kw = {"runtime": runtime, "threads": threads, "mirror": str(SHARED / "models"), "quiet": True}
    nb = {"format": "nb", "target": "x86"} if runtime == "lite" else {}
    got = {}
    for stage, (mid, precision) in stages.items():
        m = load(mid, **(nb if stage != "cls" else {}), precision=precision, **kw)
        if stage == "det":
            m = LoadedModel.of(dataclasses.replace(m.entry, input={**m.entry.input, **DET736}), m.artifact, m.files,
                               runtime, threads, m.options, m.precision)
        got[stage] = m.stage
    return OCR(got["det"], got["rec"], got["cls"])


def fastest(pipes: dict, images: list):
    """Each stage's fastest precision among the Paddle Inference pipelines, measured on ``images``
    (after their warm-up), each in its own process: (the pipeline spec made of them, what was measured)."""
    cands = {k: p for k, p in pipes.items() if PIPELINES[k][0] == "paddle"}
    ms = {k: {} for k in cands}
    for img in images:
        for k, o in cands.items():
            t = o(img)
            for st in ("det", "rec", "cls"):
                ms[k][st] = ms[k].get(st, 0) + t.get(f"{st}_ms", 0) / len(images)
    spec, out = {}, {}
    for st in ("det", "rec", "cls"):
        best = min(cands, key=lambda k: ms[k][st])
        spec[st] = PIPELINES[best][1][st]
        out[st] = {"chosen": f"{spec[st][0]} {spec[st][1]}", "ms": {k: ms[k][st] for k in cands}}
    return ("paddle", spec), out


class Worker:
    """A pipeline in a worker process (``ours_worker.py`` in this venv, ``rapid_worker.py`` in
    .venv-rapid): one image path in, one JSON line of timings out."""

    def __init__(self, argv: list):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = json.loads(self.p.stdout.readline() or '{"error": "the worker died before it was ready"}')
        self.error = first.get("error")
        if self.error:
            self.p.wait(timeout=30)

    def __call__(self, path) -> dict:
        self.p.stdin.write(f"{path}\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=60)


def ours_worker(pipeline, threads: int) -> Worker:
    """``pipeline``: a name of PIPELINES, or (runtime, {stage: (model, precision)})."""
    spec = PIPELINES[pipeline] if isinstance(pipeline, str) else pipeline
    return Worker([sys.executable, str(Path(__file__).with_name("ours_worker.py")), json.dumps(spec), str(threads)])


class Rapid(Worker):
    def __init__(self, threads: int):
        py = ROOT / ".venv-rapid/bin/python"
        if not py.exists():
            subprocess.run([str(ROOT / "scripts/venv-rapid.sh"), str(ROOT / ".venv-rapid")], check=True)
        super().__init__([str(py), str(Path(__file__).with_name("rapid_worker.py")), str(threads)])
        v = subprocess.run([str(py), "-c", "from importlib.metadata import version as v; "
                            "print(v('rapidocr_onnxruntime'), v('onnxruntime'))"], capture_output=True, text=True)
        self.versions = v.stdout.split()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20 images, Paddle Inference only")
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runtimes", nargs="+", default=None, choices=[*PIPELINES, "paddle-fastest"],
                    help="default: all three (paddle-bf16 where the CPU has bfloat16)")
    a = ap.parse_args()
    n = 20 if a.quick else a.images
    runtimes = a.runtimes or (["paddle", "paddle-bf16", "paddle-int8", "paddle-fastest"] +
                              ([] if a.quick else ["lite"]))
    from slimocr_zoo.runtime.libs import bf16_supported

    if a.runtimes is None and not bf16_supported():
        runtimes.remove("paddle-bf16")
    from slimocr_zoo.data import read_det_labels

    images = [p for p, _ in read_det_labels(SHARED / "data/icdar2015_det/labels.txt")[:n]]

    runs, versions, choice, skipped = [], None, {}, {}
    for threads in a.threads:
        rapid = Rapid(threads)
        versions = rapid.versions
        pipes = {}
        for rt in runtimes:
            if rt == "paddle-fastest":
                continue
            w = ours_worker(rt, threads)
            if w.error:
                skipped[rt] = w.error
            else:
                pipes[rt] = w
        for img in images[:2]:  # warm-up: shape caches, first-run allocations, both sides
            rapid(img)
            for o in pipes.values():
                o(img)
        if "paddle-fastest" in runtimes:
            spec, choice[threads] = fastest(pipes, images[2:12])
            pipes["paddle-fastest"] = ours_worker(spec, threads)
            for img in images[:2]:
                pipes["paddle-fastest"](img)
        got = {rt: [] for rt in [*pipes, "rapidocr"]}
        for img in images:  # alternating per image, one process each: only one works at a time
            got["rapidocr"].append(rapid(img))
            for rt, o in pipes.items():
                got[rt].append(o(img))
        for o in pipes.values():
            o.close()
        rapid.close()
        for who, xs in got.items():
            tot = [x["total_ms"] for x in xs]
            stages = {k: sum(x.get(k, 0) for x in xs) / len(xs) for k in sorted({k for x in xs for k in x})
                      if k.endswith("_ms") and k != "total_ms"}
            runs.append({"who": who, "threads": threads, "median_ms": median(tot), "p90_ms": p90(tot),
                         "boxes_mean": sum(x["boxes"] for x in xs) / len(xs), "stages_mean_ms": stages,
                         "samples_ms": tot})
    by = {(r["who"], r["threads"]): r for r in runs}
    for r in runs:
        anchor = by.get(("rapidocr", r["threads"]))
        r["vs_rapidocr"] = r["median_ms"] / anchor["median_ms"] if anchor else None
    md = ("| pipeline | threads | median ms/image | p90 | boxes/image (ours: found by det; RapidOCR: texts kept) | "
          "vs RapidOCR (same threads) |\n"
          "|---|---|---|---|---|---|\n")
    md += "\n".join(f"| {'RapidOCR 1.4.4 (onnxruntime)' if r['who'] == 'rapidocr' else 'slimocr_zoo ' + r['who']} | "
                    f"{r['threads']} | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['boxes_mean']:.1f} | "
                    f"{r['vs_rapidocr']:.2f}x |" for r in runs)
    md += "\n\nMean per-stage split (ms per image):\n\n| pipeline | threads | " + " | ".join(
        k := sorted({s for r in runs for s in r["stages_mean_ms"]})) + " |\n|---|---|" + "---|" * len(k) + "\n"
    md += "\n".join(f"| {r['who']} | {r['threads']} | " + " | ".join(
        f"{r['stages_mean_ms'][s]:.1f}" if s in r["stages_mean_ms"] else "" for s in k) + " |" for r in runs)
    md += (f"\n\n{n} ICDAR 2015 test images (1280x720), det at short side >= 736, cls and rec on every box, "
           "alternating per image between the pipelines, each in a process of its own. Goals: the fastest "
           "pipeline <= 0.4x RapidOCR's median, fp32 (paddle) <= 0.7x.")
    for threads, c in choice.items():
        md += (f"\n\npaddle-fastest at {threads} thread(s), chosen in this run on images 3-12 (mean stage ms): " +
               "; ".join(f"{st} {c[st]['chosen']} ({', '.join(f'{p} {ms:.1f}' for p, ms in c[st]['ms'].items())})"
                         for st in c))
    if skipped:
        md += "\n\nNot run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items())
    write("e2e", {"images": n, "runs": runs, "fastest": choice, "skipped": skipped,
                  "rapidocr_onnxruntime_versions": versions}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
