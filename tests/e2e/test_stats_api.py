"""The stats API refuses bad input precisely and guards access: bad `from`/`to`/`interval`/`bots`
are 400 problem+json naming the parameter; no credentials or an unknown one is 401; someone
else's key or a wrong link's token is 404 that reads like a missing link; a stats token reaches
its own link's stats and export only. Valid ranges are bucketed and zero-filled; HEAD answers
like GET without a body.
"""

import unittest
from datetime import datetime, timedelta, timezone

from analytics import SseStream, await_total, stats
from harness import RawReader, ServerTestCase, connect, raw_request, unique

# (query, the parameter the detail must name)
BAD_QUERIES = [
    ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", r"\bfrom\b.*\bto\b|\bto\b.*\bfrom\b"),
    ("from=yesterday", r"\bfrom\b"),
    ("from=2026-01-01", r"\bfrom\b"),  # a date is not an RFC 3339 date-time
    ("from=1767225600", r"\bfrom\b"),  # nor is an epoch
    ("from=2026-01-01T00:00:00", r"\bfrom\b"),  # no offset
    ("from=2026-02-30T00:00:00Z", r"\bfrom\b"),
    ("from=2026-01-01T24:00:01Z", r"\bfrom\b"),
    ("from=%00", r"\bfrom\b"),
    ("to=next%20week", r"\bto\b"),
    ("to=2026-13-01T00:00:00Z", r"\bto\b"),
    ("interval=week", r"\binterval\b"),
    ("interval=HOURS", r"\binterval\b"),
    ("bots=maybe", r"\bbots\b"),
    ("bots=1", r"\bbots\b"),
]


