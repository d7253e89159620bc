"""The seed's models as built here: sizes, a run on a real image, and det hmean on images that
no recipe used, beside the figures the seed reported.

    python benchmarks/seed_models.py [--limit 300]        (make seed-models)

Writes benchmarks/results/seed-models.json and prints a Markdown table. Builds what is missing
(slimocr-zoo build, training recipes included), so the first run takes about an hour on 2 cores.
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
from slimocr_zoo.files import sha256_of  # noqa: E402
from slimocr_zoo.results import environment  # noqa: E402

DETS = ["MobileNetV3_DB", "SlimTextDet", "SlimTextDet_quat_pruning", "SlimTextDet_pruning"]
RECS = ["MobileNetV3_CRNN", "SlimTextRec"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    p.add_argument("--mirror", default=str(ROOT.parent / "shared/models"))
    p.add_argument("--limit", type=int, default=300, help="det images scored: label lines 0..N-1 (recipes use 300+)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/seed-models.json")
    a = p.parse_args()
    img = a.data / "icdar2015_det/images/img_2.jpg"
    kw = {"mirror": a.mirror, "quiet": True, "long_build": True}  # asked for: training recipes too
    rows = []
    for mid in DETS + RECS:
        m = slimocr_zoo.info(mid)
        synthetic = mid in RECS
        paddle_art = "synthetic" if synthetic else "paddle"
        arm_art = "nb-arm-synthetic" if synthetic else "nb-arm"
        pm = slimocr_zoo.load(mid, artifact=paddle_art, **kw)
        arm = slimocr_zoo.load(mid, artifact=arm_art, **kw)
        row = {"model": mid, "task": m.task, "paddle_artifact": paddle_art, "synthetic": synthetic,
               "paddle_bytes": sum(f.stat().st_size for f in pm.files.values() if f.suffix != ".json"),
               "arm_nb_bytes": arm.files["model.nb"].stat().st_size,
               "arm_nb_sha256": sha256_of(arm.files["model.nb"]),
               "precision": pm.artifact.precision or "fp32", "reported": m.reported, "build": _build_of(pm)}
        if m.task == "det":
            row["boxes_on_img_2_paddle"] = len(pm(img))
            if pm.artifact.precision != "int8":  # fully int8 .nb give garbage on x86 Lite: float ones only
                row["boxes_on_img_2_lite_x86"] = len(slimocr_zoo.load(mid, artifact="nb-x86", **kw)(img))
            r = ev.eval_det(mid, a.data, "paddle", limit=a.limit, quiet=True, artifact=paddle_art, mirror=a.mirror)
            row["hmean"] = r["metrics"]["hmean"]
            row["eval"] = {k: r[k] for k in ("dataset", "metrics", "runtime", "threads")}
            steps = [x.name for x in m.artifacts if x.intermediate and x.format == "paddle"]
            for step in steps:  # e.g. pruned, before its fine-tuning: what the sensitivity budget gave
                r = ev.eval_det(mid, a.data, "paddle", limit=a.limit, quiet=True, artifact=step, mirror=a.mirror)
                row.setdefault("intermediate_hmean", {})[step] = r["metrics"]["hmean"]
        else:
            row["text_on_word_1"] = pm(a.data / "icdar2015_rec/images/word_1.png").text
        rows.append(row)
        print(f"{mid}: {row.get('hmean', '-')}", file=sys.stderr)
    doc = {"kind": "seed-models", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": "python benchmarks/seed_models.py " + " ".join(sys.argv[1:]), "environment": environment(),
           "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
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


def table(doc) -> str:
    from tabulate import tabulate

    out = []
    for r in doc["rows"]:
        rep = r["reported"] or {}
        acc = rep.get("accuracy", {})
        measured = f"{r['hmean'] * 100:.2f}" if "hmean" in r else "synthetic: none"
        measured += "".join(f" ({k}: {v * 100:.2f})" for k, v in r.get("intermediate_hmean", {}).items())
        b = r.get("build") or {}
        built = f"{b['recipe']} ({b['seconds'] / 60:.1f} min)" if b.get("seconds") else b.get("recipe", "downloaded")
        out.append([r["model"], r["precision"], built, f"{r['paddle_bytes'] / 1e6:.2f}", f"{r['arm_nb_bytes'] / 1e6:.2f}",
                    measured, f"{acc.get('value', '-')}", f"{rep.get('latency_ms', '-')}"])
    env = doc["environment"]
    return (tabulate(out, headers=["model", "precision", "built here by (its recipe alone)", "paddle MB (measured)", "arm .nb MB (measured)",
                                   f"det hmean % (measured, ICDAR 2015, {doc['rows'][0]['eval']['dataset']['items']} images)",
                                   "acc % (REPORTED, seed)", "ms (REPORTED, seed, SD855)"],
                     tablefmt="github", disable_numparse=True)
            + f"\n\n{doc['date']}, `{doc['command']}`: {env['processor']}, paddlepaddle {env.get('paddlepaddle')}, "
              f"paddlelite {env.get('paddlelite')}, slimocr_zoo {env['slimocr_zoo']}.")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--table":
        print(table(json.loads(Path(sys.argv[2]).read_text())))
    else:
        main()
