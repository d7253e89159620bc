"""``slimocr-zoo add``: a user's own model files into a manifest entry, with nothing typed by hand
that the files themselves say: sizes and sha256, a ``.nb``'s target, opt version and precision
(from its header), a paddle program's precision (fake-quant ops), the input and postprocess specs
from a model it is like. The entry is validated with the manifests already in use before the
file is written (atomically, appended to when it exists)."""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import List, Optional

from .errors import ManifestError, UsageError
from .files import sha256_of, write_atomic
from .registry import Registry, get_registry, manifest_paths

LIKE = {"det": "ch_PP-OCRv4_det", "rec": "ch_PP-OCRv4_rec", "cls": "ch_ppocr_mobile_v2.0_cls"}
PADDLE_PAIRS = (("inference.pdmodel", "inference.pdiparams"), ("model", "params"))


def _paddle_int8(program: Path) -> Optional[bool]:
    try:
        from .runtime.libs import import_paddle

        paddle = import_paddle()
    except Exception:  # paddle not installed: the precision is left unsaid
        return None
    desc = paddle.base.core.ProgramDesc(program.read_bytes())
    block = desc.block(0)
    return any("quantize" in block.op(i).type() for i in range(block.op_size()))


def _artifact(files: List[Path], model_id: str) -> dict:
    names = sorted(f.name for f in files)
    if len(files) == 1 and files[0].suffix == ".nb":
        from .runtime.nbfile import inspect_nb

        info = inspect_nb(files[0])
        if len(info.targets) != 1:
            raise UsageError(f"{files[0]}: its kernels are for {sorted(info.targets) or 'no known'} targets: "
                             f"give a .nb converted by opt for arm or x86")
        art = {"name": f"nb-{next(iter(info.targets))}", "format": "nb", "target": next(iter(info.targets)),
               "opt_version": info.version, "precision": "int8" if info.int8_kernels else "fp32"}
    elif sorted(names) in [sorted(p) for p in PADDLE_PAIRS]:
        program = next(f for f in files if f.name in ("inference.pdmodel", "model"))
        int8 = _paddle_int8(program)
        art = {"name": "paddle", "format": "paddle",
               "layout": "pdmodel" if program.name == "inference.pdmodel" else "combined",
               **({} if int8 is None else {"precision": "int8" if int8 else "fp32"})}
    else:
        raise UsageError(f"cannot tell what {' '.join(map(str, files))} is: give one .nb file, or a paddle model's "
                         f"inference.pdmodel + inference.pdiparams (or model + params)")
    folder = files[0].resolve().parent
    if any(f.resolve().parent != folder for f in files):
        raise UsageError("give the files of one model from one folder")
    prefix = f"user/{model_id}/"
    art["files"] = [{"path": prefix + f.name, "size": f.stat().st_size, "sha256": sha256_of(f)} for f in files]
    art["sources"] = [{"type": "base", "url": folder.as_uri(), "strip": prefix}]
    today = datetime.date.today().isoformat()
    art["provenance"] = f"added by `slimocr-zoo add` on {today} from {folder}"
    return art


def entry(files: List[Path], model_id: str, task: str, like: Optional[str] = None) -> dict:
    """The manifest entry for a model's files, its specs copied from ``like`` (by task by default)."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"no such file: {' '.join(missing)}")
    reg = get_registry()
    ref = reg.resolve(like or LIKE[task])
    if ref.task != task:
        raise UsageError(f"--like {ref.id} is a {ref.task} model; give a {task} model to copy specs from")
    m = {"id": model_id, "task": task, "family": "user",
         "description": f"{model_id}: the user's own {task} model (specs as {ref.id})",
         "input": ref.input, "artifacts": [_artifact(files, model_id)]}
    if ref.postprocess:
        m["postprocess"] = ref.postprocess
    return m


def add(files: List[Path], model_id: str, task: str, manifest: Path, like: Optional[str] = None) -> dict:
    """Write the entry into ``manifest`` (created, or appended to), checked against every manifest in use."""
    m = entry(files, model_id, task, like)
    manifest = manifest.resolve()
    if manifest.is_file():
        try:
            doc = json.loads(manifest.read_text("utf-8"))
        except ValueError as e:
            raise UsageError(f"{manifest} is not a manifest (not JSON: {e}): give another --manifest") from None
        if any(x.get("id") == model_id for x in doc.get("models", [])):
            raise UsageError(f"{manifest} already has a model {model_id!r}: choose another --id")
        doc.setdefault("models", []).append(m)
    else:
        doc = {"schema_version": 1, "models": [m]}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    trial = manifest.with_name(f".{manifest.name}.check.json")
    try:
        trial.write_text(text, "utf-8")
        Registry([p for p in manifest_paths() if p != manifest] + [trial])  # schema, ids, references
    except ManifestError as e:
        raise UsageError(f"the entry would not be valid: {str(e).replace(str(trial), str(manifest))}") from None
    finally:
        trial.unlink(missing_ok=True)
    write_atomic(manifest, text)
    return m
