"""Results -> the seed's SlimOCR table (its HTML layout), reported and measured side by side.

    python -m slimocr_zoo.report RESULTS... [--readme README.md README_zh.md] [--check]
                                 [--format github|grid|html] [--plot benchmarks/e2e-vs-accuracy.png]

Reported figures come from the manifest (the seed's, labelled so); measured ones from bench
results files. Derived columns are computed: speed-up from end-to-end latency against the row's
baseline (row 0 for the seed's rows; the manifest's ``baseline`` for the others), size from the
ARM .nb files built here, compression against the baseline's size. Rows beyond the seed's
(PP-OCRv4 4-7) appear where a results file timed them.
"""
from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

from .errors import ZooError
from .files import replacing, write_atomic
from .registry import get_registry
from .results import brief, is_simulated_int8, read

SEED_ROWS = (0, 1, 2, 3)
ACCURACY = (Path("benchmarks/results/seed-models.json"), Path("benchmarks/results/ppocrv4-models.json"))
HEAD = {
    "zh": ["序号", "任务", "模型", '压缩策略<sup><a href="#quant">[3]</a><a href="#prune">[4]</a></sup>',
           "精度{acc}", '耗时<sup><a href="#latency">[1]</a></sup>(ms)', '整体耗时<sup><a href="#rec">[2]</a></sup>(ms)',
           "加速比", "整体模型大小(M)", "压缩比例", "下载链接"],
    "en": ["No.", "Task", "Model", 'Compression<sup><a href="#quant">[3]</a><a href="#prune">[4]</a></sup>',
           "Accuracy{acc}", 'Latency<sup><a href="#latency">[1]</a></sup>(ms)',
           'End-to-end<sup><a href="#rec">[2]</a></sup>(ms)', "Speed-up", "Total size(M)", "Compression ratio",
           "Download"],
}
TASK = {"zh": {"det": "检测", "rec": "识别"}, "en": {"det": "Detection", "rec": "Recognition"}}
STRATEGY = {  # the seed's words for what upstream did
    "none": ("无", "none"), "quantization": ("PACT量化训练", "PACT quantization-aware training"),
    "pruning+quantization": ("剪裁+PACT量化训练", "pruning + PACT quantization-aware training"),
    "pruning": ("剪裁", "pruning"),
}
DONE_HERE = {  # what the recipes built here actually did, in build order
    "prune": ("剪裁", "pruning"), "distill": ("蒸馏微调", "distillation fine-tuning"),
    "quant_post": ("训练后量化", "post-training quantization"), "qat": ("蒸馏量化训练", "QAT by distillation"),
}
NA = {"zh": "无法测得", "en": "n/a"}
BEGIN = "<!-- slimocr-zoo:report:begin {lang} -->"
END = "<!-- slimocr-zoo:report:end -->"


# -- cells

def _num(v) -> str:
    return str(v)  # the seed's own spelling (61.7, 62.0, 9.52): JSON keeps it


def _ms(v: float) -> str:
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _speedup(base: Optional[float], e2e: Optional[float]) -> str:
    return "-" if base is None or e2e is None else f"{(base / e2e - 1) * 100:.0f}%"


def reported_rows(lang: str, downloads: bool = True) -> List[dict]:
    """The seed's figures, as the manifest keeps them."""
    reg = get_registry()
    rows = []
    base = reg.config(0).reported["e2e_latency_ms"]
    for cid in SEED_ROWS:
        c = reg.config(cid)
        rep = c.reported
        pair = []
        for mid in (c.det, c.rec):
            m = reg.resolve(mid)
            pair.append({"task": TASK[lang][m.task], "model": m.id,
                         "strategy": STRATEGY[m.reported.get("compression", m.compression)["method"]][lang == "en"],
                         "accuracy": _num(m.reported["accuracy"]["value"]), "latency": _num(m.reported["latency_ms"]),
                         "download": _download(m) if downloads else ""})
        rows.append({"config": cid, "models": pair, "e2e": _num(rep["e2e_latency_ms"]),
                     "speedup": "-" if cid == 0 else _speedup(base, rep["e2e_latency_ms"]),
                     "size": _num(rep["size_mb"]), "compression": "-" if cid == 0 else f"{rep['compression_pct']}%"})
    return rows


