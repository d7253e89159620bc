"""The real `adb` client, driven as a subprocess: device listing, shell with exit codes, push."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from typing import Dict, List, Optional

from .. import settings
from ..errors import DeviceError

INSTALL = ("install it (Debian/Ubuntu: apt-get install adb; macOS: brew install android-platform-tools; "
           "or Android's platform-tools) or point SLIMOCR_ZOO_ADB at it")
STATES = {
    "offline": "is offline: reconnect it (unplug/replug, or `adb reconnect`), then run again",
    "unauthorized": "is unauthorized: unlock the phone and accept the 'Allow USB debugging' prompt "
                    "(if none shows: `adb kill-server`, replug)",
    "no permissions": "cannot be opened (no permissions): set up udev rules for the phone, see "
                      "https://developer.android.com/studio/run/device",
}


@dataclass
class Attached:
    serial: str
    state: str
    info: Dict[str, str]


class Adb:
    def __init__(self, exe: Optional[str] = None, timeout: float = 600):
        self.exe = exe or settings.adb() or shutil.which("adb")
        if not self.exe or not os.access(self.exe, os.X_OK):
            raise DeviceError(f"adb not found: {INSTALL}")
        self.timeout = timeout

    def run(self, *args: str, serial: Optional[str] = None, timeout: Optional[float] = None,
            check: bool = True) -> subprocess.CompletedProcess:
        cmd = [self.exe, *(["-s", serial] if serial else []), *args]
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"`{shlex.join(cmd[1:])}` did not finish in {timeout or self.timeout:.0f} s: "
                              f"is the device still connected? (`adb devices`)") from None
        if check and p.returncode != 0:
            raise self.error(p, cmd)
        return p

    @staticmethod
    def error(p, cmd) -> DeviceError:
        err = (p.stderr or b"").decode(errors="replace").strip() or (p.stdout or b"").decode(errors="replace").strip()
        serial = cmd[2] if len(cmd) > 2 and cmd[1] == "-s" else "the device"
        for state, what in STATES.items():
            if f"device {state}" in err or f"device '{serial}' {state}" in err or err.endswith(state):
                return DeviceError(f"{serial} {what}")
        if "not found" in err and "device" in err:
            return DeviceError(f"{serial} is not attached (`adb devices` does not list it): plug it in, or "
                               f"`adb connect HOST:PORT` for a device over TCP")
        if "no devices" in err:
            return DeviceError("no device attached: plug in the phone with USB debugging on (`adb devices`)")
        if "more than one" in err:
            return DeviceError("several devices are attached: choose one with --serial")
        if "closed" in err or "connection reset" in err.lower():
            return DeviceError(f"{serial}: the connection dropped ({err.splitlines()[-1]}); reconnect and "
                               f"rerun with --resume")
        return DeviceError(f"`adb {shlex.join(cmd[1:])}` failed ({p.returncode}): {err[-600:]}")

    def devices(self) -> List[Attached]:
        out = self.run("devices", "-l", timeout=30).stdout.decode(errors="replace")
        found = []
        for line in out.splitlines()[1:]:
            m = re.match(r"(\S+)\s+(no permissions.*?|\S+)(?:\s+(.*))?$", line.strip())
            if not m or line.startswith("*"):
                continue
            info = dict(kv.split(":", 1) for kv in (m.group(3) or "").split() if ":" in kv)
            found.append(Attached(m.group(1), m.group(2).split(" (")[0], info))
        return found

    def connect(self, serial: str, wait_s: float = 10) -> None:
        """adb connect, then wait for the handshake (a first connection asks the phone to authorize us)."""
        import time

        p = self.run("connect", serial, timeout=30, check=False)
        out = (p.stdout + p.stderr).decode(errors="replace")
        if "cannot connect" in out or "failed to connect" in out:
            if {d.serial: d.state for d in self.devices()}.get(serial) == "offline":  # it answered TCP, not ADB
                raise DeviceError(f"{serial} {STATES['offline']}")
            raise DeviceError(f"adb connect {serial} failed: {out.strip()}")
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            states = {d.serial: d.state for d in self.devices()}
            if states.get(serial) in ("device", "unauthorized"):
                return
            time.sleep(0.2)

    def shell(self, serial: str, command: str, timeout: Optional[float] = None):
        """(exit code, stdout, stderr) of a command on the device: the real exit code (shell v2)."""
        p = self.run("shell", command, serial=serial, timeout=timeout, check=False)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if p.returncode != 0 and err.startswith(("error:", "adb: error")):
            raise self.error(p, [self.exe, "-s", serial, "shell", command])
        return p.returncode, out, err

    def push(self, serial: str, local, remote: str) -> None:
        p = self.run("push", str(local), remote, serial=serial, check=False)
        if p.returncode != 0:
            err = (p.stderr + p.stdout).decode(errors="replace").strip()
            if "No space left" in err:
                raise DeviceError(f"{serial}: no space left on the device for {remote}: free some space "
                                  f"(`adb shell df /data/local/tmp`)")
            raise self.error(p, [self.exe, "-s", serial, "push", str(local), remote])
