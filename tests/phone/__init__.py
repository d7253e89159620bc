"""An emulated Android phone for the benchmark's tests: the ADB device side over TCP on loopback.

There is no adbd here, so this stands in for the phone. It is reached with the real `adb`
client (`adb connect 127.0.0.1:PORT`), answers getprop like a Xiaomi Mi 9 (or declares an x86_64
ABI so that its benchmark_bin can run x86 .nb files with paddlelite), runs shell commands with
/bin/sh inside a sandbox root that holds its /data, /sys and /proc, and can inject faults.

    python -m tests.phone --abi x86_64       # prints the port; then adb connect 127.0.0.1:PORT
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import adbd

HERE = Path(__file__).resolve().parent

MI9 = {
    "ro.product.name": "cepheus", "ro.product.model": "MI 9", "ro.product.device": "cepheus",
    "ro.product.brand": "Xiaomi", "ro.product.manufacturer": "Xiaomi",
    "ro.product.vendor.brand": "Xiaomi", "ro.product.vendor.device": "cepheus", "ro.product.vendor.model": "MI 9",
    "ro.board.platform": "msmnile", "ro.hardware": "qcom", "ro.soc.model": "SM8150",
    "ro.product.cpu.abi": "arm64-v8a", "ro.product.cpu.abilist": "arm64-v8a,armeabi-v7a,armeabi",
    "ro.build.version.release": "10", "ro.build.version.sdk": "29",
}
# SD855: 4 little cores (1.78 GHz), 3 big (2.42 GHz), 1 prime (2.84 GHz); kHz as in cpufreq
MAX_KHZ = [1785600] * 4 + [2419200] * 3 + [2841600]
_ROOTS = ("data", "sys", "proc", "system", "sdcard", "vendor")
_ABS = re.compile(r"(?<![\w.\-/])/(" + "|".join(_ROOTS) + r")(?=/|\s|$|['\";])")


class Phone:
    """One emulated device. `faults` can be changed while it runs."""

    def __init__(self, root=None, abi="arm64-v8a", props=None, auth="accept", free_kb=20_000_000,
                 python=sys.executable):
        self.root = Path(root or tempfile.mkdtemp(prefix="phone-")).resolve()
        self.props = {**MI9, **(props or {})}
        if abi != "arm64-v8a":
            self.props.update({"ro.product.cpu.abi": abi, "ro.product.cpu.abilist": abi,
                               "ro.kernel.qemu": "1"})  # how Android marks an emulator
        self.auth = auth  # none | accept (the user taps Allow) | reject (unauthorized)
        self.free_kb = free_kb
        self.python = python
        self.faults: dict = {}
        self.commands: list = []  # every shell command, as the client sent it
        self._server = None
        self._conns: list = []
        self._make_sandbox()

    # -- sandbox
    def _make_sandbox(self) -> None:
        r = self.root
        (r / "data/local/tmp").mkdir(parents=True, exist_ok=True)
        bin_ = r / "system/bin"
        bin_.mkdir(parents=True, exist_ok=True)
        self.write_props()
        _script(bin_ / "getprop", f"""#!/bin/sh
