"""python -m slimocr_zoo.bench: per-model and end-to-end OCR latency into one results format.

This version runs ``--device cpu`` (this machine, through the Python runtimes). The phone
(``--device sd855`` over adb) is the next step of the benchmark capability; its profile is
already in manifests/devices.json.
"""
from __future__ import annotations

import json
from importlib.resources import files as _resource_files

from ..errors import ZooError


def devices() -> dict:
    data = json.loads((_resource_files("slimocr_zoo.manifests") / "devices.json").read_text("utf-8"))
    return {d["id"]: d for d in data["devices"]}


def device(name: str) -> dict:
    all_ = devices()
    if name not in all_:
        import difflib

        near = difflib.get_close_matches(name, list(all_), n=1)
        raise ZooError(f"unknown device {name!r}" + (f"; did you mean {near[0]}?" if near else "")
                       + f" (known: {', '.join(all_)})")
    return all_[name]
