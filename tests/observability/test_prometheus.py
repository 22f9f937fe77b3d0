"""A real Prometheus (Debian package) on loopback scrapes the running `serve` (and `worker` when
production mode runs here) every second, loads deploy/prometheus/alerts.yml, and, after real
traffic, answers through its HTTP API: the redirect and click series are there, every dashboard
query is valid PromQL, the main panels have data, and every alert rule evaluates cleanly."""

from __future__ import annotations

import math
import re
import unittest

from tests.observability import harness as h

WAIT = 20.0  # seconds for scraped data to show up


def dashboard_expr(file: str, title: str, legend: str | None = None) -> str:
    d = h.load_dashboard(f"{h.DASHBOARDS_DIR}/{file}")
    for panel in h.all_panels(d):
        if panel.get("title") == title and panel["type"] != "row":
            for t in panel["targets"]:
                if legend is None or t.get("legendFormat") == legend:
                    return h.substitute(t["expr"])
    raise AssertionError(f"{file}: no panel {title!r} with legend {legend!r}")


class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        h.require_tool("prometheus")
        cls.stack = st = h.stack()
        jobs = {h.API_JOB: [s.target for s in st.api_targets()]}
        if st.worker is not None:
            jobs[h.WORKER_JOB] = [st.worker.target]
        cls.jobs = jobs
        cls.prom = h.Prometheus(jobs, rule_files=[h.ALERTS_FILE])
        try:
            expected_up = sum(len(t) for t in jobs.values())
            h.wait_until(lambda: cls._value(f'sum(up{{job=~"{h.API_JOB}|{h.WORKER_JOB}"}})') == expected_up,
                         WAIT, 0.25, what=f"{expected_up} targets up in Prometheus")
            cls.before = cls._value(f'sum(shortener_http_requests_total{{job="{h.API_JOB}",route="redirect",status="302"}})')
            st.traffic()  # after the first scrape, so rate() sees the increase
            cls.redirects = 5 * len(st.api_targets())
        except BaseException:
            cls.prom.stop()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.prom.stop()

    @classmethod
    def _value(cls, expr: str) -> float | None:
        result = cls.prom.query(expr)
        if not result:
            return None
        return float(result[0]["value"][1])

    def wait_value(self, expr: str, at_least: float) -> float:
        return h.wait_until(lambda: (lambda v: v if v is not None and v >= at_least else None)(self._value(expr)),
                            WAIT, 0.25, what=f"{expr} >= {at_least}")

    def test_redirect_and_click_series_are_scraped(self) -> None:
        self.wait_value(f'sum(shortener_http_requests_total{{job="{h.API_JOB}",route="redirect",status="302"}})',
                        (self.before or 0) + self.redirects)
        self.wait_value(f'sum(shortener_http_request_duration_seconds_count{{job="{h.API_JOB}",route="redirect"}})',
                        (self.before or 0) + self.redirects)
        self.wait_value(f'sum(shortener_clicks_processed_total{{job="{h.API_JOB}"}})', 5)
        self.assertEqual(self._value(f'count(up{{job="{h.API_JOB}"}})'), len(self.jobs[h.API_JOB]))

    def test_worker_series_are_scraped(self) -> None:
        h.require_worker(self.stack)
        self.wait_value(f'sum(shortener_clicks_processed_total{{job="{h.WORKER_JOB}"}})', 5)
        for name in ("shortener_click_queue_length", "shortener_click_queue_pending", "shortener_click_dead_letters"):
            self.assertIsNotNone(self._value(f'max({name}{{job="{h.WORKER_JOB}"}})'), name)

    def test_every_dashboard_query_is_valid_promql(self) -> None:
        queries = h.dashboard_queries()
        for file, panel, expr in queries:
            with self.subTest(f"{file}: {panel}"):
                m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", expr.strip())
                if m:  # a Grafana variable query: label values of the series matching a selector
                    status, doc = self.prom.api(f"label/{m.group(2)}/values", **{"match[]": h.substitute(m.group(1))})
                    self.assertEqual(doc.get("status"), "success", doc)
                    if "$worker_job" not in expr or self.stack.worker is not None:
                        self.assertTrue(doc["data"], f"{expr}: no values")
                else:
                    self.prom.query(h.substitute(expr))  # asserts status success

    def test_main_overview_panels_have_data(self) -> None:
        f = "shortener-overview.json"
        self.wait_value(f'sum(shortener_clicks_processed_total{{job="{h.API_JOB}"}})', 5)
        checks = {
            ("Redirects / s", None): lambda v: v > 0,
            ("Redirect latency", "p50"): lambda v: 0 < v < 5,
            ("Redirect latency", "p99"): lambda v: 0 < v < 5,
            ("5xx ratio", None): lambda v: v == 0,
            ("Clicks stored / s", None): lambda v: v > 0,
            ("Cache hit ratio", "L1, all"): lambda v: 0 <= v <= 1,
            ("Replicas", "API replicas"): lambda v: v == len(self.jobs[h.API_JOB]),
            ("Replicas up", "API"): lambda v: v == len(self.jobs[h.API_JOB]),
        }
        for (title, legend), ok in checks.items():
            with self.subTest(title=title, legend=legend):
                expr = dashboard_expr(f, title, legend)
                # wait_until wants a truthy result: a 1-tuple, since 0 is a valid value
                (value,) = h.wait_until(lambda: (lambda v: (v,) if v is not None and not math.isnan(v) and ok(v) else None)(
                    self._value(expr)), WAIT, 0.25, what=f"{title} ({legend}) = {expr}")
                self.assertTrue(ok(value))
        table = dashboard_expr(f, "Running builds")
        rows = self.prom.query(table)
        self.assertTrue(any(r["metric"].get("job") == h.API_JOB and r["metric"].get("version") for r in rows), rows)

    def test_alert_rules_load_and_evaluate_cleanly(self) -> None:
        expected = {r["alert"] for r in h.alert_rules()}

        def evaluated():
            status, doc = self.prom.api("rules")
            rules = [r for g in doc["data"]["groups"] for r in g["rules"]]
            if {r["name"] for r in rules} != expected:
                return None
            if any(r.get("lastEvaluation", "").startswith("0001-") for r in rules):
                return None  # not evaluated yet
            return rules

        rules = h.wait_until(evaluated, WAIT, 0.5, what="every alert rule loaded and evaluated once")
        for rule in rules:
            with self.subTest(rule["name"]):
                self.assertEqual(rule["health"], "ok", rule.get("lastError"))
                self.assertNotEqual(rule["state"], "firing", rule.get("alerts"))


if __name__ == "__main__":
    unittest.main()
