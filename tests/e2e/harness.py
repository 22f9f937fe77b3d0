"""Black-box harness: start the built `shortener` binary, talk HTTP to it, always clean up.

Every instance gets a fresh temporary data dir and a kernel-chosen port (`--listen 127.0.0.1:0`);
the port is read back from the `listening on http://HOST:PORT` line. Every wait is bounded. The
process is stopped by its own PID (SIGTERM, then SIGKILL after a grace period) — never by name.

Environment:
  SHORTENER_BIN           binary to test (default: <repo>/build/shortener)
  SHORTENER_E2E_REQUIRE   "1": a missing binary fails the run instead of skipping it
  SHORTENER_E2E_KEEP      "1": keep temporary data dirs and logs, print where they are
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass, field
from typing import Any, Iterable

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SHORTENER_BIN") or os.path.join(REPO, "build", "shortener")

START_TIMEOUT = 15.0  # seconds to the "listening on" line; generous for ASan builds
READY_TIMEOUT = 10.0  # seconds from "listening on" to /readyz answering 200
STOP_TIMEOUT = 5.0  # the contract: SIGTERM -> exit 0 within 5 s
CLI_TIMEOUT = 20.0  # one CLI invocation (keys create, --help, bad flags)
HTTP_TIMEOUT = 10.0  # socket timeout of one HTTP exchange

LISTENING_RE = re.compile(r"^listening on (http://(\S+):(\d+))\s*$")
ADMIN_KEY_RE = re.compile(r"^admin key: (sk_\S+)\s*$")
PROBLEM_TYPE = "application/problem+json"


def require_binary() -> None:
    """Skip (or fail, with SHORTENER_E2E_REQUIRE=1) when the binary has not been built."""
    if os.access(BIN, os.X_OK):
        return
    message = f"shortener binary not found at {BIN} (build it, or set SHORTENER_BIN)"
    if os.environ.get("SHORTENER_E2E_REQUIRE") == "1":
        raise RuntimeError(message)
    raise unittest.SkipTest(message)


def new_admin_key() -> str:
    return "sk_e2e_admin_" + secrets.token_hex(16)


def make_temp_dir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=f"shortener-e2e-{prefix}-")


def remove_temp_dir(path: str) -> None:
    if os.environ.get("SHORTENER_E2E_KEEP") == "1":
        print(f"[e2e] kept {path}", file=sys.stderr)
        return
    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# CLI


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"$ shortener {' '.join(self.args)}\n-> exit {self.returncode}\n"
            f"stdout: {self.stdout[-2000:]!r}\nstderr: {self.stderr[-2000:]!r}"
        )


def run_cli(args: list[str], env: dict[str, str] | None = None,
            timeout: float = CLI_TIMEOUT) -> CliResult:
    """Runs the binary to completion (bounded). `env` adds to a scrubbed environment."""
    proc = subprocess.run(
        [BIN, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout, env=child_env(env), check=False,
    )
    return CliResult(args, proc.returncode, proc.stdout, proc.stderr)


# Backend under test. SHORTENER_E2E_DATABASE_URL=postgres://... runs every instance on
# PostgreSQL instead of SQLite: each data dir gets its own schema (created on first use), so
# instances stay isolated and a restart on the same data dir finds its links again.
#
# SHORTENER_E2E_REDIS_URL=redis://... (with a PostgreSQL URL) runs every `serve` in production
# mode: PostgreSQL + Redis cache, click stream, live feed and rate limits, with the click
# workers in-process (--with-worker). Each data dir gets its own Redis key prefix, like its
# schema, so instances sharing the server stay isolated.
DATABASE_URL = os.environ.get("SHORTENER_E2E_DATABASE_URL", "")
REDIS_URL = os.environ.get("SHORTENER_E2E_REDIS_URL", "") if DATABASE_URL else ""
BACKEND = ("production" if REDIS_URL else "postgres") if DATABASE_URL else "sqlite"
_schemas: dict[str, str] = {}
_prefixes: dict[str, str] = {}


def serve_backend_args(data_dir: str) -> list[str]:
    """What `serve` needs for the backend under test: `database_args`, plus Redis in
    production mode."""
    args = database_args(data_dir)
    if REDIS_URL:
        key = os.path.realpath(data_dir)
        _prefixes.setdefault(key, "e2e-" + secrets.token_hex(6) + ":")
        args += ["--redis-url", REDIS_URL, "--redis-prefix", _prefixes[key], "--with-worker"]
    return args


def database_args(data_dir: str) -> list[str]:
    """`--database-url` for `data_dir` on PostgreSQL runs; nothing on SQLite runs."""
    if not DATABASE_URL:
        return []
    key = os.path.realpath(data_dir)
    if key not in _schemas:
        schema = "e2e_" + secrets.token_hex(6)
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", DATABASE_URL, "-c",
                        f"CREATE SCHEMA {schema}"], check=True, timeout=30,
                       stdout=subprocess.DEVNULL)
        sep = "&" if "?" in DATABASE_URL else "?"
        _schemas[key] = f"{DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
    return ["--database-url", _schemas[key]]


def child_env(extra: dict[str, str] | None) -> dict[str, str]:
    """The test runner's environment without any SHORTENER_* variable (they would change the
    binary's configuration behind the test's back), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORTENER_")}
    env.update(extra or {})
    return env


