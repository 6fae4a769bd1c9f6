"""Real HTTP servers on 127.0.0.1 for the remote-storage tests, and a byte-counting fsspec filesystem.

* :class:`NginxServer` runs the system's nginx (``apt-get install nginx-light``) in the
  foreground with a private config; bytes sent are read from its access log
  (``$body_bytes_sent``).
* :class:`StdlibServer` is a small ``http.server`` with single-range ``Range`` support
  (206/416, ``Accept-Ranges``, HEAD) and HTML directory listings (for fsspec's HTTP glob),
  counting the body bytes it sends; ``ranges=False`` makes it answer every GET with the
  whole file, as some servers do.
* :class:`CountingMemoryFS` (protocol ``countmem``) is fsspec's memory filesystem behind
  an ``AbstractBufferedFile``, the file class s3fs and gcsfs build on, counting every byte
  fetched.

Both servers expose ``url``, ``requests()`` -> ``[Request]`` since the last ``reset()``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    body_bytes: int
    range: str
    user_agent: str = ""


def body_bytes(requests, path_suffix: str | None = None) -> int:
    return sum(r.body_bytes for r in requests if path_suffix is None or r.path.endswith(path_suffix))


# -- stdlib server -------------------------------------------------------------
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _record(self, status: int, nbytes: int) -> None:
        with self.server.lock:
            self.server.log.append(
                Request(
                    self.command,
                    unquote(urlsplit(self.path).path),
                    status,
                    nbytes,
                    self.headers.get("Range", ""),
                    self.headers.get("User-Agent", ""),
                )
            )

    def _target(self) -> Path | None:
        parts = [q for q in unquote(urlsplit(self.path).path).split("/") if q not in ("", ".")]
        if ".." in parts:  # stay under the root (symlinks inside it are followed, as nginx does)
            return None
        p = self.server.root.joinpath(*parts)
        return p if p.exists() else None

    def _listing(self, p: Path, head: bool) -> None:
        # a directory index like nginx's autoindex: one link per entry
        links = "".join(
            f'<a href="{c.name}{"/" if c.is_dir() else ""}">{c.name}</a>\n' for c in sorted(p.iterdir())
        )
        body = f"<html><body>\n{links}</body></html>\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self._record(200, 0 if head else len(body))

    def do_HEAD(self) -> None:
        self._tracked(head=True)

    def do_GET(self) -> None:
        self._tracked(head=False)

    def _tracked(self, head: bool) -> None:
        # A client has all the bytes before the handler logs the request:
        # count requests in flight so ``requests()`` can wait for them.
        with self.server.lock:
            self.server.in_flight += 1
        try:
            self._serve(head)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _serve(self, head: bool) -> None:
        p = self._target()
        if p is not None and p.is_dir():
            self._listing(p, head)
            return
        if p is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self._record(404, 0)
            return
        size = p.stat().st_size
        start, end, status = 0, size, 200
        rng = self.headers.get("Range")
        if rng and self.server.ranges:
            m = _RANGE.match(rng.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                else:  # suffix range: the last N bytes
                    start = max(0, size - int(m.group(2)))
                if start >= size or start >= end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self._record(416, 0)
                    return
                status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Content-Type", "application/octet-stream")
        if self.server.ranges:
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.end_headers()
        sent = 0
        if not head:
            with open(p, "rb") as f:
                f.seek(start)
                remaining = end - start
                try:
                    while remaining:
                        chunk = f.read(min(remaining, 1 << 16))
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        remaining -= len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
        self._record(status, sent)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, ranges: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.ranges = ranges
        self.lock = threading.Lock()
        self.log: list[Request] = []
        self.in_flight = 0

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # clients hang up: fine
            super().handle_error(request, client_address)


class StdlibServer:
    kind = "stdlib"

    def __init__(self, root: Path, *, ranges: bool = True) -> None:
        self._server = _Server(Path(root), ranges)
        self._thread = threading.Thread(target=self._server.serve_forever, name="test-http", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def reset(self) -> None:
        # wait for requests in flight first, so an earlier request is not logged after the reset
        self.requests()
        with self._server.lock:
            self._server.log.clear()

    def requests(self) -> list[Request]:
        deadline = time.monotonic() + 5
        while True:
            with self._server.lock:
                if self._server.in_flight == 0 or time.monotonic() > deadline:
                    return list(self._server.log)
            time.sleep(0.01)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# -- nginx -----------------------------------------------------------------------
def find_nginx() -> str | None:
    """The nginx binary, or None (also when TFFORMATS_TEST_NGINX=0, to exercise the fallback)."""
    if os.environ.get("TFFORMATS_TEST_NGINX") == "0":
        return None
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.path.exists(p)),
        None,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NGINX_CONF = """\
{user}
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format counting '$request_method $uri $status $body_bytes_sent "$http_range"';
    access_log {work}/access.log counting;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    types {{ }}
    default_type application/octet-stream;
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ autoindex on; }}
    }}
}}
"""
_LOG_LINE = re.compile(r'^(\S+) (\S+) (\d+) (\d+) "(.*)"$')


class NginxServer:
    """nginx in the foreground (``daemon off``), one process, loopback only."""

    kind = "nginx"

    def __init__(self, root: Path, work: Path, binary: str) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self._log_path = work / "access.log"
        self._proc = None
        last_error = ""
        for _ in range(5):  # the free port may be taken between probing and binding
            port = _free_port()
            conf = work / "nginx.conf"
            conf.write_text(
                _NGINX_CONF.format(
                    user="user root;" if hasattr(os, "geteuid") and os.geteuid() == 0 else "",
                    work=work,
                    port=port,
                    root=Path(root).resolve(),
                )
            )
            proc = subprocess.Popen(
                [binary, "-p", str(work), "-c", str(conf), "-e", str(work / "error.log")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.05)
            if proc.poll() is None:
                self._proc = proc
                self.url = f"http://127.0.0.1:{port}"
                break
            last_error = proc.stderr.read().decode(errors="replace")
        if self._proc is None:
            raise RuntimeError(f"nginx did not start: {last_error.strip()}")
        self._pos = 0

    def _lines(self) -> list[str]:
        if not self._log_path.exists():
            return []
        with open(self._log_path, "rb") as f:
            f.seek(self._pos)
            return f.read().decode("utf-8", "replace").splitlines()

    def _sync(self) -> None:
        # nginx logs a request after answering it: send a marker request and wait
        # for its line, so every earlier request is in the log too.
        import urllib.request

        marker = f"/__log_marker_{time.monotonic_ns()}"
        try:
            urllib.request.urlopen(self.url + marker, timeout=5)
        except Exception:
            pass  # 404 expected
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(marker in line for line in self._lines()):
                return
            time.sleep(0.02)

    def reset(self) -> None:
        self._sync()
        self._pos = self._log_path.stat().st_size if self._log_path.exists() else 0

    def requests(self) -> list[Request]:
        self._sync()
        out = []
        for line in self._lines():
            m = _LOG_LINE.match(line)
            if m and not m.group(2).startswith("/__log_marker_"):
                out.append(Request(m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), m.group(5).strip("-")))
        return out

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


# -- counting fsspec filesystem ---------------------------------------------------
def counting_memory_fs():
    """The ``countmem://`` filesystem class (registered on first use)."""
    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem
    from fsspec.spec import AbstractBufferedFile

    existing = fsspec.registry.get("countmem")
    if existing is not None:
        return existing

    class CountingFile(AbstractBufferedFile):
        def _fetch_range(self, start, end):
            data = self.fs.store[self.path].getbuffer()[start:end].tobytes()
            self.fs.count(len(data), start, end)
            return data

    class CountingMemoryFS(MemoryFileSystem):
        protocol = "countmem"
        store: dict = {}
        pseudo_dirs = [""]
        lock = threading.Lock()
        fetched: list = []

        @classmethod
        def _strip_protocol(cls, path):
            if path.startswith("countmem://"):
                path = path[len("countmem://") :]
            return super()._strip_protocol(path)

        @classmethod
        def count(cls, n, start, end):
            with cls.lock:
                cls.fetched.append((start, end, n))

        @classmethod
        def reset(cls):
            with cls.lock:
                cls.fetched.clear()

        @classmethod
        def total(cls) -> int:
            with cls.lock:
                return sum(n for _, _, n in cls.fetched)

        def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_options=None, **kwargs):
            path = self._strip_protocol(path)
            if mode != "rb":
                return super()._open(path, mode, block_size, autocommit, cache_options, **kwargs)
            if path not in self.store:
                raise FileNotFoundError(path)
            return CountingFile(
                self,
                path,
                mode="rb",
                block_size=block_size or 5 * 2**20,
                cache_type=kwargs.get("cache_type", "readahead"),
                cache_options=cache_options,
                size=self.store[path].getbuffer().nbytes,
            )

        def cat_file(self, path, start=None, end=None, **kwargs):
            data = super().cat_file(path, start, end, **kwargs)
            self.count(len(data), start, end)
            return data

    fsspec.register_implementation("countmem", CountingMemoryFS, clobber=True)
    return CountingMemoryFS


SERVER_KINDS = ["nginx", "stdlib"]


def start(kind: str, root, scratch_factory):
    """A server of ``kind`` over ``root``; skips the test when nginx is wanted and not installed.

    ``scratch_factory`` is pytest's ``tmp_path_factory`` (nginx needs a folder for its config).
    The callers' module-scoped fixtures run every remote test against both servers.
    """
    import pytest

    if kind == "nginx":
        binary = find_nginx()
        if binary is None:
            pytest.skip("nginx is not installed (apt-get install nginx-light); the stdlib server runs instead")
        return NginxServer(root, scratch_factory.mktemp("nginx"), binary)
    return StdlibServer(root)
