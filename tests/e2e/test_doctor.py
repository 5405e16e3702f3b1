"""cgi-bin/doctor end to end: run with the programs' environment against the
stack's database and the simulator, as an admin would.

What is checked (DESIGN.md "The doctor"): each check is driven to warn or
fail by the failure Google, MercadoPago or the stack really gives, with
what to do in its message, and back to ok; the exit status (0 all ok, 1
warnings only, 2 a failure); one text line a check,
`ok|warn|fail  <check>  <message>`, and `--json` saying the same; that
the doctor writes nothing (the database is the same before and after, no
write reaches Google or MercadoPago, the token it renews is not stored);
and that no secret appears in what it prints.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

import harness
from test_booking_write import CAL, at, klass, post
from test_oauth import (ADMIN, START, admin_row, clean_up, connect,
                        mysqldump, reset_all, sim_fault, sim_google, sim_log,
                        sim_tokens)

CHECKS = ["configuration", "database", "migrations", "refresh-token", "grant",
          "calendar-api", "api-key", "meet", "time-zone", "clock",
          "mercadopago", "reconcile"]
LINE = re.compile(r"^(ok|warn|fail)  ([a-z-]+)  (\S.*)$")
SQL_DIR = os.path.join(harness.ROOT, "sql")


def stack():
    return harness.stack


def stable_admin():
    """The admin's users row without the columns that count seconds."""
    row = admin_row()
    return {k: row[k] for k in ("refresh", "access", "status", "lastError", "scopes",
                                "sub", "email")}


def secrets_of(env):
    """Every secret the doctor could print: the stack's and Google's."""
    out = [env[k] for k in ("AUTH_GOOGLE_SECRET", "INTERNAL_API_TOKEN",
                            "MP_ACCESS_TOKEN", "MP_WEBHOOK_SECRET",
                            "TOKEN_ENCRYPTION_KEY", "CALENDAR_API_KEY")
           if env.get(k)]
    url = urllib.parse.urlsplit(env["DATABASE_URL"])
    if url.password:
        out += [url.password, urllib.parse.unquote(url.password)]
    access, refresh = sim_tokens()
    out += [t["token"] for t in access + refresh if t.get("token")]
    return out


class Run:
    """One run of the doctor, text and JSON."""

    def __init__(self, rc, text, checks, stderr):
        self.rc = rc
        self.text = text
        self.checks = checks      # name -> (status, message)
        self.stderr = stderr

    def status(self, name):
        return self.checks[name][0]

    def message(self, name):
        return self.checks[name][1]


