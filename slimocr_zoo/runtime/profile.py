"""Where a Paddle Inference predictor's time goes, per op type: paddle's own profiler around a few
runs, its trace read back (the "Operator" events are one per op run, named ``type[... ms]``)."""
from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict

NAME = re.compile(r"^([A-Za-z0-9_]+)")


def op_times(trace: dict, runs: int) -> Dict[str, dict]:
    """op type -> {"ms": mean ms per run, "calls": op runs per run, "share": of all op time}, largest first."""
    ms, calls = defaultdict(float), defaultdict(int)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    for e in events:
        if e.get("ph") == "X" and e.get("cat") == "Operator":
            m = NAME.match(e.get("name", ""))
            if m:
                ms[m.group(1)] += e.get("dur", 0) / 1e3 / runs  # trace durations are microseconds
                calls[m.group(1)] += 1
    total = sum(ms.values()) or 1.0
    return {k: {"ms": round(ms[k], 3), "calls": calls[k] // runs, "share": round(ms[k] / total, 4)}
            for k in sorted(ms, key=ms.get, reverse=True)}


def profile(run: Callable[[], object], runs: int = 5) -> Dict[str, dict]:
    """Per op type time of ``run()`` (a predictor already warmed up), over ``runs`` runs."""
    from .libs import import_paddle

    import_paddle()
    import paddle.profiler as profiler

    # on_trace_ready: by default paddle writes a trace into ./profiler_log of whatever directory we run in
    p = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU], on_trace_ready=lambda prof: None)
    p.start()
    for _ in range(runs):
        run()
        p.step()
    p.stop()
    with tempfile.TemporaryDirectory(prefix="slimocr-profile-") as d:
        path = Path(d) / "trace.json"
        p.export(str(path), format="json")
        return op_times(json.loads(path.read_text()), runs)
