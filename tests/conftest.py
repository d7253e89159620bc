import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from httpmirror import MirrorServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SLIMOCR_SHARED_DIR", ROOT.parent / "shared")).resolve()
MODELS = SHARED / "models"


def pytest_collection_modifyitems(config, items):
    import importlib.util

    if importlib.util.find_spec("paddle") is None:  # find, not import: no paddle at collection time
        skip = pytest.mark.skip(reason="paddle extras not installed (pip install 'slimocr-zoo[paddle]')")
        for item in items:
            if "paddle" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def zoo_env(tmp_path, monkeypatch):
    """Every test gets its own empty cache and no user mirror, manifest or offline setting."""
    home = tmp_path / "zoo_home"
    monkeypatch.setenv("SLIMOCR_ZOO_HOME", str(home))
    for var in ("SLIMOCR_ZOO_MIRROR", "SLIMOCR_ZOO_OFFLINE", "SLIMOCR_ZOO_MANIFEST"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SLIMOCR_ZOO_BACKOFF", "0.01")
    monkeypatch.setenv("SLIMOCR_ZOO_READ_TIMEOUT", "2")
    monkeypatch.setenv("SLIMOCR_ZOO_CONNECT_TIMEOUT", "2")
    import slimocr_zoo.registry as reg

    monkeypatch.setattr(reg, "_registered", [])
    yield home


@pytest.fixture(scope="session")
def shared_models():
    if not (MODELS / "ppocr_v1.1_det" / "params").is_file():
        pytest.skip(f"shared models not found at {MODELS} (set SLIMOCR_SHARED_DIR)")
    return MODELS


@pytest.fixture
def mirror(shared_models):
    """A loopback HTTP mirror over ../shared/models, as it is laid out."""
    with MirrorServer(shared_models) as server:
        yield server


@pytest.fixture
def empty_mirror(tmp_path):
    d = tmp_path / "empty_mirror"
    d.mkdir()
    with MirrorServer(d) as server:
        yield server


# -- the emulated phone (tests/phone) and a private adb server

@pytest.fixture(scope="session")
def adb_server(tmp_path_factory):
    """The real adb client's server on its own port, with its own keys; killed at the end."""
    import shutil
    import socket
    import subprocess

    exe = shutil.which("adb")
    if exe is None:
        pytest.skip("adb not installed (make test installs it with apt-get: apt-get install adb)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = {k: os.environ.get(k) for k in ("ANDROID_ADB_SERVER_PORT", "HOME")}
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    os.environ["HOME"] = str(tmp_path_factory.mktemp("adb_home"))  # adb keeps its RSA key in ~/.android
    subprocess.run([exe, "start-server"], check=True, capture_output=True, timeout=60)
    yield exe
    subprocess.run([exe, "kill-server"], capture_output=True, timeout=60)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def phones(adb_server, tmp_path):
    """make(**Phone kwargs) -> a started emulated phone; all are stopped and adb-disconnected after."""
    import subprocess

    from phone import Phone

    made = []

    def make(**kw):
        p = Phone(tmp_path / f"phone{len(made)}", **kw)
        p.start()
        made.append(p)
        return p

    yield make
    for p in made:
        subprocess.run([adb_server, "disconnect", p.serial], capture_output=True, timeout=30)
        p.stop()
