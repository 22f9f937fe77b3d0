"""The worker's optional push to a Prometheus Pushgateway (`--pushgateway-url`, as in the seed),
against a real `prometheus-pushgateway` (Debian package) on loopback. Skipped, with the reason,
while `shortener worker --help` does not offer the flag or production mode cannot run here."""

from __future__ import annotations

import os
import subprocess
import unittest

from tests.observability import harness as h

WAIT = 30.0


class Pushgateway:
    def __init__(self) -> None:
        binary = h.require_tool("prometheus-pushgateway")
        work = h.temp_dir("pushgateway")
        self.port = h.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Debian's default persistence file is under /var/lib: keep it in the temp dir.
        self.process = h.Process("pushgateway", [
            binary, f"--web.listen-address=127.0.0.1:{self.port}",
            f"--persistence.file={os.path.join(work, 'pushgateway.data')}", "--log.level=warn"], cwd=work)

        def ready():
            if not self.process.running():
                raise AssertionError(f"pushgateway exited:\n{self.process.log()}")
            try:
                return h.http_get(f"{self.base}/-/ready", timeout=2)[0] == 200
            except OSError:
                return False

        h.wait_until(ready, h.START_TIMEOUT, what="pushgateway /-/ready")

    def metrics(self) -> str:
        status, body = h.http_get(f"{self.base}/metrics")
        assert status == 200, status
        return body

    def stop(self) -> None:
        self.process.stop()


class PushgatewayTest(unittest.TestCase):
    def test_worker_pushes_its_metrics(self) -> None:
        if "--pushgateway-url" not in h.help_text("worker"):
            self.skipTest("`shortener worker --help` has no --pushgateway-url: the push is not built yet")
        st = h.stack()
        h.require_worker(st)
        urls = h.production_urls()
        assert urls is not None
        gateway = Pushgateway()
        try:
            pg = h.fresh_schema_url(urls[0])
            migrate = subprocess.run([h.BIN, "migrate", "--database-url", pg], capture_output=True, text=True,
                                     timeout=60, env=h.child_env())
            self.assertEqual(migrate.returncode, 0, migrate.stderr)
            worker = h.start_worker(pg, h.redis_db_url(urls[1], 12), ["--pushgateway-url", gateway.base],
                                    name="worker-push")

            def pushed():
                expo = h.parse_exposition(gateway.metrics())
                series = [lbl for lbl, _ in expo.samples.get("shortener_clicks_processed_total", [])]
                return (expo, series) if series else None

            expo, series = h.wait_until(pushed, WAIT, 0.5, what="the worker's series on the Pushgateway")
            self.assertTrue(all(lbl.get("job") for lbl in series), f"pushed without a job label: {series}")
            for name in ("shortener_build_info", "shortener_click_queue_length"):
                self.assertTrue(expo.has(name), f"{name} not pushed")
            check = subprocess.run([h.require_tool("promtool"), "check", "metrics"], input=gateway.metrics(),
                                   capture_output=True, text=True, timeout=30)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            worker.process.stop()
        finally:
            gateway.stop()


if __name__ == "__main__":
    unittest.main()
