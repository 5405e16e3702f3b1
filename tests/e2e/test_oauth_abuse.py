"""oauth_callback against a bad outsider and a bad upstream.

- /oauth/google/start is public: its states are capped (LIMIT_OAUTH_STATES
  rows, then a 503 page), and expired ones are deleted as new ones come.
- Every reply on /oauth/google/start and /oauth/google/callback is an HTML
  page with the page headers (CSP, framing, sniffing, referrer, no-store),
  also when the runtime refuses the request (query, method, body).
- A callback that fails its checks does not clear the cookie of a
  connection in progress; only one that consumes the state does.
- Whatever Google (or someone posing as it) puts in error= reaches the page
  as valid, escaped UTF-8.
- On HTTPS the state cookie is __Host-booking_oauth (Secure, Path=/).
- An ID token's times near INT64_MAX are refused, not overflowed.
- The admin's Google account (its sub) already on another users row is
  re-bound to ADMIN_EMAIL instead of a permanent 503.
"""

import base64
import hashlib
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness
from test_oauth import (ADMIN, ADMIN_SUB, CALLBACK, COOKIE, SCOPES, START, admin_row,
                        assert_page, assert_sealed, begin, callback, callback_with,
                        cgi_finish, cgi_spawn, clean_up, connect, consent,
                        env, fake_jwt, get_status, reset_all, sim_fault, sim_google,
                        sim_tokens, token_calls, users_count)

HOST_COOKIE = "__Host-" + COOKIE
HTTPS_REDIRECT = "https://school.example/oauth/google/callback"
LIMIT_H = os.path.join(harness.ROOT, "src", "core", "limit.h")


def stack():
    return harness.stack


def cap():
    """LIMIT_OAUTH_STATES, as the programs were built with it."""
    with open(LIMIT_H) as f:
        m = re.search(r"^#define\s+LIMIT_OAUTH_STATES\s+(\d+)", f.read(), re.M)
    if not m:
        raise AssertionError("src/core/limit.h has no LIMIT_OAUTH_STATES")
    return int(m.group(1))


def states():
    return int(stack().sql("SELECT COUNT(*) FROM oauth_states")[0][0])


def plant_states(n, expires_in_s, used=False, tag="planted"):
    """n oauth_states rows nobody can use, expiring in expires_in_s seconds
    (negative: already expired)."""
    sign = "+" if expires_in_s >= 0 else "-"
    stack().sql(
        "INSERT INTO oauth_states (stateHash, browserHash, codeVerifier, expiresAt, usedAt) "
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) "
        "SELECT SHA2(CONCAT('%s-s-', n), 256), SHA2(CONCAT('%s-b-', n), 256), x'00', "
        "UTC_TIMESTAMP() %s INTERVAL %d SECOND, %s FROM s"
        % (n, tag, tag, sign, abs(expires_in_s), "UTC_TIMESTAMP()" if used else "NULL"))


def mariadb_args():
    return stack().db_client() + ["-N", "-B", "booking"]


def holder_id():
    """The connection id of the session holding the burst's lock, once it
    holds it."""
    rows = stack().sql("SELECT ID FROM information_schema.PROCESSLIST "
                       "WHERE INFO LIKE 'SELECT SLEEP(120) AS held_for_the_burst%'")
    return rows[0][0] if rows else None


def lock_waits():
    """Sessions in a statement on oauth_states (but the holder's): those
    of the burst, held up by its lock."""
    return int(stack().sql(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
        "'%oauth_states%' AND INFO NOT LIKE '%PROCESSLIST%' AND "
        "INFO NOT LIKE '%held_for_the_burst%'")[0][0])


def style_hashes(body):
    """The CSP hash source of each inline <style> of a page."""
    out = []
    for css in re.findall(rb"<style>(.*?)</style>", body, re.S):
        out.append("'sha256-%s'" % base64.b64encode(hashlib.sha256(css).digest()).decode())
    return out


