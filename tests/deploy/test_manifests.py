"""k8s/: both overlays render, and everything the manifests tell the binary matches what the
binary really reads and serves (subcommands, flags and SHORTENER_* variables from its --help;
probe paths and ports from its listen settings), and the objects point at each other correctly.
The probe paths themselves are exercised on a running binary in test_live.py."""

from __future__ import annotations

import unittest

from tests.deploy import support
from tests.deploy.support import objects, pod_spec, render

APP = ("Deployment", "Job", "CronJob")
# What each role's port must be, by subcommand: the flag that sets the listener serving probes.
PROBE_LISTENER = {"serve": "--listen", "worker": "--metrics-listen"}
PROBE_PATHS = {"livenessProbe": "/healthz", "startupProbe": "/healthz", "readinessProbe": "/readyz"}


def shortener_containers(docs):
    for doc in docs:
        if doc["kind"] in APP:
            for container in pod_spec(doc)["containers"]:
                if support.is_shortener_image(container["image"]):
                    yield doc, container


class RenderTest(unittest.TestCase):
    def test_every_kustomization_renders(self):
        for directory in ("k8s/base/app", "k8s/base", "k8s/overlays/dev", "k8s/overlays/prod",
                          "deploy/fluent-bit"):
            with self.subTest(directory):
                self.assertTrue(render(directory))

    def test_overlays_set_namespace_tag_and_replicas(self):
        expected = {"dev": ("shortener-dev", ":dev", 1), "prod": ("shortener", ":prod", 2)}
        for overlay, (namespace, tag, api_replicas) in expected.items():
            docs = render(f"k8s/overlays/{overlay}")
            with self.subTest(overlay):
                for doc in docs:
                    if doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
                        self.assertEqual(doc["metadata"].get("namespace"), namespace,
                                         f"{doc['kind']}/{doc['metadata']['name']}")
                self.assertIn(namespace, objects(docs, "Namespace"))
                for _, container in shortener_containers(docs):
                    self.assertTrue(container["image"].endswith(tag), container["image"])
                deployments = objects(docs, "Deployment")
                self.assertEqual(deployments["shortener-api"]["spec"]["replicas"], api_replicas)


class BinaryContractTest(unittest.TestCase):
    """Every container running the shortener image asks the binary only for what it has."""

    def test_commands_flags_and_environment(self):
        for directory in ("k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"):
            docs = render(directory)
            # prod renders without the Secret (created out of band with the base's keys)
            env_docs = docs + render("k8s/base")
            for doc, container in shortener_containers(docs):
                where = f"{directory}: {doc['kind']}/{doc['metadata']['name']}"
                with self.subTest(where):
                    args = container.get("command", []) + container.get("args", [])
                    env = support.container_env(container, env_docs)
                    support.check_invocation(self, args, env, where)

    def test_probes_hit_the_real_listener_and_paths(self):
        for directory in ("k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"):
            docs = render(directory)
            for doc, container in shortener_containers(docs):
                args = container.get("args", [])
                if args[0] not in PROBE_LISTENER:
                    continue
                where = f"{directory}: {doc['metadata']['name']}"
                env = support.container_env(container, docs + render("k8s/base"))
                cmd = support.command(args[0])
                listen = support.setting(cmd, PROBE_LISTENER[args[0]], args, env)
                ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                self.assertIn(support.port_of(listen), ports.values(), where)
                for probe, wanted_path in PROBE_PATHS.items():
                    with self.subTest(where=where, probe=probe):
                        self.assertIn(probe, container, f"{where} has no {probe}")
                        get = container[probe]["httpGet"]
                        self.assertEqual(get["path"], wanted_path)
                        port = ports.get(get["port"], get["port"])
                        self.assertEqual(port, support.port_of(listen),
                                         f"{where} {probe} probes {port}, the binary listens "
                                         f"on {listen}")

    def test_data_dir_is_writable_under_a_read_only_root(self):
        data_dir = support.dockerfile_env("runtime")["SHORTENER_DATA_DIR"]
        user = support.dockerfile_user()
        for doc, container in shortener_containers(render("k8s/base")):
            with self.subTest(doc["metadata"]["name"]):
                spec = pod_spec(doc)
                self.assertEqual(spec["securityContext"]["runAsUser"], user)
                self.assertTrue(spec["securityContext"]["runAsNonRoot"])
                if container["securityContext"].get("readOnlyRootFilesystem"):
                    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                    self.assertIn(data_dir, mounts, "every subcommand writes a probe file there")
                    volumes = {v["name"]: v for v in spec["volumes"]}
                    self.assertIn("emptyDir", volumes[mounts[data_dir]])


