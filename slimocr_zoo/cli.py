"""slimocr-zoo: list | info | download | verify | cache."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from typing import List

from . import __version__, cache
from . import fetch as _fetch
from .errors import DownloadError, UnpinnedError, ZooError, guarded
from .registry import Artifact, Model, get_registry


def _table(rows, headers, fmt="simple"):
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def _mb(n):
    return "?" if n is None else f"{n / 1e6:.2f}"


def _cached(a: Artifact) -> bool:
    if a.recipe:
        from .build import is_built

        return is_built(a)
    return all(cache.file_path(f.path).is_file() for f in a.files)


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
        arts = ", ".join(("*" if _cached(a) else "") + a.name + ("+" if a.recipe else "") for a in m.artifacts)
        rows.append([m.id, m.task, m.family, m.compression.get("method", "none"), acc, ms, arts])
    print(_table(rows, ["id", "task", "family", "compression", "reported acc", "reported ms", "artifacts (* cached, + built by a recipe)"]))
    if args.task is None:
        print()
        rows = []
        for c in (reg.configs[k] for k in sorted(reg.configs)):
            r = c.reported or {}
            pct = lambda v: "-" if v is None else f"{v}%"  # noqa: E731
            rows.append([c.id, c.det, c.rec, r.get("e2e_latency_ms"), pct(r.get("speedup_pct")),
                         r.get("size_mb"), pct(r.get("compression_pct"))])
        print("Configurations (figures as reported by the seed table: Snapdragon 855, Paddle Lite, 1 thread)")
        print(_table(rows, ["row", "det", "rec", "e2e ms", "speed-up", "size MB", "compression"]))
    return 0


def _model_json(m: Model) -> dict:
    d = asdict(m)
    d["manifest"] = str(m.manifest)
    for a in d["artifacts"]:
        a["cached"] = _cached(m.artifact(a["name"]))
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
        state = "cached" if _cached(a) else "not cached"
        print(f"  artifact {a.name}: {a.describe()}, {_mb(a.size)} MB, {'pinned' if a.pinned else 'UNPINNED'}, {state}")
        print(f"    provenance: {a.provenance}")
        if a.recipe:
            r = a.recipe
            print(f"    recipe: {r['type']} from {r['parent']}/{r.get('parent_artifact', '?')}"
                  + (f" — {r['note']}" if r.get("note") else ""))
            from .build import read_record

            rec = read_record(a)
            if rec:
                cal = rec.get("calibration")
                print(f"    built {rec['built_at']} (key {rec['key']}) with {rec['tools']}"
                      + (f", {len(cal['images'])} {cal['set']} images sha256 {cal['sha256'][:16]}" if cal else ""))
        for f in a.files:
            pending = "(sha256 recorded when built)" if a.recipe else "(sha256 pinned on first download)"
            print(f"    {f.path}  {f.size if f.size is not None else '?'} B  {f.sha256 or pending}")
        for s in a.sources:
            print(f"    source ({s.type}): {s.url}" + (f" [strip {s.strip}]" if s.strip else ""))
    return 0


def _download(models: List[Model], args) -> int:
    opts = _fetch.Options.from_env(mirrors=args.mirror, offline=args.offline, quiet=args.quiet,
                                   require_pinned=args.require_pinned)
    rows, failed = [], 0
    for m in models:
        arts = [a for a in m.artifacts if (args.format is None or a.format == args.format)
                and (args.target is None or a.target == args.target)]
        for a in arts:
            if a.recipe:
                rows.append([m.id, a.name, "to build", f"`slimocr-zoo build {m.id}`: {a.recipe['type']} from "
                                                       f"{a.recipe['parent']}/{a.recipe.get('parent_artifact')}"])
                continue
            try:
                files = _fetch.fetch(a, opts)
                size = sum(p.stat().st_size for p in files.values())
                rows.append([m.id, a.name, "ok", f"{_mb(size)} MB in {next(iter(files.values())).parent}"])
            except UnpinnedError:
                rows.append([m.id, a.name, "skipped", "upstream file with no pinned sha256 (--require-pinned)"])
            except (DownloadError, ZooError) as e:
                failed += 1
                rows.append([m.id, a.name, "failed", _short(str(e))])
        if not arts:
            rows.append([m.id, "-", "none", "no artifact matches the filters"])
    print(_table(rows, ["model", "artifact", "status", "detail"]))
    ok = sum(r[2] == "ok" for r in rows)
    print(f"\n{ok} ok, {failed} failed, {sum(r[2] == 'skipped' for r in rows)} skipped, "
          f"{sum(r[2] == 'to build' for r in rows)} to be built by a recipe; cache: {cache.home()}")
    return 1 if failed else 0


def _short(text, n=220):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def cmd_download(args) -> int:
    reg = get_registry()
    if args.all == bool(args.ids):
        raise SystemExit("download: give model ids or --all (not both)")
    models = reg.list() if args.all else [reg.resolve(i) for i in args.ids]
    return _download(models, args)


def cmd_build(args) -> int:
    import time

    from .build import build

    reg = get_registry()
    if args.all == bool(args.ids):
        raise SystemExit("build: give model ids or --all (not both)")
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


def cmd_verify(args) -> int:
    rows, bad = [], 0
    for m, a, f in _known_files():
        p = cache.file_path(f.path)
        if not p.is_file():
            continue
        actual = cache.sha256_of(p)
        expected = _fetch._expected(f)
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
                    state = "complete" if len(present) == len(a.files) else f"{len(present)}/{len(a.files)} files"
                    if partial:
                        state += f", {len(partial)} partial"
                    rows.append([m.id, a.name, state, _mb(size)])
        print(_table(rows, ["model", "artifact", "state", "MB"]) if rows else "the cache is empty")
        print(f"\ncache: {home}")
        return 0
    if args.action == "rm":
        if not args.ids:
            raise SystemExit("cache rm: give one or more model ids")
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


# --- entry point ------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--mirror", action="append", default=[], metavar="URL_OR_DIR",
                        help="a mirror (http(s) base URL or local directory) tried before the manifest's sources; "
                             "repeatable; also SLIMOCR_ZOO_MIRROR")
    common.add_argument("--offline", action="store_true", default=None,
                        help="never open a network connection (also SLIMOCR_ZOO_OFFLINE=1)")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p = argparse.ArgumentParser(prog="slimocr-zoo", description="The SlimOCR model zoo: list, inspect and download "
                                "PaddleOCR's compressed mobile OCR models, verified.", parents=[common])
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("list", parents=[common], help="models and the seed's configurations")
    s.add_argument("--task", choices=["det", "rec", "cls", "dict"])
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("info", parents=[common], help="one model's manifest entry and cache state")
    s.add_argument("id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_info)
    s = sub.add_parser("download", parents=[common], help="fetch and verify models' files into the cache")
    s.add_argument("ids", nargs="*", metavar="ID")
    s.add_argument("--all", action="store_true", help="every model; goes on past failures and ends with a summary")
    s.add_argument("--format", choices=["paddle", "nb", "text"])
    s.add_argument("--target", choices=["arm", "x86"])
    s.add_argument("--require-pinned", action="store_true",
                   help="refuse upstream files whose sha256 is not pinned (instead of pinning on first use)")
    s.set_defaults(func=cmd_download)
    s = sub.add_parser("build", parents=[common], help="build artifacts by their recipes (opt, prune, quant_post, ...)")
    s.add_argument("ids", nargs="*", metavar="ID")
    s.add_argument("--all", action="store_true", help="every recipe artifact of every model")
    s.add_argument("--format", choices=["paddle", "nb"])
    s.add_argument("--target", choices=["arm", "x86"])
    s.add_argument("--force", action="store_true", help="build again even when an up-to-date build exists")
    s.set_defaults(func=cmd_build)
    s = sub.add_parser("verify", parents=[common], help="re-hash every cached file; remove corrupt ones")
    s.set_defaults(func=cmd_verify)
    s = sub.add_parser("cache", parents=[common], help="ls | rm ID... | prune")
    s.add_argument("action", choices=["ls", "rm", "prune"])
    s.add_argument("ids", nargs="*", metavar="ID")
    s.set_defaults(func=cmd_cache)
    for name, (_, what) in PASS_THROUGH.items():  # listed in --help; main() hands their arguments over whole
        sub.add_parser(name, help=what, add_help=False)
    return p


PASS_THROUGH = {
    "bench": ("slimocr_zoo.bench.__main__", "latency of each model and end-to-end OCR: --device cpu | sd855 ... "
                                            "(= python -m slimocr_zoo.bench)"),
    "report": ("slimocr_zoo.report", "results -> the seed's table in README.md / README_zh.md (= python -m slimocr_zoo.report)"),
}


def main(argv=None) -> int:
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASS_THROUGH:
        import importlib

        return importlib.import_module(PASS_THROUGH[argv[0]][0]).main(argv[1:])
    args = build_parser().parse_args(argv)
    return guarded(lambda: args.func(args),
                   "interrupted: finished files are in the cache, partial downloads resume next time")


if __name__ == "__main__":
    sys.exit(main())
