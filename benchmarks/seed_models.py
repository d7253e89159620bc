"""The models of configuration rows as built here: sizes, a run on a real image, accuracy on data
no recipe used (det hmean on ICDAR lines 0..N-1; rec accuracy on word crops 0..1199 where the
recognizer's weights are real; end-to-end words found per row), beside what the seed reported.

    python benchmarks/seed_models.py [--limit 300]                       (make seed-models: rows 0-3)
    python benchmarks/seed_models.py --configs 4 5 6 7 \
        --out benchmarks/results/ppocrv4-models.json                      (make ppocrv4-models)

Writes the results file and prints Markdown tables. Builds what is missing (slimocr-zoo build,
training recipes included), so the first run takes about an hour on 2 cores.
"""
import argparse
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import slimocr_zoo  # noqa: E402
from slimocr_zoo import eval as ev  # noqa: E402
from slimocr_zoo.files import sha256_of, write_atomic  # noqa: E402
from slimocr_zoo.metrics import paired_interval  # noqa: E402
from slimocr_zoo.report import float_root  # noqa: E402
from slimocr_zoo.results import environment  # noqa: E402

REC_SCORED = 1200  # word crops 0..1199 are scored; the recipes train on 1200..1599


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    p.add_argument("--mirror", default=str(ROOT.parent / "shared/models"))
    p.add_argument("--limit", type=int, default=300, help="det images scored: label lines 0..N-1 (recipes use 300+)")
    p.add_argument("--configs", nargs="+", type=int, default=[0, 1, 2, 3], help="configuration rows")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/seed-models.json")
    a = p.parse_args()
    img = a.data / "icdar2015_det/images/img_2.jpg"
    kw = {"mirror": a.mirror, "quiet": True, "long_build": True}  # asked for: training recipes too
    try:
        configs = [slimocr_zoo.get_registry().config(c) for c in a.configs]
    except slimocr_zoo.ZooError as e:
        p.error(str(e))  # one line, exit 2
    ids = [c.det for c in configs] + [c.rec for c in configs]
    rows = []
    for mid in dict.fromkeys(ids):  # dets first, each once
        m = slimocr_zoo.info(mid)
        synthetic = m.task == "rec" and any(x.name == "synthetic" for x in m.artifacts)  # v1.1: no real weights
        paddle_art = "synthetic" if synthetic else "paddle"
        arm_art = "nb-arm-synthetic" if synthetic else "nb-arm"
        pm = slimocr_zoo.load(mid, artifact=paddle_art, **kw)
        arm = slimocr_zoo.load(mid, artifact=arm_art, **kw)
        row = {"model": mid, "task": m.task, "paddle_artifact": paddle_art, "synthetic": synthetic,
               "paddle_bytes": sum(f.stat().st_size for f in pm.files.values() if f.suffix != ".json"),
               "arm_nb_bytes": arm.files["model.nb"].stat().st_size,
               "arm_nb_sha256": sha256_of(arm.files["model.nb"]),
               "precision": pm.artifact.precision or "fp32", "runs_as": pm.precision,  # int8: real or simulated
               "reported": m.reported, "build": _build_of(pm)}
        if m.task == "det":
            row["boxes_on_img_2_paddle"] = len(pm(img))
            if pm.artifact.precision != "int8":  # fully int8 .nb give garbage on x86 Lite: float ones only
                row["boxes_on_img_2_lite_x86"] = len(slimocr_zoo.load(mid, artifact="nb-x86", **kw)(img))
            r = ev.eval_det(mid, a.data, "paddle", limit=a.limit, quiet=True, artifact=paddle_art, mirror=a.mirror)
            row["hmean"] = r["metrics"]["hmean"]
            row["eval"] = {k: r[k] for k in ("dataset", "metrics", "runtime", "threads", "per_item")}
            steps = [x.name for x in m.artifacts if x.intermediate and x.format == "paddle"]
            for step in steps:  # e.g. pruned, before its fine-tuning: what the sensitivity budget gave
                r = ev.eval_det(mid, a.data, "paddle", limit=a.limit, quiet=True, artifact=step, mirror=a.mirror)
                row.setdefault("intermediate_hmean", {})[step] = r["metrics"]["hmean"]
        else:
            row["text_on_word_1"] = pm(a.data / "icdar2015_rec/images/word_1.png").text
            if not synthetic:
                r = ev.eval_rec(mid, a.data, "paddle", limit=REC_SCORED, quiet=True, artifact=paddle_art, mirror=a.mirror)
                row["accuracy"] = r["metrics"]["accuracy"]
                row["eval"] = {k: r[k] for k in ("dataset", "metrics", "runtime", "threads", "per_item")}
        rows.append(row)
        print(f"{mid}: {row.get('hmean', row.get('accuracy', '-'))}", file=sys.stderr)
    e2e = []
    for c in configs:
        if any(r["synthetic"] for r in rows if r["model"] == c.rec):
            continue  # synthetic recognizer weights read nothing
        r = ev.eval_e2e(c.id, a.data, "paddle", limit=a.limit, quiet=True, mirror=a.mirror, long_build=True)
        e2e.append({"config": c.id, "det": c.det, "rec": c.rec, "baseline": c.baseline,
                    "words_found": r["metrics"]["words_found"],
                    "eval": {k: r[k] for k in ("dataset", "metrics", "per_item")}})
        print(f"config {c.id}: words found {e2e[-1]['words_found']}", file=sys.stderr)
    doc = {"kind": "seed-models", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/seed_models.py " + " ".join(sys.argv[1:]), "environment": environment(),
           "configs": a.configs, "rows": rows, "e2e": e2e}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(a.out, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")  # never a half-written file
    print(table(doc))


def _build_of(loaded):
    """How the paddle artifact was made here: its recipe, the minutes it took, its training log."""
    from slimocr_zoo.build import read_record

    rec = read_record(loaded.artifact) if loaded.artifact.recipe else None
    if not rec:
        return None
    log = next((json.loads(f.read_text()) for n, f in loaded.files.items() if n in ("qat.json", "distill.json")), None)
    return {"recipe": rec["recipe"]["type"], "seconds": rec.get("seconds"), "key": rec["key"],
            "teacher": (rec.get("teacher") or {}).get("id"), "training": log}


def _versus(diff: float, base_items, items) -> str:
    """ (+0.62, 95% -1.06 to +2.10): a difference in points, with its paired bootstrap interval where
    both sides kept their per-item results."""
    out = f" ({diff * 100:+.2f}"
    if base_items and items:
        lo, hi = paired_interval(base_items, items)
        out += f", 95% {lo * 100:+.2f} to {hi * 100:+.2f}"
    return out + ")"


def table(doc) -> str:
    from tabulate import tabulate

    out = []
    score = {r["model"]: r.get("hmean", r.get("accuracy")) for r in doc["rows"]}
    items = {r["model"]: (r.get("eval") or {}).get("per_item") for r in doc["rows"]}
    for r in doc["rows"]:
        rep = r["reported"] or {}
        acc = rep.get("accuracy", {})
        root = float_root(r["model"], score)
        value = score[r["model"]]
        measured = f"{value * 100:.2f}" if value is not None else "synthetic: none"
        if value is not None and root != r["model"] and score.get(root) is not None:
            measured += _versus(value - score[root], items.get(root), items.get(r["model"]))
        measured += "".join(f" ({k}: {v * 100:.2f})" for k, v in r.get("intermediate_hmean", {}).items())
        b = r.get("build") or {}
        built = f"{b['recipe']} ({b['seconds'] / 60:.1f} min)" if b.get("seconds") else b.get("recipe", "downloaded")
        out.append([r["model"], r.get("runs_as", r["precision"]), built, f"{r['paddle_bytes'] / 1e6:.2f}", f"{r['arm_nb_bytes'] / 1e6:.2f}",
                    measured, f"{acc.get('value', '-')}", f"{rep.get('latency_ms', '-')}"])
    env = doc["environment"]
    dets = [r for r in doc["rows"] if "hmean" in r]
    text = tabulate(out, headers=["model", "runs as", "built here by (its recipe alone)", "paddle MB (measured)",
                                  "arm .nb MB (measured)",
                                  f"det hmean / rec accuracy % (measured, ICDAR 2015: {dets[0]['eval']['dataset']['items']} "
                                  f"images / word crops 0-{REC_SCORED - 1}; vs float, with its paired 95% bootstrap interval)",
                                  "acc % (REPORTED, seed)", "ms (REPORTED, seed, SD855)"],
                    tablefmt="github", disable_numparse=True)
    found = {e["config"]: e["words_found"] for e in doc.get("e2e", [])}
    if found:
        items = {e["config"]: (e.get("eval") or {}).get("per_item") for e in doc["e2e"]}

        def versus(e):
            b = e.get("baseline")
            if b not in found or b == e["config"]:
                return ""
            return _versus(e["words_found"] - found[b], items.get(b), items.get(e["config"]))

        text += "\n\n" + tabulate([[e["config"], e["det"], e["rec"], f"{e['words_found'] * 100:.2f}" + versus(e)]
                                   for e in doc["e2e"]],
                                  headers=["row", "det", "rec", "end-to-end words found % (measured; vs its baseline row, "
                                           "with its paired 95% bootstrap interval)"],
                                  tablefmt="github", disable_numparse=True)
    return (text + f"\n\n{doc['date']}, `{doc['command']}`: {env['processor']}, paddlepaddle {env.get('paddlepaddle')}, "
            f"paddlelite {env.get('paddlelite')}, slimocr_zoo {env['slimocr_zoo']}.")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--table":
        print(table(json.loads(Path(sys.argv[2]).read_text())))
    else:
        main()
