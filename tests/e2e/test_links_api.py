"""The links API: create (every 400 case, table-driven), normalisation, 409, list + pagination,
GET/PATCH/DELETE, authentication, anonymous creation switched off, own-host refusal."""

import re
import secrets
import time
import unittest
from datetime import datetime, timedelta, timezone

from harness import ServerTestCase, rfc3339, unique

SLUG_RE = re.compile(r"^[A-Za-z0-9_-]+$")
LINK_FIELDS = {"slug", "short_url", "url", "created_at", "expires_at", "title", "stats_url"}


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no offset (not RFC 3339)")
    return parsed


# (label, JSON body or raw bytes, regex the problem detail must match)
BAD_CREATE_BODIES = [
    ("invalid json", b'{"url": "https://example.com/"', r"json"),
    ("json not an object", b'["https://example.com/"]', r"json|object"),
    ("empty body", b"", r"json|body|empty"),
    ("missing url", {}, r"url"),
    ("url null", {"url": None}, r"url"),
    ("url number", {"url": 42}, r"url|string"),
    ("url object", {"url": {"href": "https://example.com/"}}, r"url|string"),
    ("url empty", {"url": ""}, r"url|empty"),
    ("javascript scheme", {"url": "javascript:alert(1)"}, r"scheme|http"),
    ("javascript upper", {"url": "JavaScript:alert(1)"}, r"scheme|http"),
    ("data scheme", {"url": "data:text/html,<script>alert(1)</script>"}, r"scheme|http"),
    ("file scheme", {"url": "file:///etc/passwd"}, r"scheme|http"),
    ("ftp scheme", {"url": "ftp://example.com/file"}, r"scheme|http"),
    ("mailto scheme", {"url": "mailto:a@example.com"}, r"scheme|http"),
    ("no scheme", {"url": "example.com/path"}, r"scheme|http|absolute"),
    ("relative", {"url": "/just/a/path"}, r"scheme|http|absolute|host"),
    ("no host", {"url": "http://"}, r"host"),
    ("no host with path", {"url": "http:///path"}, r"host"),
    ("too long", {"url": "https://example.com/" + "a" * 2100}, r"long|length|2048|2,048"),
    ("NUL", {"url": "https://example.com/a\u0000b"}, r"control|character|invalid"),
    ("BEL", {"url": "https://example.com/a\u0007b"}, r"control|character|invalid"),
    ("DEL", {"url": "https://example.com/a\u007fb"}, r"control|character|invalid"),
    ("CRLF header injection", {"url": "https://example.com/\r\nSet-Cookie: a=b"},
     r"control|character|CR|LF|newline|space|invalid"),
    ("bare LF", {"url": "https://example.com/\nx"}, r"control|character|LF|newline|invalid"),
    ("space", {"url": "https://example.com/a b"}, r"space|character|whitespace|invalid"),
    ("tab", {"url": "https://example.com/a\tb"}, r"control|character|tab|whitespace|invalid"),
    ("slug not a string", {"url": "https://example.com/", "slug": 123}, r"slug"),
    ("slug too short", {"url": "https://example.com/", "slug": "ab"}, r"slug|short|3"),
    ("slug too long", {"url": "https://example.com/", "slug": "a" * 65}, r"slug|long|64"),
    ("slug with space", {"url": "https://example.com/", "slug": "has space"}, r"slug|character"),
    ("slug with slash", {"url": "https://example.com/", "slug": "has/slash"}, r"slug|character"),
    ("slug with dot", {"url": "https://example.com/", "slug": "has.dot"}, r"slug|character"),
    ("slug with plus", {"url": "https://example.com/", "slug": "abc+"}, r"slug|character"),
    ("slug non-ascii", {"url": "https://example.com/", "slug": "caf\u00e9s"}, r"slug|character"),
    ("slug percent", {"url": "https://example.com/", "slug": "a%20b"}, r"slug|character"),
] + [
    (f"reserved slug {word}", {"url": "https://example.com/", "slug": word}, r"slug|reserved")
    for word in ("api", "dashboard", "static", "assets", "healthz", "readyz", "metrics")
] + [
    ("expires_at words", {"url": "https://example.com/", "expires_at": "tomorrow"},
     r"expires|RFC ?3339|time|date"),
    ("expires_at date only", {"url": "https://example.com/", "expires_at": "2099-01-01"},
     r"expires|RFC ?3339|time|date"),
    ("expires_at no offset", {"url": "https://example.com/", "expires_at": "2099-01-01T00:00:00"},
     r"expires|RFC ?3339|time|date|offset|zone"),
    ("expires_at bad month", {"url": "https://example.com/", "expires_at": "2099-13-01T00:00:00Z"},
     r"expires|RFC ?3339|time|date"),
    ("expires_at number", {"url": "https://example.com/", "expires_at": 4102444800},
     r"expires|RFC ?3339|time|date|string"),
    ("expires_at in the past", {"url": "https://example.com/", "expires_at": "2001-01-01T00:00:00Z"},
     r"expires|past|future"),
]

