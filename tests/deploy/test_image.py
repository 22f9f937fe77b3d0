"""The Dockerfile, checked without a Docker engine (none runs here): its stages, user, health
check and every COPY source; then the runtime stage's layout for real: deploy/docker/
stage-install.sh lays the install tree out as the build stage does, and the binary is started
from that tree with exactly the image's ENV, ENTRYPOINT and CMD (paths under /opt/shortener and
the data dir mapped into a temporary directory), and the HEALTHCHECK command is run against it.
What only a real `docker build` shows (apt in the slim stage, the build stage's scripts in a
clean Debian) is checked by deploy/docker/smoke-test.sh in .github/workflows/pr-check.yml."""

from __future__ import annotations

import fnmatch
import glob
import http.client
import json
import os
import re
import shlex
import subprocess
import tempfile
import time
import unittest

from tests.deploy import support
from tests.e2e.harness import LISTENING_RE, remove_temp_dir

INSTALL_PREFIX = "/opt/shortener"


def instructions(keyword: str, stage: str | None = None):
    return [i for i in support.dockerfile() if i.keyword == keyword
            and (stage is None or i.stage == stage)]


def dockerignore() -> list[str]:
    lines = support.read(".dockerignore").splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(source: str) -> bool:
    parts = source.strip("./").split("/")
    for pattern in dockerignore():
        pattern = pattern.removeprefix("**/")
        for i in range(len(parts)):
            prefix = "/".join(parts[: i + 1])
            if fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(parts[i], pattern):
                return True
    return False


class DockerfileTest(unittest.TestCase):
    def test_stages(self):
        froms = instructions("FROM")
        self.assertEqual([f.stage for f in froms], ["build", "runtime"])
        self.assertRegex(froms[0].args, r"bookworm|debian:12")
        self.assertTrue(froms[1].args.startswith("debian:12-slim "), froms[1].args)

    def test_runs_as_a_non_root_user_with_a_health_check(self):
        self.assertGreater(support.dockerfile_user(), 0)
        health = instructions("HEALTHCHECK", "runtime")
        self.assertEqual(len(health), 1)
        self.assertIn("/healthz", health[0].args)
        run = " ".join(i.args for i in instructions("RUN", "runtime"))
        self.assertIn(f"--uid {support.dockerfile_user()}", run)
        data_dir = support.dockerfile_env("runtime")["SHORTENER_DATA_DIR"]
        self.assertIn(f"-o {support.dockerfile_user()}", run)
        self.assertIn(data_dir, run, "the data dir is created for the user")

    def test_every_copy_source_is_in_the_build_context(self):
        for ins in instructions("COPY"):
            words = shlex.split(ins.args)
            if any(w.startswith("--from=") for w in words):
                continue
            for source in [w for w in words if not w.startswith("--")][:-1]:
                with self.subTest(source):
                    if source != ".":
                        self.assertTrue(glob.glob(support.path(source)), f"COPY {source}: missing")
                        self.assertFalse(ignored(source), f"COPY {source}: .dockerignore drops it")

    def test_scripts_it_runs_exist(self):
        for ins in instructions("RUN", "build"):
            for script in re.findall(r"\./((?:scripts|deploy)/\S+\.sh)", ins.args):
                with self.subTest(script):
                    self.assertTrue(os.access(support.path(script), os.X_OK))

    def test_environment_and_ports_are_the_binary_s(self):
        every_env = set().union(*(support.command(c).env_names for c in support.subcommands()
                                  if c not in ("keys", "dead-letters")))
        for name in support.dockerfile_env("runtime"):
            with self.subTest(name):
                self.assertIn(name, every_env)
        exposed = {int(p) for i in instructions("EXPOSE", "runtime") for p in i.args.split()}
        self.assertEqual(exposed, {support.port_of(support.command("serve").default("--listen")),
                                   support.port_of(support.command("worker").default(
                                       "--metrics-listen"))})
        cmd = json.loads(instructions("CMD", "runtime")[0].args)
        self.assertIn(cmd[0], support.subcommands())
        entrypoint = json.loads(instructions("ENTRYPOINT", "runtime")[0].args)
        self.assertTrue(entrypoint[0].startswith(INSTALL_PREFIX + "/"))


