"""The admin's access token over its life, seen through
GET /api/calendar/events (calendar_get): reused until a minute before it
expires, refreshed once however many processes need it, retried once after
a 401 from Calendar, and a revoked grant (invalid_grant) turning into 503
calendar_not_connected until the admin connects again."""

import base64
import datetime
import json
import threading
import unittest
import urllib.parse

import harness
from test_oauth import (ADMIN, CAL_SCOPE, admin_row, assert_iso_now, assert_sealed,
                        cgi_finish, cgi_spawn, clean_up, clear_sim_log, connect, get_status,
                        reset_all, sim_fault, sim_log, sim_tokens, token_calls)

CALENDAR_ID = "school@group.calendar.google.com"
EVENTS_PATH = r"^/calendar/v3/calendars/[^/]+/events$"


def stack():
    return harness.stack


def iso(dt):
    return dt.astimezone(datetime.timezone(datetime.timedelta(hours=-3))).isoformat(
        timespec="seconds")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def events_uri():
    q = urllib.parse.urlencode({"from": iso(now() - datetime.timedelta(days=1)),
                                "to": iso(now() + datetime.timedelta(days=14))},
                               safe=":")
    return "/api/calendar/events?" + q


def get_events(headers=None):
    return stack().get(events_uri(), headers=headers or stack().internal())


def calendar_calls(since=0):
    return sim_log(EVENTS_PATH, "GET", since)


def expire_in_db(seconds):
    sign = "+" if seconds >= 0 else "-"
    stack().sql("UPDATE users SET googleAccessExpiresAt = UTC_TIMESTAMP() %s INTERVAL %d SECOND "
                "WHERE email = '%s'" % (sign, abs(seconds), ADMIN))