def _download(model) -> str:
    for a in model.artifacts:
        for s in a.sources:
            if a.format == "nb" and s.type == "url":
                return f'<a href="{html.escape(s.url)}">{a.target} .nb</a>'
    if model.recipes:
        return f"<code>slimocr-zoo build {model.id}</code>"
    return ""


def _lineage(model, art_name: str) -> List[str]:
    reg, kinds = get_registry(), []
    art = model.artifact(art_name)
    while art is not None and art.recipe:
        kinds.append(art.recipe["type"])
        parent = reg.resolve(art.recipe["parent"])
        art = parent.artifact(art.recipe["parent_artifact"]) if art.recipe.get("parent_artifact") else None
    return kinds


def _strategy_here(model, entry: dict, lang: str) -> str:
    if entry.get("synthetic"):
        return "合成权重(仅测速)" if lang == "zh" else "synthetic weights (latency only)"
    kinds = _lineage(model, entry["artifact"])[::-1]  # first built first
    done = [DONE_HERE[k][lang == "en"] for k in kinds if k in DONE_HERE]
    if "prune" in kinds and "distill" not in kinds:
        done[0] += "(未微调)" if lang == "zh" else " (no fine-tuning)"
    return "+".join(done) if done else STRATEGY["none"][lang == "en"]


def row_ids(doc: dict) -> List[int]:
    """The seed's rows, then the other numbered rows the results file timed."""
    more = {e["config"] for e in doc["e2e"] if isinstance(e["config"], int) and e["config"] not in SEED_ROWS}
    return [*SEED_ROWS, *sorted(more)]


def measured_rows(doc: dict, accuracy: Dict[str, float], lang: str, nb_bytes: Optional[Dict[str, int]] = None,
                  words: Optional[Dict[int, float]] = None) -> List[dict]:
    """Size: the ARM .nb files a phone deploys (nb_bytes) when known for both models, else the timed files."""
    reg = get_registry()
    models = {m["id"]: m for m in doc["models"]}
    e2e = {e["config"]: e for e in doc["e2e"]}
    words = words or {}
    with_words = any(cid in words for cid in row_ids(doc))  # a column only where a timed row has the figure
    size = {}
    rows = []
    for cid in row_ids(doc):
        c = reg.config(cid)
        pair, total, not_comparable = [], 0, False
        for mid in (c.det, c.rec):
            m, entry = reg.resolve(mid), models.get(mid, {})
            timed = "stats" in entry
            if timed and is_simulated_int8(entry):
                not_comparable = True  # simulated int8: its latency says nothing about int8 speed
            if nb_bytes and mid in nb_bytes and total is not None:
                total += nb_bytes[mid]
            elif not nb_bytes and entry.get("files_bytes") and total is not None:
                total += sum(entry["files_bytes"].values())
            else:
                total = None
            acc = accuracy.get(mid)
            pair.append({"task": TASK[lang][m.task], "model": m.id,
                         "strategy": _strategy_here(m, entry, lang) if timed else "-",
                         "accuracy": f"{acc * 100:.2f}" if acc is not None and not entry.get("synthetic") else NA[lang],
                         "latency": _ms(entry["stats"]["median"]) if timed else NA[lang],
                         "download": _download(m)})
        size[cid] = total
        e = e2e.get(cid, {})
        rows.append({"config": cid, "models": pair, "e2e_ms": e.get("stats", {}).get("median"),
                     "not_comparable": not_comparable, "baseline": c.baseline if c.baseline is not None else cid,
                     "words": (f"{words[cid] * 100:.2f}" if cid in words else "-") if with_words else None})
    by_id = {r["config"]: r for r in rows}
    for r in rows:
        cid, b = r["config"], by_id.get(r["baseline"])
        base = b["e2e_ms"] if b and not b["not_comparable"] else None
        first = cid == r["baseline"]  # a baseline row: nothing to compare it with
        r["e2e"] = _ms(r["e2e_ms"]) if r["e2e_ms"] is not None else NA[lang]
        r["speedup"] = "-" if first else (NA[lang] + " (simulated int8)" if r["not_comparable"]
                                          else _speedup(base, r["e2e_ms"]) if base and r["e2e_ms"] else NA[lang])
        r["size"] = f"{size[cid] / 1e6:.2f}" if size[cid] else NA[lang]
        bsize = size.get(r["baseline"])
        r["compression"] = ("-" if first else f"{(1 - size[cid] / bsize) * 100:.2f}%" if size[cid] and bsize else NA[lang])
    return rows


