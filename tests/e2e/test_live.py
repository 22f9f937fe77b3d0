"""Real time: server-sent events on /api/v1/links/{slug}/live and /api/v1/live.

Each redirect shows up on the streams it belongs to — and on no other — within 1 s (measured per
event, from just before the request is sent to the arrival of the event's last byte), as an
`event: click` whose `id:` line equals its `id` field, with the enriched fields and no client
address. Credentials: the owner's API key, or the link's stats token for the link stream only;
anything else is 401/404 problem+json. Last-Event-ID is optional. Disconnected clients are cleaned
up. The 15 s heartbeat is checked only with SHORTENER_E2E_SLOW=1.
"""

import os
import time
import unittest

from analytics import (
    BINARY_REFERER, COUNTRY_OF, LIVE_FIELDS, REFERRER_OF, UA_CASES, SseStream, Visit,
    avoid_utc_midnight, await_total, csv_rows, metrics, parse_rfc3339,
)
from harness import PROBLEM_TYPE, ServerTestCase, unique

LATENCY_LIMIT = 1.0  # seconds from redirect to event: the contract
EVENT_WAIT = 3.0  # how long a test waits for an event before calling it missing
QUIET = 0.6  # seconds of silence that show a stream got nothing it should not have

# One visit per row: every device class, a bot, each referrer kind and an IPv6 client.
LIVE_MIX = [
    ("chrome-windows", "8.8.8.8", None),
    ("iphone-safari", "81.2.69.160", "https://t.co/AbC123xyz"),
    ("android-chrome", "1.1.1.1", "https://www.google.com/search?q=short+links"),
    ("ipad-safari", "133.242.0.3", None),
    ("googlebot", "8.8.8.8", None),
    ("curl", "77.88.8.8", None),
    ("empty", "200.160.2.3", None),
    ("firefox-linux", "2a00:1450:4001::1", "https://t.co/AbC123xyz"),
    ("chrome-windows", "8.8.8.8", None),  # the same visitor again: not unique
    ("chrome-windows", "203.0.113.5", BINARY_REFERER),
]


class LiveCase(ServerTestCase):
    """Alice (keys[0]) owns links a, b and solo; bob (keys[1]) owns link bob."""

    user_keys = 2

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        alice = cls.server.client(cls.keys[0])
        bob = cls.server.client(cls.keys[1])
        cls.addClassCleanup(alice.close)
        cls.addClassCleanup(bob.close)
        cls.links = {}
        # "solo" is used by one test only, so its unique-visitor flags are predictable.
        for name, client in (("a", alice), ("b", alice), ("solo", alice), ("bob", bob)):
            resp = client.create_link(f"https://example.com/live-{name}",
                                      slug=unique(f"live{name}"))
            assert resp.status == 201, resp.describe()
            cls.links[name] = resp.json()

    def setUp(self) -> None:
        self.alice = self.client(self.keys[0])
        self.anon = self.client()

    # helpers

    def slug(self, name: str) -> str:
        return self.links[name]["slug"]

    def token(self, name: str) -> str:
        return self.links[name]["stats_url"].split("#token=", 1)[1]

    def stream(self, path: str, token: str | None, headers: dict[str, str] | None = None,
               expect: int = 200) -> SseStream:
        s = SseStream(self.server.host, self.server.port, path, token, headers)
        self.addCleanup(s.close)
        head = s.open()
        self.assertEqual(head.status, expect, head.describe())
        if expect == 200:
            self.assertEqual(head.content_type, "text/event-stream", head.describe())
            self.head = head
        else:
            self.last_error = head
        return s

    def link_stream(self, name: str, token: str | None = None, **kw) -> SseStream:
        return self.stream(f"/api/v1/links/{self.slug(name)}/live",
                           self.keys[0] if token is None else token, **kw)

    def account_stream(self, key: str | None = None) -> SseStream:
        return self.stream("/api/v1/live", key or self.keys[0])

    def visit(self, name: str, ua: str = "chrome-windows", ip: str = "8.8.8.8",
              referer: str | None = None) -> Visit:
        v = Visit(self.slug(name), ip, UA_CASES[ua], referer)
        resp = self.anon.get(v.path(), key=None, headers=v.headers())
        self.assertEqual(resp.status, 302, resp.describe())
        return v

    def assertClickEvent(self, msg, v: Visit, unique_flag: bool | None = None) -> dict:
        self.assertEqual(msg.event, "click", msg.raw)
        body = msg.json()
        self.assertEqual(set(body), LIVE_FIELDS, msg.raw)
        self.assertEqual(body["id"], msg.id, "the id: line and the id field differ")
        want = {"slug": v.slug, "country": COUNTRY_OF[v.ip], "region": "unknown",
                "city": "unknown", "referrer": REFERRER_OF[v.referer], "device": v.ua.device,
                "browser": v.ua.browser, "browser_version": v.ua.version, "os": v.ua.os,
                "bot": v.ua.bot, "bot_reason": v.ua.bot_reason}
        self.assertEqual({k: body[k] for k in want}, want, msg.raw)
        self.assertIsInstance(body["unique"], bool)
        if v.ua.bot:
            self.assertFalse(body["unique"], "a bot counted as a unique visitor")
        if unique_flag is not None:
            self.assertEqual(body["unique"], unique_flag, msg.raw)
        age = time.time() - parse_rfc3339(body["t"]).timestamp()
        self.assertTrue(-2 < age < 10, f"event time {body['t']} is {age:.1f}s old")
        self.assertNotIn(v.ip, msg.raw, "the client address leaked into the stream")
        for name in ("ip", "ip_address", "client_ip", "address", "user_agent", "visitor"):
            self.assertNotIn(name, body)
        return body



