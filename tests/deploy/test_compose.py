"""docker-compose.yml and what it mounts (nginx, Prometheus, Grafana): every command, flag,
SHORTENER_* variable, port and health check agrees with the binary and with each other. No
Docker engine runs here, so nothing is started; test_live.py runs the nginx config for real."""

from __future__ import annotations

import json
import os
import re
import unittest

from tests.deploy import support

COMPOSE = "docker-compose.yml"
PROBE_LISTENER = {"serve": "--listen", "worker": "--metrics-listen"}


def compose() -> dict:
    return support.load_yaml(COMPOSE)


def shortener_services() -> dict[str, dict]:
    return {name: svc for name, svc in compose()["services"].items()
            if svc.get("image", "").startswith(support.SHORTENER_IMAGE + ":")}


def healthcheck_url(test: list[str]) -> str:
    urls = [arg for arg in test if arg.startswith("http://")]
    assert len(urls) == 1, test
    return urls[0]


class ComposeTest(unittest.TestCase):
    def test_services(self):
        services = compose()["services"]
        for name in ("postgres", "redis", "migrate", "serve", "worker", "nginx", "prometheus",
                     "grafana"):
            self.assertIn(name, services)
        self.assertEqual(services["serve"]["deploy"]["replicas"], 2)
        redis = services["redis"]["command"]
        self.assertEqual(redis[redis.index("--appendonly") + 1], "yes", "Redis runs with AOF")
        self.assertEqual(set(shortener_services()), {"migrate", "serve", "worker"})
        for name, svc in shortener_services().items():
            self.assertEqual(svc["build"], ".", name)

    def test_commands_and_environment_match_the_binary(self):
        # The image's own ENV serves every role and is checked in test_image.py.
        for name, svc in shortener_services().items():
            with self.subTest(name):
                support.check_invocation(self, svc["command"], svc.get("environment", {}),
                                         f"{COMPOSE} {name}")

    def test_health_checks_probe_the_real_listener(self):
        image_env = support.dockerfile_env("runtime")
        for name, svc in shortener_services().items():
            role = svc["command"][0]
            with self.subTest(name):
                if role not in PROBE_LISTENER:
                    self.assertTrue(svc["healthcheck"].get("disable"),
                                    f"{name} serves no probe: its health check must be off")
                    continue
                env = {**image_env, **svc.get("environment", {})}
                listen = support.setting(support.command(role), PROBE_LISTENER[role],
                                         svc["command"], env)
                if "healthcheck" in svc:
                    url = healthcheck_url(svc["healthcheck"]["test"])
                    self.assertEqual(url, f"http://127.0.0.1:{support.port_of(listen)}/healthz")
                else:
                    # The image's HEALTHCHECK probes the port of SHORTENER_LISTEN.
                    self.assertEqual(role, "serve")
                    self.assertEqual(env["SHORTENER_LISTEN"], listen)

    def test_start_order(self):
        services = compose()["services"]
        for name in ("serve", "worker"):
            depends = services[name]["depends_on"]
            self.assertEqual(depends["migrate"]["condition"], "service_completed_successfully")
            self.assertEqual(depends["redis"]["condition"], "service_healthy")
        self.assertEqual(services["migrate"]["depends_on"]["postgres"]["condition"],
                         "service_healthy")
        self.assertEqual(services["serve"]["environment"]["SHORTENER_NO_MIGRATE"], "true")

    def test_credentials_agree(self):
        services = compose()["services"]
        pg = services["postgres"]["environment"]
        url = (f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/"
               f"{pg['POSTGRES_DB']}")
        for name, svc in shortener_services().items():
            self.assertEqual(svc["environment"]["SHORTENER_DATABASE_URL"], url, name)

    def test_bind_mounts_exist(self):
        for name, svc in compose()["services"].items():
            for volume in svc.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith("./"):
                    with self.subTest(f"{name}: {source}"):
                        self.assertTrue(os.path.exists(support.path(source)))


