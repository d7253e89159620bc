"""A phone behind adb, checked against its profile: identity, storage, thermals, files."""
from __future__ import annotations

import re
import shlex
import time
from pathlib import Path
from typing import Dict, List, Optional

from ..errors import DeviceError
from ..files import sha256_of
from .adb import STATES, Adb

POWER_MODES = {"LITE_POWER_HIGH": 0, "LITE_POWER_LOW": 1, "LITE_POWER_FULL": 2, "LITE_POWER_NO_BIND": 3,
               "LITE_POWER_RAND_HIGH": 4, "LITE_POWER_RAND_LOW": 5}
TARGETS = {"arm64-v8a": "arm", "armeabi-v7a": "arm", "x86_64": "x86", "x86": "x86"}


def pick_serials(adb: Adb, wanted: Optional[str]) -> List[str]:
    """--serial A,B | all | (none: the only device). Devices over TCP are connected first."""
    names = [s for s in (wanted or "").split(",") if s and s != "all"]
    for s in names:
        if re.match(r"^[\w.\-]+:\d+$", s):  # over TCP: connect, or connect again if it went offline
            state = {d.serial: d.state for d in adb.devices()}.get(s)
            if state == "offline":
                adb.run("disconnect", s, timeout=30, check=False)
            if state in (None, "offline"):
                adb.connect(s)
    attached = {d.serial: d for d in adb.devices()}
    if not names:
        ready = [s for s, d in attached.items() if d.state == "device"]
        if not attached:
            raise DeviceError("no device attached: plug in the phone with USB debugging on (`adb devices`), "
                              "or give --serial HOST:PORT for one over TCP")
        if wanted != "all" and len(attached) > 1:
            raise DeviceError(f"several devices are attached ({', '.join(attached)}): choose with --serial "
                              f"SERIAL[,SERIAL...] or --serial all")
        names = ready or list(attached)
    for s in names:
        if s not in attached:
            raise DeviceError(f"{s} is not attached (`adb devices` lists {', '.join(attached) or 'nothing'})")
        if attached[s].state != "device":
            raise DeviceError(f"{s} {STATES.get(attached[s].state, 'is ' + attached[s].state)}")
    return names