def assert_page_headers(test, headers, body):
    """The headers every HTML page sends (headers: lower-cased name ->
    value)."""
    csp = headers.get("content-security-policy")
    test.assertTrue(csp, headers)
    directives = {}
    for d in csp.split(";"):
        words = d.split()
        if words:
            test.assertNotIn(words[0], directives, csp)
            directives[words[0]] = words[1:]
    test.assertEqual(directives.get("default-src"), ["'none'"], csp)
    test.assertEqual(directives.get("frame-ancestors"), ["'none'"], csp)
    test.assertEqual(directives.get("form-action"), ["'self'"], csp)
    test.assertEqual(directives.get("base-uri"), ["'none'"], csp)
    style = directives.get("style-src") or []
    hashes = style_hashes(body)
    if hashes:
        test.assertTrue("'unsafe-inline'" in style or all(h in style for h in hashes),
                        (csp, hashes))
    test.assertNotIn("script-src", directives, csp)
    test.assertEqual(headers.get("x-frame-options"), "DENY", headers)
    test.assertEqual(headers.get("x-content-type-options"), "nosniff", headers)
    test.assertEqual(headers.get("referrer-policy"), "no-referrer", headers)
    test.assertEqual(headers.get("cache-control"), "no-store", headers)


def assert_secure_page(test, r, status, forbidden=()):
    """A page (test_oauth.assert_page) in strict UTF-8 with the page
    headers."""
    p = assert_page(test, r, status, forbidden)
    test.assertNotIn(b"\xff", r.body)
    r.body.decode("utf-8", errors="strict")
    assert_page_headers(test, r.headers, r.body)
    return p


def cgi_raw(program, method, uri, headers=None, env_extra=None):
    """A plain CGI run: (status, [(name, value)...] in order, body)."""
    p = cgi_spawn(program, method, uri, headers=headers, env_extra=env_extra)
    out, err = p.communicate(timeout=60)
    if p.returncode != 0:
        raise AssertionError("CGI exited %s: %r" % (p.returncode, err[-500:]))
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    m = re.match(r"^Status: (\d{3})", lines[0])
    if not m:
        raise AssertionError("no Status line: %r" % out[:300])
    pairs = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        pairs.append((k.strip().lower(), v.strip()))
    return int(m.group(1)), pairs, body


def cgi_page(test, method, uri, status, headers=None, env_extra=None):
    """A CGI run that must answer an HTML page with each page header once."""
    code, pairs, body = cgi_raw("oauth_callback", method, uri, headers, env_extra)
    test.assertEqual(code, status, body[:300])
    names = [k for k, _ in pairs]
    for h in ("content-type", "content-security-policy", "x-frame-options",
              "x-content-type-options", "referrer-policy", "cache-control"):
        test.assertEqual(names.count(h), 1, (h, pairs))
    hdrs = dict(pairs)
    test.assertEqual(hdrs["content-type"], "text/html; charset=utf-8", pairs)
    test.assertTrue(body.startswith(b"<!DOCTYPE html>"), body[:200])
    body.decode("utf-8", errors="strict")
    assert_page_headers(test, hdrs, body)
    return hdrs, body


# ---------------------------------------------------------------------------
# 1. The states of /oauth/google/start are bounded
# ---------------------------------------------------------------------------

