"""OCR stages (det / cls / rec) and the end-to-end pipeline, one module per stage. Needs the
'paddle' or 'lite' extra. A stage is made from a loaded model and a predictor of the runtime;
``system.OCR`` takes stages."""
from __future__ import annotations


def make_stage(loaded):
    """The runnable stage of a loaded model: DBDetector, AngleClassifier or CTCRecognizer."""
    from .. import runtime as rt
    from ..errors import NoArtifactError

    m = loaded.entry
    if m.task == "dict":
        raise NoArtifactError(f"{m.id} is a dictionary, not a model: it has nothing to run")
    charset = None
    if m.task == "rec":  # before the predictor: a missing dictionary is said before any model loads
        from .rec import load_charset

        charset = load_charset(loaded.dependency("dictionary"), m.input.get("use_space_char", True))
    predictor = rt.create(loaded, loaded.runtime, loaded.threads)
    if m.task == "det":
        from .det import DBDetector

        return DBDetector(predictor, m.input, m.postprocess, model=loaded)
    if m.task == "cls":
        from .cls import AngleClassifier

        return AngleClassifier(predictor, m.input, model=loaded)
    from .rec import CTCRecognizer

    return CTCRecognizer(predictor, m.input, charset, model=loaded)
