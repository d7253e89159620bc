"""One results format for every runner (eval, bench): the document's header and environment, its
atomic save and checked read, the notes rows carry, and the tables that summarize a document.

A results document is JSON: ``kind`` ("eval" or "bench"), ``date``, ``command``, ``environment``,
then the runner's own fields (eval: ``runs``; bench: ``device``, ``protocol``, ``models``, ``e2e``).
"""
from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Optional, Sequence

from .errors import ZooError
from .files import sha256_of, write_atomic
from .version import __version__

SCHEMA_VERSION = 1
KINDS = ("eval", "bench")

# notes a row carries, said the same way in every table
SYNTHETIC = "SYNTHETIC weights: latency only"
SIMULATED_INT8 = "simulated int8 (Paddle Inference): speed NOT representative, the phone is the place for it"
X86_INT8 = "int8 on x86 Paddle Lite: slower than float there (and wrong outputs); the phone is the place for int8"


def brief(reason: str, n: int = 120) -> str:
    """A skip/failure reason for a table cell: without the loader's list of what the model does have."""
    return reason.split(" (it has")[0][:n]


def is_simulated_int8(entry: dict) -> bool:
    """A timed int8 model that ran as fake-quant fp32 ops: its latency says nothing about int8 speed."""
    return entry.get("precision") == "int8-simulated"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def environment() -> dict:
    import numpy

    env = {"python": platform.python_version(), "numpy": numpy.__version__, "machine": platform.machine(),
           "processor": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform()}
    for mod, key in (("paddle", "paddlepaddle"), ("cv2", "opencv")):
        try:
            env[key] = __import__(mod).__version__
        except ImportError:
            pass
    try:
        from importlib.metadata import version

        env["paddlelite"] = version("paddlelite")
    except Exception:
        pass
    env["slimocr_zoo"] = __version__
    return env


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def header(kind: str, command: str, **fields) -> dict:
    """A new document of ``kind`` made by ``command`` (the command line as the user typed it)."""
    assert kind in KINDS, kind
    doc = {"kind": kind, "date": now(), "command": command, "environment": environment()}
    if kind == "bench":
        doc["schema_version"] = SCHEMA_VERSION
    doc.update(fields)
    return doc


