"""HTTP server behaviour: keep-alive, pipelining, HEAD on the wire, body and header limits,
slow clients (opt-in, slow), and graceful shutdown on SIGTERM/SIGINT."""

import http.client
import json
import select
import signal
import socket
import threading
import time
import unittest

from harness import (
    Instance, RawReader, ServerTestCase, connect, create_key, make_temp_dir, new_admin_key,
    raw_request, remove_temp_dir, require_binary, unique,
)

BODY_LIMIT = 64 * 1024


def nothing_more(reader: RawReader, seconds: float = 0.3) -> bool:
    """True when no further byte arrives within `seconds` (the connection stays open and quiet)."""
    if reader.buf:
        return False
    ready, _, _ = select.select([reader.sock], [], [], seconds)
    if not ready:
        return True
    try:
        return reader.sock.recv(1, socket.MSG_PEEK) == b""  # EOF is "nothing more" too
    except ConnectionError:
        return True


def send_ignoring_reset(sock: socket.socket, data: bytes, step: int = 8192) -> bool:
    """Sends `data` in steps, stopping early when the server answered or hung up; returns whether
    everything was sent."""
    for i in range(0, len(data), step):
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            return False
        try:
            sock.sendall(data[i:i + step])
        except (BrokenPipeError, ConnectionResetError):
            return False
    return True


