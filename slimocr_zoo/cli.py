"""slimocr-zoo: list | info | download | build | verify | cache | ocr | eval | bench | report.

Argument parsing and printing only: every command calls the layer that does the work. The
``python -m slimocr_zoo.ocr / .eval / .bench / .report`` entry points are these commands too.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import List, Optional

from . import cache, fetch
from .settings import quiet_native_logs
from .api import is_cached
from .errors import DownloadError, UnpinnedError, UsageError, ZooError, guarded
from .files import sha256_of
from .registry import Model, get_registry
from .version import __version__


def _table(rows, headers, fmt="simple"):
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def _mb(n):
    return "?" if n is None else f"{n / 1e6:.2f}"


def _reported(m: Model):
    r = m.reported
    if not r:
        return "", ""
    return f"{r['accuracy']['metric']} {r['accuracy']['value']}", f"{r['latency_ms']} ({r['device']})"


# --- commands ---------------------------------------------------------------------------

def cmd_list(args) -> int:
    reg = get_registry()
    models = reg.list(args.task)
    if args.json:
        print(json.dumps({"models": [_model_json(m) for m in models],
                          "configs": [_config_json(c) for c in reg.configs.values()]}, indent=1, ensure_ascii=False))
        return 0
    rows = []
    for m in models:
        acc, ms = _reported(m)
        arts = ", ".join(("*" if is_cached(a) else "") + a.name + ("+" if a.recipe else "") for a in m.artifacts)
        rows.append([m.id, m.task, m.family, m.compression.get("method", "none"), acc, ms, arts])
    print(_table(rows, ["id", "task", "family", "compression", "reported acc", "reported ms", "artifacts (* cached, + built by a recipe)"]))
    if args.task is None:
        print()
        rows = []
        for c in (reg.configs[k] for k in sorted(reg.configs)):
            r = c.reported or {}
            pct = lambda v: "-" if v is None else f"{v}%"  # noqa: E731
            rows.append([c.id, c.det, c.rec, r.get("e2e_latency_ms", "-"), pct(r.get("speedup_pct")),
                         r.get("size_mb", "-"), pct(r.get("compression_pct"))])
        print("Configurations (figures as reported by the seed table: Snapdragon 855, Paddle Lite, 1 thread; "
              "rows without them are not the seed's: measured here only, see the README)")
        print(_table(rows, ["row", "det", "rec", "e2e ms", "speed-up", "size MB", "compression"]))
    return 0


def _model_json(m: Model) -> dict:
    d = asdict(m)
    d["manifest"] = str(m.manifest)
    for a in d["artifacts"]:
        a["cached"] = is_cached(m.artifact(a["name"]))
    return d


def _config_json(c) -> dict:
    d = asdict(c)
    d["manifest"] = str(c.manifest)
    return d


def cmd_info(args) -> int:
    m = get_registry().resolve(args.id)
    if args.json:
        print(json.dumps(_model_json(m), indent=1, ensure_ascii=False))
        return 0
    print(f"{m.id}  ({m.task}, {m.family})")
    if m.aliases:
        print(f"  aliases:      {', '.join(m.aliases)}")
    print(f"  description:  {m.description}")
    if m.architecture:
        print(f"  architecture: {', '.join(f'{k}={v}' for k, v in m.architecture.items())}")
    if m.input:
        print(f"  input:        {', '.join(f'{k}={v}' for k, v in m.input.items() if k not in ('mean', 'std', 'scale'))}")
    print(f"  compression:  {m.compression.get('method')}")
    for part in ("quantization", "pruning"):
        if part in m.compression:
            print(f"    {part}: {json.dumps(m.compression[part], ensure_ascii=False)}")
    if m.reported:
        acc, ms = _reported(m)
        print(f"  reported:     {acc}, {ms} ms — {m.reported.get('note', 'as reported by the seed')}")
    print(f"  manifest:     {m.manifest}")
    for a in m.artifacts:
        state = "cached" if is_cached(a) else "not cached"
        print(f"  artifact {a.name}: {a.describe()}, {_mb(a.size)} MB, {'pinned' if a.pinned else 'UNPINNED'}, {state}")
        print(f"    provenance: {a.provenance}")
        if a.recipe:
            r = a.recipe
            print(f"    recipe: {r['type']} from {r['parent']}/{r.get('parent_artifact', '?')}"
                  + (f", teacher {r['teacher']}" if r.get("teacher") else "")
                  + (f", about {a.build_minutes:g} min to build here" if a.build_minutes else "")
                  + (f" — {r['note']}" if r.get("note") else ""))
            from .build import read_record

            rec = read_record(a)
            if rec:
                cal = rec.get("calibration")
                print(f"    built {rec['built_at']} (key {rec['key']}) with {rec['tools']}"
                      + (f", {len(cal['images'])} {cal['set']} images sha256 {cal['sha256'][:16]}" if cal else "")
                      + (f", in {rec['seconds'] / 60:.1f} min; log {rec['log']}" if rec.get("seconds") else ""))
        for f in a.files:
            pending = "(sha256 recorded when built)" if a.recipe else "(sha256 pinned on first download)"
            print(f"    {f.path}  {f.size if f.size is not None else '?'} B  {f.sha256 or pending}")
        for s in a.sources:
            print(f"    source ({s.type}): {s.url}" + (f" [strip {s.strip}]" if s.strip else ""))
    return 0


def _download(models: List[Model], args) -> int:
    """Each model's files: first the artifact ``load()`` would use (the first of its candidates that
    can be had), then the other artifacts matching the filters, best effort: an upstream copy that
    cannot be reached is reported, not a failure, when the model already has what it runs from."""
    from .artifacts import candidates

    opts = fetch.Options.from_env(mirrors=args.mirror, offline=args.offline, quiet=args.quiet,
                                   require_pinned=args.require_pinned)
    rows, missing = [], []

    def get(m, a):
        if a.recipe:
            return "to build", (f"`slimocr-zoo build {m.id}`: {a.recipe['type']} from "
                                f"{a.recipe['parent']}/{a.recipe.get('parent_artifact')}")
        try:
            files = fetch.fetch(a, opts)
        except UnpinnedError:
            return "skipped", "upstream file with no pinned sha256 (--require-pinned)"
        except (DownloadError, ZooError) as e:
            return "unavailable", _short(str(e))
        size = sum(p.stat().st_size for p in files.values())
        return "ok", f"{_mb(size)} MB in {next(iter(files.values())).parent}"

    for m in models:
        arts = [a for a in m.artifacts if (args.format is None or a.format == args.format)
                and (args.target is None or a.target == args.target)]
        if not arts:
            rows.append([m.id, "-", "none", "no artifact matches the filters"])
            continue
        uses, tried = None, {}
        for a in candidates(m, args.format, args.target):
            tried[a.name] = get(m, a)
            if tried[a.name][0] in ("ok", "to build"):
                uses = a.name
                break
        if uses is None and not any(st == "skipped" for st, _ in tried.values()):  # skipped: as asked
            missing.append(m.id)
        for a in arts:
            status, detail = tried.get(a.name) or get(m, a)
            if a.name == uses:
                detail += " (what load() uses)"
            elif status == "unavailable" and uses:
                detail = f"not needed, load() uses {uses!r}: " + detail
            rows.append([m.id, a.name, "FAILED" if status == "unavailable" and not uses else status, detail])
    print(_table(rows, ["model", "artifact", "status", "detail"]))
    count = lambda s: sum(r[2] == s for r in rows)  # noqa: E731
    print(f"\n{count('ok')} fetched, {count('to build')} to be built by a recipe, {count('unavailable')} unavailable "
          f"but not needed, {count('skipped')} skipped; cache: {cache.home()}")
    if missing:
        print(f"nothing to run {', '.join(missing)} from could be had: see FAILED above", file=sys.stderr)
    return 1 if missing else 0


def _short(text, n=220):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def cmd_download(args) -> int:
    reg = get_registry()
    if args.all == bool(args.ids):
        args.parser.error("give model ids or --all (not both)")
    models = reg.list() if args.all else [reg.resolve(i) for i in args.ids]
    return _download(models, args)


def cmd_build(args) -> int:
    import time

    from .api import build

    reg = get_registry()
    if args.all == bool(args.ids):
        args.parser.error("give model ids or --all (not both)")
    models = reg.list() if args.all else [reg.resolve(i) for i in args.ids]
    rows, failed = [], 0
    for m in models:
        for a in m.recipes:
            if (args.format and a.format != args.format) or (args.target and a.target != args.target):
                continue
            t0 = time.perf_counter()
            try:
                b = build(m.id, a.name, force=args.force, quiet=args.quiet, mirror=args.mirror, offline=args.offline)
                size = sum(p.stat().st_size for p in b.files.values())
                rows.append([m.id, a.name, "ok", a.describe(), _mb(size), f"{time.perf_counter() - t0:.1f}"])
            except ZooError as e:
                failed += 1
                rows.append([m.id, a.name, "failed", _short(str(e)), "", f"{time.perf_counter() - t0:.1f}"])
    print(_table(rows, ["model", "artifact", "status", "what", "MB", "s"]))
    print(f"\n{len(rows) - failed} built (or already built), {failed} failed; cache: {cache.home()}")
    return 1 if failed else 0


def _known_files():
    for m in get_registry().list():
        for a in m.artifacts:
            for f in a.files:
                yield m, a, f


def cmd_add(args) -> int:
    from . import settings
    from .usermodel import add

    manifest = args.manifest or next(iter(settings.manifests()), None) or Path("my-models.json")
    m = add(args.files, args.id, args.task, manifest, like=args.like)
    art = m["artifacts"][0]
    what = ", ".join(f"{k} {art[k]}" for k in ("format", "target", "opt_version", "precision") if k in art)
    print(f"added {m['id']} ({m['task']}; {what}; specs as {args.like or 'the default ' + m['task'] + ' model'}) "
          f"to {manifest}")
    used = any(Path(p).resolve() == Path(manifest).resolve() for p in settings.manifests())
    if not used:
        print(f"use it: SLIMOCR_ZOO_MANIFEST={manifest} slimocr-zoo info {m['id']}")
    return 0


def cmd_doctor(args) -> int:
    from . import doctor

    checks = doctor.run(args.mirror)
    print(_table([[c.what, c.level, c.detail] for c in checks], ["check", "status", "detail"]))
    errors = sum(c.level == "error" for c in checks)
    warnings = sum(c.level == "warning" for c in checks)
    print(f"\n{errors} error(s), {warnings} warning(s)" + ("" if errors else ": ready"))
    return 1 if errors else 0


def cmd_verify(args) -> int:
    rows, bad = [], 0
    for m, a, f in _known_files():
        p = cache.file_path(f.path)
        if not p.is_file():
            continue
        actual = sha256_of(p)
        expected = fetch.expected_sha256(f)
        if expected is None:
            rows.append([m.id, f.path, "unpinned", actual])
        elif actual == expected and (f.size is None or p.stat().st_size == f.size):
            cache.record(f.path, actual)
            rows.append([m.id, f.path, "ok", actual])
        else:
            bad += 1
            cache.forget(f.path)
            rows.append([m.id, f.path, "CORRUPT, removed", f"sha256 {actual}, expected {expected}"])
    if rows:
        print(_table(rows, ["model", "file", "status", "sha256"]))
    print(f"\n{len(rows)} cached files checked, {bad} corrupt (removed; `slimocr-zoo download` fetches them again)")
    return 1 if bad else 0


def cmd_cache(args) -> int:
    home = cache.home()
    if args.action == "ls":
        rows = []
        for m in get_registry().list():
            for a in m.artifacts:
                present = [f for f in a.files if cache.file_path(f.path).is_file()]
                partial = [f for f in a.files if cache.file_path(f.path + cache.INCOMPLETE).is_file()]
                if present or partial:
                    size = sum(cache.file_path(f.path).stat().st_size for f in present)
                    # "cached" means what load() means: verified (or built) and unchanged
                    state = "cached" if is_cached(a) else f"{len(present)}/{len(a.files)} files, not verified"
                    if partial:
                        state += f", {len(partial)} partial download{'s' if len(partial) > 1 else ''}"
                    rows.append([m.id, a.name, state, _mb(size)])
        print(_table(rows, ["model", "artifact", "state", "MB"]) if rows else "the cache is empty")
        print(f"\ncache: {home}")
        return 0
    if args.action == "rm":
        if not args.ids:
            args.parser.error("give one or more model ids")
        for i in args.ids:
            m = get_registry().resolve(i)
            n = 0
            for a in m.artifacts:
                for f in a.files:
                    for p in (cache.file_path(f.path), cache.file_path(f.path + cache.INCOMPLETE)):
                        if p.exists():
                            n += 1
                    cache.forget(f.path)
                    cache.file_path(f.path + cache.INCOMPLETE).unlink(missing_ok=True)
            print(f"{m.id}: removed {n} files")
        return 0
    # prune: partial downloads, leftover archives, files no manifest knows
    known = {f.path for _, _, f in _known_files()}

    def stale(d: str, rel: str) -> bool:
        if d == "files":  # partial downloads (never in `known`) and files no manifest lists
            return rel not in known
        if d == "state":  # records of files that are gone or unknown
            rel = rel[: -len(".json")]
            return rel not in known or not cache.file_path(rel).exists()
        return True  # downloads/: archives left by an interrupted extraction

    removed = 0
    for d in ("files", "state", "downloads"):
        root = home / d
        for p in sorted(root.rglob("*")) if root.exists() else []:
            if p.is_file() and stale(d, p.relative_to(root).as_posix()):
                p.unlink()
                removed += 1
    print(f"removed {removed} files from {home}")
    return 0


def cmd_ocr(args) -> int:
    from tqdm.auto import tqdm

    from .api import pipeline
    from .errors import ImageError
    from .ocr.image import image_files
    from .ocr.system import draw

    config = args.config
    if config is None and (args.det is None) != (args.rec is None):
        args.parser.error("give --det and --rec together (or --config ROW|DET+REC)")
    images = image_files(args.images)
    if not images:
        raise UsageError(f"no images in {' '.join(map(str, args.images))} (.jpg, .png, .bmp, .tif, .webp)")
    det = args.det or (None if config is not None else "ch_PP-OCRv4_det")
    rec = args.rec or (None if config is not None else "ch_PP-OCRv4_rec")
    ocr = pipeline(config=config, det=det, rec=rec, cls=args.cls, runtime=args.runtime, threads=args.threads,
                   drop_score=args.drop_score, mirror=args.mirror, offline=args.offline, quiet=args.quiet,
                   precision=args.precision)
    many, failed = len(images) > 1, 0
    bar = tqdm(images, desc="images", unit="img", disable=True if args.quiet or not many else None, file=sys.stderr)
    for img in bar:
        try:
            res = ocr(img)
        except ImageError as e:
            if not many:
                raise
            failed += 1  # one unreadable file in a folder: said, and the rest go on
            bar.write(f"error: {e}", file=sys.stderr)
            if args.json:
                print(json.dumps({"image": str(img), "error": str(e)}, ensure_ascii=False), flush=True)
            continue
        if args.json:
            print(json.dumps({"image": str(img), "models": ocr.ids, "runtime": args.runtime, **res.to_dict()},
                             ensure_ascii=False), flush=True)
        else:
            t = res.timings
            bar.write(f"{img}: {len(res.lines)} lines ({res.boxes_found} boxes) in {t['total']:.1f} ms "
                      f"[det {t['det']:.1f}, rec {t.get('rec', 0):.1f}, cls {t.get('cls', 0):.1f}]", file=sys.stdout)
            for ln in res.lines:
                box = " ".join(f"{int(x)},{int(y)}" for x, y in ln.box)
                bar.write(f"  {ln.score:.3f}  {ln.text}    [{box}]", file=sys.stdout)
        if args.draw:
            out = args.draw if not many else args.draw.with_name(f"{args.draw.stem}-{img.stem}{args.draw.suffix}")
            draw(img, res, out)
    if failed:
        print(f"{failed} of {len(images)} images could not be read", file=sys.stderr)
    return 1 if failed else 0


def cmd_eval(args) -> int:
    from . import eval as evaluation
    from .data import data_dir
    from .results import eval_table, read, save, show

    if args.show:
        print(show(read(args.show, "eval"), args.format))
        return 0
    if args.data is not None and not (args.data / "icdar2015_det").is_dir():
        raise UsageError(f"--data {args.data}: no icdar2015_det/ in it (give a folder holding icdar2015_det/ and icdar2015_rec/)")
    data = args.data or data_dir("eval")
    doc = evaluation.run(args.models, args.e2e, args.runtime or ["paddle", "lite"], data, args.command_line,
                         threads=args.threads, limit=args.limit, quiet=args.quiet, mirror=args.mirror,
                         offline=args.offline, precision=args.precision)
    print(eval_table(doc))
    if args.out:
        out = args.out / "eval.json" if args.out.is_dir() else args.out
        save(doc, out)
        print(f"\nwrote {out}")
    return 0


def cmd_bench(args) -> int:
    from .bench.runner import run
    from .results import read, show

    if args.show:
        print(show(read(args.show, "bench"), "github"))
        return 0
    return run(args, args.command_line)


def cmd_report(args) -> int:
    from .report import ACCURACY, run

    missing = [str(p) for p in args.accuracy or [] if not p.is_file()]
    if missing:  # the defaults may be absent (outside a checkout); a file named by the user must be there
        raise UsageError(f"--accuracy {' '.join(missing)}: no such file (give benchmarks/seed_models.py's results)")
    return run(args.results, args.readme, check=args.check, accuracy=args.accuracy or ACCURACY, fmt=args.format,
               lang=args.lang, plot_path=args.plot)


# --- entry point ------------------------------------------------------------------------

def _common(top: bool) -> argparse.ArgumentParser:
    """Options every command takes, before or after its name: on the subcommands their defaults are
    SUPPRESS, so a value given before the command is not overwritten by the subcommand's default."""
    d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--mirror", action="append", default=d([]), metavar="URL_OR_DIR",
                   help="a mirror (http(s) base URL or local directory) tried before the manifest's sources; "
                        "repeatable; also SLIMOCR_ZOO_MIRROR")
    p.add_argument("--offline", action="store_true", default=d(None),
                   help="never open a network connection (also SLIMOCR_ZOO_OFFLINE=1)")
    p.add_argument("--quiet", "-q", action="store_true", default=d(False), help="no progress bars")
    p.add_argument("--verbose", "-v", action="store_true", default=d(False), help="more log lines")
    return p


