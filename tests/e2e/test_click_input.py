"""Hostile click input never crashes the server and never loses the click: garbage and binary
User-Agents, 8 KB header values, invalid addresses in X-Forwarded-For, binary referrers and odd
utm_source values all redirect (302), are stored with "unknown"/"Other" where nothing can be
known, and are counted — the total equals the number of redirects sent. Exports and the live
stream stay valid UTF-8 / JSON. HEAD and the `+` preview are not clicks.

Values here are what may legally cross the wire: obs-text bytes (0x80-0xFF) and printable
garbage. Control bytes are a protocol matter (RFC 9110 lets a server refuse them); the one case
below only requires that a refused request is not counted and an accepted one is.
"""

import random
import time
import unittest

from analytics import (
    BINARY_REFERER, SseStream, await_total, csv_rows, metrics, parse_rfc3339, stats,
)
from harness import RawReader, ServerTestCase, connect, raw_request, unique

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
HEADER_LIMIT = 16 * 1024  # the server's default --max-header-bytes


def garbage(rng: random.Random, size: int) -> str:
    """`size` bytes of printable ASCII and obs-text (no CTL, no DEL), as a latin-1 str."""
    alphabet = [chr(c) for c in range(0x20, 0x7f)] + [chr(c) for c in range(0x80, 0x100)]
    return "".join(rng.choice(alphabet) for _ in range(size)).strip() or "x"


rng = random.Random(7)

# (name, User-Agent, expected browser, expected os) — nothing recognisable: "Other".
GARBAGE_UAS = [
    ("binary", "\xff\xfe\xfd\xfc\x80\x81", "Other", "Other"),
    ("lone-continuation", "\x80", "Other", "Other"),
    ("bad-utf8", "\xc3\x28\xa0\xa1 caf\xe9", "Other", "Other"),
    ("utf8-text", "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80", "Other", "Other"),
    ("parens", "((((((((((((((((((((((((((((((((((((", "Other", "Other"),
    ("regex-bait", "(a+)+$" + "a" * 200 + "!", "Other", "Other"),
    ("markup", "<script>alert(1)</script>", "Other", "Other"),
    ("sql", "' OR 1=1; DROP TABLE clicks; --", "Other", "Other"),
    ("quotes", 'a"b,c\\d\'e', "Other", "Other"),
    ("8k-garbage", garbage(rng, 8000), "Other", "Other"),
]

# User-Agents that are only counted (their classification is not the point).
COUNTED_UAS = [
    ("8k-chrome-padded", CHROME + " " + "A" * (8000 - len(CHROME) - 1)),
    ("8k-mozilla-parens", "Mozilla/5.0 (" + "x; " * 2660),
]

# X-Forwarded-For values that hold no usable address: the country is unknown.
INVALID_XFF = ["999.1.1.1", "garbage", "1.2.3.4:80", "", "1.2.3", "8.8.8.8.8", "::ffff:999.1.1.1",
               "2001:db8::g", "-1.0.0.0", "\xff\xfe\x80", "unknown", "[2001:db8::1]:443",
               "256.256.256.256", " , , ", "1.1.1.1/24"]

# Referers that are not URLs with a host: stored as "unknown".
BINARY_REFERERS = [BINARY_REFERER, "\x80", "\xff" * 100, "http://\xff\xfe/", "\xc3\x28://x",
                   garbage(rng, 8000)]


