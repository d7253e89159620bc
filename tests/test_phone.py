"""The phone benchmark through the real adb client against the emulated phone (tests/phone)."""
import json

import pytest

from conftest import MODELS, SHARED
from phone import benchmark_bin, ocr_db_crnn

pytestmark = pytest.mark.paddle  # the emulated benchmark_bin runs paddlelite

FAST = ["--warmup", "0", "--repeats", "4", "--invocations", "2", "--quiet", "--mirror", str(MODELS)]


@pytest.fixture(scope="session")
def x86_cache(tmp_path_factory, shared_models):
    """One cache for these tests with the x86 .nb of a det and a rec built once (opt)."""
    import os

    home = tmp_path_factory.mktemp("phone_zoo_home")
    old = os.environ.get("SLIMOCR_ZOO_HOME")
    os.environ["SLIMOCR_ZOO_HOME"] = str(home)
    try:
        from slimocr_zoo import load

        for mid in ("MobileNetV3_DB", "ch_PP-OCRv4_rec", "ch_ppocr_mobile_v1.1_cls"):
            load(mid, format="nb", target="x86", mirror=[str(shared_models)], quiet=True)
    finally:
        os.environ["SLIMOCR_ZOO_HOME"] = old or ""
    return home


@pytest.fixture
def env(zoo_env, x86_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("SLIMOCR_ZOO_HOME", str(x86_cache))
    monkeypatch.chdir(tmp_path)
    images = tmp_path / "images"
    images.mkdir()
    (images / "img_62.jpg").symlink_to(SHARED / "data/icdar2015_det/images/img_62.jpg")  # it has text
    return {"bin": benchmark_bin(tmp_path / "benchmark_bin"), "ocr": ocr_db_crnn(tmp_path / "ocr_db_crnn"),
            "images": images, "tmp": tmp_path}


def model(path, mid):
    return next(m for m in json.loads(path.read_text())["models"] if m["id"] == mid)


def bench(*args):
    from slimocr_zoo.cli import main

    return main(["bench", "--device", "sd855", *map(str, args)], prog="python -m slimocr_zoo.bench")


def det_only(env, phone, *more, out="r.json"):
    return bench("--serial", phone.serial, "--runtime", env["bin"], "--configs", "0", "--no-e2e", "--force",
                 "--out", env["tmp"] / out, *FAST, *more)


def test_x86_phone_times_models_and_end_to_end(env, phones, capsys):
    phone = phones(abi="x86_64")
    rc = bench("--serial", phone.serial, "--runtime", env["bin"], "--force", "--images", env["images"],
               "--configs", "MobileNetV3_DB+ch_PP-OCRv4_rec", "--quick", "--out", env["tmp"] / "r.json",
               "--e2e-binary", env["ocr"], *FAST)
    assert rc == 0, capsys.readouterr()
    doc = json.loads((env["tmp"] / "r.json").read_text())
    assert doc["device"]["emulated"] is True and doc["device"]["target"] == "x86"
    assert doc["device"]["props"]["ro.board.platform"] == "msmnile"
    assert any("x86_64" in f for f in doc["device"]["forced"])
    assert doc["protocol"]["runtime_version"] == "v2.13-rc" and doc["protocol"]["core_mask"] == "80"
    m, rec = doc["models"]
    assert rec["id"] == "ch_PP-OCRv4_rec" and rec["input_shape"][2] == 48
    assert m["artifact"] == "nb-x86" and m["input_shape"][:2] == [1, 3] and len(m["samples_ms"]) == 2
    assert m["stats"]["min"] <= m["stats"]["median"] <= m["stats"]["max"] and m["init_ms"] > 0
    assert m["thermal_before"]["cooled"] and m["thermal_before"]["max_c"] == 35.0
    # what ran on the phone: pinned to the prime core, with the protocol's flags
    runs = [c for c in phone.commands if "--optimized_model_file" in c]
    assert runs and all("taskset 80 " in c and "--backend=x86" in c and "--threads=1" in c for c in runs)
    assert len([c for c in runs if "--warmup=0 --repeats=2" in c]) == 4  # 2 models x 2 invocations
    (e,) = doc["e2e"]
    shape_ms = {(x["model"], tuple(x["shape"])): x["avg_ms"] for x in e["shape_ms"]}
    (plan,) = e["plan"]
    assert len(plan["rec_shapes"]) == e["boxes_per_image"][0] > 0  # the real detector found these boxes
    want = shape_ms[("det", tuple(plan["det_shape"]))] + sum(shape_ms[("rec", tuple(s))] for s in plan["rec_shapes"])
    assert e["samples_ms"][0] == pytest.approx(want)
    # and PaddleOCR's own demo program, timed by itself on the phone
    d = e["direct"]
    assert len(d["samples_ms"]) == 1 and d["samples_ms"][0] > 0 and d["texts_per_image"][0] > 0
    assert [c for c in phone.commands if "/ocr_db_crnn " in c and "ppocr_keys.txt" in c]
    out = capsys.readouterr().out
    assert "EMULATED DEVICE" in out and "NOT a Snapdragon 855" in out
    # --resume: nothing finished is run again
    n = len(phone.commands)
    assert bench("--serial", phone.serial, "--runtime", env["bin"], "--force", "--images", env["images"], "--resume",
                 "--configs", "MobileNetV3_DB+ch_PP-OCRv4_rec", "--quick", "--out", env["tmp"] / "r.json", *FAST) == 0
    assert not [c for c in phone.commands[n:] if "--optimized_model_file" in c]


def test_profile_mismatch_is_refused_and_a_mi9_passes(env, phones, capsys, adb_server):
    x86 = phones(abi="x86_64")
    rc = bench("--serial", x86.serial, "--runtime", env["bin"], "--configs", "0", *FAST)
    err = capsys.readouterr().err
    assert rc == 1 and "ro.product.cpu.abi is 'x86_64'" in err and "--force" in err
    assert not [c for c in x86.commands if "benchmark_bin" in c]  # nothing was pushed or run
    from slimocr_zoo.devices import device
    from slimocr_zoo.devices.adb import Adb
    from slimocr_zoo.devices.android import Phone, pick_serials

    mi9 = phones()
    adb = Adb()
    (serial,) = pick_serials(adb, mi9.serial)
    dev = Phone(adb, serial, device("sd855"))
    props = dev.props()
    assert dev.check(props, force=False) == [] and dev.target(props) == "arm"
    wrong = phones(props={"ro.board.platform": "kona"})
    from slimocr_zoo.errors import DeviceError

    with pytest.raises(DeviceError, match="ro.board.platform is 'kona'"):
        Phone(adb, pick_serials(adb, wrong.serial)[0], device("sd855")).check(Phone(adb, wrong.serial, {}).props(), False)


def test_unauthorized_message(env, phones, capsys):
    p = phones(auth="reject")
    det_only(env, p)
    err = capsys.readouterr().err
    assert "unauthorized" in err and "Allow USB debugging" in err


def test_offline_device(env, phones, capsys):
    p = phones(abi="x86_64")
    p.faults["silent"] = True  # takes the TCP connection, never answers CNXN: adb lists it offline
    assert det_only(env, p) == 1
    err = capsys.readouterr().err
    assert f"{p.serial} is offline: reconnect it" in err


def test_storage_full(env, phones, capsys):
    p = phones(abi="x86_64", free_kb=100)
    assert det_only(env, p) == 1
    err = capsys.readouterr().err
    assert "MiB free" in err and "free some space" in err
    assert not (env["tmp"] / "r.json").exists() or "stats" not in (env["tmp"] / "r.json").read_text()


def _fake_bin(env, body):
    b = env["tmp"] / "fake_bin"
    b.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'benchmark_bin version v2.13-rc'; exit 0; fi\n" + body)
    b.chmod(0o755)
    return b


def test_crashing_binary_is_an_error_that_keeps_going(env, phones, capsys):
    p = phones(abi="x86_64")
    b = _fake_bin(env, "echo 'loading model' ; kill -SEGV $$\n")
    rc = bench("--serial", p.serial, "--runtime", b, "--configs", "0", "--no-e2e", "--force", "--out",
               env["tmp"] / "r.json", *FAST)
    err = capsys.readouterr().err
    assert rc == 1 and "crashed (SIGSEGV)" in err
    m = model(env["tmp"] / "r.json", "MobileNetV3_DB")
    assert "loading model" in m["failed"] and "stats" not in m


def test_malformed_output_shows_the_lines(env, phones, capsys):
    p = phones(abi="x86_64")
    b = _fake_bin(env, "echo '======= Perf Info ======='; echo 'Time(unit: ms):'; echo 'init  = 3.1'; echo 'avg = fast'\n")
    rc = bench("--serial", p.serial, "--runtime", b, "--configs", "0", "--no-e2e", "--force", "--out",
               env["tmp"] / "r.json", *FAST)
    assert rc == 1
    m = model(env["tmp"] / "r.json", "MobileNetV3_DB")
    assert "printed no first/min/max/avg time" in m["failed"] and "avg = fast" in m["failed"]


def test_version_mismatch(env, phones, capsys):
    p = phones(abi="x86_64")
    b = env["tmp"] / "old_bin"
    b.write_text(env["bin"].read_text().replace("return f\"v{m.group(1)}", "return 'v2.10'  # f\"v{m.group(1)}"))
    b.chmod(0o755)
    assert det_only(env, p, "--runtime", b) == 0
    m = model(env["tmp"] / "r.json", "MobileNetV3_DB")
    assert "built by opt v2.13-rc, the phone's benchmark_bin is v2.10" in m["skipped"]


def test_connection_drop_keeps_finished_entries_and_resumes(env, phones, capsys):
    p = phones(abi="x86_64")
    args = ["--serial", p.serial, "--runtime", env["bin"], "--configs", "MobileNetV3_DB+ch_PP-OCRv4_rec", "--no-e2e",
            "--force",
            "--out", env["tmp"] / "r.json", *FAST]
    # the cable is pulled while the 2nd model runs, and the phone stays away
    p.faults.update({"drop_on": "--optimized_model_file=/data/local/tmp/slimocr_zoo/ch_PP-OCRv4_rec",
                     "stay_down": True})
    rc = bench(*args)
    err = capsys.readouterr().err
    assert rc == 1 and "--resume" in err
    doc = json.loads((env["tmp"] / "r.json").read_text())
    done = {m["id"] for m in doc["models"] if "stats" in m}
    assert "MobileNetV3_DB" in done and "ch_PP-OCRv4_rec" not in done
    p.faults.clear()
    n = len(p.commands)
    assert bench(*args, "--resume") == 0
    ran = [c for c in p.commands[n:] if "--optimized_model_file" in c]
    assert ran and all("ch_PP-OCRv4_rec" in c for c in ran)
    doc = json.loads((env["tmp"] / "r.json").read_text())
    assert {m["id"] for m in doc["models"] if "stats" in m} >= {"MobileNetV3_DB", "ch_PP-OCRv4_rec"}


def test_cooldown_waits_for_a_hot_phone_and_a_user_profile(env, phones, monkeypatch):
    profile = env["tmp"] / "devices.json"
    from slimocr_zoo.devices import device

    mine = {**device("sd855"), "id": "mi9-fast-poll", "expect": {"ro.product.cpu.abi": "x86_64"},
            "thermal": {"zones": "/sys/class/thermal/thermal_zone*/temp", "cooldown_below_c": 45,
                        "cooldown_max_s": 20, "poll_s": 0.2}}
    profile.write_text(json.dumps({"devices": [mine]}))
    monkeypatch.setenv("SLIMOCR_ZOO_DEVICES", str(profile))
    p = phones(abi="x86_64")
    p.set_temp(80.0, for_seconds=1.0)
    from slimocr_zoo.cli import main

    assert main(["bench", "--device", "mi9-fast-poll", "--serial", p.serial, "--runtime", str(env["bin"]), "--configs", "0",
                 "--no-e2e", "--out", str(env["tmp"] / "r.json"), *FAST]) == 0  # the profile matches: no --force
    m = model(env["tmp"] / "r.json", "MobileNetV3_DB")
    t = m["thermal_before"]
    assert t["cooled"] and t["start_max_c"] == 80.0 and t["waited_s"] > 0.1 and t["max_c"] <= 45 and not [n for n in m["notes"] if "HOT" in n]
    # a phone that stays hot: the run goes on after the limit, with a note
    p.set_temp(80.0)
    p.set_throttled(0.5)
    assert main(["bench", "--device", "mi9-fast-poll", "--serial", p.serial, "--runtime", str(env["bin"]), "--configs", "0",
                 "--no-e2e", "--cooldown-max", "0.3", "--out", str(env["tmp"] / "r2.json"), *FAST]) == 0
    m = model(env["tmp"] / "r2.json", "MobileNetV3_DB")
    assert not m["thermal_before"]["cooled"]
    assert any(n.startswith("HOT: 80.0 C") for n in m["notes"]) and any("throttled" in n for n in m["notes"])


def test_several_phones_in_parallel(env, phones, capsys):
    a, b = phones(abi="x86_64"), phones(abi="x86_64")
    rc = bench("--serial", f"{a.serial},{b.serial}", "--runtime", env["bin"], "--configs", "0", "--no-e2e", "--force",
               *FAST)
    assert rc == 0, capsys.readouterr().err
    for p in (a, b):
        f = env["tmp"] / f"benchmarks/results/bench-sd855-{p.serial.replace(':', '_')}.json"
        doc = json.loads(f.read_text())
        assert doc["device"]["serial"] == p.serial and "stats" in doc["models"][0]
        assert doc["models"][1] == {"id": "MobileNetV3_CRNN", "skipped": doc["models"][1]["skipped"]}
        assert "Paddle Lite x86 has no lstm kernel" in doc["models"][1]["skipped"]  # why, not just "missing"
        assert [c for c in p.commands if "--optimized_model_file" in c]


def test_a_model_added_by_the_user_is_benchmarked_on_the_phone(env, phones, capsys, monkeypatch):
    """slimocr-zoo add, then the phone's bench with DET+REC naming it: nothing typed by hand."""
    import shutil

    from slimocr_zoo import load
    from slimocr_zoo.cli import main

    nb = env["tmp"] / "mine" / "det.nb"
    nb.parent.mkdir()
    shutil.copy(load("MobileNetV3_DB", format="nb", target="x86", offline=True).files["model.nb"], nb)
    man = env["tmp"] / "my.json"
    assert main(["add", str(nb), "--id", "my_det", "--task", "det", "--like", "MobileNetV3_DB",
                 "--manifest", str(man)]) == 0
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(man))
    phone = phones(abi="x86_64")
    rc = bench("--serial", phone.serial, "--runtime", env["bin"], "--configs", "my_det+ch_PP-OCRv4_rec", "--no-e2e",
               "--force", "--out", env["tmp"] / "mine.json", *FAST)
    assert rc == 0, capsys.readouterr()
    got = model(env["tmp"] / "mine.json", "my_det")
    assert got["artifact"] == "nb-x86" and got["stats"]["median"] > 0
