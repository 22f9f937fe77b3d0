"""deploy/terraform: parsed with HashiCorp's own HCL parser (hcl2json.js, WebAssembly build of
hashicorp/hcl), then checked statically, since Terraform itself cannot be installed here (not in
Debian): the Grafana provider is declared and configured from declared variables, every
reference resolves, every attribute exists in the provider's schema, and the dashboards it
applies are exactly the JSON files in deploy/grafana/dashboards."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.observability import harness as h

HCL2JSON = os.path.join(h.HERE, "hcl2json.js")

# Arguments of the resources used, from the grafana/grafana provider's schema
# (internal/resources/grafana/resource_{folder,dashboard,data_source}.go), and the attributes
# they export. Extend when a resource or argument is added.
SCHEMA = {
    "grafana_folder": {
        "args": {"title", "uid", "org_id", "parent_folder_uid", "prevent_destroy_if_not_empty"},
        "exports": {"id", "uid", "url", "title"},
    },
    "grafana_dashboard": {
        "args": {"config_json", "folder", "overwrite", "message", "org_id"},
        "exports": {"id", "uid", "url", "dashboard_id", "version", "folder"},
    },
    "grafana_data_source": {
        "args": {"type", "name", "uid", "url", "is_default", "json_data_encoded", "secure_json_data_encoded",
                 "access_mode", "basic_auth_enabled", "basic_auth_username", "database_name", "username",
                 "http_headers", "org_id"},
        "exports": {"id", "uid", "name"},
    },
}
META_ARGS = {"count", "for_each", "depends_on", "lifecycle", "provider"}
PROVIDER_ARGS = {"url", "auth", "org_id", "retries", "ca_cert", "insecure_skip_verify", "http_headers"}


def parse_dir(path: str) -> dict:
    node = h.require_tool("node")
    h.require(os.path.isdir(os.path.join(h.HERE, "node_modules", "@cdktf", "hcl2json")),
              "tests/observability/node_modules missing: run tests/observability/run.sh (npm ci)")
    result = subprocess.run([node, HCL2JSON, path], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"HCL parse failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def blocks(parsed: dict, kind: str) -> dict:
    """All blocks of one kind over every file, e.g. variable -> {name: [body]}."""
    out: dict = {}
    for doc in parsed.values():
        for name, body in doc.get(kind, {}).items():
            out.setdefault(name, []).append(body)
    return out


class TerraformTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.parsed = parse_dir(h.TERRAFORM_DIR)
        cls.text = json.dumps(cls.parsed)
        cls.variables = {n: b[0][0] for n, b in blocks(cls.parsed, "variable").items()}
        cls.locals = {k: v for doc in cls.parsed.values() for block in doc.get("locals", []) for k, v in block.items()}
        cls.resources = blocks(cls.parsed, "resource")  # type -> [{name: [body]}]

    def resolve(self, expr: str) -> str:
        """Evaluates the path expressions this configuration uses: path.module and locals."""
        expr = expr.strip()
        if expr.startswith("${") and expr.endswith("}") and expr.count("${") == 1:
            inner = expr[2:-1]
            if inner.startswith("local."):
                return self.resolve(self.locals[inner[len("local."):]])
        expr = expr.replace("${path.module}", h.TERRAFORM_DIR)
        return re.sub(r"\$\{local\.(\w+)\}", lambda m: self.resolve(self.locals[m.group(1)]), expr)

    def test_files_parse_and_exist(self) -> None:
        self.assertEqual(set(self.parsed), {"main.tf", "outputs.tf", "variables.tf", "versions.tf"})

    def test_parser_rejects_broken_hcl(self) -> None:
        broken = tempfile.mkdtemp(prefix="shortener-obs-hcl-")
        try:
            with open(os.path.join(broken, "x.tf"), "w") as f:
                f.write('resource "grafana_folder" "x" {\n  title = \n}\n')
            with self.assertRaisesRegex(AssertionError, "x.tf:2"):
                parse_dir(broken)
        finally:
            shutil.rmtree(broken)

    def test_provider(self) -> None:
        tf = self.parsed["versions.tf"]["terraform"][0]
        grafana = tf["required_providers"][0]["grafana"]
        self.assertEqual(grafana["source"], "grafana/grafana")
        self.assertTrue(grafana.get("version"), "pin the provider's major version")
        providers = blocks(self.parsed, "provider")
        self.assertEqual(set(providers), {"grafana"})
        config = providers["grafana"][0][0]
        self.assertLessEqual(set(config), PROVIDER_ARGS)
        self.assertEqual(config["url"], "${var.grafana_url}")
        self.assertEqual(config["auth"], "${var.grafana_auth}")
        self.assertIs(self.variables["grafana_auth"].get("sensitive"), True)
        self.assertNotIn("default", self.variables["grafana_auth"], "no default credential")

    def test_variables_declared_used_and_described(self) -> None:
        used = set(re.findall(r"\bvar\.(\w+)", self.text))
        self.assertEqual(used - set(self.variables), set(), "references to undeclared variables")
        self.assertEqual(set(self.variables) - used, set(), "declared but unused variables")
        for name, body in self.variables.items():
            self.assertTrue(body.get("description"), name)
            self.assertTrue(body.get("type"), name)

    def test_references_resolve(self) -> None:
        used_locals = set(re.findall(r"\blocal\.(\w+)", self.text))
        self.assertEqual(used_locals - set(self.locals), set())
        declared = {(t, n) for t, items in self.resources.items() for item in items for n in item}
        for rtype, name, attr in re.findall(r"\b(grafana_\w+)\.(\w+)(?:\[[^\]]*\])?\.(\w+)", self.text):
            self.assertIn((rtype, name), declared, f"{rtype}.{name} is not declared")
            self.assertIn(attr, SCHEMA[rtype]["exports"], f"{rtype} exports no {attr}")

    def test_resource_arguments_exist_in_the_provider_schema(self) -> None:
        for rtype, items in self.resources.items():
            self.assertIn(rtype, SCHEMA, f"{rtype}: add its schema to this test")
            for item in items:
                for name, bodies in item.items():
                    for key in bodies[0]:
                        self.assertIn(key, SCHEMA[rtype]["args"] | META_ARGS, f"{rtype}.{name}: unknown argument {key}")

    def test_dashboards_are_exactly_the_json_files(self) -> None:
        dashboards = self.resources["grafana_dashboard"][0]
        self.assertEqual(len(dashboards), 1, "one for_each resource over the directory")
        body = next(iter(dashboards.values()))[0]
        for_each = body["for_each"]
        lm = re.fullmatch(r"\$\{local\.(\w+)\}", for_each)  # for_each = local.x, local.x = fileset(...)
        expr = self.locals[lm.group(1)] if lm else for_each
        m = re.fullmatch(r'\$\{fileset\((.+?),\s*"([^"]+)"\)\}', expr)
        self.assertIsNotNone(m, f"for_each is not a fileset(): {for_each}")
        arg = m.group(1).strip()
        directory = os.path.normpath(self.resolve(arg[1:-1] if arg.startswith('"') else "${" + arg + "}"))
        self.assertEqual(directory, os.path.normpath(h.DASHBOARDS_DIR))
        matched = sorted(f for f in os.listdir(directory) if fnmatch.fnmatch(f, m.group(2)))
        self.assertEqual(matched, sorted(os.path.basename(f) for f in h.dashboard_files()))
        self.assertGreaterEqual(len(matched), 2)
        # config_json = file("<dir>/${each.value}"): every file it reads exists and is a dashboard.
        fm = re.fullmatch(r'\$\{file\("(.+)"\)\}', body["config_json"])
        self.assertIsNotNone(fm, body["config_json"])
        for name in matched:
            path = self.resolve(fm.group(1).replace("${each.value}", name).replace("${each.key}", name))
            self.assertTrue(os.path.isfile(path), path)
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
            self.assertTrue(d.get("uid") and d.get("title"), path)
        self.assertEqual(body["folder"], "${grafana_folder.shortener.uid}")

    def test_outputs(self) -> None:
        outputs = blocks(self.parsed, "output")
        self.assertIn("dashboard_urls", outputs)
        self.assertIn("folder_uid", outputs)
        for name, body in outputs.items():
            self.assertTrue(body[0][0].get("description"), name)

    def test_no_credentials_committed(self) -> None:
        for name in os.listdir(h.TERRAFORM_DIR):
            self.assertFalse(name.endswith(".tfvars") or name.endswith(".tfstate"), name)
        self.assertNotRegex(self.text, r"glsa_[A-Za-z0-9]{8,}")


if __name__ == "__main__":
    unittest.main()
