"""The stack itself: starting twice is harmless, migrations apply once,
nginx answers in JSON when a program is down, the programs run against the
simulator, and no secret reaches a log."""

import os
import signal
import subprocess
import unittest

import harness

ROOT = harness.ROOT


def stack():
    return harness.stack


class Stack(unittest.TestCase):
    def test_starting_twice_is_harmless(self):
        before = {p: stack().pids(p) for p in ("calendar_get", "calendar_post",
                                                "oauth_callback", "payment_hook")}
        out = stack().script("start").stdout
        self.assertIn("up on http://127.0.0.1:%d" % stack().port, out)
        self.assertIn("simulator", out)
        # The doctor's summary ends it: the database is fine, Google not
        # connected yet (a fresh stack) or connected.
        self.assertRegex(out, r"(?m)^  ok  database  ")
        self.assertRegex(out, r"(?m)^  (ok|fail)  refresh-token  ")
        for p, pids in before.items():
            self.assertEqual(stack().pids(p), pids)
        self.assertEqual(stack().get("/api/health").status, 200)

    def test_migrations_apply_once(self):
        files = sorted(f for f in os.listdir(os.path.join(ROOT, "sql")) if f.endswith(".sql"))
        rows = stack().sql("SELECT version FROM schema_migrations ORDER BY version")
        self.assertEqual([r[0] for r in rows], files)
        out = stack().script("migrate").stdout
        self.assertIn("0 applied, %d already there" % len(files), out)
        self.assertEqual(len(stack().sql("SELECT version FROM schema_migrations")), len(files))
        tables = {r[0] for r in stack().sql("SHOW TABLES")}
        for t in ("users", "oauth_states", "bookings", "payments", "calendar_sync",
                  "calendar_events", "schema_migrations"):
            self.assertIn(t, tables)

    def test_migrate_refuses_a_bad_database_url(self):
        env = stack().program_env()
        env["DATABASE_URL"] = "mysql://booking:hunter2@/"
        p = subprocess.run([os.path.join(stack().bin_dir, "migrate"), os.path.join(ROOT, "sql")],
                           env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("DATABASE_URL must look like", p.stderr)
        self.assertNotIn("hunter2", p.stderr + p.stdout)

    def test_a_program_down_gives_a_json_502_and_comes_back(self):
        for pid in stack().pids("payment_hook"):
            os.kill(pid, signal.SIGTERM)
        stack().wait_for(lambda: not any(_alive(p) for p in stack().pids("payment_hook")))
        r = stack().call("POST", "/api/payments/mercadopago?data.id=1&type=payment", body={})
        self.assertEqual(r.status, 502, r)
        self.assertEqual(r.json()["error"]["code"], "service_unavailable")
        self.assertTrue(r.header("X-Request-Id"))
        stack().script("start")
        r = stack().call("POST", "/api/payments/mercadopago?data.id=1&type=payment", body={})
        self.assertNotEqual(r.status, 502, r)

    def test_programs_point_at_the_simulator(self):
        env = stack().env
        sim = "http://127.0.0.1:%d" % stack().sim_port
        self.assertEqual(env["GOOGLE_API_BASE"], sim)
        self.assertEqual(env["GOOGLE_OAUTH_TOKEN_URL"], sim + "/token")
        self.assertEqual(env["MP_API_BASE"], sim + "/mp")
        self.assertEqual(harness.request(stack().sim_port, "GET", "/_sim/requests").status, 200)

    def test_no_secret_in_any_log(self):
        # Traffic that carries secrets: the internal token, an OAuth
        # callback's code and state in the query.
        stack().call("GET", "/api/calendar/events", headers=stack().internal())
        stack().call("GET", "/oauth/google/callback?code=SECRETCODE123&state=SECRETSTATE456")
        env = stack().env
        secrets = [env[k] for k in ("INTERNAL_API_TOKEN", "TOKEN_ENCRYPTION_KEY",
                                    "AUTH_GOOGLE_SECRET", "MP_ACCESS_TOKEN",
                                    "MP_WEBHOOK_SECRET")]
        secrets.append(env["DATABASE_URL"].split(":")[2].split("@")[0])  # the password
        secrets += ["SECRETCODE123", "SECRETSTATE456"]
        ours = [n for n in stack().logs() if not n.startswith(("simulator", "mariadb"))]
        self.assertIn("calendar_get.log", ours)
        self.assertIn("nginx-access.log", ours)
        for name in ours:
            text = stack().log(name)
            for s in secrets:
                self.assertNotIn(s, text, "a secret in %s" % name)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


if __name__ == "__main__":
    unittest.main()
