"""Recipes that derive an artifact from its parent: opt conversion, PaddleSlim pruning and
post-training quantization, and synthetic weights for a program whose weights are missing.

A build runs once per key = (recipe, parent files' sha256, tool versions, calibration set):
its outputs go into the cache like downloads (``files/<path>``) and a provenance record
``built/<model>/<artifact>.json`` keeps the key, the inputs and the outputs' sha256. Builds of
one artifact are serialized by a filelock; a build works in a staging folder, so Ctrl-C leaves
no half artifact.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Dict, Optional

from .. import cache
from ..errors import ZooError

log = logging.getLogger("slimocr_zoo")


class BuildError(ZooError):
    """A recipe could not run; the message says which step and why."""


def _recipes():
    from . import opt, prune, quant, synthetic

    return {"opt": opt, "prune": prune, "quant_post": quant, "synthetic_params": synthetic}


def tool_versions(kind: str) -> Dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = {"opt": ["paddlelite"], "prune": ["paddlepaddle", "paddleslim"],
             "quant_post": ["paddlepaddle", "paddleslim"], "synthetic_params": ["paddlepaddle"]}[kind]
    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            hint = "lite" if n == "paddlelite" else "build"
            raise BuildError(f"building with the {kind!r} recipe needs {n}: pip install 'slimocr-zoo[{hint}]'") from None
    return out


def record_path(art) -> Path:
    return cache.home() / "built" / art.model_id / f"{art.name}.json"


def read_record(art) -> Optional[dict]:
    try:
        return json.loads(record_path(art).read_text())
    except (OSError, ValueError):
        return None


def is_built(art) -> bool:
    """Built, unchanged since, and by the recipe the manifest has now (parents are not rebuilt here)."""
    rec = read_record(art)
    if not rec or rec.get("recipe") != art.recipe:
        return False
    if rec.get("recipe_version") != getattr(_recipes()[art.recipe["type"]], "VERSION", 1):
        return False
    for f in art.files:
        want = rec["outputs"].get(f.name, {}).get("sha256")
        if not want or not cache.file_path(f.path).is_file():
            return False
        seen = cache.verified_sha256(f.path) or cache.sha256_of(cache.file_path(f.path))
        if seen != want:
            return False
    return True


def build(model_id: str, artifact: Optional[str] = None, force: bool = False, quiet: bool = False, **load_kw):
    """Build (or find built) a recipe artifact of ``model_id``; returns its LoadedModel."""
    from ..loader import LoadedModel, load
    from ..registry import get_registry

    model = get_registry().resolve(model_id)
    arts = [a for a in model.artifacts if a.recipe and (artifact is None or a.name == artifact)]
    if not arts:
        raise BuildError(f"{model.id} has no recipe artifact{f' named {artifact!r}' if artifact else ''}: "
                         f"its artifacts are {[a.name for a in model.artifacts]}")
    art = arts[0]
    recipe = art.recipe
    parent = load(recipe["parent"], artifact=recipe.get("parent_artifact"), quiet=quiet, **load_kw)
    from .calibration import calibration_set

    calib = calibration_set(recipe.get("calibration"), parent.entry)
    module = _recipes()[recipe["type"]]
    # VERSION: bumped when a recipe's code changes its output, so old builds are not reused
    key_doc = {"recipe": recipe, "recipe_version": getattr(module, "VERSION", 1),
               "parent": {n: cache.sha256_of(p) for n, p in parent.files.items()},
               "tools": tool_versions(recipe["type"]), "calibration": calib.digest if calib else None}
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()[:16]
    files = {f.name: cache.file_path(f.path) for f in art.files}
    with cache.lock("build:" + art.key):
        rec = read_record(art)
        if not force and rec and rec.get("key") == key and is_built(art):
            return LoadedModel.of(model, art, files, options=load_kw)
        staging = cache.home() / "built" / f".staging-{art.model_id}-{art.name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            log.warning("building %s by %s from %s/%s%s", art.key, recipe["type"], parent.id, parent.artifact.name,
                        f" with {len(calib.items)} calibration samples" if calib else "")
            produced = module.build(parent, art, recipe, staging, calib, quiet=quiet)
            missing = [f.name for f in art.files if f.name not in produced]
            if missing:
                raise BuildError(f"{art.key}: the {recipe['type']} recipe did not produce {missing}")
            outputs = {}
            for f in art.files:
                dest = files[f.name]
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(produced[f.name], dest)
                sha = cache.sha256_of(dest)
                cache.record(f.path, sha)
                outputs[f.name] = {"sha256": sha, "size": dest.stat().st_size}
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        doc = {"key": key, "model": model.id, "artifact": art.name, "recipe": recipe,
               "recipe_version": key_doc["recipe_version"],
               "parent": {"id": parent.id, "artifact": parent.artifact.name, "files": key_doc["parent"],
                          "synthetic": parent.artifact.synthetic},
               "tools": key_doc["tools"],
               "calibration": calib.describe() if calib else None,
               "synthetic": art.synthetic, "outputs": outputs,
               "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        path = record_path(art)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False))
        os.replace(tmp, path)
    return LoadedModel.of(model, art, files, options=load_kw)