class ConnectionTest(ServerTestCase):
    user_keys = 1

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        c = cls.server.client(cls.keys[0])
        resp = c.create_link("https://example.com/conn", slug=unique("conn"))
        c.close()
        assert resp.status == 201, resp.describe()
        cls.slug = resp.json()["slug"]

    def raw(self) -> tuple[socket.socket, RawReader]:
        sock = connect(self.server.host, self.server.port)
        self.addCleanup(sock.close)
        return sock, RawReader(sock)

    def host(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def test_keep_alive_many_requests_one_connection(self) -> None:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        self.addCleanup(conn.close)
        auth = {"Authorization": f"Bearer {self.keys[0]}", "Content-Type": "application/json"}
        steps = [
            ("GET", "/healthz", None, {}, 200),
            ("GET", f"/{self.slug}", None, {}, 302),
            ("HEAD", f"/{self.slug}", None, {}, 302),
            ("POST", "/api/v1/links", json.dumps({"url": "https://example.com/ka"}), auth, 201),
            ("GET", "/no-such-slug-ka", None, {}, 404),
            ("POST", "/api/v1/links", "{not json", auth, 400),
            ("GET", f"/api/v1/links/{self.slug}", None, auth, 200),
            ("GET", f"/{self.slug}+", None, {}, 200),
            ("GET", "/readyz", None, {}, 200),
        ]
        sock = None
        for method, path, body, headers, status in steps:
            with self.subTest(f"{method} {path}"):
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                self.assertEqual(resp.status, status)
                self.assertNotEqual((resp.getheader("Connection") or "").lower(), "close")
                self.assertFalse(resp.will_close, "server asked to close a keep-alive connection")
                if sock is None:
                    sock = conn.sock
                self.assertIs(conn.sock, sock, "a new connection was needed")

    def test_pipelined_requests_answered_in_order(self) -> None:
        sock, reader = self.raw()
        h = self.host()
        sock.sendall(raw_request("GET", "/healthz", h) + raw_request("GET", f"/{self.slug}", h)
                     + raw_request("HEAD", f"/{self.slug}+", h)
                     + raw_request("GET", "/no-such-pipelined", h)
                     + raw_request("GET", f"/{self.slug}", h))
        first = reader.read_response()
        self.assertEqual(first.status, 200, first.describe())
        second = reader.read_response()
        self.assertEqual(second.status, 302, second.describe())
        self.assertEqual(second.header("Location"), "https://example.com/conn")
        third = reader.read_response(head_only=True)
        self.assertEqual(third.status, 200, third.describe())
        fourth = reader.read_response()
        self.assertEqual(fourth.status, 404, fourth.describe())
        fifth = reader.read_response()
        self.assertEqual(fifth.status, 302, fifth.describe())
        self.assertTrue(nothing_more(reader), f"unexpected bytes after the answers: {reader.buf!r}")

    def test_head_sends_no_body_on_the_wire(self) -> None:
        sock, reader = self.raw()
        for path in (f"/{self.slug}+", f"/{self.slug}", "/healthz", "/no-such-head-raw"):
            with self.subTest(path):
                sock.sendall(raw_request("HEAD", path, self.host()))
                resp = reader.read_response(head_only=True)
                self.assertIn(resp.status, (200, 302, 404), resp.describe())
                self.assertTrue(nothing_more(reader), f"HEAD {path} sent a body: {reader.buf[:200]!r}")

    def test_http10_and_connection_close_are_honoured(self) -> None:
        for request in (
            f"GET /healthz HTTP/1.0\r\nHost: {self.host()}\r\n\r\n".encode(),
            raw_request("GET", "/healthz", self.host(), {"Connection": "close"}),
        ):
            with self.subTest(request[:40]):
                sock, reader = self.raw()
                sock.sendall(request)
                resp = reader.read_response()
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertTrue(reader.closed_within(3), "connection not closed after the answer")

    def post_oversized(self, body_len: int, chunked: bool) -> tuple[object, str]:
        """Sends a too-large POST; returns (response or None, what happened)."""
        sock, reader = self.raw()
        headers = {"Authorization": f"Bearer {self.keys[0]}", "Content-Type": "application/json"}
        payload = b'{"url":"https://example.com/","title":"' + b"a" * body_len + b'"}'
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
            head = raw_request("POST", "/api/v1/links", self.host(), headers)
            body = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 4096]), payload[i:i + 4096])
                            for i in range(0, len(payload), 4096)) + b"0\r\n\r\n"
        else:
            headers["Content-Length"] = str(len(payload))
            head = raw_request("POST", "/api/v1/links", self.host(), headers)
            body = payload
        sock.sendall(head)
        select.select([sock], [], [], 0.5)  # give an early 413 (from Content-Length) a chance
        sent_all = send_ignoring_reset(sock, body)
        try:
            return reader.read_response(), f"sent_all={sent_all}"
        except (ConnectionError, socket.timeout) as e:
            return None, f"sent_all={sent_all}, no response: {e!r}"

    def test_body_over_64k_is_413(self) -> None:
        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                resp, what = self.post_oversized(BODY_LIMIT + 1024, chunked)
                self.assertIsNotNone(resp, what)
                self.assertEqual(resp.status, 413, resp.describe())
                self.assertEqual(resp.content_type, "application/problem+json", resp.describe())

    def test_body_just_under_limit_is_not_413(self) -> None:
        c = self.client(self.keys[0])
        title = "t" * (BODY_LIMIT - 200)
        resp = c.post("/api/v1/links", {"url": "https://example.com/big", "title": title})
        self.assertNotEqual(resp.status, 413, resp.describe())
        self.assertIn(resp.status, (201, 400), resp.describe())

    def test_oversized_header_refused(self) -> None:
        sock, reader = self.raw()
        sock.sendall(raw_request("GET", "/healthz", self.host(), {"X-Big": "a" * 20000}))
        try:
            resp = reader.read_response()
        except (ConnectionError, socket.timeout) as e:
            if isinstance(e, socket.timeout):
                self.fail("no answer and no close within the socket timeout")
            return  # closed without an answer: allowed
        self.assertIn(resp.status, (400, 413, 431), resp.describe())

    def test_zz_server_still_healthy(self) -> None:
        self.assertEqual(self.client().get("/healthz").status, 200)