class DoctorBase(unittest.TestCase):
    def setUp(self):
        reset_all()
        stack().sql("DELETE FROM bookings; DELETE FROM payments")
        connect()

    def tearDown(self):
        clean_up()
        stack().sql("DELETE FROM bookings; DELETE FROM payments")

    def doctor(self, *args, env=None, drop=(), sql=SQL_DIR):
        """Runs the doctor twice (text, then --json) with the programs'
        environment changed by env and without the variables in drop;
        checks the two agree, the line format, and that no secret shows.
        """
        e = stack().program_env()
        e.update(env or {})
        for k in drop:
            e.pop(k, None)
        argv = [os.path.join(stack().bin_dir, "doctor")] + list(args)
        if sql is not None:
            argv += ["--sql", sql]
        runs = []
        for extra in ([], ["--json"]):
            p = subprocess.run(argv + extra, env=e, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
            runs.append(p)
        text, js = runs
        self.assertEqual(text.returncode, js.returncode, (text.stdout, js.stdout))
        lines = text.stdout.splitlines()
        self.assertTrue(text.stdout.endswith("\n"), text.stdout)
        checks = {}
        for ln in lines:
            m = LINE.match(ln)
            self.assertIsNotNone(m, "not a check line: %r" % ln)
            checks[m.group(2)] = (m.group(1), m.group(3))
        self.assertEqual([LINE.match(ln).group(2) for ln in lines], CHECKS)
        doc = json.loads(js.stdout)
        self.assertEqual(list(doc), ["checks"])
        # Two runs: the clock's offset may be a second apart between them
        # (whole seconds of two Date headers); everything else is the same.
        def same(name, message):
            return re.sub(r"\d+ s\b", "N s", message) if name == "clock" else message
        self.assertEqual([(c["name"], c["status"], same(c["name"], c["message"]))
                          for c in doc["checks"]],
                         [(n, checks[n][0], same(n, checks[n][1])) for n in CHECKS])
        for c in doc["checks"]:
            self.assertEqual(set(c), {"name", "status", "message"})
        statuses = {s for s, _ in checks.values()}
        want = 2 if "fail" in statuses else 1 if "warn" in statuses else 0
        self.assertEqual(text.returncode, want, text.stdout)
        everything = text.stdout + text.stderr + js.stdout + js.stderr
        for secret in secrets_of(e) + secrets_of(stack().env):
            self.assertNotIn(secret, everything, "a secret was printed")
        return Run(text.returncode, text.stdout, checks, text.stderr)

    def assertAllOk(self, run):
        bad = {k: v for k, v in run.checks.items() if v[0] != "ok"}
        self.assertEqual(bad, {}, run.text)
        self.assertEqual(run.rc, 0)

    def assertCheck(self, run, name, status, *needles):
        self.assertEqual(run.status(name), status, run.text)
        for n in needles:
            self.assertIn(n, run.message(name), run.text)


class DoctorOk(DoctorBase):
    def test_doctor_all_ok_reads_only_and_prints_no_secret(self):
        before_row = stable_admin()
        before = mysqldump(True)
        seq = sim_log()[-1]["seq"] if sim_log() else 0
        run = self.doctor()
        self.assertAllOk(run)
        self.assertIn("all ", run.message("migrations"))
        self.assertIn(SQL_DIR, run.message("migrations"))
        self.assertIn(ADMIN, run.message("refresh-token"))
        self.assertIn("123456789", run.message("mercadopago"))
        self.assertIn("America/Argentina/Buenos_Aires", run.message("time-zone"))
        self.assertEqual(run.stderr, "")
        # Nothing written: not the database (the renewed access token is
        # not stored), not Google, not MercadoPago.
        strip = lambda dump: [ln for ln in dump.splitlines() if not ln.startswith(b"--")]
        self.assertEqual(strip(mysqldump(True)), strip(before))
        self.assertEqual(stable_admin(), before_row)
        calls = [c for c in sim_log(since=seq) if c["seq"] > seq]
        self.assertTrue(calls)
        for c in calls:
            if c["path"] == "/token":
                self.assertIn("grant_type=refresh_token", c["body"])
            else:
                self.assertEqual(c["method"], "GET", c["path"])
        paths = {c["path"] for c in calls}
        self.assertIn("/mp/users/me", paths)
        self.assertIn("/calendar/v3/calendars/%s/events" % CAL, paths)
        # The key and the token each read the calendar once a run (the
        # text run and the JSON run), one try each.
        lists = [c for c in calls if c["path"].endswith("/events")]
        self.assertEqual(len(lists), 4, lists)
        self.assertEqual(len([c for c in lists if "x-goog-api-key" in c["headers"]]), 2)
        self.assertEqual({c["query"].get("maxResults", [""])[0] for c in lists}, {"1"})


class DoctorConfiguration(DoctorBase):
    def test_doctor_configuration_names_missing_variables(self):
        run = self.doctor(drop=("MP_ACCESS_TOKEN", "AUTH_GOOGLE_SECRET"))
        self.assertCheck(run, "configuration", "fail", "MP_ACCESS_TOKEN is not set",
                         "AUTH_GOOGLE_SECRET is not set")
        self.assertCheck(run, "mercadopago", "fail", "MP_ACCESS_TOKEN is not set")
        self.assertCheck(run, "grant", "warn", "not checked")
        self.assertEqual(run.rc, 2)
        run = self.doctor(env={"TOKEN_ENCRYPTION_KEY": "c2hvcnQ="})
        self.assertCheck(run, "configuration", "fail", "TOKEN_ENCRYPTION_KEY must be 32 bytes")
        self.assertAllOk(self.doctor())

    def test_doctor_database_down(self):
        url = urllib.parse.urlsplit(stack().env["DATABASE_URL"])
        down = "mysql://%s:%s@127.0.0.1:%d/booking" % (url.username, url.password,
                                                       harness.free_port())
        run = self.doctor(env={"DATABASE_URL": down})
        self.assertCheck(run, "database", "fail", "does not answer", "MariaDB")
        for name in ("migrations", "refresh-token", "meet", "reconcile"):
            self.assertCheck(run, name, "warn", "not checked")
        self.assertCheck(run, "mercadopago", "ok")
        self.assertCheck(run, "api-key", "ok")
        self.assertEqual(run.rc, 2)
        self.assertAllOk(self.doctor())


class DoctorMigrations(DoctorBase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="doctor-sql-")
        self.dir = os.path.join(self.tmp, "sql")
        shutil.copytree(SQL_DIR, self.dir)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def test_doctor_migration_not_applied(self):
        with open(os.path.join(self.dir, "099_doctor_probe.sql"), "w") as f:
            f.write("CREATE TABLE doctor_probe (id INT PRIMARY KEY) ENGINE=InnoDB;\n")
        run = self.doctor(sql=self.dir)
        self.assertCheck(run, "migrations", "fail", "099_doctor_probe.sql", "not applied",
                         "migrate")
        self.assertEqual(run.rc, 2)
        # It was not applied by the doctor either.
        self.assertEqual(stack().sql("SHOW TABLES LIKE 'doctor_probe'"), [])
        os.remove(os.path.join(self.dir, "099_doctor_probe.sql"))
        self.assertAllOk(self.doctor(sql=self.dir))

    def test_doctor_migration_changed_after_applied(self):
        first = sorted(n for n in os.listdir(self.dir) if n.endswith(".sql"))[0]
        with open(os.path.join(self.dir, first), "a") as f:
            f.write("-- edited after it was applied\n")
        run = self.doctor(sql=self.dir)
        self.assertCheck(run, "migrations", "warn", first, "changed")
        self.assertEqual(run.rc, 1)
        self.assertAllOk(self.doctor())

    def test_doctor_sql_folder_missing_and_default(self):
        run = self.doctor(sql=os.path.join(self.tmp, "nowhere"))
        self.assertCheck(run, "migrations", "fail", "--sql DIR")
        # Without --sql: the sql/ folder beside the program's own folder.
        run = self.doctor(sql=None)
        beside = os.path.join(stack().bin_dir, "..", "sql")
        if os.path.realpath(beside) == os.path.realpath(SQL_DIR):
            self.assertCheck(run, "migrations", "ok", beside)
        else:
            self.assertCheck(run, "migrations", "fail", beside, "--sql DIR")


class DoctorGoogleAccount(DoctorBase):
    def test_doctor_refresh_token_not_found(self):
        stack().sql("DELETE FROM users")
        run = self.doctor()
        self.assertCheck(run, "refresh-token", "fail", "Refresh token not found", START)
        for name in ("grant", "calendar-api"):
            self.assertCheck(run, name, "warn", "not checked")
        self.assertCheck(run, "api-key", "ok")
        self.assertCheck(run, "time-zone", "ok")
        self.assertEqual(run.rc, 2)
        connect()
        self.assertAllOk(self.doctor())

    def test_doctor_grant_revoked(self):
        stack().sim("POST", "/_sim/tokens/revoke", {"access_tokens": False})
        before = stable_admin()
        run = self.doctor()
        self.assertCheck(run, "grant", "fail", "invalid_grant", "sign in again", START)
        self.assertCheck(run, "calendar-api", "warn", "not checked")
        self.assertEqual(run.rc, 2)
        # Not recorded: the doctor reads only.
        self.assertEqual(stable_admin(), before)
        self.assertEqual(before["status"], "ok")
        connect()
        self.assertAllOk(self.doctor())

    def test_doctor_grant_marked_broken(self):
        stack().sql("UPDATE users SET googleTokenStatus = 'broken', googleLastRefreshError = "
                    "'invalid_grant: Token has been expired or revoked.'")
        seq = sim_log()[-1]["seq"]
        run = self.doctor()
        self.assertCheck(run, "grant", "fail", "marked broken", "Token has been expired",
                         START)
        self.assertEqual([c for c in sim_log(r"^/token$", since=seq) if c["seq"] > seq], [])
        connect()
        self.assertAllOk(self.doctor())

    def test_doctor_oauth_client_secret_wrong(self):
        sim_google({"client_secret": "rotated-in-the-console"})
        run = self.doctor()
        self.assertCheck(run, "grant", "fail", "invalid_client", "AUTH_GOOGLE_SECRET")
        self.assertNotIn("rotated-in-the-console", run.text)
        sim_google({"client_secret": stack().env["AUTH_GOOGLE_SECRET"]})
        self.assertAllOk(self.doctor())

    def test_doctor_token_endpoint_down_is_a_warning(self):
        sim_fault({"path": "^/token$", "status": 503, "times": -1})
        run = self.doctor()
        self.assertCheck(run, "grant", "warn", "not checked", "503")
        stack().sim("DELETE", "/_sim/faults")
        self.assertAllOk(self.doctor())


class DoctorCalendar(DoctorBase):
    def test_doctor_calendar_api_not_enabled(self):
        sim_google({"calendar_api_disabled": True, "project_number": "336992806363"})
        run = self.doctor()
        self.assertCheck(run, "calendar-api", "fail", "not enabled", "project 336992806363",
                         "Cloud Console",
                         "calendar-json.googleapis.com/overview?project=336992806363")
        self.assertCheck(run, "api-key", "warn", "not enabled", "project 336992806363",
                         "admin's token")
        self.assertCheck(run, "time-zone", "warn", "not checked")
        self.assertEqual(run.rc, 2)
        # Only the OAuth client's project: the key still reads.
        sim_google({"calendar_api_disabled": "oauth"})
        run = self.doctor()
        self.assertCheck(run, "calendar-api", "fail", "project 336992806363")
        self.assertCheck(run, "api-key", "ok")
        self.assertCheck(run, "time-zone", "ok")
        sim_google({"calendar_api_disabled": False})
        self.assertAllOk(self.doctor())

    def test_doctor_calendar_not_found(self):
        run = self.doctor(env={"GOOGLE_CALENDAR_ID": "nobody@group.calendar.google.com"})
        self.assertCheck(run, "calendar-api", "fail", "GOOGLE_CALENDAR_ID")
        self.assertCheck(run, "api-key", "warn", "not public")
        self.assertAllOk(self.doctor())

    def test_doctor_api_key_missing_wrong_or_private(self):
        run = self.doctor(drop=("CALENDAR_API_KEY",))
        self.assertCheck(run, "api-key", "warn", "CALENDAR_API_KEY is not set",
                         "admin's token")
        self.assertEqual(run.rc, 1)
        run = self.doctor(env={"CALENDAR_API_KEY": "AIzaWrongKeyForTheDoctor"})
        self.assertCheck(run, "api-key", "warn", "cannot read", "admin's token",
                         "not valid")
        self.assertNotIn("AIzaWrongKeyForTheDoctor", run.text)
        self.assertEqual(run.rc, 1)
        stack().sim("POST", "/_sim/calendars/" + urllib.parse.quote(CAL, safe=""),
                    {"public": False})
        run = self.doctor()
        self.assertCheck(run, "api-key", "warn", "not public")
        self.assertCheck(run, "calendar-api", "ok")
        self.assertEqual(run.rc, 1)
        stack().sim("POST", "/_sim/calendars/" + urllib.parse.quote(CAL, safe=""),
                    {"public": True})
        self.assertAllOk(self.doctor())

    def test_doctor_calendar_time_zone_differs(self):
        path = "/_sim/calendars/" + urllib.parse.quote(CAL, safe="")
        stack().sim("POST", path, {"timeZone": "Europe/Madrid"})
        run = self.doctor()
        self.assertCheck(run, "time-zone", "warn", "Europe/Madrid",
                         "America/Argentina/Buenos_Aires", "wrong zone")
        self.assertEqual(run.rc, 1)
        run = self.doctor(env={"TIME_ZONE": "Europe/Madrid"})
        self.assertCheck(run, "time-zone", "ok", "Europe/Madrid")
        stack().sim("POST", path, {"timeZone": "America/Argentina/Buenos_Aires"})
        self.assertAllOk(self.doctor())

    def test_doctor_clock_off(self):
        sim_google({"clock_skew_s": -300})
        run = self.doctor()
        self.assertCheck(run, "clock", "fail", "ahead of Google's", "NTP")
        self.assertRegex(run.message("clock"), r"\b(29[89]|30[012]) s ahead")
        self.assertEqual(run.rc, 2)
        sim_google({"clock_skew_s": 300})
        self.assertCheck(self.doctor(), "clock", "fail", "behind Google's")
        sim_google({"clock_skew_s": 30})
        self.assertCheck(self.doctor(), "clock", "ok")
        sim_google({"clock_skew_s": 0})
        self.assertAllOk(self.doctor())


class DoctorBookings(DoctorBase):
    def book(self, days):
        r = post(klass(at(days, 10)))
        self.assertIn(r.status, (201, 202), r)
        return r.json()["booking"]["id"]

    def test_doctor_meet_conference_failed(self):
        sim_google({"conference_failure": True})
        bid = self.book(3)
        self.assertIsNone(stack().sql("SELECT meetLink FROM bookings WHERE id = '%s'"
                                      % bid)[0][0])
        # Just booked: Google may still be at it.
        self.assertCheck(self.doctor(), "meet", "ok")
        stack().sql("UPDATE bookings SET createdAt = createdAt - INTERVAL 5 MINUTE")
        run = self.doctor()
        self.assertCheck(run, "meet", "fail", bid, "conference request failed",
                         "Google Meet must be on")
        self.assertEqual(run.rc, 2)
        # Without a working grant Google cannot be asked why.
        stack().sim("POST", "/_sim/tokens/revoke", {"access_tokens": False})
        self.assertCheck(self.doctor(), "meet", "warn", bid, "Google was not asked")
        connect()
        sim_google({"conference_failure": False})
        stack().sql("DELETE FROM bookings")
        self.assertAllOk(self.doctor())

    def test_doctor_meet_still_pending(self):
        sim_google({"conference_pending_gets": 1000})
        bid = self.book(4)
        stack().sql("UPDATE bookings SET createdAt = createdAt - INTERVAL 5 MINUTE, "
                    "nextAttemptAt = UTC_TIMESTAMP() + INTERVAL 1 HOUR")
        run = self.doctor()
        self.assertCheck(run, "meet", "warn", bid, "still preparing")
        self.assertEqual(run.rc, 1)
        stack().sql("UPDATE bookings SET meetLink = 'https://meet.google.com/abc-defg-hij'")
        self.assertAllOk(self.doctor())

    def test_doctor_reconcile_timer_not_running(self):
        sim_fault({"method": "POST", "path": r"/events$", "status": 503, "times": -1})
        bid = self.book(5)
        self.assertEqual(stack().sql("SELECT status FROM bookings WHERE id = '%s'" % bid),
                         [["scheduling"]])
        # Due a few minutes ago: a timer that runs would have taken it.
        stack().sql("UPDATE bookings SET nextAttemptAt = UTC_TIMESTAMP() - INTERVAL 3 MINUTE")
        self.assertCheck(self.doctor(), "reconcile", "ok")
        stack().sql("UPDATE bookings SET nextAttemptAt = UTC_TIMESTAMP() - INTERVAL 11 MINUTE")
        run = self.doctor()
        self.assertCheck(run, "reconcile", "warn", bid, "11 min", "timer")
        self.assertEqual(run.rc, 1)
        # The timer runs again: reconcile finishes it.
        stack().sim("DELETE", "/_sim/faults")
        p = subprocess.run([os.path.join(stack().bin_dir, "reconcile")],
                           env=stack().program_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertAllOk(self.doctor())


class DoctorMercadoPago(DoctorBase):
    def test_doctor_mercadopago_token_refused(self):
        stack().sim("POST", "/_sim/mp", {"access_token": "APP_USR-rotated"})
        run = self.doctor()
        self.assertCheck(run, "mercadopago", "fail", "refused MP_ACCESS_TOKEN", "401",
                         "Access Token")
        self.assertEqual(run.rc, 2)
        stack().sim("POST", "/_sim/mp", {"access_token": stack().env["MP_ACCESS_TOKEN"]})
        self.assertAllOk(self.doctor())

    def test_doctor_mercadopago_down_is_a_warning(self):
        sim_fault({"path": "^/mp/users/me$", "status": 503, "times": -1})
        seq = sim_log()[-1]["seq"]
        run = self.doctor()
        self.assertCheck(run, "mercadopago", "warn", "not checked", "503")
        self.assertEqual(run.rc, 1)
        # One try each run (text, then JSON): no retry.
        tries = [c for c in sim_log("^/mp/users/me$", since=seq) if c["seq"] > seq]
        self.assertEqual(len(tries), 2)
        stack().sim("DELETE", "/_sim/faults")
        self.assertAllOk(self.doctor())
