"""Pure functions (metrics, CTC decoding, stats, label files, configurations, results files, atomic
writes): they need numpy, shapely and rapidfuzz (the 'test' extra), never OpenCV or Paddle, so they
run in the core suite too."""
import json

import numpy as np
import pytest

from slimocr_zoo.errors import UnknownConfigError, ZooError
from slimocr_zoo.registry import get_registry


def test_ctc_decode_merges_repeats_and_drops_blanks():
    from slimocr_zoo.ocr.rec import ctc_decode

    charset = ["blank", "a", "b", " "]
    steps = [1, 1, 0, 1, 2, 2, 0, 3, 0]  # a a _ a b b _ ' ' _
    probs = np.full((1, len(steps), 4), 0.1, np.float32)
    for t, k in enumerate(steps):
        probs[0, t, k] = 0.7
    (r,) = ctc_decode(probs, charset)
    assert r.text == "aab " and r.score == pytest.approx(0.7)
    assert ctc_decode(np.eye(4, dtype=np.float32)[[0, 0]][None], charset)[0].text == ""


def test_det_counts_follow_icdar2015():
    from slimocr_zoo.metrics import det_image_counts, det_metrics

    sq = lambda x, y, s=10: [[x, y], [x + s, y], [x + s, y + s], [x, y + s]]  # noqa: E731
    gt = [{"transcription": "A", "points": sq(0, 0)}, {"transcription": "B", "points": sq(100, 0)},
          {"transcription": "###", "points": sq(200, 0, 40)}]
    preds = [sq(1, 1), sq(210, 10), sq(300, 300)]  # a hit, one inside don't-care, a false alarm
    assert det_image_counts(gt, preds) == (1, 2, 2)
    m = det_metrics([(1, 2, 2), (1, 1, 2)])
    assert (m["recall"], m["precision"]) == (2 / 3, 0.5) and m["hmean"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert det_image_counts(gt, [sq(5, 5)])[0] == 0  # IoU 25/175 < 0.5


def test_rec_metrics():
    from slimocr_zoo.metrics import rec_metrics

    m = rec_metrics(["Hello", "wor ld", "x-1"], ["hello", "world", "X1"])
    assert m["accuracy"] == pytest.approx(1 / 3)  # spaces ignored, case kept
    assert m["accuracy_alnum_nocase"] == 1.0
    # Levenshtein: Hello/hello 1 of 5, world/world 0, x-1/X1 2 of 3
    assert m["norm_edit_similarity"] == pytest.approx(1 - (1 / 5 + 0 + 2 / 3) / 3)


def test_bad_label_lines_are_named(tmp_path):
    from slimocr_zoo.data import read_det_labels, read_rec_labels

    (tmp_path / "l.txt").write_text("img.jpg\t[{]\n")
    with pytest.raises(ValueError, match=r"l.txt:1"):
        read_det_labels(tmp_path / "l.txt")
    (tmp_path / "r.txt").write_text("ok.png\tA\nno-tab-here\n")
    with pytest.raises(ValueError, match=r"r.txt:2"):
        read_rec_labels(tmp_path / "r.txt")


def test_stats():
    from slimocr_zoo.bench.stats import summarize

    s = summarize([5, 1, 3, 2, 4, 6, 7, 8, 9, 10])
    assert (s["min"], s["median"], s["p90"], s["max"], s["n"]) == (1, 5.5, 9, 10, 10)
    assert s["mean"] == 5.5 and s["std"] == pytest.approx(np.std(np.arange(1, 11)))
    assert summarize([3.0])["median"] == 3.0
    with pytest.raises(ValueError):
        summarize([])


def test_a_configuration_is_a_row_or_a_pair():
    reg = get_registry()
    assert reg.config(3) is reg.config("3") is reg.configs[3]
    pair = reg.config("ch_ppocr_mobile_v1.1_det+ch_PP-OCRv4_rec")  # an alias resolves to its id
    assert (pair.id, pair.det, pair.rec, pair.cls) == ("MobileNetV3_DB+ch_PP-OCRv4_rec", "MobileNetV3_DB",
                                                       "ch_PP-OCRv4_rec", None)
    assert reg.config("MobileNetV3_DB+ch_PP-OCRv4_rec+ch_ppocr_mobile_v2.0_cls").cls == "ch_ppocr_mobile_v2.0_cls"
    for bad, says in (("9", "unknown configuration 9"), ("MobileNetV3_DB", "neither a configuration row"),
                      ("a+b+c+d", "neither"), ("ch_PP-OCRv4_rec+MobileNetV3_DB", "rec model where a det model goes")):
        with pytest.raises(UnknownConfigError, match=says):
            reg.config(bad)


def test_results_save_read_and_refuse(tmp_path):
    from slimocr_zoo import results

    doc = results.header("eval", "slimocr-zoo eval --limit 1", runs=[])
    assert doc["kind"] == "eval" and doc["command"].endswith("--limit 1") and doc["environment"]["numpy"]
    p = tmp_path / "sub" / "r.json"
    results.save(doc, p)
    assert results.read(p, "eval") == json.loads(p.read_text()) == doc
    assert [x.name for x in p.parent.iterdir()] == ["r.json"]  # no temporary left beside it
    with pytest.raises(ZooError, match="not a bench results file"):
        results.read(p, "bench")
    p.write_text("{")
    with pytest.raises(ZooError, match="not JSON"):
        results.read(p)
    with pytest.raises(ZooError, match="no results file"):
        results.read(tmp_path / "missing.json")


def test_atomic_write_leaves_the_old_file_on_error(tmp_path):
    from slimocr_zoo.files import replacing, sha256_of, write_atomic

    p = tmp_path / "a.txt"
    write_atomic(p, "old")
    with pytest.raises(KeyboardInterrupt):
        with replacing(p) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert p.read_text() == "old" and [x.name for x in tmp_path.iterdir()] == ["a.txt"]
    write_atomic(p, b"new")
    import hashlib

    assert sha256_of(p) == hashlib.sha256(b"new").hexdigest()


def test_settings_are_read_when_asked(monkeypatch, tmp_path):
    from slimocr_zoo import settings
    from slimocr_zoo.errors import UsageError

    monkeypatch.setenv("SLIMOCR_ZOO_MIRROR", "http://a/, /b  http://c")
    monkeypatch.setenv("SLIMOCR_ZOO_OFFLINE", "Yes")
    monkeypatch.setenv("SLIMOCR_ZOO_RETRIES", "not a number")
    assert settings.mirrors() == ["http://a/", "/b", "http://c"] and settings.offline() and settings.retries() == 3
    monkeypatch.setenv("SLIMOCR_ZOO_OFFLINE", "0")
    assert not settings.offline()
    assert settings.train_device() == "auto"
    monkeypatch.setenv("SLIMOCR_ZOO_TRAIN_DEVICE", "tpu")
    with pytest.raises(UsageError, match="use auto, cpu or gpu"):
        settings.train_device()


def test_every_variable_the_package_reads_is_documented():
    from pathlib import Path

    from slimocr_zoo import settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    assert [v for v in settings.VARIABLES if f"`{v}" not in readme] == []


def test_the_two_readmes_have_the_same_sections_and_commands():
    """README_zh.md follows README.md: the same sections in the same order, the same commands and
    code (comments aside: they are translated), the same report block, the same links."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    en, zh = ((root / n).read_text("utf-8") for n in ("README.md", "README_zh.md"))

    def outline(text):
        return [len(h) for h in re.findall(r"^(#{2,3}) ", text, re.M)]

    def code(text):
        out = []
        for block in re.findall(r"```\w*\n(.*?)```", text, re.S):
            for line in block.splitlines():
                line = re.split(r"\s+#\s", line)[0].rstrip()
                if line and not line.lstrip().startswith("#"):
                    out.append(line)
        return out

    assert outline(en) == outline(zh) and len(outline(en)) >= 10
    assert code(en) == code(zh)
    assert "slimocr-zoo:report:begin en" in en and "slimocr-zoo:report:begin zh" in zh
    links = lambda t: sorted(set(re.findall(r"\]\(((?:benchmarks|docs|manifests|slimocr_zoo)/[^)]+)\)", t)))  # noqa: E731
    assert links(en) == links(zh)


def test_an_int8_model_runs_int8_where_it_can_and_says_so(caplog):
    from slimocr_zoo import artifacts
    from slimocr_zoo.artifacts import run_precision
    from slimocr_zoo.errors import RuntimeUnavailableError

    reg = get_registry()
    q, f = reg.resolve("SlimTextDet").artifact("paddle"), reg.resolve("MobileNetV3_DB").artifact("paddle")
    nb = reg.resolve("SlimTextDet").artifact("nb-arm")
    yes, no = (lambda: True), (lambda: False)
    # fp32 / bf16 say how a float model runs: an int8 model runs int8 whatever the float precision asked
    assert [run_precision(p, q, "paddle", yes) for p in ("fp32", "bf16", "int8")] == ["int8"] * 3
    assert run_precision("int8-simulated", q, "paddle", yes) == "int8-simulated"
    assert run_precision("fp32", nb, "lite", no) == "int8"  # a .nb runs as converted
    assert [run_precision(p, f, "paddle", yes) for p in ("fp32", "bf16")] == ["fp32", "bf16"]
    with pytest.raises(RuntimeUnavailableError, match="needs an int8 model.*precision='fp32'"):
        run_precision("int8-simulated", f, "paddle", yes)
    artifacts._warn_no_vnni.cache_clear()
    with caplog.at_level("WARNING", logger="slimocr_zoo"):  # no VNNI: simulated, said once
        assert [run_precision("fp32", q, "paddle", no) for _ in range(2)] == ["int8-simulated"] * 2
    assert [r.message for r in caplog.records if "AVX512-VNNI" in r.message] != [] and len(caplog.records) == 1


def test_op_times_sum_per_op_type_and_run():
    from slimocr_zoo.runtime.profile import op_times

    ev = [{"ph": "X", "cat": "Operator", "name": "fused_conv2d[3.1 ms]", "dur": 3000},
          {"ph": "X", "cat": "Operator", "name": "fused_conv2d[1.0 ms]", "dur": 1000},
          {"ph": "X", "cat": "Operator", "name": "relu[1.0 ms]", "dur": 1000},
          {"ph": "X", "cat": "OperatorInner", "name": "compute[3.1 ms]", "dur": 3000},  # inside the op above
          {"ph": "X", "cat": "ProfileStep", "name": "ProfileStep#0", "dur": 6000}]
    got = op_times({"traceEvents": ev}, runs=2)
    assert list(got) == ["fused_conv2d", "relu"]
    assert got["fused_conv2d"] == {"ms": 2.0, "calls": 1, "share": 0.8} and got["relu"]["ms"] == 0.5


def test_paired_interval_says_how_sure_a_difference_is():
    from slimocr_zoo.metrics import det_metrics, paired_interval

    rng = np.random.default_rng(1)
    base = [(int(m), int(g), int(d)) for g, d in rng.integers(1, 8, size=(300, 2)) for m in [rng.integers(0, min(g, d) + 1)]]
    assert paired_interval(base, base) == (0.0, 0.0)  # the same model: no difference at all
    better = [(min(m + 1, g, d), g, d) for m, g, d in base]
    lo, hi = paired_interval(base, better)
    gain = det_metrics(better)["hmean"] - det_metrics(base)["hmean"]
    assert 0 < lo < gain < hi  # paired: a small gain on every image is sure
    noisy = [(max(0, m + int(s)), g, d) if 0 <= m + s <= min(g, d) else (m, g, d)
             for (m, g, d), s in zip(base, rng.choice([-1, 1], size=300))]
    lo, hi = paired_interval(base, noisy)
    assert lo < 0 < hi  # as many images better as worse: not sure either way
    rec_a, rec_b = [1] * 50 + [0] * 50, [1] * 60 + [0] * 40
    lo, hi = paired_interval(rec_a, rec_b)
    assert 0 < lo < 0.10 < hi  # accuracy from 0/1 per crop
    words_a = [(2, 5)] * 100
    words_b = [(3, 5)] * 50 + [(2, 5)] * 50  # one more word found on half the images
    lo, hi = paired_interval(words_a, words_b)
    assert 0 < lo <= 0.1 <= hi  # words found: found / words over the resample
    with pytest.raises(ValueError, match="same items"):
        paired_interval(base, base[:10])


def test_lite_memory_setting_says_what_to_give(monkeypatch):
    from slimocr_zoo import settings
    from slimocr_zoo.errors import UsageError

    assert settings.lite_memory_mb() == 2048
    monkeypatch.setenv("SLIMOCR_ZOO_LITE_MEMORY_MB", "512")
    assert settings.lite_memory_mb() == 512
    for bad in ("abc", "0", "-5", "nan"):
        monkeypatch.setenv("SLIMOCR_ZOO_LITE_MEMORY_MB", bad)
        with pytest.raises(UsageError, match="number above 0"):
            settings.lite_memory_mb()