# (input, stored/normalised url)
NORMALISED = [
    ("HTTP://Example.COM", "http://example.com/"),
    ("https://EXAMPLE.com/Path/Is/Kept?Q=Kept", "https://example.com/Path/Is/Kept?Q=Kept"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/b", "https://example.com/b"),
    ("http://example.com:8080/c", "http://example.com:8080/c"),
    ("https://example.com", "https://example.com/"),
    ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
    ("https://M\u00dcNCHEN.example/x", "https://xn--mnchen-3ya.example/x"),
    ("https://example.com/search?q=a&lang=en", "https://example.com/search?q=a&lang=en"),
    ("https://example.com/a%20b", "https://example.com/a%20b"),
]


class CreateLinkTest(ServerTestCase):
    user_keys = 1

    def test_anonymous_create_returns_every_field(self) -> None:
        c = self.client()
        resp = c.create_link("https://example.com/anon", headers={"X-Forwarded-For": "192.0.2.1"},
                             key=None)
        self.assertStatus(resp, 201)
        self.assertEqual(resp.content_type, "application/json", resp.describe())
        body = resp.json()
        self.assertTrue(LINK_FIELDS <= set(body), f"missing {LINK_FIELDS - set(body)}")
        slug = body["slug"]
        self.assertRegex(slug, r"^[A-Za-z0-9_-]{7}$", "random slugs: 7 URL-safe symbols")
        self.assertEqual(body["url"], "https://example.com/anon")
        self.assertEqual(body["short_url"], f"{self.public}/{slug}")
        self.assertRegex(body["stats_url"],
                         rf"^{re.escape(self.public)}/dashboard/links/{re.escape(slug)}#token=[^&\s]+$")
        self.assertIsNone(body["expires_at"])
        self.assertIn(body["title"], ("", None))
        created = parse_time(body["created_at"])
        self.assertLess(abs((datetime.now(timezone.utc) - created).total_seconds()), 120)

    def test_random_slugs_differ(self) -> None:
        c = self.client(self.keys[0])
        slugs = {self.create(c, "https://example.com/same")["slug"] for _ in range(20)}
        self.assertEqual(len(slugs), 20)

    def test_create_with_key_custom_slug_title_and_expiry(self) -> None:
        c = self.client(self.keys[0])
        slug = unique("Custom_")
        expires = rfc3339(time.time() + 86400)
        body = self.create(c, "https://example.com/custom", slug=slug, title="Hello <b>",
                           expires_at=expires)
        self.assertEqual(body["slug"], slug)
        self.assertEqual(body["title"], "Hello <b>")
        self.assertEqual(parse_time(body["expires_at"]), parse_time(expires))
        self.assertEqual(body["short_url"], f"{self.public}/{slug}")
        # The GET answer carries the same fields as the 201 answer.
        got = c.get(f"/api/v1/links/{slug}")
        self.assertStatus(got, 200)
        self.assertEqual(got.json(), body)

    def test_expires_at_with_offset_and_fraction(self) -> None:
        c = self.client(self.keys[0])
        when = time.time() + 3 * 86400
        local = datetime.fromtimestamp(int(when), timezone(timedelta(hours=2)))
        text = local.isoformat(timespec="milliseconds")  # e.g. 2030-01-01T02:00:00.000+02:00
        body = self.create(c, "https://example.com/offset", expires_at=text)
        self.assertEqual(parse_time(body["expires_at"]), parse_time(text))

    def test_custom_slugs_are_case_sensitive(self) -> None:
        c = self.client(self.keys[0])
        base = unique("case")
        self.create(c, "https://example.com/lower", slug=base.lower())
        self.create(c, "https://example.com/upper", slug=base.upper())
        self.assertEqual(c.get(f"/{base.upper()}").header("Location"), "https://example.com/upper")

    def test_slug_length_bounds_accepted(self) -> None:
        c = self.client(self.keys[0])
        for slug in ("x_" + secrets.choice("abcdefgh"), "L" * 54 + secrets.token_hex(5)):
            with self.subTest(length=len(slug)):
                self.assertIn(len(slug), (3, 64))
                self.assertEqual(self.create(c, "https://example.com/bounds", slug=slug)["slug"], slug)

    def test_taken_slug_conflicts(self) -> None:
        c = self.client(self.keys[0])
        slug = unique("dup")
        self.create(c, "https://example.com/1", slug=slug)
        resp = c.create_link("https://example.com/2", slug=slug)
        self.assertProblem(resp, 409, r"slug|taken|exists|use")
        # The original is untouched.
        self.assertEqual(c.get(f"/{slug}").header("Location"), "https://example.com/1")

    def test_bad_inputs_are_400_with_precise_detail(self) -> None:
        c = self.client(self.keys[0])
        for label, body, pattern in BAD_CREATE_BODIES:
            with self.subTest(label):
                if isinstance(body, bytes):
                    resp = c.post("/api/v1/links", raw=body)
                else:
                    resp = c.post("/api/v1/links", body)
                self.assertProblem(resp, 400, pattern)

    def test_normalisation(self) -> None:
        c = self.client(self.keys[0])
        for given, stored in NORMALISED:
            with self.subTest(given):
                body = self.create(c, given)
                self.assertEqual(body["url"], stored)
                self.assertEqual(c.get(f"/{body['slug']}").header("Location"), stored)

    def test_url_length_limit_is_2048(self) -> None:
        c = self.client(self.keys[0])
        base = "https://example.com/"
        ok = base + "a" * (2048 - len(base))
        self.assertEqual(self.create(c, ok)["url"], ok)
        self.assertProblem(c.create_link(ok + "a"), 400, r"long|length|2048|2,048")

    def test_own_host_refused(self) -> None:
        c = self.client(self.keys[0])
        for url in (f"{self.public}/abcdef", f"{self.public}/"):
            with self.subTest(url):
                self.assertProblem(c.create_link(url), 400, r"own|shortener|loop|host|itself")

    def test_unknown_key_is_401(self) -> None:
        c = self.client("sk_this_key_was_never_issued")
        self.assertProblem(c.create_link("https://example.com/"), 401)

    def test_malformed_authorization_is_401(self) -> None:
        c = self.client()
        for value in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer  "):
            with self.subTest(value):
                resp = c.post("/api/v1/links", {"url": "https://example.com/"},
                              headers={"Authorization": value, "X-Forwarded-For": "192.0.2.2"})
                self.assertProblem(resp, 401)


class OwnHostPublicUrlTest(ServerTestCase):
    """With --public-url the configured host is refused as a destination, whatever the case."""

    public_url = "https://sho.rt"
    user_keys = 1

    def test_short_url_uses_public_url(self) -> None:
        c = self.client(self.keys[0])
        body = self.create(c, "https://example.com/p")
        self.assertEqual(body["short_url"], f"https://sho.rt/{body['slug']}")
        self.assertTrue(body["stats_url"].startswith(f"https://sho.rt/dashboard/links/{body['slug']}#token="))

    def test_links_to_public_host_refused(self) -> None:
        c = self.client(self.keys[0])
        for url in ("https://sho.rt/abc", "http://sho.rt/abc", "https://SHO.RT/", "https://sho.rt:443/x"):
            with self.subTest(url):
                self.assertProblem(c.create_link(url), 400, r"own|shortener|loop|host|itself")


class ListLinksTest(ServerTestCase):
    user_keys = 3

    def test_requires_a_key(self) -> None:
        c = self.client()
        self.assertProblem(c.get("/api/v1/links"), 401)
        self.assertProblem(c.get("/api/v1/links", key="sk_unknown_key_123456"), 401)

    def test_newest_first_only_own_links(self) -> None:
        mine, other = self.client(self.keys[0]), self.client(self.keys[1])
        created = [self.create(mine, f"https://example.com/list/{i}")["slug"] for i in range(3)]
        self.create(other, "https://example.com/not-mine")
        resp = mine.get("/api/v1/links")
        self.assertStatus(resp, 200)
        body = resp.json()
        self.assertEqual([l["slug"] for l in body["links"]], created[::-1])
        self.assertIsNone(body["next_cursor"])
        for link in body["links"]:
            self.assertTrue(LINK_FIELDS <= set(link), link)

    def test_cursor_pagination(self) -> None:
        c = self.client(self.keys[2])
        created = [self.create(c, f"https://example.com/page/{i}")["slug"] for i in range(5)]
        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/v1/links?limit=2" + (f"&cursor={cursor}" if cursor else "")
            resp = c.get(path)
            self.assertStatus(resp, 200)
            body = resp.json()
            self.assertLessEqual(len(body["links"]), 2, resp.describe())
            seen += [l["slug"] for l in body["links"]]
            cursor = body["next_cursor"]
            pages += 1
            self.assertLess(pages, 10, "pagination does not terminate")
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
        self.assertEqual(seen, created[::-1])
        self.assertEqual(pages, 3)


class LinkLifecycleTest(ServerTestCase):
    user_keys = 1

    def test_get_unknown_is_404(self) -> None:
        c = self.client(self.keys[0])
        self.assertProblem(c.get("/api/v1/links/no-such-slug-here"), 404)

    def test_get_without_key_is_401(self) -> None:
        c = self.client(self.keys[0])
        slug = self.create(c, "https://example.com/g")["slug"]
        self.assertProblem(c.get(f"/api/v1/links/{slug}", key=None), 401)
        self.assertProblem(c.get(f"/api/v1/links/{slug}", key="sk_unknown_999999"), 401)
        self.assertProblem(c.patch(f"/api/v1/links/{slug}", {"title": "x"}, key=None), 401)
        self.assertProblem(c.delete(f"/api/v1/links/{slug}", key=None), 401)

    def test_patch_url_takes_effect_on_next_redirect(self) -> None:
        c = self.client(self.keys[0])
        slug = self.create(c, "https://example.com/before")["slug"]
        self.assertEqual(c.get(f"/{slug}").header("Location"), "https://example.com/before")
        resp = c.patch(f"/api/v1/links/{slug}", {"url": "HTTPS://Example.com/after"})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json()["url"], "https://example.com/after")
        self.assertEqual(resp.json()["slug"], slug)
        redirect = c.get(f"/{slug}")
        self.assertStatus(redirect, 302)
        self.assertEqual(redirect.header("Location"), "https://example.com/after")
        self.assertEqual(c.get(f"/api/v1/links/{slug}").json()["url"], "https://example.com/after")

    def test_patch_title_and_expiry(self) -> None:
        c = self.client(self.keys[0])
        slug = self.create(c, "https://example.com/t", title="old",
                           expires_at=rfc3339(time.time() + 3600))["slug"]
        resp = c.patch(f"/api/v1/links/{slug}", {"title": "new"})
        self.assertStatus(resp, 200)
        self.assertEqual(resp.json()["title"], "new")
        self.assertIsNotNone(resp.json()["expires_at"], "PATCH of title changed expires_at")
        later = rfc3339(time.time() + 7200)
        resp = c.patch(f"/api/v1/links/{slug}", {"expires_at": later})
        self.assertStatus(resp, 200)
        self.assertEqual(parse_time(resp.json()["expires_at"]), parse_time(later))
        resp = c.patch(f"/api/v1/links/{slug}", {"expires_at": None})
        self.assertStatus(resp, 200)
        self.assertIsNone(resp.json()["expires_at"])
        self.assertEqual(resp.json()["title"], "new")
        self.assertEqual(resp.json()["url"], "https://example.com/t")

    def test_patch_bad_inputs(self) -> None:
        c = self.client(self.keys[0])
        slug = self.create(c, "https://example.com/pb")["slug"]
        cases = [
            ("invalid json", b'{"url":', r"json"),
            ("bad scheme", {"url": "javascript:alert(1)"}, r"scheme|http"),
            ("CRLF", {"url": "https://example.com/\r\nX: y"}, r"control|character|CR|LF|invalid"),
            ("url not string", {"url": 1}, r"url|string"),
            ("expires not RFC 3339", {"expires_at": "soon"}, r"expires|RFC ?3339|time|date"),
            ("expires in the past", {"expires_at": "2001-01-01T00:00:00Z"}, r"expires|past|future"),
            ("own host", {"url": f"{self.public}/x"}, r"own|shortener|loop|host|itself"),
        ]
        for label, body, pattern in cases:
            with self.subTest(label):
                if isinstance(body, bytes):
                    resp = c.patch(f"/api/v1/links/{slug}", raw=body)
                else:
                    resp = c.patch(f"/api/v1/links/{slug}", body)
                self.assertProblem(resp, 400, pattern)
        self.assertEqual(c.get(f"/{slug}").header("Location"), "https://example.com/pb")

    def test_patch_and_delete_unknown_are_404(self) -> None:
        c = self.client(self.keys[0])
        self.assertProblem(c.patch("/api/v1/links/no-such-slug-x", {"title": "t"}), 404)
        self.assertProblem(c.delete("/api/v1/links/no-such-slug-x"), 404)

    def test_delete(self) -> None:
        c = self.client(self.keys[0])
        slug = self.create(c, "https://example.com/del", slug=unique("del"))["slug"]
        self.assertStatus(c.get(f"/{slug}"), 302)  # warm any cache first
        resp = c.delete(f"/api/v1/links/{slug}")
        self.assertStatus(resp, 204)
        self.assertEqual(resp.body, b"")
        gone = c.get(f"/{slug}")
        self.assertStatus(gone, 410)
        self.assertTrue(gone.content_type.startswith("text/html"), gone.describe())
        self.assertIsNone(gone.header("Location"))
        self.assertProblem(c.get(f"/api/v1/links/{slug}"), (404, 410))
        self.assertProblem(c.delete(f"/api/v1/links/{slug}"), (404, 410))
        self.assertProblem(c.create_link("https://example.com/reuse", slug=slug), 409)
        listed = [l["slug"] for l in c.get("/api/v1/links?limit=100").json()["links"]]
        self.assertNotIn(slug, listed)


class NoAnonymousTest(ServerTestCase):
    extra_args = ["--no-anonymous"]
    user_keys = 1

    def test_anonymous_creation_refused(self) -> None:
        c = self.client()
        resp = c.create_link("https://example.com/", key=None,
                             headers={"X-Forwarded-For": "192.0.2.50"})
        self.assertProblem(resp, 401)

    def test_keyed_creation_allowed(self) -> None:
        c = self.client(self.keys[0])
        self.create(c, "https://example.com/keyed")


class ApiRoutingTest(ServerTestCase):
    user_keys = 1

    def test_unknown_api_path_is_problem(self) -> None:
        c = self.client(self.keys[0])
        self.assertProblem(c.get("/api/v1/nothing-here"), 404)

    def test_wrong_method_is_problem(self) -> None:
        c = self.client(self.keys[0])
        self.assertProblem(c.request("PUT", "/api/v1/links", body={"url": "https://e.com/"}),
                           (404, 405))


if __name__ == "__main__":
    unittest.main()
