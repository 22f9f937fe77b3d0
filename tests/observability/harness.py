"""Harness of the observability tests: runs the built binary (and Prometheus, the Pushgateway)
on loopback, reads /metrics, parses the exposition format, and knows which metric names the
production processes expose.

Every process is started by this module and stopped by its own PID (SIGTERM, then SIGKILL after
a grace period); every wait is bounded; temporary directories are removed at exit.

Environment:
  SHORTENER_BIN                binary under test (default: <repo>/build/shortener)
  SHORTENER_TEST_PG_URL        postgres://... and
  SHORTENER_TEST_REDIS_URL     redis://...: also run production mode (`serve --redis-url` and
                               `worker`); without both, the worker checks are skipped
  SHORTENER_OBS_REQUIRE        "1": a missing binary, promtool, prometheus or node fails
  SHORTENER_OBS_REQUIRE_WORKER "1": a worker that cannot run (no PG/Redis, or a build without
                               production mode) fails instead of skipping
  SHORTENER_OBS_KEEP           "1": keep temporary directories and logs, print where they are
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
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
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("SHORTENER_BIN") or os.path.join(REPO, "build", "shortener")
DASHBOARDS_DIR = os.path.join(REPO, "deploy", "grafana", "dashboards")
ALERTS_FILE = os.path.join(REPO, "deploy", "prometheus", "alerts.yml")
TERRAFORM_DIR = os.path.join(REPO, "deploy", "terraform")
RUNBOOK = os.path.join(REPO, "docs", "runbook.md")

API_JOB = "shortener-api"  # the scrape job names the alert rules and dashboards expect
WORKER_JOB = "shortener-worker"

START_TIMEOUT = 20.0
STOP_TIMEOUT = 6.0
HTTP_TIMEOUT = 10.0

# Metric names only the production processes expose (PostgreSQL + Redis: `worker`, and `serve
# --redis-url`). Whenever production mode runs here (SHORTENER_TEST_PG_URL and
# SHORTENER_TEST_REDIS_URL set, as scripts/test.sh does) every one of them must be in the real
# output; otherwise a dashboard or alert may use them and the tests print them as "not checked".
WORKER_METRICS = frozenset({
    "shortener_build_info",
    "shortener_clicks_processed_total",
    "shortener_clicks_duplicate_total",
    "shortener_click_store_failures_total",
    "shortener_click_queue_length",    # entries in the stream
    "shortener_click_queue_pending",   # delivered, not acknowledged: consumer lag
    "shortener_click_dead_letters",
    "shortener_click_batch_size",      # histogram
    "shortener_click_store_seconds",   # histogram: one batch's database write
    "shortener_click_stream_reclaimed_total",
    "shortener_click_stream_dead_lettered_total",
    "shortener_click_rollup_folds_total",     # PostgreSQL: pending rollup increments folded
    "shortener_click_rollup_fold_skips_total",
    "shortener_click_rollup_fold_failures_total",
    "shortener_click_rollup_fold_seconds_total",
    "shortener_click_store_copy_conflicts_total",
    "shortener_redis_up",
    "shortener_redis_commands_total",
    "shortener_redis_errors_total",
})
PRODUCTION_SERVE_METRICS = frozenset({
    "shortener_clicks_spooled",
    "shortener_click_stream_pushed_total",
    "shortener_cache_redis_hits_total",
    "shortener_cache_redis_misses_total",
    "shortener_cache_prefetch_batches_total",   # the redirect prefetcher's MGETs
    "shortener_cache_prefetch_slugs_total",
    "shortener_cache_prefetch_declined_total",
    "shortener_redis_up",
    "shortener_redis_commands_total",
    "shortener_redis_errors_total",
})
EXPECTED_HISTOGRAMS = frozenset({"shortener_click_batch_size", "shortener_click_store_seconds"})

LISTENING_RE = re.compile(r"^listening on http://([^\s:]+|\[[^\]]+\]):(\d+)\s*$")
# How a build without production mode refuses it (exit code 2, one line on stderr).
NOT_BUILT_RE = re.compile(r"not supported by this build|does not include|not yet", re.I)

_cleanups: list = []


def _run_cleanups() -> None:
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - cleanup must go on
            print(f"[observability] cleanup failed: {exc}", file=sys.stderr)


atexit.register(_run_cleanups)


def require(condition: bool, message: str, env: str = "SHORTENER_OBS_REQUIRE") -> None:
    """Skip the test (or fail it when `env`=1) unless `condition` holds."""
    if condition:
        return
    if os.environ.get(env) == "1":
        raise AssertionError(f"{message} ({env}=1)")
    raise unittest.SkipTest(message)


def require_binary() -> None:
    require(os.access(BIN, os.X_OK), f"shortener binary not found at {BIN} (build it, or set SHORTENER_BIN)")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} not found on PATH (Debian package: see scripts/install-deps.sh --test)")
    return path  # type: ignore[return-value]


def temp_dir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=f"shortener-obs-{prefix}-")
    if os.environ.get("SHORTENER_OBS_KEEP") == "1":
        _cleanups.append(lambda: print(f"[observability] kept {path}", file=sys.stderr))
    else:
        _cleanups.append(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The runner's environment without SHORTENER_* variables (the binary reads them as flags)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORTENER_")}
    env.update(extra or {})
    return env


# ------------------------------------------------------------------------------------ HTTP


def http_get(url: str, timeout: float = HTTP_TIMEOUT) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def http_request(host: str, port: int, method: str, path: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=HTTP_TIMEOUT)
    try:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# ------------------------------------------------------------------------------------ processes


class Process:
    """A child process with its output in a log file; stopped by its PID."""

    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None,
                 cwd: str | None = None):
        self.name = name
        self.args = args
        self.log_path = os.path.join(temp_dir(f"{name}-log"), f"{name}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env or child_env(), cwd=cwd)
        _cleanups.append(self.stop)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def log(self, limit: int = 4000) -> str:
        self._log.flush()
        with open(self.log_path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
        return data[-limit:]

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        self._log.close()
        return self.proc.returncode


class Unavailable(Exception):
    """This build refuses the mode (production mode not built yet)."""


@dataclass
class Shortener:
    """A running `shortener serve` or `shortener worker`, with the port of its /metrics."""

    kind: str  # "serve" or "worker"
    process: Process
    host: str
    port: int
    admin_key: str = ""
    links: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def metrics(self) -> str:
        status, body = http_get(f"http://{self.target}/metrics")
        assert status == 200, f"GET /metrics on {self.kind} answered {status}: {body[:300]}"
        return body

    def create_link(self, url: str) -> str:
        status, body = http_request(self.host, self.port, "POST", "/api/v1/links", {"url": url},
                                    {"Authorization": f"Bearer {self.admin_key}"})
        assert status == 201, f"POST /api/v1/links answered {status}: {body[:300]!r}"
        slug = json.loads(body)["slug"]
        self.links.append(slug)
        return slug

    def redirect(self, slug: str) -> int:
        status, _ = http_request(self.host, self.port, "GET", f"/{slug}",
                                 headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
        return status

    def traffic(self, redirects: int = 5) -> str:
        """Creates a link and follows it `redirects` times (each a 302 and a click); one unknown slug."""
        slug = self.create_link(f"https://example.com/obs/{secrets.token_hex(4)}")
        for _ in range(redirects):
            assert self.redirect(slug) == 302
        assert self.redirect("zzUnknownObsSlug") == 404
        http_get(f"http://{self.target}/readyz")
        return slug


def _await_exit_or(process: Process, ready, what: str) -> Any:
    """Waits for `ready()` to return a value; raises Unavailable when the process exits with a
    'not built yet' refusal, AssertionError on any other exit or on timeout."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not process.running():
            code = process.proc.returncode
            log = process.log()
            if code == 2 and NOT_BUILT_RE.search(log):
                raise Unavailable(log.strip().splitlines()[-1] if log.strip() else f"exit {code}")
            raise AssertionError(f"{what} exited with {code} before it was ready:\n{log}")
        value = ready()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not ready within {START_TIMEOUT:.0f} s:\n{process.log()}")


