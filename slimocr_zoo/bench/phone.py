"""The benchmark on a phone over adb: Paddle Lite's benchmark_bin per model, end to end per image.

End-to-end latency on the phone is composed, not guessed: the same det model runs here through the
pipeline to find each image's boxes; the phone then times det at each image's input shape and rec
at each crop's shape (benchmark_bin, batch 1, as the Lite OCR demo runs rec per box); an image's
figure is det + the sum over its boxes of rec. Pre/post-processing on the phone is not in it.
"""
from __future__ import annotations

import datetime
import re
import sys
import threading
from pathlib import Path
from typing import List, NamedTuple, Optional

from .. import cache, settings
from ..api import load
from ..devices.adb import Adb
from ..devices.android import POWER_MODES, Phone, pick_serials
from ..errors import BenchFailed, BenchOutputError, DeviceError, ZooError
from ..results import SYNTHETIC, X86_INT8, bench_tables, header, save
from . import litebench
from .host import load_for_bench, load_nb, representative_input


class Pushed(NamedTuple):
    """A model's .nb on the phone."""
    loaded: object
    remote: str
    note: Optional[str]
    opt_version: str
    sha256: str


def runtime_binary(a, prof: dict) -> Path:
    rt = prof.get("runtime", {})
    cand = a.runtime or settings.benchmark_bin()
    if cand:
        p = Path(cand)
        if not p.is_file():
            raise ZooError(f"--runtime {p}: no such file (Paddle Lite's benchmark_bin for the phone)")
        return p
    p = cache.home() / "runtimes" / f"benchmark_bin-{rt.get('version', '')}-{rt.get('abi', '')}"
    if p.is_file():
        return p
    raise ZooError(f"no benchmark_bin for {prof['id']}: Paddle Lite {rt.get('version')} benchmark_bin for "
                   f"{rt.get('abi')} is needed ({rt.get('get', 'build it from Paddle-Lite')}); give it with "
                   f"--runtime PATH or put it at {p}")


def run_phone(a, prof: dict, images: list, command: str) -> int:
    adb = Adb()
    binary = runtime_binary(a, prof)
    serials = pick_serials(adb, a.serial)
    proto = dict(prof["quick" if a.quick else "protocol"])
    settings = {
        "threads": a.threads or proto["threads"], "warmup": proto["warmup"] if a.warmup is None else a.warmup,
        "repeats": a.repeats or proto["repeats"], "invocations": a.invocations or proto.get("invocations", 1),
        "power_mode": POWER_MODES.get(a.power_mode or prof.get("power_mode", "LITE_POWER_HIGH"), 0),
        "e2e_warmup": proto.get("e2e_warmup", 2), "e2e_repeats": proto.get("e2e_repeats", 5),
        "images": proto.get("images", 5)}
    th = prof.get("thermal", {})
    cool = {"below_c": a.cooldown_temp if a.cooldown_temp is not None else th.get("cooldown_below_c", 45),
            "limit_s": a.cooldown_max if a.cooldown_max is not None else th.get("cooldown_max_s", 180),
            "poll_s": th.get("poll_s", 5)}
    images = images or []  # --images DIR: all of them; else the profile's count of the default set
    base = header("bench", command, measured=True, host_role="finds the boxes for end-to-end; times nothing")
    results, errors = {}, {}
    cfgs = a.configs
    phones = {}
    for serial in serials:  # identity first, on every phone, before anything is pushed
        phone = Phone(adb, serial, prof)
        props = phone.props()
        phones[serial] = (phone, props, phone.check(props, a.force), phone.target(props))
    # loads and builds here, in the main thread: paddle's static-graph mode (used by builds) is per thread
    ids = list(dict.fromkeys([m for c in cfgs for m in (c.det, c.rec)]))
    models = {t: {mid: _load_nb(mid, t, a) for mid in ids} for t in {v[3] for v in phones.values()}}
    if a.e2e_binary:  # its cls .nb and the dictionary, built/fetched here for the same reason
        for t in models:
            for c in cfgs:
                _load_or_none(c.cls or DEFAULT_CLS, t, a)
    hosts = {}
    if a.e2e and images:
        for det in dict.fromkeys(c.det for c in cfgs):
            try:
                hosts[det] = load_for_bench(det, "paddle", 1, mirror=a.mirror, offline=a.offline, quiet=True)
            except ZooError as e:
                hosts[det] = e

    def one(serial):
        out = a.out if a.out and len(serials) == 1 else a.out_dir / (
            f"bench-{prof['id']}-{re.sub(r'[^A-Za-z0-9_.-]', '_', serial)}{'-quick' if a.quick else ''}.json")
        phone, props, forced, target = phones[serial]
        try:
            results[serial] = run_device(phone, props, forced, target, binary, settings, cool, images, base, out, a,
                                         cfgs, models[target], hosts)
        except (ZooError, OSError) as e:
            errors[serial] = e

    threads = [threading.Thread(target=one, args=(s,), name=s, daemon=True) for s in serials]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():  # short joins: Ctrl-C reaches the main thread (finished entries are saved)
            t.join(0.5)
    failed = []
    for s, (doc, out) in results.items():
        print(bench_tables(doc))
        print(f"\nwrote {out}\n")
        failed += [f"{s} {m['id']}: {m['failed'].splitlines()[0]}" for m in doc["models"] if "failed" in m]
    if errors:
        msg = "; ".join(str(e) if str(e).startswith(s) else f"{s}: {e}" for s, e in errors.items())
        raise DeviceError(msg + ("" if not results else " (the other devices finished)")
                          + ". Finished entries are saved: rerun with --resume")
    if failed:
        print("error: benchmark_bin failed on " + "; ".join(failed) + " (details in the results file)",
              file=sys.stderr)
        return 1
    return 0