def create_key(data_dir: str, admin: bool = False) -> str:
    """`shortener keys create [--admin] --data-dir DIR`; returns the key (last stdout line)."""
    args = (["keys", "create"] + (["--admin"] if admin else []) + ["--data-dir", data_dir] +
            database_args(data_dir))
    result = run_cli(args)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise AssertionError("keys create failed:\n" + result.describe())
    return lines[-1].strip()


# --------------------------------------------------------------------------------------------
# HTTP client


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    method: str = ""
    path: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"body is not JSON ({e}): {self.describe()}") from None

    def describe(self) -> str:
        head = "\n".join(f"  {k}: {v}" for k, v in self.headers)
        body = self.body[:800].decode("utf-8", errors="replace")
        return f"{self.method} {self.path} -> {self.status} {self.reason}\n{head}\n  body: {body!r}"


class Client:
    """A keep-alive HTTP/1.1 client bound to one server. `key` is sent as a Bearer token.

    A request that fails because the server closed a *reused* idle connection is retried once
    on a new connection (counted in `reconnects`); keep-alive itself is tested separately."""

    def __init__(self, host: str, port: int, key: str | None = None,
                 timeout: float = HTTP_TIMEOUT):
        self.host, self.port, self.key, self.timeout = host, port, key, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None, key: str | None | bool = True,
                raw: bytes | None = None) -> Response:
        """`body` is JSON-encoded unless `raw` bytes are given. `key=True` uses the client's key,
        `key=None/False` sends none, a string sends that key."""
        hdrs = {"Accept": "application/json"}
        token = self.key if key is True else (key or None)
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        payload = raw
        if payload is None and body is not None:
            payload = json.dumps(body).encode()
        if payload is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in (0, 1):
            reused = self.conn is not None and self.conn.sock is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=payload, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 0 and reused:
                    self.reconnects += 1
                    continue
                raise
            result = Response(resp.status, resp.reason, resp.getheaders(), data, method, path)
            if resp.will_close:
                self.close()
            return result
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def head(self, path: str, **kw: Any) -> Response:
        return self.request("HEAD", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)

    # API shorthands
    def create_link(self, url: str, **fields: Any) -> Response:
        headers = fields.pop("headers", None)
        key = fields.pop("key", True)
        return self.post("/api/v1/links", {"url": url, **fields}, headers=headers, key=key)


# --------------------------------------------------------------------------------------------
# Raw sockets: pipelining, oversized requests, slow bodies


def connect(host: str, port: int, timeout: float = HTTP_TIMEOUT) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


