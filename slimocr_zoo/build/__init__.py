"""Recipes that derive an artifact from its parent: opt conversion, PaddleSlim pruning and
post-training quantization, and synthetic weights for a program whose weights are missing.

A build runs once per key = (recipe, parent files' sha256, tool versions, calibration set):
its outputs go into the cache like downloads (``files/<path>``) and a provenance record
``built/<model>/<artifact>.json`` keeps the key, the inputs and the outputs' sha256. Builds of
one artifact are serialized by a filelock; a build works in a staging folder, so Ctrl-C leaves
no half artifact. The parent is given, loaded: getting it (fetch, or build in turn) is the API's
job (``slimocr_zoo.api``), not this layer's.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Dict, Optional

from .. import cache
from ..errors import BuildError, ZooError
from ..files import sha256_of, write_atomic
from ..logs import captured
from . import interrupt

log = logging.getLogger("slimocr_zoo")


def recipe_module(kind: str):
    from . import distill, opt, prune, qat, quant, synthetic

    return {"opt": opt, "prune": prune, "quant_post": quant, "qat": qat, "distill": distill,
            "synthetic_params": synthetic}[kind]


def recipe_version(kind: str) -> int:
    """Bumped in a recipe's module when its code changes its output, so old builds are not reused."""
    return getattr(recipe_module(kind), "VERSION", 1)


def tool_versions(kind: str) -> Dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = {"opt": ["paddlelite", "paddlepaddle"],  # paddle: its program format (lite_program)
             "prune": ["paddlepaddle", "paddleslim"],
             "quant_post": ["paddlepaddle", "paddleslim"], "qat": ["paddlepaddle", "paddleslim"],
             "distill": ["paddlepaddle", "paddleslim"],
             "synthetic_params": ["paddlepaddle"]}[kind]
    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            hint = "lite" if n == "paddlelite" else "paddle" if kind == "opt" else "build"
            raise BuildError(f"building with the {kind!r} recipe needs {n}: pip install 'slimocr-zoo[{hint}]'") from None
    return out


def record_path(art) -> Path:
    return cache.home() / "built" / art.model_id / f"{art.name}.json"


def log_path(art) -> Path:
    """Where the last build's third-party output (paddle, PaddleSlim) went."""
    return record_path(art).with_suffix(".log")


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
    if rec.get("recipe_version") != recipe_version(art.recipe["type"]):
        return False
    for f in art.files:
        want = rec["outputs"].get(f.name, {}).get("sha256")
        if not want or not cache.file_path(f.path).is_file():
            return False
        if _sha256(f) != want:
            return False
    return _inputs_unchanged(rec)


def _sha256(f) -> Optional[str]:
    path = cache.file_path(f.path)
    return cache.verified_sha256(f.path) or (sha256_of(path) if path.is_file() else None)


def _inputs_unchanged(rec: dict) -> bool:
    """The parent (and teacher) the build was made from are not known to have changed: files of
    theirs in the cache are the ones recorded, and a built one is still its recipe's, all the way
    down (a rebuilt or re-recipied parent makes its children stale). Inputs removed from the cache
    since say nothing: the build stays."""
    from ..registry import get_registry

    for role in ("parent", "teacher"):
        src = rec.get(role)
        if not src:
            continue
        try:
            a = get_registry().resolve(src["id"]).artifact(src["artifact"])
        except (KeyError, ZooError):
            return False
        if a.recipe:
            made = read_record(a)
            if made and (made.get("recipe") != a.recipe or made.get("recipe_version") != recipe_version(a.recipe["type"])
                         or not _inputs_unchanged(made)):
                return False  # it will be built anew, so this must be too
        present = [f for f in a.files if f.name in src["files"] and cache.file_path(f.path).is_file()]
        if any(_sha256(f) != src["files"][f.name] for f in present):
            return False
    return True


def _remove_stale(rec: Optional[dict], files: Dict[str, Path]) -> None:
    """The previous build's outputs that this recipe no longer makes (a distill.json beside a prune
    output, after the recipe changed): gone from the artifact's folder, so the folder holds one build.
    Only a file whose bytes are the ones that build recorded: nothing a user put there."""
    if not rec:
        return
    folders = {p.parent for p in files.values()}
    for name, out in (rec.get("outputs") or {}).items():
        if name in files:
            continue
        for d in folders:
            p = d / name
            if p.is_file() and sha256_of(p) == out.get("sha256"):
                cache.forget(p.relative_to(cache.file_path("")).as_posix())  # the file and its state