DEFAULT_CLS = "ch_ppocr_mobile_v1.1_cls"


def _load_or_none(mid, target, a):
    try:
        return load(mid, format="nb", target=target, mirror=a.mirror, offline=a.offline, quiet=True)
    except ZooError:
        return None


def _load_nb(mid, target, a):
    try:
        return load_nb(mid, target, mirror=a.mirror, offline=a.offline, quiet=True)
    except ZooError as e:
        return e


def run_device(phone, props, forced, target, binary, st, cool, images, base, out: Path, a, cfgs, models, hosts):
    import numpy as np
    from tqdm.auto import tqdm

    from ..ocr.image import read_image

    adb, serial, prof = phone.adb, phone.serial, phone.profile
    phone.ensure_space(binary.stat().st_size + 64 * 2**20)
    remote_bin, bin_sha = phone.push(binary, "benchmark_bin")
    rc, ver_out, ver_err = adb.shell(serial, f"{remote_bin} --version", timeout=60)
    if rc != 0:
        raise DeviceError(f"{serial}: {remote_bin} --version exited {rc}: {(ver_err or ver_out).strip()[-300:]} "
                          f"(is it a benchmark_bin built for {props.get('ro.product.cpu.abi')}?)")
    bin_version = litebench.version(ver_out)
    emulated = props.get("ro.kernel.qemu") == "1"
    doc = None
    if a.resume and out.is_file():
        import json

        doc = json.loads(out.read_text("utf-8"))
    if doc is None:
        doc = {**base, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "device": {"id": prof["id"], "kind": prof["kind"], "description": prof["description"],
                          "serial": serial, "emulated": emulated, "target": target, "forced": forced,
                          "props": {k: v for k, v in props.items() if k.startswith(("ro.product", "ro.board",
                                    "ro.build.version", "ro.soc", "ro.hardware", "ro.kernel.qemu"))}},
               "protocol": {"runtime": "lite", "runner": "benchmark_bin", "runtime_version": bin_version,
                            "runtime_sha256": bin_sha, "threads": st["threads"], "warmup": st["warmup"],
                            "repeats": st["repeats"], "invocations": st["invocations"],
                            "power_mode": st["power_mode"], "core_mask": _mask(prof, st["threads"]),
                            "cooldown": cool, "e2e_images": len(images), "e2e_warmup": st["e2e_warmup"],
                            "e2e_repeats": st["e2e_repeats"], "quick": a.quick},
               "models": [], "e2e": []}
        if emulated:
            doc["device"]["note"] = "EMULATED device (ro.kernel.qemu=1): its timings are not a phone's"
    ids = list(dict.fromkeys([m for c in cfgs for m in (c.det, c.rec)]))
    done = {m["id"] for m in doc["models"] if "stats" in m}
    ctx = {"phone": phone, "remote_bin": remote_bin, "st": st, "target": target, "bin_version": bin_version,
           "cool": cool, "hosts": hosts, "kw": {"mirror": a.mirror, "offline": a.offline, "quiet": True}}
    nbs = {}
    ref_img = read_image(images[0]) if images else np.zeros((720, 1280, 3), np.uint8)  # the shapes' reference
    for mid in tqdm(ids, desc=f"{serial} models", disable=True if a.quiet else None):
        try:
            nbs[mid] = _nb_for(mid, models[mid], ctx)
        except ZooError as e:
            doc["models"] = [x for x in doc["models"] if x["id"] != mid] + [{"id": mid, "skipped": str(e)[:400]}]
            save(doc, out)
            continue
        if mid in done:
            continue
        loaded, remote, why, opt_version, sha = nbs[mid]
        shape = _representative_shape(loaded, ref_img)
        doc["models"] = [x for x in doc["models"] if x["id"] != mid]
        entry = {"id": mid, "task": loaded.entry.task, "artifact": loaded.artifact.name,
                 "format": loaded.artifact.describe(), "runtime": "lite", "threads": st["threads"],
                 "synthetic": loaded.artifact.synthetic, "precision": loaded.artifact.precision or "fp32",
                 "files_sha256": {n: sha for n in loaded.files}, "remote": remote,  # a .nb is one file
                 "opt_version": opt_version,
                 "files_bytes": {n: f.stat().st_size for n, f in loaded.files.items()},
                 "input_shape": shape, "notes": [n for n in [why] if n]
                 + ([SYNTHETIC] if loaded.artifact.synthetic else [])
                 + ([X86_INT8] if target == "x86" and loaded.artifact.precision == "int8" else [])}
        entry["thermal_before"] = phone.cool_down(**cool)
        entry["notes"] += _thermal_notes(entry["thermal_before"])
        try:
            runs = [_bench(ctx, remote, shape, st["warmup"], max(1, st["repeats"] // st["invocations"]))
                    for _ in range(st["invocations"])]
        except BenchFailed as e:  # this model, not the phone: record it and go on
            doc["models"].append({**entry, "failed": str(e)})
            nbs.pop(mid)
            save(doc, out)
            continue
        entry.update(litebench.combine(runs, max(1, st["repeats"] // st["invocations"])))
        doc["models"].append(entry)
        save(doc, out)
    done_cfg = {e["config"] for e in doc["e2e"] if "stats" in e}
    for c in cfgs if a.e2e else []:
        if c.id in done_cfg:
            continue
        doc["e2e"] = [e for e in doc["e2e"] if e["config"] != c.id]
        if c.det not in nbs or c.rec not in nbs or not images:
            why = [f"{m['id']}: {m['skipped']}" for m in doc["models"] if m["id"] in (c.det, c.rec) and "skipped" in m]
            doc["e2e"].append({"config": c.id, "det": c.det, "rec": c.rec,
                               "skipped": "no images" if not images else "; ".join(why)[:600]})
            save(doc, out)
            continue
        entry = _e2e(ctx, c, nbs, images)
        if a.e2e_binary and "stats" in entry:
            try:
                entry["direct"] = _e2e_binary(ctx, c, nbs, images, a.e2e_binary)
            except DeviceError:
                raise
            except ZooError as e:  # the demo program or its files, not the phone: noted, the run goes on
                entry["direct"] = {"failed": str(e)}
        doc["e2e"].append(entry)
        save(doc, out)
    return doc, out


def _mask(prof: dict, threads: int) -> str:
    cores = ([prof["prime_core"]] if "prime_core" in prof else []) + [c for c in reversed(prof.get("big_cores", []))
                                                                       if c != prof.get("prime_core")]
    use = cores[:threads]
    return format(sum(1 << c for c in use), "x") if use else ""


def _thermal_notes(seen: dict) -> List[str]:
    notes = []
    if not seen.get("cooled"):
        notes.append(f"HOT: {seen['max_c']:.1f} C after {seen['waited_s']:.0f} s of cooldown; throttling likely")
    if seen.get("throttled"):
        notes.append(f"throttled before the run: {', '.join(seen['throttled'])} below 90% of max frequency")
    return notes


def _nb_for(mid: str, got, ctx: dict):
    """The .nb for the device's target (the labelled synthetic stand-in if the real one is missing), pushed."""
    from ..runtime.nbfile import inspect_nb

    if isinstance(got, Exception):
        raise got
    loaded, why = got
    nb = next(iter(loaded.files.values()))
    info = inspect_nb(nb)
    if info.version != ctx["bin_version"]:
        raise ZooError(f"{mid}: {nb.name} was built by opt {info.version}, the phone's benchmark_bin is "
                       f"{ctx['bin_version']}: use a benchmark_bin of the same Paddle Lite version (--runtime)")
    phone = ctx["phone"]
    phone.ensure_space(nb.stat().st_size + 16 * 2**20)
    remote, sha = phone.push(nb, f"{mid}-{loaded.artifact.name}-{{sha}}.nb")
    return Pushed(loaded, remote, (why or {}).get("note"), info.version, sha)


def _bench(ctx, remote: str, shape, warmup: int, repeats: int) -> dict:
    st, phone = ctx["st"], ctx["phone"]
    cmd = litebench.command(ctx["remote_bin"], remote, shape, backend=ctx["target"], threads=st["threads"],
                            power_mode=st["power_mode"], warmup=warmup, repeats=repeats,
                            core_mask=_mask(phone.profile, st["threads"]))
    rc, out, err = phone.adb.shell(phone.serial, f"cd {phone.workdir} && {cmd}")
    if "Perf Info" not in out:
        phone.ensure_online()  # a dropped connection reads like an empty output: tell them apart
    if rc != 0:
        sig = {134: "SIGABRT", 139: "SIGSEGV", 137: "SIGKILL", 132: "SIGILL"}.get(rc)
        tail = "\n".join((err + out).strip().splitlines()[-10:])
        raise BenchFailed(f"benchmark_bin {'crashed (' + sig + ')' if sig else 'exited ' + str(rc)} on {remote}:\n{tail}")
    try:
        return litebench.parse(out)
    except BenchOutputError as e:
        raise BenchFailed(str(e)) from None


def _representative_shape(loaded, img) -> list:
    """The shape the host bench times: det at the first image's pre-processed shape, rec on one crop."""
    return list(representative_input(loaded, img, img[0:48, 0:200]).shape)


def e2e_plan(det_model, rec_spec: dict, images) -> list:
    """Per image: det's input shape and every box's rec input shape, from a real det run here."""
    from ..ocr.det import preprocess
    from ..ocr.geometry import crop, reading_order
    from ..ocr.image import read_image
    from ..ocr.rec import batch_width

    plan = []
    for p in images:
        img = read_image(p)
        found = det_model.stage(img)
        crops = [crop(img, found.boxes[i]) for i in reading_order(found.boxes)]
        plan.append({"image": str(p), "det_shape": list(preprocess(img, det_model.entry.input)[0].shape),
                     "rec_shapes": [[1, 3, rec_spec["height"], batch_width([c], rec_spec)] for c in crops]})
    return plan


def _e2e(ctx, c, nbs, images) -> dict:
    from .stats import summarize

    got = ctx["hosts"][c.det]
    if isinstance(got, Exception):
        return {"config": c.id, "det": c.det, "rec": c.rec, "skipped": f"cannot find the boxes here: {got}"[:600]}
    det_host, why = got
    plan = e2e_plan(det_host, nbs[c.rec].loaded.entry.input, images)
    st, times = ctx["st"], {}
    shapes = [("det", tuple(p["det_shape"])) for p in plan] + [("rec", tuple(s)) for p in plan for s in p["rec_shapes"]]
    for kind, shape in dict.fromkeys(shapes):  # each distinct shape once
        remote = nbs[c.det if kind == "det" else c.rec].remote
        times[(kind, shape)] = _bench(ctx, remote, list(shape), st["e2e_warmup"], st["e2e_repeats"])["avg"]
    per_image = [times[("det", tuple(p["det_shape"]))] + sum(times[("rec", tuple(s))] for s in p["rec_shapes"])
                 for p in plan]
    notes = sorted({n for mid in (c.det, c.rec) for n in [nbs[mid].note] if n}
                   | ({SYNTHETIC} if any(nbs[m].loaded.artifact.synthetic for m in (c.det, c.rec)) else set())
                   | ({f"boxes found here by {det_host.artifact.name}: {why['note']}"} if why else set()))
    return {"config": c.id, "det": c.det, "rec": c.rec, "baseline": c.baseline,
            "artifacts": {"det": nbs[c.det].loaded.artifact.name, "rec": nbs[c.rec].loaded.artifact.name},
            "method": "composed: det at each image's shape + rec at each box's shape, benchmark_bin avg per shape",
            "images": [p["image"] for p in plan], "boxes_per_image": [len(p["rec_shapes"]) for p in plan],
            "plan": plan, "shape_ms": [{"model": k, "shape": list(s), "avg_ms": v} for (k, s), v in times.items()],
            "samples_ms": per_image, "stats": summarize(per_image), "notes": notes}


OCR_CONFIG = "max_side_len 960\ndet_db_thresh 0.3\ndet_db_box_thresh 0.5\ndet_db_unclip_ratio 1.6\n" \
             "use_direction_classify 0\nrec_image_height {h}\n"


def _e2e_binary(ctx, c, nbs, images, binary: Path) -> dict:
    """PaddleOCR's deploy/lite ocr_db_crnn per image: its own printed wall time ("花费了N秒")."""
    from .stats import summarize

    phone, kw = ctx["phone"], ctx["kw"]
    remote, binary_sha = phone.push(binary, "ocr_db_crnn")
    cls_id = c.cls or DEFAULT_CLS
    cls_nb = next(iter(load(cls_id, format="nb", target=ctx["target"], **kw).files.values()))
    rec_input = nbs[c.rec].loaded.entry.input
    dict_file = nbs[c.rec].loaded.dependency("dictionary")
    cls_remote, _ = phone.push(cls_nb, f"{cls_id}-{{sha}}.nb")
    dict_remote, _ = phone.push(dict_file, "ppocr_keys.txt")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.txt"
        cfg.write_text(OCR_CONFIG.format(h=rec_input["height"]))
        phone.push(cfg, "config.txt")
    times, lines = [], []
    for img in images:
        img = Path(img)
        r_img, _ = phone.push(img)
        cmd = f"cd {phone.workdir} && {remote} {nbs[c.det].remote} {nbs[c.rec].remote} {cls_remote} {r_img} {dict_remote}"
        rc, out, err = phone.adb.shell(phone.serial, cmd)
        m = re.search(r"花费了\s*([0-9.eE+-]+)\s*秒", out)
        if rc != 0 or not m:
            if not out:
                phone.ensure_online()
            tail = "\n".join((err + out).strip().splitlines()[-8:])
            raise BenchFailed(f"ocr_db_crnn {'exited ' + str(rc) if rc else 'printed no 花费了N秒 line'} on {img.name}:\n{tail}")
        times.append(float(m.group(1)) * 1e3)
        lines.append(sum(1 for x in out.splitlines() if re.match(r"^\d+\t", x)))
    return {"method": "direct: PaddleOCR ocr_db_crnn's own wall time per image (includes loading the 3 models)",
            "binary_sha256": binary_sha, "cls": cls_id, "texts_per_image": lines, "samples_ms": times,
            "stats": summarize(times)}
