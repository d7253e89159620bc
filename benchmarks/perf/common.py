"""What every performance script shares: the environment line, results JSON + Markdown summary."""
from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "results" / "perf"
sys.path.insert(0, str(ROOT / "tests"))  # the loopback HTTP server of the tests (httpmirror)
SHARED = ROOT.parent / "shared"


def environment() -> dict:
    from slimocr_zoo.results import environment as env

    return env()


def write(name: str, doc: dict, summary_md: str) -> None:
    """benchmarks/results/perf/NAME.json and NAME.md, with the machine, versions, date, command."""
    OUT.mkdir(parents=True, exist_ok=True)
    doc = {"kind": "perf", "name": name,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python " + " ".join([str(Path(sys.argv[0]).relative_to(ROOT)) if Path(sys.argv[0]).is_absolute()
                                            and ROOT in Path(sys.argv[0]).parents else sys.argv[0], *sys.argv[1:]]),
           "environment": environment(), **doc}
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    env = doc["environment"]
    head = (f"# {name}\n\nMEASURED {doc['date']} on {env['processor']} ({env['cores']} cores), Python {env['python']}, "
            f"paddlepaddle {env.get('paddlepaddle')}, paddlelite {env.get('paddlelite')}; command: "
            f"`{doc['command']}`\n\n")
    (OUT / f"{name}.md").write_text(head + summary_md.strip() + "\n")
    print(head + summary_md.strip())


def median(xs):
    s = sorted(xs)
    n = len(s)
    return (s[(n - 1) // 2] + s[n // 2]) / 2


def p90(xs):
    import math

    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(0.9 * len(s)) - 1))]


def alternating(runs: dict, rounds: int, n: int) -> dict:
    """key -> per-round mean ms of ``n`` calls of ``runs[key]()``, the keys taking turns each round so
    that all of them see the same machine state."""
    import time

    out = {k: [] for k in runs}
    for _ in range(rounds):
        for k, fn in runs.items():
            t = time.perf_counter()
            for _ in range(n):
                fn()
            out[k].append((time.perf_counter() - t) * 1e3 / n)
    return out
