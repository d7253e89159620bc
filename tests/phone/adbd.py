"""The device side of the ADB protocol over TCP, enough for the real `adb` client.

Follows AOSP adb/protocol.txt (CNXN, AUTH, OPEN/OKAY/WRTE/CLSE with one write in flight per
stream), shell v2 (`shell,v2,...:` packets id/len/data with an exit packet) and SYNC.TXT
(STAT/LIST/SEND/RECV/DATA/DONE/OKAY/FAIL/QUIT). What a service does is the Phone's business.
"""
from __future__ import annotations

import os
import queue
import socket
import struct
import threading

A_SYNC, A_CNXN, A_OPEN, A_OKAY = 0x434E5953, 0x4E584E43, 0x4E45504F, 0x59414B4F
A_CLSE, A_WRTE, A_AUTH = 0x45534C43, 0x45545257, 0x48545541
A_VERSION = 0x01000001
MAX_PAYLOAD = 256 * 1024
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3

# shell v2 packet ids
STDIN, STDOUT, STDERR, EXIT, CLOSE_STDIN = 0, 1, 2, 3, 4


class Closed(Exception):
    pass


class Stream:
    """One OPENed service: our id, the client's id, incoming bytes, and the write window."""

    def __init__(self, conn, local_id: int, remote_id: int):
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self.incoming: "queue.Queue[bytes | None]" = queue.Queue()
        self.can_write = threading.Semaphore(0)
        self.closed = False
        self._buf = b""

    def write(self, data: bytes) -> None:
        for i in range(0, len(data), self.conn.max_payload):
            if self.closed:
                raise Closed()
            self.conn.send(A_WRTE, self.local_id, self.remote_id, data[i:i + self.conn.max_payload])
            while not self.can_write.acquire(timeout=0.5):  # protocol: wait for OKAY before the next WRTE
                if self.closed or self.conn.dead:
                    raise Closed()

    def read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.incoming.get()
            if chunk is None:
                raise Closed()
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def read_some(self) -> bytes | None:
        if self._buf:
            out, self._buf = self._buf, b""
            return out
        return self.incoming.get()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.send(A_CLSE, self.local_id, self.remote_id)
            self.incoming.put(None)