# -- the seed's layout

WORDS = {"zh": "端到端找到的词(%)", "en": "Words found end-to-end(%)"}


def _heads(rows: List[dict], lang: str) -> List[str]:
    heads = list(HEAD[lang])
    if any(r.get("words") is not None for r in rows):  # rows whose recognizer reads: their e2e accuracy
        heads.insert(7, WORDS[lang])
    return heads


def _row_cells(r: dict) -> List[str]:
    return [r[k] for k in ("e2e", "words", "speedup", "size", "compression") if k != "words" or r.get("words") is not None]


def html_table(rows: List[dict], lang: str, acc_label: str = "") -> str:
    out = ["<table>", "<thead>", "  <tr>"]
    out += [f"    <th>{h.format(acc=acc_label)}</th>" for h in _heads(rows, lang)]
    out += ["  </tr>", "</thead>", "<tbody>"]
    for r in rows:
        for i, m in enumerate(r["models"]):
            out.append("  <tr>")
            if i == 0:
                out.append(f'    <td rowspan="2">{r["config"]}</td>')
            out += [f"    <td>{m['task']}</td>", f"    <td>{m['model']}</td>", f"    <td>{m['strategy']}</td>",
                    f"    <td>{m['accuracy']}</td>", f"    <td>{m['latency']}</td>"]
            if i == 0:
                out += [f'    <td rowspan="2">{v}</td>' for v in _row_cells(r)]
            out += [f"    <td>{m['download']}</td>", "  </tr>"]
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def flat_table(rows: List[dict], lang: str, fmt: str) -> str:
    from tabulate import tabulate

    heads = [re.sub(r"<[^>]+>|\[\d\]", "", h.format(acc="")) for h in _heads(rows, lang)]
    body = [[r["config"] if i == 0 else "", m["task"], m["model"], m["strategy"], m["accuracy"], m["latency"],
             *(_row_cells(r) if i == 0 else [""] * len(_row_cells(r))),
             re.sub(r"<[^>]+>", "", m["download"])] for r in rows for i, m in enumerate(r["models"])]
    return tabulate(body, headers=heads, tablefmt=fmt, disable_numparse=True)


def float_root(model_id: str, measured) -> str:
    """The float model a compressed one descends from (its parents, while they were measured)."""
    reg = get_registry()
    m = reg.resolve(model_id)
    while m.parent and m.parent in measured:
        m = reg.resolve(m.parent)
    return m.id


