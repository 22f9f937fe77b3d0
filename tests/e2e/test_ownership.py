"""Two accounts and the admin: a link is visible and changeable by its owner and the admin only;
everyone else gets 404 (existence is not revealed), and their attempts change nothing."""

import unittest

from harness import ServerTestCase, unique


class OwnershipTest(ServerTestCase):
    user_keys = 2

    def setUp(self) -> None:
        self.alice = self.client(self.keys[0])
        self.bob = self.client(self.keys[1])
        self.admin = self.client(self.admin_key)
        self.anon = self.client()

    def alice_link(self) -> dict:
        return self.create(self.alice, "https://example.com/alice", slug=unique("alice"),
                           title="alice's")

    def test_other_account_gets_404_and_changes_nothing(self) -> None:
        link = self.alice_link()
        path = f"/api/v1/links/{link['slug']}"
        self.assertProblem(self.bob.get(path), 404)
        self.assertProblem(self.bob.patch(path, {"url": "https://evil.example/"}), 404)
        self.assertProblem(self.bob.delete(path), 404)
        # 404 for someone else's link reads exactly like 404 for a missing one.
        missing = self.bob.get("/api/v1/links/does-not-exist-at-all")
        self.assertProblem(missing, 404)
        after = self.alice.get(path)
        self.assertStatus(after, 200)
        self.assertEqual(after.json()["url"], "https://example.com/alice")
        self.assertEqual(self.anon.get(f"/{link['slug']}").header("Location"),
                         "https://example.com/alice")

    def test_other_account_cannot_take_the_slug(self) -> None:
        link = self.alice_link()
        self.assertProblem(self.bob.create_link("https://example.com/bob", slug=link["slug"]), 409)

    def test_owner_can_read_change_delete(self) -> None:
        link = self.alice_link()
        path = f"/api/v1/links/{link['slug']}"
        self.assertStatus(self.alice.get(path), 200)
        self.assertStatus(self.alice.patch(path, {"title": "renamed"}), 200)
        self.assertStatus(self.alice.delete(path), 204)

    def test_admin_can_read_change_delete_any_link(self) -> None:
        link = self.alice_link()
        path = f"/api/v1/links/{link['slug']}"
        got = self.admin.get(path)
        self.assertStatus(got, 200)
        self.assertEqual(got.json()["url"], "https://example.com/alice")
        patched = self.admin.patch(path, {"url": "https://example.com/by-admin"})
        self.assertStatus(patched, 200)
        self.assertEqual(self.anon.get(f"/{link['slug']}").header("Location"),
                         "https://example.com/by-admin")
        self.assertEqual(self.alice.get(path).json()["url"], "https://example.com/by-admin")
        self.assertStatus(self.admin.delete(path), 204)
        self.assertStatus(self.anon.get(f"/{link['slug']}"), 410)

    def test_admin_can_read_anonymous_link_users_cannot(self) -> None:
        anon = self.anon.create_link("https://example.com/anon-owned", key=None,
                                     headers={"X-Forwarded-For": "198.51.100.77"})
        self.assertStatus(anon, 201)
        path = f"/api/v1/links/{anon.json()['slug']}"
        self.assertStatus(self.admin.get(path), 200)
        self.assertProblem(self.alice.get(path), 404)
        self.assertProblem(self.anon.get(path, key=None), 401)

    def test_lists_are_per_account(self) -> None:
        alice_slugs = {self.alice_link()["slug"] for _ in range(2)}
        bob_slug = self.create(self.bob, "https://example.com/bob-list")["slug"]
        admin_slug = self.create(self.admin, "https://example.com/admin-list")["slug"]

        def listed(client) -> set[str]:
            resp = client.get("/api/v1/links?limit=100")
            self.assertStatus(resp, 200)
            return {l["slug"] for l in resp.json()["links"]}

        alice, bob, admin = listed(self.alice), listed(self.bob), listed(self.admin)
        self.assertTrue(alice_slugs <= alice)
        self.assertNotIn(bob_slug, alice)
        self.assertIn(bob_slug, bob)
        self.assertFalse(alice_slugs & bob)
        self.assertIn(admin_slug, admin)
        self.assertFalse((alice_slugs | {bob_slug}) & admin, "admin's list shows others' links")

    def test_unknown_key_is_401_everywhere(self) -> None:
        link = self.alice_link()
        path = f"/api/v1/links/{link['slug']}"
        stranger = self.client("sk_unknown_stranger_key_42")
        self.assertProblem(stranger.get(path), 401)
        self.assertProblem(stranger.patch(path, {"title": "x"}), 401)
        self.assertProblem(stranger.delete(path), 401)
        self.assertProblem(stranger.get("/api/v1/links"), 401)
        self.assertStatus(self.alice.get(path), 200)


if __name__ == "__main__":
    unittest.main()
