"""GET /api/health through nginx, from the database; a database that goes
away and comes back."""

import re
import unittest

import harness


def stack():
    return harness.stack


class Health(unittest.TestCase):
    def setUp(self):
        stack().sql("DELETE FROM users")
        stack().forget_cache()

    def test_answers_from_the_database(self):
        r = stack().get("/api/health")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertRegex(r.header("X-Request-Id"), r"^[0-9a-f]{32}$")
        self.assertEqual(r.json(), {"status": "degraded", "database": "ok",
                                    "calendarConnected": False})

    def test_connected_calendar_is_read_from_users(self):
        stack().sql("INSERT INTO users (email, role, googleRefreshToken, googleTokenStatus) "
                    "VALUES ('admin@school.test', 'admin', x'01020304', 'ok')")
        self.assertEqual(stack().get("/api/health").json(),
                         {"status": "ok", "database": "ok", "calendarConnected": True})
        # A revoked grant (invalid_grant) is not connected.
        stack().sql("UPDATE users SET googleTokenStatus = 'broken'")
        self.assertEqual(stack().get("/api/health").json()["calendarConnected"], False)

    def test_stale_availability_is_degraded(self):
        stack().sql("INSERT INTO users (email, role, googleRefreshToken, googleTokenStatus) "
                    "VALUES ('admin@school.test', 'admin', x'01', 'ok')")
        stack().sql("INSERT INTO calendar_sync (calendarId, lastSuccessAt, lastErrorAt) VALUES "
                    "('school@group.calendar.google.com', UTC_TIMESTAMP() - INTERVAL 5 MINUTE, "
                    "UTC_TIMESTAMP())")
        r = stack().get("/api/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "degraded", "database": "ok",
                                    "calendarConnected": True})
        stack().sql("UPDATE calendar_sync SET lastSuccessAt = UTC_TIMESTAMP() + INTERVAL 1 SECOND")
        self.assertEqual(stack().get("/api/health").json()["status"], "ok")

    def test_head_has_no_body(self):
        get = stack().get("/api/health")
        head = stack().call("HEAD", "/api/health")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.header("Content-Length"), get.header("Content-Length"))

    def test_request_id_reaches_the_log(self):
        r = stack().get("/api/health")
        rid = r.header("X-Request-Id")
        log = stack().log("calendar_get.log")
        self.assertRegex(log, r"calendar_get\[\d+\] req=%s GET /api/health 200 \d+ms upstream=0"
                         % re.escape(rid))

    def test_database_down_then_back_without_restart(self):
        pids = stack().pids("calendar_get")
        try:
            stack().stop_db()
            for _ in range(4):  # both processes, whatever nginx picks
                r = stack().get("/api/health")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json(), {"status": "degraded", "database": "unreachable",
                                            "calendarConnected": False})
                self.assertIsNotNone(r.header("X-Request-Id"))
            # The program keeps serving what needs no database.
            self.assertEqual(stack().get("/api/nowhere").status, 404)
        finally:
            stack().start_db()
        for _ in range(4):
            r = stack().get("/api/health")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["database"], "ok")
        self.assertEqual(stack().pids("calendar_get"), pids)
        self.assertTrue(stack().alive("calendar_get"))
        self.assertIn("cannot connect to MySQL", stack().log("calendar_get.log"))

    def test_database_restarted_under_a_live_connection(self):
        # Each process holds a connection; after a restart the first
        # statement finds it gone, reconnects once and answers 200.
        for _ in range(4):
            self.assertEqual(stack().get("/api/health").status, 200)
        stack().stop_db()
        stack().start_db()
        for _ in range(4):
            r = stack().get("/api/health")
            self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
