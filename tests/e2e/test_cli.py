"""Command line: --help everywhere, bad usage exits 2 with one line on stderr, `keys create`,
the first-start admin key, environment variables (flags win) and the default public URL."""

import os
import unittest

import harness

from harness import (
    Instance, create_key, make_temp_dir, new_admin_key, remove_temp_dir,
    require_binary, run_cli, unique,
)


class TempDirTestCase(unittest.TestCase):
    def setUp(self) -> None:
        require_binary()
        self.tmp = make_temp_dir(type(self).__name__)
        self.addCleanup(remove_temp_dir, self.tmp)
        self.addCleanup(remove_temp_dir, self.tmp + ".logs")

    def start(self, **kw) -> Instance:
        kw.setdefault("data_dir", self.tmp)
        instance = Instance(**kw)
        instance.start()
        self.addCleanup(instance.stop, expect_clean=False)
        return instance


class HelpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        require_binary()

    CASES = [
        (["--help"], ["serve", "keys"]),
        (["serve", "--help"], ["--listen", "--data-dir", "--public-url", "--admin-key",
                               "--trust-proxy"]),
        (["keys", "--help"], ["create"]),
        (["keys", "create", "--help"], ["--admin", "--data-dir"]),
    ]

    def test_help_on_every_subcommand(self) -> None:
        for args, mentions in self.CASES:
            with self.subTest(args=args):
                result = run_cli(args)
                self.assertEqual(result.returncode, 0, result.describe())
                text = result.stdout + result.stderr
                for word in mentions:
                    self.assertIn(word, text, result.describe())