class Phone:
    def __init__(self, adb: Adb, serial: str, profile: dict):
        self.adb, self.serial, self.profile = adb, serial, profile
        self.workdir = profile.get("workdir", "/data/local/tmp/slimocr_zoo")

    def sh(self, command: str, timeout: Optional[float] = None, check: bool = True) -> str:
        rc, out, err = self.adb.shell(self.serial, command, timeout=timeout)
        if check and rc != 0:
            raise DeviceError(f"{self.serial}: `{command}` exited {rc}: {(err or out).strip()[-400:]}")
        return out

    def ensure_online(self) -> None:
        p = self.adb.run("get-state", serial=self.serial, timeout=20, check=False)
        state = p.stdout.decode(errors="replace").strip()
        if p.returncode != 0 or state != "device":
            why = (p.stderr.decode(errors="replace").strip() or state or "no answer").splitlines()[-1]
            raise DeviceError(f"{self.serial}: lost the device during the run ({why}): reconnect it "
                              f"(`adb connect`/replug) and rerun with --resume")

    def props(self) -> Dict[str, str]:
        return dict(re.findall(r"^\[([^\]]+)\]: \[(.*)\]$", self.sh("getprop"), re.M))

    def check(self, props: Dict[str, str], force: bool) -> List[str]:
        """The profile's expectations (SoC, ABI); a mismatch is an error unless forced, then a note."""
        wrong = [f"{k} is {props.get(k, '(unset)')!r}, the profile {self.profile['id']} expects {v!r}"
                 for k, v in self.profile.get("expect", {}).items() if props.get(k) != v]
        if wrong and not force:
            raise DeviceError(f"{self.serial} does not match --device {self.profile['id']}: " + "; ".join(wrong)
                              + ". Choose the right profile, add one (SLIMOCR_ZOO_DEVICES), or pass --force")
        return [f"FORCED: {w}" for w in wrong]

    def target(self, props: Dict[str, str]) -> str:
        abi = props.get("ro.product.cpu.abi", "")
        if abi not in TARGETS:
            raise DeviceError(f"{self.serial}: ABI {abi!r} has no Paddle Lite target here (known: {', '.join(TARGETS)})")
        return TARGETS[abi]

    def free_bytes(self) -> int:
        out = self.sh(f"df -k {shlex.quote(self.workdir.rsplit('/', 1)[0])}")
        rows = [r.split() for r in out.strip().splitlines()[1:] if r.split()]
        try:
            return int(rows[-1][3]) * 1024
        except (IndexError, ValueError):
            raise DeviceError(f"{self.serial}: cannot read free storage from `df`: {out.strip()[:200]}") from None

    def ensure_space(self, need: int) -> None:
        free = self.free_bytes()
        if free < need:
            raise DeviceError(f"{self.serial}: {free / 2**20:.1f} MiB free under {self.workdir}, the run needs "
                              f"{need / 2**20:.1f} MiB: free some space on the phone")

    def push(self, local: Path, name: Optional[str] = None):
        """Push once: a file already there with the same sha256 is kept. -> (remote path, sha256).

        ``{sha}`` in the name (default ``stem-{sha}.suffix``) becomes the file's short sha256, so
        different files never overwrite each other and a rerun finds them.
        """
        sha256 = sha256_of(local)
        remote = f"{self.workdir}/" + (name or f"{local.stem}-{{sha}}{local.suffix}").format(sha=sha256[:12])
        rc, out, _ = self.adb.shell(self.serial, f"sha256sum {shlex.quote(remote)} 2>/dev/null")
        if rc == 0 and out.split()[:1] == [sha256]:
            return remote, sha256
        self.sh(f"mkdir -p {shlex.quote(self.workdir)}")
        self.adb.push(self.serial, local, remote)
        return remote, sha256

    def thermal(self) -> dict:
        """Temperatures (deg C) and the watched cores' frequencies (current / max, kHz)."""
        t = self.profile.get("thermal", {})
        zones = t.get("zones", "/sys/class/thermal/thermal_zone*/temp")
        cores = self.profile.get("big_cores", [])
        cmd = f"for f in {zones}; do echo \"$f $(cat $f 2>/dev/null)\"; done; " + "".join(
            f"echo cpu{c} $(cat /sys/devices/system/cpu/cpu{c}/cpufreq/scaling_cur_freq "
            f"/sys/devices/system/cpu/cpu{c}/cpufreq/cpuinfo_max_freq 2>/dev/null); " for c in cores)
        temps, freqs = {}, {}
        for line in self.sh(cmd, check=False).splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].startswith("/") and parts[1].lstrip("-").isdigit():
                v = int(parts[1])
                temps[parts[0]] = v / 1000 if abs(v) > 1000 else float(v)  # millidegrees on most kernels
            elif len(parts) == 3 and parts[0].startswith("cpu"):
                freqs[parts[0]] = [int(parts[1]), int(parts[2])]
        return {"temps_c": temps, "max_c": max(temps.values()) if temps else None, "freq_khz": freqs,
                "throttled": sorted(c for c, (cur, mx) in freqs.items() if mx and cur < 0.9 * mx)}

    def cool_down(self, below_c: float, limit_s: float, poll_s: float) -> dict:
        """Wait until the hottest zone is below `below_c`, at most `limit_s`; what was seen is returned."""
        t0 = time.monotonic()
        seen = self.thermal()
        start = seen["max_c"]
        while seen["max_c"] is not None and seen["max_c"] > below_c and time.monotonic() - t0 < limit_s:
            time.sleep(poll_s)
            seen = self.thermal()
        seen["waited_s"] = round(time.monotonic() - t0, 2)
        seen["start_max_c"] = start
        seen["cooled"] = seen["max_c"] is None or seen["max_c"] <= below_c
        return seen
