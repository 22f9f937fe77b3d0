"""Click analytics are exact: 1,000 crafted redirects to one link (and 250 to a second),
interleaved over four keep-alive connections; then every figure of the stats API — totals, bots,
unique visitors and each dimension, bots excluded and included — equals what the mix implies;
the CSV export holds one row per redirect with the right columns; the account-wide stats are the
sum of the two links; /metrics accounts for every click.

The mix is drawn with a fixed seed from these tables (values in analytics.py, weights below):

| User-Agent (weight)      | device  | browser (version)   | os      | bot (bot_reason)  |
|--------------------------|---------|---------------------|---------|-------------------|
| Chrome 120, Windows (30) | desktop | Chrome (120)        | Windows | no                |
| iPhone Safari 17 (22)    | mobile  | Mobile Safari (17)  | iOS     | no                |
| Android 14 Pixel (18)    | mobile  | Chrome Mobile (119) | Android | no                |
| iPad Safari 16 (8)       | tablet  | Mobile Safari (16)  | iOS     | no                |
| Firefox 121, Linux (6)   | desktop | Firefox (121)       | Linux   | no                |
| Googlebot 2.1 (6)        | bot     | Googlebot (2)       | Other   | yes (ua-list)     |
| curl/8.5.0 (4)           | bot     | curl (8)            | Other   | yes (ua-list)     |
| empty header (3)         | bot     | Other               | Other   | yes (empty-ua)    |
| no header (3)            | bot     | Other               | Other   | yes (empty-ua)    |

| X-Forwarded-For (uniform)                                    | country  |
|--------------------------------------------------------------|----------|
| 8.8.8.8, 2606:4700:4700::1111                                | US       |
| 1.1.1.1 / 81.2.69.160, ::ffff:81.2.69.160 / 77.88.8.8        | AU / GB / RU |
| 200.160.2.3 / 133.242.0.3 / 217.160.0.1 / 195.35.0.1         | BR / JP / DE / FR |
| 2a00:1450:4001::1                                            | IE       |
| 203.0.113.5 (TEST-NET-3)                                     | unknown  |

| Referer (weight)                             | referrer       |
|----------------------------------------------|----------------|
| absent (45)                                  | direct         |
| https://www.google.com/search?q=... (30)     | www.google.com |
| https://t.co/AbC123xyz (15)                  | t.co           |
| obs-text garbage "\xff\xfe\x80..." (10)       | unknown        |

Every city is "unknown" (the bundled database has countries only). One redirect in eight carries
?utm_source=newsletter (checked in the CSV). Unique visitors: one per distinct (address,
User-Agent) pair among non-bot clicks of the day, an IPv4-mapped IPv6 address being the IPv4
client; bots are never unique.
"""

import random
import time
import unittest
from collections import Counter

from analytics import (
    BINARY_REFERER, COUNTRY_OF, DIMENSIONS, REFERRER_OF, UA_CASES, Expected, Visit, add_counts,
    as_counts, await_total, avoid_utc_midnight, csv_rows, metrics, parse_rfc3339,
    send_round_robin, stats,
)
from harness import ServerTestCase, rfc3339, unique

SEED = 20261129
MAIN_CLICKS = 1000
SIDE_CLICKS = 250
CONNECTIONS = 4

# Relative weights: humans dominate, as on a real link, with enough bots to matter.
UA_WEIGHTS = {
    "chrome-windows": 30, "iphone-safari": 22, "android-chrome": 18, "ipad-safari": 8,
    "firefox-linux": 6, "googlebot": 6, "curl": 4, "empty": 3, "absent": 3,
}
REFERER_WEIGHTS = {None: 45, "https://www.google.com/search?q=short+links": 30,
                   "https://t.co/AbC123xyz": 15}


def draw_visits(rng: random.Random, slug: str, count: int) -> list[Visit]:
    referers = {**REFERER_WEIGHTS, BINARY_REFERER: 10}
    ips = list(COUNTRY_OF)
    out = []
    for _ in range(count):
        ua = rng.choices(list(UA_WEIGHTS), weights=list(UA_WEIGHTS.values()))[0]
        referer = rng.choices(list(referers), weights=list(referers.values()))[0]
        utm = "newsletter" if rng.random() < 0.125 else None
        out.append(Visit(slug, rng.choice(ips), UA_CASES[ua], referer, utm))
    return out


