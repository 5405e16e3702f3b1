"""Start-up: a program without what it needs says which variable and exits
non-zero, and never shows a secret's value."""

import os
import subprocess
import unittest

import harness


def stack():
    return harness.stack


def start(program, drop=(), **overrides):
    env = stack().program_env()
    for k in drop:
        env.pop(k, None)
    env.update(overrides)
    env.update({"REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health"})
    p = subprocess.run([os.path.join(stack().bin_dir, program)], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


class Startup(unittest.TestCase):
    def assertRefused(self, program, variable, drop=(), **overrides):
        rc, out, err = start(program, drop, **overrides)
        # reconcile's exit status 2 means "could not run" (DESIGN.md).
        self.assertEqual(rc, 2 if program == "reconcile" else 1,
                         (program, variable, out, err))
        self.assertEqual(out, "", "nothing is served")
        self.assertIn(variable, err)
        for k, v in overrides.items():
            if len(v) > 3:
                self.assertNotIn(v, err)
        for k in ("INTERNAL_API_TOKEN", "TOKEN_ENCRYPTION_KEY", "AUTH_GOOGLE_SECRET",
                  "MP_ACCESS_TOKEN", "MP_WEBHOOK_SECRET"):
            self.assertNotIn(stack().env[k], err)

    def test_every_program_needs_the_database(self):
        for p in ("calendar_get", "calendar_post", "oauth_callback", "payment_hook", "reconcile"):
            with self.subTest(program=p):
                self.assertRefused(p, "DATABASE_URL", drop=["DATABASE_URL"])

    def test_what_each_program_needs(self):
        needs = {
            "calendar_get": ["GOOGLE_CALENDAR_ID", "AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET",
                             "TOKEN_ENCRYPTION_KEY", "INTERNAL_API_TOKEN"],
            "calendar_post": ["GOOGLE_CALENDAR_ID", "AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET",
                              "TOKEN_ENCRYPTION_KEY", "INTERNAL_API_TOKEN"],
            "oauth_callback": ["AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET", "TOKEN_ENCRYPTION_KEY",
                               "INTERNAL_API_TOKEN", "AUTH_GOOGLE_REDIRECT_URI", "ADMIN_EMAIL"],
            "payment_hook": ["GOOGLE_CALENDAR_ID", "AUTH_GOOGLE_ID", "AUTH_GOOGLE_SECRET",
                             "TOKEN_ENCRYPTION_KEY", "MP_ACCESS_TOKEN", "MP_WEBHOOK_SECRET"],
        }
        for program, variables in needs.items():
            for v in variables:
                with self.subTest(program=program, variable=v):
                    self.assertRefused(program, v, drop=[v])
                    self.assertRefused(program, v, **{v: ""})

    def test_malformed_values(self):
        self.assertRefused("calendar_get", "TOKEN_ENCRYPTION_KEY",
                           TOKEN_ENCRYPTION_KEY="c2hvcnQga2V5")
        self.assertRefused("calendar_get", "TOKEN_ENCRYPTION_KEY",
                           TOKEN_ENCRYPTION_KEY="not base64 at all!!")
        self.assertRefused("calendar_get", "TIME_ZONE", TIME_ZONE="Mars/Olympus_Mons")
        self.assertRefused("calendar_get", "TIME_ZONE", TIME_ZONE="../../etc/passwd")
        self.assertRefused("calendar_get", "CALENDAR_CACHE_TTL_S", CALENDAR_CACHE_TTL_S="30s")
        self.assertRefused("calendar_get", "CALENDAR_MAX_STALE_S", CALENDAR_MAX_STALE_S="-1")
        self.assertRefused("calendar_get", "BOOKING_HOLD_MIN", BOOKING_HOLD_MIN="0")
        self.assertRefused("calendar_get", "GOOGLE_API_BASE",
                           GOOGLE_API_BASE="http://example.com")
        self.assertRefused("payment_hook", "MP_API_BASE", MP_API_BASE="ftp://127.0.0.1/")
        # Google calls the push URL over https; plain http only on the loopback.
        self.assertRefused("calendar_get", "CALENDAR_PUSH_URL",
                           CALENDAR_PUSH_URL="http://booking.example.com/api/calendar/notifications")
        self.assertRefused("reconcile", "CALENDAR_PUSH_URL",
                           CALENDAR_PUSH_URL="http://127.0.0.1@example.com/")
        self.assertRefused("calendar_get", "DATABASE_URL",
                           DATABASE_URL="postgres://u:topsecretpw@h/db")
        self.assertRefused("calendar_get", "DATABASE_URL",
                           DATABASE_URL="mysql://u:topsecretpw@h:99999/db")

    def test_a_good_configuration_serves(self):
        rc, out, err = start("calendar_get")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines()[0], "Status: 200 OK", out)


if __name__ == "__main__":
    unittest.main()