class BadClickInputTest(ServerTestCase):
    user_keys = 1

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        c = cls.server.client(cls.keys[0])
        cls.addClassCleanup(c.close)
        resp = c.create_link("https://example.com/hostile", slug=unique("bad"))
        assert resp.status == 201, resp.describe()
        cls.slug = resp.json()["slug"]
        cls.live = SseStream(cls.server.host, cls.server.port, f"/api/v1/links/{cls.slug}/live",
                             cls.keys[0])
        cls.addClassCleanup(cls.live.close)
        head = cls.live.open()
        assert head.status == 200, head.describe()

    def setUp(self) -> None:
        self.owner = self.client(self.keys[0])
        self.anon = self.client()

    def redirect(self, headers: dict[str, str], path: str | None = None) -> None:
        resp = self.anon.get(path or f"/{self.slug}", key=None, headers=headers)
        self.assertEqual(resp.status, 302, resp.describe()[:600])

    def counted_rows(self, expected_total: int) -> list[dict[str, str]]:
        """Waits for `expected_total` clicks (bots included) and returns the CSV rows in click
        order; asserts the total is exact."""
        body = await_total(self.owner, f"/api/v1/links/{self.slug}/stats", expected_total)
        self.assertEqual(body["total"], expected_total)
        _, rows = csv_rows(self.owner.get(f"/api/v1/links/{self.slug}/clicks.csv"))
        self.assertEqual(len(rows), expected_total)
        return sorted(rows, key=lambda r: (parse_rfc3339(r["time"]), r["id"]))

    def test_hostile_input_is_counted_and_stored_as_unknown(self) -> None:
        # One class-wide sequence: every redirect here is counted, and row i is redirect i.
        cases: list[tuple[str, dict[str, str], dict[str, str]]] = []
        for name, ua, browser, os_ in GARBAGE_UAS:
            cases.append((f"ua {name}", {"User-Agent": ua, "X-Forwarded-For": "8.8.8.8"},
                          {"browser": browser, "os": os_, "country": "US"}))
        for name, ua in COUNTED_UAS:
            cases.append((f"ua {name}", {"User-Agent": ua, "X-Forwarded-For": "1.1.1.1"},
                          {"country": "AU"}))
        for xff in INVALID_XFF:
            cases.append((f"xff {xff!r}", {"User-Agent": CHROME, "X-Forwarded-For": xff},
                          {"country": "unknown", "browser": "Chrome"}))
        for ref in BINARY_REFERERS:
            cases.append((f"referer {ref[:20]!r}",
                          {"User-Agent": CHROME, "X-Forwarded-For": "81.2.69.160", "Referer": ref},
                          {"referrer": "unknown", "country": "GB"}))
        long_xff = ", ".join(["10.0.0.1"] * 300 + ["203.0.113.9", "8.8.8.8, 81.2.69.160"])
        cases.append(("xff 4 KB chain", {"User-Agent": CHROME, "X-Forwarded-For": long_xff},
                      {"country": "GB"}))  # the rightmost untrusted entry
        long_ref = "https://example.org/" + "p" * 8000
        cases.append(("referer 8 KB URL",
                      {"User-Agent": CHROME, "X-Forwarded-For": "8.8.8.8", "Referer": long_ref},
                      {"referrer": "example.org"}))
        everything_big = {"User-Agent": "Z" * 6500, "Referer": "\xfe" * 6500,
                          "X-Forwarded-For": "not-an-ip", "Accept-Language": "q" * 1500}
        cases.append(("14.5 KB head", everything_big, {"country": "unknown", "referrer": "unknown",
                                                     "browser": "Other"}))
        for name, headers, _ in cases:
            with self.subTest(case=name):
                size = sum(len(k) + len(v) + 4 for k, v in headers.items())
                self.assertLess(size, HEADER_LIMIT)
                self.redirect(headers)
        rows = self.counted_rows(len(cases))
        for (name, _, want), row in zip(cases, rows):
            with self.subTest(case=name):
                self.assertEqual({k: row[k] for k in want}, want)
                self.assertEqual((row["region"], row["city"]), ("unknown", "unknown"))

        # The live stream carried every one of them as valid JSON (the reader decoded it).
        events = self.live.drain(1.0)
        self.assertEqual(len(events), len(cases))
        for event in events:
            body = event.json()
            self.assertEqual(body["slug"], self.slug)
            self.assertNotIn("ip", body)

        # Nothing was dropped, and the server still answers.
        m = metrics(self.owner)
        self.assertEqual(m["shortener_clicks_dropped_total"], 0)
        self.assertEqual(m["shortener_clicks_enqueued_total"],
                         m["shortener_clicks_processed_total"])
        self.assertEqual(self.anon.get("/healthz", key=None).status, 200)


