"""OCR stages (det / cls / rec) and the end-to-end pipeline. Needs the 'paddle' or 'lite' extra."""
from __future__ import annotations


def make_stage(loaded):
    """The runnable stage of a loaded model: DBDetector, AngleClassifier or CTCRecognizer."""
    from .. import runtime as rt
    from ..errors import NoArtifactError

    m = loaded.entry
    if m.task == "dict":
        raise NoArtifactError(f"{m.id} is a dictionary, not a model: it has nothing to run")
    predictor = rt.create(loaded, loaded.runtime, loaded.threads)
    if m.task == "det":
        from .det import DBDetector

        return DBDetector(predictor, m.input, m.postprocess)
    if m.task == "cls":
        from .cls import AngleClassifier

        return AngleClassifier(predictor, m.input)
    from .. import loader
    from .rec import CTCRecognizer, load_charset

    d = loader.load(m.input["dictionary"], **loaded.options)
    charset = load_charset(next(iter(d.files.values())), m.input.get("use_space_char", True))
    return CTCRecognizer(predictor, m.input, charset)


def pipeline(config=None, det=None, rec=None, cls=None, **kwargs):
    """An end-to-end OCR: ``pipeline(config=3)`` (a seed row) or ``pipeline(det=..., rec=..., cls=None)``."""
    from .system import OCR

    return OCR.create(config=config, det=det, rec=rec, cls=cls, **kwargs)
