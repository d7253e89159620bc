"""A threaded loopback HTTP server for a mirror directory, with Range support and fault injection.

Faults are queued per path and consumed one per request (``times=None``: forever):
  reset N    send N body bytes, then reset the connection (RST)
  short N    send N body bytes of a longer Content-Length, then close
  status C   answer with HTTP status C (503, 404, ...)
  flip       flip one byte in the middle of the body
  stall S    send the headers and 1 KiB, then go silent for S seconds
  norange    ignore the Range header (answer 200 with the whole body)
  slow BPS   send at most BPS bytes per second
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *a):  # quiet
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head):
        m = self.server.mirror
        rel = unquote(urlparse(self.path).path).lstrip("/")
        fault = m._take_fault(rel)
        kind, arg = fault if fault else (None, None)
        rng = self.headers.get("Range")
        rec = {"path": rel, "range": rng, "status": None, "sent": 0}
        m.requests.append(rec)
        if kind == "status":
            return self._plain(rec, int(arg))
        f = (m.root / rel)
        if not f.is_file() or ".." in Path(rel).parts:
            return self._plain(rec, 404)
        if kind is None:  # the common case, served like a real static server: sendfile from disk
            return self._sendfile(rec, f, rng, head)
        data = f.read_bytes()
        if kind == "flip":
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        start = 0
        if rng and kind != "norange" and not m.ignore_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                return self._plain(rec, 416)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            rec["status"] = 206
        else:
            self.send_response(200)
            rec["status"] = 200
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if head:
            return
        try:
            self._body(rec, body, kind, arg)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _sendfile(self, rec, f, rng, head):
        size = f.stat().st_size
        start = 0
        if rng and not self.server.mirror.ignore_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= size:
                return self._plain(rec, 416)
            rec["status"] = 206
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            rec["status"] = 200
            self.send_response(200)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if head:
            return
        self.wfile.flush()
        try:
            with open(f, "rb") as fh:
                rec["sent"] += self.connection.sendfile(fh, offset=start)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _body(self, rec, body, kind, arg):
        w = self.wfile
        if kind in ("reset", "short"):
            n = int(arg)
            w.write(body[:n])
            w.flush()
            rec["sent"] += n
            if kind == "reset":  # SO_LINGER 0: close() sends RST instead of FIN
                time.sleep(0.3)  # let the client read what was sent: an RST discards unread data
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if kind == "stall":
            w.write(body[:1024])
            w.flush()
            rec["sent"] += 1024
            time.sleep(float(arg))
            self.close_connection = True
            return
        step = 64 * 1024
        rate = float(arg) if kind == "slow" else None
        for i in range(0, len(body), step):
            chunk = body[i:i + step]
            w.write(chunk)
            rec["sent"] += len(chunk)
            if rate:
                w.flush()
                time.sleep(len(chunk) / rate)

    def _plain(self, rec, code):
        rec["status"] = code
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class MirrorServer:
    def __init__(self, root):
        self.root = Path(root)
        self.requests = []
        self.ignore_range = False
        self._faults = defaultdict(list)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.mirror = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def fault(self, path, kind, arg=None, times=1):
        with self._lock:
            self._faults[path].append([kind, arg, times])

    def _take_fault(self, path):
        with self._lock:
            q = self._faults.get(path)
            if not q:
                return None
            kind, arg, times = q[0]
            if times is not None:
                q[0][2] -= 1
                if q[0][2] <= 0:
                    q.pop(0)
            return kind, arg

    def bytes_sent(self, path):
        return sum(r["sent"] for r in self.requests if r["path"] == path)

    def gets(self, path):
        return [r for r in self.requests if r["path"] == path]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()


if __name__ == "__main__":  # serve a directory by hand: python tests/httpmirror.py DIR
    import sys

    with MirrorServer(sys.argv[1] if len(sys.argv) > 1 else os.getcwd()) as s:
        print(s.url, flush=True)
        threading.Event().wait()
