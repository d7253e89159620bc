"""Several processes and Ctrl-C: one transfer, resumable state, nothing half-written."""
import os
import signal
import subprocess
import sys
import time

import pytest

import slimocr_zoo

PARAMS = "PP-OCRv4_rec/inference.pdiparams"  # 10.8 MB


def _load_cmd(model, mirror_url):
    code = (f"import slimocr_zoo; m = slimocr_zoo.load({model!r}, mirror={mirror_url!r}, quiet=True); "
            "print(m.files)")
    return [sys.executable, "-c", code]


@pytest.mark.slow
def test_four_processes_one_transfer(mirror, zoo_env):
    mirror.fault(PARAMS, "slow", 20_000_000)  # ~0.5 s: long enough for all four to collide
    procs = [subprocess.Popen(_load_cmd("ch_PP-OCRv4_rec", mirror.url), env=os.environ.copy(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    size = slimocr_zoo.info("ch_PP-OCRv4_rec").artifact("paddle").files[1].size
    assert len(mirror.gets(PARAMS)) == 1
    assert mirror.bytes_sent(PARAMS) == size
    assert len({o[0] for o in outs}) == 1  # all four got the same paths


@pytest.mark.slow
def test_sigint_leaves_resumable_partial_then_resumes(mirror, zoo_env):
    mirror.fault(PARAMS, "slow", 2_000_000)  # ~5 s for the whole file
    final = zoo_env / "files" / PARAMS
    part = final.with_name(final.name + ".incomplete")
    # the child as a terminal starts it: Ctrl-C at its default. A child inherits an ignored SIGINT, and
    # the suite run in the background (`nohup make test &` from a script: the shell ignores SIGINT and
    # SIGQUIT for it) has it ignored: the child would then finish its download instead of stopping
    proc = subprocess.Popen(_load_cmd("ch_PP-OCRv4_rec", mirror.url), env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 30
    while time.time() < deadline and not (part.exists() and part.stat().st_size > 1_000_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err[-2000:]
    assert not final.exists()  # nothing half-written in the cache
    have = part.stat().st_size
    assert 1_000_000 <= have < 10_766_823

    m = slimocr_zoo.load("ch_PP-OCRv4_rec", mirror=mirror.url)
    resumed = mirror.gets(PARAMS)[-1]
    assert resumed["range"] == f"bytes={have}-" and resumed["status"] == 206
    assert resumed["sent"] == 10_766_823 - have  # only the remainder crossed the wire
    assert m.files["inference.pdiparams"].stat().st_size == 10_766_823
    assert not part.exists()


def test_cli_ctrl_c_message(monkeypatch, capsys):
    from slimocr_zoo import cli

    def boom(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_list", boom)
    assert cli.main(["list"]) == 130
    assert "resume" in capsys.readouterr().err
