"""load(): pick an artifact of a model, get it into the cache verified, return its files."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Dict, List, Optional

from . import fetch as _fetch
from .errors import DownloadError, NoArtifactError, ZooError
from .registry import Artifact, Model, get_registry
from .runtime import check_precision


def default_runtime(art: Artifact, runtime: Optional[str] = None) -> str:
    """The runtime asked for, else the artifact's own: Paddle Lite for ``nb``, Paddle Inference otherwise."""
    return runtime or ("lite" if art.format == "nb" else "paddle")


@dataclass(frozen=True)
class LoadedModel:
    """A model's verified local files, runnable through its stage (built on first use)."""

    id: str
    entry: Model
    artifact: Artifact
    files: Dict[str, Path]  # file name -> absolute path in the cache
    runtime: str = "paddle"  # "paddle" (Paddle Inference) or "lite" (Paddle Lite): the artifact's own by default
    threads: Optional[int] = None
    options: dict = field(default_factory=dict, compare=False, repr=False)  # how it was loaded
    precision: str = "fp32"  # "bf16": Paddle Inference's oneDNN bfloat16, on CPUs that have it

    def __post_init__(self):
        check_precision(self.precision, self.runtime)  # however it is made (of, replace, directly)

    @classmethod
    def of(cls, model: Model, art: Artifact, files: Dict[str, Path], runtime: Optional[str] = None,
           threads: Optional[int] = None, options: Optional[dict] = None,
           precision: str = "fp32") -> "LoadedModel":
        """The runtime defaults to the artifact's own (see default_runtime)."""
        return cls(model.id, model, art, files, runtime=default_runtime(art, runtime), threads=threads,
                   options=options or {}, precision=precision)

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

    @property
    def directory(self) -> Path:
        return next(iter(self.files.values())).parent

    def __repr__(self):
        return f"LoadedModel({self.id!r}, artifact={self.artifact.name!r} [{self.artifact.describe()}], dir={str(self.directory)!r})"


def candidates(model: Model, format: Optional[str] = None, target: Optional[str] = None,
               artifact: Optional[str] = None) -> List[Artifact]:
    """Artifacts matching the request, in manifest order (pinned ones first).

    A program-only or synthetic artifact (weights missing or random) is chosen only when asked
    for by name. With no ``format``, the model's first such artifact's format is meant: asking
    for a Paddle model never silently yields an ARM ``.nb``. Order: pinned downloads, then
    artifacts built here by a recipe, then upstream files pinned on first use.
    """
    def usable(a):
        return artifact is not None or not (a.program_only or a.synthetic)

    if format is None and artifact is None and target is None:
        runnable = [a for a in model.artifacts if usable(a)]
        format = runnable[0].format if runnable else None
    out = [a for a in model.artifacts
           if (artifact is None or a.name == artifact)
           and (format is None or a.format == format)
           and (target is None or a.target == target)
           and usable(a)]
    return sorted(out, key=lambda a: 0 if a.pinned and not a.recipe else 1 if a.recipe else 2)


def _hidden(model: Model) -> List[str]:
    """Artifacts chosen by name only: synthetic (runnable, latency only) before program-only."""
    return [a.name for a in model.artifacts if a.synthetic] + [a.name for a in model.artifacts if a.program_only]


def _no_artifact(model: Model, format, target, artifact) -> NoArtifactError:
    asked = ", ".join(f"{k}={v}" for k, v in (("artifact", artifact), ("format", format), ("target", target)) if v)
    have = "; ".join(f"{a.name} ({a.describe()})" for a in model.artifacts) or "none"
    msg = f"{model.id} has no published artifact" + (f" with {asked}" if asked else "") + f" (it has: {have})"
    hidden = _hidden(model)
    if hidden:
        msg += f". Latency-only or incomplete artifacts are chosen by name only: artifact={hidden[0]!r}"
    return NoArtifactError(msg)


def load(id: str, format: Optional[str] = None, target: Optional[str] = None, *,
         artifact: Optional[str] = None, mirror=None, offline: Optional[bool] = None,
         quiet: bool = False, require_pinned: bool = False, runtime: Optional[str] = None,
         threads: Optional[int] = None, precision: str = "fp32") -> LoadedModel:
    """Fetch (or find in the cache) a model's files, verified, and describe them.

    ``format`` is ``"paddle"``, ``"nb"`` or ``"text"``; ``target`` ``"arm"`` or ``"x86"`` for
    ``nb``. ``mirror`` is a base URL or local directory (or a list) tried before the
    manifest's own sources, in addition to ``SLIMOCR_ZOO_MIRROR``. ``runtime`` and ``threads``
    are used when the model is run (``m(image)``); the runtime defaults to Paddle Lite for
    ``nb`` artifacts and Paddle Inference otherwise. ``precision="bf16"`` runs Paddle Inference's
    oneDNN kernels in bfloat16 on CPUs with AVX512-BF16 or AMX (faster; outputs differ slightly).
    """
    model = get_registry().resolve(id)
    options = {"mirror": mirror, "offline": offline, "quiet": quiet, "require_pinned": require_pinned}

    def made(a, files):
        return LoadedModel.of(model, a, files, runtime, threads, options, precision)

    arts = candidates(model, format, target, artifact)
    if not arts:
        raise _no_artifact(model, format, target, artifact)
    check_precision(precision, default_runtime(arts[0], runtime))  # before any download
    from . import build as _build

    for a in arts:  # a verified copy already in the cache wins: no network at all
        if (_build.is_built(a) if a.recipe else all(_fetch.is_cached(f) for f in a.files)):
            return made(a, {f.name: _fetch.cache.file_path(f.path) for f in a.files})
    mirrors = [mirror] if isinstance(mirror, (str, Path)) else list(mirror or [])
    opts = _fetch.Options.from_env(mirrors=[str(m) for m in mirrors], offline=offline, quiet=quiet,
                                   require_pinned=require_pinned)
    errors: List[Exception] = []
    for a in arts:
        try:
            if a.recipe:
                b = _build.build(model.id, a.name, quiet=quiet, **{k: v for k, v in options.items() if k != "quiet"})
                return made(a, b.files)
            return made(a, _fetch.fetch(a, opts))
        except (DownloadError, _build.BuildError) as e:
            errors.append(e)
    hidden = _hidden(model)
    hint = f" (a latency-only or incomplete artifact is there by name: artifact={hidden[0]!r})" if hidden else ""
    if len(errors) == 1:
        raise type(errors[0])(f"{errors[0]}{hint}")
    kind = type(errors[0]) if len({type(e) for e in errors}) == 1 else ZooError
    raise kind(f"no artifact of {model.id} could be had{hint}:\n  " + "\n  ".join(str(e) for e in errors))