def accuracy_rows(acc: Dict[str, float], nb_bytes: Dict[str, int], words: Dict[int, float]) -> List[dict]:
    """Rows beyond the seed's whose end-to-end accuracy was measured (benchmarks/seed_models.py):
    each model's accuracy against its float model's, words found and ARM .nb size against the row's
    baseline."""
    reg = get_registry()

    def delta(v, ref):
        return "" if ref is None or v is ref else f" ({(v - ref) * 100:+.2f})"

    rows = []
    for cid in sorted(c for c in words if isinstance(c, int) and c not in SEED_ROWS):
        c = reg.config(cid)
        base = reg.config(c.baseline) if c.baseline is not None else c
        cells = {"config": cid}
        for task in ("det", "rec"):
            mid = getattr(c, task)
            v = acc.get(mid)
            cells[task] = mid
            cells[task + "_acc"] = "n/a" if v is None else f"{v * 100:.2f}" + delta(v, acc.get(float_root(mid, acc)))
        w, bw = words[cid], words.get(base.id)
        cells["words"] = f"{w * 100:.2f}" + (delta(w, bw) if bw is not None and base.id != cid else "")
        size, bsize = (nb_bytes[r.det] + nb_bytes[r.rec] if {r.det, r.rec} <= nb_bytes.keys() else None for r in (c, base))
        cells["size"] = f"{size / 1e6:.2f}" if size else "n/a"
        cells["compression"] = "-" if base.id == cid else f"{(1 - size / bsize) * 100:.2f}%" if size and bsize else "n/a"
        rows.append(cells)
    return rows


ACC_HEAD = {"en": ["No.", "Detection", "det hmean (vs float)", "Recognition", "rec accuracy (vs float)",
                   "Words found end-to-end (vs row)", "Total ARM .nb size(M)", "Compression ratio"],
            "zh": ["序号", "检测模型", "检测 hmean（相对浮点）", "识别模型", "识别准确率（相对浮点）", "端到端找到的词（相对基线行）",
                   "ARM .nb 总大小(M)", "压缩比例"]}


def accuracy_table(rows: List[dict], lang: str) -> str:
    from tabulate import tabulate

    body = [[r["config"], r["det"], r["det_acc"], r["rec"], r["rec_acc"], r["words"], r["size"], r["compression"]]
            for r in rows]
    return tabulate(body, headers=ACC_HEAD[lang], tablefmt="github", disable_numparse=True)


# -- text around the tables

def _caption(doc: dict, lang: str) -> str:
    dev, p, env = doc["device"], doc["protocol"], doc["environment"]
    emulated = dev.get("emulated")
    if dev["kind"] == "adb":
        props = dev.get("props", {})
        where = (f"{dev['serial']} ({props.get('ro.product.model')}, {props.get('ro.board.platform')}, "
                 f"{props.get('ro.product.cpu.abi')})")
        runtime = f"Paddle Lite benchmark_bin {p['runtime_version']}"
    else:
        where = f"{dev['id']}: {env['processor']}, {env['cores']} cores"
        runtime = ("Paddle Inference (paddlepaddle " + str(env.get("paddlepaddle")) + ", MKLDNN)" if p["runtime"] == "paddle"
                   else "Paddle Lite x86 (paddlelite " + str(env.get("paddlelite")) + ")")
    if lang == "zh":
        warn = "**模拟设备（tests/phone，本机x86 Paddle Lite），不是骁龙855的数据。** " if emulated else ""
        return (f"**实测**（{warn}{where}；{runtime}；{p['threads']}线程；{doc['date'][:10]}；"
                f"命令 `{doc['command']}`）")
    warn = "**EMULATED phone (tests/phone, x86 Paddle Lite on this host): NOT Snapdragon 855 figures.** " if emulated else ""
    return f"**Measured** ({warn}{where}; {runtime}; {p['threads']} thread(s); {doc['date'][:10]}; `{doc['command']}`)"


