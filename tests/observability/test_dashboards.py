"""deploy/grafana/dashboards/*.json: well-formed Grafana dashboards that query Prometheus through
the data source variable and show what the issue asks for. (That every query is valid PromQL and
returns data is checked against a real Prometheus in test_prometheus.py; that every metric name
exists, in test_metrics.py.)"""

from __future__ import annotations

import os
import re
import unittest

from tests.observability import harness as h

DS_UID = "${datasource}"
BUILTINS = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s", "__all"}


class DashboardFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.files = h.dashboard_files()
        cls.dashboards = {os.path.basename(f): h.load_dashboard(f) for f in cls.files}

    def test_there_are_dashboards(self) -> None:
        self.assertIn("shortener-overview.json", self.dashboards)
        self.assertIn("shortener-workers.json", self.dashboards)

    def test_identity(self) -> None:
        uids, titles = set(), set()
        for name, d in self.dashboards.items():
            with self.subTest(name):
                self.assertIsNone(d.get("id"), "id must be null (Grafana assigns it; Terraform and provisioning need that)")
                self.assertRegex(d.get("uid", ""), r"^[a-zA-Z0-9_-]{1,40}$")
                self.assertEqual(d["uid"], name.removesuffix(".json"), "uid matches the file name")
                self.assertTrue(d.get("title"))
                self.assertGreaterEqual(d.get("schemaVersion", 0), 36)
                self.assertIn("shortener", d.get("tags", []))
                self.assertNotIn("__inputs", d, "an export 'for sharing' cannot be provisioned or applied")
                uids.add(d["uid"])
                titles.add(d["title"])
        self.assertEqual(len(uids), len(self.dashboards))
        self.assertEqual(len(titles), len(self.dashboards))

    def test_datasource_variable(self) -> None:
        for name, d in self.dashboards.items():
            with self.subTest(name):
                variables = {v["name"]: v for v in d["templating"]["list"]}
                ds = variables.get("datasource")
                self.assertIsNotNone(ds, "a data source variable named 'datasource'")
                self.assertEqual(ds["type"], "datasource")
                self.assertEqual(ds["query"], "prometheus")
                for panel in h.all_panels(d):
                    if panel["type"] == "row":
                        continue
                    self.assertEqual(panel.get("datasource"), {"type": "prometheus", "uid": DS_UID}, panel["title"])
                    for t in panel["targets"]:
                        self.assertEqual(t.get("datasource"), {"type": "prometheus", "uid": DS_UID}, panel["title"])
                for v in variables.values():
                    if v["type"] == "query":
                        self.assertEqual(v["datasource"], {"type": "prometheus", "uid": DS_UID}, v["name"])

    def test_every_variable_used_is_defined(self) -> None:
        for name, d in self.dashboards.items():
            defined = {v["name"] for v in d["templating"]["list"]} | BUILTINS
            for file, panel, expr in h.dashboard_queries():
                if file != name:
                    continue
                for var in re.findall(r"\$\{?(\w+)", expr):
                    self.assertIn(var, defined, f"{name}: {panel}: ${var} is not a variable")

    def test_panels(self) -> None:
        for name, d in self.dashboards.items():
            with self.subTest(name):
                panels = h.all_panels(d)
                ids = [p["id"] for p in panels]
                self.assertEqual(len(ids), len(set(ids)), "panel ids unique")
                cells = set()
                for p in panels:
                    g = p["gridPos"]
                    self.assertTrue(g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["x"] + g["w"] <= 24, p["title"])
                    for x in range(g["x"], g["x"] + g["w"]):
                        for y in range(g["y"], g["y"] + g["h"]):
                            self.assertNotIn((x, y), cells, f"{p['title']} overlaps another panel")
                            cells.add((x, y))
                    if p["type"] == "row":
                        continue
                    self.assertIn(p["type"], {"timeseries", "stat", "table", "gauge", "bargauge"})
                    self.assertTrue(p.get("title"))
                    self.assertTrue(p.get("description"), f"{p['title']}: say what it shows")
                    self.assertTrue(p.get("targets"), p["title"])
                    refs = [t["refId"] for t in p["targets"]]
                    self.assertEqual(len(refs), len(set(refs)), f"{p['title']}: refIds unique")
                    for t in p["targets"]:
                        self.assertTrue(t.get("expr", "").strip(), p["title"])
                        self.assertEqual(t["expr"].count("("), t["expr"].count(")"), f"{p['title']}: {t['expr']}")

    def test_the_overview_shows_what_the_issue_asks_for(self) -> None:
        exprs = " ".join(expr for file, _, expr in h.dashboard_queries() if file == "shortener-overview.json")
        # redirect rate and latency (p50/p99 from the request histogram, redirect route)
        self.assertIn('shortener_http_requests_total{job=~"$api_job", instance=~"$instance", route="redirect"}', exprs)
        for q in ("0.5", "0.99"):
            self.assertIn(f'histogram_quantile({q}, sum by (le) (rate(shortener_http_request_duration_seconds_bucket'
                          '{job=~"$api_job", instance=~"$instance", route="redirect"}', exprs)
        self.assertIn('status=~"5.."', exprs)                       # error rate
        self.assertIn("shortener_clicks_processed_total", exprs)    # clicks processed
        self.assertIn("shortener_click_queue_length", exprs)        # queue length
        self.assertIn("shortener_click_queue_pending", exprs)       # consumer lag
        self.assertIn("shortener_cache_hits_total", exprs)          # cache hit ratio
        self.assertIn("shortener_cache_redis_hits_total", exprs)
        self.assertIn("shortener_click_store_seconds_bucket", exprs)  # DB latency
        self.assertIn('count(up{job=~"$api_job"})', exprs)          # replicas


if __name__ == "__main__":
    unittest.main()
