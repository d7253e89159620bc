"""The command line, as a user types it, and offline mode watched by an audit hook."""
import json
import re
import os
import subprocess
import sys
import textwrap


import pytest

from slimocr_zoo import cache
from slimocr_zoo.cli import main
from slimocr_zoo.registry import get_registry

from conftest import MODELS


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_console_script_lists_seed_ids_and_configs():
    exe = os.path.join(os.path.dirname(sys.executable), "slimocr-zoo")
    out = subprocess.run([exe, "list"], capture_output=True, text=True, check=True).stdout
    for mid in ["MobileNetV3_DB", "MobileNetV3_CRNN", "SlimTextDet", "SlimTextRec",
                "SlimTextDet_quat_pruning", "SlimTextDet_pruning"]:
        assert mid in out
    rows = {r.split()[0]: r.split() for r in out.split("Configurations")[1].splitlines()[3:] if r.strip()}
    for c in get_registry().configs.values():  # each row as the manifest reports it (speed-up: 375/288-1 = 30%)
        want = [str(c.id), c.det, c.rec, str(c.reported["e2e_latency_ms"]) if c.reported else "-"]
        assert rows[str(c.id)][:4] == want  # rows beyond the seed's have no reported figures
    assert rows["2"][4] == "30%" and rows["0"][4] == "-"


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "slimocr_zoo", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "slimocr-zoo" in out.stdout


def test_list_json_and_task_filter(capsys):
    code, out, _ = run(capsys, "list", "--task", "rec", "--json")
    data = json.loads(out)
    assert code == 0 and {m["task"] for m in data["models"]} == {"rec"}
    assert [c["id"] for c in data["configs"]] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_info(capsys):
    code, out, _ = run(capsys, "info", "SlimTextDet_quant_pruning")
    assert code == 0 and out.startswith("SlimTextDet_quat_pruning")
    assert "recipe: qat from SlimTextDet_pruning/paddle" in out and "hmean 60.86" in out
    code, out, err = run(capsys, "info", "SlimTextDett")
    assert code == 2 and "did you mean SlimTextDet" in err


def test_download_all_goes_on_and_summarises(capsys, mirror):
    code, out, _ = run(capsys, "download", "--all", "--mirror", mirror.url, "--quiet")
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    assert ("MobileNetV3_DB", "paddle", "ok") in rows
    assert ("SlimTextDet", "paddle", "to") in rows  # "to build": download leaves recipes to `build`
    assert ("ch_det_mv3_db", "paddle-upstream", "FAILED") in rows  # no internet here: it goes on
    assert ("ch_PP-OCRv4_rec", "paddle", "ok") in rows
    assert code == 1 and f"{len(_on_mirror())} fetched" in out  # a model with nothing to run from: exit 1


def test_download_is_ok_when_what_load_uses_is_there(capsys, mirror):
    """An upstream copy that cannot be reached is not a failure when load()'s artifact was fetched."""
    code, out, err = run(capsys, "download", "MobileNetV3_DB", "--mirror", mirror.url, "-q")
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    assert ("MobileNetV3_DB", "paddle", "ok") in rows and "(what load() uses)" in out
    assert ("MobileNetV3_DB", "paddle-upstream", "unavailable") in rows and "not needed, load() uses 'paddle'" in out
    assert code == 0 and "FAILED" not in out and err == ""


def _on_mirror():
    """Oracle from the manifest and the mirror's files: pinned downloads the mirror holds."""
    return [(m.id, a.name) for m in get_registry().list() for a in m.artifacts
            if not a.recipe and a.pinned and all((MODELS / f.path).is_file() for f in a.files)]


def test_download_require_pinned_skips_upstream(capsys, mirror):
    code, out, _ = run(capsys, "download", "--all", "--require-pinned", "--mirror", mirror.url, "-q")
    arts = [(m, a) for m in get_registry().list() for a in m.artifacts]
    status = {tuple(line.split()[:2]): line.split()[2] for line in out.splitlines() if len(line.split()) > 2}
    assert {k for k, v in status.items() if v == "ok"} == set(_on_mirror())
    unpinned = {(m.id, a.name) for m, a in arts if not a.recipe and not a.pinned}
    assert unpinned and {k for k, v in status.items() if v == "skipped"} == unpinned  # never fetched unpinned
    recipes = {(m.id, a.name) for m, a in arts if a.recipe}
    assert {k for k, v in status.items() if v == "to"} == recipes
    assert code == 0 and f"{len(_on_mirror())} fetched, {len(recipes)} to be built by a recipe" in out
    assert f"{len(unpinned)} skipped" in out


