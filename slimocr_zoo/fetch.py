"""Get an artifact's files into the cache, verified.

Sources are tried in order: the user's mirrors (``SLIMOCR_ZOO_MIRROR`` / ``--mirror``: http(s)
base URLs or local directories laid out like the manifest's paths), then the manifest's own
sources. HTTP downloads stream into ``<file>.incomplete``, resume with Range, retry with
backoff on connection errors, 5xx and short bodies, and are checked for size and sha256
before an atomic rename. One filelock per file (or archive) makes concurrent loaders share
one transfer. Offline mode opens no socket.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import unquote, urlparse

from . import cache, settings
from .archive import extract
from .errors import ChecksumError, DownloadError, OfflineError, UnpinnedError
from .files import CHUNK, sha256_of
from .registry import Artifact, FileSpec, Source
from .version import __version__

log = logging.getLogger("slimocr_zoo")

NET_CHUNK = 256 * 1024  # a broken connection loses at most this much; smaller reads cost throughput
SYNC_EVERY = 8 * 2**20  # bytes between starts of their write-back: the final fsync then waits for little


@dataclass
class Options:
    mirrors: List[str] = field(default_factory=list)
    offline: bool = False
    quiet: bool = False
    require_pinned: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3  # consecutive failures without progress, per source
    backoff: float = 0.5  # seconds, doubled after each failure

    @classmethod
    def from_env(cls, mirrors=None, offline=None, quiet=None, require_pinned=None) -> "Options":
        """The caller's values, then the environment's (settings), then the defaults."""
        return cls(
            mirrors=[str(m) for m in mirrors or []] + settings.mirrors(),
            offline=offline if offline is not None else settings.offline(),
            quiet=bool(quiet),
            require_pinned=bool(require_pinned),
            connect_timeout=settings.connect_timeout(),
            read_timeout=settings.read_timeout(),
            retries=settings.retries(),
            backoff=settings.backoff(),
        )


class _Retry(Exception):
    """A transient failure: retry the same URL after a pause."""


class _Skip(Exception):
    """This source cannot serve the file: go on to the next one."""


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _local_path(url: str) -> Path:
    return Path(unquote(urlparse(url).path)) if url.startswith("file://") else Path(url)


def _join(base: str, rel: str) -> str:
    if _is_remote(base) or base.startswith("file://"):
        return base.rstrip("/") + "/" + rel
    return str(Path(base) / rel)


_session = None


def _http():
    global _session
    if _session is None:
        import requests

        _session = requests.Session()
        _session.headers["User-Agent"] = f"slimocr-zoo/{__version__}"
    return _session


def _progress(total, initial, desc, quiet):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                disable=True if quiet else None, leave=False)


def _start_writeback():
    """fd, offset, nbytes -> start writing those dirty pages to disk without waiting (Linux's
    sync_file_range(SYNC_FILE_RANGE_WRITE)); elsewhere a no-op and the final fsync does it all."""
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
        fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    except (OSError, AttributeError, TypeError):  # no such call (macOS), no CDLL(None) (Windows)
        return lambda fd, offset, nbytes: None
    return lambda fd, offset, nbytes: fn(fd, offset, nbytes, 2)  # 2: SYNC_FILE_RANGE_WRITE


_writeback = _start_writeback()


class _Sink:
    """Writes the body in one thread and hashes it in another, both beside the network reads.

    Three threads, because on a small machine no one of them may wait for the others: the reads,
    the write to disk and sha256 each take a similar share of the time (measured: 200 MiB from
    loopback, 76 / 60 / 120 ms). Everything handed to write() is on disk after close()
    (fsync'ed), also when the transfer broke: a resume starts from there. close() returns the
    sha256 of the whole file (the part already there first). The writer starts the write-back
    of every SYNC_EVERY bytes, so the fsync that makes the file safe to install waits for the
    tail only.
    """

    def __init__(self, part: Path, mode: str, have: int):
        import queue
        import threading

        self._h = hashlib.sha256()
        self._error: Optional[BaseException] = None
        self._f = open(part, mode)
        self._queues = [queue.Queue(maxsize=32), queue.Queue(maxsize=32)]
        self._threads = [threading.Thread(target=self._guarded, args=(fn, q, *args), daemon=True)
                         for fn, q, args in ((self._write_all, self._queues[0], (have,)),
                                             (self._hash_all, self._queues[1], (part, have)))]
        for t in self._threads:
            t.start()

    def _guarded(self, fn, q, *args) -> None:
        try:
            fn(q, *args)
        except BaseException as e:  # e.g. disk full: reported by write()/close(); keep draining
            self._error = e
            for _ in iter(q.get, None):
                pass

    def _write_all(self, q, have: int) -> None:
        synced = written = have
        for block in iter(q.get, None):
            self._f.write(block)  # drops the GIL, as sha256 does for big blocks
            written += len(block)
            if written - synced >= SYNC_EVERY:
                self._f.flush()
                _writeback(self._f.fileno(), synced, written - synced)
                synced = written
        self._f.flush()
        os.fsync(self._f.fileno())

    def _hash_all(self, q, part: Path, have: int) -> None:
        if have:  # a resumed download: hash the part already on disk first
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(min(CHUNK, have - f.tell())), b""):
                    self._h.update(block)
        for block in iter(q.get, None):
            self._h.update(block)

    def write(self, block: bytes) -> None:
        if self._error:
            raise self._error
        for q in self._queues:
            q.put(block)

    def close(self) -> str:
        for q, t in zip(self._queues, self._threads):
            q.put(None)
            t.join()
        self._f.close()
        if self._error:
            raise self._error
        return self._h.hexdigest()


def _http_get(url: str, part: Path, size: Optional[int], opts: Options, desc: str) -> Optional[str]:
    """Stream ``url`` into ``part``, resuming what is there; returns its sha256 when the body is whole."""
    import requests

    failures = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:
            part.unlink()
            have = 0
        if size is not None and have == size:
            return None  # whole already: the caller hashes it
        headers = {"Range": f"bytes={have}-"} if have else {}
        before = have
        try:
            with _http().get(url, headers=headers, stream=True,
                             timeout=(opts.connect_timeout, opts.read_timeout)) as r:
                if r.status_code == 416 and have:
                    part.unlink()  # our partial file is not a prefix of theirs: start over
                    raise _Retry(f"HTTP 416 for a resume at byte {have}")
                if r.status_code >= 500 or r.status_code == 429:
                    raise _Retry(f"HTTP {r.status_code}")
                if r.status_code >= 400:
                    raise _Skip(f"HTTP {r.status_code}")
                mode = "ab"
                if r.status_code != 206:
                    mode, have = "wb", 0  # a server that ignores Range sends it all again
                elif not r.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
                    part.unlink()
                    raise _Retry(f"unexpected Content-Range {r.headers.get('Content-Range')!r}")
                length = r.headers.get("Content-Length")
                total = have + int(length) if length is not None else size
                if size is not None and total is not None and total != size:
                    raise _Skip(f"server sends {total} bytes, the manifest says {size}")
                # We check the length ourselves: urllib3's own check drops the bytes of the last read.
                r.raw.enforce_content_length = False
                sink = _Sink(part, mode, have)
                try:
                    with _progress(total, have, desc, opts.quiet) as bar:
                        for block in r.iter_content(NET_CHUNK):
                            sink.write(block)
                            bar.update(len(block))
                finally:
                    digest = sink.close()
                got = part.stat().st_size
                if total is not None and got < total:
                    raise _Retry(f"short body: {got} of {total} bytes")
                return digest
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError, _Retry) as e:
            if "NameResolutionError" in repr(e) or "Name or service not known" in str(e):
                raise _Skip("cannot resolve the host name") from None  # no retry can fix DNS
            now = part.stat().st_size if part.exists() else 0
            failures = 0 if now > before else failures + 1
            if failures > opts.retries:
                raise _Skip(f"gave up after {failures} tries: {_brief(e)}") from None
            time.sleep(opts.backoff * 2 ** max(failures - 1, 0))


def _brief(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) < 400 else text[:397] + "..."


def _fetch_to(url: str, part: Path, size: Optional[int], opts: Options, desc: str) -> Optional[str]:
    """``part`` holds the whole body after this; returns its sha256 when it was computed on the way."""
    part.parent.mkdir(parents=True, exist_ok=True)
    if _is_remote(url):
        if opts.offline:
            raise _Skip("offline mode")
        return _http_get(url, part, size, opts, desc)
    else:
        src = _local_path(url)
        if not src.is_file():
            raise _Skip("no such file")
        shutil.copyfile(src, part)
        return None


def expected_sha256(f: FileSpec) -> Optional[str]:
    """The manifest's sha256 of a file, else the one pinned on its first download, else None."""
    if f.sha256:
        return f.sha256
    rec = cache.pinned("file:" + f.path)
    return rec["sha256"] if rec else None


def _install(part: Path, f: FileSpec, url: str, actual: Optional[str] = None, synced: bool = False) -> str:
    """Check a complete ``part`` against the manifest or the pin, then move it into place.

    ``synced``: ``part`` was fsync'ed already (by the download's writer); else it is here, so that
    a crash cannot leave a recorded file whose blocks never reached the disk."""
    if f.size is not None and part.stat().st_size != f.size:
        size = part.stat().st_size
        part.unlink()
        raise ChecksumError(url, f.size, size, what="size")
    actual = actual or sha256_of(part)
    expected = expected_sha256(f)
    if expected and actual != expected:
        part.unlink()
        raise ChecksumError(url, expected, actual)
    final = cache.file_path(f.path)
    if not synced:
        with open(part, "rb") as fh:
            os.fsync(fh.fileno())
    os.replace(part, final)
    cache.record(f.path, actual)
    if not expected:
        cache.pin("file:" + f.path, actual, final.stat().st_size, url)
        log.warning("pinned %s on first use: sha256 %s (from %s); later downloads must match it",
                    f.path, actual, url)
    return actual


def is_cached(f: FileSpec) -> bool:
    """The one meaning of "cached": the file is in the cache and matches the manifest (or its pin).

    A file unchanged since it was verified (size and mtime) is not hashed again; a partial
    download is not cached; a corrupt file is not cached (and is left for the next download to
    replace).
    """
    final = cache.file_path(f.path)
    if not final.is_file():
        return False
    expected = expected_sha256(f)
    seen = cache.verified_sha256(f.path)
    if seen is None:  # changed since it was verified, or never recorded: hash it once
        seen = sha256_of(final)
        if expected is None or seen == expected:
            cache.record(f.path, seen)
    return expected is None or seen == expected  # None: placed by hand before any pin


def _drop_corrupt(f: FileSpec) -> None:
    final = cache.file_path(f.path)
    if final.is_file():
        log.warning("cached %s is corrupt (expected sha256 %s): removing it and downloading again",
                    final, expected_sha256(f))
        cache.forget(f.path)


def _file_urls(art: Artifact, f: FileSpec, opts: Options) -> List[str]:
    urls = [_join(m, f.path) for m in opts.mirrors]
    for s in art.sources:
        if s.type == "base":
            urls.append(s.url_for(f.path))
        elif s.type == "url" and len(art.files) == 1:
            urls.append(s.url)
    return urls


def _refuse_unpinned(art: Artifact, f: FileSpec, opts: Options):
    if opts.require_pinned and expected_sha256(f) is None:
        raise UnpinnedError(
            f"{art.key}: {f.path} has no pinned sha256 (upstream file nobody here has hashed) "
            f"and pinned files are required; drop --require-pinned to pin it on first use")


def _fetch_file(art: Artifact, f: FileSpec, opts: Options, attempts: List[str]) -> bool:
    _refuse_unpinned(art, f, opts)
    final = cache.file_path(f.path)
    part = final.with_name(final.name + cache.INCOMPLETE)
    with cache.lock(f.path):
        if is_cached(f):  # another process finished it while we waited
            return True
        _drop_corrupt(f)
        for url in _file_urls(art, f, opts):
            try:
                digest = _fetch_to(url, part, f.size, opts, f.name)  # a digest: computed and synced on the way
                _install(part, f, url, digest, synced=digest is not None)
                return True
            except (_Skip, ChecksumError, OSError) as e:
                attempts.append(f"{url}: {_brief(e)}")
                if isinstance(e, ChecksumError):
                    log.warning("%s", e)
    return False


def _fetch_archive(art: Artifact, src: Source, files: List[FileSpec], opts: Options) -> None:
    name = src.url.rstrip("/").rsplit("/", 1)[-1]
    digest = hashlib.sha256(src.url.encode()).hexdigest()[:12]
    downloads = cache.home() / "downloads"
    archive = downloads / f"{digest}-{name}"
    part = archive.with_name(archive.name + cache.INCOMPLETE)
    key = "archive:" + src.url
    with cache.lock(key):
        pin = cache.pinned(key)
        if opts.require_pinned and pin is None:
            raise UnpinnedError(f"{art.key}: archive {src.url} has no pinned sha256 and pinned files are required")
        actual = _fetch_to(src.url, part, pin["size"] if pin else None, opts, name) or sha256_of(part)
        if pin and actual != pin["sha256"]:
            part.unlink()
            raise ChecksumError(src.url, pin["sha256"], actual)
        os.replace(part, archive)
        try:
            staging = downloads / f"{digest}-{os.getpid()}.extract"
            members = {src.strip + f.name: staging / f.name for f in files}
            extract(archive, members, staging, label=src.url)
            for f in files:
                with cache.lock(f.path):
                    out = cache.file_path(f.path)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    tmp = out.with_name(out.name + cache.INCOMPLETE)
                    os.replace(staging / f.name, tmp)
                    _install(tmp, f, f"{src.url}!{src.strip + f.name}")
            if not pin:
                cache.pin(key, actual, archive.stat().st_size, src.url)
                log.warning("pinned %s on first use: sha256 %s", src.url, actual)
        finally:
            shutil.rmtree(downloads / f"{digest}-{os.getpid()}.extract", ignore_errors=True)
            archive.unlink(missing_ok=True)


def fetch(art: Artifact, opts: Optional[Options] = None) -> Dict[str, Path]:
    """Make every file of ``art`` present and verified in the cache; return name -> path."""
    opts = opts or Options.from_env()
    attempts: List[str] = []
    pending = [f for f in art.files if not is_cached(f)]
    pending = [f for f in pending if not _fetch_file(art, f, opts, attempts)]
    if pending:
        for src in art.sources:
            if src.type != "archive":
                continue
            try:
                _fetch_archive(art, src, pending, opts)
                pending = []
                break
            except (_Skip, OSError) as e:
                attempts.append(f"{src.url}: {_brief(e)}")
            except DownloadError as e:  # checksum, unreadable tar, missing member: try the next source
                attempts.append(_brief(e) if src.url in str(e) else f"{src.url}: {_brief(e)}")
    if pending:
        raise _failure(art, pending, attempts, opts)
    return {f.name: cache.file_path(f.path) for f in art.files}


def _failure(art: Artifact, pending: List[FileSpec], attempts: List[str], opts: Options) -> DownloadError:
    names = ", ".join(f.path for f in pending)
    if not attempts:
        hint = "it has no source: set SLIMOCR_ZOO_MIRROR (or --mirror) to a mirror that holds it"
        return DownloadError(f"cannot get {art.key} ({names}): {hint}")
    tried = "; ".join(attempts)
    if opts.offline and all(a.endswith("offline mode") or "no such file" in a for a in attempts):
        return OfflineError(
            f"{art.key} is not in the cache ({names}) and offline mode is on (SLIMOCR_ZOO_OFFLINE / --offline): "
            f"download it with network access, or point SLIMOCR_ZOO_MIRROR at a local directory. Tried: {tried}")
    return DownloadError(f"cannot get {art.key} ({names}) from any source. Tried: {tried}")
