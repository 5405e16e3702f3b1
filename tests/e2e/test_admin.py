"""The admin console under /admin, end to end through nginx (DESIGN.md
"The admin console").

Sign-in with Google through the simulator (openid email, select_account,
PKCE, the state tied to the browser and marked as a sign-in), the session
(hashed in MySQL, 8 hours renewed while used, 24 at most, ended
everywhere by logout), the CSRF token and the Origin of every POST, the
pages (overview, bookings with filters and paging, one booking, payments)
and the actions (retry as reconcile would, cancel as DELETE
/api/calendar/{id}); every reply a page with the console's headers, no
secret in any of them, and a sign-in never touching the calendar token.
"""

import hashlib
import http.client
import os
import re
import unittest
import urllib.parse

import harness
import test_oauth as o
import test_payments as tp
from test_booking_write import at, sim_events

ADMIN = o.ADMIN
SESSION = "booking_admin"
SIGNIN = "booking_signin"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
CSRF_RE = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def stack():
    return harness.stack


def site():
    return "http://127.0.0.1:%d" % stack().port


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(lower name, value)]
        self.body = body
        self.text = body.decode("utf-8", errors="replace")

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def cookie(self, name):
        """(value, attributes lower-cased) of the Set-Cookie for name."""
        for line in self.all("set-cookie"):
            parts = [p.strip() for p in line.split(";")]
            k, _, v = parts[0].partition("=")
            if k == name:
                return v, [p.lower() for p in parts[1:]]
        return None

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:400])