def _notes(doc: Optional[dict], lang: str, accuracy_src: Optional[str]) -> str:
    zh = lang == "zh"
    if doc is None:
        lines = (["[1] 耗时评测环境为：骁龙855芯片+PaddleLite，单线程（PaddleSlim 2020-09 报告值，本项目未测）。",
                  "[2] 整体耗时不等于检测耗时加识别耗时的原因是：识别模型的耗时为单个检测框的耗时，一张图片可能会有多个检测框。",
                  "精度为 PaddleSlim 自建中文数据集上的值（检测 hmean，识别准确率）。"] if zh else
                 ["[1] Latency as reported for a Snapdragon 855 with Paddle Lite, 1 thread (PaddleSlim, 2020-09; not measured here).",
                  "[2] End-to-end is not det + rec: rec's figure is one box, and an image has many boxes.",
                  "Accuracy on PaddleSlim's own Chinese set (det hmean, rec accuracy)."])
    else:
        lines = []
        if doc["device"]["kind"] == "adb":
            lines.append("[1] benchmark_bin 的中位数（每个模型）。" if zh else
                         "[1] Median of benchmark_bin's per-invocation averages, per model.")
            lines.append("[2] 整体耗时：检测按每张图的实际输入尺寸计时，加上该图每个检测框按实际尺寸的识别耗时（由同一检测模型在本机找出检测框）。"
                         if zh else "[2] End-to-end per image: det at the image's own input shape plus rec at each box's "
                                    "shape, for the boxes the same det model finds (composed from benchmark_bin timings); median over images.")
        else:
            lines.append("[1] 单模型推理中位数（本机 Python 运行时）。" if zh else
                         "[1] Median of the model's own run at the pipeline's input shape (this machine's Python runtime).")
            lines.append("[2] 整体耗时：完整流水线（读图、检测、裁剪、对每个检测框识别）每张图的中位数。" if zh else
                         "[2] End-to-end: the whole pipeline per image (read, det, crop, rec on every box the detector "
                         "found), median over images.")
        if accuracy_src:
            lines.append(f"精度：ICDAR 2015（英文）检测 hmean（标注前300行的图片），识别准确率（词图 0-1199），端到端找到的词（同300张图），"
                         f"来自 {accuracy_src}；v1.1 识别模型权重无法获得（合成权重），无精度。配方从不使用这些数据。" if zh else
                         f"Accuracy: det hmean on ICDAR 2015 (English; the images of label lines 0-299), rec accuracy "
                         f"on word crops 0-1199, words found end-to-end on the same 300 images, from {accuracy_src}; "
                         f"no recipe trains or calibrates on these. The v1.1 recognizers' weights could not be "
                         f"obtained, so they run with synthetic weights and have none.")
        lines += list(dict.fromkeys(f"{m['id']}: {n}" for m in doc["models"] for n in m.get("notes", [])))
        skipped = [f"{m['id']}: {brief(m.get('skipped') or m.get('failed'), 160)}"
                   for m in doc["models"] if "stats" not in m]
        lines += skipped
        lines.append(f"大小：本项目构建的 ARM .nb 文件（手机上部署的文件，来自 {accuracy_src}），10^6 字节为 1 M。"
                     f"加速比与压缩比例相对于该行的基线（0 行，PP-OCRv4 各行相对于 4 行）。" if zh else
                     f"Size: the ARM .nb files built here, what a phone deploys (from {accuracy_src}); M = 10^6 bytes. "
                     f"Speed-up and compression are against the row's baseline (row 0; row 4 for the PP-OCRv4 rows).")
    if doc is None:
        lines += (['<a name="quant">[3]</a> 量化：上游为 PACT 量化训练；本项目无训练集，以浮点模型为教师做蒸馏量化训练（见 README.md 的构建一节）。',
                   '<a name="prune">[4]</a> 剪裁：上游为敏感度剪裁后微调；本项目按同一敏感度方法剪裁，再以未剪裁模型为教师蒸馏微调。'] if zh else
                  ['<a name="quant">[3]</a> Quantization: PACT quantization-aware training upstream; built here by '
                   'quantization-aware training distilled from the float model (no training set), see "Build what '
                   'upstream never published".',
                   '<a name="prune">[4]</a> Pruning: by sensitivity then fine-tuned upstream; pruned here by the same '
                   'sensitivity method, then fine-tuned by distillation from the unpruned model.'])
    anchors = {"[1] ": '<a name="latency">[1]</a> ', "[2] ": '<a name="rec">[2]</a> '}
    return "\n".join("- " + next((v + x[len(k):] for k, v in anchors.items() if x.startswith(k)), x) for x in lines)


