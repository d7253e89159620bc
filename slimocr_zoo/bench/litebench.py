"""Paddle Lite's benchmark_bin: its command line and its printed report."""
from __future__ import annotations

import re
import shlex
from typing import Dict, List, Sequence

from ..errors import BenchOutputError

_PERF = re.compile(r"^(init|first|min|max|avg)\s*=\s*([0-9.]+)\s*$", re.M)


def command(binary: str, model: str, shape: Sequence[int], *, backend: str, threads: int, power_mode: int,
            warmup: int, repeats: int, core_mask: str = "") -> str:
    args = [binary, f"--optimized_model_file={model}", f"--input_shape={','.join(map(str, shape))}",
            f"--backend={backend}", f"--threads={threads}", f"--power_mode={power_mode}",
            f"--warmup={warmup}", f"--repeats={repeats}"]
    line = shlex.join(args)
    return f"taskset {core_mask} {line}" if core_mask else line


def parse(text: str) -> Dict[str, float]:
    """The "======= Perf Info =======" block: init, first, min, max, avg in ms."""
    head, sep, perf = text.partition("======= Perf Info =======")
    got = {k: float(v) for k, v in _PERF.findall(perf)} if sep else {}
    missing = [k for k in ("init", "first", "min", "max", "avg") if k not in got]
    if missing:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise BenchOutputError(f"benchmark_bin printed no {'/'.join(missing)} time"
                               f"{'' if sep else ' (no Perf Info section)'}; is it Paddle Lite's benchmark_bin? "
                               f"Its last lines:\n{tail}")
    return got


def version(text: str) -> str:
    m = re.search(r"version:?\s+(\S+)", text)
    if not m:
        raise BenchOutputError(f"cannot read benchmark_bin's version from: {text.strip()[:300]!r}")
    return m.group(1)


def combine(runs: List[Dict[str, float]], repeats_each: int) -> dict:
    """Invocations of benchmark_bin -> one entry; samples are each invocation's avg over its repeats."""
    from .stats import summarize

    avgs = [r["avg"] for r in runs]
    stats = summarize(avgs)
    stats.update({"min": min(r["min"] for r in runs), "max": max(r["max"] for r in runs),
                  "mean": sum(avgs) / len(avgs)})  # equal repeats per invocation: the mean of avgs is the mean
    return {"init_ms": runs[0]["init"], "first_ms": runs[0]["first"], "samples_ms": avgs,
            "samples_kind": f"avg of {repeats_each} repeats per benchmark_bin invocation",
            "invocations": [dict(r) for r in runs], "stats": stats}