def test_options_before_the_command_are_kept(capsys, mirror):
    code, out, _ = run(capsys, "--offline", "--mirror", mirror.url, "-q", "download", "MobileNetV3_DB")
    assert code == 1 and "offline" in out and mirror.requests == []  # not overwritten by the command's defaults
    code, out, _ = run(capsys, "--mirror", mirror.url, "download", "MobileNetV3_DB", "--format", "paddle", "-q")
    assert mirror.requests and ("MobileNetV3_DB", "paddle", "ok") in {tuple(ln.split()[:3]) for ln in out.splitlines()}


def test_one_meaning_of_cached(capsys, mirror):
    """list, info, cache ls and load agree: a file is cached when it is there and verified."""
    def starred():
        row = next(line for line in run(capsys, "list", "--task", "cls")[1].splitlines()
                   if line.startswith("ch_ppocr_mobile_v1.1_cls "))
        return "*paddle" in row

    assert not starred()
    run(capsys, "download", "ch_ppocr_mobile_v1.1_cls", "--mirror", mirror.url, "-q")
    assert starred() and "cached" in run(capsys, "cache", "ls")[1]
    p = cache.file_path("ppocr_v1.1_cls/params")
    p.write_bytes(p.read_bytes()[:-1] + b"!")  # same size, other bytes: not what was verified
    assert not starred()
    assert "not cached" in run(capsys, "info", "ch_ppocr_mobile_v1.1_cls")[1]
    ls = run(capsys, "cache", "ls")[1]
    assert "not verified" in ls and "cached " not in ls.split("\n", 2)[2]
    part = cache.file_path("ppocr_v1.1_cls/model.incomplete")
    part.write_bytes(b"half")
    assert "1 partial download" in run(capsys, "cache", "ls")[1]


@pytest.mark.parametrize("argv, says", [
    (["ocr", "x.jpg", "--config", "9"], "unknown configuration 9"),
    (["ocr", "x.jpg", "--pair", "MobileNetV3_DB"], "neither a configuration row"),
    (["ocr", "x.jpg", "--config", "ch_PP-OCRv4_rec+ch_PP-OCRv4_det"], "is a rec model where a det model goes"),
    (["eval", "--e2e", "NoSuchDet+ch_PP-OCRv4_rec", "--data", str(MODELS.parent / "data")], "unknown model 'NoSuchDet'"),
])
def test_a_config_or_pair_is_named_one_way_and_checked_first(capsys, argv, says):
    code, out, err = run(capsys, *argv)
    assert code == 2 and says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_verify_finds_and_removes_corrupt_files(capsys, mirror):
    run(capsys, "download", "MobileNetV3_DB", "--format", "paddle", "--mirror", mirror.url, "-q")
    p = cache.file_path("ppocr_v1.1_det/params")
    data = bytearray(p.read_bytes())
    data[10] ^= 0xFF
    p.write_bytes(bytes(data))
    code, out, _ = run(capsys, "verify")
    assert code == 1 and "CORRUPT, removed" in out and not p.exists()
    assert cache.file_path("ppocr_v1.1_det/model").exists()
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "0 corrupt" in out


def test_cache_ls_rm_prune(capsys, mirror, zoo_env):
    run(capsys, "download", "ch_ppocr_mobile_v1.1_cls", "--mirror", mirror.url, "-q")
    code, out, _ = run(capsys, "cache", "ls")
    assert "ch_ppocr_mobile_v1.1_cls" in out and "cached" in out
    stray = zoo_env / "files" / "junk" / "x.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    part = cache.file_path("PP-OCRv4_det/inference.pdiparams.incomplete")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"partial")
    code, out, _ = run(capsys, "cache", "prune")
    assert code == 0 and not stray.exists() and not part.exists()
    assert cache.file_path("ppocr_v1.1_cls/params").exists()
    code, out, _ = run(capsys, "cache", "rm", "ch_ppocr_mobile_v1.1_cls")
    assert "removed 2 files" in out and not cache.file_path("ppocr_v1.1_cls/params").exists()


