"""deploy/prometheus/alerts.yml: promtool accepts it, its unit tests pass, every alert is
tested firing and quiet, and every alert is explained in docs/runbook.md."""

from __future__ import annotations

import os
import re
import subprocess
import unittest

from tests.observability import harness as h

ALERTS_TEST = os.path.join(h.HERE, "alerts_test.yml")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def runbook_alert_sections() -> dict[str, str]:
    """Anchor -> text of each `### Heading` inside the runbook's `## Alerts` section."""
    with open(h.RUNBOOK, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Alerts\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        return {}
    sections: dict[str, str] = {}
    parts = re.split(r"^### (.+)$", m.group(1), flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[github_anchor(heading)] = body
    return sections


class PromtoolTest(unittest.TestCase):
    def test_check_rules(self) -> None:
        promtool = h.require_tool("promtool")
        result = subprocess.run([promtool, "check", "rules", h.ALERTS_FILE], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout + result.stderr)

    def test_unit_tests(self) -> None:
        promtool = h.require_tool("promtool")
        result = subprocess.run([promtool, "test", "rules", ALERTS_TEST], capture_output=True, text=True,
                                timeout=60, cwd=h.HERE)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class WiringTest(unittest.TestCase):
    """The Prometheus configurations of deploy/ load these rules and name the jobs they expect."""

    def test_compose_prometheus_loads_the_rules(self) -> None:
        config = os.path.join(os.path.dirname(h.ALERTS_FILE), "prometheus.yml")
        if not os.path.exists(config):
            self.skipTest("deploy/prometheus/prometheus.yml does not exist")
        promtool = h.require_tool("promtool")
        result = subprocess.run([promtool, "check", "config", config], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("alerts.yml", result.stdout + result.stderr)
        doc = h.load_yaml(config)
        self.assertIn("alerts.yml", doc.get("rule_files", []))
        jobs = {j["job_name"] for j in doc["scrape_configs"]}
        self.assertLessEqual({h.API_JOB, h.WORKER_JOB}, jobs)

    def test_kubernetes_scrape_jobs(self) -> None:
        path = os.path.join(os.path.dirname(h.ALERTS_FILE), "k8s-scrape-configs.yaml")
        if not os.path.exists(path):
            self.skipTest("deploy/prometheus/k8s-scrape-configs.yaml does not exist")
        jobs = {j["job_name"] for j in h.load_yaml(path)}
        self.assertLessEqual({h.API_JOB, h.WORKER_JOB}, jobs)


class RulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.rules = h.alert_rules()
        cls.names = [r["alert"] for r in cls.rules]

    def test_the_alerts_the_issue_asks_for_exist(self) -> None:
        # redirect error rate, p99 latency, queue lag growing, dead letters, clicks dropped,
        # worker down, readiness failing
        for name in ("ShortenerRedirectErrors", "ShortenerRedirectLatencyHigh", "ShortenerClickQueueGrowing",
                     "ShortenerClickConsumerLag", "ShortenerClickDeadLetters", "ShortenerClicksDropped",
                     "ShortenerWorkerDown", "ShortenerNotReady"):
            self.assertIn(name, self.names)

    def test_names_unique(self) -> None:
        self.assertEqual(len(self.names), len(set(self.names)))

    def test_labels_and_annotations(self) -> None:
        for rule in self.rules:
            with self.subTest(rule["alert"]):
                self.assertIn(rule.get("labels", {}).get("severity"), ("critical", "warning"))
                ann = rule.get("annotations", {})
                for key in ("summary", "description", "runbook_url"):
                    self.assertTrue(ann.get(key), f"annotation {key} missing")
                self.assertEqual(ann["runbook_url"], f"docs/runbook.md#{rule['alert'].lower()}")

    def test_every_alert_is_explained_in_the_runbook(self) -> None:
        sections = runbook_alert_sections()
        self.assertTrue(sections, "docs/runbook.md has no '## Alerts' section with '### <alert>' headings")
        for rule in self.rules:
            with self.subTest(rule["alert"]):
                anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
                self.assertIn(anchor, sections, f"no '### {rule['alert']}' in the runbook's Alerts section")
                body = sections[anchor]
                self.assertIn("**Means**", body, "say what it means")
                self.assertIn("**Do**", body, "say what to do")
        stale = set(sections) - {r["alert"].lower() for r in self.rules}
        self.assertEqual(stale, set(), "runbook sections for alerts that do not exist")

    def test_every_alert_has_a_firing_and_a_quiet_unit_test(self) -> None:
        doc = h.load_yaml(ALERTS_TEST)
        fired, quiet = set(), set()
        for case in doc["tests"]:
            for t in case.get("alert_rule_test", []):
                (fired if t.get("exp_alerts") else quiet).add(t["alertname"])
        self.assertEqual(set(self.names) - fired, set(), "alerts never shown to fire in alerts_test.yml")
        self.assertEqual(set(self.names) - quiet, set(), "alerts never shown to stay quiet in alerts_test.yml")
        self.assertEqual(doc["rule_files"], ["../../deploy/prometheus/alerts.yml"])


if __name__ == "__main__":
    unittest.main()
