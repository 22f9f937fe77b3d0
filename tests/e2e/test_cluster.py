"""Production mode as a cluster: 2 `serve` replicas + 2 `worker` processes on one PostgreSQL
and one Redis (SHORTENER_E2E_DATABASE_URL + SHORTENER_E2E_REDIS_URL; skipped otherwise).

50,000 redirects spread over both replicas while one worker is killed with SIGKILL mid-run and
restarted: afterwards the stats say exactly 50,000 clicks and the raw clicks table holds 50,000
rows with 50,000 distinct event ids (the dead worker's pending entries were reclaimed and stored
once). An SSE client connected to replica A sees clicks that replica B redirected. An edit made
through replica A reaches replica B's L1 cache within 1 s (pub/sub invalidation), and a created
link's Redis key lives 24 h.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import subprocess
import threading
import time
import unittest

import harness
from analytics import SseStream, metrics
from harness import Instance, make_temp_dir, new_admin_key, remove_temp_dir

TOTAL = int(os.environ.get("SHORTENER_E2E_CLUSTER_CLICKS", "50000"))
THREADS = 8  # client threads, each on its own keep-alive connection
DRAIN_WAIT = 120.0  # seconds for the workers to store the backlog after the last redirect
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"

needs_cluster = unittest.skipUnless(
    harness.BACKEND == "production",
    "needs SHORTENER_E2E_DATABASE_URL and SHORTENER_E2E_REDIS_URL (production mode)")


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", "-qtA", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                         timeout=60, capture_output=True, text=True)
    return out.stdout.strip()


def redis_cli(*args: str) -> str:
    out = subprocess.run(["redis-cli", "-u", harness.REDIS_URL, *args], check=True, timeout=30,
                         capture_output=True, text=True)
    return out.stdout.strip()


class Node(Instance):
    """One process of the cluster: every node shares the schema and the Redis prefix."""

    def __init__(self, data_dir: str, admin_key: str, role: str, database_url: str,
                 prefix: str):
        super().__init__(data_dir, admin_key)
        self.role, self.database_url, self.prefix = role, database_url, prefix

    def args(self) -> list[str]:
        common = ["--data-dir", self.data_dir, "--database-url", self.database_url,
                  "--redis-url", harness.REDIS_URL, "--redis-prefix", self.prefix]
        if self.role == "worker":
            return ["worker", "--metrics-listen", "127.0.0.1:0", "--concurrency", "2", *common]
        return ["serve", "--listen", "127.0.0.1:0", "--admin-key", self.admin_key,
                "--threads", "2", *common]


@needs_cluster
class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.admin_key = new_admin_key()
        schema = "e2e_cluster_" + secrets.token_hex(5)
        psql(harness.DATABASE_URL, f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in harness.DATABASE_URL else "?"
        cls.database_url = f"{harness.DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
        cls.prefix = f"e2e-cluster-{secrets.token_hex(5)}:"
        cls.nodes: dict[str, Node] = {}
        for name, role in (("a", "serve"), ("b", "serve"), ("w1", "worker"), ("w2", "worker")):
            data_dir = make_temp_dir(f"cluster-{name}")
            cls.addClassCleanup(remove_temp_dir, data_dir)
            cls.addClassCleanup(remove_temp_dir, data_dir + ".logs")
            node = Node(data_dir, cls.admin_key, role, cls.database_url, cls.prefix)
            cls.addClassCleanup(node.stop, expect_clean=False)
            cls.nodes[name] = node.start()

    def client(self, name: str) -> harness.Client:
        node = self.nodes[name]
        c = node.client(self.admin_key)
        self.addCleanup(c.close)
        return c

    def create(self, name: str, url: str) -> str:
        resp = self.client(name).create_link(url)
        self.assertEqual(resp.status, 201, resp.describe())
        return resp.json()["slug"]

    def total(self, slug: str) -> int:
        resp = self.client("a").get(f"/api/v1/links/{slug}/stats?bots=include")
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()["total"]

    def test_clicks_across_replicas_survive_a_killed_worker(self) -> None:
        slug = self.create("a", "https://example.com/cluster")
        seen_on_a = self.create("a", "https://example.com/cluster-live")
        a, b = self.nodes["a"], self.nodes["b"]

        # An SSE client on replica A, for a link only replica B redirects.
        stream = SseStream(a.host, a.port, f"/api/v1/links/{seen_on_a}/live", self.admin_key)
        self.addCleanup(stream.close)
        self.assertEqual(stream.open().status, 200)
        b_client = self.client("b")
        resp = b_client.get(f"/{seen_on_a}", key=None, headers={"User-Agent": USER_AGENT})
        self.assertEqual(resp.status, 302, resp.describe())
        event = stream.next(timeout=5.0)
        self.assertEqual(event.event, "click")

        # TOTAL redirects, alternating replicas per thread; the first worker dies mid-run.
        failures: list[str] = []
        done = [0] * THREADS

        def load(index: int) -> None:
            node = (a, b)[index % 2]
            conn = http.client.HTTPConnection(node.host, node.port, timeout=10)
            count = TOTAL // THREADS + (1 if index < TOTAL % THREADS else 0)
            try:
                for _ in range(count):
                    conn.request("GET", f"/{slug}", headers={"User-Agent": USER_AGENT})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 302:
                        failures.append(f"{node.base_url}: {r.status}")
                        return
                    done[index] += 1
            except OSError as e:
                failures.append(f"{node.base_url}: {e}")
            finally:
                conn.close()

        threads = [threading.Thread(target=load, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        while sum(done) < TOTAL // 3 and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        w1 = self.nodes["w1"]
        killed_at = sum(done)
        w1.stop(signal.SIGKILL, expect_clean=False)
        time.sleep(0.5)
        w1.start()
        for t in threads:
            t.join(timeout=300)
        self.assertEqual(failures, [])
        self.assertEqual(sum(done), TOTAL)
        self.assertGreater(killed_at, 0)

        deadline = time.monotonic() + DRAIN_WAIT
        total = self.total(slug)
        while total < TOTAL and time.monotonic() < deadline:
            time.sleep(0.5)
            total = self.total(slug)
        time.sleep(1.0)  # an over-count would show now
        self.assertEqual(self.total(slug), TOTAL)
        link_id = psql(self.database_url, f"SELECT id FROM links WHERE slug = '{slug}'")
        rows, distinct = psql(
            self.database_url,
            f"SELECT count(*), count(DISTINCT id) FROM clicks WHERE link_id = {link_id}",
        ).split("|")
        self.assertEqual((int(rows), int(distinct)), (TOTAL, TOTAL))

    def test_edit_on_one_replica_reaches_the_other_within_a_second(self) -> None:
        slug = self.create("a", "https://example.com/before")
        b_client = self.client("b")
        for _ in range(2):  # the second is an L1 hit on B
            resp = b_client.get(f"/{slug}", key=None)
            self.assertEqual(resp.header("Location"), "https://example.com/before")
        resp = self.client("a").patch(f"/api/v1/links/{slug}",
                                      {"url": "https://example.com/after"})
        self.assertEqual(resp.status, 200, resp.describe())
        deadline = time.monotonic() + 1.0
        while True:
            location = b_client.get(f"/{slug}", key=None).header("Location")
            if location == "https://example.com/after" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(location, "https://example.com/after")

    def test_an_l1_miss_is_answered_from_redis_by_the_prefetcher(self) -> None:
        slug = self.create("a", "https://example.com/prefetched")  # in Redis and A's L1 only
        b_client = self.client("b")
        before = metrics(b_client)
        resp = b_client.get(f"/{slug}", key=None)
        self.assertEqual(resp.status, 302, resp.describe())
        self.assertEqual(resp.header("Location"), "https://example.com/prefetched")
        after = metrics(b_client)
        grew = lambda name: after.get(name, 0) - before.get(name, 0)  # noqa: E731
        # One Redis round trip of the prefetcher, no database read, nothing sent to the pool.
        self.assertEqual(grew("shortener_cache_prefetch_slugs_total"), 1)
        self.assertEqual(grew("shortener_cache_prefetch_batches_total"), 1)
        self.assertEqual(grew("shortener_cache_redis_hits_total"), 1)
        self.assertEqual(grew("shortener_cache_redis_misses_total"), 0)
        self.assertEqual(grew("shortener_cache_misses_total"), 1)  # counted once, not per look
        self.assertEqual(grew("shortener_cache_prefetch_declined_total"), 0)
        # The prefetched link stays in B's L1: the next redirect asks nobody.
        again = b_client.get(f"/{slug}", key=None)
        self.assertEqual(again.header("Location"), "https://example.com/prefetched")
        last = metrics(b_client)
        self.assertEqual(last["shortener_cache_prefetch_batches_total"],
                         after["shortener_cache_prefetch_batches_total"])
        # A slug nobody has: Redis misses, the pool reads the database, 404; the second time
        # B's L1 remembers it.
        unknown = f"nope{secrets.token_hex(4)}"
        for _ in range(2):
            resp = b_client.get(f"/{unknown}", key=None)
            self.assertEqual(resp.status, 404, resp.describe())
        final = metrics(b_client)
        self.assertEqual(final["shortener_cache_redis_misses_total"]
                         - last["shortener_cache_redis_misses_total"], 1)

    def test_anonymous_creation_limit_is_shared_by_the_replicas(self) -> None:
        # Both replicas see the client as 127.0.0.1: one budget of 30 a minute between them.
        anon = {name: self.nodes[name].client(None) for name in ("a", "b")}
        for c in anon.values():
            self.addCleanup(c.close)
        statuses = []
        for i in range(31):
            resp = anon["ab"[i % 2]].create_link(f"https://example.com/anon-{i}")
            statuses.append(resp.status)
            if resp.status == 429:
                self.assertEqual(resp.content_type, harness.PROBLEM_TYPE, resp.describe())
                self.assertTrue(resp.header("Retry-After"), resp.describe())
                break
        self.assertEqual(statuses, [201] * 30 + [429])

    def test_created_link_has_a_24h_redis_key(self) -> None:
        slug = self.create("b", "https://example.com/ttl")
        ttl = int(redis_cli("TTL", f"{self.prefix}link:{slug}"))
        self.assertTrue(86_000 <= ttl <= 86_400, ttl)


if __name__ == "__main__":
    unittest.main()