class Token(unittest.TestCase):
    def setUp(self):
        reset_all()
        start = now() + datetime.timedelta(days=2)
        self.event = stack().sim("POST", "/_sim/calendars/%s/events" % CALENDAR_ID, {
            "summary": "Staff meeting", "description": "Room 2", "status": "confirmed",
            "start": {"dateTime": iso(start)},
            "end": {"dateTime": iso(start + datetime.timedelta(hours=1))}})
        self.dance = connect()
        access, refresh = sim_tokens()
        assert len(access) == 1 and len(refresh) == 1, (access, refresh)
        self.at = access[0]["token"]
        self.rt = refresh[0]["token"]
        clear_sim_log()

    def tearDown(self):
        clean_up()

    # -- helpers --

    def assertError(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
        body = r.json()
        self.assertEqual(set(body), {"error"}, body)
        self.assertEqual(set(body["error"]), {"code", "message"}, body)
        self.assertRegex(body["error"]["code"], r"^[a-z][a-z0-9_]*$")
        self.assertTrue(body["error"]["message"])
        if code is not None:
            self.assertEqual(body["error"]["code"], code, body)
        self.assertNoToken(r)
        return body["error"]

    def assertNotConnected(self, r):
        err = self.assertError(r, 503, "calendar_not_connected")
        self.assertIn("/oauth/google/start", err["message"])

    def assertNoToken(self, r):
        text = r.body.decode(errors="replace")
        access, refresh = sim_tokens()
        for t in [a["token"] for a in access] + [x["token"] for x in refresh]:
            self.assertNotIn(t, text)

    def assertOk(self, r):
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(set(body), {"timeZone", "from", "to", "events"}, body)
        self.assertIsInstance(body["events"], list)
        self.assertNoToken(r)
        return body

    def assertRefresh(self, call):
        f = call["form"]
        self.assertEqual(f.get("grant_type"), "refresh_token")
        self.assertEqual(f.get("client_id"), stack().env["AUTH_GOOGLE_ID"])
        self.assertEqual(f.get("client_secret"), stack().env["AUTH_GOOGLE_SECRET"])
        self.assertEqual(f.get("refresh_token"), self.rt)

    def new_access_tokens(self):
        access, _ = sim_tokens()
        return [a["token"] for a in access if a["token"] != self.at]

    def bearers(self, calls):
        return [c["headers"].get("authorization") for c in calls]

    # -- the tests --

    def test_token_stored_access_token_is_used(self):
        body = self.assertOk(get_events())
        self.assertEqual(token_calls(), [])
        calls = calendar_calls()
        self.assertGreaterEqual(len(calls), 1)
        for c in calls:
            self.assertEqual(c["path"], "/calendar/v3/calendars/%s/events" % CALENDAR_ID)
            self.assertEqual(c["headers"].get("authorization"), "Bearer " + self.at)
            self.assertNotIn("key", c["query"])
            self.assertNotIn("x-goog-api-key", c["headers"])
        mine = [e for e in body["events"] if e["id"] == self.event["id"]]
        self.assertEqual(len(mine), 1, body)
        e = mine[0]
        for k in ("id", "summary", "description", "start", "end", "status", "meetLink",
                  "bookingId"):
            self.assertIn(k, e)
        self.assertEqual((e["summary"], e["description"], e["status"]),
                         ("Staff meeting", "Room 2", "confirmed"))
        self.assertIsNone(e["meetLink"])
        self.assertIsNone(e["bookingId"])
        self.assertIs(stack().get("/api/health").json()["calendarConnected"], True)

    def test_token_reused_until_a_minute_before_expiry(self):
        expire_in_db(75)
        for _ in range(4):  # both processes
            self.assertOk(get_events())
        self.assertEqual(token_calls(), [])
        self.assertEqual(set(self.bearers(calendar_calls())), {"Bearer " + self.at})
        before = admin_row()

        expire_in_db(45)
        self.assertOk(get_events())
        calls = token_calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertRefresh(calls[0])
        new = self.new_access_tokens()
        self.assertEqual(len(new), 1)
        after_refresh = calendar_calls(since=calls[0]["seq"])
        self.assertGreaterEqual(len(after_refresh), 1)
        self.assertEqual(set(self.bearers(after_refresh)), {"Bearer " + new[0]})
        row = admin_row()
        self.assertEqual(row["status"], "ok")
        self.assertNotEqual(row["accessHex"], before["accessHex"])
        assert_sealed(self, row["access"], [new[0], self.at, self.rt])
        assert_sealed(self, row["refresh"], [self.rt, new[0]])
        self.assertTrue(3500 <= row["expiresIn"] <= 3601, row["expiresIn"])
        self.assertIsNotNone(row["refreshedAgo"])
        self.assertTrue(0 <= row["refreshedAgo"] <= 60, row["refreshedAgo"])
        s = get_status(self)
        self.assertIs(s["connected"], True)
        assert_iso_now(self, s["lastRefreshAt"])
        self.assertIsNone(s["lastRefreshError"])

        # The new one is then reused, by both processes.
        for _ in range(4):
            self.assertOk(get_events())
        self.assertEqual(len(token_calls()), 1)

        # And when it expires in turn, the same refresh token refreshes it.
        expire_in_db(-3600)
        self.assertOk(get_events())
        calls = token_calls()
        self.assertEqual(len(calls), 2, calls)
        self.assertRefresh(calls[1])

    def test_token_expired_is_refreshed_once(self):
        expire_in_db(-60)
        self.assertOk(get_events())
        calls = token_calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertRefresh(calls[0])
        new = self.new_access_tokens()
        self.assertEqual(len(new), 1)
        self.assertEqual(set(self.bearers(calendar_calls())), {"Bearer " + new[0]})

    def test_token_concurrent_need_one_refresh(self):
        expire_in_db(-60)
        # Google no longer takes the old token either, and the refresh is
        # slow: every process needing a token at once must wait for it.
        stack().sim("POST", "/_sim/tokens/expire")
        sim_fault({"method": "POST", "path": "^/token$", "status": None, "delay_ms": 700,
                   "times": 1})
        uri = events_uri()
        auth = stack().internal()["Authorization"]
        replies = []

        def via_nginx():
            replies.append(stack().get(uri, headers=stack().internal()).status)

        procs = [cgi_spawn("calendar_get", "GET", uri, headers={"Authorization": auth})
                 for _ in range(8)]
        threads = [threading.Thread(target=via_nginx) for _ in range(6)]
        for t in threads:
            t.start()
        results = [cgi_finish(p) for p in procs]
        for t in threads:
            t.join(60)
        statuses = [r[0] for r in results] + replies
        self.assertEqual(statuses, [200] * 14, [r[:3] for r in results if r[0] != 200])
        calls = token_calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertRefresh(calls[0])
        new = self.new_access_tokens()
        self.assertEqual(len(new), 1)
        self.assertEqual(set(self.bearers(calendar_calls())), {"Bearer " + new[0]})
        self.assertEqual(admin_row()["status"], "ok")

    def test_token_401_from_calendar_refreshes_and_retries_once(self):
        stack().sim("POST", "/_sim/tokens/expire")  # the database still thinks it valid
        self.assertOk(get_events())
        seq = [(c["method"], c["path"] if c["path"] == "/token" else "events", c["status"])
               for c in sim_log(r"^/token$|" + EVENTS_PATH)]
        self.assertEqual(seq, [("GET", "events", 401), ("POST", "/token", 200),
                               ("GET", "events", 200)])
        calls = token_calls()
        self.assertRefresh(calls[0])
        new = self.new_access_tokens()
        self.assertEqual(self.bearers(calendar_calls()), ["Bearer " + self.at, "Bearer " + new[0]])
        # The new token is kept: the next call needs no refresh.
        self.assertOk(get_events())
        self.assertEqual(len(token_calls()), 1)

    def test_token_persistent_401_is_not_a_loop(self):
        sim_fault({"method": "GET", "path": EVENTS_PATH, "status": 401, "times": -1})
        r = get_events()
        self.assertIn(r.status, (502, 503), r)
        self.assertError(r, r.status)
        self.assertEqual(len(calendar_calls()), 2)
        self.assertEqual(len(token_calls()), 1)
        self.assertEqual(admin_row()["status"], "ok")

    def test_token_invalid_grant_marks_broken_until_reconnected(self):
        stack().sim("POST", "/_sim/tokens/revoke", {})
        expire_in_db(-60)
        self.assertNotConnected(get_events())
        calls = token_calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertRefresh(calls[0])
        self.assertEqual(calls[0]["status"], 400)
        self.assertEqual(calendar_calls(), [])
        row = admin_row()
        self.assertEqual(row["status"], "broken")
        self.assertIn("invalid_grant", row["lastError"] or "")
        self.assertIs(stack().get("/api/health").json()["calendarConnected"], False)
        s = get_status(self)
        self.assertIs(s["connected"], False)
        self.assertTrue(s["lastRefreshError"])
        self.assertIsInstance(s["lastRefreshError"], str)
        # Known broken: no more token requests, by either process.
        clear_sim_log()
        for _ in range(3):
            self.assertNotConnected(get_events())
        self.assertEqual(sim_log(), [])
        self.assertIn("invalid_grant", stack().log("calendar_get.log"))
        # Connecting again repairs it.
        connect()
        row = admin_row()
        self.assertEqual(row["status"], "ok")
        self.assertEqual(int(stack().sql("SELECT COUNT(*) FROM users")[0][0]), 1)
        self.assertIs(get_status(self)["connected"], True)
        self.assertIs(stack().get("/api/health").json()["calendarConnected"], True)
        clear_sim_log()
        self.assertOk(get_events())
        self.assertEqual(token_calls(), [])

    def test_token_revoked_grant_found_through_a_401(self):
        stack().sim("POST", "/_sim/tokens/revoke", {})  # access token too; db thinks it valid
        self.assertNotConnected(get_events())
        seq = [(c["method"], c["path"] if c["path"] == "/token" else "events", c["status"])
               for c in sim_log(r"^/token$|" + EVENTS_PATH)]
        self.assertEqual(seq, [("GET", "events", 401), ("POST", "/token", 400)])
        self.assertEqual(admin_row()["status"], "broken")

    def test_token_sealed_under_the_key(self):
        # A program with another TOKEN_ENCRYPTION_KEY cannot recover the
        # tokens from the database: Google never sees them from it.
        other = base64.b64encode(bytes(range(32))).decode()
        self.assertNotEqual(other, stack().env["TOKEN_ENCRYPTION_KEY"])
        status, _, body, _ = cgi_finish(cgi_spawn(
            "calendar_get", "GET", events_uri(),
            headers={"Authorization": stack().internal()["Authorization"]},
            env_extra={"TOKEN_ENCRYPTION_KEY": other}))
        self.assertNotEqual(status, 200, body)
        for entry in sim_log():
            seen = json.dumps(entry)
            self.assertNotIn(self.at, seen)
            self.assertNotIn(self.rt, seen)

    def test_token_not_connected_is_503(self):
        stack().sql("UPDATE users SET googleTokenStatus = 'broken'")
        self.assertNotConnected(get_events())
        stack().sql("DELETE FROM users")
        self.assertNotConnected(get_events())
        stack().sql("INSERT INTO users (email, role) VALUES ('%s', 'admin')" % ADMIN)
        self.assertNotConnected(get_events())
        self.assertEqual(sim_log(), [])

    def test_token_endpoint_down_is_503_not_broken(self):
        expire_in_db(-60)
        sim_fault({"method": "POST", "path": "^/token$", "status": 503, "times": -1})
        r = get_events()
        err = self.assertError(r, 503)
        self.assertNotEqual(err["code"], "calendar_not_connected")
        self.assertGreaterEqual(len(token_calls()), 1)
        self.assertEqual(calendar_calls(), [])
        self.assertEqual(admin_row()["status"], "ok")
        self.assertIs(stack().get("/api/health").json()["calendarConnected"], True)
        self.assertIs(get_status(self)["connected"], True)
        # Google back: the next call refreshes and answers.
        stack().sim("DELETE", "/_sim/faults")
        clear_sim_log()
        self.assertOk(get_events())
        calls = token_calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertRefresh(calls[0])
        self.assertEqual(admin_row()["status"], "ok")
        self.assertIn(CAL_SCOPE, admin_row()["scopes"])


if __name__ == "__main__":
    unittest.main()