class LargeResponseTest(ServerTestCase):
    """A response larger than the socket can take at once: the server writes what fits and
    waits for the rest without blocking its thread (write_response: non-blocking write, then
    async_write of the remainder). The client reads late and slowly; every byte arrives, in
    order, and the connection then serves the next request."""

    user_keys = 0
    start_admin_key = False
    SIZE = 8 * 1024 * 1024

    @classmethod
    def setUpClass(cls) -> None:
        cls.web_dir = make_temp_dir("large-response-web")
        cls.addClassCleanup(remove_temp_dir, cls.web_dir)
        # Every 16-byte line numbered, so a lost, repeated or reordered piece shows.
        cls.body = b"".join(b"%015d\n" % i for i in range(cls.SIZE // 16))
        with open(f"{cls.web_dir}/big.txt", "wb") as f:
            f.write(cls.body)
        with open(f"{cls.web_dir}/index.html", "wb") as f:
            f.write(b"<!doctype html><title>t</title>")
        cls.extra_args = ["--web-dir", cls.web_dir]
        super().setUpClass()

    def test_a_response_bigger_than_the_send_buffer_arrives_whole(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # a small window
        sock.settimeout(20)
        sock.connect((self.server.host, self.server.port))
        host = f"{self.server.host}:{self.server.port}"
        sock.sendall(raw_request("GET", "/big.txt", host) + raw_request("GET", "/healthz", host))
        time.sleep(0.5)  # the server has written what fits and waits for the window
        # Meanwhile the server's thread is free: another connection is answered at once.
        other = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
        self.addCleanup(other.close)
        other.request("GET", "/healthz")
        self.assertEqual(other.getresponse().status, 200)
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            self.assertTrue(chunk, "closed before the head")
            data += chunk
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        self.assertIn(f"content-length: {self.SIZE}".encode(), head.lower())
        body = bytearray(rest)
        while len(body) < self.SIZE:
            chunk = sock.recv(min(65536, self.SIZE - len(body)) or 1)
            self.assertTrue(chunk, f"closed after {len(body)} of {self.SIZE} bytes")
            body += chunk
            if len(body) < 1024 * 1024:
                time.sleep(0.001)  # slowly at first, so the server waits more than once
        self.assertEqual(bytes(body[:self.SIZE]), self.body)
        # The pipelined second request is answered after the whole first response.
        reader = RawReader(sock)
        reader.buf = bytes(body[self.SIZE:])
        second = reader.read_response()
        self.assertEqual(second.status, 200, second.describe())


class SlowClientTest(ServerTestCase):
    """Slow or idle clients cannot hold a connection: the idle, header and body deadlines (set to
    1 s here through the binary's timeout flags) close it. The header deadline covers the whole
    head, so trickling one byte at a time does not extend it."""

    extra_args = ["--idle-timeout", "1", "--header-timeout", "1", "--body-timeout", "1"]
    user_keys = 0
    LIMIT = 4.0  # seconds allowed for a 1 s deadline (timer granularity, a loaded machine)

    def raw(self) -> tuple[socket.socket, RawReader]:
        sock = connect(self.server.host, self.server.port)
        self.addCleanup(sock.close)
        return sock, RawReader(sock)

    def assertClosedSoon(self, reader: RawReader, what: str) -> None:
        started = time.monotonic()
        self.assertTrue(reader.closed_within(self.LIMIT), f"{what}: still open after {self.LIMIT}s")
        self.assertGreater(time.monotonic() - started, 0.2, f"{what}: closed at once, not on a deadline")

    def test_idle_keep_alive_connection_closed(self) -> None:
        sock, reader = self.raw()
        sock.sendall(raw_request("GET", "/healthz", f"{self.server.host}:{self.server.port}"))
        self.assertEqual(reader.read_response().status, 200)
        self.assertClosedSoon(reader, "idle keep-alive connection")

    def test_unfinished_head_closed(self) -> None:
        sock, reader = self.raw()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        self.assertClosedSoon(reader, "unfinished request head")

    def test_trickled_head_closed(self) -> None:
        sock, reader = self.raw()
        started = time.monotonic()
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        closed = False
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if reader.closed_within(0.2):
                closed = True
                break
            if time.monotonic() - started > self.LIMIT:
                break
        self.assertTrue(closed, f"a head trickled byte by byte kept the connection {self.LIMIT}s")

    def test_unfinished_body_closed(self) -> None:
        sock, reader = self.raw()
        sock.sendall(raw_request("POST", "/api/v1/links", "x",
                                 {"Content-Length": "100", "Content-Type": "application/json"})
                     + b'{"url":')
        self.assertClosedSoon(reader, "unfinished request body")


class ShutdownTest(unittest.TestCase):
    def setUp(self) -> None:
        require_binary()
        self.tmp = make_temp_dir("shutdown")
        self.addCleanup(remove_temp_dir, self.tmp)
        self.addCleanup(remove_temp_dir, self.tmp + ".logs")
        self.key = create_key(self.tmp)
        self.server = Instance(self.tmp, new_admin_key()).start()
        self.addCleanup(self.server.stop, expect_clean=False)

    def host(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def open_idle_connections(self) -> list[socket.socket]:
        socks = []
        for _ in range(3):
            sock = connect(self.server.host, self.server.port)
            self.addCleanup(sock.close)
            sock.sendall(raw_request("GET", "/healthz", self.host()))
            self.assertEqual(RawReader(sock).read_response().status, 200)
            socks.append(sock)
        half = connect(self.server.host, self.server.port)
        self.addCleanup(half.close)
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        return socks + [half]

    def test_sigterm_with_idle_connections_exits_0_within_5s(self) -> None:
        self.open_idle_connections()
        code, elapsed = self.server.stop(signal.SIGTERM)
        self.assertEqual(code, 0)
        self.assertLess(elapsed, 5.0)

    def test_sigint_exits_0_within_5s(self) -> None:
        self.open_idle_connections()
        code, elapsed = self.server.stop(signal.SIGINT)
        self.assertEqual(code, 0)
        self.assertLess(elapsed, 5.0)

    def test_in_flight_request_finishes(self) -> None:
        """A request whose head has arrived and whose body is still arriving when SIGTERM lands
        is in flight: it is read to the end and answered (within the 5 s drain), not dropped.
        Go's http.Server.Shutdown draws the same line: a connection that has read a byte of a
        request is active and waited for; only idle connections are closed at once."""
        sock = connect(self.server.host, self.server.port)
        self.addCleanup(sock.close)
        slug = unique("inflight")
        body = json.dumps({"url": "https://example.com/in-flight", "slug": slug}).encode()
        head = raw_request("POST", "/api/v1/links", self.host(),
                           {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json",
                            "Connection": "close"}, body)
        split = len(head) - len(body) // 2
        sock.sendall(head[:split])
        time.sleep(0.3)
        started = time.monotonic()
        self.server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        try:
            sock.sendall(head[split:])
            resp = RawReader(sock).read_response()
        except (ConnectionError, socket.timeout) as e:
            self.fail(f"in-flight request dropped on SIGTERM: {e!r}\n{self.server.logs()}")
        self.assertEqual(resp.status, 201, resp.describe())
        code = self.server.wait(max(0.1, 5.0 - (time.monotonic() - started)))
        self.assertEqual(code, 0, f"no exit 0 within 5 s of SIGTERM\n{self.server.logs()}")
        # And the link it created was stored.
        again = Instance(self.tmp, new_admin_key()).start()
        self.addCleanup(again.stop, expect_clean=False)
        c = again.client()
        self.addCleanup(c.close)
        self.assertEqual(c.get(f"/{slug}").header("Location"), "https://example.com/in-flight")
        again.stop()

    def test_no_torn_responses_during_shutdown(self) -> None:
        """Clients hammering keep-alive connections across SIGTERM see whole responses, then a
        clean close between two responses — never half an answer."""
        c = self.server.client(self.key)
        self.addCleanup(c.close)
        slug = c.create_link("https://example.com/busy").json()["slug"]
        c.close()
        request = raw_request("GET", f"/{slug}", self.host())
        stop = threading.Event()
        results: list[tuple[int, str]] = []

        def hammer() -> None:
            answered, outcome = 0, "still running"
            try:
                sock = connect(self.server.host, self.server.port, timeout=5)
            except OSError as e:
                results.append((0, f"connect: {e!r}"))
                return
            reader = RawReader(sock)
            try:
                while not stop.is_set():
                    try:
                        sock.sendall(request)
                        resp = reader.read_response()
                    except (ConnectionError, BrokenPipeError) as e:
                        # Clean: nothing of a next response had arrived (an EOF or reset
                        # right at a response boundary).
                        clean = not reader.buf and ("got b''" in str(e) or isinstance(
                            e, (BrokenPipeError, ConnectionResetError)))
                        outcome = "closed cleanly" if clean else f"TORN: {e!r}"
                        break
                    except socket.timeout:
                        outcome = "TORN: response timed out"
                        break
                    if resp.status != 302 or resp.header("Location") != "https://example.com/busy":
                        outcome = f"TORN: bad response {resp.describe()}"
                        break
                    answered += 1
            finally:
                sock.close()
                results.append((answered, outcome))

        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        started = time.monotonic()
        self.server.send_signal(signal.SIGTERM)
        code = self.server.wait(5.0)
        elapsed = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=10)
        self.assertEqual(code, 0, f"exit {code} after {elapsed:.1f}s\n{self.server.logs()}")
        self.assertEqual(len(results), len(threads), "a client thread hung")
        self.assertTrue(all(n > 0 for n, _ in results), results)
        torn = [r for r in results if r[1].startswith("TORN")]
        self.assertEqual(torn, [], results)

    def test_new_connections_refused_after_exit(self) -> None:
        port = self.server.port
        self.server.stop(signal.SIGTERM)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


if __name__ == "__main__":
    unittest.main()