def test_offline_mode_opens_no_socket(mirror, tmp_path):
    """An audit hook in a fresh interpreter aborts on any socket use; offline must not trip it."""
    code = textwrap.dedent(f"""
        import sys
        def hook(event, args):
            if event.startswith("socket."):
                print("SOCKET", event, args, flush=True)
                raise RuntimeError("socket opened in offline mode")
        import slimocr_zoo, requests, tqdm  # imports before the hook: they open nothing
        sys.addaudithook(hook)
        try:
            slimocr_zoo.load("MobileNetV3_DB", mirror={mirror.url!r})
        except slimocr_zoo.OfflineError as e:
            print("OFFLINE-ERROR", e)
        from slimocr_zoo.cli import main
        sys.exit(main(["download", "--all", "-q", "--mirror", {mirror.url!r}]))
    """)
    env = dict(os.environ, SLIMOCR_ZOO_OFFLINE="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "SOCKET" not in r.stdout, r.stdout
    assert "OFFLINE-ERROR" in r.stdout and "offline mode is on" in r.stdout
    assert r.returncode == 1 and "FAILED" in r.stdout  # download --all reports misses, opens nothing
    assert mirror.requests == []


def test_offline_flag_on_cli(capsys, mirror):
    code, out, err = run(capsys, "download", "MobileNetV3_DB", "--offline", "--mirror", mirror.url, "-q")
    assert code == 1 and "offline" in out and mirror.requests == []


def test_bench_and_report_are_cli_commands_too(capsys):
    from slimocr_zoo.cli import main

    assert main(["bench", "--device", "sd85"]) == 1
    assert "did you mean sd855" in capsys.readouterr().err
    assert main(["report", "--format", "github"]) == 0
    out = capsys.readouterr().out
    assert "SlimTextDet_quat_pruning" in out and "67.82%" in out and "(reported: PaddleSlim, SD855)" in out


def _long_chain(tmp_path):
    """A user manifest: MobileNetV3_DB -> a 30-minute recipe artifact -> a 2-minute one on top."""
    from slimocr_zoo import info, register_manifest

    det = info("MobileNetV3_DB")

    def art(parent, minutes):
        return {"name": "paddle", "format": "paddle", "layout": "pdmodel", "sources": [], "provenance": "test",
                "build_minutes": minutes, "files": [{"path": f"built/x/{parent}/inference.pdmodel"}],
                "recipe": {"type": "prune", "parent": parent, "parent_artifact": "paddle",
                           "ratios": {"conv16_expand_weights": 0.5}}}

    unreachable = {"name": "paddle-upstream", "format": "paddle", "layout": "pdmodel", "provenance": "test",
                   "files": [{"path": "x/inference.pdmodel"}], "sources": [{"type": "url", "url": "http://127.0.0.1:9/x"}]}
    models = [{"id": mid, "task": "det", "family": "test", "description": "test", "input": det.input,
               "artifacts": [art(parent, minutes), unreachable]}
              for mid, parent, minutes in (("long_one", "MobileNetV3_DB", 30), ("on_top", "long_one", 2))]
    p = tmp_path / "long.json"
    p.write_text(json.dumps({"schema_version": 1, "models": models}))
    register_manifest(p)


def test_a_long_build_starts_only_when_asked(capsys, tmp_path, zoo_env):
    """load() starts no training recipe by itself: the error says how long (the chain summed) and the command."""
    import slimocr_zoo
    from slimocr_zoo.api import minutes_to_build

    _long_chain(tmp_path)
    assert minutes_to_build(slimocr_zoo.info("on_top").artifact("paddle")) == 32
    with pytest.raises(slimocr_zoo.LongBuildError, match=r"about 32 minutes.*slimocr-zoo build on_top") as e:
        slimocr_zoo.load("on_top")
    assert "\n" not in str(e.value)  # the upstream file that could not be had is beside the point
    code, out, err = run(capsys, "ocr", "--config", "on_top+ch_PP-OCRv4_rec", str(MODELS.parent / "data/icdar2015_det/images/img_1.jpg"))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "slimocr-zoo build" in err and "Traceback" not in err
    assert not (zoo_env / "built").exists()  # nothing started


@pytest.mark.paddle
def test_paddle_log_lines_only_with_verbose(tmp_path):
    """paddle's C++ INFO lines ("I1130 ... New Executor is Running.") stay off a quiet console; -v shows them."""
    img = str(MODELS.parent / "data/icdar2015_det/images/img_1.jpg")
    env = dict(os.environ, SLIMOCR_ZOO_MIRROR=str(MODELS), SLIMOCR_ZOO_HOME=str(tmp_path))
    env.pop("GLOG_minloglevel", None)

    def stderr(*opts):
        r = subprocess.run([sys.executable, "-m", "slimocr_zoo", *opts, "ocr", img, "--config", "4", "-q"],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stderr

    assert not re.search(r"^I\d{4} ", stderr(), re.M)
    assert re.search(r"^I\d{4} .*New Executor", stderr("-v"), re.M)


def test_doctor_says_what_is_wrong_and_what_to_do(capsys, monkeypatch, tmp_path):
    from slimocr_zoo import doctor

    monkeypatch.setenv("SLIMOCR_ZOO_ADB", str(tmp_path / "no-adb"))
    code, out, _ = run(capsys, "doctor", "--mirror", str(tmp_path))
    status = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:] if len(line.split()) > 1}
    assert code == 0 and status["mirror"] == "ok" and status["adb"] == "warning"
    assert status["python"] == ("ok" if sys.version_info[:2] <= (3, 10) else "warning")  # paddlelite: <= 3.10
    assert "adb not found" in out and "ready" in out.splitlines()[-1]
    real = doctor._version
    fake = {"numpy": "2.1.0", "paddlelite": "2.13rc0"}  # numpy 2 beside paddlelite
    monkeypatch.setattr(doctor, "_version", lambda d: fake.get(d) or real(d))
    code, out, _ = run(capsys, "doctor", "--mirror", str(tmp_path / "gone"), "--mirror", "http://127.0.0.1:9")
    assert code == 1 and "2.1.0 with paddlelite silently corrupts tensors: pip install 'numpy<2'" in out
    assert "gone: no such folder" in out and "http://127.0.0.1:9: unreachable" in out
    assert "3 error(s)" in out


