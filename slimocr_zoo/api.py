"""The public API: ``load`` (resolve -> cached? -> fetch or build -> runnable), ``build`` and
``pipeline``. This is the layer that ties the others together: the registry says what a model
is, fetch and build put its files in the cache, ocr runs them.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Dict, List, Optional

from . import build as _recipes
from . import cache, fetch
from .artifacts import (LoadedArtifact, by_name_only, candidates, check_precision, default_runtime, dependencies,
                        no_artifact, run_precision)
from .errors import BuildError, DownloadError, LongBuildError, ZooError
from .registry import Artifact, Model, get_registry


class LoadedModel(LoadedArtifact):
    """A loaded model that runs: ``m(image)``; its stage (predictor + pre/post-processing) is built on first use."""

    @cached_property
    def stage(self):
        """The runnable stage (DBDetector, AngleClassifier, CTCRecognizer), built on first use."""
        from .ocr import make_stage

        return make_stage(self)

    def __call__(self, image):
        """det: DetResult; cls: ClsResult; rec: RecResult (a list of them for a list of crops)."""
        from .ocr.image import read_image

        if self.entry.task == "det":
            return self.stage(read_image(image))
        many = isinstance(image, (list, tuple))
        crops = [read_image(i) for i in (image if many else [image])]
        out = self.stage(crops)
        return out if many else out[0]


def is_cached(art: Artifact) -> bool:
    """The one meaning of "cached" for an artifact: every file verified in the cache; for a recipe
    artifact, built by the recipe the manifest has now and unchanged since."""
    return _recipes.is_built(art) if art.recipe else all(fetch.is_cached(f) for f in art.files)


# load() builds a recipe on demand only when everything it has to build first takes at most this
# long here (quantization, opt, pruning by given ratios) and none of it trains: the rest starts when
# asked (a 10-minute distill, then a 10-minute pruning by sensitivity, inside a cold make demo)
SHORT_BUILD_MINUTES = 5
TRAINING = ("qat", "distill")


def _net(mirror, offline, quiet, require_pinned, long_build=False) -> dict:
    mirrors = [mirror] if isinstance(mirror, (str, Path)) else list(mirror or [])
    return {"mirror": [str(m) for m in mirrors], "offline": offline, "quiet": quiet, "require_pinned": require_pinned,
            "long_build": long_build}


def _needed(art: Artifact, role: str) -> Optional[Artifact]:
    """The artifact a recipe's parent or teacher means (None: the recipe names none)."""
    if not art.recipe.get(role):
        return None
    arts = candidates(get_registry().resolve(art.recipe[role]), None, None, art.recipe.get(f"{role}_artifact"))
    return next((a for a in arts if is_cached(a)), arts[0] if arts else None)


def to_build(art: Artifact) -> List[Artifact]:
    """``art`` and every recipe artifact it needs that is not in the cache yet."""
    if not art.recipe or is_cached(art):
        return []
    return [art] + [x for a in (_needed(art, "parent"), _needed(art, "teacher")) if a for x in to_build(a)]


def minutes_to_build(art: Artifact) -> float:
    """Minutes of building before ``art`` is in the cache: its recipe and every unbuilt one it needs."""
    return sum(a.build_minutes for a in to_build(art))


def _check_short(art: Artifact) -> None:
    chain = to_build(art)
    minutes = sum(a.build_minutes for a in chain)
    if minutes > SHORT_BUILD_MINUTES or any(a.recipe["type"] in TRAINING for a in chain):
        raise LongBuildError(
            f"{art.key} is built here by training or a long search ({art.recipe['type']} recipe and what it needs): "
            f"{f'about {minutes:.0f} minutes' if minutes else 'minutes to hours'} on a 2-core CPU, which load() does not start by itself. Build it once with: "
            f"slimocr-zoo build {art.model_id}  (or load(..., long_build=True))")


def _paths(art: Artifact) -> Dict[str, Path]:
    return {f.name: cache.file_path(f.path) for f in art.files}


def _files(art: Artifact, net: dict, force: bool = False) -> Dict[str, Path]:
    """The artifact's files in the cache: found, fetched, or built (its parent loaded first)."""
    if not force and is_cached(art):
        return _paths(art)
    if art.recipe:
        if not net["long_build"] and not force:
            _check_short(art)
        recipe = art.recipe
        parent = _load(recipe["parent"], None, None, recipe.get("parent_artifact"), net)
        teacher = _load(recipe["teacher"], None, None, recipe.get("teacher_artifact"), net) if recipe.get("teacher") else None
        return _recipes.build(art, parent, force=force, quiet=net["quiet"], teacher=teacher)
    opts = fetch.Options.from_env(mirrors=net["mirror"], offline=net["offline"], quiet=net["quiet"],
                                  require_pinned=net["require_pinned"])
    return fetch.fetch(art, opts)


def _deps(model: Model, net: dict) -> Dict[str, Path]:
    out = {}
    for role, dep_id in dependencies(model).items():
        dep = _load(dep_id, None, None, None, net)
        out[role] = next(iter(dep.files.values()))
    return out


