"""The benchmark on this machine: the same predictors and pipeline users run, timed in-process."""
from __future__ import annotations

import time
from typing import List

import numpy as np

from ..errors import ZooError
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


def time_e2e(ocr, images: list, warmup: int) -> dict:
    from ..ocr.image import read_image

    imgs = [read_image(p) for p in images]
    for img in imgs[:max(1, min(warmup, len(imgs)))]:
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
    from ..loader import load

    try:
        return load(mid, format=fmt, target=target, **kw), None
    except ZooError as e:
        if not fallback:
            raise
        from ..registry import get_registry

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
    notes = ["SYNTHETIC weights: latency only"] if a.synthetic else []
    if a.precision == "int8" and loaded.runtime == "paddle":
        notes.append(SIMULATED_INT8)
    return notes


SIMULATED_INT8 = "simulated int8 (Paddle Inference): speed NOT representative, the phone is the place for it"
