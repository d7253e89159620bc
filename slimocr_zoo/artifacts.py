"""A loaded model is data: the manifest entry, the artifact chosen, its verified files in the cache,
the files it depends on (a recognizer's dictionary), and how it is to be run.

Also here: which artifact of a model a request means (``candidates``), and the run options a
loaded model may carry (runtime, precision), checked before anything is downloaded.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from .errors import NoArtifactError, RuntimeUnavailableError
from .registry import Artifact, Model

log = logging.getLogger("slimocr_zoo")

RUNTIMES = ("paddle", "lite")
# fp32 / bf16: how a float model runs; int8: an int8 model's convolutions in oneDNN int8 (CPUs with
# AVX512-VNNI); int8-simulated: its fake-quant ops in fp32, what training saw (right, but slow)
PRECISIONS = ("fp32", "bf16", "int8", "int8-simulated")
PADDLE_ONLY = ("bf16", "int8-simulated")


def default_runtime(art: Artifact, runtime: Optional[str] = None) -> str:
    """The runtime asked for, else the artifact's own: Paddle Lite for ``nb``, Paddle Inference otherwise."""
    return runtime or ("lite" if art.format == "nb" else "paddle")


def check_precision(precision: str, runtime: str) -> None:
    """Refuse a precision the runtime cannot give, before anything is downloaded or built."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision in PADDLE_ONLY and runtime != "paddle":
        why = "Paddle Lite x86 has no bfloat16 kernels" if precision == "bf16" else "Paddle Lite runs a .nb as converted"
        raise RuntimeUnavailableError(
            f"precision={precision!r} is Paddle Inference's (oneDNN) only; {why}: use runtime='paddle' or "
            f"precision='fp32'")


def run_precision(requested: str, art: Artifact, runtime: str, real_int8: Callable[[], bool]) -> str:
    """How an artifact runs, given what was asked: an int8 model under Paddle Inference runs real int8
    where ``real_int8()`` (the CPU has VNNI), else simulated int8 with a warning; fp32 and bf16 say
    how a float model runs. Asking int8 of a float model is an error that names what to do."""
    int8 = art.precision == "int8"
    if requested.startswith("int8") and not int8:
        raise RuntimeUnavailableError(
            f"precision={requested!r} needs an int8 model; this artifact is {art.describe()}: load an int8 "
            f"model (e.g. SlimTextDet, ch_PP-OCRv4_det_quant) or use precision='fp32'")
    if not int8 or runtime != "paddle":
        return "int8" if int8 else requested
    if requested == "int8-simulated":
        return requested
    if real_int8():
        return "int8"
    _warn_no_vnni()
    return "int8-simulated"


@functools.lru_cache(maxsize=None)  # once a process
def _warn_no_vnni() -> None:
    log.warning("this CPU has no AVX512-VNNI: int8 models run as simulated int8 (fake-quant ops in fp32), "
                "slower than their float parents; pass precision='int8-simulated' to silence this")


def dependencies(model: Model) -> Dict[str, str]:
    """Other models whose files this one needs to run, by role: a recognizer's dictionary."""
    return {"dictionary": model.input["dictionary"]} if model.input.get("dictionary") else {}


@dataclass(frozen=True)
class LoadedArtifact:
    """A model's verified local files and how to run them."""

    id: str
    entry: Model
    artifact: Artifact
    files: Dict[str, Path]  # file name -> absolute path in the cache
    runtime: str = "paddle"  # "paddle" (Paddle Inference) or "lite" (Paddle Lite): the artifact's own by default
    threads: Optional[int] = None
    options: dict = field(default_factory=dict, compare=False, repr=False)  # how it was loaded
    precision: str = "fp32"  # as it runs: one of PRECISIONS (see run_precision)
    deps: Dict[str, Path] = field(default_factory=dict, compare=False)  # role -> file, e.g. "dictionary"

    def __post_init__(self):
        check_precision(self.precision, self.runtime)  # however it is made (of, replace, directly)

    @classmethod
    def of(cls, model: Model, art: Artifact, files: Dict[str, Path], runtime: Optional[str] = None,
           threads: Optional[int] = None, options: Optional[dict] = None, precision: str = "fp32",
           deps: Optional[Dict[str, Path]] = None):
        """The runtime defaults to the artifact's own (see default_runtime)."""
        return cls(model.id, model, art, files, runtime=default_runtime(art, runtime), threads=threads,
                   options=options or {}, precision=precision, deps=deps or {})

    @property
    def directory(self) -> Path:
        return next(iter(self.files.values())).parent

    def program_files(self) -> Tuple[Path, Path]:
        """(program, params) of a paddle artifact, whatever its layout."""
        if self.artifact.program_only:
            raise RuntimeUnavailableError(
                f"{self.id}: artifact {self.artifact.name!r} is a program without weights and cannot run")
        f = self.files
        if "inference.pdmodel" in f:
            return f["inference.pdmodel"], f["inference.pdiparams"]
        if "model" in f and "params" in f:
            return f["model"], f["params"]
        raise RuntimeUnavailableError(f"{self.id}: artifact {self.artifact.name!r} ({self.artifact.describe()}) "
                                      f"is not a paddle program + params")

    def dependency(self, role: str) -> Path:
        try:
            return self.deps[role]
        except KeyError:
            raise NoArtifactError(f"{self.id} needs its {role} ({dependencies(self.entry).get(role)}), which was not "
                                  f"loaded with it: load models with slimocr_zoo.load()") from None

    def __repr__(self):
        return (f"{type(self).__name__}({self.id!r}, artifact={self.artifact.name!r} [{self.artifact.describe()}], "
                f"dir={str(self.directory)!r})")


def candidates(model: Model, format: Optional[str] = None, target: Optional[str] = None,
               artifact: Optional[str] = None) -> List[Artifact]:
    """Artifacts matching the request, in manifest order (pinned ones first).

    A program-only, synthetic or intermediate artifact (weights missing or random; a step of
    another artifact's build) is chosen only when asked for by name. With no ``format``, the
    model's first such artifact's format is meant: asking
    for a Paddle model never silently yields an ARM ``.nb``. Order: pinned downloads, then
    artifacts built here by a recipe, then upstream files pinned on first use.
    """
    def usable(a):
        return artifact is not None or not (a.program_only or a.synthetic or a.intermediate)

    if format is None and artifact is None and target is None:
        runnable = [a for a in model.artifacts if usable(a)]
        format = runnable[0].format if runnable else None
    out = [a for a in model.artifacts
           if (artifact is None or a.name == artifact)
           and (format is None or a.format == format)
           and (target is None or a.target == target)
           and usable(a)]
    return sorted(out, key=lambda a: 0 if a.pinned and not a.recipe else 1 if a.recipe else 2)


def by_name_only(model: Model) -> List[str]:
    """Artifacts chosen by name only: synthetic (runnable, latency only) before program-only."""
    return [a.name for a in model.artifacts if a.synthetic] + [a.name for a in model.artifacts if a.program_only]


def no_artifact(model: Model, format=None, target=None, artifact=None) -> NoArtifactError:
    asked = ", ".join(f"{k}={v}" for k, v in (("artifact", artifact), ("format", format), ("target", target)) if v)
    have = "; ".join(f"{a.name} ({a.describe()})" for a in model.artifacts) or "none"
    msg = f"{model.id} has no published artifact" + (f" with {asked}" if asked else "") + f" (it has: {have})"
    hidden = by_name_only(model)
    if hidden:
        msg += f". Latency-only or incomplete artifacts are chosen by name only: artifact={hidden[0]!r}"
    return NoArtifactError(msg)