class Connection:
    def __init__(self, phone, sock: socket.socket):
        self.phone, self.sock = phone, sock
        self.lock = threading.Lock()
        self.streams: dict = {}
        self.next_id = 1
        self.max_payload = 4096
        self.dead = False
        self.online = False

    # -- wire
    def send(self, cmd: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        head = struct.pack("<6I", cmd, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, cmd ^ 0xFFFFFFFF)
        with self.lock:
            if self.dead:
                raise Closed()
            try:
                self.sock.sendall(head + data)
            except OSError:
                self.dead = True
                raise Closed()

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Closed()
            buf += chunk
        return buf

    def recv(self):
        cmd, a0, a1, n, _check, magic = struct.unpack("<6I", self._recv_exact(24))
        if magic != cmd ^ 0xFFFFFFFF:
            raise Closed()
        return cmd, a0, a1, self._recv_exact(n) if n else b""

    # -- protocol
    def banner(self) -> bytes:
        p = self.phone.props
        return (f"device::ro.product.name={p.get('ro.product.name', '')};ro.product.model={p.get('ro.product.model', '')};"
                f"ro.product.device={p.get('ro.product.device', '')};features=shell_v2,cmd").encode()

    def serve(self) -> None:
        try:
            while True:
                cmd, a0, a1, data = self.recv()
                if self.phone.faults.get("silent"):  # a device that stopped answering: adb calls it offline
                    continue
                if cmd == A_CNXN:
                    self.max_payload = min(a1 or 4096, MAX_PAYLOAD)
                    if self.phone.auth == "none":
                        self.go_online()
                    else:
                        self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
                elif cmd == A_AUTH:
                    if a0 == AUTH_SIGNATURE:  # no key is on file: ask for the next one, as adbd does
                        self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
                    elif a0 == AUTH_RSAPUBLICKEY and self.phone.auth == "accept":  # the user taps "Allow"
                        self.go_online()
                    # auth == "reject": never answer; the client shows the device as unauthorized
                elif not self.online:
                    continue
                elif cmd == A_OPEN:
                    self.open(a0, data.rstrip(b"\0").decode())
                elif cmd == A_WRTE:
                    s = self.streams.get(a1)
                    if s:
                        s.incoming.put(data)
                        self.send(A_OKAY, s.local_id, s.remote_id)
                elif cmd == A_OKAY:
                    s = self.streams.get(a1)
                    if s:
                        s.can_write.release()
                elif cmd == A_CLSE:
                    s = self.streams.pop(a1, None)
                    if s and not s.closed:
                        s.closed = True
                        s.incoming.put(None)
        except (Closed, OSError):
            pass
        finally:
            self.dead = True
            for s in list(self.streams.values()):
                s.closed = True
                s.incoming.put(None)
            try:
                self.sock.close()
            except OSError:
                pass

    def go_online(self) -> None:
        self.online = True
        self.send(A_CNXN, A_VERSION, MAX_PAYLOAD, self.banner())

    def open(self, remote_id: int, service: str) -> None:
        handler = self.phone.service(service)
        if handler is None:
            self.send(A_CLSE, 0, remote_id)
            return
        local_id = self.next_id
        self.next_id += 1
        s = Stream(self, local_id, remote_id)
        self.streams[local_id] = s
        self.send(A_OKAY, local_id, remote_id)

        def run():
            try:
                handler(s)
            except Closed:
                pass
            finally:
                try:
                    s.close()
                except Closed:
                    pass
                self.streams.pop(local_id, None)

        threading.Thread(target=run, daemon=True, name=f"adbd-{service[:20]}").start()


def shell_packet(kind: int, data: bytes) -> bytes:
    return struct.pack("<BI", kind, len(data)) + data


# -- sync: protocol (SYNC.TXT)

def sync_service(phone, s: Stream) -> None:
    while True:
        try:
            req, n = struct.unpack("<4sI", s.read_exact(8))
        except Closed:
            return
        if req == b"QUIT":
            return
        path = s.read_exact(n).decode()
        if req == b"STAT":
            st = phone.stat(path)
            s.write(b"STAT" + struct.pack("<3I", *(st if st else (0, 0, 0))))
        elif req == b"LIST":
            for name, (mode, size, mtime) in phone.listdir(path):
                raw = name.encode()
                s.write(b"DENT" + struct.pack("<4I", mode, size, mtime, len(raw)) + raw)
            s.write(b"DONE" + struct.pack("<4I", 0, 0, 0, 0))
        elif req == b"RECV":
            data = phone.read_file(path)
            if data is None:
                s.write(_fail("open failed: No such file or directory"))
                continue
            for i in range(0, len(data), 64 * 1024):
                s.write(b"DATA" + struct.pack("<I", len(data[i:i + 65536])) + data[i:i + 65536])
            s.write(b"DONE" + struct.pack("<I", 0))
        elif req == b"SEND":
            target, _, mode = path.rpartition(",")
            chunks = []
            while True:
                kind, m = struct.unpack("<4sI", s.read_exact(8))
                if kind == b"DATA":
                    chunks.append(s.read_exact(m))
                elif kind == b"DONE":
                    break
                else:
                    s.write(_fail(f"invalid data message {kind!r}"))
                    return
            err = phone.write_file(target, b"".join(chunks), int(mode or "0644") & 0o7777)
            s.write(_fail(err) if err else b"OKAY" + struct.pack("<I", 0))
        else:
            s.write(_fail(f"unknown sync request {req!r}"))
            return


def _fail(msg: str) -> bytes:
    raw = msg.encode()
    return b"FAIL" + struct.pack("<I", len(raw)) + raw
