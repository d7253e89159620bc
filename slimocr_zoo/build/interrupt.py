"""Ctrl-C during a build stops it, even where a library swallowed the KeyboardInterrupt: paddle's
quantization pass (reading each scale) and PaddleSlim's quant_post (which then starts again) run
under bare ``except:``. While ``watching``, the signal is also remembered; ``check()`` raises it
again, each training step and after each recipe. Seen: one CI run in several trained on after a
SIGINT that arrived in that window. SIGTERM (``kill``) stops a build the same way: its staging
folder is removed, where the default action left it behind."""
from __future__ import annotations

import contextlib
import signal
import threading

_state = {"seen": False, "depth": 0}


def _on_sigint(signum, frame):
    _state["seen"] = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def watching():
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    if not _state["depth"]:
        _state["seen"] = False
    _state["depth"] += 1
    old = {sig: signal.signal(sig, _on_sigint) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _state["depth"] -= 1


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came while watching, whoever caught it since."""
    if _state["seen"]:
        raise KeyboardInterrupt
