"""What a user meets when the phone side is not ready: in the core suite, no Paddle needed (the
emulated phone speaks ADB in Python; nothing here runs a model)."""
import subprocess

import pytest

from slimocr_zoo.cli import main


def bench(*args):
    return main(["bench", "--device", "sd855", *map(str, args)], prog="python -m slimocr_zoo.bench")


@pytest.fixture
def fake_bin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    b = tmp_path / "benchmark_bin"
    b.write_text("#!/bin/sh\necho never run\n")
    b.chmod(0o755)
    return b


def test_adb_missing(fake_bin, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.delenv("SLIMOCR_ZOO_ADB", raising=False)
    assert bench("--runtime", fake_bin, "--serial", "x") == 1
    err = capsys.readouterr().err
    assert "adb not found: install it (Debian/Ubuntu: apt-get install adb" in err and "Traceback" not in err


def test_no_device_and_several_devices(fake_bin, phones, capsys):
    assert bench("--runtime", fake_bin) == 1
    assert "no device attached" in capsys.readouterr().err
    a, b = phones(abi="x86_64"), phones(abi="x86_64")
    for p in (a, b):
        subprocess.run(["adb", "connect", p.serial], capture_output=True, timeout=30)
    assert bench("--runtime", fake_bin) == 1
    err = capsys.readouterr().err
    assert "several devices are attached" in err and a.serial in err and b.serial in err
    assert not [c for p in (a, b) for c in p.commands if "benchmark_bin" in c]  # nothing pushed, nothing run


def test_runtime_missing(fake_bin, capsys, tmp_path):
    assert bench("--serial", "127.0.0.1:1", "--runtime", tmp_path / "nope") == 1
    assert "no such file" in capsys.readouterr().err
    assert bench("--serial", "127.0.0.1:1") == 1
    err = capsys.readouterr().err
    assert "no benchmark_bin for sd855" in err and "--with_benchmark=ON" in err and "--runtime PATH" in err


def test_unknown_device_profile(capsys):
    assert main(["bench", "--device", "sd85"]) == 1
    assert "did you mean sd855" in capsys.readouterr().err