class BadUsageTest(TempDirTestCase):
    """Every case: exit code 2, one non-empty line on stderr, and no server started."""

    def serve(self, *extra: str) -> list[str]:
        return ["serve", "--listen", "127.0.0.1:0", "--data-dir", self.tmp, *extra]

    def assertUsageError(self, args: list[str], env: dict | None = None) -> None:
        result = run_cli(args, env=env)
        self.assertEqual(result.returncode, 2, result.describe())
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, "want a one-line error on stderr\n" + result.describe())
        self.assertNotIn("listening on", result.stdout, result.describe())

    def test_unknown_flags(self) -> None:
        for args in (["--no-such-flag"], self.serve("--no-such-flag"),
                     ["keys", "create", "--data-dir", self.tmp, "--no-such-flag"]):
            with self.subTest(args=args):
                self.assertUsageError(args)

    def test_unknown_subcommand(self) -> None:
        self.assertUsageError(["frobnicate"])

    def test_malformed_public_url(self) -> None:
        for url in ("not a url", "http://", "ftp://example.com", "example.com", "http://exa mple.com"):
            with self.subTest(url=url):
                self.assertUsageError(self.serve("--public-url", url))

    def test_malformed_public_url_from_environment(self) -> None:
        self.assertUsageError(self.serve(), env={"SHORTENER_PUBLIC_URL": "not a url"})

    def test_malformed_numbers_and_addresses(self) -> None:
        for extra in (["--anon-rate-limit", "many"], ["--listen", "127.0.0.1:notaport"],
                      ["--trust-proxy", "not-a-cidr"]):
            with self.subTest(extra=extra):
                self.assertUsageError(self.serve(*extra))

    def test_unwritable_data_dir(self) -> None:
        # A regular file as the parent: not creatable even for root (the tests may run as root).
        blocker = os.path.join(self.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("x")
        data_dir = os.path.join(blocker, "data")
        with self.subTest("serve"):
            self.assertUsageError(["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir])
        with self.subTest("keys create"):
            self.assertUsageError(["keys", "create", "--data-dir", data_dir])


class KeysCreateTest(TempDirTestCase):
    def test_prints_key_as_last_line(self) -> None:
        keys = set()
        for args in (["keys", "create", "--data-dir", self.tmp],
                     ["keys", "create", "--admin", "--data-dir", self.tmp]):
            result = run_cli(args)
            self.assertEqual(result.returncode, 0, result.describe())
            lines = result.stdout.rstrip("\n").split("\n")
            self.assertRegex(lines[-1], r"^\S{16,}$", result.describe())
            keys.add(lines[-1])
        self.assertEqual(len(keys), 2, "two calls gave the same key")

    def test_created_keys_work_against_the_server(self) -> None:
        user = create_key(self.tmp)
        admin = create_key(self.tmp, admin=True)
        server = self.start(admin_key=new_admin_key())
        c = server.client(user)
        self.addCleanup(c.close)
        resp = c.create_link("https://example.com/keys", slug=unique("k"))
        self.assertEqual(resp.status, 201, resp.describe())
        slug = resp.json()["slug"]
        self.assertEqual(c.get(f"/api/v1/links/{slug}").status, 200)
        # The --admin key reads another account's link.
        admin_view = c.get(f"/api/v1/links/{slug}", key=admin)
        self.assertEqual(admin_view.status, 200, admin_view.describe())
        self.assertEqual(admin_view.json()["url"], "https://example.com/keys")
        # A key that was never created is refused.
        self.assertEqual(c.get(f"/api/v1/links/{slug}", key="sk_never_issued_0000").status, 401)


class FirstStartAdminKeyTest(TempDirTestCase):
    def admin_lines(self, server: Instance) -> list[str]:
        # The line may be printed after "listening on"; readiness was awaited, so it is out.
        return server.admin_key_lines()

    def test_admin_key_printed_once_and_persisted(self) -> None:
        user = create_key(self.tmp)
        first = self.start(admin_key=None)
        printed = self.admin_lines(first)
        self.assertEqual(len(printed), 1, first.logs())
        admin = printed[0]
        c = first.client(user)
        self.addCleanup(c.close)
        slug = c.create_link("https://example.com/first", slug=unique("f")).json()["slug"]
        self.assertEqual(c.get(f"/api/v1/links/{slug}", key=admin).status, 200,
                         "the printed admin key is not an admin key")
        c.close()
        first.stop()

        second = self.start(admin_key=None)
        self.assertEqual(self.admin_lines(second), [], "admin key printed again on restart")
        self.assertFalse(any("sk_" in line for line in second.stdout_lines), second.logs())
        c2 = second.client(user)
        self.addCleanup(c2.close)
        resp = c2.get(f"/api/v1/links/{slug}", key=admin)
        self.assertEqual(resp.status, 200, "admin key lost on restart\n" + resp.describe())

    def test_no_admin_key_printed_when_given(self) -> None:
        server = self.start(admin_key=new_admin_key())
        self.assertEqual(self.admin_lines(server), [], server.logs())


class EnvironmentTest(TempDirTestCase):
    def test_public_url_from_environment(self) -> None:
        server = self.start(env={"SHORTENER_PUBLIC_URL": "https://env.example"})
        c = server.client()
        self.addCleanup(c.close)
        link = c.create_link("https://example.com/e", headers={"X-Forwarded-For": "192.0.2.10"})
        self.assertEqual(link.status, 201, link.describe())
        body = link.json()
        self.assertEqual(body["short_url"], f"https://env.example/{body['slug']}")

    def test_flag_wins_over_environment(self) -> None:
        server = self.start(env={"SHORTENER_PUBLIC_URL": "https://env.example"},
                            public_url="https://flag.example")
        c = server.client()
        self.addCleanup(c.close)
        link = c.create_link("https://example.com/f", headers={"X-Forwarded-For": "192.0.2.11"})
        self.assertEqual(link.status, 201, link.describe())
        self.assertEqual(link.json()["short_url"], f"https://flag.example/{link.json()['slug']}")

    @unittest.skipIf(harness.BACKEND != "sqlite", "the data dir holds the database on SQLite only")
    def test_admin_key_and_data_dir_from_environment(self) -> None:
        admin = new_admin_key()
        env = {"SHORTENER_ADMIN_KEY": admin, "SHORTENER_DATA_DIR": self.tmp}
        server = self.start(admin_key=None, env=env, pass_data_dir=False)
        self.assertEqual(server.admin_key_lines(), [], server.logs())
        c = server.client(admin)
        self.addCleanup(c.close)
        slug = unique("env")
        self.assertEqual(c.create_link("https://example.com/env", slug=slug).status, 201)
        self.assertTrue(os.listdir(self.tmp), "nothing written to SHORTENER_DATA_DIR")
        c.close()
        server.stop()
        # Same dir through the flag this time: the link is there.
        again = self.start(admin_key=admin)
        c2 = again.client(admin)
        self.addCleanup(c2.close)
        self.assertEqual(c2.get(f"/{slug}").status, 302)

    def test_default_public_url_is_listen_address(self) -> None:
        server = self.start()
        self.assertRegex(server.base_url, r"^http://127\.0\.0\.1:\d+$")
        c = server.client()
        self.addCleanup(c.close)
        link = c.create_link("https://example.com/d", headers={"X-Forwarded-For": "192.0.2.12"})
        self.assertEqual(link.status, 201, link.describe())
        self.assertEqual(link.json()["short_url"],
                         f"http://127.0.0.1:{server.port}/{link.json()['slug']}")

    def test_default_public_url_for_wildcard_listen_is_localhost(self) -> None:
        server = self.start(listen="0.0.0.0:0")
        c = server.client()
        self.addCleanup(c.close)
        link = c.create_link("https://example.com/w", headers={"X-Forwarded-For": "192.0.2.13"})
        self.assertEqual(link.status, 201, link.describe())
        self.assertEqual(link.json()["short_url"],
                         f"http://localhost:{server.port}/{link.json()['slug']}")


if __name__ == "__main__":
    unittest.main()