class RuntimeLayoutTest(unittest.TestCase):
    """The runtime stage, emulated on the installed tree that stage-install.sh produces."""

    @classmethod
    def setUpClass(cls):
        support.require_binary()
        cls.out = tempfile.mkdtemp(prefix="shortener-deploy-image-")
        cls.addClassCleanup(remove_temp_dir, cls.out)
        subprocess.run([support.path("deploy/docker/stage-install.sh"), cls.out], check=True,
                       timeout=300, stdout=subprocess.DEVNULL)
        cls.data_dir = os.path.join(cls.out, "var-lib-shortener")
        os.makedirs(cls.data_dir)

    def mapped(self, value: str) -> str:
        """An image path on this machine: the staged tree, or the temporary data dir."""
        env = support.dockerfile_env("runtime")
        value = value.replace(env["SHORTENER_DATA_DIR"], self.data_dir)
        return value.replace(INSTALL_PREFIX, os.path.join(self.out, INSTALL_PREFIX.lstrip("/")))

    def test_copy_from_build_sources_are_produced(self):
        for ins in instructions("COPY", "runtime"):
            words = shlex.split(ins.args)
            if "--from=build" in words:
                source = [w for w in words if not w.startswith("--")][0]
                with self.subTest(source):
                    self.assertTrue(source.startswith("/out/"))
                    self.assertTrue(os.path.exists(os.path.join(self.out, source[len("/out/"):])))

    def test_runtime_packages_are_debian_packages(self):
        with open(os.path.join(self.out, "runtime-packages.txt")) as f:
            packages = f.read().split()
        self.assertIn("libpq5", packages)
        for package in packages:
            with self.subTest(package):
                status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                        capture_output=True, text=True, check=False).stdout
                self.assertIn("install ok installed", status)

    def test_the_image_command_serves_with_the_image_environment(self):
        env = {k: self.mapped(v) for k, v in support.dockerfile_env("runtime").items()}
        port = support.free_port()
        env["SHORTENER_LISTEN"] = f"127.0.0.1:{port}"
        entrypoint = json.loads(instructions("ENTRYPOINT", "runtime")[0].args)
        cmd = json.loads(instructions("CMD", "runtime")[0].args)
        workdir = self.mapped(instructions("WORKDIR", "runtime")[-1].args)
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("SHORTENER_")}
        log = open(os.path.join(self.out, "serve.log"), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen([self.mapped(entrypoint[0]), *entrypoint[1:], *cmd],
                                cwd=workdir, env={**child_env, **env}, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
        self.addCleanup(support.stop, proc)
        self.wait_listening(proc, log)

        status, body = self.get(port, "/readyz")
        self.assertEqual(status, 200, body)
        status, body = self.get(port, "/")
        self.assertEqual(status, 200)
        self.assertIn("<!doctype html", body.lower(), "the web app comes from SHORTENER_WEB_DIR")
        status, body = self.get(port, "/metrics")
        geo = re.findall(r'shortener_geoip_build_timestamp_seconds\{path="([^"]+)"', body)
        self.assertTrue(geo)
        for db in geo:
            self.assertTrue(db.startswith(env["SHORTENER_DATA_FILES"]), db)

        health = instructions("HEALTHCHECK", "runtime")[0].args
        command = health[health.index("CMD ") + 4:]
        result = subprocess.run(["sh", "-c", command], env={**child_env, **env},
                                capture_output=True, text=True, timeout=10, check=False)
        self.assertEqual(result.returncode, 0, f"HEALTHCHECK failed: {result.stderr}")
        env["SHORTENER_LISTEN"] = f"127.0.0.1:{support.free_port()}"
        result = subprocess.run(["sh", "-c", command], env={**child_env, **env},
                                capture_output=True, text=True, timeout=10, check=False)
        self.assertNotEqual(result.returncode, 0, "HEALTHCHECK passes with nothing listening")

    def test_other_roles_start_from_the_tree(self):
        binary = self.mapped(json.loads(instructions("ENTRYPOINT", "runtime")[0].args)[0])
        for role in ("worker", "migrate"):
            with self.subTest(role):
                result = subprocess.run([binary, role, "--help"], capture_output=True, text=True,
                                        timeout=20, check=False)
                self.assertEqual(result.returncode, 0, result.stderr)

    def wait_listening(self, proc: subprocess.Popen, log) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            log.seek(0)
            if any(LISTENING_RE.match(line.strip()) for line in log):
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        log.seek(0)
        self.fail(f"the image command did not start (exit {proc.poll()}):\n{log.read()[-3000:]}")

    @staticmethod
    def get(port: int, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", errors="replace")
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
