"""The AWS scripts, run here against stand-ins for the aws/eksctl/helm CLIs (which record their
arguments): --dry-run changes nothing and calls none of them, the eksctl ClusterConfig matches
the seed's footprint and the manifests, the IAM documents are valid JSON, and acm-sync.sh
splits and imports a real certificate chain (made with openssl) the way ACM expects."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import tempfile
import unittest

import yaml

from tests.deploy import support
from tests.e2e.harness import remove_temp_dir

SCRIPTS = ("scripts/setup-eks.sh", "scripts/setup-ecr.sh", "scripts/local-seed.sh",
           "deploy/docker/stage-install.sh", "deploy/docker/smoke-test.sh",
           "k8s/base/app/acm-sync.sh")

# A stand-in CLI: appends its arguments (one JSON list per line) to $FAKE_LOG, answers from
# $FAKE_ANSWERS (a JSON object: "first two words" -> [exit code, stdout]), else exits 0.
FAKE_CLI = r"""#!/usr/bin/env python3
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([name, *sys.argv[1:]]) + "\n")
answers = json.load(open(os.environ["FAKE_ANSWERS"])) if os.environ.get("FAKE_ANSWERS") else {}
for key, (code, out) in answers.items():
    if " ".join([name, *sys.argv[1:]]).startswith(key):
        if out.startswith("@"):
            out = open(out[1:]).read()
        sys.stdout.write(out)
        sys.exit(code)
