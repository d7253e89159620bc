"""python -m slimocr_zoo.bench --device cpu [--quick] [--configs 0 1 2 3] [--runtime paddle|lite] ..."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path


def _default_images(n: int):
    from ..eval import default_data_dir, read_det_labels

    d = default_data_dir()
    if d is None:
        return None
    return [p for p, _ in read_det_labels(Path(d) / "icdar2015_det/labels.txt")[:n]]


def _save(doc: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)  # a finished entry is never lost to an interrupt


def main(argv=None) -> int:
    from ..errors import ZooError, guarded
    from ..devices import device

    p = argparse.ArgumentParser(prog="python -m slimocr_zoo.bench",
                                description="Latency of each model and of end-to-end OCR per seed configuration.")
    p.add_argument("--device", default="cpu", help="a profile of manifests/devices.json: cpu, sd855")
    p.add_argument("--configs", nargs="+", default=["0", "1", "2", "3"],
                   help="seed rows (0-3) and/or DET+REC model pairs")
    p.add_argument("--runtime", help="cpu: paddle (default) or lite; a phone: the benchmark_bin to push "
                                     "(default: $SLIMOCR_ZOO_BENCHMARK_BIN, then the cache's runtimes/)")
    p.add_argument("--serial", help="phone(s): SERIAL[,SERIAL...] or all (each runs in parallel); "
                                    "HOST:PORT is adb-connected first")
    p.add_argument("--force", action="store_true", help="run on a phone that does not match the profile (noted)")
    p.add_argument("--power-mode", choices=["LITE_POWER_HIGH", "LITE_POWER_LOW", "LITE_POWER_FULL",
                                            "LITE_POWER_NO_BIND", "LITE_POWER_RAND_HIGH", "LITE_POWER_RAND_LOW"])
    p.add_argument("--e2e-binary", type=Path, help="phone: also time PaddleOCR's ocr_db_crnn (deploy/lite) per image")
    p.add_argument("--invocations", type=int, help="phone: split --repeats over this many benchmark_bin runs")
    p.add_argument("--cooldown-temp", type=float, help="phone: wait before each model until below this (deg C)")
    p.add_argument("--cooldown-max", type=float, help="phone: wait at most this long (s), then go on with a note")
    p.add_argument("--threads", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--repeats", type=int)
    p.add_argument("--images", type=Path, help="a folder of images for end-to-end OCR (default: ICDAR 2015 subset)")
    p.add_argument("--no-e2e", dest="e2e", action="store_false", help="per-model figures only")
    p.add_argument("--quick", action="store_true", help="the device's short protocol")
    p.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/bench-DEVICE-RUNTIME.json)")
    p.add_argument("--resume", action="store_true", help="keep the finished entries of --out and run the rest")
    p.add_argument("--mirror", action="append", default=[])
    p.add_argument("--offline", action="store_true", default=None)
    p.add_argument("--quiet", "-q", action="store_true")
    p.add_argument("--show", type=Path, metavar="RESULTS", help="print the tables of a results file and exit")
    a = p.parse_args(argv)
    if a.show:
        if not a.show.is_file():
            print(f"error: no results file {a.show}", file=sys.stderr)
            return 2
        print(summary(json.loads(a.show.read_text("utf-8")), fmt="github"))
        return 0

    def body():
        prof = device(a.device)
        a.images_list = _images(a, prof)
        if prof["kind"] == "adb":
            from .phone import run_phone

            return run_phone(a, prof, argv)
        a.runtime = a.runtime or "paddle"
        if a.runtime not in ("paddle", "lite"):
            raise ZooError(f"--runtime {a.runtime}: --device {a.device} runs paddle or lite")
        return run_host(a, prof, argv)

    return guarded(body, "interrupted: finished entries are saved; rerun with --resume to continue")


def configs(reg, items) -> list:
    """Seed rows by number, or an ad-hoc DET+REC pair (same fields: id, det, rec)."""
    from types import SimpleNamespace

    from ..errors import ZooError

    out = []
    for c in items:
        if str(c).isdigit():
            out.append(reg.config(int(c)))
        elif "+" in str(c):
            det, _, rec = str(c).partition("+")
            out.append(SimpleNamespace(id=str(c), det=reg.resolve(det).id, rec=reg.resolve(rec).id))
        else:
            raise ZooError(f"--configs {c}: give a seed row (0-3) or a DET+REC pair of model ids")
    return out


def _images(a, prof) -> list:
    from ..errors import ZooError

    n = dict(prof["quick" if a.quick else "protocol"]).get("images", 5)
    if a.images:
        if not a.images.is_dir():
            raise ZooError(f"--images {a.images}: not a folder of images")
        return sorted(x for x in a.images.iterdir() if x.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"))
    return _default_images(n) or []


def run_host(a, prof, argv=None) -> int:
    from tqdm.auto import tqdm

    from ..errors import ZooError
    from ..eval import environment, file_sha256
    from ..ocr.image import read_image
    from ..ocr.system import OCR
    from ..registry import get_registry
    from .host import load_for_bench, note_for, representative_input, time_e2e, time_model

    proto = dict(prof["quick" if a.quick else "protocol"])
    threads = a.threads or proto["threads"]
    warmup = proto["warmup"] if a.warmup is None else a.warmup
    repeats = a.repeats or proto["repeats"]
    images = a.images_list
    if not images:
        raise ZooError("no images for end-to-end OCR: give --images DIR (or set up ../shared/data)")
    out = a.out or Path("benchmarks/results") / f"bench-{prof['id']}-{a.runtime}{'-quick' if a.quick else ''}.json"
    doc = json.loads(out.read_text()) if a.resume and out.is_file() else None
    if doc is None:
        doc = {"kind": "bench", "schema_version": 1,
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "command": "python -m slimocr_zoo.bench " + " ".join(sys.argv[1:] if argv is None else argv),
               "device": {k: prof[k] for k in ("id", "kind", "description")}, "environment": environment(),
               "protocol": {"runtime": a.runtime, "threads": threads, "warmup": warmup, "repeats": repeats,
                            "e2e_images": len(images), "quick": a.quick},
               "measured": True, "models": [], "e2e": []}
    kw = {"mirror": a.mirror, "offline": a.offline, "quiet": a.quiet}
    reg = get_registry()
    cfgs = configs(reg, a.configs)
    ids = list(dict.fromkeys([m for c in cfgs for m in (c.det, c.rec)]))
    det_img = read_image(images[0])
    rec_crop = read_image(images[0])[0:48, 0:200]
    done = {m["id"] for m in doc["models"]}
    loaded = {}
    for mid in tqdm(ids, desc="models", disable=True if a.quiet else None):
        try:
            m, why = load_for_bench(mid, a.runtime, threads, **kw)
        except Exception as e:  # recorded, the run goes on
            doc["models"] = [x for x in doc["models"] if x["id"] != mid] + [{"id": mid, "skipped": str(e)[:400]}]
            _save(doc, out)
            continue
        loaded[mid] = m
        if mid in done:
            continue
        x = representative_input(m, det_img, rec_crop)
        try:
            timing = time_model(m, x, warmup, repeats)
        except ZooError as e:  # a runtime guard (e.g. int8 .nb on x86 Lite): recorded, the run goes on
            loaded.pop(mid)
            doc["models"].append({"id": mid, "artifact": m.artifact.name, "skipped": str(e)[:400]})
            _save(doc, out)
            continue
        entry = {"id": mid, "task": m.entry.task, "artifact": m.artifact.name, "format": m.artifact.describe(),
                 "runtime": m.runtime, "threads": threads, "synthetic": m.artifact.synthetic,
                 "precision": m.artifact.precision or "fp32",
                 "files_sha256": {n: file_sha256(f) for n, f in m.files.items()},
                 "files_bytes": {n: f.stat().st_size for n, f in m.files.items()},
                 "notes": [n for n in [(why or {}).get("note")] + note_for(m) if n],
                 "fallback_reason": (why or {}).get("reason"), **timing}
        doc["models"].append(entry)
        _save(doc, out)
    done_cfg = {e["config"] for e in doc["e2e"]}
    for c in cfgs if a.e2e else []:
        if c.id in done_cfg:
            continue
        if c.det not in loaded or c.rec not in loaded:
            doc["e2e"].append({"config": c.id, "det": c.det, "rec": c.rec, "skipped": "a model of this row could not be loaded"})
            _save(doc, out)
            continue
        ocr = OCR(loaded[c.det], loaded[c.rec])
        entry = {"config": c.id, "det": c.det, "rec": c.rec,
                 "artifacts": {"det": loaded[c.det].artifact.name, "rec": loaded[c.rec].artifact.name},
                 "notes": sorted({n for mid in (c.det, c.rec) for m in doc["models"] if m["id"] == mid
                                  for n in m.get("notes", [])}),
                 **time_e2e(ocr, images, warmup)}
        doc["e2e"].append(entry)
        _save(doc, out)
    print(summary(doc))
    print(f"\nwrote {out}")
    return 0


def summary(doc: dict, fmt: str = "simple") -> str:
    from tabulate import tabulate

    from . import brief

    rows = []
    for m in doc["models"]:
        if "stats" not in m:
            what = "skipped: " + m["skipped"] if "skipped" in m else "FAILED: " + m["failed"]
            rows.append([m["id"], m.get("artifact", "-"), "-", "-", brief(what, 100)])
            continue
        s = m["stats"]
        rows.append([m["id"], m["artifact"], f"{s['median']:.2f}", f"{s['p90']:.2f}", "; ".join(m["notes"])])
    t1 = tabulate(rows, headers=["model", "artifact", "median ms", "p90 ms", "notes"], tablefmt=fmt,
                  disable_numparse=True)
    rows = []
    base = next((e for e in doc["e2e"] if e["config"] == 0 and "stats" in e), None)
    for e in doc["e2e"]:
        if "stats" not in e:
            rows.append([e["config"], e["det"], e["rec"], "-", "-", brief(e.get("skipped", ""))])
            continue
        med = e["stats"]["median"]
        simulated = [m for m in doc["models"] if m["id"] in (e["det"], e["rec"]) and m.get("precision") == "int8"
                     and m.get("runtime") == "paddle"]
        if simulated:
            speed = "n/a (simulated int8)"  # a speed-up from simulated int8 would mislead
        else:
            speed = f"{(base['stats']['median'] / med - 1) * 100:.0f}%" if base and e is not base else "-"
        rows.append([e["config"], e["det"], e["rec"], f"{med:.1f}", speed, "; ".join(e["notes"])])
    t2 = tabulate(rows, headers=["row", "det", "rec", "e2e median ms", "speed-up vs row 0", "notes"], tablefmt=fmt,
                  disable_numparse=True)
    p = doc["protocol"]
    env = doc["environment"]
    dev = doc["device"]
    if dev["kind"] == "adb":
        props = dev.get("props", {})
        what = (f"{dev['serial']} ({props.get('ro.product.model')}, {props.get('ro.board.platform')}, "
                f"{props.get('ro.product.cpu.abi')})")
        warn = ("\nEMULATED DEVICE: the project's test phone (tests/phone) running x86 Paddle Lite on this host; "
                "NOT a Snapdragon 855 figure" if dev.get("emulated") else "")
        return (f"MEASURED on {what} as profile {dev['id']}, {doc['date']}, `{doc['command']}`: benchmark_bin "
                f"{p['runtime_version']}, {p['threads']} thread(s) on cores 0x{p['core_mask'] or '-'}, power mode "
                f"{p['power_mode']}, warmup {p['warmup']}, repeats {p['repeats']} in {p['invocations']} invocation(s), "
                f"{p['e2e_images']} images{warn}" + "".join(f"\n{f}" for f in dev.get("forced", []))
                + f"\n\n{t1}\n\n{t2}")
    return (f"MEASURED on {doc['device']['id']} ({env['processor']}, {env['cores']} cores), {doc['date']}, "
            f"`{doc['command']}`: {p['runtime']} (paddlepaddle {env.get('paddlepaddle')}, paddlelite "
            f"{env.get('paddlelite')}), {p['threads']} thread(s), warmup {p['warmup']}, repeats {p['repeats']}, "
            f"{p['e2e_images']} images\n\n{t1}\n\n{t2}")


if __name__ == "__main__":
    sys.exit(main())