class RawReader:
    """Parses HTTP/1.1 responses off a socket: Content-Length and chunked bodies. `head_only`
    responses (answers to HEAD, 1xx, 204, 304) carry no body."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            if not self._fill():
                raise ConnectionError(f"connection closed before {marker!r}; got {self.buf[:200]!r}")
        data, self.buf = self.buf.split(marker, 1)
        return data

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError(f"connection closed with {len(self.buf)}/{n} body bytes")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head_only: bool = False, method: str = "") -> Response:
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        resp = Response(status, reason, headers, b"", method)
        if head_only or status in (204, 304) or 100 <= status < 200:
            return resp
        if (resp.header("Transfer-Encoding") or "").lower() == "chunked":
            resp.body = self._read_chunked()
        elif resp.header("Content-Length") is not None:
            resp.body = self._read_exact(int(resp.header("Content-Length")))
        else:  # close-delimited
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self._read_until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._read_until(b"\r\n")  # no trailers expected
                return body
            body += self._read_exact(size)
            self._read_exact(2)

    def closed_within(self, seconds: float) -> bool:
        """True when the peer closes (EOF or reset) within `seconds`, with no bytes pending."""
        deadline = time.monotonic() + seconds
        old = self.sock.gettimeout()
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                try:
                    if not self._fill():
                        return True
                except socket.timeout:
                    return False
                except (ConnectionResetError, BrokenPipeError):
                    return True
            return False
        finally:
            self.sock.settimeout(old)


def raw_request(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> bytes:
    """One HTTP/1.1 request as bytes. Content-Length is added unless `headers` frame the body
    themselves (Content-Length or Transfer-Encoding given)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    framed = {n.lower() for n in (headers or {})} & {"content-length", "transfer-encoding"}
    if not framed and (body or method in ("POST", "PATCH", "PUT")):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --------------------------------------------------------------------------------------------
# The server under test