class OddQueryAndProtocolTest(ServerTestCase):
    """utm_source values that are awkward for a CSV, and control bytes in header values."""

    user_keys = 1
    maxDiff = None

    def test_utm_source_is_decoded_validated_and_bounded(self) -> None:
        # The contract of enrich::utm_source_of (src/worker/enrich/referrer.h): the first
        # non-empty utm_source, percent-decoded, trimmed, cut to 100 bytes; nothing when it
        # decodes to control bytes or invalid UTF-8. CSV cells that a spreadsheet would run as a
        # formula are neutralised.
        owner = self.client(self.keys[0])
        anon = self.client()
        slug = self.create(owner, "https://example.com/utm", slug=unique("utm"))["slug"]
        cases = [  # (query, stored utm_source)
            ("utm_source=a%2Cb%22c", 'a,b"c'),
            ("utm_source=%FF%FE%80", ""),
            ("utm_source=" + "u" * 500, "u" * 100),
            ("utm_source=%0D%0Ax", ""),
            ("utm_source=%E2%98%83+snow", "\u2603 snow"),
            ("utm_source=&x=1", ""),
            ("utm_source=news&utm_source=other", "news"),
            ("utm_source", ""),
            ("x=1&utm_source=%20%20padded%20", "padded"),
        ]
        for query, _ in cases:
            resp = anon.get(f"/{slug}?{query}", key=None,
                            headers={"User-Agent": CHROME, "X-Forwarded-For": "8.8.8.8"})
            self.assertEqual(resp.status, 302, resp.describe())
        formula = anon.get(f"/{slug}?utm_source=%3Dcmd%7C'%2FC%20calc'!A0", key=None)
        self.assertEqual(formula.status, 302, formula.describe())
        total = len(cases) + 1
        body = await_total(owner, f"/api/v1/links/{slug}/stats", total)
        self.assertEqual(body["total"], total)
        resp = owner.get(f"/api/v1/links/{slug}/clicks.csv")
        _, rows = csv_rows(resp, strict=False)
        self.assertEqual(len(rows), total)
        rows.sort(key=lambda r: (parse_rfc3339(r["time"]), r["id"]))
        self.assertEqual([(q, r["utm_source"]) for (q, _), r in zip(cases, rows)], cases)
        cell = rows[-1]["utm_source"]
        self.assertIn("cmd|'/C calc'!A0", cell)
        self.assertFalse(cell.startswith(("=", "+", "-", "@")), cell)
        csv_rows(resp)  # and the whole export is UTF-8, as its charset says

    def test_control_bytes_are_refused_or_counted(self) -> None:
        owner = self.client(self.keys[0])
        slug = self.create(owner, "https://example.com/ctl", slug=unique("ctl"))["slug"]
        redirected = 0
        for value in ("a\x00b", "a\x01b", "a\x7fb", "\x1b[31mred", "tab\there"):
            sock = connect(self.server.host, self.server.port)
            try:
                sock.sendall(raw_request("GET", f"/{slug}", f"{self.server.host}",
                                         {"User-Agent": value, "Connection": "close"}))
                resp = RawReader(sock).read_response()
            finally:
                sock.close()
            self.assertIn(resp.status, (302, 400), f"{value!r}: {resp.describe()}")
            redirected += resp.status == 302
        time.sleep(0.3)
        body = await_total(owner, f"/api/v1/links/{slug}/stats", redirected)
        self.assertEqual(body["total"], redirected)
        self.assertEqual(self.client().get("/healthz", key=None).status, 200)


class NotAClickTest(ServerTestCase):
    """HEAD and the `+` preview answer without recording a click; GET does."""

    user_keys = 1

    def test_head_and_preview_are_not_counted(self) -> None:
        owner = self.client(self.keys[0])
        anon = self.client()
        slug = self.create(owner, "https://example.com/nc", slug=unique("nc"))["slug"]
        self.assertEqual(anon.head(f"/{slug}", key=None).status, 302)
        self.assertEqual(anon.get(f"/{slug}+", key=None).status, 200)
        self.assertEqual(anon.head(f"/{slug}+", key=None).status, 200)
        self.assertEqual(anon.get(f"/{slug}", key=None).status, 302)
        body = await_total(owner, f"/api/v1/links/{slug}/stats", 1)
        time.sleep(0.3)  # several worker batches: a wrongly counted HEAD would show by now
        body = stats(owner, f"/api/v1/links/{slug}/stats", bots="include")
        self.assertEqual(body["total"], 1)
        m = metrics(owner)
        self.assertEqual(m["shortener_clicks_enqueued_total"], 1)


if __name__ == "__main__":
    unittest.main()
