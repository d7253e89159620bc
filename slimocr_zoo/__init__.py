"""slimocr_zoo: the SlimOCR model zoo — PaddleOCR's compressed mobile OCR models, verified.

    >>> import slimocr_zoo
    >>> slimocr_zoo.list_models(task="det")
    >>> m = slimocr_zoo.load("MobileNetV3_DB")      # fetched, verified, cached
"""
__version__ = "0.1.0"

from .errors import (ChecksumError, DownloadError, ImageError, ManifestError, NoArtifactError,  # noqa: F401
                     OfflineError, RuntimeUnavailableError, UnknownModelError, UnpinnedError,
                     UnsafeArchiveError, ZooError)
from .loader import LoadedModel, load  # noqa: F401
from .registry import Config, Model, get_registry, register_manifest  # noqa: F401


def pipeline(config=None, det=None, rec=None, cls=None, **kwargs):
    """End-to-end OCR: ``pipeline(config=3)`` or ``pipeline(det=..., rec=..., cls=None)``; see slimocr_zoo.ocr."""
    from .ocr import pipeline as _pipeline

    return _pipeline(config=config, det=det, rec=rec, cls=cls, **kwargs)


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