def _real_int8() -> bool:
    from .runtime.libs import int8_supported

    return int8_supported()


def _load(id, format, target, artifact, net, runtime=None, threads=None, precision="fp32") -> LoadedModel:
    model = get_registry().resolve(id)
    arts = candidates(model, format, target, artifact)
    if not arts:
        raise no_artifact(model, format, target, artifact)
    check_precision(precision, default_runtime(arts[0], runtime))  # before any download

    def made(a, files):
        p = run_precision(precision, a, default_runtime(a, runtime), _real_int8)
        return LoadedModel.of(model, a, files, runtime, threads, net, p, deps=_deps(model, net))

    for a in arts:  # a verified copy already in the cache wins: no network at all
        if is_cached(a):
            return made(a, _paths(a))
    errors: List[Exception] = []
    for a in arts:
        try:
            return made(a, _files(a, net))
        except (DownloadError, BuildError) as e:
            errors.append(e)
    hidden = by_name_only(model)
    hint = f" (a latency-only or incomplete artifact is there by name: artifact={hidden[0]!r})" if hidden else ""
    long = [e for e in errors if isinstance(e, LongBuildError)]
    if long:  # what the user can do about it: build it; an upstream file that could not be had is beside the point
        raise LongBuildError(f"{long[0]}{hint}")
    if len(errors) == 1:
        raise type(errors[0])(f"{errors[0]}{hint}")
    kind = type(errors[0]) if len({type(e) for e in errors}) == 1 else ZooError
    raise kind(f"no artifact of {model.id} could be had{hint}:\n  " + "\n  ".join(str(e) for e in errors))


def load(id: str, format: Optional[str] = None, target: Optional[str] = None, *,
         artifact: Optional[str] = None, mirror=None, offline: Optional[bool] = None,
         quiet: bool = False, require_pinned: bool = False, runtime: Optional[str] = None,
         threads: Optional[int] = None, precision: str = "fp32", long_build: bool = False) -> LoadedModel:
    """Fetch (or find in the cache, or build) a model's files, verified, and return it runnable.

    ``format`` is ``"paddle"``, ``"nb"`` or ``"text"``; ``target`` ``"arm"`` or ``"x86"`` for
    ``nb``. ``mirror`` is a base URL or local directory (or a list) tried before the
    manifest's own sources, in addition to ``SLIMOCR_ZOO_MIRROR``. ``runtime`` and ``threads``
    are used when the model is run (``m(image)``); the runtime defaults to Paddle Lite for
    ``nb`` artifacts and Paddle Inference otherwise. ``precision="bf16"`` runs a float model's
    oneDNN kernels in bfloat16 on CPUs with AVX512-BF16 or AMX (faster; outputs differ slightly).
    An int8 model runs real int8 under Paddle Inference where the CPU has AVX512-VNNI, else
    simulated int8 (``precision="int8-simulated"`` asks for that); ``m.precision`` says which.
    A recognizer's dictionary is fetched with it. A model built here by a recipe is built on
    first use when that takes at most ``SHORT_BUILD_MINUTES`` on a 2-core CPU; a longer build (a
    training recipe) raises ``LongBuildError`` saying how long, unless ``long_build=True``.
    """
    return _load(id, format, target, artifact, _net(mirror, offline, quiet, require_pinned, long_build), runtime,
                 threads, precision)


def build(model_id: str, artifact: Optional[str] = None, force: bool = False, quiet: bool = False, *,
          mirror=None, offline: Optional[bool] = None, require_pinned: bool = False) -> LoadedModel:
    """Build (or find built) a recipe artifact of a model, its parents first, however long that takes;
    ``force`` builds it again."""
    model = get_registry().resolve(model_id)
    arts = [a for a in model.artifacts if a.recipe and (artifact is None or a.name == artifact)]
    if not arts:
        raise BuildError(f"{model.id} has no recipe artifact{f' named {artifact!r}' if artifact else ''}: "
                         f"its artifacts are {[a.name for a in model.artifacts]}")
    net = _net(mirror, offline, quiet, require_pinned, long_build=True)
    return LoadedModel.of(model, arts[0], _files(arts[0], net, force=force), options=net, deps=_deps(model, net))


def pipeline(config=None, det=None, rec=None, cls=None, *, runtime: str = "paddle", threads: Optional[int] = None,
             drop_score: float = 0.5, **load_kwargs):
    """End-to-end OCR: ``pipeline(config=3)`` (a seed row, or ``"DET+REC"``) or ``pipeline(det=..., rec=...,
    cls=None)``; models are ids (loaded with ``load_kwargs``) or loaded models. Returns an ``ocr.system.OCR``."""
    from .ocr.system import OCR

    if config is not None:
        c = get_registry().config(config)
        det, rec, cls = det or c.det, rec or c.rec, cls or c.cls
    if det is None or rec is None:
        raise ValueError("pipeline needs config=N or both det= and rec=")

    def stage(x):
        if x is None:
            return None
        m = load(x, runtime=runtime, threads=threads, **load_kwargs) if isinstance(x, str) else x
        return m.stage

    return OCR(stage(det), stage(rec), stage(cls), drop_score=drop_score)
