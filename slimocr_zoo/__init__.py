"""slimocr_zoo: the SlimOCR model zoo — PaddleOCR's compressed mobile OCR models, verified.

    >>> import slimocr_zoo
    >>> slimocr_zoo.list_models(task="det")
    >>> m = slimocr_zoo.load("MobileNetV3_DB")      # fetched, verified, cached
    >>> ocr = slimocr_zoo.pipeline(config=3)       # det + rec of the seed's row 3

This module is the API's front door; the layers under it are listed in docs/architecture.md.
"""
from .api import LoadedModel, load, pipeline  # noqa: F401
from .errors import (BuildError, ChecksumError, DeviceError, DownloadError, ImageError, LongBuildError,  # noqa: F401
                     ManifestError, NoArtifactError, OfflineError, RuntimeUnavailableError,
                     UnknownConfigError, UnknownModelError, UnpinnedError, UnsafeArchiveError, ZooError)
from .registry import Config, Model, get_registry, register_manifest, unregister_manifest  # noqa: F401
from .version import __version__  # noqa: F401


def list_models(task=None):
    """Every model of the merged manifests (optionally of one task: det, rec, cls, dict)."""
    return get_registry().list(task)


def info(id):
    """The manifest entry of a model, by id or alias."""
    return get_registry().resolve(id)


def configs():
    """The seed table's det+rec configurations (rows 0-3), in order."""
    reg = get_registry()
    return [reg.configs[k] for k in sorted(reg.configs)]