if [ $# -eq 0 ]; then sed 's/^\\([^=]*\\)=\\(.*\\)$/[\\1]: [\\2]/' "{r}/props"; exit 0; fi
v=$(grep -m1 "^$1=" "{r}/props" | cut -d= -f2-); echo "${{v:-$2}}"
""")
        _script(bin_ / "taskset", """#!/bin/sh
# toybox taskset MASK CMD...: the mask must name cores this phone has (8)
mask=$((0x$1)); shift
if [ $mask -le 0 ] || [ $mask -ge 256 ]; then echo "taskset: sched_setaffinity: Invalid argument" >&2; exit 1; fi
exec "$@"
""")
        _script(bin_ / "df", f"""#!/bin/sh
free=$(cat "{r}/free_kb")
echo "Filesystem      1K-blocks     Used Available Use% Mounted on"
echo "/dev/block/dm-5 115397500 $((115397500 - free)) $free  50% /data"
""")
        self.set_free_kb(self.free_kb)
        for i, khz in enumerate(MAX_KHZ):
            d = r / f"sys/devices/system/cpu/cpu{i}/cpufreq"
            d.mkdir(parents=True, exist_ok=True)
            for name in ("cpuinfo_max_freq", "scaling_max_freq", "scaling_cur_freq"):
                (d / name).write_text(f"{khz}\n")
        for i, kind in enumerate(("cpu-1-0-usr", "cpu-1-3-usr")):
            d = r / f"sys/class/thermal/thermal_zone{i}"
            d.mkdir(parents=True, exist_ok=True)
            (d / "type").write_text(kind + "\n")
        self.set_temp(35.0)
        (r / "proc").mkdir(exist_ok=True)
        (r / "proc/cpuinfo").write_text("Processor\t: AArch64 Processor rev 13 (aarch64)\n"
                                        "Hardware\t: Qualcomm Technologies, Inc SM8150\n")

    def write_props(self) -> None:
        (self.root / "props").write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))

    def set_free_kb(self, kb: int) -> None:
        self.free_kb = kb
        (self.root / "free_kb").write_text(f"{kb}\n")

    def set_temp(self, celsius: float, for_seconds: float = 0, then: float = 35.0) -> None:
        """Thermal zones read `celsius` (millidegrees, as the kernel writes them), then `then` after a while."""
        for z in (self.root / "sys/class/thermal").glob("thermal_zone*"):
            (z / "temp").write_text(f"{int(celsius * 1000)}\n")
        if for_seconds:
            threading.Timer(for_seconds, self.set_temp, args=(then,)).start()

    def set_throttled(self, fraction: float) -> None:
        for i, khz in enumerate(MAX_KHZ):
            (self.root / f"sys/devices/system/cpu/cpu{i}/cpufreq/scaling_cur_freq").write_text(f"{int(khz * fraction)}\n")

    def local(self, path: str) -> Path:
        p = Path("/" + path.lstrip("/"))
        return self.root / p.relative_to("/")

    def rewrite(self, cmd: str) -> str:
        return _ABS.sub(lambda m: str(self.root) + m.group(0), cmd)

    # -- files for sync:
    def stat(self, path):
        p = self.local(path)
        if not p.exists():
            return None
        st = p.stat()
        return st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime)

    def listdir(self, path):
        p = self.local(path)
        return [(c.name, self.stat(str(Path(path) / c.name))) for c in sorted(p.iterdir())] if p.is_dir() else []

    def read_file(self, path):
        p = self.local(path)
        return p.read_bytes() if p.is_file() else None

    def write_file(self, path, data: bytes, mode: int):
        if len(data) > self.free_kb * 1024:
            return "write failed: No space left on device"
        p = self.local(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            p.chmod(mode or 0o644)
        except OSError as e:
            return f"{e.strerror}"
        self.set_free_kb(self.free_kb - len(data) // 1024)
        return None

    # -- services
    def service(self, name: str):
        if name.startswith("sync:"):
            return lambda s: adbd.sync_service(self, s)
        if name.startswith("shell"):
            opts, _, cmd = name.partition(":")
            v2 = "v2" in opts.split(",")
            return lambda s: self._shell(s, cmd, v2)
        return None

    def _shell(self, s, cmd: str, v2: bool) -> None:
        self.commands.append(cmd)
        drop = self.faults.get("drop_on")
        if drop and drop in cmd:  # the cable is pulled while this command runs
            self.faults.pop("drop_on")
            time.sleep(self.faults.pop("drop_after", 0.2))
            if self.faults.pop("stay_down", False):
                self.faults["refuse"] = True
            self.disconnect()
            return
        env = {"PATH": f"{self.root}/system/bin:/usr/bin:/bin", "HOME": str(self.root / "data/local/tmp"),
               "TMPDIR": str(self.root / "data/local/tmp"), "LANG": "C.UTF-8", "PHONE_ROOT": str(self.root)}
        proc = subprocess.Popen(["/bin/sh", "-c", self.rewrite(cmd) if cmd else "true"], cwd=self.root,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE if v2 else subprocess.STDOUT, env=env,
                                start_new_session=True)
        lock = threading.Lock()

        def pump(pipe, kind):
            for chunk in iter(lambda: pipe.read1(65536), b""):
                with lock:
                    s.write(adbd.shell_packet(kind, chunk) if v2 else chunk)

        threads = [threading.Thread(target=pump, args=(proc.stdout, adbd.STDOUT), daemon=True)]
        if v2:
            threads.append(threading.Thread(target=pump, args=(proc.stderr, adbd.STDERR), daemon=True))
        for t in threads:
            t.start()
        try:
            while proc.poll() is None:
                if s.closed or s.conn.dead:  # the client went away: stop what it started
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise adbd.Closed()
                time.sleep(0.02)
            for t in threads:
                t.join()
            if v2:
                rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
                s.write(adbd.shell_packet(adbd.EXIT, bytes([rc & 0xFF])))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)

    # -- server
    def start(self, port: int = 0) -> int:
        self._server = socket.create_server(("127.0.0.1", port))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="phone-accept").start()
        return self.port

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            if self.faults.get("refuse"):
                sock.close()
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = adbd.Connection(self, sock)
            self._conns.append(c)
            threading.Thread(target=c.serve, daemon=True, name="phone-conn").start()

    def disconnect(self) -> None:
        for c in self._conns:
            c.dead = True
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._conns.clear()

    def stop(self) -> None:
        if self._server:
            self._server.close()
        self.disconnect()


def benchmark_bin(path: Path, python: str = sys.executable) -> Path:
    """Write the emulated phone's benchmark_bin (a Python program with its interpreter in the #!)."""
    return _program(path, "benchmark_bin.py", python)


def ocr_db_crnn(path: Path, python: str = sys.executable) -> Path:
    """Write the emulated phone's ocr_db_crnn (PaddleOCR's Lite demo program)."""
    return _program(path, "ocr_db_crnn.py", python)


def _program(path: Path, source: str, python: str) -> Path:
    path.write_text(f"#!{python}\n" + (HERE / source).read_text(encoding="utf-8"), encoding="utf-8")
    path.chmod(0o755)
    return path


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.phone", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--abi", default="x86_64")
    p.add_argument("--root")
    p.add_argument("--auth", default="accept", choices=["none", "accept", "reject"])
    p.add_argument("--benchmark-bin", type=Path, help="also write the emulated benchmark_bin here")
    p.add_argument("--ocr-db-crnn", type=Path, help="also write the emulated ocr_db_crnn here")
    a = p.parse_args(argv)
    phone = Phone(a.root, abi=a.abi, auth=a.auth)
    port = phone.start(a.port)
    if a.benchmark_bin:
        benchmark_bin(a.benchmark_bin)
    if a.ocr_db_crnn:
        ocr_db_crnn(a.ocr_db_crnn)
    print(port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        phone.stop()
    return 0

