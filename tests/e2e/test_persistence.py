"""Restart with the same data dir keeps every link — created, custom, patched, expiring, deleted,
anonymous — and every key."""

import signal
import time
import unittest

from harness import (
    Instance, create_key, make_temp_dir, new_admin_key, remove_temp_dir, require_binary, rfc3339,
    unique,
)


class RestartTest(unittest.TestCase):
    def setUp(self) -> None:
        require_binary()
        self.tmp = make_temp_dir("restart")
        self.addCleanup(remove_temp_dir, self.tmp)
        self.addCleanup(remove_temp_dir, self.tmp + ".logs")
        self.user = create_key(self.tmp)
        self.admin = new_admin_key()

    def start(self) -> Instance:
        # A fixed public URL: the default one carries the port, which changes on every start.
        server = Instance(self.tmp, self.admin, public_url="https://sho.rt").start()
        self.addCleanup(server.stop, expect_clean=False)
        return server

    def snapshot(self, server: Instance, slugs: list[str]) -> dict:
        c = server.client(self.user)
        try:
            state = {}
            for slug in slugs:
                api = c.get(f"/api/v1/links/{slug}")
                redirect = c.get(f"/{slug}", key=None)
                state[slug] = (api.status, api.json() if api.status == 200 else None,
                               redirect.status, redirect.header("Location"))
            listing = c.get("/api/v1/links?limit=100")
            self.assertEqual(listing.status, 200, listing.describe())
            state["<list>"] = [l["slug"] for l in listing.json()["links"]]
            return state
        finally:
            c.close()

    def populate(self, server: Instance) -> tuple[list[str], str, str]:
        c = server.client(self.user)
        try:
            slugs = []
            for i in range(30):
                resp = c.create_link(f"https://example.com/restart/{i}")
                self.assertEqual(resp.status, 201, resp.describe())
                slugs.append(resp.json()["slug"])
            custom = unique("keep")
            resp = c.create_link("https://b\u00fccher.example/x", slug=custom, title="T \u00e9",
                                 expires_at=rfc3339(time.time() + 86400))
            self.assertEqual(resp.status, 201, resp.describe())
            slugs.append(custom)
            patched = slugs[3]
            self.assertEqual(c.patch(f"/api/v1/links/{patched}",
                                     {"url": "https://example.com/patched"}).status, 200)
            deleted = slugs[5]
            self.assertEqual(c.delete(f"/api/v1/links/{deleted}").status, 204)
            anon = c.create_link("https://example.com/anonymous", key=None,
                                 headers={"X-Forwarded-For": "192.0.2.99"})
            self.assertEqual(anon.status, 201, anon.describe())
            return slugs, deleted, anon.json()["slug"]
        finally:
            c.close()

    def test_restart_keeps_links_and_keys(self) -> None:
        first = self.start()
        slugs, deleted, anon = self.populate(first)
        before = self.snapshot(first, slugs)
        code, _ = first.stop(signal.SIGTERM)
        self.assertEqual(code, 0)

        for sig in (signal.SIGINT, signal.SIGTERM):  # restart twice, stopping differently
            server = self.start()
            after = self.snapshot(server, slugs)
            self.maxDiff = None
            self.assertEqual(after, before, "links differ after a restart")
            self.assertEqual(after[deleted][2], 410)
            self.assertEqual(after[slugs[3]][3], "https://example.com/patched")
            c = server.client(self.admin)
            self.assertEqual(c.get(f"/{anon}").header("Location"), "https://example.com/anonymous")
            self.assertEqual(c.get(f"/api/v1/links/{anon}").status, 200, "admin lost after restart")
            taken = c.create_link("https://example.com/reuse", slug=deleted)
            self.assertEqual(taken.status, 409, taken.describe())
            c.close()
            code, _ = server.stop(sig)
            self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main()
