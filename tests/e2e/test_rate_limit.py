"""Anonymous creation is rate-limited per client IP. With --trust-proxy 127.0.0.1/32 the client IP
is the rightmost untrusted X-Forwarded-For address, so each test simulates its own clients.

The limiter may be a token bucket (burst N, refilled at N per minute): a burst of N+1 is refused
only when it is sent faster than one refill interval (60/N s), so the tests send bursts and skip,
rather than fail, when the machine was too slow for that."""

import time
import unittest

from harness import ServerTestCase

CREATE = "/api/v1/links"


class RateLimitMixin:
    def anon_create(self, client, xff: str | None, i: int = 0):
        headers = {"X-Forwarded-For": xff} if xff is not None else {}
        return client.post(CREATE, {"url": f"https://example.com/rl/{i}"}, key=None,
                           headers=headers)

    def exhaust(self, client, xff: str, limit: int) -> None:
        self.burst_started, self.burst_limit = time.monotonic(), limit
        for i in range(limit):
            resp = self.anon_create(client, xff, i)
            self.assertEqual(resp.status, 201, f"creation {i + 1}/{limit}: {resp.describe()}")

    def assertLimited(self, resp) -> None:
        refill = 60.0 / self.burst_limit
        if resp.status != 429 and time.monotonic() - self.burst_started > 0.9 * refill:
            self.skipTest(f"burst took over {0.9 * refill:.1f}s: a token may have refilled")
        self.assertProblem(resp, 429)
        retry = resp.header("Retry-After")
        self.assertIsNotNone(retry, resp.describe())
        self.assertRegex(retry, r"^\d+$", "Retry-After must be delay-seconds")
        self.assertTrue(1 <= int(retry) <= 60, f"Retry-After {retry} outside 1..60")


class DefaultRateLimitTest(RateLimitMixin, ServerTestCase):
    """The default: 30 anonymous creations per minute per IP."""

    user_keys = 1

    def test_31st_creation_from_one_ip_is_429_other_ip_is_fine(self) -> None:
        c = self.client()
        self.exhaust(c, "203.0.113.7", 30)
        self.assertLimited(self.anon_create(c, "203.0.113.7", 31))
        self.assertEqual(self.anon_create(c, "203.0.113.8").status, 201)

    def test_rightmost_untrusted_address_is_the_client(self) -> None:
        c = self.client()
        self.exhaust(c, "203.0.113.20", 30)
        # A spoofed leftmost entry does not buy a fresh budget...
        self.assertLimited(self.anon_create(c, "198.51.100.1, 203.0.113.20"))
        # ...a trusted proxy hop on the right is skipped...
        self.assertLimited(self.anon_create(c, "203.0.113.20, 127.0.0.1"))
        # ...and a different rightmost untrusted address is a different client.
        self.assertEqual(self.anon_create(c, "203.0.113.20, 203.0.113.21").status, 201)

    def test_keyed_creation_is_not_limited(self) -> None:
        c = self.client()
        self.exhaust(c, "203.0.113.30", 30)
        self.assertLimited(self.anon_create(c, "203.0.113.30"))
        keyed = self.client(self.keys[0])
        for i in range(5):
            resp = keyed.post(CREATE, {"url": f"https://example.com/keyed/{i}"},
                              headers={"X-Forwarded-For": "203.0.113.30"})
            self.assertEqual(resp.status, 201, resp.describe())


class ConfiguredRateLimitTest(RateLimitMixin, ServerTestCase):
    extra_args = ["--anon-rate-limit", "3"]
    user_keys = 0

    def test_flag_sets_the_limit(self) -> None:
        c = self.client()
        self.exhaust(c, "203.0.113.40", 3)
        self.assertLimited(self.anon_create(c, "203.0.113.40"))
        self.exhaust(c, "2001:db8::40", 3)
        self.assertLimited(self.anon_create(c, "2001:db8::40"))


class UntrustedPeerTest(RateLimitMixin, ServerTestCase):
    """Without --trust-proxy, X-Forwarded-For is ignored: the TCP peer is the client."""

    trust_proxy = None
    extra_args = ["--anon-rate-limit", "2"]
    user_keys = 0

    def test_forwarded_for_from_untrusted_peer_ignored(self) -> None:
        c = self.client()
        self.burst_started, self.burst_limit = time.monotonic(), 2
        self.assertEqual(self.anon_create(c, "203.0.113.50").status, 201)
        self.assertEqual(self.anon_create(c, "203.0.113.51").status, 201)
        self.assertLimited(self.anon_create(c, "203.0.113.52"))
        self.assertLimited(self.anon_create(c, None))


if __name__ == "__main__":
    unittest.main()
