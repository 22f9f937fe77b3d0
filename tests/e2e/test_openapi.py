"""docs/openapi.yaml against the real binary.

The spec is read from docs/openapi.json, its JSON twin (PyYAML is not part of the standard
library; when it is installed, a test checks that the two files hold the same document). The
server is driven through every documented operation with valid and invalid input, and each
answer must be documented: its status code is listed for that operation, its media type is one
the status documents (no body when none is), the headers the status documents are present, and a
JSON body has every `required` property of its schema, no property the schema does not declare
(`additionalProperties` / `unevaluatedProperties: false`), the declared types and enums — at the
top level and one level down into arrays and objects. Every operation must also be served
(answer 2xx or 3xx) with valid input, and a method a path does not document must be a 405 whose
`Allow` lists exactly the documented ones.

Regenerate the JSON after editing the YAML:
    python3 -c 'import json,yaml; print(json.dumps(yaml.safe_load(open("docs/openapi.yaml")),
                indent=2, ensure_ascii=False))' > docs/openapi.json
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import unittest
from typing import Any

import harness
from harness import (
    HTTP_TIMEOUT, REPO, Client, RawReader, Response, ServerTestCase, connect, raw_request,
    rfc3339, unique,
)

SPEC_JSON = os.path.join(REPO, "docs", "openapi.json")
SPEC_YAML = os.path.join(REPO, "docs", "openapi.yaml")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_TYPES = ("application/json", "application/problem+json")
MAX_DEPTH = 2  # the body, its properties, and the elements/properties one level further down
CLICK_WAIT = 10.0  # seconds for the workers to store a click (they batch every ~50 ms)
BODY_LIMIT = 1024  # --max-body-bytes of the server under test

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def load_spec() -> dict:
    with open(SPEC_JSON, encoding="utf-8") as f:
        return json.load(f)


class Spec:
    """The OpenAPI document with $ref resolution and a small JSON Schema subset checker."""

    def __init__(self, doc: dict):
        self.doc = doc

    def resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise AssertionError(f"external $ref not supported: {ref}")
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node, seen = target, seen + 1
            if seen > 20:
                raise AssertionError(f"$ref loop at {ref}")
        return node

    def flatten(self, schema: Any) -> dict:
        """`schema` with its $ref followed and its allOf parts merged (required, properties)."""
        schema = self.resolve(schema)
        if "allOf" not in schema:
            return schema
        merged: dict = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self.flatten(part)
            merged["required"] = merged.get("required", []) + part.get("required", [])
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            if "type" in part:
                merged.setdefault("type", part["type"])
        return merged

    def operations(self) -> list[tuple[str, str]]:
        return [(path, method) for path, item in self.doc["paths"].items()
                for method in item if method in HTTP_METHODS]

    def operation(self, template: str, method: str) -> dict | None:
        return self.doc["paths"].get(template, {}).get(method)

    def errors(self, schema: Any, value: Any, where: str = "body", depth: int = 0) -> list[str]:
        s = self.flatten(schema)
        errs: list[str] = []
        types = s.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else types
            if not any(type_matches(t, value) for t in types):
                return [f"{where}: {json.dumps(value)[:80]} is not of type {types}"]
        if "enum" in s and value not in s["enum"]:
            errs.append(f"{where}: {value!r} is not one of {s['enum']}")
        if "const" in s and value != s["const"]:
            errs.append(f"{where}: {value!r} is not {s['const']!r}")
        if isinstance(value, dict):
            props = s.get("properties", {})
            for name in s.get("required", []):
                if name not in value:
                    errs.append(f"{where}: required property {name!r} is missing")
            closed = s.get("additionalProperties") is False or s.get("unevaluatedProperties") is False
            if closed:
                for name in sorted(set(value) - set(props)):
                    errs.append(f"{where}: property {name!r} is not documented")
            if depth < MAX_DEPTH:
                for name, sub in props.items():
                    if name in value:
                        errs += self.errors(sub, value[name], f"{where}.{name}", depth + 1)
        elif isinstance(value, list):
            if "maxItems" in s and len(value) > s["maxItems"]:
                errs.append(f"{where}: {len(value)} items, documented at most {s['maxItems']}")
            if "items" in s and depth < MAX_DEPTH:
                for i, item in enumerate(value):
                    errs += self.errors(s["items"], item, f"{where}[{i}]", depth + 1)
        return errs


def type_matches(name: str, value: Any) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise AssertionError(f"unknown schema type {name!r}")


def walk_refs(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                out.append(value)
            else:
                walk_refs(value, out)
    elif isinstance(node, list):
        for value in node:
            walk_refs(value, out)


class SpecFileTest(unittest.TestCase):
    """The files themselves: parseable, the YAML and the JSON agree, every $ref resolves."""

    def setUp(self) -> None:
        self.spec = Spec(load_spec())

    def test_yaml_and_json_hold_the_same_document(self) -> None:
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            self.skipTest("PyYAML is not installed; docs/openapi.json is what the tests read")
        with open(SPEC_YAML, encoding="utf-8") as f:
            from_yaml = yaml.safe_load(f)
        self.assertEqual(from_yaml, self.spec.doc,
                         "docs/openapi.json is stale: regenerate it from docs/openapi.yaml "
                         "(command at the top of tests/e2e/test_openapi.py)")

    def test_is_openapi_3_1_and_every_ref_resolves(self) -> None:
        self.assertTrue(self.spec.doc["openapi"].startswith("3.1."))
        refs: list[str] = []
        walk_refs(self.spec.doc, refs)
        self.assertTrue(refs)
        for ref in sorted(set(refs)):
            with self.subTest(ref=ref):
                self.spec.resolve({"$ref": ref})

    def test_every_operation_documents_its_answers(self) -> None:
        for template, method in self.spec.operations():
            op = self.spec.operation(template, method)
            with self.subTest(op=f"{method.upper()} {template}"):
                self.assertTrue(op.get("operationId"))
                self.assertTrue(op.get("responses"))
                for status, response in op["responses"].items():
                    self.assertRegex(status, r"^[1-5][0-9][0-9]$", "explicit status codes only")
                    response = self.spec.resolve(response)
                    self.assertTrue(response.get("description"))
                    # Errors under /api/ are problem details, as the server writes them.
                    if template.startswith("/api/") and int(status) >= 400:
                        self.assertEqual(list(response.get("content", {})),
                                         ["application/problem+json"])


class OpenApiConformanceTest(ServerTestCase):
    """One server; every documented operation, with valid and invalid input."""

    extra_args = ["--anon-rate-limit", "2", "--max-body-bytes", str(BODY_LIMIT)]
    user_keys = 2

    @classmethod
    def setUpClass(cls) -> None:
        cls.spec = Spec(load_spec())
        super().setUpClass()

    def setUp(self) -> None:
        self.owner_key, self.other_key = self.keys
        self.seen: dict[tuple[str, str], set[int]] = {}
        self.next_ip = 1

    # ---- checking one answer against the spec -----------------------------------------------

    def conforms(self, method: str, template: str, resp: Response,
                 body_text: str | None = None) -> None:
        """`resp` (to `method` on a path of `template`) is documented. HEAD is checked against
        GET. `body_text` replaces the body for streams read separately."""
        op_method = "get" if method.lower() == "head" else method.lower()
        op = self.spec.operation(template, op_method)
        where = f"{method.upper()} {template} -> {resp.status}"
        self.assertIsNotNone(op, f"{method.upper()} {template} is not in the spec")
        documented = op["responses"].get(str(resp.status))
        self.assertIsNotNone(
            documented, f"{where}: status not documented (documented: {sorted(op['responses'])})"
                        f"\n{resp.describe()}")
        self.seen.setdefault((template, op_method), set()).add(resp.status)
        documented = self.spec.resolve(documented)
        for name, header in documented.get("headers", {}).items():
            value = resp.header(name)
            self.assertIsNotNone(value, f"{where}: documented header {name} missing\n{resp.describe()}")
            errs = self.spec.errors(header.get("schema", {}),
                                    int(value) if value.isdigit() else value, name)
            self.assertEqual(errs, [], f"{where}\n{resp.describe()}")
        content = documented.get("content", {})
        if method.lower() == "head":
            self.assertEqual(resp.body, b"", f"{where}: HEAD with a body")
            if content:
                self.assertIn(resp.content_type, content, f"{where}\n{resp.describe()}")
            return
        if not content:
            self.assertEqual(resp.body, b"", f"{where}: body where none is documented")
            return
        self.assertIn(resp.content_type, content,
                      f"{where}: media type not documented ({sorted(content)})\n{resp.describe()}")
        media = content[resp.content_type]
        if resp.content_type in JSON_TYPES:
            body = json.loads(body_text) if body_text is not None else resp.json()
            errs = self.spec.errors(media["schema"], body)
            self.assertEqual(errs, [], f"{where}: body does not match its schema\n{resp.describe()}")

    def call(self, client: Client, method: str, template: str, path: str, expect: int,
             **kw: Any) -> Response:
        resp = client.request(method, path, **kw)
        self.conforms(method, template, resp)
        self.assertEqual(resp.status, expect, resp.describe())
        return resp

    def get_and_head(self, client: Client, template: str, path: str, expect: int,
                     **kw: Any) -> Response:
        resp = self.call(client, "GET", template, path, expect, **kw)
        head = self.call(client, "HEAD", template, path, expect, **kw)
        for name in ("Content-Type", "Location", "Cache-Control"):
            self.assertEqual(head.header(name), resp.header(name), f"HEAD {path}: {name}")
        return resp

    def anon_ip(self) -> dict[str, str]:
        """A fresh client address for one anonymous creation (the server trusts 127.0.0.1 as a
        proxy), so the small rate limit under test only bites where it is meant to."""
        self.next_ip += 1
        return {"X-Forwarded-For": f"198.51.100.{self.next_ip}"}

    def raw_exchange(self, data: bytes) -> Response:
        sock = connect(self.server.host, self.server.port)
        try:
            sock.sendall(data)
            return RawReader(sock).read_response()
        finally:
            sock.close()

    def open_stream(self, path: str, key: str | None,
                    ) -> tuple[Response, socket.socket | None, RawReader | None]:
        """GET on an event stream over a raw socket: the head, and the socket to read on
        (None when the answer was not 200; its body is then read)."""
        sock = connect(self.server.host, self.server.port)
        headers = {"Accept": "text/event-stream"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        sock.sendall(raw_request("GET", path, f"{self.server.host}:{self.server.port}", headers))
        reader = RawReader(sock)
        head = reader._read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines[1:])]
        resp = Response(status, lines[0].split(" ", 2)[-1], hdrs, b"", "GET", path)
        if status != 200:
            resp.body = reader._read_exact(int(resp.header("Content-Length") or 0))
            sock.close()
            return resp, None, None
        self.addCleanup(sock.close)
        return resp, sock, reader

    def read_events(self, sock: socket.socket, reader: RawReader, until: str,
                    timeout: float) -> str:
        """Stream text up to the end of the first block containing `until`; what follows stays
        in `reader.buf` for the next call."""
        deadline = time.monotonic() + timeout
        text = reader.buf.decode("utf-8", errors="replace")
        reader.buf = b""
        while until not in text or "\n\n" not in text.split(until, 1)[1]:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"no {until!r} within {timeout}s; stream so far: {text[-600:]!r}")
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                self.fail(f"stream ended before {until!r}: {text[-600:]!r}")
            text += chunk.decode("utf-8", errors="replace")
        head, tail = text.split(until, 1)
        block_end, rest = tail.split("\n\n", 1)
        reader.buf = rest.encode("utf-8")
        return head + until + block_end + "\n\n"

    # ---- scenario helpers ------------------------------------------------------------------

    def await_clicks(self, client: Client, slug: str, expected: int) -> None:
        deadline = time.monotonic() + CLICK_WAIT
        path = f"/api/v1/links/{slug}/stats?bots=include"
        while True:
            resp = client.get(path)
            if resp.status == 200 and resp.json()["total"] >= expected:
                return
            if time.monotonic() > deadline:
                self.fail(f"stats of {slug} never reached {expected} clicks: {resp.describe()}")
            time.sleep(0.05)

    def create_owned(self, owner: Client, **fields: Any) -> dict:
        resp = self.call(owner, "POST", "/api/v1/links", "/api/v1/links", 201,
                         body={"url": "https://example.com/openapi", **fields})
        return resp.json()

    # ---- the tests -------------------------------------------------------------------------

    def test_every_operation_answers_as_documented(self) -> None:
        owner, other = self.client(self.owner_key), self.client(self.other_key)
        admin, anon = self.client(self.admin_key), self.client()
        link = self.create_owned(owner, slug=unique("oa"), title="OpenAPI")
        doomed = self.create_owned(owner)
        expiring = self.create_owned(owner, expires_at=rfc3339(time.time() + 2))
        self.links_api(owner, other, admin, anon, link)
        self.redirects(anon, link)
        self.analytics(owner, other, admin, anon, link)
        self.live(owner, other, anon, link)
        self.deletion(owner, other, anon, doomed)
        self.gone(anon, doomed, expiring)
        self.probes(anon)

        missing = [f"{m.upper()} {t}" for t, m in self.spec.operations() if (t, m) not in self.seen]
        self.assertEqual(missing, [], "documented operations never exercised")
        unserved = [f"{m.upper()} {t} (answered {sorted(self.seen[(t, m)])})"
                    for t, m in self.spec.operations()
                    if not any(200 <= s < 400 for s in self.seen[(t, m)])]
        self.assertEqual(unserved, [], "documented operations never served with valid input")

    def links_api(self, owner: Client, other: Client, admin: Client, anon: Client,
                  link: dict) -> None:
        links, one = "/api/v1/links", "/api/v1/links/{slug}"
        slug = link["slug"]
        # create
        self.call(anon, "POST", links, links, 201, body={"url": "https://example.org/anon"},
                  headers=self.anon_ip())
        self.call(owner, "POST", links, links, 400, body={"title": "no url"})
        self.call(owner, "POST", links, links, 400, raw=b'{"url": ')
        self.call(owner, "POST", links, links, 400, body={"url": "javascript:alert(1)"})
        self.call(owner, "POST", links, links, 400, body={"url": "https://example.com/", "x": 1})
        self.call(owner, "POST", links, links, 409, body={"url": "https://example.com/", "slug": slug})
        self.call(owner, "POST", links, links, 415, raw=b'{"url": "https://example.com/"}',
                  headers={"Content-Type": "text/plain"})
        self.call(anon, "POST", links, links, 401, body={"url": "https://example.com/"},
                  key="sk_not_a_key_of_this_server_0000000000")
        self.call(anon, "POST", links, links, 401, body={"url": "https://example.com/"},
                  headers={"Authorization": "Basic dXNlcjpwdw=="})
        too_big = raw_request("POST", links, self.server.host, {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.owner_key}",
            "Content-Length": str(BODY_LIMIT + 1)})
        self.conforms("POST", links, self.raw_exchange(too_big))
        same_ip = self.anon_ip()
        statuses = [self.call(anon, "POST", links, links, expect, body={"url": "https://example.org/"},
                              headers=same_ip).status for expect in (201, 201, 429)]
        self.assertEqual(statuses, [201, 201, 429])
        # list
        self.create_owned(owner)
        first = self.get_and_head(owner, links, links + "?limit=1", 200).json()
        self.assertIsNotNone(first["next_cursor"])
        self.get_and_head(owner, links, f"{links}?limit=1&cursor={first['next_cursor']}", 200)
        self.call(owner, "GET", links, links + "?limit=0", 400)
        self.call(owner, "GET", links, links + "?cursor=abc", 400)
        self.call(anon, "GET", links, links, 401)
        # read
        got = self.get_and_head(owner, one, f"{links}/{slug}", 200).json()
        self.assertEqual(got["slug"], slug)
        self.call(admin, "GET", one, f"{links}/{slug}", 200)
        self.call(other, "GET", one, f"{links}/{slug}", 404)
        self.call(owner, "GET", one, f"{links}/no-such-link-{unique()}", 404)
        self.call(anon, "GET", one, f"{links}/{slug}", 401)
        # change
        patched = self.call(owner, "PATCH", one, f"{links}/{slug}", 200,
                            body={"title": "patched", "expires_at": None}).json()
        self.assertEqual(patched["title"], "patched")
        self.call(owner, "PATCH", one, f"{links}/{slug}", 400, body={})
        self.call(owner, "PATCH", one, f"{links}/{slug}", 400, body={"slug": "renamed"})
        self.call(owner, "PATCH", one, f"{links}/{slug}", 400,
                  body={"expires_at": "2000-01-01T00:00:00Z"})
        self.call(owner, "PATCH", one, f"{links}/{slug}", 415, raw=b'{"title": "x"}',
                  headers={"Content-Type": "text/plain"})
        self.call(other, "PATCH", one, f"{links}/{slug}", 404, body={"title": "not mine"})
        self.call(anon, "PATCH", one, f"{links}/{slug}", 401, body={"title": "nobody"})
        too_big = raw_request("PATCH", f"{links}/{slug}", self.server.host, {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.owner_key}",
            "Content-Length": str(BODY_LIMIT + 1)})
        self.conforms("PATCH", one, self.raw_exchange(too_big))

    def redirects(self, anon: Client, link: dict) -> None:
        slug, target = link["slug"], "/{slug}"
        resp = self.get_and_head(anon, target, f"/{slug}", 302,
                                 headers={"User-Agent": CHROME, "Referer": "https://news.example/"})
        self.assertEqual(resp.header("Location"), link["url"])
        self.call(anon, "GET", target, f"/{slug}?utm_source=openapi", 302,
                  headers={"User-Agent": GOOGLEBOT, "X-Forwarded-For": "8.8.8.8"})
        self.get_and_head(anon, target, f"/no-such-{unique()}", 404)
        preview = self.get_and_head(anon, "/{slug}+", f"/{slug}+", 200)
        self.assertIn(link["url"], preview.text)
        self.get_and_head(anon, "/{slug}+", f"/no-such-{unique()}+", 404)

    def analytics(self, owner: Client, other: Client, admin: Client, anon: Client,
                  link: dict) -> None:
        slug, token = link["slug"], link["stats_url"].split("#token=", 1)[1]
        stats, csv = "/api/v1/links/{slug}/stats", "/api/v1/links/{slug}/clicks.csv"
        account = "/api/v1/stats"
        self.await_clicks(owner, slug, 2)
        body = self.get_and_head(owner, stats, f"/api/v1/links/{slug}/stats", 200).json()
        self.assertEqual(body["slug"], slug)
        self.assertEqual(body["total"], sum(b["clicks"] for b in body["timeseries"]))
        by_token = self.call(anon, "GET", stats, f"/api/v1/links/{slug}/stats?bots=include&"
                             "interval=hour", 200, key=token).json()
        self.assertEqual((by_token["interval"], by_token["bots_included"]), ("hour", True))
        self.call(admin, "GET", stats, f"/api/v1/links/{slug}/stats?interval=day", 200)
        self.call(owner, "GET", stats, f"/api/v1/links/{slug}/stats?interval=week", 400)
        self.call(owner, "GET", stats, f"/api/v1/links/{slug}/stats?bots=maybe", 400)
        self.call(owner, "GET", stats, f"/api/v1/links/{slug}/stats?from=yesterday", 400)
        self.call(owner, "GET", stats,
                  f"/api/v1/links/{slug}/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 400)
        self.call(anon, "GET", stats, f"/api/v1/links/{slug}/stats", 401)
        self.call(anon, "GET", stats, f"/api/v1/links/{slug}/stats", 401, key="not-a-token-at-all")
        self.call(other, "GET", stats, f"/api/v1/links/{slug}/stats", 404)
        # CSV export
        export = self.get_and_head(owner, csv, f"/api/v1/links/{slug}/clicks.csv", 200)
        documented = self.spec.operation(csv, "get")["responses"]["200"]["content"]["text/csv"]
        self.assertEqual(export.text.splitlines()[0], documented["example"].splitlines()[0],
                         "CSV columns differ from the documented header row")
        self.assertGreaterEqual(len(export.text.splitlines()), 3, export.describe())
        self.assertIn("attachment", export.header("Content-Disposition") or "")
        self.call(anon, "GET", csv, f"/api/v1/links/{slug}/clicks.csv", 200, key=token)
        self.call(owner, "GET", csv, f"/api/v1/links/{slug}/clicks.csv?from=soon", 400)
        self.call(anon, "GET", csv, f"/api/v1/links/{slug}/clicks.csv", 401)
        self.call(other, "GET", csv, f"/api/v1/links/{slug}/clicks.csv", 404)
        # account-wide
        summed = self.get_and_head(owner, account, account, 200).json()
        self.assertGreaterEqual(summed["links"], 1)
        self.assertIn(slug, [t["slug"] for t in summed["top_links"]])
        self.call(other, "GET", account, account + "?interval=minute", 200)
        self.call(owner, "GET", account, account + "?bots=all", 400)
        self.call(anon, "GET", account, account, 401)
        self.call(anon, "GET", account, account, 401, key=token)  # a stats token is not an API key

    def live(self, owner: Client, other: Client, anon: Client, link: dict) -> None:
        slug, token = link["slug"], link["stats_url"].split("#token=", 1)[1]
        per_link, per_account = "/api/v1/links/{slug}/live", "/api/v1/live"
        resp, sock, reader = self.open_stream(f"/api/v1/links/{slug}/live", token)
        self.conforms("GET", per_link, resp)
        self.assertEqual(resp.status, 200, resp.describe())
        greeting = self.read_events(sock, reader, ": connected", HTTP_TIMEOUT)
        self.assertTrue(greeting.startswith("retry: "), greeting)
        anon.get(f"/{slug}", headers={"User-Agent": CHROME})
        text = self.read_events(sock, reader, "event: click", CLICK_WAIT)
        block = next(b for b in text.split("\n\n") if "event: click" in b)
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        schema = self.spec.operation(per_link, "get")["responses"]["200"]
        schema = self.spec.resolve(schema)["content"]["text/event-stream"]["schema"]
        self.assertEqual(self.spec.errors(schema, json.loads(fields["data"]), "data"), [], block)
        self.assertEqual(json.loads(fields["data"])["id"], fields["id"])
        self.call(owner, "HEAD", per_link, f"/api/v1/links/{slug}/live", 200)
        for key, status in ((None, 401), ("not-a-token-at-all", 401), (self.other_key, 404)):
            resp, _, _ = self.open_stream(f"/api/v1/links/{slug}/live", key)
            self.conforms("GET", per_link, resp)
            self.assertEqual(resp.status, status, resp.describe())
        resp, sock, reader = self.open_stream("/api/v1/live", self.owner_key)
        self.conforms("GET", per_account, resp)
        self.assertEqual(resp.status, 200, resp.describe())
        self.read_events(sock, reader, ": connected", HTTP_TIMEOUT)
        self.call(owner, "HEAD", per_account, "/api/v1/live", 200)
        resp, _, _ = self.open_stream("/api/v1/live", None)
        self.conforms("GET", per_account, resp)
        self.assertEqual(resp.status, 401, resp.describe())

    def deletion(self, owner: Client, other: Client, anon: Client, doomed: dict) -> None:
        one, path = "/api/v1/links/{slug}", f"/api/v1/links/{doomed['slug']}"
        self.call(other, "DELETE", one, path, 404)
        self.call(anon, "DELETE", one, path, 401)
        self.call(owner, "DELETE", one, path, 204)
        self.call(owner, "DELETE", one, path, 404)
        self.call(owner, "GET", one, path, 404)
        self.call(owner, "PATCH", one, path, 404, body={"title": "gone"})
        self.call(owner, "POST", "/api/v1/links", "/api/v1/links", 409,
                  body={"url": "https://example.com/", "slug": doomed["slug"]})

    def gone(self, anon: Client, doomed: dict, expiring: dict) -> None:
        self.get_and_head(anon, "/{slug}", f"/{doomed['slug']}", 410)
        self.get_and_head(anon, "/{slug}+", f"/{doomed['slug']}+", 410)
        wait = rfc3339_to_epoch(expiring["expires_at"]) - time.time() + 0.2
        if wait > 0:
            time.sleep(wait)
        self.get_and_head(anon, "/{slug}", f"/{expiring['slug']}", 410)

    def probes(self, anon: Client) -> None:
        self.assertEqual(self.get_and_head(anon, "/healthz", "/healthz", 200).json(), {"status": "ok"})
        self.assertEqual(self.get_and_head(anon, "/readyz", "/readyz", 200).json(),
                         {"status": "ready"})
        text = self.get_and_head(anon, "/metrics", "/metrics", 200).text
        example = self.spec.operation("/metrics", "get")["responses"]["200"]["content"]["text/plain"]
        names = re.findall(r"^(shortener_\w+) ", example["example"], re.M)
        self.assertTrue(names)
        # Series documented as "(production mode)" exist only with --redis-url.
        production_only = set(re.findall(r"^# HELP (shortener_\w+) \(production mode\)",
                                         example["example"], re.M))
        for name in names:
            if name in production_only and harness.BACKEND != "production":
                continue
            self.assertRegex(text, rf"(?m)^{name} \d", f"documented metric {name} not served")
        served = set(re.findall(r"^(shortener_\w+) ", text, re.M))
        self.assertEqual(served - set(names), set(), "metrics served but not documented")

    def test_undocumented_methods_are_405_with_the_documented_allow(self) -> None:
        owner = self.client(self.owner_key)
        slug = self.create_owned(owner)["slug"]
        for template in self.spec.doc["paths"]:
            path = template.replace("{slug}", slug)
            documented = {m.upper() for m in self.spec.doc["paths"][template] if m in HTTP_METHODS}
            allowed = documented | ({"HEAD"} if "GET" in documented else set())
            for method in sorted({"PUT", "POST", "PATCH", "DELETE"} - documented):
                with self.subTest(method=method, path=template):
                    resp = owner.request(method, path, raw=b"{}" if method != "DELETE" else None)
                    self.assertEqual(resp.status, 405, resp.describe())
                    self.assertEqual({m.strip() for m in (resp.header("Allow") or "").split(",")},
                                     allowed, resp.describe())
                    self.assertEqual(resp.content_type, "application/problem+json")
                    errs = self.spec.errors({"$ref": "#/components/schemas/Problem"}, resp.json())
                    self.assertEqual(errs, [], resp.describe())

    def test_problem_types_are_the_documented_ones(self) -> None:
        anon = self.client()
        resp = anon.get("/api/v1/nothing-here")
        self.assertEqual(resp.status, 404, resp.describe())
        self.assertEqual(self.spec.errors({"$ref": "#/components/schemas/Problem"}, resp.json()), [])
        self.assertEqual(resp.json()["type"], "/problems/not-found")


def rfc3339_to_epoch(text: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    unittest.main()