class StatsApiTest(ServerTestCase):
    user_keys = 2

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        alice = cls.server.client(cls.keys[0])
        cls.addClassCleanup(alice.close)
        cls.links = []
        for _ in range(2):
            resp = alice.create_link("https://example.com/stats", slug=unique("st"))
            assert resp.status == 201, resp.describe()
            cls.links.append(resp.json())
        resp = alice.get(f"/{cls.links[0]['slug']}", key=None,
                         headers={"User-Agent": "curl/8.5.0", "X-Forwarded-For": "8.8.8.8"})
        assert resp.status == 302, resp.describe()
        await_total(alice, f"/api/v1/links/{cls.links[0]['slug']}/stats", 1)

    def setUp(self) -> None:
        self.alice = self.client(self.keys[0])
        self.bob = self.client(self.keys[1])
        self.anon = self.client()
        self.slug = self.links[0]["slug"]
        self.path = f"/api/v1/links/{self.slug}/stats"

    def token(self, i: int) -> str:
        return self.links[i]["stats_url"].split("#token=", 1)[1]

    def test_bad_parameters_are_400_naming_the_parameter(self) -> None:
        for base in (self.path, "/api/v1/stats"):
            for query, names in BAD_QUERIES:
                with self.subTest(path=base, query=query):
                    self.assertProblem(self.alice.get(f"{base}?{query}"), 400, names)

    def test_credentials(self) -> None:
        csv = f"/api/v1/links/{self.slug}/clicks.csv"
        for path in (self.path, csv, "/api/v1/stats"):
            with self.subTest(path=path, case="none"):
                resp = self.anon.get(path, key=None)
                self.assertProblem(resp, 401)
                self.assertIn("bearer", (resp.header("WWW-Authenticate") or "").lower(),
                              resp.describe())
            with self.subTest(path=path, case="unknown key"):
                self.assertProblem(self.anon.get(path, key="sk_" + "q" * 40), 401)
            with self.subTest(path=path, case="malformed header"):
                self.assertProblem(self.anon.get(path, key=None,
                                                 headers={"Authorization": "Basic Zm9vOmJhcg=="}),
                                   401)
        for path in (self.path, csv):
            with self.subTest(path=path, case="unknown token"):
                self.assertProblem(self.anon.get(path, key="not-a-real-token-0000"), (401, 404))

    def bob_get(self, path: str):
        if not path.endswith("/live"):
            return self.bob.get(path)
        stream = SseStream(self.server.host, self.server.port, path, self.keys[1])
        self.addCleanup(stream.close)
        return stream.open()

    def test_someone_elses_key_is_404_like_a_missing_link(self) -> None:
        for suffix in ("stats", "clicks.csv", "live"):
            with self.subTest(suffix=suffix):
                theirs = self.assertProblem(self.bob_get(f"/api/v1/links/{self.slug}/{suffix}"),
                                            404)
                missing_slug = unique("none")
                missing = self.assertProblem(
                    self.bob_get(f"/api/v1/links/{missing_slug}/{suffix}"), 404)
                # Existence is not revealed: the two answers differ only by the slug.
                self.assertEqual(theirs["detail"].replace(self.slug, "<slug>"),
                                 missing["detail"].replace(missing_slug, "<slug>"))
                self.assertEqual({k: v for k, v in theirs.items() if k != "detail"},
                                 {k: v for k, v in missing.items() if k != "detail"})

    def test_stats_token_is_for_its_own_link_only(self) -> None:
        reader = self.client(self.token(0))
        body = stats(reader, self.path, bots="include")
        self.assertEqual(body["total"], 1)
        self.assertEqual(reader.get(f"/api/v1/links/{self.slug}/clicks.csv").status, 200)
        other = f"/api/v1/links/{self.links[1]['slug']}/stats"
        self.assertProblem(reader.get(other), (401, 404))
        self.assertProblem(reader.get("/api/v1/stats"), 401)  # account-wide: API keys only
        self.assertProblem(reader.get("/api/v1/links"), 401)  # a token is not an API key

    def test_admin_key_reads_any_link(self) -> None:
        admin = self.client(self.admin_key)
        self.assertEqual(stats(admin, self.path, bots="include")["total"], 1)

    def test_zero_filled_buckets(self) -> None:
        cases = [  # (query, interval, buckets, first, last)
            ("from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&interval=hour", "hour", 24,
             "2026-01-01T00:00:00Z", "2026-01-01T23:00:00Z"),
            ("from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z&interval=minute", "minute", 60,
             "2026-01-01T00:00:00Z", "2026-01-01T00:59:00Z"),
            ("from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:00Z&interval=day", "day", 7,
             "2026-01-01T00:00:00Z", "2026-01-07T00:00:00Z"),
            ("from=2026-01-01T02:00:00%2B02:00&to=2026-01-01T03:00:00Z&interval=hour", "hour", 3,
             "2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z"),
        ]
        for query, interval, buckets, first, last in cases:
            with self.subTest(query=query):
                body = stats(self.alice, f"{self.path}?{query}")
                self.assertEqual(body["interval"], interval)
                series = body["timeseries"]
                self.assertEqual(len(series), buckets)
                self.assertEqual((series[0]["t"], series[-1]["t"]), (first, last))
                self.assertEqual({(b["clicks"], b["unique"]) for b in series}, {(0, 0)})
                self.assertEqual((body["total"], body["unique"], body["bots"]), (0, 0, 0))

    def test_bucket_count_is_bounded(self) -> None:
        # Minutes over two months would be ~86,000 buckets: a coarser interval is chosen.
        body = stats(self.alice, f"{self.path}?from=2026-01-01T00:00:00Z"
                                 f"&to=2026-03-01T00:00:00Z&interval=minute")
        self.assertLessEqual(len(body["timeseries"]), 1500)
        self.assertIn(body["interval"], ("hour", "day"))

    def test_default_range_is_the_last_7_days(self) -> None:
        body = stats(self.alice, self.path)
        start = datetime.fromisoformat(body["from"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(body["to"].replace("Z", "+00:00"))
        now = datetime.now(timezone.utc)
        self.assertLess(abs((end - now).total_seconds()), 60)
        self.assertLess(abs((end - start) - timedelta(days=7)), timedelta(hours=1))
        self.assertEqual(body["interval"], "hour")
        self.assertEqual(body["bots"], 1)
        self.assertEqual(body["total"], 0)  # the only click was a bot's

    def test_head_is_get_without_a_body(self) -> None:
        query = "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&interval=hour"
        get = self.alice.get(f"{self.path}?{query}")
        self.assertEqual(get.status, 200)
        host = f"{self.server.host}:{self.server.port}"
        auth = {"Authorization": f"Bearer {self.keys[0]}"}
        for path, status in ((f"{self.path}?{query}", 200), (self.path, 200),
                             ("/api/v1/stats", 200), (f"{self.path}?bots=maybe", 400)):
            with self.subTest(path=path):
                sock = connect(self.server.host, self.server.port)
                self.addCleanup(sock.close)
                # HEAD then GET on one connection: stray body bytes would corrupt the second.
                sock.sendall(raw_request("HEAD", path, host, auth) +
                             raw_request("GET", "/healthz", host))
                reader = RawReader(sock)
                head = reader.read_response(head_only=True, method="HEAD")
                self.assertEqual(head.status, status, head.describe())
                after = reader.read_response()
                self.assertEqual(after.status, 200, after.describe())
                if path == f"{self.path}?{query}":
                    self.assertEqual(head.header("Content-Type"), get.header("Content-Type"))
                    self.assertEqual(head.header("Content-Length"), str(len(get.body)))
        sock = connect(self.server.host, self.server.port)
        self.addCleanup(sock.close)
        sock.sendall(raw_request("HEAD", self.path, host, {"Connection": "close"}))
        self.assertEqual(RawReader(sock).read_response(head_only=True).status, 401)


if __name__ == "__main__":
    unittest.main()