"""


def slurp(file: str) -> str:
    with open(file, encoding="utf-8") as f:
        return f.read()


class FakeTools:
    def __init__(self, test: unittest.TestCase, names: tuple[str, ...],
                 answers: dict | None = None):
        self.dir = tempfile.mkdtemp(prefix="shortener-deploy-fake-")
        test.addCleanup(remove_temp_dir, self.dir)
        self.log = os.path.join(self.dir, "calls.log")
        for name in names:
            tool = os.path.join(self.dir, name)
            with open(tool, "w") as f:
                f.write(FAKE_CLI)
            os.chmod(tool, os.stat(tool).st_mode | stat.S_IEXEC)
        self.env = {**os.environ, "PATH": f"{self.dir}:{os.environ['PATH']}", "FAKE_LOG": self.log}
        if answers is not None:
            self.set_answers(answers)

    def set_answers(self, answers: dict) -> None:
        path = os.path.join(self.dir, "answers.json")
        with open(path, "w") as f:
            json.dump(answers, f)
        self.env["FAKE_ANSWERS"] = path

    def calls(self) -> list[list[str]]:
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([support.path(args[0]), *args[1:]], env=self.env, capture_output=True,
                              text=True, timeout=60, **kw)


class HelpTest(unittest.TestCase):
    def test_every_script_has_help(self):
        for script in SCRIPTS:
            with self.subTest(script):
                result = subprocess.run([support.path(script), "--help"], capture_output=True,
                                        text=True, timeout=30)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue(result.stdout.strip())
                self.assertIn("set -euo pipefail", support.read(script))


class SetupEksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="shortener-deploy-eks-")
        cls.addClassCleanup(remove_temp_dir, cls.workdir)
        cls.config_path = os.path.join(cls.workdir, "cluster.yaml")

    def dry_run(self):
        tools = FakeTools(self, ("aws", "eksctl", "helm", "openssl"))
        result = tools.run("scripts/setup-eks.sh", "--dry-run", "--hosted-zone-id", "Z0TEST",
                           "--email", "ops@example.com", "--config-out", self.config_path,
                           "--deploy-role-arn", "arn:aws:iam::123456789012:role/deploy")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(tools.calls(), [], "--dry-run must not call any cloud tool")
        with open(self.config_path) as f:
            return result.stdout, yaml.safe_load(f)

    def test_cluster_config(self):
        _, config = self.dry_run()
        self.assertEqual(config["kind"], "ClusterConfig")
        self.assertEqual(config["metadata"]["region"], "us-east-1")
        [group] = config["managedNodeGroups"]
        self.assertEqual(group["instanceTypes"], ["t3.small"])
        self.assertTrue(group["spot"])
        self.assertEqual((group["minSize"], group["maxSize"]), (1, 3))
        trust = support.load_yaml("k8s/base/app/api-config.yaml")["data"]["SHORTENER_TRUST_PROXY"]
        self.assertEqual(config["vpc"]["cidr"], trust, "the ALB's addresses come from the VPC")

    def test_service_accounts_are_the_ones_the_manifests_use(self):
        _, config = self.dry_run()
        roles = {(sa["metadata"]["namespace"], sa["metadata"]["name"])
                 for sa in config["iam"]["serviceAccounts"]}
        daemonset = support.objects(support.render("deploy/fluent-bit"), "DaemonSet")["fluent-bit"]
        self.assertIn((daemonset["metadata"]["namespace"],
                       support.pod_spec(daemonset)["serviceAccountName"]), roles)
        for overlay in support.OVERLAYS:
            cron = support.objects(support.render(f"k8s/overlays/{overlay}"), "CronJob")["acm-sync"]
            account = support.pod_spec(cron)["serviceAccountName"]
            self.assertIn((cron["metadata"]["namespace"], account), roles)

    def test_installs_and_prints_the_dns_record(self):
        output, config = self.dry_run()
        commands = [shlex.split(line[2:]) for line in output.splitlines() if line.startswith("+ ")]
        installed = {c[3] for c in commands if c[:3] == ["helm", "upgrade", "--install"]}
        self.assertLessEqual({"aws-load-balancer-controller", "cert-manager", "metrics-server",
                              "shortener-postgresql", "shortener-redis", "prometheus"}, installed)
        roles = {(sa["metadata"]["namespace"], sa["metadata"]["name"])
                 for sa in config["iam"]["serviceAccounts"]}
        for command in commands:
            helm_install = command[:3] == ["helm", "upgrade", "--install"]
            if helm_install and "serviceAccount.create=false" in command:
                namespace = command[command.index("--namespace") + 1]
                account = next(a.split("=", 1)[1] for a in command
                               if a.startswith("serviceAccount.name="))
                self.assertIn((namespace, account), roles, command[3])
            for flag in ("-f", "--set-file"):
                for i, arg in enumerate(command[:-1]):
                    if arg == flag:
                        file = command[i + 1].split("=", 1)[-1]
                        if file != "-":
                            self.assertTrue(os.path.exists(file), file)
        self.assertIn(["kubectl", "apply", "-k", support.path("k8s/overlays/prod")], commands)
        self.assertIn("kind: ClusterIssuer", output)
        issuer = yaml.safe_load(output.split("<<'EOF'\n")[1].split("\nEOF")[0])
        self.assertEqual(issuer["metadata"]["name"],
                         support.objects(support.render("k8s/base/app"), "Ingress")["shortener"]
                         ["metadata"]["annotations"]["cert-manager.io/cluster-issuer"])
        host = support.objects(support.render("k8s/overlays/prod"), "Ingress")["shortener"]
        host = host["spec"]["rules"][0]["host"]
        self.assertIn(f"  {host}.  CNAME  ", output)


class SetupEcrTest(unittest.TestCase):
    def test_dry_run_calls_nothing(self):
        tools = FakeTools(self, ("aws",))
        result = tools.run("scripts/setup-ecr.sh", "--dry-run", "--github-repo", "acme/shortener")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(tools.calls(), [])

    def test_creates_repository_and_deploy_role(self):
        tools = FakeTools(self, ("aws",), {
            "aws sts get-caller-identity": [0, "123456789012\n"],
            "aws ecr describe-repositories": [254, ""],
            "aws iam get-open-id-connect-provider": [254, ""],
            "aws iam get-role": [254, ""],
        })
        result = tools.run("scripts/setup-ecr.sh", "--github-repo", "acme/shortener")
        self.assertEqual(result.returncode, 0, result.stderr)
        calls = {" ".join(c[1:3]): c for c in tools.calls()}
        create = calls["ecr create-repository"]
        self.assertEqual(create[create.index("--repository-name") + 1], "shortener")
        self.assertEqual(create[create.index("--image-tag-mutability") + 1], "IMMUTABLE")
        json.loads(calls["ecr put-lifecycle-policy"][-1])
        trust = json.loads(calls["iam create-role"][-1])
        condition = trust["Statement"][0]["Condition"]["StringEquals"]
        self.assertEqual(condition["token.actions.githubusercontent.com:sub"],
                         "repo:acme/shortener:ref:refs/heads/main")
        policy = json.loads(calls["iam put-role-policy"][-1])
        actions = {a for s in policy["Statement"] for a in
                   ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        self.assertLessEqual({"ecr:PutImage", "ecr:GetAuthorizationToken", "eks:DescribeCluster",
                              "ecr:DescribeImages"}, actions)
        self.assertIn("deploy role: arn:aws:iam::123456789012:role/", result.stdout)
        workflow = support.read(".github/workflows/deploy.yml")
        self.assertIn("secrets.AWS_DEPLOY_ROLE_ARN", workflow)
        self.assertIn("AWS_DEPLOY_ROLE_ARN", support.read("scripts/setup-ecr.sh"))


class AcmSyncTest(unittest.TestCase):
    """k8s/base/app/acm-sync.sh with a stand-in aws and a real leaf + intermediate chain."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="shortener-deploy-acm-")
        self.addCleanup(remove_temp_dir, self.dir)
        self.tls = os.path.join(self.dir, "tls")
        os.makedirs(self.tls)
        self.leaf, self.chain = self.make_chain("one")

    def openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.dir,
                       timeout=60)

    def make_chain(self, tag: str) -> tuple[str, str]:
        """A CA-signed leaf for shortener.example.com; writes tls.crt (leaf + CA) and tls.key."""
        self.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                     f"/CN=Test CA {tag}", "-keyout", "ca.key", "-out", "ca.pem")
        self.openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=shortener.example.com",
                     "-keyout", "tls/tls.key", "-out", "leaf.csr")
        self.openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                     "-CAcreateserial", "-days", "1", "-out", "leaf.pem")
        leaf = slurp(os.path.join(self.dir, "leaf.pem"))
        ca = slurp(os.path.join(self.dir, "ca.pem"))
        with open(os.path.join(self.tls, "tls.crt"), "w") as f:
            f.write(leaf + ca)
        return leaf, ca

    def sync(self, answers: dict) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
        tools = FakeTools(self, ("aws",), answers)
        tools.env.update(TLS_DIR=self.tls, TLS_HOST="shortener.example.com", AWS_REGION="us-east-1")
        result = tools.run("k8s/base/app/acm-sync.sh")
        return result, tools.calls()

    def file_arg(self, call: list[str], flag: str) -> str | None:
        if flag not in call:
            return None
        return call[call.index(flag) + 1]

    def test_first_import_splits_leaf_and_chain(self):
        capture = os.path.join(self.dir, "captured")
        os.makedirs(capture)
        answers = {"aws acm list-certificates": [0, "None\n"],
                   "aws acm import-certificate": [0, "arn:aws:acm:us-east-1:1:certificate/new\n"]}
        tools = FakeTools(self, ("aws",), answers)
        # Wrap the stand-in so it keeps copies of the fileb:// inputs (the script deletes its
        # temporary files on exit).
        wrapper = os.path.join(tools.dir, "aws")
        os.rename(wrapper, wrapper + "-fake")
        with open(wrapper, "w") as f:
            f.write("#!/usr/bin/env bash\nfor a in \"$@\"; do case $a in fileb://*)\n"
                    f"  cp \"${{a#fileb://}}\" {capture}/\"$(basename \"${{a#fileb://}}\")\";;\n"
                    f"esac; done\nexec {wrapper}-fake \"$@\"\n")
        os.chmod(wrapper, 0o755)
        tools.env.update(TLS_DIR=self.tls, TLS_HOST="shortener.example.com")
        result = tools.run("k8s/base/app/acm-sync.sh")
        self.assertEqual(result.returncode, 0, result.stderr)
        [imp] = [c for c in tools.calls() if c[1:3] == ["acm", "import-certificate"]]
        self.assertIsNone(self.file_arg(imp, "--certificate-arn"))
        self.assertIn("Key=shortener-host,Value=shortener.example.com", imp)
        self.assertEqual(slurp(os.path.join(capture, "leaf.pem")).strip(), self.leaf.strip())
        self.assertEqual(slurp(os.path.join(capture, "chain.pem")).strip(), self.chain.strip())
        self.assertEqual(self.file_arg(imp, "--private-key"), f"fileb://{self.tls}/tls.key")

    def test_unchanged_certificate_is_not_imported_again(self):
        current = os.path.join(self.dir, "current.pem")
        with open(current, "w") as f:
            f.write(self.leaf)
        result, calls = self.sync({
            "aws acm list-certificates": [0, "arn:aws:acm:us-east-1:1:certificate/old\n"],
            "aws acm get-certificate": [0, "@" + current]})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse([c for c in calls if c[1:3] == ["acm", "import-certificate"]])

    def test_renewed_certificate_is_imported_into_the_same_arn(self):
        old = os.path.join(self.dir, "old.pem")
        with open(old, "w") as f:
            f.write(self.leaf)
        self.make_chain("two")  # cert-manager renewed it
        result, calls = self.sync({
            "aws acm list-certificates": [0, "arn:aws:acm:us-east-1:1:certificate/old\n"],
            "aws acm get-certificate": [0, "@" + old],
            "aws acm import-certificate": [0, "arn:aws:acm:us-east-1:1:certificate/old\n"]})
        self.assertEqual(result.returncode, 0, result.stderr)
        [imp] = [c for c in calls if c[1:3] == ["acm", "import-certificate"]]
        self.assertEqual(self.file_arg(imp, "--certificate-arn"),
                         "arn:aws:acm:us-east-1:1:certificate/old")

    def test_no_certificate_yet_is_not_an_error(self):
        os.remove(os.path.join(self.tls, "tls.crt"))
        result, calls = self.sync({})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(calls, [])


if __name__ == "__main__":
    unittest.main()
