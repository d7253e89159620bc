"""Warm load and concurrency.

Warm: load() of a cached, verified model, in a fresh process and repeated in one process
(goal < 5 ms repeated: no re-hash of unchanged files, no network: an audit hook counts socket
connects and a wrapper counts sha256 runs). Concurrency: 4 processes load one uncached model from
a loopback mirror: the body must be transferred exactly once.

    python benchmarks/perf/load.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, median, p90, write  # noqa: E402
from httpmirror import MirrorServer  # noqa: E402

MODEL = "ch_PP-OCRv4_rec"
PARAMS = "PP-OCRv4_rec/inference.pdiparams"

WARM = r"""
import sys, time
t0 = time.perf_counter()
import slimocr_zoo
t_import = time.perf_counter() - t0
from slimocr_zoo import cache
hashes, connects = [0], [0]
orig = cache.sha256_of
def counting(p):
    hashes[0] += 1
    return orig(p)
cache.sha256_of = counting
sys.addaudithook(lambda ev, args: connects.__setitem__(0, connects[0] + 1) if ev == "socket.connect" else None)
t1 = time.perf_counter()
slimocr_zoo.load(sys.argv[1], quiet=True)
first = time.perf_counter() - t1
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    slimocr_zoo.load(sys.argv[1], quiet=True)
    times.append(time.perf_counter() - t)
print(t_import, first, *times)
print("hashes", hashes[0], "connects", connects[0])
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    reps, fresh = (50, 3) if a.quick else (500, 10)
    work = Path(tempfile.mkdtemp(prefix="perf-load-"))
    try:
        env = {**os.environ, "SLIMOCR_ZOO_HOME": str(work / "home"), "SLIMOCR_ZOO_MIRROR": str(SHARED / "models")}
        subprocess.run([sys.executable, "-c", f"import slimocr_zoo; slimocr_zoo.load({MODEL!r}, quiet=True)"],
                       env=env, check=True)  # fetch + verify once
        env_off = {**env, "SLIMOCR_ZOO_OFFLINE": "1"}
        imports, firsts, repeated, hashes, connects = [], [], [], 0, 0
        for _ in range(fresh):
            out = subprocess.run([sys.executable, "-c", WARM, MODEL, str(reps)], env=env_off, check=True,
                                 capture_output=True, text=True).stdout.splitlines()
            vals = [float(x) * 1e3 for x in out[0].split()]
            imports.append(vals[0])
            firsts.append(vals[1])
            repeated += vals[2:]
            hashes += int(out[1].split()[1])
            connects += int(out[1].split()[3])
        # concurrency: 4 processes, one uncached model, a slowed loopback mirror
        with MirrorServer(SHARED / "models") as srv:
            srv.fault(PARAMS, "slow", 20_000_000)  # ~0.5 s: long enough for all four to meet
            env4 = {**os.environ, "SLIMOCR_ZOO_HOME": str(work / "home4")}
            env4.pop("SLIMOCR_ZOO_MIRROR", None)
            code = f"import slimocr_zoo; slimocr_zoo.load({MODEL!r}, mirror={srv.url!r}, quiet=True)"
            procs = [subprocess.Popen([sys.executable, "-c", code], env=env4) for _ in range(4)]
            rcs = [p.wait(timeout=300) for p in procs]
            gets, sent = len(srv.gets(PARAMS)), srv.bytes_sent(PARAMS)
        size = (SHARED / "models" / PARAMS).stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"model": MODEL, "fresh_processes": fresh, "repeats_per_process": reps,
           "import_ms_median": median(imports), "first_load_ms_median": median(firsts),
           "repeated_load_ms": {"median": median(repeated), "p90": p90(repeated), "max": max(repeated)},
           "sha256_runs_during_warm_loads": hashes, "socket_connects_during_warm_loads": connects,
           "goal_repeated_ms": "< 5",
           "concurrency": {"processes": 4, "exit_codes": rcs, "body_gets": gets, "bytes_served": sent,
                           "size": size, "exactly_one_transfer": gets == 1 and sent == size}}
    md = f"""
Warm `load({MODEL!r})` of a cached, verified model (offline mode, {fresh} fresh processes):

| what | median ms | p90 ms |
|---|---|---|
| `import slimocr_zoo` in a fresh process | {median(imports):.1f} | {p90(imports):.1f} |
| first `load()` in a fresh process | {median(firsts):.2f} | {p90(firsts):.2f} |
| repeated `load()` in one process ({reps} x {fresh}) | {median(repeated):.3f} | {p90(repeated):.3f} |

Goal: repeated < 5 ms. sha256 runs during all warm loads: {hashes}; socket connects: {connects}.

Concurrency: 4 processes loading the uncached {MODEL} from one loopback mirror: exit codes {rcs},
GETs of the 10.8 MB params file: {gets}, bytes served {sent} for a {size}-byte file
(exactly one transfer: {'yes' if res['concurrency']['exactly_one_transfer'] else 'NO'}).
"""
    write("load", res, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
