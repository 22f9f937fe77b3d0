"""/metrics of the real processes: promtool accepts it, and every metric name a dashboard or an
alert rule uses is really served."""

from __future__ import annotations

import subprocess
import sys
import unittest

from tests.observability import harness as h


def promtool_check_metrics(text: str) -> subprocess.CompletedProcess:
    promtool = h.require_tool("promtool")
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                          timeout=30)


class ExpositionTest(unittest.TestCase):
    """`promtool check metrics` (format and naming lint) on each process's real output."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.stack = h.stack()

    def assertPromtoolAccepts(self, who: str, text: str) -> None:
        result = promtool_check_metrics(text)
        self.assertEqual(result.returncode, 0,
                         f"promtool check metrics rejected {who}'s /metrics:\n{result.stdout}{result.stderr}")
        self.assertEqual(result.stdout.strip() + result.stderr.strip(), "",
                         f"promtool check metrics complained about {who}'s /metrics")

    def test_serve(self) -> None:
        self.assertPromtoolAccepts("serve", self.stack.serve.metrics())

    def test_serve_after_traffic_has_redirect_and_click_series(self) -> None:
        serve = self.stack.serve
        expo = h.wait_until(lambda: (lambda e: e if e.value("shortener_clicks_processed_total") >= 5 else None)(
            h.parse_exposition(serve.metrics())), 15, 0.2, what="5 clicks processed by serve")
        self.assertGreaterEqual(expo.value("shortener_http_requests_total", route="redirect", status="302"), 5)
        self.assertGreaterEqual(expo.value("shortener_http_request_duration_seconds_count", route="redirect"), 6)
        self.assertEqual(expo.types.get("shortener_http_request_duration_seconds"), "histogram")
        self.assertEqual(expo.value("shortener_build_info"), 1)
        self.assertEqual(expo.value("shortener_clicks_dropped_total"), 0)
        # Buckets fine enough to see 100 µs .. 50 ms (the requirement).
        les = {lbl["le"] for lbl, _ in expo.samples["shortener_http_request_duration_seconds_bucket"]
               if lbl.get("route") == "redirect"}
        bounds = sorted(float(x) for x in les if x != "+Inf")
        self.assertLessEqual(bounds[0], 0.0001)
        self.assertGreaterEqual(bounds[-1], 0.05)
        self.assertGreaterEqual(len([b for b in bounds if 0.0001 <= b <= 0.05]), 6)

    def test_production_serve(self) -> None:
        h.require_worker(self.stack)  # started together with the worker
        serve = self.stack.prod_serve
        assert serve is not None
        text = serve.metrics()
        self.assertPromtoolAccepts("serve (production mode)", text)
        expo = h.parse_exposition(text)
        missing = sorted(n for n in h.PRODUCTION_SERVE_METRICS if not expo.has(n))
        self.assertEqual(missing, [], "production serve lacks metrics the dashboards and alerts use")

    def test_worker(self) -> None:
        worker = h.require_worker(self.stack)
        text = worker.metrics()
        self.assertPromtoolAccepts("worker", text)
        expo = h.parse_exposition(text)
        missing = sorted(n for n in h.WORKER_METRICS if not expo.has(n))
        self.assertEqual(missing, [], "worker lacks metrics the dashboards and alerts use")
        for name in h.EXPECTED_HISTOGRAMS:
            self.assertEqual(expo.types.get(name), "histogram", name)

    def test_worker_processes_the_clicks_of_production_serve(self) -> None:
        worker = h.require_worker(self.stack)
        h.wait_until(lambda: h.parse_exposition(worker.metrics()).value("shortener_clicks_processed_total") >= 5,
                     20, 0.2, what="the worker to store the production serve's 5 clicks")


class MetricNamesTest(unittest.TestCase):
    """Every shortener_* name in a dashboard query or an alert expression exists in the real
    /metrics output (serve always; production serve and worker when they run here). Names only the
    production processes serve are reported as not checked when those cannot run; a name that is
    in no output and not on the production list fails."""

    @classmethod
    def setUpClass(cls) -> None:
        st = h.stack()
        h.wait_until(lambda: h.parse_exposition(st.serve.metrics()).value("shortener_clicks_processed_total") >= 5,
                     15, 0.2, what="serve to process its clicks")
        cls.outputs = {"serve": h.parse_exposition(st.serve.metrics())}
        if st.prod_serve is not None:
            cls.outputs["serve (production)"] = h.parse_exposition(st.prod_serve.metrics())
        if st.worker is not None:
            cls.outputs["worker"] = h.parse_exposition(st.worker.metrics())
        cls.note = st.production_note

    def check(self, uses: dict[str, set[str]]) -> None:
        """uses: metric name -> where it is used."""
        self.assertTrue(uses, "no shortener_* metric found: the extraction is broken")
        unknown, unchecked = [], []
        for name, where in sorted(uses.items()):
            if any(expo.has(name) for expo in self.outputs.values()):
                continue
            production_only = h.WORKER_METRICS | h.PRODUCTION_SERVE_METRICS
            if name in production_only or h.base_name(name) in production_only:
                if "worker" in self.outputs:
                    unknown.append(f"{name} (used in {', '.join(sorted(where))}): not served by the running worker/production serve")
                else:
                    unchecked.append(name)
                continue
            unknown.append(f"{name} (used in {', '.join(sorted(where))})")
        if unchecked:
            print(f"\n  [not checked] production-only metrics ({self.note}): {', '.join(unchecked)}",
                  file=sys.stderr)
        self.assertEqual(unknown, [], "metric names used but not served by any process: "
                         + "; ".join(unknown))

    def test_dashboard_queries(self) -> None:
        uses: dict[str, set[str]] = {}
        queries = h.dashboard_queries()
        self.assertGreater(len(queries), 10)
        for file, panel, expr in queries:
            for name in h.metric_names(expr):
                uses.setdefault(name, set()).add(f"{file}: {panel}")
        self.check(uses)

    def test_alert_rules(self) -> None:
        uses: dict[str, set[str]] = {}
        rules = h.alert_rules()
        self.assertGreater(len(rules), 5)
        for rule in rules:
            for name in h.metric_names(rule["expr"]):
                uses.setdefault(name, set()).add(f"alert {rule['alert']}")
        self.check(uses)

    def test_the_check_itself_catches_a_typo(self) -> None:
        with self.assertRaises(AssertionError):
            self.check({"shortener_http_request_total": {"a typo"}})  # the real name ends in _requests_total


class ExtractionTest(unittest.TestCase):
    def test_metric_names(self) -> None:
        expr = ('histogram_quantile(0.99, sum by (le) (rate(shortener_http_request_duration_seconds_bucket'
                '{job="shortener-api", route="redirect", x="shortener_not_a_metric"}[5m]))) / '
                'sum(rate(shortener_clicks_processed_total[1m]))')
        self.assertEqual(h.metric_names(expr), {"shortener_http_request_duration_seconds_bucket",
                                                "shortener_clicks_processed_total"})
        self.assertEqual(h.base_name("shortener_click_store_seconds_bucket"), "shortener_click_store_seconds")

    def test_exposition_has(self) -> None:
        expo = h.parse_exposition("# TYPE a_seconds histogram\na_seconds_bucket{le=\"+Inf\"} 1\n"
                                  "a_seconds_sum 0.5\na_seconds_count 1\n# TYPE b_total counter\n")
        for name in ("a_seconds", "a_seconds_bucket", "a_seconds_count", "a_seconds_sum", "b_total"):
            self.assertTrue(expo.has(name), name)
        self.assertFalse(expo.has("b_total_bucket"))
        self.assertFalse(expo.has("c"))


if __name__ == "__main__":
    unittest.main()
