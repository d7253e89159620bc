"""`pip install .` (not editable) gives a package whose every module imports and whose command runs.

The wheel is built from a copy of the tracked sources (no stale build/ of the checkout can hide a
missing package), installed with pip into a fresh venv, and used from a folder outside the
checkout. Third-party dependencies come from this interpreter's site-packages, appended to the
venv's path (a .pth file), so nothing is downloaded.
"""
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _source_modules():
    out = []
    for p in sorted((ROOT / "slimocr_zoo").rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


CHECK = r"""
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    try:
        mod = importlib.import_module(name)
        out[name] = ["ok", getattr(mod, "__file__", "")]
    except ModuleNotFoundError as e:
        out[name] = ["missing", e.name]
    except Exception as e:
        out[name] = ["error", f"{type(e).__name__}: {e}"]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        if f.split("/")[0] in ("slimocr_zoo", "manifests") or f in ("setup.cfg", "pyproject.toml", "README.md"):
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    wheels = tmp / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(wheels), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.glob("slimocr_zoo-*.whl")
    env = tmp / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # this interpreter's packages after the venv's own: the dependencies, never this checkout
    (Path(purelib) / "zz_host_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    work = tmp / "elsewhere"
    work.mkdir()
    return {"py": py, "bin": env / "bin", "purelib": Path(purelib), "cwd": work}


def test_every_module_imports_from_the_installed_wheel(installed):
    import importlib.util
    import json

    mods = _source_modules() + ["slimocr_zoo.manifests"]
    r = subprocess.run([str(installed["py"]), "-c", CHECK, *mods], capture_output=True, text=True,
                       cwd=installed["cwd"], timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    for name in mods:
        state, what = got[name]
        if state == "missing" and not what.startswith("slimocr_zoo") and importlib.util.find_spec(what) is None:
            continue  # a third-party extra this interpreter lacks too (the core suite without Paddle)
        assert state == "ok", f"{name}: {state} {what}"
        assert Path(what).is_relative_to(installed["purelib"]), f"{name} imported from {what}, not the wheel"
    assert got["slimocr_zoo.manifests"][0] == "ok"


def test_the_installed_command_lists_the_zoo(installed, tmp_path):
    r = subprocess.run([str(installed["bin"] / "slimocr-zoo"), "list"], capture_output=True, text=True,
                       cwd=installed["cwd"], timeout=120, env={"SLIMOCR_ZOO_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "MobileNetV3_DB" in r.stdout and "SlimTextDet_quat_pruning" in r.stdout and "Configurations" in r.stdout
