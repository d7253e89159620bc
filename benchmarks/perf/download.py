"""Download throughput: our fetch (hashing, progress, atomic install) against `curl -o`, one loopback
server, alternating runs; then a transfer cut at 40% and resumed: bytes served must equal the size.

    python benchmarks/perf/download.py [--quick] [--mb 200]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median, write  # noqa: E402
from httpmirror import MirrorServer  # noqa: E402


def manifest(path: Path, url: str, size: int, sha: str) -> None:
    path.write_text(json.dumps({"schema_version": 1, "models": [{
        "id": "perf_blob", "task": "dict", "family": "perf", "description": "random bytes for the download benchmark",
        "artifacts": [{"name": "blob", "format": "text", "provenance": "benchmarks/perf/download.py",
                       "files": [{"path": "blob.bin", "size": size, "sha256": sha}],
                       "sources": [{"type": "base", "url": url}]}]}], "configs": []}))


def ours(home: Path, env: dict):
    """(seconds inside load(), seconds of the whole new process: interpreter start and imports too)."""
    shutil.rmtree(home, ignore_errors=True)
    # the timer starts after the imports a first load() would do lazily (requests, tqdm, the manifest):
    # they are counted in the whole-process figure instead
    code = ("import time, requests, tqdm.auto, slimocr_zoo; slimocr_zoo.info('perf_blob'); t = time.perf_counter(); "
            "slimocr_zoo.load('perf_blob', quiet=False); print(time.perf_counter() - t)")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], env={**env, "SLIMOCR_ZOO_HOME": str(home)},
                       capture_output=True, text=True, check=True)
    return float(p.stdout.strip().splitlines()[-1]), time.perf_counter() - t


def curl(url: str, out: Path) -> float:
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", str(out), url], check=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="3 runs each")
    a = ap.parse_args()
    runs = 3 if a.quick else a.runs
    work = Path(tempfile.mkdtemp(prefix="perf-dl-"))
    try:
        (work / "srv").mkdir()
        blob = work / "srv" / "blob.bin"
        data = os.urandom(a.mb * 2**20)
        blob.write_bytes(data)
        size, sha = len(data), hashlib.sha256(data).hexdigest()
        del data
        with MirrorServer(work / "srv") as srv:
            man = work / "perf.json"
            manifest(man, srv.url, size, sha)
            env = {**os.environ, "SLIMOCR_ZOO_MANIFEST": str(man)}
            env.pop("SLIMOCR_ZOO_MIRROR", None)
            t_ours, t_proc, t_curl = [], [], []
            for _ in range(runs):  # alternating: both see the same machine state
                t_curl.append(curl(f"{srv.url}/blob.bin", work / "curl.bin"))
                inside, whole = ours(work / "home", env)
                t_ours.append(inside)
                t_proc.append(whole)
            mbps = lambda t: size / 2**20 / t  # noqa: E731
            # resume: cut the first transfer at 40%, then load again
            home = work / "home"
            shutil.rmtree(home, ignore_errors=True)
            srv.requests.clear()
            srv.fault("blob.bin", "reset", int(size * 0.4))
            first = subprocess.run([sys.executable, "-c", "import slimocr_zoo; slimocr_zoo.load('perf_blob', quiet=True)"],
                                   env={**env, "SLIMOCR_ZOO_HOME": str(home), "SLIMOCR_ZOO_RETRIES": "0"},
                                   capture_output=True, text=True)
            subprocess.run([sys.executable, "-c", "import slimocr_zoo; slimocr_zoo.load('perf_blob', quiet=True)"],
                           env={**env, "SLIMOCR_ZOO_HOME": str(home)}, check=True, capture_output=True)
            served = srv.bytes_sent("blob.bin")
            ranges = [r["range"] for r in srv.gets("blob.bin")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"size_bytes": size, "runs": runs, "ours_s": t_ours, "ours_process_s": t_proc, "curl_s": t_curl,
           "ours_process_MiB_s": mbps(median(t_proc)),
           "ours_MiB_s": mbps(median(t_ours)), "curl_MiB_s": mbps(median(t_curl)),
           "ratio_vs_curl": median(t_curl) / median(t_ours), "goal": ">= 0.9",
           "ratio_per_pair": [c / o for c, o in zip(t_curl, t_ours)],
           "resume": {"first_exit": first.returncode, "bytes_served_total": served, "size": size,
                      "requests_ranges": ranges, "only_remainder": served == size}}
    md = f"""
| client | median s | MiB/s |
|---|---|---|
| slimocr_zoo `load()` (download + sha256 + progress + fsync + atomic install) | {median(t_ours):.3f} | {res['ours_MiB_s']:.0f} |
| the same, timing the whole new Python process (interpreter start, imports) | {median(t_proc):.3f} | {res['ours_process_MiB_s']:.0f} |
| curl -o (its whole process) | {median(t_curl):.3f} | {res['curl_MiB_s']:.0f} |

Ours / curl throughput: **{res['ratio_vs_curl']:.2f}x** inside `load()` (goal >= 0.9x; run by run
{min(res['ratio_per_pair']):.2f}x to {max(res['ratio_per_pair']):.2f}x), {median(t_curl) / median(t_proc):.2f}x counting our process
start; {a.mb} MiB from a loopback server (the tests' Python HTTP server, which sends plain files with
sendfile), {runs} alternating runs each. The body is written in one thread and hashed in another while
the reads go on; the write-back of every 8 MiB is started on the way, and the file is fsync'ed before
its atomic rename (kept for crash safety: a warm load trusts the recorded size and mtime).

Resume: the first transfer was cut after 40% (connection reset); the next `load()` asked for
`{ranges[-1]}` and the server sent {served} bytes in all for a {size}-byte file: only the remainder
was transferred again ({'yes' if res['resume']['only_remainder'] else 'NO'}).
"""
    write("download", res, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