def start_serve(extra: list[str] | None = None, name: str = "serve") -> Shortener:
    require_binary()
    data_dir = temp_dir(f"{name}-data")
    admin_key = "sk_obs_admin_" + secrets.token_hex(16)
    args = [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir,
            "--admin-key", admin_key, "--log-level", "warn"] + (extra or [])
    process = Process(name, args)

    def listening():
        for line in process.log(100_000).splitlines():
            m = LISTENING_RE.match(line.strip())
            if m:
                return m.group(1), int(m.group(2))
        return None

    host, port = _await_exit_or(process, listening, f"shortener {name}")
    wait_until(lambda: http_get(f"http://{host}:{port}/readyz")[0] == 200, 10.0, what=f"{name} /readyz")
    return Shortener("serve", process, host, port, admin_key)


def start_worker(database_url: str, redis_url: str, extra: list[str] | None = None,
                 name: str = "worker") -> Shortener:
    require_binary()
    port = free_port()
    args = [BIN, "worker", "--database-url", database_url, "--redis-url", redis_url,
            "--metrics-listen", f"127.0.0.1:{port}", "--data-dir", temp_dir(f"{name}-data"),
            "--log-level", "warn"] + (extra or [])
    process = Process(name, args)

    def answering():
        try:
            return http_get(f"http://127.0.0.1:{port}/metrics", timeout=2)[0] == 200
        except OSError:
            return False

    _await_exit_or(process, answering, f"shortener {name}")
    return Shortener("worker", process, "127.0.0.1", port)


