"""Clicks survive shutdown: SIGTERM right after (or in the middle of) a burst of redirects sent
from several threads exits 0 within 5 s, and once the server is back on the same data dir the
stats hold exactly the clicks that were answered — no fewer, and no more after further restarts
(replaying what was spooled is idempotent; the CSV ids stay distinct).

The last two classes inject a fault from outside: another process holds the SQLite write lock
(`BEGIN IMMEDIATE` on DATA_DIR/shortener.db), so the workers cannot store anything when SIGTERM
comes. Unprocessed clicks must then go to DATA_DIR/clicks.spool (the documented spool) and the
exit must still be clean and within 5 s. That spool is also copied and fed back once more, to
show that replaying the same events counts nothing twice.
"""

import os
import shutil
import sqlite3
import threading
import time
import unittest

import harness

from analytics import Burst, await_total, csv_rows, metrics
from harness import (
    STOP_TIMEOUT, Instance, create_key, make_temp_dir, new_admin_key, remove_temp_dir,
    require_binary,
)

BURST = 3000
THREADS = 6
RESTARTS = 3
SPOOL = "clicks.spool"


class DurabilityCase(unittest.TestCase):
    extra_args: list[str] = []

    def setUp(self) -> None:
        require_binary()
        self.tmp = make_temp_dir("durable")
        self.addCleanup(remove_temp_dir, self.tmp)
        self.addCleanup(remove_temp_dir, self.tmp + ".logs")
        self.key = create_key(self.tmp)
        self.admin = new_admin_key()

    def start(self) -> Instance:
        # A fixed public URL: the default one carries the port, which changes on every start.
        server = Instance(self.tmp, self.admin, list(self.extra_args),
                          public_url="https://sho.rt").start()
        self.addCleanup(server.stop, expect_clean=False)
        return server

    def new_link(self, server: Instance) -> str:
        c = server.client(self.key)
        try:
            resp = c.create_link("https://example.com/durable")
            self.assertEqual(resp.status, 201, resp.describe())
            return resp.json()["slug"]
        finally:
            c.close()

    def sigterm(self, server: Instance) -> float:
        """SIGTERM; asserts exit 0 within STOP_TIMEOUT; returns the seconds it took."""
        code, elapsed = server.stop(expect_clean=False)
        self.assertEqual(code, 0, f"exit code after SIGTERM ({elapsed:.2f}s)\n{server.logs()}")
        self.assertLess(elapsed, STOP_TIMEOUT)
        return elapsed

    def assertStored(self, server: Instance, slug: str, low: int, high: int | None = None,
                     wait_for: int | None = None) -> int:
        """Stats (bots included) and the CSV hold between `low` and `high` clicks (exactly
        `low` when `high` is None), and the CSV ids are distinct. Waits (bounded) for
        `wait_for` clicks (default `low`). Returns the count."""
        high = low if high is None else high
        c = server.client(self.key)
        try:
            body = await_total(c, f"/api/v1/links/{slug}/stats", wait_for or low)
            total = body["total"]
            self.assertTrue(low <= total <= high, f"stored {total}, expected {low}..{high}")
            _, rows = csv_rows(c.get(f"/api/v1/links/{slug}/clicks.csv"))
            ids = [r["id"] for r in rows]
            self.assertEqual(len(ids), total, "CSV rows and stats total differ")
            self.assertEqual(len(set(ids)), len(ids), "CSV ids repeat")
            return total
        finally:
            c.close()

    def assertQueueEmpty(self, server: Instance) -> None:
        c = server.client()
        try:
            deadline = time.monotonic() + 10
            while (m := metrics(c))["shortener_click_queue_length"] and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(m["shortener_click_queue_length"], 0)
            self.assertEqual(m["shortener_clicks_dropped_total"], 0)
        finally:
            c.close()


class SigtermAfterBurstTest(DurabilityCase):
    def test_sigterm_right_after_a_burst_loses_nothing(self) -> None:
        server = self.start()
        slug = self.new_link(server)
        burst = Burst(server.host, server.port, slug, BURST, THREADS).start()
        burst.join()
        self.assertEqual((burst.ok, burst.other, burst.uncertain), (BURST, 0, 0), burst.statuses)
        self.sigterm(server)  # the burst's keep-alive connections are still open
        for round_ in range(RESTARTS):
            with self.subTest(restart=round_ + 1):
                server = self.start()
                self.assertStored(server, slug, BURST)
                self.assertQueueEmpty(server)
                self.sigterm(server)