def test_add_your_own_model(capsys, tmp_path, monkeypatch):
    """A .nb and a paddle model into a manifest with nothing typed but its id and task: then info,
    load (from the files where they are) and the phone's configuration syntax know it."""
    import shutil

    from slimocr_zoo.runtime.nbfile import inspect_nb

    nb = tmp_path / "mine" / "det.nb"
    nb.parent.mkdir()
    shutil.copy(MODELS / "ppocr_v2.0_slim_lite_arm/ch_ppocr_mobile_v2.0_det_opt.nb", nb)  # an int8 arm .nb
    man = tmp_path / "my.json"
    code, out, _ = run(capsys, "add", str(nb), "--id", "my_det", "--task", "det", "--manifest", str(man))
    assert code == 0 and f"SLIMOCR_ZOO_MANIFEST={man}" in out
    art = json.loads(man.read_text())["models"][0]["artifacts"][0]
    info = inspect_nb(nb)
    assert (art["target"], art["opt_version"], art["precision"]) == ("arm", info.version, "int8")
    assert art["files"][0]["size"] == nb.stat().st_size and len(art["files"][0]["sha256"]) == 64
    # a second model appended to the same file, specs from --like
    for name in ("inference.pdmodel", "inference.pdiparams"):
        shutil.copy(MODELS / "PP-OCRv4_rec" / name, tmp_path / "mine" / name)
    code, out, _ = run(capsys, "add", str(tmp_path / "mine/inference.pdmodel"), str(tmp_path / "mine/inference.pdiparams"),
                       "--id", "my_rec", "--task", "rec", "--like", "ch_PP-OCRv4_rec", "--manifest", str(man))
    doc = json.loads(man.read_text())
    assert code == 0 and [m["id"] for m in doc["models"]] == ["my_det", "my_rec"]
    assert doc["models"][1]["input"] == get_registry().resolve("ch_PP-OCRv4_rec").input
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(man))
    code, out, _ = run(capsys, "info", "my_det")
    assert code == 0 and "nb arm opt" in out and "int8" in out
    import slimocr_zoo

    m = slimocr_zoo.load("my_det", format="nb", target="arm", offline=True)
    assert m.files["det.nb"].read_bytes() == nb.read_bytes()  # verified into the cache from where it was
    assert get_registry().config("my_det+my_rec").det == "my_det"
    # what the user gets wrong: one line, exit 2, the manifest untouched
    before = man.read_text()
    for argv, said in ((["add", str(nb), "--id", "my_det", "--task", "det"], "already has a model 'my_det'"),
                       (["add", str(nb), "--id", "MobileNetV3_DB", "--task", "det"], "duplicate model id"),
                       (["add", str(tmp_path / "nope.nb"), "--id", "x", "--task", "det"], "no such file"),
                       (["add", str(man), "--id", "x", "--task", "det"], "cannot tell what"),
                       (["add", str(nb), "--id", "x", "--task", "det", "--like", "ch_PP-OCRv4_rec"], "is a rec model")):
        code, out, err = run(capsys, *argv, "--manifest", str(man))
        assert code == 2 and said in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert man.read_text() == before and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_load_never_starts_a_training_recipe_by_itself(tmp_path, monkeypatch):
    """Even a short one: a 10-minute distill inside a cold `make demo` was a surprise."""
    import slimocr_zoo
    from slimocr_zoo.errors import LongBuildError

    spec = slimocr_zoo.info("MobileNetV3_DB")
    art = {"name": "paddle", "format": "paddle", "layout": "pdmodel", "sources": [], "provenance": "test",
           "build_minutes": 2, "files": [{"path": "built/quick_tune/paddle/inference.pdmodel"},
                                         {"path": "built/quick_tune/paddle/inference.pdiparams"}],
           "recipe": {"type": "distill", "parent": "MobileNetV3_DB", "parent_artifact": "paddle",
                      "teacher": "MobileNetV3_DB", "iterations": 2,
                      "calibration": {"set": "icdar2015_det", "start": 300, "count": 2}}}
    p = tmp_path / "quick.json"
    p.write_text(json.dumps({"schema_version": 1, "models": [
        {"id": "quick_tune", "task": "det", "family": "test", "description": "test", "input": spec.input,
         "postprocess": spec.postprocess, "artifacts": [art]}]}))
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(p))
    with pytest.raises(LongBuildError, match="about 2 minutes.*slimocr-zoo build quick_tune"):
        slimocr_zoo.load("quick_tune", offline=True)


