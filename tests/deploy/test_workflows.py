"""The GitHub workflows parse and do what they claim with names that exist (scripts, files,
Deployments, containers, the role secret), and the Fluent Bit config ships the namespaces the
overlays use to the region the cluster is in."""

from __future__ import annotations

import os
import re
import unittest

from tests.deploy import support


def workflow(name: str) -> dict:
    doc = support.load_yaml(".github/workflows", name)
    # YAML 1.1 reads the key `on` as the boolean true.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def run_steps(doc: dict) -> str:
    return "\n".join(step.get("run", "") for job in doc["jobs"].values()
                     for step in job["steps"])


class WorkflowsTest(unittest.TestCase):
    def test_shape(self):
        for name in ("pr-check.yml", "deploy.yml"):
            doc = workflow(name)
            with self.subTest(name):
                self.assertTrue(doc["name"])
                self.assertTrue(doc["on"])
                for job_name, job in doc["jobs"].items():
                    self.assertIn("runs-on", job, job_name)
                    self.assertTrue(job["steps"], job_name)
                    for step in job["steps"]:
                        self.assertTrue("uses" in step or "run" in step, step)
                        if "uses" in step:
                            self.assertRegex(step["uses"], r"^[\w.-]+/[\w./-]+@v\d+$")

    def test_pr_check_runs_the_readme_test_command(self):
        doc = workflow("pr-check.yml")
        self.assertIn("pull_request", doc["on"])
        self.assertIn("./scripts/test.sh", support.read("README.md"))
        self.assertIn("./scripts/test.sh", run_steps(doc))
        self.assertRegex(doc["jobs"]["test"]["container"], r"bookworm|debian:12")

    def test_files_the_workflows_run_exist(self):
        for name in ("pr-check.yml", "deploy.yml"):
            for file in re.findall(r"(?:\./)?((?:scripts|deploy|k8s)/[\w./-]+\.(?:sh|yaml))",
                                   run_steps(workflow(name))):
                with self.subTest(f"{name}: {file}"):
                    self.assertTrue(os.path.exists(support.path(file)))

    def test_deploy_tags_with_the_commit_and_rolls_the_real_deployments(self):
        doc = workflow("deploy.yml")
        self.assertEqual(doc["on"]["push"]["branches"], ["main"])
        self.assertIn("id-token", doc["permissions"])
        steps = run_steps(doc)
        self.assertIn("$ECR_REPOSITORY:$GITHUB_SHA", steps)
        self.assertIn("docker push", steps)
        env = doc["env"]
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        defaults = {name: re.search(rf"^{name}=(\S+)$", support.read(script), re.M)[1]
                    for name, script in (("repository", "scripts/setup-ecr.sh"),
                                         ("cluster", "scripts/setup-eks.sh"))}
        self.assertEqual(env["ECR_REPOSITORY"], defaults["repository"])
        self.assertEqual(env["EKS_CLUSTER"], defaults["cluster"])
        docs = support.render("k8s/overlays/prod")
        deployments = support.objects(docs, "Deployment")
        set_image = re.findall(r"set image deployment/([\w-]+) (\w+)=\"\$IMAGE\"", steps)
        self.assertEqual({d for d, _ in set_image}, set(deployments))
        for deployment, container in set_image:
            names = [c["name"] for c in support.pod_spec(deployments[deployment])["containers"]]
            self.assertIn(container, names)
        for deployment in deployments:
            self.assertIn(f"rollout status deployment/{deployment}", steps)
        job = support.objects(support.render("k8s/base"), "Job")["shortener-migrate"]
        migrate = re.search(r"set image --local -f (\S+) (\w+)=", steps)
        self.assertEqual(support.load_yaml(migrate[1])["metadata"]["name"], job["metadata"]["name"])
        self.assertIn(migrate[2], [c["name"] for c in support.pod_spec(job)["containers"]])
        self.assertIn(f"job/{job['metadata']['name']}", steps)
        namespaces = doc["on"]["workflow_dispatch"]["inputs"]["namespace"]["options"]
        rendered = {support.objects(support.render(f"k8s/overlays/{o}"), "Namespace").popitem()[0]
                    for o in support.OVERLAYS}
        self.assertEqual(set(namespaces), rendered)


class FluentBitTest(unittest.TestCase):
    def sections(self) -> list[tuple[str, dict[str, str]]]:
        sections = []
        for line in support.read("deploy/fluent-bit/fluent-bit.conf").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                sections.append((line.strip("[]"), {}))
            else:
                key, value = line.split(None, 1)
                sections[-1][1][key] = value
        return sections

    def test_pipeline(self):
        sections = self.sections()
        [tail] = [s for name, s in sections if name == "INPUT"]
        outputs = [s for name, s in sections if name == "OUTPUT"]
        self.assertEqual([o["Name"] for o in outputs], ["cloudwatch_logs"])
        tag_prefix = tail["Tag"].rstrip("*")
        for name, section in sections:
            if name in ("FILTER", "OUTPUT"):
                self.assertTrue(section["Match"].startswith(tag_prefix), section)
        for overlay in support.OVERLAYS:
            namespace = support.objects(support.render(f"k8s/overlays/{overlay}"),
                                        "Namespace").popitem()[0]
            self.assertIn(f"/var/log/containers/*_{namespace}_*.log", tail["Path"].split(","))

    def test_daemonset_runs_this_config_in_the_cluster_region(self):
        docs = support.render("deploy/fluent-bit")
        daemonset = support.objects(docs, "DaemonSet")["fluent-bit"]
        container = support.pod_spec(daemonset)["containers"][0]
        config = next(a.split("=", 1)[1] for a in container["args"] if a.startswith("--config="))
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == config)
        volume = next(v for v in support.pod_spec(daemonset)["volumes"]
                      if v["name"] == mount["name"])
        config_map = support.objects(docs, "ConfigMap")[volume["configMap"]["name"]]
        self.assertEqual(config_map["data"][mount["subPath"]],
                         support.read("deploy/fluent-bit/fluent-bit.conf"))
        env = {e["name"]: e["value"] for e in container["env"]}
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        [output] = [s for name, s in self.sections() if name == "OUTPUT"]
        self.assertEqual(output["region"], "${AWS_REGION}")
        log_paths = {m["mountPath"] for m in container["volumeMounts"]}
        self.assertIn("/var/log", log_paths)


if __name__ == "__main__":
    unittest.main()