class SigtermMidBurstTest(DurabilityCase):
    def test_sigterm_in_the_middle_of_a_burst_loses_nothing(self) -> None:
        server = self.start()
        slug = self.new_link(server)
        burst = Burst(server.host, server.port, slug, BURST * 10, THREADS).start()
        burst.wait_answered(BURST // 2, timeout=30)
        self.sigterm(server)  # while the threads keep sending
        burst.stop()
        burst.join()
        # Requests that come after the listener closes may be refused with 503; never anything
        # else (a 503 is not a redirect, so not a click).
        self.assertLessEqual(set(burst.statuses), {302, 503}, burst.statuses)
        self.assertGreaterEqual(burst.ok, BURST // 2)
        # Every answered redirect is stored; an unanswered one may or may not be.
        server = self.start()
        stored = self.assertStored(server, slug, burst.ok, burst.ok + burst.uncertain)
        self.sigterm(server)
        server = self.start()
        self.assertStored(server, slug, stored)


class LockedDatabase:
    """Holds the SQLite write lock of a data dir from another process's point of view."""

    def __init__(self, data_dir: str):
        self.db = sqlite3.connect(os.path.join(data_dir, "shortener.db"), timeout=5,
                                  isolation_level=None, check_same_thread=False)
        self.db.execute("BEGIN IMMEDIATE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.db.execute("ROLLBACK")
            self.held = False
        self.db.close()


@unittest.skipIf(harness.BACKEND != "sqlite", "holds the SQLite write lock of the data dir")
class LockedDatabaseShutdownTest(DurabilityCase):
    def test_sigterm_while_the_database_is_locked_spools_everything(self) -> None:
        server = self.start()
        slug = self.new_link(server)
        c = server.client()
        self.assertEqual(c.get(f"/{slug}").status, 302)  # warms the link cache: 1 click
        c.close()
        self.assertStored(server, slug, 1)
        lock = LockedDatabase(self.tmp)
        self.addCleanup(lock.release)
        burst = Burst(server.host, server.port, slug, BURST, THREADS).start()
        burst.join()
        self.assertEqual((burst.ok, burst.other, burst.uncertain), (BURST, 0, 0), burst.statuses)
        code, elapsed = server.stop(expect_clean=False)
        spooled = os.path.exists(os.path.join(self.tmp, SPOOL))
        lock.release()
        server = self.start()
        # (A SIGKILLed server spooled nothing: no point waiting for the clicks then.)
        stored = self.assertStored(server, slug, 0, 1 + BURST,
                                   wait_for=1 + BURST if code == 0 else 1)
        self.assertEqual(
            (code, elapsed < STOP_TIMEOUT, stored), (0, True, 1 + BURST),
            f"SIGTERM with the database write-locked by another process: exit {code} after "
            f"{elapsed:.2f}s "
            f"(SIGKILL at {STOP_TIMEOUT}s), spool written: {spooled}, clicks stored after "
            f"restart: {stored} of {1 + BURST}")


@unittest.skipIf(harness.BACKEND != "sqlite", "makes its spool by locking the SQLite file")
class SpoolReplayTest(DurabilityCase):
    def test_a_spool_replayed_twice_counts_once(self) -> None:
        server = self.start()
        slug = self.new_link(server)
        c = server.client()
        self.assertEqual(c.get(f"/{slug}").status, 302)
        c.close()
        self.assertStored(server, slug, 1)
        lock = LockedDatabase(self.tmp)
        self.addCleanup(lock.release)
        burst = Burst(server.host, server.port, slug, BURST, THREADS).start()
        burst.join()
        self.assertEqual((burst.ok, burst.other, burst.uncertain), (BURST, 0, 0), burst.statuses)
        # Unlock once the shutdown deadline has passed with clicks still queued: the workers
        # finish their batch in hand, the rest must be spooled.
        releaser = threading.Timer(3.0, lock.release)
        releaser.start()
        self.addCleanup(releaser.cancel)
        self.sigterm(server)
        releaser.join()
        spool = os.path.join(self.tmp, SPOOL)
        self.assertTrue(os.path.exists(spool), f"no {SPOOL} after a shutdown with a backlog: "
                                                f"{os.listdir(self.tmp)}")
        saved = spool + ".copy-for-test"
        shutil.copyfile(spool, saved)

        server = self.start()
        self.assertStored(server, slug, 1 + BURST)
        self.assertQueueEmpty(server)
        self.sigterm(server)
        self.assertFalse(os.path.exists(spool))
        # The same events again: nothing may count twice.
        shutil.copyfile(saved, spool)
        server = self.start()
        self.assertQueueEmpty(server)
        deadline = time.monotonic() + 10
        leftovers = lambda: [n for n in os.listdir(self.tmp) if n.startswith(SPOOL)
                             and not n.endswith(".copy-for-test")]
        while leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(leftovers(), [], "the replayed spool was not consumed")
        self.assertStored(server, slug, 1 + BURST)
        c = server.client()
        try:
            m = metrics(c)
        finally:
            c.close()
        self.assertGreater(m["shortener_clicks_duplicate_total"], 0, "the spool was not replayed")


if __name__ == "__main__":
    unittest.main()
