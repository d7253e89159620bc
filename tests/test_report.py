"""The report: the seed's own figures rendered in its layout match the seed's table, cell by cell."""
import json
import re
from html.parser import HTMLParser

import pytest

from conftest import SHARED
from slimocr_zoo import cli, report

SEED = SHARED / "seed/000_c5f40bd2629ca8cd.txt"


class Cells(HTMLParser):
    """<table> -> rows of (tag, text, rowspan)."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = [tag, "", dict(attrs).get("rowspan", "1")]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell:
            self.rows[-1].append((self.cell[0], self.cell[1].strip(), self.cell[2]))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def cells(text):
    p = Cells()
    p.feed(re.search(r"<table>.*?</table>", text, re.S).group(0))
    return p.rows


@pytest.fixture
def seed_text():
    if not SEED.is_file():
        pytest.skip(f"seed table not found at {SEED}")
    return SEED.read_text("utf-8")


def test_seed_figures_render_as_the_seed_table(seed_text):
    ours = report.html_table(report.reported_rows("zh", downloads=False), "zh", "(自建中文数据集)")
    want, got = cells(seed_text), cells(ours)
    assert len(got) == len(want) == 9  # header + 4 row pairs
    for w, g in zip(want, got):
        assert g == w  # every cell: tag, text, rowspan, in the seed's column order


def test_derived_columns_are_computed(seed_text):
    rows = report.reported_rows("en")
    assert [r["speedup"] for r in rows] == ["-", "8%", "30%", "27%"]  # 375 / e2e - 1, not typed
    doc = {"models": [
        {"id": "MobileNetV3_DB", "stats": {"median": 100.0}, "files_bytes": {"a": 6_000_000}, "artifact": "paddle"},
        {"id": "MobileNetV3_CRNN", "stats": {"median": 5.0}, "files_bytes": {"a": 2_000_000}, "artifact": "synthetic",
         "synthetic": True},
        {"id": "SlimTextDet_pruning", "stats": {"median": 80.0}, "files_bytes": {"a": 1_000_000}, "artifact": "paddle"},
        {"id": "SlimTextRec", "stats": {"median": 4.0}, "files_bytes": {"a": 1_000_000}, "artifact": "synthetic",
         "synthetic": True}],
        "e2e": [{"config": 0, "stats": {"median": 300.0}}, {"config": 3, "stats": {"median": 200.0}}]}
    rows = report.measured_rows(doc, {"SlimTextDet_pruning": 0.359}, "en")
    r0, r3 = rows[0], rows[3]
    assert (r0["size"], r0["speedup"], r0["compression"]) == ("8.00", "-", "-")
    assert (r3["size"], r3["speedup"], r3["compression"], r3["e2e"]) == ("2.00", "50%", "75.00%", "200")
    assert r3["models"][0]["accuracy"] == "35.90" and r3["models"][1]["accuracy"] == "n/a"  # synthetic: none
    assert r3["models"][0]["strategy"] == "pruning+distillation fine-tuning"  # what its recipes did, in order
    doc["models"][2]["artifact"] = "pruned"
    assert report.measured_rows(doc, {}, "en")[3]["models"][0]["strategy"] == "pruning (no fine-tuning)"
    doc["models"][2]["artifact"] = "paddle"
    assert rows[1]["e2e"] == "n/a" and rows[1]["models"][0]["latency"] == "n/a"  # nothing made up
    # with the ARM .nb sizes known, those are the size (what a phone deploys), not the timed files
    nb = {"MobileNetV3_DB": 3_000_000, "MobileNetV3_CRNN": 1_000_000, "SlimTextDet_pruning": 500_000, "SlimTextRec": 500_000}
    r0, _, _, r3 = report.measured_rows(doc, {}, "en", nb)
    assert (r0["size"], r3["size"], r3["compression"]) == ("4.00", "1.00", "75.00%")


def test_readme_markers_write_and_check(tmp_path, capsys):
    results = tmp_path / "r.json"
    results.write_text(json.dumps({"kind": "bench", "date": "2026-11-25T00:00:00+00:00", "command": "x",
                                   "device": {"id": "cpu", "kind": "host"}, "environment": {"processor": "p", "cores": 2},
                                   "protocol": {"runtime": "paddle", "threads": 1}, "models": [], "e2e": []}))
    readme = tmp_path / "README.md"
    readme.write_text("# title\nbefore\n<!-- slimocr-zoo:report:begin en -->\nold\n<!-- slimocr-zoo:report:end -->\nafter\n")
    assert cli.main(["report", str(results), "--readme", str(readme), "--check"]) == 1
    assert "differ from what the results give" in capsys.readouterr().err
    assert cli.main(["report", str(results), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# title\nbefore\n") and text.endswith("after\n") and "old" not in text
    assert "**Reported**" in text and "**Measured**" in text and text.count("<table>") == 2
    assert cli.main(["report", str(results), "--readme", str(readme), "--check"]) == 0
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    assert cli.main(["report", str(results), "--readme", str(bare)]) == 1
    assert "no report markers" in capsys.readouterr().err


def test_rows_beyond_the_seed_compare_with_their_own_baseline():
    """Rows 4-7 (PP-OCRv4): speed-up and compression against row 4, not row 0; their end-to-end
    words found get a column; a row the results file never timed does not appear."""
    ms = {"ch_PP-OCRv4_det": 100.0, "ch_PP-OCRv4_rec": 10.0, "ch_PP-OCRv4_det_quant": 50.0, "ch_PP-OCRv4_rec_quant": 5.0}
    doc = {"models": [{"id": k, "stats": {"median": v}, "artifact": "paddle"} for k, v in ms.items()],
           "e2e": [{"config": 0}, {"config": 4, "stats": {"median": 400.0}}, {"config": 5, "stats": {"median": 200.0}}]}
    nb = {"ch_PP-OCRv4_det": 4_000_000, "ch_PP-OCRv4_rec": 6_000_000, "ch_PP-OCRv4_det_quant": 1_000_000,
          "ch_PP-OCRv4_rec_quant": 1_500_000}
    rows = report.measured_rows(doc, {"ch_PP-OCRv4_rec_quant": 0.6}, "en", nb, {4: 0.25, 5: 0.2475})
    assert [r["config"] for r in rows] == [0, 1, 2, 3, 4, 5]
    r4, r5 = rows[4], rows[5]
    assert (r4["speedup"], r4["compression"], r4["size"]) == ("-", "-", "10.00")
    assert (r5["speedup"], r5["compression"], r5["size"]) == ("100%", "75.00%", "2.50")
    assert (r4["words"], r5["words"], rows[0]["words"]) == ("25.00", "24.75", "-")
    assert r5["models"][1]["accuracy"] == "60.00" and r5["models"][1]["strategy"] == "QAT by distillation"
    got = cells(report.html_table(rows, "en"))
    assert got[0][7] == ("th", "Words found end-to-end(%)", "1") and got[9][7] == ("td", "25.00", "2")
    assert "Words" not in report.html_table(report.measured_rows(doc, {}, "en", nb), "en")  # none known: no column
    doc["e2e"] = doc["e2e"][:1]  # rows 4-7 measured for accuracy, not timed: the seed's table gets no such column
    assert "Words" not in report.html_table(report.measured_rows(doc, {}, "en", nb, {4: 0.25}), "en")


def test_accuracy_of_rows_beyond_the_seed_against_float_and_baseline():
    acc = {"ch_PP-OCRv4_det": 0.4262, "ch_PP-OCRv4_rec": 0.6383, "ch_PP-OCRv4_det_pruning": 0.42,
           "ch_PP-OCRv4_det_quant_pruning": 0.4150, "ch_PP-OCRv4_rec_quant": 0.62, "ch_PP-OCRv4_rec_pruning": 0.6350,
           "ch_PP-OCRv4_rec_quant_pruning": 0.63}
    nb = {"ch_PP-OCRv4_det": 4_000_000, "ch_PP-OCRv4_rec": 6_000_000, "ch_PP-OCRv4_det_pruning": 3_000_000,
          "ch_PP-OCRv4_rec_quant": 4_000_000, "ch_PP-OCRv4_rec_pruning": 5_000_000}
    rows = report.accuracy_rows(acc, nb, {4: 0.25, 6: 0.2450, 0: 0.1})
    assert [r["config"] for r in rows] == [4, 6]  # the seed's rows have their own table
    r4, r6 = rows
    assert (r4["det_acc"], r4["words"], r4["compression"]) == ("42.62", "25.00", "-")
    assert (r6["det_acc"], r6["rec_acc"], r6["words"]) == ("42.00 (-0.62)", "63.50 (-0.33)", "24.50 (-0.50)")
    assert (r6["size"], r6["compression"]) == ("8.00", "20.00%")
    r7 = report.accuracy_rows(acc, nb, {7: 0.2})[0]  # pruned + int8: against the float root, not its pruned parent
    assert r7["det_acc"] == "41.50 (-1.12)" and r7["rec_acc"] == "63.00 (-0.83)" and r7["size"] == "n/a"
    assert "det hmean (vs float)" in report.accuracy_table(rows, "en")


def test_a_missing_accuracy_file_is_a_usage_error(tmp_path, capsys):
    results = tmp_path / "r.json"
    results.write_text(json.dumps({"kind": "bench", "date": "2026-11-25T00:00:00+00:00", "command": "x",
                                   "device": {"id": "cpu", "kind": "host"}, "environment": {"processor": "p", "cores": 2},
                                   "protocol": {"runtime": "paddle", "threads": 1}, "models": [], "e2e": []}))
    assert cli.main(["report", str(results), "--accuracy", str(tmp_path / "nosuch.json")]) == 2
    err = capsys.readouterr().err
    assert "nosuch.json: no such file" in err and len(err.strip().splitlines()) == 1