def save(doc: dict, path) -> None:
    """Atomically: a finished entry is never lost to an interrupt, and no half file is left."""
    write_atomic(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def read(path, kind: Optional[str] = None) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"no results file {path}" + (" (python -m slimocr_zoo.bench writes one)" if kind == "bench" else ""))
    try:
        doc = json.loads(path.read_text("utf-8"))
    except ValueError as e:
        raise ZooError(f"{path} is not a results file (not JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("kind") not in KINDS or (kind and doc["kind"] != kind):
        want = kind or " or ".join(KINDS)
        raise ZooError(f"{path} is not a{'n' if want[0] in 'ae' else ''} {want} results file "
                       f"(kind {doc.get('kind') if isinstance(doc, dict) else None!r})")
    return doc


def model_record(loaded) -> dict:
    """What a results file says about a model it ran: the artifact and its files' sha256."""
    return {"id": loaded.id, "artifact": loaded.artifact.name, "format": loaded.artifact.describe(),
            "files": {n: sha256_of(p) for n, p in loaded.files.items()}, "precision": loaded.precision}


def dataset_record(labels_path: Path, n: int) -> dict:
    return {"labels": str(labels_path), "labels_sha256": sha256_of(labels_path), "items": n}


# -- tables -------------------------------------------------------------------------------

def _table(rows: Sequence, headers: Sequence[str], fmt: str) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def eval_table(doc: dict, fmt: str = "simple", seconds: bool = True) -> str:
    """An eval document as a table; ``seconds``: the wall time of each run (no benchmark: left out of READMEs)."""
    rows = []
    for r in doc["runs"]:
        name = r["model"]["id"] if "model" in r else "+".join(m["id"] for m in r["models"])
        mt = r["metrics"]
        if r["task"] == "det":
            fig = f"hmean {mt['hmean']:.4f} (P {mt['precision']:.4f}, R {mt['recall']:.4f})"
        elif r["task"] == "rec":
            fig = (f"acc {mt['accuracy']:.4f}, alnum/nocase {mt['accuracy_alnum_nocase']:.4f}, "
                   f"1-NED {mt['norm_edit_similarity']:.4f}")
        else:
            fig = f"words found {mt['words_found']:.4f} ({mt['found']}/{mt['words']})"
        prec = {m.get("precision", "fp32") for m in ([r["model"]] if "model" in r else r["models"])}
        rt = r["runtime"] + "".join(f" {p}" for p in sorted(prec - {"fp32"}))
        rows.append([r["task"], name, rt, r["dataset"]["items"], fig] + ([r["seconds"]] if seconds else []))
    return _table(rows, ["task", "model", "runtime", "n", "metrics"] + (["wall s"] if seconds else []), fmt)


def eval_footer(doc: dict) -> str:
    env = doc["environment"]
    return (f"{doc['date']}, `{doc['command']}`: {env['processor']} ({env['cores']} cores), Python {env['python']}, "
            f"paddlepaddle {env.get('paddlepaddle')}, paddlelite {env.get('paddlelite')}, slimocr_zoo {env['slimocr_zoo']}")


def bench_tables(doc: dict, fmt: str = "simple") -> str:
    """A bench document: its caption (machine, runtime, protocol), the per-model and the end-to-end
    table, and where each profiled model's time goes."""
    rows = []
    for m in doc["models"]:
        if "stats" not in m:
            what = "skipped: " + m["skipped"] if "skipped" in m else "FAILED: " + m["failed"]
            rows.append([m["id"], m.get("artifact", "-"), "-", "-", "-", brief(what, 100)])
            continue
        s = m["stats"]
        rows.append([m["id"], m["artifact"], m.get("precision", "fp32"), f"{s['median']:.2f}", f"{s['p90']:.2f}",
                     "; ".join(m["notes"])])
    t1 = _table(rows, ["model", "artifact", "runs as", "median ms", "p90 ms", "notes"], fmt)
    rows = []
    done = {e["config"]: e for e in doc["e2e"] if "stats" in e}
    for e in doc["e2e"]:
        if "stats" not in e:
            rows.append([e["config"], e["det"], e["rec"], "-", "-", brief(e.get("skipped", ""))])
            continue
        med = e["stats"]["median"]
        base = done.get(e["baseline"] if "baseline" in e else 0)  # results before per-row baselines: row 0
        if any(is_simulated_int8(m) for m in doc["models"] if m["id"] in (e["det"], e["rec"])):
            speed = "n/a (simulated int8)"  # a speed-up from simulated int8 would mislead
        elif base and base is not e:
            speed = f"{(base['stats']['median'] / med - 1) * 100:.0f}% vs row {base['config']}"
        else:
            speed = "-"
        rows.append([e["config"], e["det"], e["rec"], f"{med:.1f}", speed, "; ".join(e["notes"])])
    t2 = _table(rows, ["row", "det", "rec", "e2e median ms", "speed-up", "notes"], fmt)
    return "\n\n".join([bench_caption(doc), t1, t2] + ([profile_table(doc, fmt)] if _profiled(doc) else []))


def _profiled(doc: dict) -> list:
    return [m for m in doc["models"] if m.get("op_profile")]


def profile_table(doc: dict, fmt: str = "simple", top: int = 6) -> str:
    """Where the time goes: each profiled model's largest op types (ms per run, share, ops per run)."""
    rows = []
    for m in _profiled(doc):
        prof = m["op_profile"]
        if "unavailable" in prof:
            rows.append([m["id"], m.get("precision", "fp32"), "-", "-", "-", "-", prof["unavailable"]])
            continue
        for i, (op, v) in enumerate(list(prof.items())[:top]):
            rows.append([m["id"] if i == 0 else "", m.get("precision", "fp32") if i == 0 else "", op,
                         f"{v['ms']:.2f}", f"{v['share']:.0%}", v["calls"], ""])
    return "Where the time goes (paddle's profiler, per op type, one run):\n\n" + _table(
        rows, ["model", "runs as", "op type", "ms", "share", "ops", "notes"], fmt)


def bench_caption(doc: dict) -> str:
    p, env, dev = doc["protocol"], doc["environment"], doc["device"]
    if dev["kind"] == "adb":
        props = dev.get("props", {})
        what = (f"{dev['serial']} ({props.get('ro.product.model')}, {props.get('ro.board.platform')}, "
                f"{props.get('ro.product.cpu.abi')})")
        warn = ("\nEMULATED DEVICE: the project's test phone (tests/phone) running x86 Paddle Lite on this host; "
                "NOT a Snapdragon 855 figure" if dev.get("emulated") else "")
        return (f"MEASURED on {what} as profile {dev['id']}, {doc['date']}, `{doc['command']}`: benchmark_bin "
                f"{p['runtime_version']}, {p['threads']} thread(s) on cores 0x{p['core_mask'] or '-'}, power mode "
                f"{p['power_mode']}, warmup {p['warmup']}, repeats {p['repeats']} in {p['invocations']} invocation(s), "
                f"{p['e2e_images']} images{warn}" + "".join(f"\n{f}" for f in dev.get("forced", [])))
    return (f"MEASURED on {dev['id']} ({env['processor']}, {env['cores']} cores), {doc['date']}, "
            f"`{doc['command']}`: {p['runtime']} (paddlepaddle {env.get('paddlepaddle')}, paddlelite "
            f"{env.get('paddlelite')}), {p['threads']} thread(s), warmup {p['warmup']}, repeats {p['repeats']}, "
            f"{p['e2e_images']} images" + (f" (warm: {p['e2e_warmup']} first, untimed)" if p.get("e2e_warmup") else ""))


def show(doc: dict, fmt: str = "simple") -> str:
    """Any results document as text, the way its runner printed it."""
    if doc["kind"] == "eval":
        return eval_table(doc, fmt, seconds=False) + "\n\n" + eval_footer(doc)
    return bench_tables(doc, fmt)