def _running() -> argparse.ArgumentParser:
    """How models run: threads and precision (each command says which runtimes it takes)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--threads", type=int, default=None, help="CPU threads per predictor (default: up to 4)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="how float models run; bf16: Paddle Inference's oneDNN bfloat16 (CPUs with AVX512-BF16/AMX). "
                        "int8 models run real int8 where the CPU has AVX512-VNNI, else simulated int8")
    return p


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "--pair", dest="config", default=None, metavar="ROW|DET+REC[+CLS]",
                   help="a configuration: a seed row (0-3) or a pair of model ids joined by +")


def build_parser(entry: Optional[tuple] = None) -> argparse.ArgumentParser:
    """``entry``: (command, prog) when run as ``python -m slimocr_zoo.X``: that command's usage names it so."""
    common = _common(top=False)
    p = argparse.ArgumentParser(prog="slimocr-zoo", description="The SlimOCR model zoo: list, inspect and download "
                                "PaddleOCR's compressed mobile OCR models, verified; run, evaluate and benchmark them.",
                                parents=[_common(top=True)])
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help, parents=()):
        named = {"prog": entry[1]} if entry and entry[0] == name else {}
        s = sub.add_parser(name, parents=[common, *parents], help=help, description=help, **named)
        s.set_defaults(func=func, parser=s)
        return s

    s = command("list", cmd_list, "models and the seed's configurations")
    s.add_argument("--task", choices=["det", "rec", "cls", "dict"])
    s.add_argument("--json", action="store_true")
    s = command("info", cmd_info, "one model's manifest entry and cache state")
    s.add_argument("id")
    s.add_argument("--json", action="store_true")
    s = command("download", cmd_download, "fetch and verify models' files into the cache")
    s.add_argument("ids", nargs="*", metavar="ID")
    s.add_argument("--all", action="store_true", help="every model; goes on past failures and ends with a summary")
    s.add_argument("--format", choices=["paddle", "nb", "text"])
    s.add_argument("--target", choices=["arm", "x86"])
    s.add_argument("--require-pinned", action="store_true",
                   help="refuse upstream files whose sha256 is not pinned (instead of pinning on first use)")
    s = command("build", cmd_build, "build artifacts by their recipes (opt, prune, quant_post, ...)")
    s.add_argument("ids", nargs="*", metavar="ID")
    s.add_argument("--all", action="store_true", help="every recipe artifact of every model")
    s.add_argument("--format", choices=["paddle", "nb"])
    s.add_argument("--target", choices=["arm", "x86"])
    s.add_argument("--force", action="store_true", help="build again even when an up-to-date build exists")
    command("verify", cmd_verify, "re-hash every cached file; remove corrupt ones")
    s = command("add", cmd_add, "write a manifest entry for your own model files (.nb, or a paddle model): sizes, "
                                "sha256, target and opt version read from the files, specs copied from a like model")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE", help="one .nb, or inference.pdmodel + .pdiparams")
    s.add_argument("--id", required=True, help="the new model's id")
    s.add_argument("--task", required=True, choices=["det", "rec", "cls"])
    s.add_argument("--like", help="copy input and postprocess specs from this model (default: the task's "
                                  "PP-OCRv4 / v2.0 model)")
    s.add_argument("--manifest", type=Path, help="the manifest to write or append to (default: the first of "
                                                 "$SLIMOCR_ZOO_MANIFEST, else ./my-models.json)")
    command("doctor", cmd_doctor, "what this machine has for the zoo: Python, paddle, paddlelite, numpy, CPU int8 / "
                                  "bf16, adb and its devices, the cache, the mirrors; each ok / warning / error")
    s = command("cache", cmd_cache, "ls | rm ID... | prune")
    s.add_argument("action", choices=["ls", "rm", "prune"])
    s.add_argument("ids", nargs="*", metavar="ID")

    s = command("ocr", cmd_ocr, "end-to-end OCR of images with zoo models (= python -m slimocr_zoo.ocr)", [_running()])
    s.add_argument("images", nargs="+", type=Path, help="image files and/or folders of images")
    _config_arg(s)
    s.add_argument("--det", default=None, help="detector id (default ch_PP-OCRv4_det)")
    s.add_argument("--rec", default=None, help="recognizer id (default ch_PP-OCRv4_rec)")
    s.add_argument("--cls", default=None, help="direction classifier id (default: none)")
    s.add_argument("--runtime", default="paddle", choices=["paddle", "lite"])
    s.add_argument("--drop-score", type=float, default=0.5)
    s.add_argument("--json", action="store_true", help="one JSON object per image, a line each")
    s.add_argument("--draw", type=Path, help="write the image with its boxes (IMAGE stem appended with several images)")

    s = command("eval", cmd_eval, "accuracy on ICDAR 2015 (PaddleOCR label formats) (= python -m slimocr_zoo.eval)",
                [_running()])
    s.add_argument("--models", nargs="+", default=["MobileNetV3_DB", "ch_PP-OCRv4_det", "ch_PP-OCRv4_rec"],
                   help="det models are scored on icdar2015_det, rec models on icdar2015_rec")
    s.add_argument("--e2e", nargs="*", default=[], metavar="ROW|DET+REC[+CLS]",
                   help="end-to-end configurations, e.g. ch_PP-OCRv4_det+ch_PP-OCRv4_rec")
    s.add_argument("--runtime", nargs="+", default=None, choices=["paddle", "lite"], help="default: both")
    s.add_argument("--data", type=Path, default=None, help="folder with icdar2015_det/ and icdar2015_rec/")
    s.add_argument("--limit", type=int, default=None, help="only the first N images / crops")
    s.add_argument("--out", type=Path, help="write the results JSON here (a folder: eval.json in it)")
    s.add_argument("--show", type=Path, metavar="RESULTS", help="print the table of a results file and exit")
    s.add_argument("--format", default="simple", help="tabulate format for --show (github, grid, html, ...)")

    s = command("bench", cmd_bench, "latency of each model and end-to-end OCR: --device cpu | sd855 ... "
                                    "(= python -m slimocr_zoo.bench)")
    s.add_argument("--device", default="cpu", help="a profile of manifests/devices.json: cpu, sd855")
    s.add_argument("--configs", nargs="+", metavar="ROW|DET+REC",
                   help="manifest rows (seed 0-3, PP-OCRv4 4-7) and/or DET+REC model pairs (default: every row)")
    s.add_argument("--runtime", help="cpu: paddle (default) or lite; a phone: the benchmark_bin to push "
                                     "(default: $SLIMOCR_ZOO_BENCHMARK_BIN, then the cache's runtimes/)")
    s.add_argument("--serial", help="phone(s): SERIAL[,SERIAL...] or all (each runs in parallel); "
                                    "HOST:PORT is adb-connected first")
    s.add_argument("--force", action="store_true", help="run on a phone that does not match the profile (noted)")
    s.add_argument("--power-mode", choices=["LITE_POWER_HIGH", "LITE_POWER_LOW", "LITE_POWER_FULL",
                                            "LITE_POWER_NO_BIND", "LITE_POWER_RAND_HIGH", "LITE_POWER_RAND_LOW"])
    s.add_argument("--e2e-binary", type=Path, help="phone: also time PaddleOCR's ocr_db_crnn (deploy/lite) per image")
    s.add_argument("--invocations", type=int, help="phone: split --repeats over this many benchmark_bin runs")
    s.add_argument("--cooldown-temp", type=float, help="phone: wait before each model until below this (deg C)")
    s.add_argument("--cooldown-max", type=float, help="phone: wait at most this long (s), then go on with a note")
    s.add_argument("--threads", type=int)
    s.add_argument("--warmup", type=int)
    s.add_argument("--repeats", type=int)
    s.add_argument("--images", type=Path, help="a folder of images for end-to-end OCR (default: ICDAR 2015 subset)")
    s.add_argument("--no-e2e", dest="e2e", action="store_false", help="per-model figures only")
    s.add_argument("--quick", action="store_true", help="the device's short protocol")
    s.add_argument("--profile", action="store_true",
                   help="cpu, Paddle Inference: also where each model's time goes, per op type (paddle's profiler)")
    s.add_argument("--out", type=Path, help="results JSON, or a folder for it "
                                            "(default benchmarks/results/bench-DEVICE-RUNTIME.json)")
    s.add_argument("--resume", action="store_true", help="keep the finished entries of --out and run the rest")
    s.add_argument("--show", type=Path, metavar="RESULTS", help="print the tables of a results file and exit")

    s = command("report", cmd_report, "results -> the seed's table in README.md / README_zh.md "
                                      "(= python -m slimocr_zoo.report)")
    s.add_argument("results", nargs="*", type=Path, help="bench results files (slimocr-zoo bench)")
    s.add_argument("--readme", nargs="+", type=Path, default=[],
                   help="files with report markers; the language is the marker's (en, zh)")
    s.add_argument("--check", action="store_true", help="exit 1 when a --readme differs from what the results give")
    s.add_argument("--accuracy", nargs="+", type=Path, default=None,
                   help="accuracy, ARM .nb sizes and words found per model and row (benchmarks/seed_models.py's "
                        "results; default: the seed's rows and the PP-OCRv4 rows)")
    s.add_argument("--format", default="github", choices=["github", "grid", "html", "simple"])
    s.add_argument("--lang", default="en", choices=["en", "zh"])
    s.add_argument("--plot", type=Path, help="write the latency-vs-accuracy PNG here")
    return p


INTERRUPTED = {"bench": "interrupted: finished entries are saved; rerun with --resume to continue"}


def main(argv: Optional[List[str]] = None, prog: Optional[str] = None) -> int:
    """``prog``: how the user ran the command, when not as ``slimocr-zoo`` (``python -m slimocr_zoo.bench``);
    results files record the command line that way."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser((argv[0], prog) if prog and argv else None)
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.INFO if args.verbose else logging.WARNING)
    if not args.verbose:
        quiet_native_logs()  # before anything imports paddle, here or in a process started from here
    args.command_line = (f"{prog} " + " ".join(argv[1:]) if prog else "slimocr-zoo " + " ".join(argv)).strip()
    return guarded(lambda: args.func(args),
                   INTERRUPTED.get(args.command, "interrupted: finished files are in the cache, partial "
                                                 "downloads resume next time"))


if __name__ == "__main__":
    sys.exit(main())
