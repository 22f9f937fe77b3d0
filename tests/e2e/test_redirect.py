"""Redirects: 302 with the exact stored Location and no caching, 404/410 HTML pages, the `+`
preview, HEAD, probes, and expiry observed through a warmed cache."""

import html
import time
import unittest

from harness import ServerTestCase, rfc3339, unique

CACHE_CONTROL_OK = ("private, max-age=0", "no-store")
EXPIRY_DELAY = 2  # seconds until the expiring link lapses; checked at the end of the class


class RedirectTest(ServerTestCase):
    user_keys = 1

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # An expiring link made first, so the wait overlaps the other tests.
        c = cls.server.client(cls.keys[0])
        cls.expires_epoch = int(time.time()) + EXPIRY_DELAY + 1
        resp = c.create_link("https://example.com/expiring", slug=unique("exp"),
                             expires_at=rfc3339(cls.expires_epoch))
        assert resp.status == 201, resp.describe()
        cls.expiring = resp.json()["slug"]
        cls.warm_status = c.get(f"/{cls.expiring}").status  # puts it in the cache, if any
        c.close()

    def link(self, url: str, **fields) -> dict:
        return self.create(self.client(self.keys[0]), url, **fields)

    def assertRedirect(self, resp, location: str) -> None:
        self.assertStatus(resp, 302)
        self.assertEqual(resp.header("Location"), location, resp.describe())
        self.assertIn(resp.header("Cache-Control"), CACHE_CONTROL_OK, resp.describe())

    def test_redirect_302_exact_location(self) -> None:
        for url in ("https://example.com/",
                    "https://example.com/a%20b/c?x=1&y=%2F&z=%C3%A9",
                    "http://example.com:8080/path;params?q#frag",
                    "http://xn--bcher-kva.example/"):
            with self.subTest(url):
                link = self.link(url)
                stored = link["url"]
                resp = self.client().get(f"/{link['slug']}")
                self.assertRedirect(resp, stored)
                # Twice: the second answer may come from the cache and must be identical.
                again = self.client().get(f"/{link['slug']}")
                self.assertRedirect(again, stored)

    def test_redirect_ignores_authorization(self) -> None:
        link = self.link("https://example.com/q")
        c = self.client()
        self.assertRedirect(c.get(f"/{link['slug']}", key="sk_garbage_key_0"), link["url"])

    def test_unknown_slug_is_404_html(self) -> None:
        c = self.client()
        for path in ("/no-such-link", "/zzzzzzz", "/no-such-link+"):
            with self.subTest(path):
                resp = c.get(path)
                self.assertStatus(resp, 404)
                self.assertTrue(resp.content_type.startswith("text/html"), resp.describe())
                self.assertLess(len(resp.body), 16384, "not a small page")
                self.assertIsNone(resp.header("Location"))
        # A second miss (maybe from the negative cache) answers the same.
        self.assertStatus(c.get("/no-such-link"), 404)

    def test_slugs_are_case_sensitive(self) -> None:
        slug = unique("CaseSens")
        self.link("https://example.com/case", slug=slug)
        self.assertStatus(self.client().get(f"/{slug.lower()}"), 404)

    def test_path_shapes_that_are_not_slugs(self) -> None:
        c = self.client()
        for path in ("/a/b/c", "/%0d%0aSet-Cookie:x", "/..%2f..%2fetc%2fpasswd"):
            with self.subTest(path):
                resp = c.get(path)
                self.assertStatus(resp, (400, 404))
                self.assertIsNone(resp.header("Set-Cookie"))
                self.assertIsNone(resp.header("Location"))

    def test_preview(self) -> None:
        link = self.link("https://example.com/search?q=a&lang=en",
                         title="<script>alert(1)</script>")
        resp = self.client().get(f"/{link['slug']}+")
        self.assertStatus(resp, 200)
        self.assertTrue(resp.content_type.startswith("text/html"), resp.describe())
        self.assertIsNone(resp.header("Location"))
        self.assertIn(html.escape(link["url"], quote=False), resp.text)
        self.assertNotIn(link["url"], resp.text, "the & of the destination is not escaped")
        self.assertNotIn("<script>alert(1)</script>", resp.text, "title not escaped")

    def test_head(self) -> None:
        link = self.link("https://example.com/head")
        c = self.client()
        for path, status in ((f"/{link['slug']}", 302), (f"/{link['slug']}+", 200),
                             ("/no-such-head", 404), ("/healthz", 200), ("/readyz", 200)):
            with self.subTest(path):
                get = c.get(path)
                head = c.head(path)  # same connection: a stray HEAD body would break the next read
                self.assertStatus(get, status)
                self.assertStatus(head, status)
                self.assertEqual(head.body, b"")
                for name in ("Location", "Content-Type", "Cache-Control"):
                    self.assertEqual(head.header(name), get.header(name), f"{name} differs")
                if head.header("Content-Length") is not None:
                    self.assertEqual(int(head.header("Content-Length")), len(get.body))
        self.assertStatus(c.get("/healthz"), 200)

    def test_head_on_api_reads(self) -> None:
        link = self.link("https://example.com/head-api")
        c = self.client(self.keys[0])
        for path in (f"/api/v1/links/{link['slug']}", "/api/v1/links?limit=1"):
            with self.subTest(path):
                get, head = c.get(path), c.head(path)
                self.assertStatus(get, 200)
                self.assertStatus(head, 200)
                self.assertEqual(head.body, b"")
                self.assertEqual(head.content_type, get.content_type)
        self.assertStatus(c.get("/healthz"), 200)  # the connection is still in step

    def test_probes(self) -> None:
        c = self.client()
        self.assertStatus(c.get("/healthz"), 200)
        self.assertStatus(c.get("/readyz"), 200)

    def test_deleted_is_410_even_after_cache_warm(self) -> None:
        c = self.client(self.keys[0])
        link = self.link("https://example.com/deleted")
        for _ in range(3):
            self.assertRedirect(c.get(f"/{link['slug']}"), link["url"])
        self.assertStatus(c.delete(f"/api/v1/links/{link['slug']}"), 204)
        for path in (f"/{link['slug']}", f"/{link['slug']}"):
            resp = c.get(path)
            self.assertStatus(resp, 410)
            self.assertTrue(resp.content_type.startswith("text/html"), resp.describe())
        self.assertStatus(c.head(f"/{link['slug']}"), 410)
        self.assertStatus(c.get(f"/{link['slug']}+"), (404, 410))

    def test_patch_takes_effect_on_next_redirect(self) -> None:
        c = self.client(self.keys[0])
        link = self.link("https://example.com/v1")
        for _ in range(3):
            self.assertRedirect(c.get(f"/{link['slug']}"), "https://example.com/v1")
        for version in ("v2", "v3"):
            url = f"https://example.com/{version}"
            self.assertStatus(c.patch(f"/api/v1/links/{link['slug']}", {"url": url}), 200)
            self.assertRedirect(c.get(f"/{link['slug']}"), url)
            self.assertRedirect(self.client().get(f"/{link['slug']}"), url)

    def test_zz_expired_is_410(self) -> None:
        """Runs last (alphabetical order); the link was warmed in setUpClass."""
        self.assertEqual(self.warm_status, 302, "the expiring link did not redirect before expiry")
        c = self.client()
        if time.time() < self.expires_epoch - 0.5:
            self.assertRedirect(c.get(f"/{self.expiring}"), "https://example.com/expiring")
        delay = self.expires_epoch - time.time() + 0.3
        if delay > 0:
            time.sleep(delay)
        resp = c.get(f"/{self.expiring}")
        self.assertStatus(resp, 410)
        self.assertTrue(resp.content_type.startswith("text/html"), resp.describe())
        self.assertIsNone(resp.header("Location"))


if __name__ == "__main__":
    unittest.main()
