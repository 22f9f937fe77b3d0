"""Structured logs: `--log-format json` writes one JSON object per stderr line, `--access-log`
adds one line per request with its fields, every response carries an X-Request-Id (the client's
when sane, else a generated one), and no credential (admin key, API key, bearer token, query
string) ever reaches the log."""

import json
import re
import time
import unittest

from harness import (
    Instance, RawReader, ServerTestCase, connect, make_temp_dir, raw_request, remove_temp_dir,
    require_binary, run_cli, unique,
)

GENERATED_ID = re.compile(r"^[0-9A-Za-z]{8}-[0-9a-z]+$")
ACCESS_FIELDS = {
    "ts": str, "level": str, "logger": str, "msg": str, "request_id": str, "method": str,
    "path": str, "status": int, "duration_us": int, "bytes": int, "client": str, "peer": str,
    "route": str, "user_agent": str,
}
LOG_WAIT = 5.0  # seconds for a request's access line to reach the log file


def read_stderr(server: Instance) -> str:
    with open(server.log_path, "rb") as f:
        return f.read().decode("utf-8")  # invalid UTF-8 fails the test: JSON lines are UTF-8


def json_lines(testcase: unittest.TestCase, server: Instance) -> list[dict]:
    """Every stderr line parsed; a line that is not one JSON object fails the test."""
    records = []
    for line in read_stderr(server).splitlines():
        try:
            record = json.loads(line)
        except ValueError as e:
            testcase.fail(f"stderr line is not JSON ({e}): {line!r}\n{server.logs()}")
        testcase.assertIsInstance(record, dict, line)
        for name in ("ts", "level", "logger", "msg"):
            testcase.assertIsInstance(record.get(name), str, f"{name!r} missing: {line!r}")
        testcase.assertRegex(record["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", line)
        records.append(record)
    return records


def wait_for_access(testcase: unittest.TestCase, server: Instance,
                    request_ids: list[str]) -> dict[str, dict]:
    """The access records of `request_ids`, waiting (bounded) for lines written after the
    response."""
    deadline = time.monotonic() + LOG_WAIT
    while True:
        found = {r["request_id"]: r for r in json_lines(testcase, server)
                 if r["logger"] == "access"}
        missing = [i for i in request_ids if i not in found]
        if not missing:
            return found
        if time.monotonic() > deadline:
            testcase.fail(f"no access line for {missing}\n{server.logs()}")
        time.sleep(0.05)


class JsonAccessLogTest(ServerTestCase):
    extra_args = ["--log-format", "json", "--access-log"]
    start_admin_key = False  # the first start prints the admin key on stdout, once
    user_keys = 1

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        printed = cls.server.admin_key_lines()
        if len(printed) != 1:
            raise AssertionError("want one printed admin key\n" + cls.server.logs())
        cls.printed_admin_key = printed[0]

    def assertNoSecrets(self, *secrets: str) -> None:
        text = read_stderr(self.server)
        for secret in (self.printed_admin_key, *self.keys, "Bearer", *secrets):
            self.assertNotIn(secret, text, f"{secret!r} leaked into the log")

    def test_client_request_id_is_echoed_and_logged(self) -> None:
        c = self.client()
        resp = c.get("/readyz", headers={"X-Request-Id": "abc-123", "User-Agent": "e2e/1.0"},
                     key=None)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.header("X-Request-Id"), "abc-123", resp.describe())
        record = wait_for_access(self, self.server, ["abc-123"])["abc-123"]
        for name, kind in ACCESS_FIELDS.items():
            self.assertIsInstance(record.get(name), kind, f"{name!r} in {record}")
        self.assertEqual(record["level"], "info")
        self.assertEqual(record["msg"], "request")
        self.assertEqual(record["method"], "GET")
        self.assertEqual(record["path"], "/readyz")
        self.assertEqual(record["status"], 200)
        self.assertEqual(record["route"], "readyz")
        self.assertEqual(record["bytes"], len(resp.body))
        self.assertGreaterEqual(record["duration_us"], 0)
        self.assertEqual(record["peer"], "127.0.0.1")
        self.assertEqual(record["client"], "127.0.0.1")
        self.assertEqual(record["user_agent"], "e2e/1.0")

    def test_generated_ids_are_unique_and_replace_unusable_ones(self) -> None:
        c = self.client()
        ids = []
        for headers in ({}, {}, {"X-Request-Id": "has space"}, {"X-Request-Id": "x" * 65},
                        {"X-Request-Id": "a\u00e9"}):
            resp = c.get("/healthz", headers=headers, key=None)
            self.assertStatus(resp, 200)
            request_id = resp.header("X-Request-Id") or ""
            self.assertRegex(request_id, GENERATED_ID, resp.describe())
            ids.append(request_id)
        self.assertEqual(len(set(ids)), len(ids), ids)
        wait_for_access(self, self.server, ids)

    def test_errors_carry_the_request_id(self) -> None:
        c = self.client()
        problem = c.get("/api/v1/links", key=None, headers={"X-Request-Id": "err.1"})
        self.assertProblem(problem, 401)
        self.assertEqual(problem.header("X-Request-Id"), "err.1", problem.describe())
        missing = c.get("/" + unique("nope"), key=None)
        self.assertStatus(missing, 404)
        self.assertRegex(missing.header("X-Request-Id") or "", GENERATED_ID, missing.describe())
        # A request head too large for the server: answered 431 before any routing.
        sock = connect(self.server.host, self.server.port)
        self.addCleanup(sock.close)
        sock.sendall(raw_request("GET", "/", f"{self.server.host}:{self.server.port}",
                                 {"X-Request-Id": "big-1", "X-Fill": "f" * (20 * 1024)}))
        too_big = RawReader(sock).read_response()
        self.assertEqual(too_big.status, 431, too_big.describe())
        self.assertRegex(too_big.header("X-Request-Id") or "", r"^(big-1|[0-9A-Za-z]{8}-[0-9a-z]+)$",
                         too_big.describe())
        found = wait_for_access(self, self.server, ["err.1", missing.header("X-Request-Id"),
                                                    too_big.header("X-Request-Id")])
        self.assertEqual(found["err.1"]["status"], 401)
        self.assertEqual(found[missing.header("X-Request-Id")]["status"], 404)
        self.assertEqual(found[too_big.header("X-Request-Id")]["status"], 431)
        self.assertEqual(found[too_big.header("X-Request-Id")]["route"], "bad_request")

    def test_credentials_and_queries_never_logged(self) -> None:
        query_secret = "qsecret" + unique("t").replace("-", "")
        bogus_token = "sk_bogus_" + unique("b").replace("-", "")
        admin = self.client(self.printed_admin_key)
        created = admin.create_link("https://example.com/logged?token=" + query_secret,
                                    headers={"X-Request-Id": "create-1"})
        self.assertStatus(created, 201)
        self.assertEqual(created.header("X-Request-Id"), "create-1")
        slug = created.json()["slug"]
        user = self.client(self.keys[0])
        listed = user.get("/api/v1/links", headers={"X-Request-Id": "list-1"})
        self.assertStatus(listed, 200)
        refused = user.get("/api/v1/links", key=bogus_token, headers={"X-Request-Id": "bogus-1"})
        self.assertProblem(refused, 401)
        redirect = self.client().get(f"/{slug}?utm_source={query_secret}", key=None,
                                     headers={"X-Request-Id": "redirect-1",
                                              "User-Agent": "agent \"quoted\" \\ end"})
        self.assertStatus(redirect, 302)
        found = wait_for_access(self, self.server, ["create-1", "list-1", "bogus-1", "redirect-1"])
        self.assertEqual(found["create-1"]["method"], "POST")
        self.assertEqual(found["create-1"]["path"], "/api/v1/links")
        self.assertEqual(found["create-1"]["status"], 201)
        self.assertEqual(found["bogus-1"]["status"], 401)
        self.assertEqual(found["redirect-1"]["path"], f"/{slug}")
        self.assertEqual(found["redirect-1"]["status"], 302)
        self.assertEqual(found["redirect-1"]["route"], "redirect")
        self.assertEqual(found["redirect-1"]["user_agent"], "agent \"quoted\" \\ end")
        self.assertNoSecrets(query_secret, bogus_token)


