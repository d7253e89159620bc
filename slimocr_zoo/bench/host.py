"""The benchmark on this machine: the same predictors and pipeline users run, timed in-process."""
from __future__ import annotations

import json
import time
from typing import List

import numpy as np

from ..api import load
from ..errors import ZooError
from ..files import sha256_of
from ..registry import get_registry
from ..results import SIMULATED_INT8, SYNTHETIC, bench_tables, header, save
from .stats import summarize


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1e3


def representative_input(loaded, det_image, rec_crop) -> np.ndarray:
    """The input the model sees in the pipeline: det at the image's pre-processed shape, one rec/cls crop."""
    from ..ocr.det import preprocess
    from ..ocr.rec import batch_width, resize_norm

    spec = loaded.entry.input
    if loaded.entry.task == "det":
        return preprocess(det_image, spec)[0]
    return resize_norm(rec_crop, spec, batch_width([rec_crop], spec))[None]


def time_model(loaded, x: np.ndarray, warmup: int, repeats: int) -> dict:
    t0 = time.perf_counter()
    predictor = loaded.stage.predictor  # built here: init time includes loading the model
    init = _ms(t0)
    t0 = time.perf_counter()
    predictor.run(x)
    first = _ms(t0)
    for _ in range(warmup):
        predictor.run(x)
    samples: List[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictor.run(x)
        samples.append(_ms(t0))
    return {"init_ms": init, "first_ms": first, "input_shape": list(x.shape), "samples_ms": samples,
            "stats": summarize(samples)}


def op_profile(loaded, x: np.ndarray) -> dict:
    """Per op type ms of one run (Paddle Inference's profiler); Paddle Lite x86 has none."""
    if loaded.runtime != "paddle":
        return {"unavailable": "Paddle Lite x86 has no per-op profiler in its Python wheel"}
    from ..runtime.profile import profile

    return profile(lambda: loaded.stage.predictor.run(x))


def time_e2e(ocr, images: list, warmup: int) -> dict:
    from ..ocr.image import read_image

    imgs = [read_image(p) for p in images]
    # every image once untimed: oneDNN makes its kernels per input shape, and an int8 model's first run
    # of a shape costs several times a warm one; timing the first 20 warm and the rest cold moved a
    # row's speed-up by 20 points between two runs (2026-12-01)
    for img in imgs if warmup else imgs[:1]:
        ocr(img)
    per_image, stages, boxes = [], {}, []
    for img in imgs:
        res = ocr(img)
        per_image.append(res.timings["total"])
        boxes.append(res.boxes_found)
        for k, v in res.timings.items():
            stages.setdefault(k, []).append(v)
    return {"images": [str(p) for p in images], "boxes_per_image": boxes, "samples_ms": per_image,
            "stats": summarize(per_image), "stages_mean_ms": {k: sum(v) / len(v) for k, v in stages.items()}}


def load_for_bench(mid: str, runtime: str, threads: int, prefer_synthetic_fallback: bool = True, **kw):
    """The artifact this machine can time: the real weights, else the labelled synthetic stand-in."""
    fmt = "nb" if runtime == "lite" else "paddle"
    target = "x86" if runtime == "lite" else None
    return _real_or_stand_in(mid, fmt, target, prefer_synthetic_fallback, runtime=runtime, threads=threads, **kw)


def load_nb(mid: str, target: str, **kw):
    """The .nb a phone of this target runs (not runnable here when target is arm)."""
    return _real_or_stand_in(mid, "nb", target, True, **kw)


def _real_or_stand_in(mid, fmt, target, fallback, **kw):
    try:
        return load(mid, format=fmt, target=target, **kw), None
    except ZooError as e:
        if not fallback:
            raise
        model = get_registry().resolve(mid)
        stand_in = [a for a in model.artifacts if a.synthetic and a.format == fmt and (target is None or a.target == target)]
        if not stand_in and target == "x86" and "LSTM" in model.architecture.get("neck", ""):
            raise ZooError(f"no x86 .nb: Paddle Lite x86 has no lstm kernel for {mid}'s {model.architecture['neck']} "
                           f"(its .nb files are arm only)") from None
        if not stand_in:
            raise
        why = {"note": f"real weights unavailable here: timed the synthetic stand-in {stand_in[0].name!r}",
               "reason": str(e).splitlines()[0][:400]}
        return load(mid, artifact=stand_in[0].name, **kw), why


def note_for(loaded) -> List[str]:
    a = loaded.artifact
    notes = [SYNTHETIC] if a.synthetic else []
    if loaded.precision == "int8-simulated":
        notes.append(SIMULATED_INT8)
    return notes


def run_host(a, prof: dict, images: list, command: str) -> int:
    """Every model of the configurations, then end-to-end OCR per configuration, into one results file."""
    from tqdm.auto import tqdm

    from ..ocr.image import read_image
    from ..ocr.system import OCR

    proto = dict(prof["quick" if a.quick else "protocol"])
    threads = a.threads or proto["threads"]
    warmup = proto["warmup"] if a.warmup is None else a.warmup
    repeats = a.repeats or proto["repeats"]
    if not images:
        raise ZooError("no images for end-to-end OCR: give --images DIR (or set up ../shared/data)")
    out = a.out or a.out_dir / f"bench-{prof['id']}-{a.runtime}{'-quick' if a.quick else ''}.json"
    doc = json.loads(out.read_text()) if a.resume and out.is_file() else None
    if doc is None:
        doc = header("bench", command, device={k: prof[k] for k in ("id", "kind", "description")},
                     protocol={"runtime": a.runtime, "threads": threads, "warmup": warmup, "repeats": repeats,
                               "e2e_images": len(images), "e2e_warmup": "each image once" if warmup else "one image",
                               "quick": a.quick},
                     measured=True, models=[], e2e=[])
    kw = {"mirror": a.mirror, "offline": a.offline, "quiet": a.quiet}
    cfgs = a.configs
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
            save(doc, out)
            continue
        loaded[mid] = m
        if mid in done:
            continue
        x = representative_input(m, det_img, rec_crop)
        try:
            timing = time_model(m, x, warmup, repeats)
            if getattr(a, "profile", False):
                timing["op_profile"] = op_profile(m, x)
        except ZooError as e:  # a runtime guard (e.g. int8 .nb on x86 Lite): recorded, the run goes on
            loaded.pop(mid)
            doc["models"].append({"id": mid, "artifact": m.artifact.name, "skipped": str(e)[:400]})
            save(doc, out)
            continue
        entry = {"id": mid, "task": m.entry.task, "artifact": m.artifact.name, "format": m.artifact.describe(),
                 "runtime": m.runtime, "threads": threads, "synthetic": m.artifact.synthetic,
                 "precision": m.precision,
                 "files_sha256": {n: sha256_of(f) for n, f in m.files.items()},
                 "files_bytes": {n: f.stat().st_size for n, f in m.files.items()},
                 "notes": [n for n in [(why or {}).get("note")] + note_for(m) if n],
                 "fallback_reason": (why or {}).get("reason"), **timing}
        doc["models"].append(entry)
        save(doc, out)
    done_cfg = {e["config"] for e in doc["e2e"]}
    for c in cfgs if a.e2e else []:
        if c.id in done_cfg:
            continue
        if c.det not in loaded or c.rec not in loaded:
            doc["e2e"].append({"config": c.id, "det": c.det, "rec": c.rec,
                               "skipped": "a model of this row could not be loaded"})
            save(doc, out)
            continue
        ocr = OCR(loaded[c.det].stage, loaded[c.rec].stage)
        entry = {"config": c.id, "det": c.det, "rec": c.rec, "baseline": c.baseline,
                 "artifacts": {"det": loaded[c.det].artifact.name, "rec": loaded[c.rec].artifact.name},
                 "notes": sorted({n for mid in (c.det, c.rec) for m in doc["models"] if m["id"] == mid
                                  for n in m.get("notes", [])}),
                 **time_e2e(ocr, images, warmup)}
        doc["e2e"].append(entry)
        save(doc, out)
    print(bench_tables(doc))
    skipped = [m for m in doc["models"] if "skipped" in m]
    if skipped:  # in full: a model not built yet says how long its build takes and the command
        print("\nnot timed:\n" + "\n".join(f"  {m['id']}: {m['skipped']}" for m in skipped))
        trained = [m["id"] for m in skipped if "slimocr-zoo build" in m["skipped"]]
        if trained:
            print(f"\nto time them too, build them once (tens of minutes each here), then run this again:\n"
                  f"  slimocr-zoo build {' '.join(trained)}")
    print(f"\nwrote {out}")
    return 0