def build(art, parent, force: bool = False, quiet: bool = False, teacher=None) -> Dict[str, Path]:
    """Build (or find built) the recipe artifact ``art`` from its loaded ``parent`` (and ``teacher``, for
    the recipes that distill); name -> file in the cache."""
    from .calibration import calibration_set

    recipe = art.recipe
    calib = calibration_set(recipe.get("calibration"), parent.entry)
    key_doc = {"recipe": recipe, "recipe_version": recipe_version(recipe["type"]),
               "parent": {n: sha256_of(p) for n, p in parent.files.items()},
               "tools": tool_versions(recipe["type"]), "calibration": calib.digest if calib else None}
    if teacher is not None:  # only then: the keys of builds without one stay what they were
        key_doc["teacher"] = {n: sha256_of(p) for n, p in teacher.files.items()}
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()[:16]
    files = {f.name: cache.file_path(f.path) for f in art.files}
    with cache.lock("build:" + art.key):
        rec = read_record(art)
        if not force and rec and rec.get("key") == key and is_built(art):
            return files
        prefix = f".staging-{art.model_id}-{art.name}-"
        for old in (cache.home() / "built").glob(prefix + "*"):
            if old.name[len(prefix):].isdigit():  # a killed build's (SIGKILL, power off): this artifact's lock
                shutil.rmtree(old, ignore_errors=True)  # is held, so no live build is using it
        staging = cache.home() / "built" / f"{prefix}{os.getpid()}"
        staging.mkdir(parents=True)
        logfile = log_path(art)
        try:
            log.warning("building %s by %s from %s/%s%s%s", art.key, recipe["type"], parent.id, parent.artifact.name,
                        f" with {len(calib.items)} calibration samples" if calib else "",
                        f" (about {art.build_minutes:g} min here)" if art.build_minutes else "")
            more = {"teacher": teacher} if teacher is not None else {}
            t0 = time.perf_counter()
            try:
                # -v: everything on the console
                with interrupt.watching(), captured(logfile, enabled=not log.isEnabledFor(logging.INFO)):
                    produced = recipe_module(recipe["type"]).build(parent, art, recipe, staging, calib, quiet=quiet,
                                                                   **more)
                    interrupt.check()  # a Ctrl-C a library swallowed: nothing is installed
            except BuildError as e:
                raise BuildError(f"{e} (build log: {logfile})") from None
            except ZooError:  # e.g. a wrong setting: the user's to fix, said as it is
                raise
            except Exception as e:  # paddle's and PaddleSlim's errors: one line here, the rest in the log
                first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
                raise BuildError(f"{art.key}: the {recipe['type']} recipe failed: {type(e).__name__}: {first} "
                                 f"(build log: {logfile})") from e
            seconds = time.perf_counter() - t0
            missing = [f.name for f in art.files if f.name not in produced]
            if missing:
                raise BuildError(f"{art.key}: the {recipe['type']} recipe did not produce {missing}")
            outputs = {}
            for f in art.files:
                dest = files[f.name]
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(produced[f.name], dest)
                sha = sha256_of(dest)
                cache.record(f.path, sha)
                outputs[f.name] = {"sha256": sha, "size": dest.stat().st_size}
            _remove_stale(rec, files)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        doc = {"key": key, "model": art.model_id, "artifact": art.name, "recipe": recipe,
               "recipe_version": key_doc["recipe_version"],
               "parent": {"id": parent.id, "artifact": parent.artifact.name, "files": key_doc["parent"],
                          "synthetic": parent.artifact.synthetic},
               "teacher": {"id": teacher.id, "artifact": teacher.artifact.name, "files": key_doc["teacher"]}
               if teacher else None,
               "tools": key_doc["tools"],
               "calibration": calib.describe() if calib else None,
               "synthetic": art.synthetic, "outputs": outputs, "seconds": round(seconds, 1), "log": str(logfile),
               "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        write_atomic(record_path(art), json.dumps(doc, indent=1, ensure_ascii=False))
    return files
