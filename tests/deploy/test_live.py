"""The deployment files against running programs:
  - every probe path the manifests and compose use answers on a real `serve` (and on a real
    `worker` when PostgreSQL and Redis are given, as scripts/test.sh does);
  - deploy/nginx/nginx.conf runs in a real nginx in front of a real `serve`, and
    scripts/local-seed.sh fills it through the proxy: links, clicks with the synthetic client
    addresses the proxy passes on, countries in the stats."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from tests.deploy import support
from tests.deploy.test_manifests import PROBE_PATHS, shortener_containers
from tests.e2e.harness import (BIN, Instance, child_env, make_temp_dir, new_admin_key,
                               remove_temp_dir, require_binary)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", errors="replace")
    finally:
        conn.close()


def probe_paths(role: str) -> set[str]:
    """Every httpGet path the rendered manifests probe on containers running ROLE."""
    paths = set()
    for overlay in support.OVERLAYS:
        for _, container in shortener_containers(support.render(f"k8s/overlays/{overlay}")):
            if container["args"][0] == role:
                paths |= {container[p]["httpGet"]["path"] for p in PROBE_PATHS if p in container}
    return paths


class ServeProbesTest(unittest.TestCase):
    def test_probe_paths_answer(self):
        require_binary()
        data_dir = make_temp_dir("deploy-probes")
        self.addCleanup(remove_temp_dir, data_dir)
        self.addCleanup(remove_temp_dir, data_dir + ".logs")
        server = Instance(data_dir).start()
        self.addCleanup(server.stop, expect_clean=False)
        paths = probe_paths("serve") | {"/metrics"}
        self.assertEqual(paths, {"/healthz", "/readyz", "/metrics"})
        for path in sorted(paths):
            with self.subTest(path):
                status, body = get(server.port, path)
                self.assertEqual(status, 200, body)
        self.assertIn("shortener_build_info", get(server.port, "/metrics")[1])


class WorkerProbesTest(unittest.TestCase):
    """Needs SHORTENER_TEST_PG_URL and SHORTENER_TEST_REDIS_URL (scripts/test.sh exports both)."""

    def test_probe_paths_answer(self):
        require_binary()
        pg = os.environ.get("SHORTENER_TEST_PG_URL")
        redis = os.environ.get("SHORTENER_TEST_REDIS_URL")
        if not (pg and redis):
            if os.environ.get("SHORTENER_REQUIRE_PG") == "1":
                self.fail("SHORTENER_TEST_PG_URL and SHORTENER_TEST_REDIS_URL are required")
            self.skipTest("no PostgreSQL/Redis (SHORTENER_TEST_PG_URL, SHORTENER_TEST_REDIS_URL)")
        data_dir = make_temp_dir("deploy-worker")
        self.addCleanup(remove_temp_dir, data_dir)
        migrate = subprocess.run([BIN, "migrate", "--database-url", pg, "--data-dir", data_dir],
                                 env=child_env(None), capture_output=True, text=True, timeout=60)
        self.assertEqual(migrate.returncode, 0, migrate.stderr)
        port = support.free_port()
        log = open(os.path.join(data_dir, "worker.log"), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [BIN, "worker", "--metrics-listen", f"127.0.0.1:{port}", "--database-url", pg,
             "--redis-url", redis, "--redis-prefix", f"deploy-test-{port}:",
             "--data-dir", data_dir],
            env=child_env(None), stdout=log, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(support.stop, proc)
        deadline = time.monotonic() + 15
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                self.fail(f"worker did not answer /healthz (exit {proc.poll()}):\n"
                          f"{log.read()[-3000:]}")
            time.sleep(0.1)
        paths = probe_paths("worker") | {"/metrics"}
        self.assertEqual(paths, {"/healthz", "/readyz", "/metrics"})
        for path in sorted(paths):
            with self.subTest(path):
                status, body = get(port, path)
                self.assertEqual(status, 200, body)


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class NginxAndSeedTest(unittest.TestCase):
    """deploy/nginx/nginx.conf with only the upstream address and the listen port replaced
    (compose's `serve:8080` and `8080` become a loopback serve and a free port)."""

    @classmethod
    def setUpClass(cls):
        require_binary()
        if not os.access(NGINX, os.X_OK):
            raise AssertionError("nginx is required (Debian package nginx-light)")
        cls.data_dir = make_temp_dir("deploy-nginx")
        cls.addClassCleanup(remove_temp_dir, cls.data_dir)
        cls.addClassCleanup(remove_temp_dir, cls.data_dir + ".logs")
        cls.admin_key = new_admin_key()
        cls.server = Instance(cls.data_dir, cls.admin_key, trust_proxy="127.0.0.1/32").start()
        cls.addClassCleanup(cls.server.stop, expect_clean=False)

        conf = support.read("deploy/nginx/nginx.conf")
        cls.port = support.free_port()
        conf, upstreams = re.subn(r"server serve:\d+;", f"server 127.0.0.1:{cls.server.port};",
                                  conf)
        conf, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{cls.port};", conf)
        assert (upstreams, listens) == (1, 1), "nginx.conf changed shape: update this test"
        cls.prefix = tempfile.mkdtemp(prefix="shortener-deploy-nginx-")
        cls.addClassCleanup(remove_temp_dir, cls.prefix)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(cls.prefix, name))
        conf = conf.replace("http {", "http {\n" + "".join(
            f"  {name}_temp_path {cls.prefix}/{name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")), 1)
        conf_path = os.path.join(cls.prefix, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        globals_ = f"pid {cls.prefix}/nginx.pid; daemon off;"
        test = subprocess.run([NGINX, "-t", "-p", cls.prefix, "-c", conf_path, "-g", globals_],
                              capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, test.stderr
        cls.nginx_log = open(os.path.join(cls.prefix, "stderr.log"), "w+")
        cls.addClassCleanup(cls.nginx_log.close)
        cls.nginx = subprocess.Popen([NGINX, "-p", cls.prefix, "-c", conf_path, "-g", globals_],
                                     stdout=subprocess.DEVNULL, stderr=cls.nginx_log)
        cls.addClassCleanup(support.stop, cls.nginx)
        deadline = time.monotonic() + 10
        while True:
            try:
                if get(cls.port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if cls.nginx.poll() is not None or time.monotonic() > deadline:
                cls.nginx_log.seek(0)
                raise AssertionError(f"nginx did not start: {cls.nginx_log.read()}")
            time.sleep(0.05)

    def test_proxies_and_hides_metrics(self):
        self.assertEqual(get(self.port, "/readyz")[0], 200)
        self.assertEqual(get(self.port, "/metrics")[0], 404)

    def test_local_seed_through_the_proxy(self):
        clicks = 60
        result = subprocess.run(
            [support.path("scripts/local-seed.sh"), "--url", f"http://127.0.0.1:{self.port}",
             "--key", self.admin_key, "--links", "3", "--clicks", str(clicks)],
            capture_output=True, text=True, timeout=120, env=child_env(None))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(re.findall(r"^  http://\S+/[\w-]+ -> ", result.stderr, re.M)), 3)
        client = self.server.client(self.admin_key)
        self.addCleanup(client.close)
        deadline = time.monotonic() + 15
        while True:  # clicks are stored asynchronously
            stats = client.get("/api/v1/stats?bots=include").json()
            if stats["total"] >= clicks or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(stats["total"], clicks)
        countries = {c["key"] for c in stats["countries"]} - {"unknown"}
        self.assertGreaterEqual(len(countries), 3,
                                "X-Forwarded-For did not reach serve through nginx: "
                                f"{stats['countries']}")
        self.assertGreater(stats["bots"], 0)
        self.assertGreaterEqual(len(stats["referrers"]), 3)
        self.assertIn(f"{clicks}", result.stdout)


if __name__ == "__main__":
    unittest.main()