def help_text(*subcommand: str) -> str:
    require_binary()
    out = subprocess.run([BIN, *subcommand, "--help"], capture_output=True, text=True, timeout=20,
                         env=child_env())
    return out.stdout + out.stderr


# ------------------------------------------------------------------------------------ production mode


def production_urls() -> tuple[str, str] | None:
    pg = os.environ.get("SHORTENER_TEST_PG_URL", "")
    redis = os.environ.get("SHORTENER_TEST_REDIS_URL", "")
    return (pg, redis) if pg and redis else None


def fresh_schema_url(pg_url: str) -> str:
    """A URL whose connections use a new, empty schema (so the shared test server stays clean)."""
    schema = "obs_" + secrets.token_hex(6)
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", pg_url, "-c", f"CREATE SCHEMA {schema}"],
                   check=True, timeout=30, stdout=subprocess.DEVNULL, env=child_env())

    def drop():
        subprocess.run(["psql", "-q", pg_url, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"],
                       timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())

    _cleanups.append(drop)
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options=-csearch_path%3D{schema}"


def redis_db_url(redis_url: str, db: int) -> str:
    """The same server, database number `db` (keeps this suite's stream apart from other tests)."""
    parts = urllib.parse.urlsplit(redis_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


@dataclass
class Stack:
    """What runs for the tests: an embedded `serve` (always) and, when PostgreSQL and Redis are
    given and the build has production mode, a production `serve` plus a `worker`."""

    serve: Shortener
    prod_serve: Shortener | None = None
    worker: Shortener | None = None
    production_note: str = ""

    def api_targets(self) -> list[Shortener]:
        return [s for s in (self.serve, self.prod_serve) if s is not None]

    def traffic(self) -> None:
        for s in self.api_targets():
            s.traffic()


_stack: Stack | None = None
_stack_lock = threading.Lock()


def stack() -> Stack:
    """Started once per test run (shared by the test modules), stopped at exit."""
    global _stack
    with _stack_lock:
        if _stack is None:
            serve = start_serve()
            serve.traffic()
            _stack = Stack(serve)
            urls = production_urls()
            if urls is None:
                _stack.production_note = ("SHORTENER_TEST_PG_URL / SHORTENER_TEST_REDIS_URL not set: "
                                          "production serve and worker not run")
            else:
                try:
                    pg = fresh_schema_url(urls[0])
                    redis = redis_db_url(urls[1], 11)
                    migrate = subprocess.run([BIN, "migrate", "--database-url", pg], capture_output=True,
                                             text=True, timeout=60, env=child_env())
                    assert migrate.returncode == 0, f"shortener migrate failed: {migrate.stderr}"
                    _stack.worker = start_worker(pg, redis)
                    _stack.prod_serve = start_serve(["--database-url", pg, "--redis-url", redis],
                                                    name="serve-prod")
                    _stack.prod_serve.traffic()
                except Unavailable as exc:
                    _stack.production_note = f"this build has no production mode yet: {exc}"
        return _stack


def require_worker(st: Stack) -> Shortener:
    require(st.worker is not None, f"worker not checked: {st.production_note}",
            env="SHORTENER_OBS_REQUIRE_WORKER")
    return st.worker  # type: ignore[return-value]


# ------------------------------------------------------------------------------------ exposition format


@dataclass
class Exposition:
    """Families declared by `# TYPE` and the sample names present in one /metrics output."""

    types: dict[str, str]
    samples: dict[str, list[tuple[dict[str, str], float]]]

    def has(self, name: str) -> bool:
        """Whether a PromQL metric name is served: a sample name, a declared family, or a
        histogram's _bucket/_sum/_count series."""
        if name in self.samples or name in self.types:
            return True
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and self.types.get(name[: -len(suffix)]) in ("histogram", "summary"):
                return True
        return False

    def value(self, name: str, **labels: str) -> float:
        return sum(v for lbl, v in self.samples.get(name, []) if all(lbl.get(k) == x for k, x in labels.items()))


_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> Exposition:
    types: dict[str, str] = {}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        m = _SAMPLE_RE.match(line.strip())
        if not m:
            raise AssertionError(f"unparsable exposition line: {line!r}")
        labels = dict(_LABEL_RE.findall(m.group(3) or ""))
        samples.setdefault(m.group(1), []).append((labels, float(m.group(4))))
    return Exposition(types, samples)


# ------------------------------------------------------------------------------------ queries in files


_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_METRIC_RE = re.compile(r"\bshortener_[a-zA-Z0-9_]+")


def metric_names(expr: str) -> set[str]:
    """shortener_* identifiers in a PromQL expression, string literals (label values) removed."""
    return set(_METRIC_RE.findall(_STRING_RE.sub('""', expr)))


def base_name(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def dashboard_files() -> list[str]:
    return sorted(os.path.join(DASHBOARDS_DIR, f) for f in os.listdir(DASHBOARDS_DIR) if f.endswith(".json"))


def load_dashboard(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def all_panels(dashboard: dict) -> list[dict]:
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows keep their panels inside
    return out


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(file, panel title, expr) for every Prometheus query of every dashboard."""
    out = []
    for path in dashboard_files():
        d = load_dashboard(path)
        for panel in all_panels(d):
            for t in panel.get("targets", []):
                if t.get("expr"):
                    out.append((os.path.basename(path), panel.get("title", ""), t["expr"]))
        for var in d.get("templating", {}).get("list", []):
            q = var.get("query")
            if var.get("type") == "query":
                text = q.get("query", "") if isinstance(q, dict) else str(q)
                out.append((os.path.basename(path), f"variable {var['name']}", text))
    return out


def load_yaml(path: str) -> Any:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise AssertionError("Python module yaml missing: install the Debian package python3-yaml")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def alert_rules() -> list[dict]:
    doc = load_yaml(ALERTS_FILE)
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


# Grafana's built-in and dashboard variables, replaced by values Prometheus accepts.
GRAFANA_SUBSTITUTIONS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "5m",
    "$api_job": API_JOB,
    "$worker_job": WORKER_JOB,
    "$instance": ".*",
}


def substitute(expr: str) -> str:
    for key in sorted(GRAFANA_SUBSTITUTIONS, key=len, reverse=True):
        expr = expr.replace("${" + key[1:] + "}", GRAFANA_SUBSTITUTIONS[key]).replace(key, GRAFANA_SUBSTITUTIONS[key])
    return expr


# ------------------------------------------------------------------------------------ Prometheus


class Prometheus:
    """A real Prometheus (Debian package) on a free loopback port with a throwaway TSDB."""

    def __init__(self, jobs: dict[str, list[str]], rule_files: list[str] | None = None,
                 scrape_interval: str = "1s"):
        binary = require_tool("prometheus")
        work = temp_dir("prometheus")
        lines = ["global:", f"  scrape_interval: {scrape_interval}", f"  evaluation_interval: {scrape_interval}"]
        if rule_files:
            lines.append("rule_files:")
            lines += [f"  - {json.dumps(path)}" for path in rule_files]
        lines.append("scrape_configs:")
        for job, targets in jobs.items():
            lines += [f"  - job_name: {json.dumps(job)}", "    static_configs:",
                      f"      - targets: {json.dumps(targets)}"]
        self.config_path = os.path.join(work, "prometheus.yml")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = Process("prometheus", [
            binary, f"--config.file={self.config_path}", f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"], cwd=work)

        def ready():
            if not self.process.running():
                raise AssertionError(f"prometheus exited:\n{self.process.log()}")
            try:
                return http_get(f"{self.base}/-/ready", timeout=2)[0] == 200
            except OSError:
                return False

        wait_until(ready, START_TIMEOUT, what="prometheus /-/ready")

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.base}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, body = http_get(url)
        doc = json.loads(body)
        return status, doc

    def query(self, expr: str) -> list[dict]:
        status, doc = self.api("query", query=expr)
        assert status == 200 and doc.get("status") == "success", f"query {expr!r} failed: {doc}"
        return doc["data"]["result"]

    def stop(self) -> None:
        self.process.stop()