class WiringTest(unittest.TestCase):
    """Services, Ingress, HPA, PDB and CronJob refer to objects and ports that exist."""

    def test_selectors_match_pods(self):
        docs = render("k8s/base")
        pods = [support.pod_labels(d) for d in docs if d["kind"] in APP]
        for kind in ("Service", "PodDisruptionBudget"):
            for name, obj in objects(docs, kind).items():
                selector = obj["spec"]["selector"]
                selector = selector.get("matchLabels", selector)
                with self.subTest(f"{kind}/{name}"):
                    self.assertTrue(any(selector.items() <= labels.items() for labels in pods))
        for name, deployment in objects(docs, "Deployment").items():
            with self.subTest(f"Deployment/{name}"):
                self.assertLessEqual(deployment["spec"]["selector"]["matchLabels"].items(),
                                     support.pod_labels(deployment).items())

    def test_service_and_ingress_ports(self):
        docs = render("k8s/base")
        api = pod_spec(objects(docs, "Deployment")["shortener-api"])["containers"][0]
        port_names = {p["name"] for p in api["ports"]}
        service = objects(docs, "Service")["shortener-api"]
        service_ports = {p["name"] for p in service["spec"]["ports"]}
        for port in service["spec"]["ports"]:
            self.assertIn(port["targetPort"], port_names)
        ingress = objects(docs, "Ingress")["shortener"]
        annotations = ingress["metadata"]["annotations"]
        self.assertEqual(ingress["spec"]["ingressClassName"], "alb")
        self.assertIn("cert-manager.io/cluster-issuer", annotations)
        self.assertEqual(annotations["alb.ingress.kubernetes.io/healthcheck-path"], "/readyz")
        self.assertEqual(annotations["alb.ingress.kubernetes.io/target-type"], "ip")
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                backend = p["backend"]["service"]
                if backend["port"].get("name") == "use-annotation":
                    self.assertIn(f"alb.ingress.kubernetes.io/actions.{backend['name']}",
                                  annotations)
                else:
                    self.assertEqual(backend["name"], "shortener-api")
                    self.assertIn(backend["port"]["name"], service_ports)

    def test_hosts_agree(self):
        """Ingress rule host = TLS host = public URL = the host acm-sync imports, per overlay."""
        for overlay in support.OVERLAYS:
            docs = render(f"k8s/overlays/{overlay}")
            ingress = objects(docs, "Ingress")["shortener"]["spec"]
            public_url = objects(docs, "ConfigMap")["shortener-api"]["data"]["SHORTENER_PUBLIC_URL"]
            cron = pod_spec(objects(docs, "CronJob")["acm-sync"])["containers"][0]
            tls_host = {e["name"]: e["value"] for e in cron["env"]}["TLS_HOST"]
            with self.subTest(overlay):
                hosts = {ingress["rules"][0]["host"], ingress["tls"][0]["hosts"][0],
                         support.host_of(public_url), tls_host}
                self.assertEqual(len(hosts), 1, hosts)
                self.assertTrue(public_url.startswith("https://"))
        dev, prod = (objects(render(f"k8s/overlays/{o}"), "Ingress")["shortener"]["spec"]
                     ["rules"][0]["host"] for o in ("dev", "prod"))
        self.assertNotEqual(dev, prod)

    def test_hpa(self):
        hpa = objects(render("k8s/base"), "HorizontalPodAutoscaler")["shortener-api"]
        self.assertEqual(hpa["apiVersion"], "autoscaling/v2")
        self.assertEqual((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]), (1, 5))
        metric = hpa["spec"]["metrics"][0]["resource"]
        self.assertEqual((metric["name"], metric["target"]["averageUtilization"]), ("cpu", 70))
        target = hpa["spec"]["scaleTargetRef"]
        self.assertIn(target["name"], objects(render("k8s/base"), target["kind"]))
        api = pod_spec(objects(render("k8s/base"), "Deployment")["shortener-api"])
        self.assertIn("cpu", api["containers"][0]["resources"]["requests"],
                      "CPU utilisation is measured against the request")

    def test_secret_references_exist(self):
        base_secret = objects(render("k8s/base"), "Secret")["shortener-secrets"]
        keys = set(base_secret["stringData"])
        for doc, container in shortener_containers(render("k8s/base")):
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    self.assertEqual(ref["name"], "shortener-secrets")
                    self.assertIn(ref["key"], keys)
        self.assertNotIn("shortener-secrets", objects(render("k8s/overlays/prod"), "Secret"),
                         "prod must never apply the placeholder credentials")
        self.assertNotIn("shortener-migrate", objects(render("k8s/overlays/prod"), "Job"))

    def test_cronjob_mounts_what_it_runs(self):
        docs = render("k8s/base")
        cron = objects(docs, "CronJob")["acm-sync"]
        spec = pod_spec(cron)
        container = spec["containers"][0]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        script_dir, script = container["command"][1].rsplit("/", 1)
        config_map = objects(docs, "ConfigMap")[volumes[mounts[script_dir]]["configMap"]["name"]]
        self.assertEqual(config_map["data"][script], support.read("k8s/base/app", script))
        env = {e["name"]: e["value"] for e in container["env"]}
        self.assertEqual(volumes[mounts[env["TLS_DIR"]]]["secret"]["secretName"],
                         objects(docs, "Ingress")["shortener"]["spec"]["tls"][0]["secretName"])


if __name__ == "__main__":
    unittest.main()