class ProxyTest(unittest.TestCase):
    def test_nginx_forwards_to_the_serve_replicas(self):
        conf = support.read("deploy/nginx/nginx.conf")
        services = compose()["services"]
        serve_env = {**support.dockerfile_env("runtime"), **services["serve"]["environment"]}
        upstream = re.search(r"upstream shortener \{\s*server (\S+):(\d+);", conf)
        self.assertEqual(upstream[1], "serve")
        self.assertEqual(int(upstream[2]), support.port_of(serve_env["SHORTENER_LISTEN"]))
        listen = int(re.search(r"^\s*listen (\d+);", conf, re.M)[1])
        self.assertIn(f"{listen}:{listen}", services["nginx"]["ports"])
        self.assertIn("$proxy_add_x_forwarded_for", conf)

    def test_serve_trusts_nginx(self):
        services = compose()["services"]
        nginx_ip = services["nginx"]["networks"]["default"]["ipv4_address"]
        trusted = services["serve"]["environment"]["SHORTENER_TRUST_PROXY"].split(",")
        self.assertIn(f"{nginx_ip}/32", trusted)
        subnet = compose()["networks"]["default"]["ipam"]["config"][0]
        prefix = subnet["subnet"].split(".")[:2]
        self.assertEqual(nginx_ip.split(".")[:2], prefix)
        self.assertIn(f"{subnet['gateway']}/32", trusted)


class MonitoringTest(unittest.TestCase):
    def test_prometheus_scrapes_each_role_on_its_metrics_port(self):
        services = compose()["services"]
        image_env = support.dockerfile_env("runtime")
        config = support.load_yaml("deploy/prometheus/prometheus.yml")
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        for job_name, service in (("shortener-api", "serve"), ("shortener-worker", "worker")):
            with self.subTest(job_name):
                svc = services[service]
                role = svc["command"][0]
                listen = support.setting(support.command(role), PROBE_LISTENER[role],
                                         svc["command"], {**image_env, **svc["environment"]})
                sd = jobs[job_name]["dns_sd_configs"][0]
                self.assertEqual(sd["names"], [service])
                self.assertEqual(sd["port"], support.port_of(listen))
                self.assertEqual(jobs[job_name].get("metrics_path", "/metrics"), "/metrics")

    def test_job_names_are_the_dashboards_defaults(self):
        defaults = set()
        for name in os.listdir(support.path("deploy/grafana/dashboards")):
            if name.endswith(".json"):
                dashboard = json.loads(support.read("deploy/grafana/dashboards", name))
                for var in dashboard.get("templating", {}).get("list", []):
                    if var.get("name") in ("api_job", "worker_job"):
                        defaults.add(var["query"])
        compose_jobs = {j["job_name"] for j in
                        support.load_yaml("deploy/prometheus/prometheus.yml")["scrape_configs"]}
        k8s_jobs = {j["job_name"] for j in
                    support.load_yaml("deploy/prometheus/k8s-scrape-configs.yaml")}
        self.assertTrue(defaults)
        self.assertLessEqual(defaults, compose_jobs)
        self.assertLessEqual(defaults, k8s_jobs)

    def test_k8s_scrape_jobs_select_the_manifests_pods_and_ports(self):
        docs = support.render("k8s/base/app")
        deployments = support.objects(docs, "Deployment")
        for job in support.load_yaml("deploy/prometheus/k8s-scrape-configs.yaml"):
            keep = job["relabel_configs"][0]
            name, component, port_name = keep["regex"].split(";")
            deployment = deployments[f"shortener-{component}"]
            labels = support.pod_labels(deployment)
            with self.subTest(job["job_name"]):
                self.assertEqual(labels["app.kubernetes.io/name"], name)
                self.assertEqual(labels["app.kubernetes.io/component"], component)
                container = support.pod_spec(deployment)["containers"][0]
                self.assertIn(port_name, [p["name"] for p in container["ports"]])
                namespaces = set(job["kubernetes_sd_configs"][0]["namespaces"]["names"])
                for overlay in support.OVERLAYS:
                    self.assertIn(support.objects(support.render(f"k8s/overlays/{overlay}"),
                                                  "Deployment")[deployment["metadata"]["name"]]
                                  ["metadata"]["namespace"], namespaces)

    def test_grafana_provisioning(self):
        grafana = compose()["services"]["grafana"]
        mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
        provider = support.load_yaml("deploy/grafana/provisioning/dashboards/shortener.yml")
        dashboards_path = provider["providers"][0]["options"]["path"]
        self.assertEqual(mounts["./deploy/grafana/dashboards"], dashboards_path)
        self.assertEqual(mounts["./deploy/grafana/provisioning"], "/etc/grafana/provisioning")
        datasource = support.load_yaml(
            "deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
        self.assertEqual(datasource["type"], "prometheus")
        self.assertEqual(support.host_of(datasource["url"]), "prometheus")
        prometheus_port = compose()["services"]["prometheus"]["ports"][0].split(":")[1]
        self.assertTrue(datasource["url"].endswith(f":{prometheus_port}"))


if __name__ == "__main__":
    unittest.main()