class ClickMixTest(ServerTestCase):
    user_keys = 2

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        avoid_utc_midnight()
        cls.started = time.time()
        owner = cls.server.client(cls.keys[0])
        cls.addClassCleanup(owner.close)
        cls.links = {}
        for name in ("main", "side"):
            resp = owner.create_link(f"https://example.com/{name}?src=e2e", slug=unique(name))
            assert resp.status == 201, resp.describe()
            cls.links[name] = resp.json()
        rng = random.Random(SEED)
        main = draw_visits(rng, cls.links["main"]["slug"], MAIN_CLICKS)
        side = draw_visits(rng, cls.links["side"]["slug"], SIDE_CLICKS)
        # Interleave the two links (each keeps its own order, which the expectations follow).
        order = ["main"] * MAIN_CLICKS + ["side"] * SIDE_CLICKS
        rng.shuffle(order)
        queues = {"main": iter(main), "side": iter(side)}
        sequence = [next(queues[name]) for name in order]
        cls.expected = {"main": Expected(main), "side": Expected(side)}

        clients = [cls.server.client() for _ in range(CONNECTIONS)]
        try:
            send_round_robin(clients, sequence)
            cls.reconnects = sum(c.reconnects for c in clients)
        finally:
            for c in clients:
                c.close()
        cls.final = {name: await_total(owner, cls.stats_path(name), len(cls.expected[name].visits))
                     for name in cls.links}

    @classmethod
    def stats_path(cls, name: str) -> str:
        return f"/api/v1/links/{cls.links[name]['slug']}/stats"

    def setUp(self) -> None:
        self.owner = self.client(self.keys[0])

    def link_stats(self, name: str, **params: str) -> dict:
        return stats(self.owner, self.stats_path(name), **params)

    def assertFigures(self, body: dict, exp: Expected, bots: bool) -> None:
        """Totals and every dimension of one stats answer against the expectation."""
        self.assertEqual(body["bots_included"], bots)
        self.assertEqual(body["total"], exp.total(bots), "total")
        self.assertEqual(body["bots"], exp.bots, "bots")
        self.assertEqual(body["unique"], exp.unique, "unique")
        for dim in DIMENSIONS:
            with self.subTest(dimension=dim, bots=bots):
                self.assertEqual(as_counts(body[dim]), exp.dimension(dim, bots))

    def test_sent_over_keep_alive_without_reconnects(self) -> None:
        self.assertEqual(self.reconnects, 0, "the server closed a keep-alive connection")

    def test_link_stats_exact_bots_excluded(self) -> None:
        for name in self.links:
            with self.subTest(link=name):
                body = self.link_stats(name)
                self.assertEqual(body["slug"], self.links[name]["slug"])
                self.assertFigures(body, self.expected[name], bots=False)

    def test_link_stats_exact_bots_included(self) -> None:
        for name in self.links:
            with self.subTest(link=name):
                self.assertFigures(self.final[name], self.expected[name], bots=True)
                self.assertFigures(self.link_stats(name, bots="include"), self.expected[name],
                                   bots=True)
                self.assertFigures(self.link_stats(name, bots="exclude"), self.expected[name],
                                   bots=False)

    def test_mix_is_what_the_table_says(self) -> None:
        # Guards the test itself: every table entry occurs, so every classification is checked.
        exp = self.expected["main"]
        self.assertEqual(len(exp.visits), MAIN_CLICKS)
        self.assertEqual({v.ua.name for v in exp.visits}, set(UA_WEIGHTS))
        self.assertEqual({v.ip for v in exp.visits}, set(COUNTRY_OF))
        self.assertEqual({v.referer for v in exp.visits}, set(REFERRER_OF))
        self.assertGreater(exp.bots, 50)
        self.assertLess(exp.unique, exp.total(bots=False))  # repeats exist

    def test_timeseries_sums_to_totals(self) -> None:
        for bots in ("exclude", "include"):
            for interval, since in (("hour", None), ("minute", self.started - 120),
                                    ("day", self.started - 3 * 86400)):
                with self.subTest(bots=bots, interval=interval):
                    params = {"bots": bots, "interval": interval}
                    if since is not None:
                        params["from"] = rfc3339(since)
                    body = self.link_stats("main", **params)
                    self.assertEqual(body["interval"], interval)
                    series = body["timeseries"]
                    self.assertEqual(sum(b["clicks"] for b in series), body["total"])
                    self.assertEqual(sum(b["unique"] for b in series), body["unique"])
                    self.assertEqual(body["total"],
                                     self.expected["main"].total(bots == "include"))
                    times = [b["t"] for b in series]
                    self.assertEqual(times, sorted(times))
                    self.assertEqual(len(times), len(set(times)))

    def test_stats_token_reads_the_same_figures(self) -> None:
        token = self.links["main"]["stats_url"].split("#token=", 1)[1]
        reader = self.client(token)
        body = stats(reader, self.stats_path("main"))
        self.assertFigures(body, self.expected["main"], bots=False)

    def test_csv_one_row_per_redirect(self) -> None:
        exp = self.expected["main"]
        resp = self.owner.get(f"/api/v1/links/{self.links['main']['slug']}/clicks.csv",
                              headers={"Accept": "text/csv"})
        self.assertEqual(resp.content_type, "text/csv", resp.describe())
        header, rows = csv_rows(resp)
        self.assertEqual(header[:2], ["id", "time"])
        self.assertEqual(len(rows), MAIN_CLICKS)
        self.assertEqual(len({r["id"] for r in rows}), MAIN_CLICKS, "ids not distinct")
        for column in ("country", "referrer", "device", "browser", "browser_version", "os", "bot",
                       "bot_reason", "unique", "utm_source"):
            self.assertIn(column, header)
        # The redirects went out one at a time, so click time order is send order. (Times have
        # 0, 3 or 6 fractional digits: compare them parsed, not as strings.)
        rows.sort(key=lambda r: (parse_rfc3339(r["time"]), r["id"]))
        mismatches = []
        for i, row in enumerate(rows):
            want = exp.csv_row(i)
            got = {k: row.get(k) for k in want}
            if got != want:
                mismatches.append(f"row {i} ({exp.visits[i].ua.name}, {exp.visits[i].ip}): "
                                  f"got {got}, want {want}")
        self.assertEqual(mismatches[:5], [], f"{len(mismatches)} rows differ")
        # Exactly one click per visitor carries the unique flag; no bot click does.
        flagged = Counter(exp.visits[i].visitor for i, row in enumerate(rows)
                          if row["unique"] == "true")
        self.assertEqual(set(flagged), exp.visitors)
        self.assertEqual([v for v, n in flagged.items() if n != 1], [])
        self.assertEqual({row["unique"] for row in rows}, {"true", "false"})
        self.assertEqual({r["destination"] for r in rows}, {self.links["main"]["url"]})

    def test_account_stats_are_the_sum_of_the_links(self) -> None:
        for bots in ("exclude", "include"):
            with self.subTest(bots=bots):
                account = stats(self.owner, "/api/v1/stats", bots=bots)
                parts = [self.link_stats(name, bots=bots) for name in self.links]
                for figure in ("total", "unique", "bots"):
                    self.assertEqual(account[figure], sum(p[figure] for p in parts), figure)
                for dim in DIMENSIONS:
                    self.assertEqual(as_counts(account[dim]),
                                     add_counts(*(as_counts(p[dim]) for p in parts)), dim)
                self.assertEqual(account["links"], 2)
                self.assertEqual(sum(b["clicks"] for b in account["timeseries"]),
                                 account["total"])

    def test_account_top_links(self) -> None:
        account = stats(self.owner, "/api/v1/stats")
        want = sorted(((self.links[n]["slug"], self.links[n]["url"],
                        self.expected[n].total(bots=False)) for n in self.links),
                      key=lambda t: -t[2])
        got = [(t["slug"], t["url"], t["clicks"]) for t in account["top_links"]]
        self.assertEqual(got, want)

    def test_other_account_sees_none_of_it(self) -> None:
        other = self.client(self.keys[1])
        account = stats(other, "/api/v1/stats", bots="include")
        self.assertEqual((account["total"], account["unique"], account["bots"],
                          account["links"], account["top_links"]), (0, 0, 0, 0, []))
        for dim in DIMENSIONS:
            self.assertEqual(account[dim], [], dim)

    def test_metrics_account_for_every_click(self) -> None:
        sent = MAIN_CLICKS + SIDE_CLICKS
        m = metrics(self.owner)
        self.assertEqual(m["shortener_clicks_enqueued_total"], sent)
        self.assertEqual(m["shortener_clicks_processed_total"], sent)
        self.assertEqual(m["shortener_clicks_dropped_total"], 0)
        self.assertEqual(m["shortener_click_queue_length"], 0)


if __name__ == "__main__":
    unittest.main()