class SwitchesTest(unittest.TestCase):
    """The access log is off by default; text format and the environment variables."""

    def setUp(self) -> None:
        require_binary()
        self.tmp = make_temp_dir("logging")
        self.addCleanup(remove_temp_dir, self.tmp + ".logs")
        self.addCleanup(remove_temp_dir, self.tmp)

    def start(self, args: list[str], env: dict[str, str] | None = None) -> Instance:
        server = Instance(self.tmp, admin_key=None, extra_args=args, env=env or {})
        server.start()
        self.addCleanup(server.stop, expect_clean=False)
        return server

    def request(self, server: Instance, request_id: str) -> None:
        c = server.client()
        self.addCleanup(c.close)
        resp = c.get("/healthz", headers={"X-Request-Id": request_id}, key=None)
        self.assertEqual(resp.header("X-Request-Id"), request_id, resp.describe())

    def test_json_without_access_log_until_shutdown(self) -> None:
        server = self.start(["--log-format", "json"])
        admin_key = server.admin_key_lines()[0]
        self.request(server, "quiet-1")
        server.stop()
        records = json_lines(self, server)
        self.assertFalse([r for r in records if r["logger"] == "access"], server.logs())
        self.assertIn("stopped", [r["msg"] for r in records], server.logs())
        self.assertNotIn(admin_key, read_stderr(server))
        self.assertNotIn("quiet-1", read_stderr(server))

    def test_text_access_log_from_the_environment(self) -> None:
        server = self.start([], env={"SHORTENER_ACCESS_LOG": "1", "SHORTENER_LOG_FORMAT": "text"})
        self.request(server, "text-1")
        deadline = time.monotonic() + LOG_WAIT
        while "request_id=text-1" not in read_stderr(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next((l for l in read_stderr(server).splitlines() if "request_id=text-1" in l), "")
        self.assertRegex(line, r"\[access\] \[info\] request request_id=text-1 method=GET "
                               r'path="/healthz" status=200 duration_us=\d+ bytes=\d+ '
                               r"client=127\.0\.0\.1 peer=127\.0\.0\.1 route=healthz "
                               r'user_agent="[^"]*"', server.logs())
        self.assertNotIn(server.admin_key_lines()[0], read_stderr(server))

    def test_bad_log_format_is_a_usage_error(self) -> None:
        result = run_cli(["serve", "--data-dir", self.tmp, "--log-format", "xml"])
        self.assertEqual(result.returncode, 2, result.describe())
        self.assertIn("log-format", result.stderr, result.describe())


if __name__ == "__main__":
    unittest.main()