@dataclass
class Instance:
    """One running `shortener serve`. Use `start()`; always `stop()` (tests use addClassCleanup)."""

    data_dir: str
    admin_key: str | None = None
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    trust_proxy: str | None = "127.0.0.1/32"
    public_url: str | None = None
    listen: str = "127.0.0.1:0"
    pass_data_dir: bool = True  # False: the data dir comes from the environment (SHORTENER_DATA_DIR)

    proc: subprocess.Popen | None = None
    host: str = ""
    port: int = 0
    base_url: str = ""
    stdout_lines: list[str] = field(default_factory=list)
    log_path: str = ""
    returncode: int | None = None
    _lines: "queue.Queue[str | None]" = field(default_factory=queue.Queue)

    def args(self) -> list[str]:
        args = ["serve", "--listen", self.listen]
        if self.pass_data_dir:
            args += ["--data-dir", self.data_dir]
        args += serve_backend_args(self.data_dir)
        if self.admin_key:
            args += ["--admin-key", self.admin_key]
        if self.trust_proxy:
            args += ["--trust-proxy", self.trust_proxy]
        if self.public_url:
            args += ["--public-url", self.public_url]
        return args + self.extra_args

    def start(self) -> "Instance":
        require_binary()
        self.stdout_lines = []
        self._lines = queue.Queue()
        self.returncode = None
        self.log_path = os.path.join(self.data_dir + ".logs", f"stderr-{time.time_ns()}.log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [BIN, *self.args()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=log, env=child_env(self.env), text=True, bufsize=1,
            )
        threading.Thread(target=self._pump_stdout, args=(self.proc,), daemon=True).start()
        try:
            self._await_listening()
            self._await_ready()
        except BaseException:
            self.stop(expect_clean=False)
            raise
        return self

    def _pump_stdout(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _await_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no 'listening on' line within {START_TIMEOUT}s\n{self.logs()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=STOP_TIMEOUT)
                raise AssertionError(
                    f"server exited with {self.proc.returncode} before listening\n{self.logs()}")
            match = LISTENING_RE.match(line.strip())
            if match:
                self.base_url, self.port = match[1], int(match[3])
                host = match[2].strip("[]")
                # A wildcard listener is reached through loopback.
                self.host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
                return

    def _await_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}\n{self.logs()}")
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
                conn.request("GET", "/readyz")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return
                last = f"/readyz -> {resp.status}"
            except OSError as e:
                last = f"/readyz: {e}"
            time.sleep(0.05)
        raise AssertionError(f"not ready within {READY_TIMEOUT}s ({last})\n{self.logs()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def client(self, key: str | None = None) -> Client:
        return Client(self.host, self.port, key)

    def admin_key_lines(self) -> list[str]:
        return [m[1] for m in (ADMIN_KEY_RE.match(l.strip()) for l in self.stdout_lines) if m]

    def send_signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None when still running after `timeout` seconds."""
        assert self.proc is not None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM, expect_clean: bool = True) -> tuple[int, float]:
        """Sends `sig`, waits up to STOP_TIMEOUT, then SIGKILLs. Returns (exit code, seconds).
        Raises AssertionError when `expect_clean` and the exit was not 0 within the limit."""
        if self.proc is None:
            return (self.returncode or 0, 0.0)
        started = time.monotonic()
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
        code = self.wait(STOP_TIMEOUT)
        elapsed = time.monotonic() - started
        killed = code is None
        if killed:
            self.proc.kill()
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        self.returncode = code
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
        if expect_clean and (killed or code != 0):
            state = "did not exit (killed)" if killed else f"exited {code}"
            raise AssertionError(
                f"after signal {sig}: {state} in {elapsed:.2f}s\n{self.logs()}")
        return code, elapsed

    def logs(self, limit: int = 4000) -> str:
        out = "\n".join(self.stdout_lines)[-limit:]
        try:
            with open(self.log_path, "rb") as f:
                err = f.read().decode("utf-8", errors="replace")[-limit:]
        except OSError:
            err = ""
        return f"--- stdout ---\n{out}\n--- stderr ---\n{err}"


class ServerTestCase(unittest.TestCase):
    """One server per test class, started in setUpClass, stopped (by PID) in class cleanup.

    Subclasses tune `extra_args`, `public_url`, `trust_proxy`, `user_keys` (accounts created with
    `keys create` before the server starts) and `start_admin_key`."""

    extra_args: list[str] = []
    env: dict[str, str] = {}
    public_url: str | None = None
    trust_proxy: str | None = "127.0.0.1/32"
    user_keys = 2
    start_admin_key = True

    server: Instance
    admin_key: str | None
    keys: list[str]
    data_dir: str

    @classmethod
    def setUpClass(cls) -> None:
        require_binary()
        cls.data_dir = make_temp_dir(cls.__name__)
        cls.addClassCleanup(remove_temp_dir, cls.data_dir + ".logs")
        cls.addClassCleanup(remove_temp_dir, cls.data_dir)
        cls.keys = [create_key(cls.data_dir) for _ in range(cls.user_keys)]
        cls.admin_key = new_admin_key() if cls.start_admin_key else None
        cls.server = Instance(cls.data_dir, cls.admin_key, list(cls.extra_args), dict(cls.env),
                              cls.trust_proxy, cls.public_url)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop, expect_clean=False)

    def client(self, key: str | None = None) -> Client:
        c = self.server.client(key)
        self.addCleanup(c.close)
        return c

    @property
    def public(self) -> str:
        return self.server.public_url or self.server.base_url

    # assertions shared by every module

    def assertStatus(self, resp: Response, status: int | Iterable[int]) -> None:
        wanted = {status} if isinstance(status, int) else set(status)
        if resp.status not in wanted:
            self.fail(f"expected status {sorted(wanted)}, got:\n{resp.describe()}")

    def assertProblem(self, resp: Response, status: int | Iterable[int],
                      detail_pattern: str | None = None) -> dict:
        """An RFC 9457 problem: the status, its media type, type/title/status/detail present and
        detail non-empty; optionally `detail` (or title) matches `detail_pattern` (regex, case
        insensitive), which checks the detail is *precise*."""
        self.assertStatus(resp, status)
        self.assertEqual(resp.content_type, PROBLEM_TYPE, resp.describe())
        problem = resp.json()
        self.assertIsInstance(problem, dict, resp.describe())
        for name in ("type", "title", "status", "detail"):
            self.assertIn(name, problem, f"problem lacks {name!r}: {resp.describe()}")
        self.assertEqual(problem["status"], resp.status, resp.describe())
        self.assertIsInstance(problem["type"], str, resp.describe())
        self.assertIsInstance(problem["title"], str, resp.describe())
        self.assertIsInstance(problem["detail"], str, resp.describe())
        self.assertTrue(problem["detail"].strip(), f"empty detail: {resp.describe()}")
        if detail_pattern:
            text = f"{problem['title']} {problem['detail']}"
            self.assertRegex(text, re.compile(detail_pattern, re.I),
                             f"detail not precise: {resp.describe()}")
        return problem

    def create(self, client: Client, url: str, status: int = 201, **fields: Any) -> dict:
        resp = client.create_link(url, **fields)
        self.assertStatus(resp, status)
        return resp.json()


def unique(prefix: str = "s") -> str:
    """A custom slug nobody else uses: [A-Za-z0-9_-], well under 64 chars."""
    return f"{prefix}-{secrets.token_hex(5)}"


def rfc3339(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))