class LiveStreamTest(LiveCase):
    def test_preamble(self) -> None:
        s = self.link_stream("a")
        self.assertIn(self.head.header("Cache-Control", ""), ("no-store", "no-cache"))
        first = s.next(EVENT_WAIT, events_only=False)
        self.assertEqual(first.retry, "2000", first.raw)
        preamble = first.comments + ([] if "connected" in first.comments
                                     else s.next(EVENT_WAIT, events_only=False).comments)
        self.assertIn("connected", preamble)
        self.assertTrue(s.raw.startswith(b"retry: 2000\n"), s.raw[:100])

    def test_each_click_arrives_within_1s_with_its_fields(self) -> None:
        avoid_utc_midnight()  # the unique flags below assume one day
        s = self.link_stream("solo")
        s.next(EVENT_WAIT, events_only=False)  # the preamble: the subscription is in place
        latencies, ids, seen = [], [], set()
        for ua, ip, referer in LIVE_MIX:
            with self.subTest(ua=ua, ip=ip):
                sent = time.monotonic()
                v = self.visit("solo", ua, ip, referer)
                msg = s.next(EVENT_WAIT)
                latencies.append(msg.at - sent)
                visitor = v.visitor
                body = self.assertClickEvent(msg, v, None if v.ua.bot else visitor not in seen)
                seen.add(visitor)
                ids.append(body["id"])
                self.assertLess(msg.at - sent, LATENCY_LIMIT,
                                f"event {len(latencies)} took {msg.at - sent:.3f}s")
        self.assertEqual(len(set(ids)), len(ids), "event ids repeat")
        # Every event is a stored click, and every stored click was an event.
        total = len(LIVE_MIX)
        await_total(self.alice, f"/api/v1/links/{self.slug('solo')}/stats", total, timeout=5)
        _, rows = csv_rows(self.alice.get(f"/api/v1/links/{self.slug('solo')}/clicks.csv"))
        self.assertEqual({r["id"] for r in rows}, set(ids))

    def test_account_stream_gets_every_link_and_link_streams_only_their_own(self) -> None:
        account = self.account_stream()
        only_a = self.link_stream("a")
        only_b = self.link_stream("b")
        bobs = self.account_stream(self.keys[1])
        for s in (account, only_a, only_b, bobs):
            s.next(EVENT_WAIT, events_only=False)
        # Each visit from its own country, so an event names its visit whatever the order
        # (parallel workers may publish in another order than the redirects came).
        sent = {}
        for i, name in enumerate(["a", "b", "a", "b", "b"]):
            v = self.visit(name, ip=list(COUNTRY_OF)[i])
            sent[(v.slug, COUNTRY_OF[v.ip])] = v
        got = [account.next(EVENT_WAIT) for _ in sent]
        keys = [(m.json()["slug"], m.json()["country"]) for m in got]
        self.assertEqual(sorted(keys), sorted(sent))
        for msg, key in zip(got, keys):
            self.assertClickEvent(msg, sent[key])
        a_ids = {m.id for m in got if m.json()["slug"] == self.slug("a")}
        b_ids = {m.id for m in got if m.json()["slug"] == self.slug("b")}
        self.assertEqual(len(a_ids), 2)
        self.assertEqual({m.id for m in only_a.drain(QUIET)}, a_ids)
        self.assertEqual({m.id for m in only_b.drain(QUIET)}, b_ids)
        self.assertEqual(bobs.drain(0.1), [], "another account's stream saw alice's clicks")
        # ... and bob's own click reaches bob, not alice.
        v = self.visit("bob")
        self.assertClickEvent(bobs.next(EVENT_WAIT), v)
        self.assertEqual(account.drain(QUIET), [])

    def test_stats_token_opens_the_link_stream_only(self) -> None:
        s = self.link_stream("a", token=self.token("a"))
        s.next(EVENT_WAIT, events_only=False)
        v = self.visit("a", "iphone-safari", "1.1.1.1")
        self.assertClickEvent(s.next(EVENT_WAIT), v)
        # The token belongs to link a: not to link b, nor to the account stream.
        self.link_stream("b", token=self.token("a"), expect=401)
        self.assertProblem(self.last_error, (401, 404))
        self.stream("/api/v1/live", self.token("a"), expect=401)
        self.assertProblem(self.last_error, 401)

    def test_bad_credentials(self) -> None:
        cases = [
            ("unknown token", f"/api/v1/links/{self.slug('a')}/live", "no-such-token-1234567890",
             (401, 404)),
            ("unknown key", f"/api/v1/links/{self.slug('a')}/live", "sk_" + "x" * 40, (401, 404)),
            ("no credentials", f"/api/v1/links/{self.slug('a')}/live", None, 401),
            ("no credentials, account", "/api/v1/live", None, 401),
            ("unknown key, account", "/api/v1/live", "sk_" + "x" * 40, 401),
            ("someone else's key", f"/api/v1/links/{self.slug('a')}/live", self.keys[1], 404),
            ("unknown slug", "/api/v1/links/no-such-slug-live/live", self.keys[0], 404),
        ]
        for name, path, token, status in cases:
            with self.subTest(case=name):
                s = SseStream(self.server.host, self.server.port, path, token)
                self.addCleanup(s.close)
                head = s.open()
                self.assertProblem(head, status)
                self.assertEqual(head.content_type, PROBLEM_TYPE)

    def test_last_event_id_is_optional(self) -> None:
        first = self.link_stream("b")
        first.next(EVENT_WAIT, events_only=False)
        self.visit("b", "firefox-linux", "81.2.69.160")
        old_id = first.next(EVENT_WAIT).id
        for value in (old_id, "not-an-event-id", "", "\xff\xfe"):
            with self.subTest(last_event_id=value):
                s = self.link_stream("b", headers={"Last-Event-ID": value})
                s.next(EVENT_WAIT, events_only=False)
                # Whatever it replays (resuming is optional), a new click arrives.
                v = self.visit("b", "android-chrome", "1.1.1.1")
                deadline = time.monotonic() + EVENT_WAIT
                while True:
                    msg = s.next(max(0.01, deadline - time.monotonic()))
                    if msg.id != old_id:
                        break
                self.assertClickEvent(msg, v)

    @unittest.skipUnless(os.environ.get("SHORTENER_E2E_SLOW") == "1", "SHORTENER_E2E_SLOW=1")
    def test_heartbeat_every_15s(self) -> None:
        s = self.link_stream("a")
        s.next(EVENT_WAIT, events_only=False)
        started = time.monotonic()
        while time.monotonic() - started < 17:
            msg = s.next(17, events_only=False)
            if "ping" in msg.comments:
                self.assertLess(msg.at - started, 16.5)
                return
        self.fail("no ': ping' within 17 s")


class LiveCleanupTest(LiveCase):
    """On a server of its own, so no other test's streams are in the client count."""

    def test_disconnected_clients_are_cleaned_up(self) -> None:
        def clients() -> float:
            return metrics(self.alice)["shortener_sse_clients"]

        def settle(target: float, poke: bool) -> float:
            deadline = time.monotonic() + 5
            while (now := clients()) != target and time.monotonic() < deadline:
                if poke:  # an event makes the server write to (and notice) dead sockets
                    self.visit("a", "curl")
                time.sleep(0.1)
            return now

        base = clients()
        self.assertEqual(base, 0)
        streams = [SseStream(self.server.host, self.server.port, "/api/v1/live", self.keys[0])
                   for _ in range(5)]
        for s in streams:
            self.addCleanup(s.close)
            self.assertEqual(s.open().status, 200)
            s.next(EVENT_WAIT, events_only=False)
        self.assertEqual(settle(base + 5, poke=False), base + 5)
        for s in streams:
            s.close()
        self.assertEqual(settle(base, poke=True), base, "closed SSE clients were not removed")
        self.assertEqual(self.anon.get("/healthz", key=None).status, 200)


if __name__ == "__main__":
    unittest.main()