def block(lang: str, docs: List[dict], accuracy: Dict[str, float], accuracy_src: Optional[str],
          plot: Optional[str] = None, nb_bytes: Optional[Dict[str, int]] = None,
          words: Optional[Dict[int, float]] = None) -> str:
    zh = lang == "zh"
    parts = [("**报告值**（PaddleSlim SlimOCR 模型库，2020-09，骁龙855 + Paddle Lite；本项目未测）" if zh else
              "**Reported** (PaddleSlim's SlimOCR table, 2020-09, Snapdragon 855 + Paddle Lite; not measured by this project)"),
             "", html_table(reported_rows(lang), lang, "(自建中文数据集)" if zh else " (own Chinese set)"), "",
             _notes(None, lang, None)]
    for doc in docs:
        parts += ["", _caption(doc, lang), "",
                  html_table(measured_rows(doc, accuracy, lang, nb_bytes, words), lang,
                             "(ICDAR2015)" if zh else " (ICDAR 2015)"), "",
                  _notes(doc, lang, accuracy_src)]
    more = accuracy_rows(accuracy, nb_bytes or {}, words or {})
    if more:
        parts += ["", ("**实测精度：PP-OCRv4 压缩配置**（本项目构建；检测 hmean：ICDAR 2015 标注前300行的图片；识别准确率：词图 0-1199；"
                       f"端到端：同300张图找到的词；来自 {accuracy_src}；括号内为相对浮点模型或基线行的差值，百分点）" if zh else
                       "**Measured accuracy: the PP-OCRv4 compressed configurations** (built here; det hmean on the "
                       "images of ICDAR 2015 label lines 0-299, rec accuracy on word crops 0-1199, words found "
                       f"end-to-end on the same 300 images; from {accuracy_src}; in brackets: the difference from "
                       "the float model or the baseline row, in points)"), "", accuracy_table(more, lang)]
    if plot:
        parts += ["", f"![{'整体耗时与精度' if zh else 'end-to-end latency vs accuracy'}]({plot})"]
    return "\n".join(parts)


def splice(text: str, lang: str, content: str, path) -> str:
    begin = BEGIN.format(lang=lang)
    if begin not in text or END not in text.split(begin, 1)[1]:
        raise ZooError(f"{path}: no report markers; put\n{begin}\n{END}\nwhere the tables go")
    head, rest = text.split(begin, 1)
    return head + begin + "\n" + content + "\n" + END + rest.split(END, 1)[1]


