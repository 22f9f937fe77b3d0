"""What the deployment tests share: the binary's real command line (parsed from `--help`), the
rendered Kubernetes manifests (`kubectl kustomize`), YAML and Dockerfile readers.

YAML is read with PyYAML: Python's standard library has no YAML parser, and Debian's
python3-yaml is installed with yamllint, which these tests need anyway (tests/deploy/run.sh picks
an interpreter that has it). The binary and the e2e harness come from tests/e2e/harness.py.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import socket
import subprocess
import unittest
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.e2e.harness import BIN, REPO, require_binary, run_cli

KUBECTL = os.environ.get("KUBECTL", "kubectl")
OVERLAYS = ("dev", "prod")
SHORTENER_IMAGE = "shortener"  # the image name in k8s/base; overlays only change its tag


def path(*parts: str) -> str:
    return os.path.join(REPO, *parts)


def read(*parts: str) -> str:
    with open(path(*parts), encoding="utf-8") as f:
        return f.read()


def load_yaml(*parts: str) -> Any:
    return yaml.safe_load(read(*parts))


# --------------------------------------------------------------------------------------------
# The binary's command line


@dataclass(frozen=True)
class Command:
    """One subcommand as `--help` describes it: flag -> environment variable (or None)."""

    name: str
    flags: dict[str, str | None]

    @property
    def env_names(self) -> set[str]:
        return {env for env in self.flags.values() if env}

    def default(self, flag: str) -> str | None:
        return _defaults(self.name).get(flag)


_FLAG_RE = re.compile(r"^\s+(--[a-z0-9-]+)(.*)$")
_ENV_RE = re.compile(r"\(Env:(\w+)\)")
_DEFAULT_RE = re.compile(r"=(\S+?)(?:\s+\(Env:|\s*$)")


def _options(name: str) -> dict[str, tuple[str | None, str | None]]:
    """flag -> (environment variable, default) from the option lines of `--help`."""
    options = {}
    for line in _help(name).splitlines():
        match = _FLAG_RE.match(line)
        if match:
            env, default = _ENV_RE.search(match[2]), _DEFAULT_RE.search(match[2])
            options[match[1]] = (env[1] if env else None, default[1] if default else None)
    return options


@functools.lru_cache(maxsize=None)
def _help(name: str) -> str:
    require_binary()
    result = run_cli([*name.split(), "--help"])
    if result.returncode != 0:
        raise AssertionError(result.describe())
    return result.stdout


@functools.lru_cache(maxsize=None)
def command(name: str) -> Command:
    """`name` is a subcommand path such as "serve" or "keys create"."""
    flags = {flag: env for flag, (env, _) in _options(name).items()}
    if not flags:
        raise AssertionError(f"no options in `shortener {name} --help`")
    return Command(name, flags)


def _defaults(name: str) -> dict[str, str]:
    """flag -> default value, from `TYPE=DEFAULT` in the help text (--listen: 0.0.0.0:8080)."""
    return {flag: default for flag, (_, default) in _options(name).items() if default}


@functools.lru_cache(maxsize=None)
def subcommands() -> set[str]:
    require_binary()
    text = run_cli(["--help"]).stdout
    section = text.split("Subcommands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.strip()}


def check_invocation(test: unittest.TestCase, args: list[str], env: dict[str, str],
                     where: str) -> Command:
    """Asserts that `shortener ARGS` with environment ENV names only what the binary reads:
    the subcommand exists, every --flag is one of its options, every SHORTENER_* variable is
    one it reads. Returns the subcommand."""
    test.assertTrue(args, f"{where}: no command")
    if args[0] not in subcommands():
        test.fail(f"{where}: the binary has no subcommand {args[0]!r}")
    cmd = command(args[0])
    for arg in args[1:]:
        if arg.startswith("--") and arg.split("=", 1)[0] not in cmd.flags:
            test.fail(f"{where}: `shortener {args[0]}` has no option {arg}")
    for name in env:
        if name.startswith("SHORTENER_") and name not in cmd.env_names:
            test.fail(f"{where}: `shortener {args[0]}` does not read {name}")
    return cmd


def setting(cmd: Command, flag: str, args: list[str], env: dict[str, str]) -> str | None:
    """The value the binary uses for FLAG: the command line wins over the environment, which
    wins over the default (CLI11's order)."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    env_name = cmd.flags.get(flag)
    if env_name and env_name in env:
        return env[env_name]
    return cmd.default(flag)


def port_of(listen: str) -> int:
    return int(listen.rsplit(":", 1)[1])


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


# --------------------------------------------------------------------------------------------
# Kubernetes manifests


@functools.lru_cache(maxsize=None)
def render(directory: str) -> tuple[dict, ...]:
    """`kubectl kustomize DIRECTORY` (relative to the repository), parsed."""
    proc = subprocess.run([KUBECTL, "kustomize", path(directory)], capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{proc.stderr}")
    docs = [doc for doc in yaml.safe_load_all(proc.stdout) if doc is not None]
    for doc in docs:
        if "kind" not in doc:
            raise AssertionError(f"kubectl kustomize {directory}: object without kind: {doc}")
    return tuple(docs)


def objects(docs: tuple[dict, ...], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def pod_labels(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"].get("labels", {})


def container_env(container: dict, docs: tuple[dict, ...]) -> dict[str, str]:
    """The variables a container gets: env (values; references as "<ref>") plus every key of
    the ConfigMaps and Secrets named in envFrom, looked up in DOCS."""
    env: dict[str, str] = {}
    config_maps, secrets = objects(docs, "ConfigMap"), objects(docs, "Secret")
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            secret = secrets[source["secretRef"]["name"]]
            env.update(secret.get("stringData", {}))
            env.update({k: "<secret>" for k in secret.get("data", {})})
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", "<ref>")
    return env


def is_shortener_image(image: str) -> bool:
    return image.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1] == SHORTENER_IMAGE


# --------------------------------------------------------------------------------------------
# Dockerfile


@dataclass
class Instruction:
    keyword: str
    args: str
    stage: str


def dockerfile() -> list[Instruction]:
    """Instructions of the Dockerfile (continuation lines joined, comments dropped), each with
    the name of the stage it belongs to."""
    instructions, stage, pending = [], "", ""
    for line in read("Dockerfile").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        pending += " " + stripped.rstrip("\\").strip() if pending else stripped.rstrip("\\").strip()
        if stripped.endswith("\\"):
            continue
        keyword, _, args = pending.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            stage = words[2] if len(words) >= 3 and words[1].upper() == "AS" else words[0]
        instructions.append(Instruction(keyword, args.strip(), stage))
        pending = ""
    return instructions


def dockerfile_env(stage: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in dockerfile():
        if ins.stage == stage and ins.keyword == "ENV":
            for word in shlex.split(ins.args):
                name, _, value = word.partition("=")
                env[name] = value
    return env


# --------------------------------------------------------------------------------------------


def dockerfile_user(stage: str = "runtime") -> int:
    """The numeric user id the image runs as (USER uid:gid of the stage)."""
    users = [ins.args for ins in dockerfile() if ins.stage == stage and ins.keyword == "USER"]
    if not users:
        raise AssertionError(f"no USER in the {stage} stage")
    return int(users[-1].split(":")[0])


def free_port() -> int:
    """A port that was free a moment ago (for programs that cannot report the one they got)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stops a process the test started: SIGTERM, up to 5 s, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