def test_a_wrong_user_manifest_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    """A manifest is the user's input: each way of getting it wrong says the file and field, exit 2."""
    spec = get_registry().resolve("MobileNetV3_DB")
    good = {"id": "mine", "task": "det", "family": "test", "description": "test", "input": spec.input,
            "artifacts": [{"name": "paddle", "format": "paddle", "layout": "pdmodel", "sources": [],
                           "provenance": "test", "files": [{"path": "mine/a.pdmodel"}, {"path": "mine/a.pdiparams"}]}]}
    cases = (("{\n  'models': []", "not valid JSON at line 2"),
             (json.dumps({"schema_version": 1, "models": [{**good, "task": "ocr"}]}), "$.models[0].task"),
             (json.dumps({"schema_version": 1, "models": [{**good, "id": "MobileNetV3_DB"}]}), "MobileNetV3_DB"))
    for i, (text, said) in enumerate(cases):
        p = tmp_path / f"m{i}.json"
        p.write_text(text)
        monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(p))
        code, _, err = run(capsys, "list")
        assert code == 2 and said in err and str(p) in err and len(err.strip().splitlines()) == 1, err
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(tmp_path / "none.json"))
    code, _, err = run(capsys, "info", "MobileNetV3_DB")
    assert code == 2 and "cannot read manifest" in err