def seed_models(paths):
    """From benchmarks/seed_models.py's results files: accuracy per model (det hmean, rec accuracy
    where the weights are real), ARM .nb bytes per model, end-to-end words found per row."""
    acc, nb, words = {}, {}, {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths or []:
        if not path or not Path(path).is_file():
            continue
        doc = json.loads(Path(path).read_text("utf-8"))
        for r in doc.get("rows", []):
            value = r.get("hmean", r.get("accuracy"))
            if value is not None:
                acc[r["model"]] = value
            if r.get("arm_nb_bytes"):
                nb[r["model"]] = r["arm_nb_bytes"]
        words.update({e["config"]: e["words_found"] for e in doc.get("e2e", [])})
    return acc, nb, words


def plot(docs: List[dict], accuracy: Dict[str, float], path: Path) -> None:
    """Two panels, never one axis: reported (seed) and measured are different datasets and devices."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reg = get_registry()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), dpi=100)
    for cid in SEED_ROWS:
        c = reg.config(cid)
        x, y = c.reported["e2e_latency_ms"], reg.resolve(c.det).reported["accuracy"]["value"]
        left.scatter([x], [y], color="tab:grey")
        left.annotate(f"{cid} {c.det}", (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    left.set_title("REPORTED (PaddleSlim 2020): Snapdragon 855, own Chinese set", fontsize=8)
    left.set_ylabel("det hmean (%)")
    for doc, marker in zip(docs, "os^D"):
        label = doc["device"]["id"] + (" EMULATED, not SD855" if doc["device"].get("emulated") else "")
        simulated = {m["id"] for m in doc["models"] if is_simulated_int8(m)}
        for e in doc["e2e"]:
            c = reg.config(e["config"]) if e["config"] in SEED_ROWS else None
            if "stats" not in e or c is None or c.det not in accuracy:
                continue
            x, y = e["stats"]["median"], accuracy[c.det] * 100
            hollow = bool({c.det, c.rec} & simulated)
            right.scatter([x], [y], marker=marker, label=label, facecolors="none" if hollow else None,
                          edgecolors="tab:blue" if hollow else None, color=None if hollow else "tab:blue")
            right.annotate(f"{c.id} {c.det}" + (" (simulated int8: speed n/a)" if hollow else ""), (x, y), fontsize=7,
                           xytext=(4, 3), textcoords="offset points")
            label = None
    right.set_title("MEASURED here: " + ", ".join(f"{d['device']['id']} {d['date'][:10]}" for d in docs)
                    + "; det hmean on ICDAR 2015", fontsize=8)
    for ax in (left, right):
        ax.set_xlabel("end-to-end latency per image, median (ms)")
        ax.grid(alpha=0.3)
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize=7)
    fig.tight_layout()
    with replacing(path) as tmp:  # never a half-written picture
        fig.savefig(tmp, metadata={"Software": None})
    plt.close(fig)


def run(results: List[Path], readmes: List[Path], check: bool = False,
        accuracy=ACCURACY, fmt: str = "github", lang: str = "en",
        plot_path: Optional[Path] = None) -> int:
    """Print the tables, or rewrite the README blocks (``check``: exit 1 where they differ instead)."""
    docs = [read(r, "bench") for r in results]
    accuracy = [accuracy] if isinstance(accuracy, (str, Path)) else list(accuracy)
    acc, nb_bytes, words = seed_models(accuracy)
    src = " and ".join(f"`{p}`" for p in accuracy if Path(p).is_file()) if acc else None
    if plot_path and not check:  # --check compares text; PNG bytes vary with matplotlib versions
        plot(docs, acc, plot_path)
    if not readmes:
        print(flat_table(reported_rows(lang), lang, fmt) + "\n(reported: PaddleSlim, SD855)")
        for d in docs:
            print("\n" + _caption(d, lang) + "\n" + flat_table(measured_rows(d, acc, lang, nb_bytes, words), lang, fmt))
        return 0
    stale = []
    for path in readmes:
        try:
            text = path.read_text("utf-8")
        except OSError as e:
            raise ZooError(f"cannot read {path}: {e.strerror or e}") from None
        langs = re.findall(r"<!-- slimocr-zoo:report:begin (\w+) -->", text)
        if not langs:
            raise ZooError(f"{path}: no report markers; put\n{BEGIN.format(lang='en')}\n{END}\nwhere the tables go")
        new = text
        for lg in langs:
            new = splice(new, lg, block(lg, docs, acc, src, str(plot_path) if plot_path else None, nb_bytes, words), path)
        if new != text:
            stale.append(str(path))
            if not check:
                write_atomic(path, new)  # never a half-written README
    if check and stale:
        print(f"error: {', '.join(stale)} differ from what the results give: run "
              f"python -m slimocr_zoo.report {' '.join(map(str, results))} --readme {' '.join(map(str, readmes))}"
              + (f" --plot {plot_path}" if plot_path else ""), file=sys.stderr)
        return 1
    print(("up to date: " if check or not stale else "wrote ") + ", ".join(map(str, readmes)))
    return 0


if __name__ == "__main__":  # python -m slimocr_zoo.report: an entry point, the CLI layer
    import sys

    from .cli import main

    sys.exit(main(["report", *sys.argv[1:]], prog="python -m slimocr_zoo.report"))
