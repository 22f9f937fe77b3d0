"""Production mode under faults (issue 4, "Faults: keep working, lose nothing"): Redis and
PostgreSQL go away and come back while the service is used, and no redirect fails and no click
is lost. Dead letters are listed and replayed with `shortener dead-letters`.

Runs only in production mode (SHORTENER_E2E_DATABASE_URL and SHORTENER_E2E_REDIS_URL set), but
the Redis and PostgreSQL classes start their OWN throwaway servers (scripts/redis-test.sh,
scripts/pg-test.sh, in temporary directories) because they stop, kill and restart them; the
shared servers are never disturbed. The dead-letter class needs no restart and uses the shared
servers with a schema and key prefix of its own. Everything started is stopped in cleanups: the
shortener processes by their PIDs, the database servers through their scripts (which act on the
PID files inside their own directories). Every wait is bounded.

- RedisRestartTest: `serve --with-worker` on its own PostgreSQL + Redis (AOF, appendfsync
  everysec, as production). Two threads redirect continuously (every answer must be 302) while
  Redis is stopped for ~2 s and started again on the same port: once with SHUTDOWN (AOF flushed),
  once with SIGKILL. During the outage /readyz answers 200 "degraded", shortener_redis_up is 0,
  shortener_clicks_spooled goes above 0 (clicks go to DATA_DIR/clicks-redis.spool), and links
  no cache level holds (inserted with SQL) still redirect, read from PostgreSQL. Afterwards the
  spool is replayed and emptied, /readyz is "ready" again and the stats hold exactly the number
  of 302s answered.
  What SIGKILL covers: Redis writes each command to its AOF file (the kernel's page cache) before
  it replies, so a killed *process* loses nothing acknowledged, and the test asserts exact counts
  for it too. What no test here covers: a host crash or power loss, where appendfsync everysec
  can lose up to the last second of XADDs that serve already counted as delivered (only
  `appendfsync always` closes that window).
- PostgresRestartTest: two `serve` replicas (no in-process worker) + one `worker` process on
  their own PostgreSQL + Redis. PostgreSQL is stopped while clicks keep coming — 4 s, or longer
  (at most 15 s) until the worker has failed more batch writes than an entry may be delivered
  (max_deliveries, 5) — once with a fast shutdown, once by SIGKILL to the postmaster (a crash:
  connections die without a goodbye, crash recovery at the restart). Meanwhile: a link in
  replica A's L1 cache and a link only in Redis (created through replica B) keep redirecting
  (302) on A; creating a link answers 503 problem+json with Retry-After: 1; a redirect that
  needs the database answers the 503 page with Retry-After: 5; A's /readyz answers 200
  "degraded" (it still serves cached links: docs/api.md, Probes) and the worker's 503
  "unavailable". After the restart: /readyz is
  200 again, creation works, nothing was dead-lettered, and the stats hold exactly the 302s —
  the worker retried and drained (issue 4: "workers stop acknowledging and retry with backoff,
  then drain the backlog").
  The throwaway cluster runs with synchronous_commit=off, which makes a crash forget the
  commits of its last ~0.6 s although the worker was told they committed (and acknowledged
  them in the stream); production keeps PostgreSQL's default, on, and so does this class.
- DeadLetterTest: a garbage entry XADDed to `<prefix>clicks` is moved to `<prefix>clicks:dead`
  at once ("undecodable event") and `dead-letters list` shows it as a JSON line with `events`
  null; `dead-letters replay --id` moves it back into the stream, where the worker dead-letters
  it again (new id, new origin). Then a realistic failure: the database refuses the click
  writes (INSERT on `clicks` revoked: SQLSTATE 42501), so a batch of clicks fails 5 deliveries
  and its stream entries (one per shipped batch) are dead-lettered ("too many failed
  deliveries", deliveries 5, each click's slug and link id listed); once the privilege is back,
  `replay --id` stores every click exactly once, with its original event id, and a second replay
  of the same id finds nothing.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from analytics import await_total, metrics
from harness import Client, Instance, make_temp_dir, new_admin_key, remove_temp_dir, run_cli

SCRIPTS = os.path.join(harness.REPO, "scripts")
SCRIPT_TIMEOUT = 90.0  # one scripts/*-test.sh call (PostgreSQL's initdb is the slow one)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
OUTAGE = 2.0  # seconds a server stays down
DRAIN_WAIT = 30.0  # seconds for the stats to reach the count once the fault is over
RECOVER_WAIT = 15.0  # seconds for /readyz to report "ready" again after a restart
LOAD_THREADS = 2  # redirect threads, each on its own keep-alive connection
# Between two redirects of one thread: ~1,000 redirects/s in all, so the load does not starve
# the processes under test on a small machine (the click workers run at nice 10).
LOAD_PAUSE = 0.001

needs_production = unittest.skipUnless(
    harness.BACKEND == "production",
    "needs SHORTENER_E2E_DATABASE_URL and SHORTENER_E2E_REDIS_URL (production mode)")


# --------------------------------------------------------------------------------------------
# Throwaway servers and processes


class ThrowawayServer:
    """A PostgreSQL or Redis started by its scripts/*-test.sh in a temporary directory of its
    own; down/kill/up keep the directory and the port, stop removes both."""

    def __init__(self, script: str, name: str):
        self.script = os.path.join(SCRIPTS, script)
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"shortener-e2e-{name}-")
        self.url = ""

    def _run(self, action: str) -> str:
        try:
            proc = subprocess.run([self.script, action, self.dir], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=SCRIPT_TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"{self.script} {action} {self.dir}: timed out\n{e.stderr}")
        if proc.returncode != 0:
            raise AssertionError(f"{self.script} {action} {self.dir} -> {proc.returncode}\n"
                                 f"{proc.stderr[-2000:]}")
        return proc.stdout.strip()

    def start(self) -> "ThrowawayServer":
        self.url = self._run("start")
        return self

    def down(self) -> None:
        self._run("down")

    def kill(self) -> None:
        self._run("kill")

    def up(self) -> None:
        self._run("up")

    def stop(self) -> None:
        if not os.path.isdir(self.dir):
            return
        if not any(f.startswith(".shortener-") for f in os.listdir(self.dir)):
            os.rmdir(self.dir)  # `start` failed before making it its own (e.g. no initdb)
            return
        if os.environ.get("SHORTENER_E2E_KEEP") == "1":
            self._run("down")
            print(f"[e2e] kept {self.dir}", flush=True)
            return
        self._run("stop")


def own_servers(cls: type[unittest.TestCase]) -> tuple[ThrowawayServer, ThrowawayServer]:
    """A PostgreSQL and a Redis for this class alone, stopped in its class cleanup."""
    harness.require_binary()
    pg = ThrowawayServer("pg-test.sh", "pg")
    cls.addClassCleanup(pg.stop)
    redis = ThrowawayServer("redis-test.sh", "redis")
    cls.addClassCleanup(redis.stop)
    pg.start()
    redis.start()
    return pg, redis


class Node(Instance):
    """One `serve` or `worker` process on the given PostgreSQL and Redis."""

    def __init__(self, data_dir: str, admin_key: str, role: str, database_url: str,
                 redis_url: str, prefix: str, with_worker: bool = False):
        super().__init__(data_dir, admin_key)
        self.role, self.database_url, self.redis_url = role, database_url, redis_url
        self.prefix, self.with_worker = prefix, with_worker

    def args(self) -> list[str]:
        common = ["--data-dir", self.data_dir, "--database-url", self.database_url,
                  "--redis-url", self.redis_url, "--redis-prefix", self.prefix]
        if self.role == "worker":
            return ["worker", "--metrics-listen", "127.0.0.1:0", "--concurrency", "2", *common]
        return (["serve", "--listen", "127.0.0.1:0", "--admin-key", self.admin_key,
                 "--threads", "2", *common] + (["--with-worker"] if self.with_worker else []))


def start_node(case: type[unittest.TestCase] | unittest.TestCase, name: str, *args,
               **kwargs) -> Node:
    """Starts a Node with a fresh data dir; its stop and the dir's removal are cleanups of
    `case` (a class: class cleanups; an instance: test cleanups)."""
    cleanup = case.addClassCleanup if isinstance(case, type) else case.addCleanup
    data_dir = make_temp_dir(f"faults-{name}")
    cleanup(remove_temp_dir, data_dir + ".logs")
    cleanup(remove_temp_dir, data_dir)
    node = Node(data_dir, *args, **kwargs)
    cleanup(node.stop, expect_clean=False)
    return node.start()


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", "-X", "-qtA", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         check=True, timeout=60, capture_output=True, text=True)
    return out.stdout.strip()


def redis_cli(url: str, *args: str) -> str:
    out = subprocess.run(["redis-cli", "-u", url, *args], check=True, timeout=30,
                         capture_output=True, text=True)
    return out.stdout.strip()


def forget_redis_prefix(url: str, prefix: str) -> None:
    """Deletes every key under `prefix` on a shared Redis (streams, cached links, salts)."""
    keys = redis_cli(url, "--scan", "--pattern", f"{prefix}*").split()
    for start in range(0, len(keys), 500):
        redis_cli(url, "DEL", *keys[start:start + 500])


def insert_link_with_sql(database_url: str, slug: str, url: str) -> None:
    """A link only the database knows (no cache level has it), as another process or a manual
    edit would leave it."""
    now_us = time.time_ns() // 1000
    psql(database_url, "INSERT INTO links (slug, url, stats_token, created_at) VALUES "
                       f"('{slug}', '{url}', 'st_{secrets.token_hex(8)}', {now_us})")


# --------------------------------------------------------------------------------------------
# Load and probes


class RedirectLoad:
    """Threads redirecting one slug continuously, each on its own keep-alive connection. A
    302 is counted; anything else (another status, a reset, a timeout) is a failure and ends
    that thread, so `count` is exactly the clicks the server answered."""

    def __init__(self, node: Instance, slug: str, threads: int = LOAD_THREADS,
                 pause: float = LOAD_PAUSE):
        self.node, self.slug, self.pause = node, slug, pause
        self.done = [0] * threads
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(threads)]

    @property
    def count(self) -> int:
        return sum(self.done)

    def start(self) -> "RedirectLoad":
        for t in self._threads:
            t.start()
        return self

    def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count < n and not self.failures and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> int:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=harness.HTTP_TIMEOUT + 5)
        alive = [t for t in self._threads if t.is_alive()]
        if alive:
            self.failures.append(f"{len(alive)} load thread(s) did not finish")
        return self.count

    def _run(self, index: int) -> None:
        conn = http.client.HTTPConnection(self.node.host, self.node.port,
                                          timeout=harness.HTTP_TIMEOUT)
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    conn.request("GET", f"/{self.slug}", headers={"User-Agent": USER_AGENT})
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException) as e:
                    self.failures.append(f"thread {index}: {type(e).__name__}: {e} after "
                                         f"{time.monotonic() - started:.2f}s")
                    return
                if resp.status != 302:
                    self.failures.append(f"thread {index}: {resp.status} {resp.reason}")
                    return
                self.done[index] += 1
                if self.pause:
                    time.sleep(self.pause)
        finally:
            conn.close()


def readyz(client: Client) -> tuple[int, dict, str | None]:
    resp = client.get("/readyz", key=None)
    body = json.loads(resp.body) if resp.content_type == "application/json" else {}
    return resp.status, body, resp.header("Retry-After")


def wait_until_ready(client: Client, since: float) -> tuple[tuple[int, dict], float]:
    """Polls /readyz until it says ready or RECOVER_WAIT has passed since `since` (a
    time.monotonic()); returns the last (status, body) and the seconds since `since`."""
    while True:
        after = readyz(client)[:2]
        if after == (200, {"status": "ready"}) or time.monotonic() - since > RECOVER_WAIT:
            return after, time.monotonic() - since
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Redis restart during load


@needs_production
class RedisRestartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.pg, cls.redis = own_servers(cls)
        cls.admin_key = new_admin_key()
        cls.prefix = f"e2e-faults-{secrets.token_hex(4)}:"
        cls.serve = start_node(cls, "redis-serve", cls.admin_key, "serve", cls.pg.url,
                               cls.redis.url, cls.prefix, with_worker=True)

    def client(self) -> Client:
        c = self.serve.client(self.admin_key)
        self.addCleanup(c.close)
        return c

    def spool_files(self) -> list[str]:
        return sorted(f for f in os.listdir(self.serve.data_dir) if f.startswith("clicks-redis"))

    def diagnostics(self) -> str:
        try:
            dead = redis_cli(self.redis.url, "XLEN", f"{self.prefix}clicks:dead")
            length = redis_cli(self.redis.url, "XLEN", f"{self.prefix}clicks")
        except (subprocess.SubprocessError, OSError) as e:
            dead = length = f"? ({e})"
        return (f"stream length {length}, dead letters {dead}, spool files {self.spool_files()}"
                f"\n{self.serve.logs()}")

    def run_outage(self, stop_redis) -> None:
        api = self.client()
        resp = api.create_link("https://example.com/redis-restart")
        self.assertEqual(resp.status, 201, resp.describe())
        slug = resp.json()["slug"]
        # Links in no cache at all: during the outage they are read from PostgreSQL.
        cold = {f"cold-{secrets.token_hex(5)}": f"https://example.com/cold/{i}" for i in range(3)}
        for name, url in cold.items():
            insert_link_with_sql(self.pg.url, name, url)

        load = RedirectLoad(self.serve, slug).start()
        self.addCleanup(load.stop)
        load.wait_for(300)
        self.assertEqual(load.failures, [])
        self.assertGreater(load.count, 0, "no redirect answered before the outage")
        before = load.count

        probe = self.client()
        statuses: list[tuple[int, str]] = []
        spooled_max = 0.0
        redis_up_seen: set[float | None] = set()
        cold_answers: dict[str, str] = {}
        degraded_reasons: set[str] = set()
        stop_redis()
        down_at = time.monotonic()
        try:
            while time.monotonic() - down_at < OUTAGE:
                status, body, _ = readyz(probe)
                statuses.append((status, body.get("status", "")))
                if body.get("status") == "degraded":
                    degraded_reasons.add(body.get("degraded", ""))
                values = metrics(probe)
                spooled_max = max(spooled_max, values.get("shortener_clicks_spooled", 0.0))
                redis_up_seen.add(values.get("shortener_redis_up"))
                untried = [name for name in cold if name not in cold_answers]
                if untried and time.monotonic() - down_at > 0.5:
                    r = probe.get(f"/{untried[0]}", key=None, headers={"User-Agent": USER_AGENT})
                    cold_answers[untried[0]] = f"{r.status} {r.header('Location')}"
                time.sleep(0.05)
        finally:
            during = load.count - before
            self.redis.up()
        up_at = time.monotonic()

        # Back: ready again (reconnected, resubscribed) and the spool replayed into the stream.
        after, ready_after = wait_until_ready(probe, up_at)
        load.wait_for(load.count + 300)
        total = load.stop()

        self.assertEqual(load.failures, [], "a redirect failed while Redis was restarted")
        self.assertGreater(during, 0, "no redirect was answered during the outage")
        self.assertEqual({s for s, _ in statuses}, {200}, f"/readyz during the outage: {statuses}")
        self.assertIn("degraded", {s for _, s in statuses},
                      f"/readyz never said degraded during the outage: {statuses}")
        self.assertTrue(all("redis" in reason for reason in degraded_reasons), degraded_reasons)
        self.assertIn(0.0, redis_up_seen, "shortener_redis_up never 0 during the outage")
        self.assertGreater(spooled_max, 0, "shortener_clicks_spooled stayed 0 during the outage")
        self.assertEqual(cold_answers, {name: f"302 {url}" for name, url in cold.items()},
                         "links in no cache, redirected while Redis was down")
        self.assertEqual(after, (200, {"status": "ready"}),
                         f"/readyz {RECOVER_WAIT}s after Redis came back")

        body = await_total(api, f"/api/v1/links/{slug}/stats", total, timeout=DRAIN_WAIT)
        self.assertEqual(body["total"], total,
                         f"stored {body['total']} of {total} redirects ({during} during the "
                         f"outage)\n{self.diagnostics()}")
        for name in cold:
            body = await_total(api, f"/api/v1/links/{name}/stats", 1, timeout=DRAIN_WAIT)
            self.assertEqual(body["total"], 1, f"cold link {name}\n{self.diagnostics()}")
        deadline = time.monotonic() + RECOVER_WAIT
        while time.monotonic() < deadline:
            if (metrics(probe).get("shortener_clicks_spooled") == 0 and not self.spool_files()):
                break
            time.sleep(0.1)
        self.assertEqual(metrics(probe).get("shortener_clicks_spooled"), 0.0)
        self.assertEqual(self.spool_files(), [], "the spool was not emptied")
        print(f"\n[faults] redis {stop_redis.__name__}: {total} redirects, {during} during "
              f"{OUTAGE:.0f}s down, spooled max {spooled_max:.0f}, ready {ready_after:.2f}s "
              f"after restart", flush=True)

    def test_redis_shutdown_and_restart(self) -> None:
        self.run_outage(self.redis.down)

    def test_redis_killed_and_restarted(self) -> None:
        self.run_outage(self.redis.kill)


# --------------------------------------------------------------------------------------------
# PostgreSQL restart


@needs_production
class PostgresRestartTest(unittest.TestCase):
    OUTAGE = 4.0  # seconds PostgreSQL stays down at least ...
    OUTAGE_MAX = 15.0  # ... and at most, until the worker has failed more writes than:
    MAX_DELIVERIES = 5  # RedisClickQueueOptions::max_deliveries

    @classmethod
    def setUpClass(cls) -> None:
        cls.pg, cls.redis = own_servers(cls)
        # scripts/pg-test.sh runs with synchronous_commit=off: a crashed server forgets commits
        # of its last ~0.6 s, which the worker had already acknowledged in the stream. Production
        # keeps PostgreSQL's default (on), so this class does too, for every connection it makes.
        psql(cls.pg.url, "ALTER ROLE CURRENT_USER SET synchronous_commit = on")
        cls.admin_key = new_admin_key()
        cls.prefix = f"e2e-faults-{secrets.token_hex(4)}:"
        args = (cls.admin_key,)
        urls = (cls.pg.url, cls.redis.url, cls.prefix)
        cls.a = start_node(cls, "pg-serve-a", *args, "serve", *urls)
        cls.b = start_node(cls, "pg-serve-b", *args, "serve", *urls)
        cls.worker = start_node(cls, "pg-worker", *args, "worker", *urls)

    def client(self, node: Instance) -> Client:
        c = node.client(self.admin_key)
        self.addCleanup(c.close)
        return c

    def diagnostics(self) -> str:
        try:
            dead = redis_cli(self.redis.url, "XLEN", f"{self.prefix}clicks:dead")
            length = redis_cli(self.redis.url, "XLEN", f"{self.prefix}clicks")
        except (subprocess.SubprocessError, OSError) as e:
            dead = length = f"? ({e})"
        return (f"stream length {length}, dead letters {dead}\n"
                f"worker: {self.worker.logs(2500)}")

    def test_postgres_shutdown_and_restart(self) -> None:
        self.run_outage(self.pg.down)

    def test_postgres_killed_and_restarted(self) -> None:
        self.run_outage(self.pg.kill)

    def run_outage(self, stop_pg) -> None:
        api, probe = self.client(self.a), self.client(self.a)
        worker_probe = self.client(self.worker)
        resp = api.create_link("https://example.com/pg-restart")
        self.assertEqual(resp.status, 201, resp.describe())
        in_l1 = resp.json()["slug"]  # cached on A at creation
        resp = self.client(self.b).create_link("https://example.com/pg-restart-redis")
        self.assertEqual(resp.status, 201, resp.describe())
        in_redis = resp.json()["slug"]  # in Redis and B's L1, not in A's L1
        unknown = f"nope-{secrets.token_hex(5)}"  # never cached: needs the database
        dead_stream = f"{self.prefix}clicks:dead"
        dead_before = redis_cli(self.redis.url, "XLEN", dead_stream)

        failures_before = metrics(worker_probe).get("shortener_click_store_failures_total", 0)

        load = RedirectLoad(self.a, in_l1).start()
        self.addCleanup(load.stop)
        load.wait_for(300)
        self.assertEqual(load.failures, [])
        before = load.count

        stop_pg()
        down_at = time.monotonic()
        try:
            # Cached links: 302 on A, from L1 and from Redis (then L1).
            redis_hits = 0
            for _ in range(20):
                r = probe.get(f"/{in_redis}", key=None, headers={"User-Agent": USER_AGENT})
                self.assertEqual(r.status, 302, r.describe())
                self.assertEqual(r.header("Location"), "https://example.com/pg-restart-redis")
                redis_hits += 1
            # Creation needs the database: 503 problem+json with Retry-After.
            r = api.create_link("https://example.com/during-outage")
            self.assertEqual(r.status, 503, r.describe())
            self.assertEqual(r.content_type, harness.PROBLEM_TYPE, r.describe())
            problem = r.json()
            self.assertEqual(problem.get("status"), 503, r.describe())
            self.assertEqual(problem.get("type"), "/problems/unavailable", r.describe())
            self.assertEqual(r.header("Retry-After"), "1", r.describe())  # docs/api.md, Errors
            # A redirect that needs the database: the 503 page, with Retry-After.
            r = probe.get(f"/{unknown}", key=None)
            self.assertEqual(r.status, 503, r.describe())
            self.assertEqual(r.content_type, "text/html", r.describe())
            self.assertEqual(r.header("Retry-After"), "5", r.describe())
            # A production replica stays in service (it serves cached links) and says it is
            # degraded (docs/api.md, Probes); the worker, which can do nothing, is unready.
            status, body, _ = readyz(probe)
            self.assertEqual((status, body.get("status")), (200, "degraded"), body)
            self.assertTrue(body.get("degraded", "").startswith("database"), body)
            status, body, _ = readyz(worker_probe)
            self.assertEqual((status, body.get("status")), (503, "unavailable"), body)
            self.assertTrue(body.get("reason", "").startswith("database"), body)
            # Down long enough for a batch to fail more often than an entry may be delivered.
            while True:
                worker_failures = (metrics(worker_probe).get(
                    "shortener_click_store_failures_total", 0) - failures_before)
                elapsed = time.monotonic() - down_at
                if elapsed >= self.OUTAGE_MAX or (elapsed >= self.OUTAGE and
                                                  worker_failures > self.MAX_DELIVERIES):
                    break
                time.sleep(0.1)
            outage = time.monotonic() - down_at
        finally:
            during = load.count - before
            self.pg.up()
        up_at = time.monotonic()

        after, ready_after = wait_until_ready(probe, up_at)
        self.assertEqual(after, (200, {"status": "ready"}),
                         f"/readyz {RECOVER_WAIT}s after PostgreSQL came back")
        r = api.create_link("https://example.com/after-outage")
        self.assertEqual(r.status, 201, r.describe())
        load.wait_for(load.count + 300)
        total = load.stop()
        self.assertEqual(load.failures, [], "a cached redirect failed while PostgreSQL was down")
        self.assertGreater(during, 0, "no redirect was answered during the outage")
        self.assertGreater(worker_failures, 0,
                           "the worker never failed a write: the outage was not exercised")
        # Retrying a write the database could not take must not use up deliveries.
        dead_now = redis_cli(self.redis.url, "XLEN", dead_stream)
        self.assertEqual(dead_now, dead_before,
                         f"{int(dead_now) - int(dead_before)} clicks were dead-lettered because "
                         f"PostgreSQL was down for {outage:.1f}s "
                         f"(`shortener dead-letters list` shows them)")

        body = await_total(api, f"/api/v1/links/{in_l1}/stats", total, timeout=DRAIN_WAIT)
        self.assertEqual(body["total"], total,
                         f"stored {body['total']} of {total} redirects ({during} during the "
                         f"outage)\n{self.diagnostics()}")
        body = await_total(api, f"/api/v1/links/{in_redis}/stats", redis_hits,
                           timeout=DRAIN_WAIT)
        self.assertEqual(body["total"], redis_hits, self.diagnostics())
        self.assertEqual(redis_cli(self.redis.url, "XLEN", dead_stream), dead_before,
                         "clicks were dead-lettered during the outage")
        print(f"\n[faults] postgres {stop_pg.__name__} {outage:.1f}s: {total} redirects, "
              f"{during} during the outage, worker write failures {worker_failures:.0f}, "
              f"ready {ready_after:.2f}s after restart", flush=True)


# --------------------------------------------------------------------------------------------
# Dead letters


DEAD_WAIT = 20.0  # seconds for entries to reach the dead-letter stream


@needs_production
class DeadLetterTest(unittest.TestCase):
    """On the shared PostgreSQL and Redis (nothing is restarted): a schema and a key prefix of
    its own. One `serve` (no in-process worker); each test starts its own `worker`."""

    @classmethod
    def setUpClass(cls) -> None:
        harness.require_binary()
        cls.admin_key = new_admin_key()
        schema = "e2e_faults_" + secrets.token_hex(5)
        psql(harness.DATABASE_URL, f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in harness.DATABASE_URL else "?"
        cls.addClassCleanup(psql, harness.DATABASE_URL, f"DROP SCHEMA {schema} CASCADE")
        cls.database_url = f"{harness.DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
        cls.prefix = f"e2e-faults-{secrets.token_hex(5)}:"
        cls.addClassCleanup(forget_redis_prefix, harness.REDIS_URL, cls.prefix)
        cls.serve = start_node(cls, "dead-serve", cls.admin_key, "serve", cls.database_url,
                               harness.REDIS_URL, cls.prefix)

    def start_worker(self, prefix: str) -> Node:
        return start_node(self, "dead-worker", self.admin_key, "worker", self.database_url,
                          harness.REDIS_URL, prefix)

    def cli(self, prefix: str, *args: str) -> harness.CliResult:
        sub, rest = args[0], list(args[1:])
        result = run_cli(["dead-letters", sub, "--redis-url", harness.REDIS_URL,
                          "--redis-prefix", prefix, *rest])
        self.assertEqual(result.returncode, 0, result.describe())
        return result

    def dead_letters(self, prefix: str) -> list[dict]:
        result = self.cli(prefix, "list")
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        try:
            return [json.loads(line) for line in lines]
        except ValueError as e:
            self.fail(f"dead-letters list: not JSON lines ({e})\n{result.describe()}")

    def await_dead_letters(self, prefix: str, ready, timeout: float = DEAD_WAIT) -> list[dict]:
        """Polls `dead-letters list` until `ready(letters)` (bounded); returns the last list."""
        deadline = time.monotonic() + timeout
        letters = self.dead_letters(prefix)
        while not ready(letters) and time.monotonic() < deadline:
            time.sleep(0.2)
            letters = self.dead_letters(prefix)
        return letters

    def redis(self, *args: str) -> str:
        return redis_cli(harness.REDIS_URL, *args)

    def test_undecodable_entry(self) -> None:
        prefix = f"e2e-faults-{secrets.token_hex(5)}:"  # an empty dead-letter stream
        self.addCleanup(forget_redis_prefix, harness.REDIS_URL, prefix)
        worker = self.start_worker(prefix)
        stream, dead = f"{prefix}clicks", f"{prefix}clicks:dead"
        origin = self.redis("XADD", stream, "*", "e", "not a click event")

        letters = self.await_dead_letters(prefix, lambda ls: len(ls) >= 1)
        self.assertEqual(len(letters), 1, letters)
        letter = letters[0]
        self.assertEqual(set(letter), {"id", "original_id", "deliveries", "reason", "events"})
        self.assertEqual((letter["original_id"], letter["reason"], letter["deliveries"],
                          letter["events"]), (origin, "undecodable event", 1, None), letter)
        self.assertEqual(self.redis("XLEN", stream), "0", "the entry stayed in the click stream")
        probe = worker.client()
        self.addCleanup(probe.close)
        self.assertEqual(metrics(probe).get("shortener_click_dead_letters"), 1.0)

        # Replayed: a fresh entry in the click stream, which the worker dead-letters again.
        result = self.cli(prefix, "replay", "--id", letter["id"])
        self.assertEqual(result.stdout.strip(), "replayed 1 dead letter into the click stream",
                         result.describe())
        again = self.await_dead_letters(
            prefix, lambda ls: len(ls) == 1 and ls[0]["id"] != letter["id"])
        self.assertEqual(len(again), 1, again)
        self.assertNotEqual(again[0]["id"], letter["id"], again)
        self.assertNotEqual(again[0]["original_id"], origin, again)
        self.assertEqual((again[0]["reason"], again[0]["deliveries"], again[0]["events"]),
                         ("undecodable event", 1, None), again)
        self.assertEqual(self.redis("XLEN", stream), "0")
        # The old id is gone: replaying it again finds nothing.
        result = self.cli(prefix, "replay", "--id", letter["id"])
        self.assertEqual(result.stdout.strip(), "replayed 0 dead letters into the click stream",
                         result.describe())
        # What the runbook says to do with an undecodable entry after inspecting it.
        self.assertEqual(self.redis("XDEL", dead, again[0]["id"]), "1")
        self.assertEqual(self.dead_letters(prefix), [])

    def test_failed_writes_are_dead_lettered_then_replayed(self) -> None:
        prefix = self.prefix
        api = self.serve.client(self.admin_key)
        self.addCleanup(api.close)
        resp = api.create_link("https://example.com/dead-letters")
        self.assertEqual(resp.status, 201, resp.describe())
        slug = resp.json()["slug"]
        link_id = int(psql(self.database_url, f"SELECT id FROM links WHERE slug = '{slug}'"))

        # The cause: the database refuses click writes (SQLSTATE 42501, not a transient error).
        psql(self.database_url, "REVOKE INSERT ON clicks FROM CURRENT_USER")
        self.addCleanup(psql, self.database_url, "GRANT INSERT ON clicks TO CURRENT_USER")
        # Clicks queued while no worker runs, so one worker batch takes them all. The stream
        # holds one entry per shipped batch; `<prefix>clicks:length` counts the clicks in it.
        clicks = 3
        for _ in range(clicks):
            r = api.get(f"/{slug}", key=None, headers={"User-Agent": USER_AGENT})
            self.assertEqual(r.status, 302, r.describe())
        deadline = time.monotonic() + 10
        while self.redis("GET", f"{prefix}clicks:length") != str(clicks):
            self.assertLess(time.monotonic(), deadline, "the clicks never reached the stream")
            time.sleep(0.05)
        entries = int(self.redis("XLEN", f"{prefix}clicks"))
        self.assertTrue(1 <= entries <= clicks, entries)

        def dead_clicks(ls: list[dict]) -> int:
            return sum(len(l["events"] or []) for l in ls)

        started = time.monotonic()
        worker = self.start_worker(prefix)
        letters = self.await_dead_letters(prefix, lambda ls: dead_clicks(ls) >= clicks)
        dead_after = time.monotonic() - started
        self.assertEqual(len(letters), entries, f"{letters}\n{worker.logs()}")
        self.assertEqual(dead_clicks(letters), clicks, f"{letters}\n{worker.logs()}")
        for letter in letters:
            self.assertEqual((letter["reason"], letter["deliveries"]),
                             ("too many failed deliveries", 5), letter)
            self.assertTrue(letter["events"], letter)
            for event in letter["events"]:
                self.assertEqual((event["slug"], event["link_id"], event["user_agent"]),
                                 (slug, link_id, USER_AGENT), letter)
        self.assertEqual(len({l["original_id"] for l in letters}), entries)
        event_ids = {e["id"] for l in letters for e in l["events"]}
        self.assertEqual(len(event_ids), clicks)
        self.assertEqual(self.redis("XLEN", f"{prefix}clicks"), "0")
        self.assertEqual(self.redis("EXISTS", f"{prefix}clicks:length"), "0")
        probe = worker.client()
        self.addCleanup(probe.close)
        values = metrics(probe)
        self.assertGreaterEqual(values.get("shortener_click_store_failures_total", 0), 5, values)
        self.assertEqual(values.get("shortener_click_dead_letters"), float(entries))
        self.assertEqual(values.get("shortener_click_queue_length"), 0.0)
        self.assertEqual(api.get(f"/api/v1/links/{slug}/stats?bots=include").json()["total"], 0)

        # Fixed: the replayed entries are stored, each once, with their original event ids.
        psql(self.database_url, "GRANT INSERT ON clicks TO CURRENT_USER")
        ids = [arg for l in letters for arg in ("--id", l["id"])]
        result = self.cli(prefix, "replay", *ids)
        plural = "" if entries == 1 else "s"
        self.assertEqual(result.stdout.strip(),
                         f"replayed {entries} dead letter{plural} into the click stream",
                         result.describe())
        body = await_total(api, f"/api/v1/links/{slug}/stats", clicks, timeout=DRAIN_WAIT)
        self.assertEqual(body["total"], clicks, worker.logs())
        stored = psql(self.database_url, f"SELECT id FROM clicks WHERE link_id = {link_id}")
        self.assertEqual(set(stored.split()), event_ids)
        self.assertEqual(self.dead_letters(prefix), [])
        result = self.cli(prefix, "replay", "--id", letters[0]["id"])
        self.assertEqual(result.stdout.strip(), "replayed 0 dead letters into the click stream")
        self.assertEqual(metrics(probe).get("shortener_click_dead_letters"), 0.0)
        print(f"\n[faults] dead-lettered {clicks} clicks {dead_after:.2f}s after the worker "
              "started", flush=True)


if __name__ == "__main__":
    unittest.main()