class StatesBounded(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_abuse_start_at_the_cap_is_a_page_and_stores_nothing(self):
        plant_states(cap(), 600)
        r = stack().get(START)
        assert_secure_page(self, r, 503)
        self.assertIsNone(r.header("Set-Cookie"), r.headers)
        self.assertIsNone(r.header("Location"), r.headers)
        self.assertTrue((r.header("Retry-After") or "").isdigit(), r.headers)
        self.assertEqual(states(), cap())
        # One expires: there is room again, for one.
        stack().sql("UPDATE oauth_states SET expiresAt = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
                    "ORDER BY stateHash LIMIT 1")
        begin()
        self.assertEqual(states(), cap())
        assert_secure_page(self, stack().get(START), 503)

    def test_oauth_abuse_states_never_exceed_the_cap_under_a_burst(self):
        room = 5
        # Expiring before any new state (ten minutes): new rows go after
        # them in the expiresAt index.
        plant_states(cap() - room, 300)
        # A session of ours locks where new states go in the expiresAt
        # index (in ten minutes; the planted ones in five) and nothing
        # else, until every start of the burst waits, then lets them all go
        # at once. A start that counts without locking what it counted has
        # counted by then, and inserts past the cap; one that locks it
        # waits its turn.
        holder = subprocess.Popen(
            mariadb_args() + ["-e", "BEGIN; SELECT COUNT(*) FROM oauth_states "
                                    "FORCE INDEX (oauth_states_expires) WHERE expiresAt > "
                                    "UTC_TIMESTAMP() + INTERVAL 400 SECOND FOR UPDATE; "
                                    "SELECT SLEEP(120) AS held_for_the_burst; COMMIT;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self.assertTrue(stack().wait_for(lambda: holder_id() is not None, timeout=30))
            procs = [cgi_spawn("oauth_callback", "GET", START) for _ in range(18)]
            replies = []

            def via_nginx():
                replies.append(stack().get(START, timeout=120))

            threads = [threading.Thread(target=via_nginx) for _ in range(6)]
            for t in threads:
                t.start()
            # Every CGI start and both FastCGI processes wait on the lock.
            # (Released within LIMIT_DB_IO_S, 10 s, or the programs give up
            # the statement: this bound is the mechanism's, not speed's.)
            # On a loaded machine some may still be starting: a dozen
            # waiting at once is a burst all the same.
            stack().wait_for(lambda: lock_waits() >= 20, timeout=7)
            self.assertGreaterEqual(lock_waits(), 12)
            # Interrupted, the holder's client gives up and its
            # transaction is rolled back: the lock goes.
            stack().sql("KILL QUERY %s" % holder_id())
            holder.wait(60)
            results = [cgi_finish(p) for p in procs]
            for t in threads:
                t.join(120)
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
        statuses = [s for s, _, _, _ in results] + [r.status for r in replies]
        self.assertEqual(len(statuses), 24)
        self.assertEqual(sorted(set(statuses)), [302, 503], statuses)
        self.assertEqual(statuses.count(302), room, statuses)
        self.assertEqual(states(), cap())
        for status, headers, body, _ in results:
            if status == 503:
                self.assertNotIn("set-cookie", headers)
                self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        for r in replies:
            if r.status == 503:
                assert_secure_page(self, r, 503)

    def test_oauth_abuse_expired_states_are_deleted_by_the_next_start(self):
        plant_states(40, -1, tag="expired")
        plant_states(20, -3600, used=True, tag="used")
        plant_states(3, 600, tag="live")
        d = begin()
        self.assertEqual(stack().sql(
            "SELECT COUNT(*) FROM oauth_states WHERE expiresAt < UTC_TIMESTAMP()"), [["0"]])
        self.assertEqual(states(), 4)
        # And the new one works.
        d = consent(d)
        assert_secure_page(self, callback(d.callback_path, d.cookie), 200)

    def test_oauth_abuse_a_table_full_of_expired_states_does_not_lock_out(self):
        plant_states(cap(), -1)
        d = connect()
        assert_secure_page(self, d.callback, 200)
        self.assertEqual(states(), 1)


# ---------------------------------------------------------------------------
# 2. Every reply is an HTML page
# ---------------------------------------------------------------------------

class HtmlOnly(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_abuse_malformed_or_oversized_query_is_a_400_page(self):
        queries = ["colour=red", "code=a&code=b", "code=%zz", "code=%00", "&", "state=x&",
                   "code=" + "a" * 600, "code=" + "a" * 3000,
                   "&".join("k%d=v" % i for i in range(17))]
        for path in (START, CALLBACK):
            for q in queries:
                with self.subTest(path=path, query=q[:40]):
                    r = stack().get(path + "?" + q)
                    assert_secure_page(self, r, 400)
                    self.assertIsNone(r.header("Set-Cookie"))
        self.assertEqual(states(), 0)

    def test_oauth_abuse_wrong_method_is_a_405_page_with_allow(self):
        for path in (START, CALLBACK):
            for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"):
                with self.subTest(path=path, method=method):
                    r = stack().call(method, path)
                    assert_secure_page(self, r, 405)
                    self.assertEqual(r.header("Allow"), "GET, HEAD")
        self.assertEqual(states(), 0)

    def test_oauth_abuse_unusable_method_token_is_a_400_page(self):
        # nginx passes it on; the program takes no such method.
        r = stack().call("M-SEARCH", START)
        assert_secure_page(self, r, 400)
        cgi_page(self, "get", START, 400)

    def test_oauth_abuse_oversized_body_is_a_413_page(self):
        # nginx refuses bodies over 64 KiB itself (its own reply, in
        # nginx/): the program's check, as a plain CGI run.
        for path in (START, CALLBACK):
            with self.subTest(path=path):
                cgi_page(self, "GET", path, 413, env_extra={"CONTENT_LENGTH": "70000"})
                cgi_page(self, "POST", path, 413, env_extra={"CONTENT_LENGTH": "70000"})
                cgi_page(self, "GET", path, 400, env_extra={"CONTENT_LENGTH": "-1"})
        self.assertEqual(states(), 0)

    def test_oauth_abuse_head_is_a_page_head(self):
        r = stack().call("HEAD", CALLBACK + "?colour=red")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        assert_page_headers(self, r.headers, b"")

    def test_oauth_abuse_database_down_is_a_503_page(self):
        d = consent(begin())
        stack().stop_db()
        try:
            assert_secure_page(self, stack().get(START), 503)
            r = callback(d.callback_path, d.cookie)
            assert_secure_page(self, r, 503, forbidden=[d.code])
            self.assertIsNone(r.header("Set-Cookie"))
        finally:
            stack().start_db()
        # The state was not spent: the same callback works now.
        self.assertTrue(stack().wait_for(lambda: stack().get("/api/health").status == 200,
                                         timeout=30))
        assert_secure_page(self, callback(d.callback_path, d.cookie), 200)

    def test_oauth_abuse_every_outcome_has_the_page_headers(self):
        d = begin()
        assert_secure_page(self, d.start, 302)
        d = consent(d)
        r = callback(d.callback_path, d.cookie)
        assert_secure_page(self, r, 200)
        assert_secure_page(self, callback(d.callback_path, d.cookie), 400)  # used
        assert_secure_page(self, stack().get(CALLBACK), 400)
        sim_google({"accounts": [{"email": "someone@else.test", "sub": "2000"}],
                    "consent": {"email": "someone@else.test"}})
        d = connect(expect=None)
        assert_secure_page(self, d.callback, 403)


# ---------------------------------------------------------------------------
# 3. Only a callback that consumes the state clears the cookie
# ---------------------------------------------------------------------------

class CookieKept(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_abuse_failed_callbacks_keep_the_cookie(self):
        d = consent(begin())
        bogus = os.urandom(32).hex()
        cases = {
            "wrong state": callback_with(d, state=bogus),
            "no state": callback_with(d, state=None),
            "no code": callback_with(d, code=None),
            "empty state": callback_with(d, state=""),
            "nothing": CALLBACK,
            "unknown key": callback_with(d, colour="red"),
            "malformed": callback_with(d) + "&code=%zz",
            "google error, wrong state": CALLBACK + "?" + urllib.parse.urlencode(
                {"error": "access_denied", "state": bogus}),
            "google error, no state": CALLBACK + "?error=server_error",
        }
        for name, path in cases.items():
            with self.subTest(case=name):
                r = callback(path, d.cookie)
                assert_secure_page(self, r, 400, forbidden=[d.code])
                self.assertIsNone(r.header("Set-Cookie"), r.headers)
        self.assertEqual(stack().sql("SELECT usedAt FROM oauth_states"), [[None]])
        # The connection in progress still ends well, and that clears it.
        r = callback(d.callback_path, d.cookie)
        assert_secure_page(self, r, 200, forbidden=[d.code])
        self.assertRegex(r.header("Set-Cookie") or "",
                         r"^booking_oauth=; Path=/oauth/google/; Max-Age=0(;.*)?$")
        self.assertEqual(admin_row()["status"], "ok")

    def test_oauth_abuse_google_error_with_the_real_state_spends_it(self):
        sim_google({"consent": {"deny": True}})
        d = consent(begin())
        self.assertEqual(d.callback_query.get("state"), d.state)
        r = callback(d.callback_path, d.cookie)
        assert_secure_page(self, r, 400)
        self.assertRegex(r.header("Set-Cookie") or "", r"^booking_oauth=; .*Max-Age=0")
        used = stack().sql("SELECT usedAt IS NOT NULL FROM oauth_states")
        self.assertEqual(used, [["1"]])
        # From another browser (not the cookie's): Google's page, the state
        # and the cookie untouched.
        d2 = consent(begin())
        r = callback(d2.callback_path, None)
        assert_secure_page(self, r, 400)
        self.assertIsNone(r.header("Set-Cookie"))
        self.assertEqual(stack().sql("SELECT COUNT(*) FROM oauth_states WHERE usedAt IS NULL"),
                         [["1"]])


# ---------------------------------------------------------------------------
# 4. What Google (or anyone) puts in the query reaches the page as UTF-8
# ---------------------------------------------------------------------------

class Utf8(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_abuse_raw_bytes_in_error_are_not_echoed(self):
        for raw in ("%FF%FE", "bad%C3", "%ED%A0%80x", "%C0%AF<b>", "%F4%90%80%80",
                    "ok%E2%82"):
            with self.subTest(error=raw):
                r = stack().get(CALLBACK + "?error=" + raw)
                p = assert_secure_page(self, r, 400)
                self.assertNotIn(b"<b>", r.body)
                self.assertIn("Google", p.text)

    def test_oauth_abuse_long_error_is_cut_on_a_character(self):
        # Two- and three-byte characters after 0-3 ASCII ones: wherever the
        # page cuts the value, some of these put the cut inside one.
        for k in range(4):
            for ch in ("\u00e9", "\u20ac", "\U0001f600"):
                value = "a" * k + ch * (480 // len(ch.encode()))  # < 512 bytes
                with self.subTest(k=k, ch=ch):
                    r = stack().get(CALLBACK + "?" + urllib.parse.urlencode({"error": value}))
                    p = assert_secure_page(self, r, 400)
                    self.assertIn("a" * k + ch * 10, p.text)

    def test_oauth_abuse_token_endpoint_error_is_cut_on_a_character(self):
        for k in range(4):
            for ch in ("\u00e9", "\u20ac", "\U0001f600"):
                with self.subTest(k=k, ch=ch):
                    reset_all()
                    d = consent(begin())
                    sim_fault({"method": "POST", "path": "^/token$", "status": 400,
                               "times": 1, "body": {"error": "a" * k + ch * 300}})
                    r = callback(d.callback_path, d.cookie)
                    p = assert_secure_page(self, r, 400, forbidden=[d.code])
                    self.assertIn("a" * k + ch * 10, p.text)


# ---------------------------------------------------------------------------
# 5. The HTTPS cookie
# ---------------------------------------------------------------------------

class HostCookie(unittest.TestCase):
    def setUp(self):
        reset_all()
        sim_google({"redirect_uris": [HTTPS_REDIRECT]})

    def tearDown(self):
        clean_up()

    def https_env(self):
        return {"AUTH_GOOGLE_REDIRECT_URI": HTTPS_REDIRECT}

    def test_oauth_abuse_https_redirect_uri_gives_a_host_cookie(self):
        hdrs, _ = cgi_page(self, "GET", START, 302, env_extra=self.https_env())
        sc = hdrs["set-cookie"]
        self.assertRegex(sc, r"^__Host-booking_oauth=[0-9a-f]{64}; Path=/; Max-Age=600; "
                             r"HttpOnly; SameSite=Lax; Secure$")
        self.assertNotIn("domain", sc.lower())
        cookie = re.match(r"^__Host-booking_oauth=([0-9a-f]{64});", sc).group(1)
        location = hdrs["location"]
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        self.assertEqual(q["redirect_uri"], [HTTPS_REDIRECT])
        # Google's consent (the simulator) sends the browser back to the
        # https callback; it is answered as the program would there.
        u = urllib.parse.urlsplit(location)
        back = harness.request(stack().sim_port, "GET", u.path + "?" + u.query).header("Location")
        self.assertTrue(back.startswith(HTTPS_REDIRECT + "?"), back)
        path = CALLBACK + "?" + urllib.parse.urlsplit(back).query
        # The plain name is not the cookie on HTTPS (a sibling host could
        # have set it): refused, nothing cleared.
        hdrs, _ = cgi_page(self, "GET", path, 400, env_extra=self.https_env(),
                           headers={"Cookie": COOKIE + "=" + cookie})
        self.assertNotIn("set-cookie", hdrs)
        hdrs, _ = cgi_page(self, "GET", path, 200, env_extra=self.https_env(),
                           headers={"Cookie": "a=b; " + HOST_COOKIE + "=" + cookie})
        self.assertRegex(hdrs["set-cookie"],
                         r"^__Host-booking_oauth=; Path=/; Max-Age=0; HttpOnly; "
                         r"SameSite=Lax; Secure$")
        self.assertEqual(admin_row()["status"], "ok")

    def test_oauth_abuse_plain_http_keeps_the_plain_name(self):
        for uri in ("http://127.0.0.1:8080/oauth/google/callback",
                    "http://school.example/oauth/google/callback"):
            with self.subTest(uri=uri):
                hdrs, _ = cgi_page(self, "GET", START, 302,
                                   env_extra={"AUTH_GOOGLE_REDIRECT_URI": uri})
                self.assertRegex(hdrs["set-cookie"],
                                 r"^booking_oauth=[0-9a-f]{64}; Path=/oauth/google/; ")


# ---------------------------------------------------------------------------
# 6. An ID token's times near INT64_MAX
# ---------------------------------------------------------------------------

class IdTokenTimes(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_abuse_huge_exp_or_iat_is_refused(self):
        now = int(time.time())
        base = {"iss": "https://accounts.google.com", "azp": env("AUTH_GOOGLE_ID"),
                "aud": env("AUTH_GOOGLE_ID"), "sub": ADMIN_SUB, "iat": now,
                "exp": now + 3600, "email": ADMIN, "email_verified": True}
        for name, changes in (("exp INT64_MAX", {"exp": 2 ** 63 - 1}),
                              ("exp INT64_MAX - 100", {"exp": 2 ** 63 - 101}),
                              ("exp UINT64_MAX", {"exp": 2 ** 64 - 1}),
                              ("exp INT64_MIN", {"exp": -2 ** 63}),
                              ("iat INT64_MAX", {"iat": 2 ** 63 - 1}),
                              ("iat INT64_MIN", {"iat": -2 ** 63})):
            with self.subTest(case=name):
                reset_all()
                claims = dict(base, **changes)
                sim_fault({"method": "POST", "path": "^/token$", "status": 200, "times": 1,
                           "body": {"access_token": "ya29.worthless-" + os.urandom(8).hex(),
                                    "expires_in": 3599, "scope": SCOPES,
                                    "token_type": "Bearer",
                                    "refresh_token": "1//crafted-" + os.urandom(8).hex(),
                                    "id_token": fake_jwt(claims)}})
                d = connect(expect=None)
                assert_secure_page(self, d.callback, 400, forbidden=[d.code])
                self.assertEqual(users_count(), 0)


# ---------------------------------------------------------------------------
# 7. The admin's Google account already on another users row
# ---------------------------------------------------------------------------

class Rebind(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def assertConnected(self, d):
        assert_secure_page(self, d.callback, 200, forbidden=[d.code])
        rows = stack().sql("SELECT email, role, googleSub, googleTokenStatus FROM users")
        self.assertEqual(rows, [[ADMIN, "admin", ADMIN_SUB, "ok"]])
        access, refresh = sim_tokens()
        row = admin_row()
        assert_sealed(self, row["refresh"], [refresh[-1]["token"]])
        s = get_status(self)
        self.assertIs(s["connected"], True)
        self.assertEqual(s["email"], ADMIN)

    def test_oauth_abuse_sub_under_another_email_is_rebound(self):
        # The address was renamed, or ADMIN_EMAIL changed: the Google
        # account (its sub) is the same.
        stack().sql("INSERT INTO users (email, role, googleSub, googleRefreshToken, "
                    "googleTokenStatus, googleConnectedAt) VALUES ('old-admin@school.test', "
                    "'admin', '%s', x'0102', 'broken', UTC_TIMESTAMP())" % ADMIN_SUB)
        self.assertConnected(connect())

    def test_oauth_abuse_sub_elsewhere_and_a_row_for_the_email(self):
        for name, other in (("a bare row", "NULL"), ("another account's", "'300'")):
            with self.subTest(case=name):
                reset_all()
                stack().sql("INSERT INTO users (email, role, googleSub) VALUES "
                            "('student@school.test', 'student', '%s'), ('%s', 'admin', %s)"
                            % (ADMIN_SUB, ADMIN.upper(), other))
                self.assertConnected(connect())
                self.assertEqual(len(token_calls()), 1)

    def test_oauth_abuse_connecting_twice_keeps_one_row(self):
        connect()
        self.assertConnected(connect())


if __name__ == "__main__":
    unittest.main()
