"""Third-party output into a log file while our own stays on the console.

Paddle's C++ log, PaddleSlim's loggers, warnings and prints write to the process's stdout and
stderr; during ``captured(path)`` those file descriptors point at the log file. Our progress bars
(``tqdm(file=console())``) and the ``slimocr_zoo`` logger keep writing to the terminal.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Iterator, Optional, TextIO

_console: Optional[TextIO] = None


def console() -> TextIO:
    """The terminal: where progress bars go, also while output is captured."""
    return _console or sys.stderr


@contextlib.contextmanager
def captured(path: Path, enabled: bool = True, append: bool = False) -> Iterator[Path]:
    """Send everything written to fds 1 and 2 to ``path`` (replaced, or appended to) until the block ends."""
    global _console
    if not enabled or _console is not None:  # nested: the outer capture holds
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    for s in (sys.stdout, sys.stderr):
        s.flush()
    saved = [os.dup(1), os.dup(2)]
    zoo = logging.getLogger("slimocr_zoo")
    handler, propagate = None, zoo.propagate
    try:
        _console = os.fdopen(os.dup(2), "w", buffering=1)
        handler = logging.StreamHandler(_console)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        zoo.addHandler(handler)
        zoo.propagate = False
        with open(path, "a" if append else "w") as f:
            os.dup2(f.fileno(), 1)
            os.dup2(f.fileno(), 2)
        yield path
    finally:
        for s in (sys.stdout, sys.stderr):
            s.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        if handler is not None:
            zoo.removeHandler(handler)
        zoo.propagate = propagate
        if _console is not None:
            _console.close()
        _console = None
