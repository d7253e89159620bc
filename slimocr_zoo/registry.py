"""Manifest files -> typed, validated, merged registry entries.

The built-in manifest ships inside the package (``slimocr_zoo.manifests``); users add
their own with ``SLIMOCR_ZOO_MANIFEST`` (os.pathsep-separated) or ``register_manifest``.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files as _resource_files
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from . import settings
from .errors import ManifestError, UnknownConfigError, UnknownModelError


TASKS = ("det", "rec", "cls", "dict")


@dataclass(frozen=True)
class FileSpec:
    path: str  # mirror-relative, also the path inside the cache
    size: Optional[int] = None
    sha256: Optional[str] = None

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Source:
    type: str  # "url" | "base" | "archive"
    url: str
    strip: str = ""

    def url_for(self, path: str) -> str:
        """The URL of one file for a ``base`` source."""
        rel = path[len(self.strip):] if self.strip and path.startswith(self.strip) else path
        return self.url.rstrip("/") + "/" + rel


@dataclass(frozen=True)
class Artifact:
    model_id: str
    name: str
    format: str  # "paddle" | "nb" | "text"
    files: Tuple[FileSpec, ...]
    sources: Tuple[Source, ...]
    provenance: str
    layout: Optional[str] = None
    target: Optional[str] = None
    opt_version: Optional[str] = None
    precision: Optional[str] = None
    recipe: Optional[dict] = None  # built here from a parent instead of downloaded
    synthetic: bool = False  # random weights: latency only
    build_minutes: float = 0  # a recipe's measured build time here (2-core x86)
    intermediate: bool = False  # a step towards another artifact (pruned before fine-tuning): by name only

    @property
    def key(self) -> str:
        return f"{self.model_id}/{self.name}"

    @property
    def pinned(self) -> bool:
        return all(f.pinned for f in self.files)

    @property
    def size(self) -> Optional[int]:
        sizes = [f.size for f in self.files]
        return None if None in sizes else sum(sizes)

    @property
    def program_only(self) -> bool:
        return self.layout == "program_only"

    def describe(self) -> str:
        bits = [self.format]
        if self.target:
            bits.append(self.target)
        if self.opt_version:
            bits.append(f"opt {self.opt_version}")
        if self.precision:
            bits.append(self.precision)
        if self.program_only:
            bits.append("program only")
        if self.synthetic:
            bits.append("SYNTHETIC weights")
        if self.recipe:
            bits.append(f"built by {self.recipe['type']}")
        if self.intermediate:
            bits.append("intermediate")
        return " ".join(bits)


@dataclass(frozen=True)
class Model:
    id: str
    task: str
    family: str
    description: str
    artifacts: Tuple[Artifact, ...]
    manifest: Path
    aliases: Tuple[str, ...] = ()
    architecture: dict = field(default_factory=dict)
    input: dict = field(default_factory=dict)
    postprocess: dict = field(default_factory=dict)
    compression: dict = field(default_factory=lambda: {"method": "none"})
    parent: Optional[str] = None
    reported: Optional[dict] = None  # the seed's figures, never measured ones

    @property
    def recipes(self) -> Tuple[Artifact, ...]:
        return tuple(a for a in self.artifacts if a.recipe)

    def artifact(self, name: str) -> Artifact:
        for a in self.artifacts:
            if a.name == name:
                return a
        raise KeyError(f"{self.id} has no artifact {name!r}; it has {[a.name for a in self.artifacts]}")


@dataclass(frozen=True)
class Config:
    """A det+rec(+cls) configuration: a seed row (id 0-3) or a pair named ``DET+REC[+CLS]``."""
    id: Union[int, str]
    det: str
    rec: str
    manifest: Optional[Path] = None  # None for a pair named on the command line
    cls: Optional[str] = None
    reported: Optional[dict] = None
    baseline: Optional[int] = None  # the row whose float models this row's speed-up and size are against


# --- loading and validation -------------------------------------------------------------

def builtin_manifest() -> Path:
    return Path(str(_resource_files("slimocr_zoo.manifests") / "slimocr.json"))


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads((builtin_manifest().parent / "slimocr.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def read_manifest(path) -> dict:
    """Parse and schema-check one manifest file; errors name the file and the JSON path."""
    import jsonschema.exceptions

    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as e:
        raise ManifestError(f"cannot read manifest {path}: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        raise ManifestError(f"{path}: {error.json_path}: {error.message}")
    return data


def _model_from_json(m: dict, path: Path) -> Model:
    arts = tuple(
        Artifact(
            model_id=m["id"],
            name=a["name"],
            format=a["format"],
            files=tuple(FileSpec(**f) for f in a["files"]),
            sources=tuple(Source(**s) for s in a["sources"]),
            provenance=a["provenance"],
            layout=a.get("layout"),
            target=a.get("target"),
            opt_version=a.get("opt_version"),
            precision=a.get("precision"),
            recipe=a.get("recipe"),
            synthetic=a.get("synthetic", False),
            build_minutes=a.get("build_minutes", 0),
            intermediate=a.get("intermediate", False),
        )
        for a in m["artifacts"]
    )
    return Model(
        id=m["id"], task=m["task"], family=m["family"], description=m["description"],
        artifacts=arts, manifest=path, aliases=tuple(m.get("aliases", ())),
        architecture=m.get("architecture", {}), input=m.get("input", {}),
        postprocess=m.get("postprocess", {}), compression=m.get("compression", {"method": "none"}),
        parent=m.get("parent"), reported=m.get("reported"),
    )


class Registry:
    """Every model and configuration of a set of manifests, merged and cross-checked."""

    def __init__(self, paths):
        self.paths: List[Path] = [Path(p) for p in paths]
        self.models: Dict[str, Model] = {}
        self.configs: Dict[int, Config] = {}
        self._names: Dict[str, str] = {}  # id or alias -> id
        self._owner: Dict[str, Path] = {}  # id or alias -> manifest that defined it
        files: Dict[str, Tuple[FileSpec, str]] = {}
        for path in self.paths:
            data = read_manifest(path)
            for raw in data["models"]:
                model = _model_from_json(raw, path)
                for name in (model.id, *model.aliases):
                    if name in self._owner:
                        raise ManifestError(
                            f"duplicate model id or alias {name!r}: defined in {self._owner[name]} and in {path}")
                    self._owner[name] = path
                    self._names[name] = model.id
                for art in model.artifacts:
                    for f in art.files:
                        seen = files.get(f.path)
                        if seen and seen[0].sha256 != f.sha256:
                            raise ManifestError(
                                f"{path}: file {f.path!r} of {art.key} has a different sha256 than in {seen[1]}")
                        files[f.path] = (f, art.key)
                self.models[model.id] = model
            for raw in data.get("configs", []):
                cid = raw["id"]
                if cid in self.configs:
                    raise ManifestError(
                        f"duplicate configuration {cid}: defined in {self.configs[cid].manifest} and in {path}")
                self.configs[cid] = Config(id=cid, det=raw["det"], rec=raw["rec"], cls=raw.get("cls"),
                                           reported=raw.get("reported"), baseline=raw.get("baseline"), manifest=path)
        self._check_references()

    def _check_references(self):
        def need(name, where, task=None):
            if name not in self._names:
                raise ManifestError(f"{where} refers to unknown model {name!r}")
            if task and self.models[self._names[name]].task != task:
                raise ManifestError(f"{where} must be a {task} model, {name!r} is not")

        for m in self.models.values():
            if m.parent:
                need(m.parent, f"{m.manifest}: {m.id}.parent")
            for a in m.recipes:
                where = f"{m.manifest}: {a.key}.recipe"
                need(a.recipe["parent"], f"{where}.parent")
                parent = self.models[self._names[a.recipe["parent"]]]
                pa = a.recipe.get("parent_artifact")
                if pa and pa not in {x.name for x in parent.artifacts}:
                    raise ManifestError(f"{where}.parent_artifact: {parent.id} has no artifact {pa!r}")
                if a.recipe.get("teacher"):
                    need(a.recipe["teacher"], f"{where}.teacher", parent.task)
                if pa and parent.artifact(pa).synthetic and not a.synthetic:
                    raise ManifestError(f"{where}: built from synthetic {parent.id}/{pa}, so it must be marked synthetic")
                if a.recipe["type"] == "synthetic_params" and not a.synthetic:
                    raise ManifestError(f"{where}: a synthetic_params artifact must be marked synthetic")
            if m.input.get("dictionary"):
                need(m.input["dictionary"], f"{m.manifest}: {m.id}.input.dictionary", "dict")
            if not m.artifacts:
                raise ManifestError(f"{m.manifest}: {m.id} has no artifacts")
        for c in self.configs.values():
            for task in ("det", "rec", "cls"):
                if getattr(c, task):
                    need(getattr(c, task), f"{c.manifest}: configs[{c.id}].{task}", task)
            if c.baseline is not None and c.baseline not in self.configs:
                raise ManifestError(f"{c.manifest}: configs[{c.id}].baseline is {c.baseline}, which is no "
                                    f"configuration (the rows are {', '.join(map(str, sorted(self.configs)))})")

    # --- lookups ---
    def resolve(self, name: str) -> Model:
        if name in self._names:
            return self.models[self._names[name]]
        folded = {k.lower(): v for k, v in self._names.items()}
        if name.lower() in folded:
            return self.models[folded[name.lower()]]
        raise UnknownModelError(name, self.suggest(name))

    def suggest(self, name: str, n: int = 3) -> List[str]:
        by_lower = {k.lower(): k for k in self._names}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=n * 2, cutoff=0.5)
        ids = []
        for c in close:
            mid = self._names[by_lower[c]]
            if mid not in ids:
                ids.append(mid)
        return ids[:n]

    def list(self, task: Optional[str] = None) -> List[Model]:
        if task is not None and task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        return [m for m in self.models.values() if task is None or m.task == task]

    def config(self, spec) -> Config:
        """A configuration by row number (``3``) or a pair of model ids (``DET+REC`` or ``DET+REC+CLS``),
        the one way every command names a det+rec pair."""
        text = str(spec).strip()
        if text.isdigit():
            if int(text) in self.configs:
                return self.configs[int(text)]
            raise UnknownConfigError(
                f"unknown configuration {text}: the rows are {', '.join(map(str, sorted(self.configs)))}, "
                f"or name a pair of models as DET+REC (`slimocr-zoo list` shows both)")
        parts = text.split("+")
        if len(parts) not in (2, 3) or not all(parts):
            raise UnknownConfigError(f"{text!r} is neither a configuration row "
                                     f"({', '.join(map(str, sorted(self.configs)))}) nor a pair DET+REC[+CLS] of model ids")
        want = ("det", "rec", "cls")
        ids = []
        for task, name in zip(want, parts):
            m = self.resolve(name)
            if m.task != task:
                raise UnknownConfigError(f"{text}: {m.id} is a {m.task} model where a {task} model goes (DET+REC[+CLS])")
            ids.append(m.id)
        return Config(id="+".join(ids), det=ids[0], rec=ids[1], cls=ids[2] if len(ids) > 2 else None)


# --- the process-wide registry ---------------------------------------------------------

_registered: List[Path] = []
_cache: Dict[Tuple, Registry] = {}


def manifest_paths() -> List[Path]:
    out = []
    for p in [builtin_manifest(), *settings.manifests(), *_registered]:
        p = p.resolve()
        if p not in out:
            out.append(p)
    return out


def get_registry() -> Registry:
    paths = tuple(manifest_paths())
    key = tuple((str(p), p.stat().st_mtime_ns if p.exists() else None) for p in paths)
    if key not in _cache:
        _cache.clear()
        _cache[key] = Registry(paths)
    return _cache[key]


def unregister_manifest(path=None) -> None:
    """Take back a manifest given to register_manifest (all of them when no path is given); those of
    SLIMOCR_ZOO_MANIFEST and the built-in one stay."""
    if path is None:
        _registered.clear()
    else:
        p = Path(path).resolve()
        if p in _registered:
            _registered.remove(p)


def register_manifest(path) -> Registry:
    """Add a user manifest to the built-in one; it is validated and merged at once."""
    path = Path(path).resolve()
    if path not in _registered:
        _registered.append(path)
    try:
        return get_registry()
    except Exception:
        _registered.remove(path)
        raise