def call(method, path, cookies=None, headers=None, body=None):
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
    if body is not None:
        body = body.encode() if isinstance(body, str) else body
        h.setdefault("Content-Type", "application/x-www-form-urlencoded")
    conn = http.client.HTTPConnection("127.0.0.1", stack().port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return Reply(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
    finally:
        conn.close()


def sessions():
    return stack().sql("SELECT idHash, email FROM admin_sessions ORDER BY createdAt")


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


class SignIn:
    """One sign-in round trip: /admin/login, Google's consent (the
    simulator), the callback. sid is the session id, or None."""
    login = consent = callback = sid = state = None


def sign_in(extra_cookies=None, expect=302):
    s = SignIn()
    s.login = r = call("GET", "/admin/login")
    if r.status != 302:
        raise AssertionError("/admin/login: %r" % r)
    loc = r.header("Location")
    u = urllib.parse.urlsplit(loc)
    s.query = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
    s.state = s.query.get("state")
    bound = r.cookie(SIGNIN)
    if bound is None:
        raise AssertionError("no %s cookie: %r" % (SIGNIN, r.headers))
    s.consent = c = harness.request(stack().sim_port, "GET", u.path + "?" + u.query)
    if c.status != 302:
        raise AssertionError("consent: %r" % c)
    back = urllib.parse.urlsplit(c.header("Location"))
    s.callback_path = back.path + "?" + back.query
    cookies = dict(extra_cookies or {})
    cookies[SIGNIN] = bound[0]
    s.callback = cb = call("GET", s.callback_path, cookies=cookies)
    if expect is not None and cb.status != expect:
        raise AssertionError("callback: %r" % cb)
    got = cb.cookie(SESSION)
    s.sid = got[0] if got and got[0] else None
    return s


def csrf_of(reply):
    m = CSRF_RE.search(reply.text)
    if not m:
        raise AssertionError("no CSRF token in %r" % reply)
    return m.group(1)


def insert_booking(bid, status, start, minutes=60, **cols):
    """A booking row written as the ledger would (the tests' literals)."""
    values = {"id": bid, "status": status,
              "startAt": start.astimezone(o.datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
              "endAt": (start + o.datetime.timedelta(minutes=minutes)).astimezone(
                  o.datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
              "timeZone": "America/Argentina/Buenos_Aires",
              "studentEmail": "alumno@example.com", "studentName": "Alumno"}
    values.update(cols)

    def lit(v):
        if v is None:
            return "NULL"
        if isinstance(v, int):
            return str(v)
        return "'" + str(v).replace("\\", "\\\\").replace("'", "''") + "'"
    stack().sql("INSERT INTO bookings (%s) VALUES (%s)" % (
        ", ".join(values), ", ".join(lit(v) for v in values.values())))


def bid_of(n):
    return "%032x" % (0xad000000 + n)


def booking_status(bid):
    rows = stack().sql("SELECT status FROM bookings WHERE id = '%s'" % bid)
    return rows[0][0] if rows else None


def history_count(bid):
    return int(stack().sql("SELECT COUNT(*) FROM booking_history WHERE bookingId = '%s'" % bid)[0][0])


class AdminBase(unittest.TestCase):
    def setUp(self):
        o.reset_all()
        stack().sql("DELETE FROM admin_sessions; DELETE FROM bookings; "
                    "DELETE FROM payments; DELETE FROM booking_history")
        tp.clear_faults()

    def tearDown(self):
        tp.clear_faults()
        o.clean_up()
        stack().sql("DELETE FROM admin_sessions; DELETE FROM bookings; "
                    "DELETE FROM payments; DELETE FROM booking_history")

    def assertConsolePage(self, r, status, forbidden=()):
        """A page of the console: HTML with every header DESIGN.md asks
        for, valid, no external asset, no script, no secret."""
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8", r)
        self.assertEqual(r.header("Cache-Control"), "no-store", r)
        self.assertEqual(r.all("cache-control"), ["no-store"], r.headers)
        self.assertEqual(r.header("X-Frame-Options"), "DENY", r)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", r)
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer", r)
        csp = r.header("Content-Security-Policy") or ""
        for part in ("default-src 'none'", "form-action 'self'",
                     "frame-ancestors 'none'", "base-uri 'none'"):
            self.assertIn(part, csp)
        self.assertNotIn("script-src", csp)
        self.assertNotIn("unsafe", csp)
        styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
        for css in styles:
            digest = o.base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
            self.assertIn("'sha256-%s'" % digest, csp, "the page's style is the one allowed")
        self.assertTrue(r.body.startswith(b"<!DOCTYPE html>"), r)
        self.assertNotIn("<script", r.text.lower())
        p = o.Page()
        p.feed(r.text)
        p.close()
        self.assertEqual(p.errors, [], r.text)
        self.assertEqual(len(p.titles), 1, r.text)
        self.assertEqual(p.assets, [], "no external assets")
        self.assertIn('lang="es"', r.text)
        for s in o.secrets_of_the_stack() + [stack().env["MP_ACCESS_TOKEN"],
                                             stack().env["MP_WEBHOOK_SECRET"]] + list(forbidden):
            if s:
                self.assertNotIn(s, r.text)
        return p

    def signed_in(self):
        s = sign_in()
        self.assertIsNotNone(s.sid, s.callback)
        return s

    def page(self, sid, path):
        r = call("GET", path, cookies={SESSION: sid})
        self.assertConsolePage(r, 200, forbidden=[sid])
        return r

    def post(self, sid, path, csrf, origin=True, referer=None, extra="", fetch_site=None):
        h = {}
        if fetch_site:
            h["Sec-Fetch-Site"] = fetch_site
        if origin is True:
            h["Origin"] = site()
        elif origin:
            h["Origin"] = origin
        if referer:
            h["Referer"] = referer
        body = ("csrf=" + csrf if csrf is not None else "") + extra
        return call("POST", path, cookies={SESSION: sid} if sid else None,
                    headers=h, body=body)


# ---------------------------------------------------------------------------

class AdminSignIn(AdminBase):
    def test_admin_login_sends_to_google_for_openid_select_account(self):
        r = call("GET", "/admin/login")
        self.assertConsolePage(r, 302)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(o.env("GOOGLE_OAUTH_AUTH_URL") + "?"), loc)
        q = {k: v for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).items()}
        self.assertEqual(q["response_type"], ["code"])
        self.assertEqual(q["client_id"], [o.env("AUTH_GOOGLE_ID")])
        self.assertEqual(q["redirect_uri"], [o.env("AUTH_GOOGLE_REDIRECT_URI")])
        self.assertEqual(q["scope"], ["openid email"])
        self.assertEqual(q["prompt"], ["select_account"])
        self.assertEqual(q["login_hint"], [ADMIN])
        self.assertEqual(q["code_challenge_method"], ["S256"])
        self.assertRegex(q["code_challenge"][0], r"^[A-Za-z0-9_-]{43}$")
        self.assertRegex(q["state"][0], HEX64)
        self.assertNotIn("access_type", q, "a sign-in asks for no offline access")
        value, attrs = r.cookie(SIGNIN)
        self.assertRegex(value, HEX64)
        self.assertNotEqual(value, q["state"][0])
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=lax", attrs)
        self.assertIn("path=/oauth/google/callback", attrs)
        self.assertNotIn("secure", attrs, "plain http on localhost")
        row = stack().sql("SELECT flow FROM oauth_states WHERE stateHash = '%s'" % sha256(q["state"][0]))
        self.assertEqual(row, [["signin"]])

    def test_admin_sign_in_opens_a_session_stored_hashed(self):
        s = self.signed_in()
        cb = s.callback
        self.assertConsolePage(cb, 302, forbidden=[s.sid])
        self.assertEqual(cb.header("Location"), "/admin")
        self.assertRegex(s.sid, HEX64)
        value, attrs = cb.cookie(SESSION)
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=lax", attrs)
        self.assertIn("path=/admin", attrs)
        self.assertNotIn("secure", attrs)
        cleared = cb.cookie(SIGNIN)
        self.assertEqual(cleared[0], "", "the sign-in's cookie is cleared")
        self.assertEqual(sessions(), [[sha256(s.sid), ADMIN]], "only the id's hash is kept")
        dump = o.mysqldump(False)
        self.assertNotIn(s.sid.encode(), dump)
        r = self.page(s.sid, "/admin")
        self.assertIn("Resumen", r.text)
        self.assertIn("database", r.text, "the doctor's checks")
        self.assertIn('action="/admin/logout"', r.text)
        self.assertIn('href="/oauth/google/start"', r.text)
        self.assertRegex(csrf_of(r), HEX64)
        self.assertNotEqual(csrf_of(r), s.sid)
        # The state was used once: the same callback again is refused.
        again = call("GET", s.callback_path, cookies={SIGNIN: s.login.cookie(SIGNIN)[0]})
        self.assertConsolePage(again, 400)
        self.assertIsNone(again.cookie(SESSION))
        self.assertEqual(len(sessions()), 1)

    def test_admin_sign_in_never_touches_the_calendar_token(self):
        self.assertEqual(o.users_count(), 0)
        self.signed_in()
        self.assertEqual(o.users_count(), 0, "no users row made by a sign-in")
        o.connect()
        before = o.admin_row()
        self.assertIsNotNone(before["refresh"])
        tokens_before = o.sim_tokens()
        s = self.signed_in()
        after = o.admin_row()
        for k in ("refreshHex", "accessHex", "scopes", "status", "sub", "email", "lastError"):
            self.assertEqual(after[k], before[k], k)
        self.assertEqual(o.users_count(), 1)
        # Nothing from the sign-in's grant reached a page or the database.
        access, refresh = o.sim_tokens()
        new = [a["token"] for a in access if a not in tokens_before[0]]
        self.assertTrue(new, "the sign-in got an access token of its own")
        dump = o.mysqldump(False)
        r = self.page(s.sid, "/admin")
        for t in new + [x["token"] for x in refresh]:
            self.assertNotIn(t.encode(), dump)
            self.assertNotIn(t, r.text)
        self.assertIn("Conectado", r.text)

    def test_admin_another_google_account_gets_403_and_nothing_stored(self):
        o.sim_google({"consent": {"email": "intruso@example.com"}})
        s = sign_in(expect=403)
        self.assertConsolePage(s.callback, 403)
        self.assertIn("intruso@example.com", s.callback.text)
        self.assertIsNone(s.sid)
        self.assertEqual(sessions(), [])
        self.assertEqual(o.users_count(), 0)

    def test_admin_unverified_email_gets_403(self):
        o.sim_google({"accounts": [{"email": ADMIN, "email_verified": False}]})
        s = sign_in(expect=403)
        self.assertConsolePage(s.callback, 403)
        self.assertIn("sin verificar", s.callback.text)
        self.assertIsNone(s.sid)
        self.assertEqual(sessions(), [])

    def test_admin_sign_in_finished_in_another_browser_is_refused(self):
        r = call("GET", "/admin/login")
        u = urllib.parse.urlsplit(r.header("Location"))
        c = harness.request(stack().sim_port, "GET", u.path + "?" + u.query)
        back = urllib.parse.urlsplit(c.header("Location"))
        cb = call("GET", back.path + "?" + back.query, cookies={SIGNIN: "a" * 64})
        self.assertConsolePage(cb, 400)
        self.assertIsNone(cb.cookie(SESSION) and cb.cookie(SESSION)[0] or None)
        self.assertEqual(sessions(), [])

    def test_admin_google_denied_sign_in_is_a_page(self):
        o.sim_google({"consent": {"deny": True}})
        s = sign_in(expect=403)
        self.assertConsolePage(s.callback, 403)
        self.assertIn('href="/admin/login"', s.callback.text)
        self.assertEqual(sessions(), [])

    def test_admin_connect_flow_still_keeps_the_token(self):
        """The connect flow's states are not sign-ins: /oauth/google/start
        still stores the refresh token and opens no session."""
        o.connect()
        self.assertIsNotNone(o.admin_row()["refresh"])
        self.assertEqual(sessions(), [])


class AdminSession(AdminBase):
    GETS = ["/admin", "/admin/bookings", "/admin/bookings?status=failed",
            "/admin/bookings/" + "0" * 32, "/admin/payments"]
    POSTS = ["/admin/logout", "/admin/bookings/%s/retry", "/admin/bookings/%s/cancel"]

    def test_admin_every_path_without_a_session(self):
        bid = bid_of(1)
        insert_booking(bid, "scheduled", at(3, 10), eventId="bk" + bid)
        for path in self.GETS:
            for cookies in (None, {SESSION: "f" * 64}, {SESSION: "not-hex"}):
                with self.subTest(path=path, cookies=cookies):
                    r = call("GET", path, cookies=cookies)
                    self.assertConsolePage(r, 302)
                    self.assertEqual(r.header("Location"), "/admin/login")
        for path in self.POSTS:
            path = path.replace("%s", bid)
            with self.subTest(path=path):
                r = self.post("f" * 64, path, "0" * 64)
                self.assertConsolePage(r, 403)
                r = self.post(None, path, None)
                self.assertConsolePage(r, 403)
        self.assertEqual(booking_status(bid), "scheduled")
        self.assertEqual(history_count(bid), 0)

    def test_admin_every_path_with_a_session(self):
        s = self.signed_in()
        bid = bid_of(2)
        insert_booking(bid, "failed", at(3, 10), lastError="the slot was taken")
        for path in self.GETS + ["/admin/bookings/" + bid]:
            with self.subTest(path=path):
                r = call("GET", path, cookies={SESSION: s.sid})
                self.assertConsolePage(r, 404 if path.endswith("0" * 32) else 200,
                                       forbidden=[s.sid])
        csrf = csrf_of(self.page(s.sid, "/admin"))
        r = self.post(s.sid, "/admin/bookings/%s/retry" % bid, csrf)
        self.assertConsolePage(r, 303)
        self.assertEqual(r.header("Location"), "/admin/bookings/" + bid)
        r = self.post(s.sid, "/admin/bookings/%s/cancel" % bid, csrf)
        self.assertConsolePage(r, 303)
        self.assertEqual(booking_status(bid), "cancelled")
        r = self.post(s.sid, "/admin/logout", csrf)
        self.assertConsolePage(r, 200)

    def test_admin_session_expires_and_is_renewed_within_24_hours(self):
        s = self.signed_in()
        h = sha256(s.sid)
        left = lambda: int(stack().sql(
            "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expiresAt) FROM admin_sessions "
            "WHERE idHash = '%s'" % h)[0][0])
        self.assertAlmostEqual(left(), 8 * 3600, delta=30)
        # Used: renewed to 8 hours from now.
        stack().sql("UPDATE admin_sessions SET expiresAt = UTC_TIMESTAMP() + INTERVAL 1 HOUR "
                    "WHERE idHash = '%s'" % h)
        self.page(s.sid, "/admin/payments")
        self.assertAlmostEqual(left(), 8 * 3600, delta=30)
        # Never past 24 hours after sign-in.
        stack().sql("UPDATE admin_sessions SET createdAt = UTC_TIMESTAMP() - INTERVAL 23 HOUR "
                    "WHERE idHash = '%s'" % h)
        self.page(s.sid, "/admin/payments")
        self.assertAlmostEqual(left(), 3600, delta=30)
        # Expired: sent to sign in; a POST is refused.
        stack().sql("UPDATE admin_sessions SET expiresAt = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
                    "WHERE idHash = '%s'" % h)
        r = call("GET", "/admin", cookies={SESSION: s.sid})
        self.assertConsolePage(r, 302)
        self.assertEqual(r.header("Location"), "/admin/login")
        csrf = "0" * 64
        self.assertConsolePage(self.post(s.sid, "/admin/logout", csrf), 403)
        # ...and the expired row is not brought back by trying.
        self.assertLess(left(), 0)

    def test_admin_planted_session_id_is_never_accepted(self):
        planted = "c0ffee" + "0" * 58
        r = call("GET", "/admin", cookies={SESSION: planted})
        self.assertEqual(r.status, 302)
        # The browser carries the planted id through a whole sign-in.
        s = sign_in(extra_cookies={SESSION: planted})
        self.assertIsNotNone(s.sid)
        self.assertNotEqual(s.sid, planted)
        self.assertEqual([row[0] for row in sessions()], [sha256(s.sid)])
        r = call("GET", "/admin", cookies={SESSION: planted})
        self.assertConsolePage(r, 302)
        # Even its hash in the table would not make it ours: ids are
        # looked up by their hash only, never taken as given.
        stack().sql("INSERT INTO admin_sessions (idHash, email, createdAt, lastSeenAt, expiresAt) "
                    "VALUES ('%s', '%s', UTC_TIMESTAMP(), UTC_TIMESTAMP(), "
                    "UTC_TIMESTAMP() + INTERVAL 1 HOUR)" % (planted, ADMIN))
        r = call("GET", "/admin", cookies={SESSION: planted})
        self.assertConsolePage(r, 302)

    def test_admin_session_of_an_account_no_longer_admin_is_refused(self):
        s = self.signed_in()
        stack().sql("UPDATE admin_sessions SET email = 'antes@school.test'")
        r = call("GET", "/admin", cookies={SESSION: s.sid})
        self.assertConsolePage(r, 302)

    def test_admin_logout_ends_the_session_everywhere(self):
        a = self.signed_in()
        b = self.signed_in()
        self.assertNotEqual(a.sid, b.sid)
        self.assertEqual(len(sessions()), 2)
        csrf = csrf_of(self.page(a.sid, "/admin"))
        r = self.post(a.sid, "/admin/logout", csrf)
        self.assertConsolePage(r, 200)
        value, attrs = r.cookie(SESSION)
        self.assertEqual(value, "")
        self.assertIn("max-age=0", attrs)
        self.assertIn("path=/admin", attrs)
        self.assertEqual(sessions(), [])
        for sid in (a.sid, b.sid):
            r = call("GET", "/admin", cookies={SESSION: sid})
            self.assertConsolePage(r, 302)
        self.assertConsolePage(self.post(a.sid, "/admin/logout", csrf), 403)


class AdminCsrf(AdminBase):
    def test_admin_post_without_the_right_token_or_origin_changes_nothing(self):
        s = self.signed_in()
        other = self.signed_in()
        csrf = csrf_of(self.page(s.sid, "/admin"))
        theirs = csrf_of(self.page(other.sid, "/admin"))
        self.assertNotEqual(csrf, theirs, "each session has its own token")
        bid = bid_of(3)
        insert_booking(bid, "scheduled", at(4, 10), eventId="bk" + bid)
        cases = {
            "no token": dict(csrf=None),
            "wrong token": dict(csrf="0" * 64),
            "another session's token": dict(csrf=theirs),
            "token cut short": dict(csrf=csrf[:63]),
            "token twice": dict(csrf=csrf, extra="&csrf=" + csrf),
            "foreign Origin": dict(csrf=csrf, origin="https://evil.example"),
            "Origin null": dict(csrf=csrf, origin="null"),
            "Origin null from another site": dict(csrf=csrf, origin="null", fetch_site="cross-site"),
            "Origin null from a sibling site": dict(csrf=csrf, origin="null", fetch_site="same-site"),
            "foreign Origin said same-origin": dict(csrf=csrf, origin="https://evil.example",
                                                    fetch_site="same-origin"),
            "no Origin, cross-site": dict(csrf=csrf, origin=False, fetch_site="cross-site",
                                          referer=site() + "/admin"),
            "Origin of another port": dict(csrf=csrf, origin="http://127.0.0.1:1"),
            "no Origin nor Referer": dict(csrf=csrf, origin=False),
            "foreign Referer": dict(csrf=csrf, origin=False, referer="https://evil.example/admin"),
            "Referer lookalike": dict(csrf=csrf, origin=False, referer=site() + ".evil.example/"),
        }
        for name, kw in cases.items():
            for path in ("/admin/bookings/%s/cancel" % bid, "/admin/bookings/%s/retry" % bid,
                         "/admin/logout"):
                with self.subTest(case=name, path=path):
                    r = self.post(s.sid, path, **kw)
                    self.assertConsolePage(r, 403, forbidden=[csrf, s.sid])
        self.assertEqual(booking_status(bid), "scheduled")
        self.assertEqual(history_count(bid), 0)
        self.assertEqual(len(sessions()), 2, "no logout happened")
        # The same form from the site itself: a Referer without Origin,
        # or Chromium's Origin "null" (no-referrer pages) with its
        # Sec-Fetch-Site.
        r = self.post(s.sid, "/admin/bookings/%s/retry" % bid, csrf, origin=False,
                      referer=site() + "/admin/bookings/" + bid)
        self.assertConsolePage(r, 303)
        self.assertEqual(history_count(bid), 1, "the retry is in the history")
        r = self.post(s.sid, "/admin/bookings/%s/cancel" % bid, csrf, origin="null",
                      fetch_site="same-origin")
        self.assertConsolePage(r, 303)
        self.assertEqual(booking_status(bid), "cancelled")


class AdminErrors(AdminBase):
    def test_admin_errors_are_pages(self):
        s = self.signed_in()
        cases = [("GET", "/admin/nothing", 404), ("GET", "/admin/bookings/x/y", 404),
                 ("POST", "/admin", 405), ("DELETE", "/admin/bookings/" + "a" * 32, 405),
                 ("GET", "/admin/logout", 405),
                 ("GET", "/admin/bookings?bogus=1", 400), ("GET", "/admin/bookings?page=1&page=2", 400),
                 ("GET", "/admin/bookings?status=nope", 400), ("GET", "/admin/bookings?from=2026-13-01", 400),
                 ("GET", "/admin/bookings?page=0", 400), ("GET", "/admin/bookings?page=abc", 400),
                 ("GET", "/admin/payments?status=%3Cb%3E", 400),
                 ("GET", "/admin/bookings/zzz", 404), ("GET", "/admin/bookings/" + "b" * 32, 404)]
        for method, path, status in cases:
            with self.subTest(method=method, path=path):
                r = call(method, path, cookies={SESSION: s.sid},
                         headers={"Origin": site()}, body="" if method != "GET" else None)
                self.assertConsolePage(r, status)
                if status == 405:
                    self.assertTrue(r.header("Allow"), r.headers)
        big = call("POST", "/admin/logout", cookies={SESSION: s.sid},
                   headers={"Origin": site()}, body="csrf=" + "a" * 70000)
        self.assertIn(big.status, (413,))
        self.assertEqual(big.header("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(len(sessions()), 1)


class AdminPages(AdminBase):
    def test_admin_bookings_newest_first_50_a_page_with_filters(self):
        s = self.signed_in()
        base = at(5, 9)
        for i in range(55):
            insert_booking(bid_of(100 + i), "scheduled",
                           base + o.datetime.timedelta(days=i // 5, hours=i % 5))
        insert_booking(bid_of(200), "failed", base + o.datetime.timedelta(days=2, hours=6),
                       lastError="slot taken")
        r = self.page(s.sid, "/admin/bookings")
        ids = re.findall(r'href="/admin/bookings/([0-9a-f]{32})"', r.text)
        self.assertEqual(len(ids), 50)
        starts = stack().sql("SELECT id FROM bookings ORDER BY startAt DESC, id")
        self.assertEqual(ids, [x[0] for x in starts[:50]], "newest class first")
        self.assertIn("56 reservas", r.text)
        self.assertIn("page=2", r.text)
        r2 = self.page(s.sid, "/admin/bookings?page=2")
        ids2 = re.findall(r'href="/admin/bookings/([0-9a-f]{32})"', r2.text)
        self.assertEqual(ids2, [x[0] for x in starts[50:]])
        self.assertIn("page=1", r2.text)
        r = self.page(s.sid, "/admin/bookings?status=failed")
        self.assertEqual(re.findall(r'href="/admin/bookings/([0-9a-f]{32})"', r.text), [bid_of(200)])
        # Local dates: the third day only.
        day = (base + o.datetime.timedelta(days=2)).date().isoformat()
        r = self.page(s.sid, "/admin/bookings?from=%s&to=%s&status=" % (day, day))
        got = set(re.findall(r'href="/admin/bookings/([0-9a-f]{32})"', r.text))
        want = {bid_of(100 + i) for i in range(10, 15)} | {bid_of(200)}
        self.assertEqual(got, want)
        r = self.page(s.sid, "/admin/bookings?page=9")
        self.assertNotIn('href="/admin/bookings/0', r.text)

    def test_admin_booking_page_shows_everything_escaped(self):
        s = self.signed_in()
        bid = bid_of(300)
        insert_booking(bid, "scheduled", at(6, 11), studentName="<script>alert(1)</script> Ana",
                       eventId="bk" + bid, meetLink="https://meet.google.com/abc-defg-hij",
                       paymentId="987654", attempts=2, lastError="Google said <b>503</b>",
                       notes="nivel \"B2\" & más")
        stack().sql("INSERT INTO payments (id, status, statusDetail, bookingId) VALUES "
                    "('987654', 'approved', 'accredited', '%s')" % bid)
        stack().sql("INSERT INTO booking_history (bookingId, fromStatus, toStatus, reason, at) VALUES "
                    "('%s', NULL, 'scheduling', 'a payment was approved', UTC_TIMESTAMP(6)), "
                    "('%s', 'scheduling', 'scheduled', 'its Google event exists', UTC_TIMESTAMP(6))"
                    % (bid, bid))
        r = self.page(s.sid, "/admin/bookings/" + bid)
        t = r.text
        self.assertNotIn("<script>", t)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; Ana", t)
        self.assertIn("bk" + bid, t)
        self.assertIn('href="https://meet.google.com/abc-defg-hij"', t)
        self.assertIn("987654", t)
        self.assertIn("approved", t)
        self.assertIn("Google said &lt;b&gt;503&lt;/b&gt;", t)
        self.assertIn("nivel &quot;B2&quot; &amp; más", t)
        self.assertIn("a payment was approved", t)
        self.assertIn("its Google event exists", t)
        self.assertIn("Intentos", t)
        self.assertIn("/admin/bookings/%s/cancel" % bid, t)
        self.assertLess(t.index("a payment was approved"), t.index("its Google event exists"))

    def test_admin_payments_that_did_not_become_a_class_come_first(self):
        s = self.signed_in()
        good, lost = bid_of(400), bid_of(401)
        insert_booking(good, "scheduled", at(7, 10), paymentId="111")
        insert_booking(lost, "failed", at(7, 12), paymentId="222", lastError="the slot was taken")
        stack().sql("INSERT INTO payments (id, status, bookingId, updatedAt) VALUES "
                    "('111', 'approved', '%s', UTC_TIMESTAMP()), "
                    "('222', 'approved', '%s', UTC_TIMESTAMP() - INTERVAL 1 DAY), "
                    "('333', 'rejected', NULL, UTC_TIMESTAMP())" % (good, lost))
        r = self.page(s.sid, "/admin/payments")
        t = r.text
        self.assertLess(t.index(">222<"), t.index(">111<"), "the lost one first")
        self.assertIn("the slot was taken", t)
        self.assertIn("No se convirtió en clase", t)
        r = self.page(s.sid, "/admin/payments?status=rejected")
        self.assertIn(">333<", r.text)
        self.assertNotIn(">111<", r.text)
        o_ = self.page(s.sid, "/admin")
        self.assertIn("1 pagos no se convirtieron en clase", o_.text)
        self.assertIn("1 reservas necesitan atención", o_.text)


class AdminActions(AdminBase):
    def setUp(self):
        super().setUp()
        o.connect()

    def test_admin_retry_finishes_a_booking_left_in_scheduling(self):
        start = at(8, 10)
        tp.google_down()
        pid = tp.new_payment("approved", tp.class_meta(start))
        self.assertEqual(tp.notify(pid)["status"], 200)
        bk = tp.bookings_for(pid)[0]
        self.assertEqual(bk["status"], "scheduling")
        tp.clear_faults()
        s = self.signed_in()
        page = self.page(s.sid, "/admin/bookings/" + bk["id"])
        self.assertIn("Reintentar ahora", page.text)
        # Its backoff says later; the admin says now.
        stack().sql("UPDATE bookings SET nextAttemptAt = UTC_TIMESTAMP() + INTERVAL 1 HOUR")
        r = self.post(s.sid, "/admin/bookings/%s/retry" % bk["id"], csrf_of(page))
        self.assertConsolePage(r, 303)
        self.assertEqual(r.header("Location"), "/admin/bookings/" + bk["id"])
        after = tp.bookings_for(pid)[0]
        self.assertEqual(after["status"], "scheduled", after)
        self.assertTrue(after["meetLink"], after)
        self.assertEqual(len(tp.events_of(bk["id"])), 1, "one event")
        page = self.page(s.sid, "/admin/bookings/" + bk["id"])
        self.assertIn(after["meetLink"], page.text)
        reasons = [x[0] for x in stack().sql(
            "SELECT reason FROM booking_history WHERE bookingId = '%s' ORDER BY id" % bk["id"])]
        self.assertTrue(any("retry" in x for x in reasons), reasons)
        # Again: nothing left to do, no second event.
        r = self.post(s.sid, "/admin/bookings/%s/retry" % bk["id"], csrf_of(page))
        self.assertConsolePage(r, 303)
        self.assertEqual(len(tp.events_of(bk["id"])), 1)

    def test_admin_cancel_cancels_the_class_and_its_event(self):
        start = at(9, 10)
        pid = tp.new_payment("approved", tp.class_meta(start))
        self.assertEqual(tp.notify(pid)["status"], 200)
        bk = tp.bookings_for(pid)[0]
        self.assertEqual(bk["status"], "scheduled")
        s = self.signed_in()
        page = self.page(s.sid, "/admin/bookings/" + bk["id"])
        r = self.post(s.sid, "/admin/bookings/%s/cancel" % bk["id"], csrf_of(page))
        self.assertConsolePage(r, 303)
        after = tp.bookings_for(pid)[0]
        self.assertEqual(after["status"], "cancelled")
        self.assertEqual(after["cancelPending"], 0, "the event was deleted")
        ev = [e for e in sim_events() if e["id"] == after["eventId"]]
        self.assertTrue(all(e.get("status") == "cancelled" for e in ev), ev)
        rows = stack().sql("SELECT fromStatus, toStatus, reason FROM booking_history WHERE "
                           "bookingId = '%s' ORDER BY id" % bk["id"])
        self.assertEqual(rows[-1][:2], ["scheduled", "cancelled"])
        self.assertIn("admin", rows[-1][2])
        page = self.page(s.sid, "/admin/bookings/" + bk["id"])
        self.assertIn("Cancelada", page.text)
        self.assertNotIn("/cancel", page.text)

    def test_admin_pages_hold_no_secret_or_token(self):
        start = at(10, 10)
        pid = tp.new_payment("approved", tp.class_meta(start))
        tp.notify(pid)
        bk = tp.bookings_for(pid)[0]
        s = self.signed_in()
        access, refresh = o.sim_tokens()
        secrets = [s.sid, s.state] + [a["token"] for a in access] + [x["token"] for x in refresh]
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(s.callback_path).query)["code"][0]
        secrets.append(code)
        for path in ("/admin", "/admin/bookings", "/admin/bookings/" + bk["id"], "/admin/payments"):
            with self.subTest(path=path):
                r = call("GET", path, cookies={SESSION: s.sid})
                self.assertConsolePage(r, 200, forbidden=secrets)
        for name in ("oauth_callback.log",):
            log = stack().log(name)
            for x in secrets:
                self.assertNotIn(x, log)
