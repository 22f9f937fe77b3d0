"""Helpers for the click and analytics tests: the User-Agent / address / referrer tables the
expectations are computed from, redirect bursts, bounded polling of the stats API, a server-sent
events reader, /metrics and CSV parsing.

Expectations come from these tables, not from the server: each `UaCase` says how uap-core and
the bot lists classify that User-Agent, each address which country the bundled
`geo-whois-asn-country` database gives it (established by experiment against that file).
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import queue
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from harness import HTTP_TIMEOUT, Client, Response

STATS_WAIT = 10.0  # seconds for the workers to store what was sent (they batch every ~50 ms)
SETTLE = 0.3  # seconds to wait after the expected count shows, to catch over-counting
POLL = 0.05  # seconds between polls

DIMENSIONS = ("countries", "cities", "referrers", "devices", "browsers", "os")
LIVE_FIELDS = {"id", "slug", "t", "country", "region", "city", "referrer", "device", "browser",
               "browser_version", "os", "bot", "bot_reason", "unique"}


@dataclass(frozen=True)
class UaCase:
    """One User-Agent (None: no header at all) and how the enrichment must classify it."""

    name: str
    header: str | None
    device: str
    browser: str
    version: str  # major version; "" when none
    os: str
    bot_reason: str = ""  # "" for a human

    @property
    def bot(self) -> bool:
        return bool(self.bot_reason)


UA_CASES = {
    c.name: c for c in (
        UaCase("chrome-windows",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/120.0.0.0 Safari/537.36",
               "desktop", "Chrome", "120", "Windows"),
        UaCase("iphone-safari",
               "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
               "mobile", "Mobile Safari", "17", "iOS"),
        UaCase("android-chrome",
               "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/119.0.6045.163 Mobile Safari/537.36",
               "mobile", "Chrome Mobile", "119", "Android"),
        UaCase("ipad-safari",
               "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
               "tablet", "Mobile Safari", "16", "iOS"),
        UaCase("firefox-linux",
               "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
               "desktop", "Firefox", "121", "Linux"),
        UaCase("googlebot",
               "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
               "bot", "Googlebot", "2", "Other", "ua-list"),
        UaCase("curl", "curl/8.5.0", "bot", "curl", "8", "Other", "ua-list"),
        UaCase("empty", "", "bot", "Other", "", "Other", "empty-ua"),
        UaCase("absent", None, "bot", "Other", "", "Other", "empty-ua"),
    )
}

# Public addresses and their country in the bundled country database. TEST-NET-3 is in no
# database; an IPv4-mapped IPv6 address is looked up as the IPv4 address.
COUNTRY_OF = {
    "8.8.8.8": "US",
    "1.1.1.1": "AU",
    "81.2.69.160": "GB",
    "77.88.8.8": "RU",
    "200.160.2.3": "BR",
    "133.242.0.3": "JP",
    "217.160.0.1": "DE",
    "195.35.0.1": "FR",
    "2a00:1450:4001::1": "IE",
    "2606:4700:4700::1111": "US",
    "::ffff:81.2.69.160": "GB",
    "203.0.113.5": "unknown",
}

# Referer header value (None: absent) -> the stored referrer. The "binary" one is obs-text that
# is legal on the wire (no CTLs) but is not UTF-8 and not a URL.
# (http.client sends str header values as latin-1, so each char below is one byte on the wire.)
BINARY_REFERER = "\xff\xfe\x80\x9c\xc3(garbage\xa0\xfe"
REFERRER_OF = {
    None: "direct",
    "https://www.google.com/search?q=short+links": "www.google.com",
    "https://t.co/AbC123xyz": "t.co",
    BINARY_REFERER: "unknown",
}


@dataclass(frozen=True)
class Visit:
    """One redirect to send and what it must be stored as."""

    slug: str
    ip: str
    ua: UaCase
    referer: str | None
    utm_source: str | None = None

    def path(self) -> str:
        return f"/{self.slug}" + (f"?utm_source={self.utm_source}" if self.utm_source else "")

    @property
    def visitor(self) -> tuple[str, str | None]:
        """The unique-visitor identity: address and User-Agent (the day is the same for all).
        An IPv4-mapped IPv6 address is the IPv4 client itself."""
        ip = self.ip.lower()
        return (ip.removeprefix("::ffff:") if "." in ip else ip, self.ua.header)

    def headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.ip}
        if self.ua.header is not None:
            headers["User-Agent"] = self.ua.header
        if self.referer is not None:
            headers["Referer"] = self.referer
        return headers


@dataclass
class Expected:
    """What stats must say about a sequence of visits to one link, all on one UTC day. Unique
    visitors: one per distinct (address, User-Agent) pair among non-bot clicks; bots never count.
    (Which click of a pair carries the flag depends on the order the workers store them in.)"""

    visits: list[Visit]

    def __post_init__(self) -> None:
        self.visitors: set[tuple[str, str | None]] = {
            v.visitor for v in self.visits if not v.ua.bot}

    def chosen(self, bots: bool) -> list[Visit]:
        return [v for v in self.visits if bots or not v.ua.bot]

    def total(self, bots: bool) -> int:
        return len(self.chosen(bots))

    @property
    def bots(self) -> int:
        return sum(v.ua.bot for v in self.visits)

    @property
    def unique(self) -> int:
        return len(self.visitors)

    def dimension(self, name: str, bots: bool) -> dict[str, int]:
        key: Callable[[Visit], str] = {
            "countries": lambda v: COUNTRY_OF[v.ip],
            "cities": lambda v: "unknown",  # a country database has no cities
            "referrers": lambda v: REFERRER_OF[v.referer],
            "devices": lambda v: v.ua.device,
            "browsers": lambda v: v.ua.browser,
            "os": lambda v: v.ua.os,
        }[name]
        return dict(Counter(key(v) for v in self.chosen(bots)))

    def csv_row(self, i: int) -> dict[str, str]:
        """The expected CSV columns of the i-th visit (those the tables determine)."""
        v = self.visits[i]
        return {
            "country": COUNTRY_OF[v.ip], "region": "unknown", "city": "unknown",
            "referrer": REFERRER_OF[v.referer], "device": v.ua.device, "browser": v.ua.browser,
            "browser_version": v.ua.version, "os": v.ua.os,
            "bot": "true" if v.ua.bot else "false", "bot_reason": v.ua.bot_reason,
            "utm_source": v.utm_source or "",
        }


def as_counts(entries: list[dict]) -> dict[str, int]:
    """A stats dimension list ([{"key","clicks"}]) as a dict; a repeated key is an error."""
    keys = [e["key"] for e in entries]
    if len(keys) != len(set(keys)):
        raise AssertionError(f"repeated keys in {entries}")
    return {e["key"]: e["clicks"] for e in entries}


def add_counts(*parts: dict[str, int]) -> dict[str, int]:
    total: Counter = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


# --------------------------------------------------------------------------------------------
# Sending redirects


def send_round_robin(clients: list[Client], visits: Iterable[Visit]) -> list[Response]:
    """Sends the visits one after another, rotating over keep-alive clients (so the server
    sees them in this order). Every answer must be the 302 of a counted redirect."""
    out = []
    for i, visit in enumerate(visits):
        resp = clients[i % len(clients)].get(visit.path(), key=None, headers=visit.headers())
        if resp.status != 302:
            raise AssertionError(f"redirect {i} ({visit}) not 302:\n{resp.describe()}")
        out.append(resp)
    return out


def avoid_utc_midnight(margin: float = 30.0) -> None:
    """Unique visitors are per UTC day: sleep past midnight when a test would straddle it."""
    left = 86400 - time.time() % 86400
    if left < margin:
        time.sleep(left + 1)


# --------------------------------------------------------------------------------------------
# Reading analytics


def stats(client: Client, path: str, **params: str) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    resp = client.get(path + (f"?{query}" if query else ""))
    if resp.status != 200 or resp.content_type != "application/json":
        raise AssertionError(f"stats not 200 JSON:\n{resp.describe()}")
    return resp.json()


def await_total(client: Client, path: str, expected: int, timeout: float = STATS_WAIT,
                **params: str) -> dict:
    """Polls `path` with bots=include until its total reaches `expected` (bounded), then reads
    again after SETTLE so an over-count shows too. Returns that last answer (bots included);
    the caller asserts on it."""
    params = {"bots": "include", **params}
    deadline = time.monotonic() + timeout
    while True:
        body = stats(client, path, **params)
        if body["total"] >= expected or time.monotonic() > deadline:
            break
        time.sleep(POLL)
    time.sleep(SETTLE)
    return stats(client, path, **params)


def metrics(client: Client) -> dict[str, float]:
    resp = client.get("/metrics", key=None, headers={"Accept": "text/plain"})
    if resp.status != 200:
        raise AssertionError(f"/metrics not 200:\n{resp.describe()}")
    out = {}
    for line in resp.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name.strip()] = float(value)
    return out


def csv_rows(resp: Response, strict: bool = True) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a clicks.csv answer (RFC 4180 quoting, UTF-8). `strict=False`
    reads bytes that are not UTF-8 as \\xNN escapes instead of failing."""
    if resp.status != 200:
        raise AssertionError(f"clicks.csv not 200:\n{resp.describe()}")
    try:
        text = resp.body.decode("utf-8", errors="strict" if strict else "backslashreplace")
    except UnicodeDecodeError as e:
        raise AssertionError(f"clicks.csv is not UTF-8 ({e}) near "
                             f"{resp.body[max(0, e.start - 80):e.end + 40]!r}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        raise AssertionError(f"clicks.csv has no header:\n{resp.describe()}")
    header = rows[0]
    for i, row in enumerate(rows[1:], 1):
        if len(row) != len(header):
            raise AssertionError(f"clicks.csv row {i} has {len(row)} fields, header {len(header)}: "
                                 f"{row!r}")
    return header, [dict(zip(header, row)) for row in rows[1:]]


# --------------------------------------------------------------------------------------------
# Server-sent events


@dataclass
class SseMessage:
    """One dispatched SSE block: an event (`event`, `id`, `data`) or comment lines only.
    `at` is time.monotonic() when its last byte arrived."""

    at: float
    event: str | None
    id: str | None
    data: str | None
    comments: list[str]
    retry: str | None
    raw: str

    def json(self) -> Any:
        return json.loads(self.data or "")


class SseStream:
    """A GET on an event-stream endpoint over a raw socket. `open()` returns the response head
    (and the body when the answer is not 200); on 200, a reader thread parses the stream into
    `messages` (a queue), de-chunking when the server uses chunked transfer coding."""

    def __init__(self, host: str, port: int, path: str, token: str | None,
                 headers: dict[str, str] | None = None):
        self.host, self.port, self.path, self.token = host, port, path, token
        self.extra = headers or {}
        self.sock: socket.socket | None = None
        self.messages: "queue.Queue[SseMessage | None]" = queue.Queue()
        self.raw = b""
        self.closed = threading.Event()

    def open(self) -> Response:
        self.sock = socket.create_connection((self.host, self.port), timeout=HTTP_TIMEOUT)
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Accept: text/event-stream"]
        if self.token:
            lines.append(f"Authorization: Bearer {self.token}")
        lines += [f"{k}: {v}" for k, v in self.extra.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed before the response head: {buf!r}")
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines_ = head.decode("latin-1").split("\r\n")
        status = int(lines_[0].split(" ", 2)[1])
        headers = []
        for line in lines_[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        resp = Response(status, lines_[0].split(" ", 2)[-1], headers, b"", "GET", self.path)
        if status != 200:
            length = int(resp.header("Content-Length") or 0)
            while len(rest) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            resp.body = rest
            self.close()
            return resp
        chunked = (resp.header("Transfer-Encoding") or "").lower() == "chunked"
        self.sock.settimeout(None)
        threading.Thread(target=self._read, args=(rest, chunked), daemon=True).start()
        return resp

    def _read(self, rest: bytes, chunked: bool) -> None:
        # Its own reference: close() on the test's thread sets self.sock to None, and the
        # shut-down socket then ends this loop (recv answers b"" or raises).
        sock = self.sock
        assert sock is not None
        pending = b""  # undecoded transfer bytes
        text = ""  # decoded event-stream text not yet dispatched
        data = rest
        try:
            while True:
                if data:
                    if chunked:
                        pending += data
                        body, pending = _dechunk(pending)
                    else:
                        body = data
                    self.raw += body
                    text += body.decode("utf-8", errors="replace")
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                    while "\n\n" in text:
                        block, text = text.split("\n\n", 1)
                        self.messages.put(_parse_block(block, time.monotonic()))
                data = sock.recv(65536)
                if not data:
                    break
        except OSError:
            pass
        finally:
            self.closed.set()
            self.messages.put(None)

    def next(self, timeout: float, events_only: bool = True) -> SseMessage:
        """The next message (events only, skipping comment blocks, unless told); fails the test
        when none arrives within `timeout` seconds or the stream ends."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no SSE event within {timeout}s on {self.path}")
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                self.messages.put(None)
                raise AssertionError(f"SSE stream {self.path} ended; got {self.raw[-500:]!r}")
            if events_only and msg.event is None and msg.data is None:
                continue
            return msg

    def drain(self, seconds: float) -> list[SseMessage]:
        """Every event that arrives within `seconds`."""
        out = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if msg is None:
                self.messages.put(None)
                break
            if msg.event is not None or msg.data is not None:
                out.append(msg)
        return out

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None


def _dechunk(buf: bytes) -> tuple[bytes, bytes]:
    """Decodes the complete chunks at the start of `buf`; returns (body, undecoded rest)."""
    body = b""
    while True:
        line_end = buf.find(b"\r\n")
        if line_end < 0:
            return body, buf
        size = int(buf[:line_end].split(b";")[0], 16)
        if size == 0:
            return body, b""
        if len(buf) < line_end + 2 + size + 2:
            return body, buf
        body += buf[line_end + 2:line_end + 2 + size]
        buf = buf[line_end + 2 + size + 2:]


def _parse_block(block: str, at: float) -> SseMessage:
    event = ident = data = retry = None
    comments = []
    for line in block.split("\n"):
        if line.startswith(":"):
            comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "id":
            ident = value
        elif name == "data":
            data = value if data is None else data + "\n" + value
        elif name == "retry":
            retry = value
    return SseMessage(at, event, ident, data, comments, retry, block)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware datetime (0 to 6 fractional digits, "Z" or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


# --------------------------------------------------------------------------------------------
# Bursts from several threads


class Burst:
    """Redirects to one slug from `threads` threads, each on its own keep-alive connection, as
    fast as they go, until `total` are answered or `stop()`; a failed connection is reopened
    once, and a refused one ends that thread. Counts what the server can have seen:
    `ok` (302 received), `uncertain` (sent, no answer: the server may or may not have counted
    it) and `other` (any other status; `statuses` counts every status)."""

    def __init__(self, host: str, port: int, slug: str, total: int, threads: int = 6):
        self.host, self.port, self.slug, self.total = host, port, slug, total
        self.n_threads = threads
        self.ok = self.uncertain = self.other = 0
        self.statuses: Counter = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.issued = 0
        self.threads: list[threading.Thread] = []

    def _next(self) -> int | None:
        with self.lock:
            if self.stopping.is_set() or self.issued >= self.total:
                return None
            self.issued += 1
            return self.issued - 1

    def _run(self, worker: int) -> None:
        uas = [c.header for c in UA_CASES.values() if c.header]
        ips = list(COUNTRY_OF)
        conn = None
        while (i := self._next()) is not None:
            headers = {"User-Agent": f"{uas[i % len(uas)]} burst/{worker}",
                       "X-Forwarded-For": ips[i % len(ips)]}
            sent = False
            for attempt in (0, 1):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(self.host, self.port,
                                                          timeout=HTTP_TIMEOUT)
                        conn.connect()
                    sent = False
                    conn.request("GET", f"/{self.slug}", headers=headers)
                    sent = True
                    resp = conn.getresponse()
                    resp.read()
                    with self.lock:
                        self.statuses[resp.status] += 1
                        if resp.status == 302:
                            self.ok += 1
                        else:
                            self.other += 1
                    if resp.will_close:
                        conn.close()
                        conn = None
                    break
                except ConnectionRefusedError:
                    return  # the listener is gone: this request never reached the server
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                        conn = None
                    if sent:  # the request left; the answer did not come back
                        with self.lock:
                            self.uncertain += 1
                        break
                    if attempt == 1:
                        return
        if conn is not None:
            conn.close()

    def start(self) -> "Burst":
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in range(self.n_threads)]
        for t in self.threads:
            t.start()
        return self

    def wait_answered(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.ok + self.other < count and time.monotonic() < deadline:
            if not any(t.is_alive() for t in self.threads):
                return
            time.sleep(0.005)

    def stop(self) -> None:
        self.stopping.set()

    def join(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.threads):
            raise AssertionError("burst threads did not finish")
