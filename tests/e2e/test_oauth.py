"""oauth_callback end to end: the admin connects Google once.

/oauth/google/start (the consent redirect, its state, cookie and PKCE),
/oauth/google/callback (every refusal, the code exchange, the account
check, the sealed tokens) and /oauth/google/status, through nginx against
the simulator. The helpers here (the whole consent dance, the simulator's
log, the page checks) are reused by test_token.py.
"""

import base64
import datetime
import hashlib
import html.parser
import json
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.parse
import zoneinfo

import harness

CAL_SCOPE = "https://www.googleapis.com/auth/calendar.events"
SCOPES = "openid email profile " + CAL_SCOPE
ADMIN = "admin@school.test"
ADMIN_SUB = "100000000000000000001"
COOKIE = "booking_oauth"
START = "/oauth/google/start"
CALLBACK = "/oauth/google/callback"
STATUS = "/oauth/google/status"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def stack():
    return harness.stack


def env(name):
    return stack().env[name]


# ---------------------------------------------------------------------------
# State of the world: tables and simulator
# ---------------------------------------------------------------------------

def clean_up():
    """What a test leaves for the next file's tests: nothing."""
    stack().sim("POST", "/_sim/reset")
    stack().sql("DELETE FROM users; DELETE FROM oauth_states")


def reset_all():
    """A clean simulator (default config: client, admin account) and no
    users, consent round trips or cached calendar."""
    stack().sim("POST", "/_sim/reset")
    stack().forget_cache("DELETE FROM users; DELETE FROM oauth_states")


def sim_log(path=None, method=None, since=0):
    q = {}
    if since:
        q["since"] = str(since)
    if path:
        q["path"] = path
    if method:
        q["method"] = method
    return stack().sim("GET", "/_sim/requests" + ("?" + urllib.parse.urlencode(q) if q else ""))


def clear_sim_log():
    stack().sim("DELETE", "/_sim/requests")


def form_of(entry):
    return {k: v[0] for k, v in urllib.parse.parse_qs(
        entry.get("body") or "", keep_blank_values=True).items()}


def token_calls(grant=None, since=0):
    """POSTs to the token endpoint, each with its parsed form in "form"."""
    out = []
    for e in sim_log(r"^/token$", "POST", since):
        e["form"] = form_of(e)
        if grant is None or e["form"].get("grant_type") == grant:
            out.append(e)
    return out


def sim_tokens():
    g = stack().sim("GET", "/_sim/google")
    return g["tokens"]["access"], g["tokens"]["refresh"]


def sim_google(config):
    return stack().sim("POST", "/_sim/google", config)


def sim_fault(rule):
    return stack().sim("POST", "/_sim/faults", rule)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(claims):
    enc = lambda obj: b64url(json.dumps(obj, separators=(",", ":")).encode())
    return "%s.%s.%s" % (enc({"alg": "RS256", "kid": "sim", "typ": "JWT"}),
                         enc(claims), b64url(os.urandom(256)))


def users_count():
    return int(stack().sql("SELECT COUNT(*) FROM users")[0][0])


def admin_row():
    """The admin's users row as a dict (binary columns as bytes), or None."""
    cols = ["email", "googleSub", "role", "HEX(googleRefreshToken)",
            "HEX(googleAccessToken)",
            "TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), googleAccessExpiresAt)",
            "googleScopes",
            "TIMESTAMPDIFF(SECOND, googleConnectedAt, UTC_TIMESTAMP())",
            "googleTokenStatus",
            "TIMESTAMPDIFF(SECOND, googleLastRefreshAt, UTC_TIMESTAMP())",
            "googleLastRefreshError"]
    names = ["email", "sub", "role", "refresh", "access", "expiresIn", "scopes",
             "connectedAgo", "status", "refreshedAgo", "lastError"]
    rows = stack().sql("SELECT %s FROM users WHERE email = '%s'" % (", ".join(cols), ADMIN))
    if not rows:
        return None
    row = dict(zip(names, rows[0]))
    for k in ("refresh", "access"):
        row[k + "Hex"] = row[k]
        row[k] = bytes.fromhex(row[k]) if row[k] is not None else None
    for k in ("expiresIn", "connectedAgo", "refreshedAgo"):
        row[k] = int(row[k]) if row[k] is not None else None
    return row


def mysqldump(hex_blob):
    args = stack().db_client("mariadb-dump") + ["--skip-extended-insert"]
    if hex_blob:
        args.append("--hex-blob")
    p = subprocess.run(args + ["booking"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("mariadb-dump failed: %s" % p.stderr.decode(errors="replace"))
    return p.stdout


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
# Elements whose end tag HTML5 lets a page leave out.
OPTIONAL_END = {"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th",
                "thead", "tbody", "tfoot", "html", "head", "body", "colgroup",
                "caption", "rt", "rp"}


class Page(html.parser.HTMLParser):
    """Collects what the checks need and the structural errors found."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open = []
        self.errors = []
        self.links = []
        self.assets = []
        self.titles = []
        self.charset = False
        self.parts = []
        self.skip = 0

    def _start(self, tag, attrs, push):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "meta" and a.get("charset", "").lower() == "utf-8":
            self.charset = True
        for k in ("src", "srcset", "data", "poster", "background"):
            if k in a and not a[k].startswith("data:"):
                self.assets.append((tag, k, a[k]))
        if tag == "link" and a.get("href") and not a["href"].startswith("data:"):
            self.assets.append((tag, "href", a["href"]))
        if tag == "title":
            self.titles.append("")
        if tag in ("script", "style"):
            self.skip += 1
        if push and tag not in VOID:
            self.open.append(tag)

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, True)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, False)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        if tag not in self.open:
            self.errors.append("stray </%s>" % tag)
            return
        while self.open:
            top = self.open.pop()
            if top == tag:
                break
            if top not in OPTIONAL_END:
                self.errors.append("<%s> closed by </%s>" % (top, tag))

    def handle_data(self, data):
        if self.open and self.open[-1] == "title":
            self.titles[-1] += data
        if not self.skip:
            self.parts.append(data)

    def close(self):
        super().close()
        for tag in self.open:
            if tag not in OPTIONAL_END:
                self.errors.append("<%s> never closed" % tag)

    @property
    def text(self):
        return re.sub(r"\s+", " ", " ".join(self.parts)).strip()


def secrets_of_the_stack():
    return [env("AUTH_GOOGLE_SECRET"), env("INTERNAL_API_TOKEN"),
            env("TOKEN_ENCRYPTION_KEY")]


def assert_page(test, r, status, forbidden=()):
    """r is a small valid HTML5 page with the given status, no-store, no
    external asset, no secret (nor any string of `forbidden`)."""
    test.assertEqual(r.status, status, r)
    test.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8", r)
    test.assertEqual(r.header("Cache-Control"), "no-store", r)
    test.assertTrue(r.header("X-Request-Id"), r)
    test.assertTrue(r.body.startswith(b"<!DOCTYPE html>"), r)
    test.assertLess(len(r.body), 16384, "a small page")
    text = r.body.decode("utf-8")
    p = Page()
    p.feed(text)
    p.close()
    test.assertEqual(p.errors, [], text)
    test.assertEqual(len(p.titles), 1, text)
    test.assertTrue(p.titles[0].strip(), text)
    test.assertTrue(p.charset, "<meta charset=utf-8> " + text)
    test.assertEqual(p.assets, [], "no external assets: " + text)
    test.assertNotRegex(text, r"(?i)@import|url\(\s*['\"]?(https?:)?//")
    for s in list(secrets_of_the_stack()) + [f for f in forbidden if f]:
        test.assertNotIn(s, text)
        test.assertNotIn(urllib.parse.quote(s, safe=""), text)
    return p


def links_to_start(page):
    for href in page.links:
        u = urllib.parse.urlsplit(href)
        if u.path == START and (not u.netloc or u.netloc == "127.0.0.1:%d" % stack().port):
            return True
    return False


# ---------------------------------------------------------------------------
# The consent dance
# ---------------------------------------------------------------------------

class Dance:
    """One round trip: /start, Google's consent, the callback."""
    start = location = query = state = cookie = None
    consent = callback_path = callback_query = code = callback = None


def begin():
    """GET /oauth/google/start through nginx (no redirect followed)."""
    d = Dance()
    d.start = r = stack().get(START)
    if r.status != 302:
        raise AssertionError("/oauth/google/start answered %r" % r)
    d.location = r.header("Location")
    if not d.location:
        raise AssertionError("no Location: %r" % r)
    d.query = urllib.parse.parse_qs(urllib.parse.urlsplit(d.location).query,
                                    keep_blank_values=True)
    d.state = (d.query.get("state") or [None])[0]
    sc = r.header("Set-Cookie") or ""
    m = re.match(r"^%s=([^;]*)" % COOKIE, sc)
    if not m:
        raise AssertionError("no %s cookie: %r" % (COOKIE, sc))
    d.cookie = m.group(1)
    return d


def consent(d):
    """GET the consent URL on the simulator: its 302 back to us."""
    u = urllib.parse.urlsplit(d.location)
    if "%s://%s%s" % (u.scheme, u.netloc, u.path) != env("GOOGLE_OAUTH_AUTH_URL"):
        raise AssertionError("Location is not the consent screen: %s" % d.location)
    d.consent = r = harness.request(stack().sim_port, "GET", u.path + "?" + u.query)
    if r.status != 302:
        raise AssertionError("the consent screen answered %r" % r)
    back = r.header("Location")
    redirect = env("AUTH_GOOGLE_REDIRECT_URI")
    if not back.startswith(redirect + "?"):
        raise AssertionError("consent went back to %s" % back)
    b = urllib.parse.urlsplit(back)
    d.callback_path = b.path + "?" + b.query
    d.callback_query = {k: v[0] for k, v in urllib.parse.parse_qs(
        b.query, keep_blank_values=True).items()}
    d.code = d.callback_query.get("code")
    return d


def cookie_header(value, others=""):
    return {"Cookie": others + COOKIE + "=" + value}


def callback(path, cookie=None, headers=None):
    h = dict(headers or {})
    if cookie is not None:
        h.update(cookie_header(cookie))
    return stack().get(path, headers=h)


def callback_with(d, **changes):
    """The callback URL of d with query keys changed (None removes)."""
    q = dict(d.callback_query)
    for k, v in changes.items():
        if v is None:
            q.pop(k, None)
        else:
            q[k] = v
    return CALLBACK + "?" + urllib.parse.urlencode(q)


def connect(expect=200):
    """The whole dance; d.callback is the callback's reply."""
    d = consent(begin())
    d.callback = callback(d.callback_path, d.cookie)
    if expect is not None and d.callback.status != expect:
        raise AssertionError("the callback answered %r" % d.callback)
    return d


def sim_grant(scopes=SCOPES, email=ADMIN):
    """A grant obtained straight from the simulator (not through our
    programs): its token answer."""
    redirect = "http://127.0.0.1:1/oauth/google/callback"
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": env("AUTH_GOOGLE_ID"),
        "redirect_uri": redirect, "scope": scopes, "access_type": "offline",
        "prompt": "consent", "login_hint": email})
    r = harness.request(stack().sim_port, "GET", "/o/oauth2/v2/auth?" + q)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(r.header("Location")).query)["code"][0]
    r = harness.request(stack().sim_port, "POST", "/token", body=urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code,
        "client_id": env("AUTH_GOOGLE_ID"), "client_secret": env("AUTH_GOOGLE_SECRET"),
        "redirect_uri": redirect}),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    return r.json()


# ---------------------------------------------------------------------------
# Plain CGI runs (more processes at once than spawn-fcgi's two)
# ---------------------------------------------------------------------------

def cgi_spawn(program, method, uri, headers=None, env_extra=None, drop=()):
    e = stack().program_env()
    for k in drop:
        e.pop(k, None)
    path, _, query = uri.partition("?")
    e.update({"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
              "REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": query,
              "SCRIPT_NAME": path, "SERVER_NAME": "127.0.0.1",
              "SERVER_PORT": str(stack().port), "REMOTE_ADDR": "127.0.0.1",
              "HTTP_HOST": "127.0.0.1:%d" % stack().port})
    for k, v in (headers or {}).items():
        e["HTTP_" + k.upper().replace("-", "_")] = v
    e.update(env_extra or {})
    return subprocess.Popen([os.path.join(stack().bin_dir, program)], env=e,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def cgi_finish(p):
    """(status, headers, body, stderr) of a CGI run."""
    out, err = p.communicate(timeout=60)
    if p.returncode != 0:
        raise AssertionError("a plain CGI run exited %s: %r" % (p.returncode, err[-500:]))
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    m = re.match(r"^Status: (\d{3})", lines[0])
    if not m:
        raise AssertionError("no Status line: %r (stderr %r)" % (out[:500], err[-500:]))
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(m.group(1)), headers, body, err.decode(errors="replace")


# ---------------------------------------------------------------------------
# Checks on stored tokens
# ---------------------------------------------------------------------------

def assert_sealed(test, blob, plaintexts):
    """blob (bytes) holds none of the plaintexts, in any plain encoding."""
    test.assertIsNotNone(blob)
    test.assertGreater(len(blob), 0)
    hexed = blob.hex()
    for s in plaintexts:
        raw = s.encode()
        test.assertNotIn(raw, blob)
        test.assertNotIn(raw.hex(), hexed)
        test.assertNotIn(base64.b64encode(raw), blob)
        test.assertNotIn(base64.urlsafe_b64encode(raw).rstrip(b"="), blob)
        # A distinctive part of the token is not there either.
        test.assertNotIn(raw[-24:], blob)


def assert_iso_now(test, value, within=120):
    test.assertIsInstance(value, str)
    test.assertRegex(value, ISO)
    t = datetime.datetime.fromisoformat(value)
    zone = zoneinfo.ZoneInfo(stack().env.get("TIME_ZONE") or "America/Argentina/Buenos_Aires")
    test.assertEqual(t.utcoffset(), t.astimezone(zone).utcoffset(),
                     "written in the configured time zone: " + value)
    test.assertLess(abs(time.time() - t.timestamp()), within, value)


def get_status(test):
    r = stack().get(STATUS, headers=stack().internal())
    test.assertEqual(r.status, 200, r)
    test.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
    test.assertEqual(r.header("Cache-Control"), "no-store")
    body = r.json()
    test.assertEqual(set(body), {"connected", "email", "connectedAt", "scopes",
                                 "lastRefreshAt", "lastRefreshError"}, body)
    test.assertIsInstance(body["connected"], bool)
    access, refresh = sim_tokens()
    for t in [a["token"] for a in access] + [x["token"] for x in refresh]:
        test.assertNotIn(t, r.body.decode())
    return body


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------

class OAuthStart(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_start_redirects_with_every_parameter(self):
        d = begin()
        r = d.start
        p = assert_page(self, r, 302)
        u = urllib.parse.urlsplit(d.location)
        self.assertEqual("%s://%s%s" % (u.scheme, u.netloc, u.path), env("GOOGLE_OAUTH_AUTH_URL"))
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True, strict_parsing=True)
        self.assertEqual(set(q), {"response_type", "client_id", "redirect_uri", "scope",
                                  "access_type", "prompt", "login_hint", "state",
                                  "code_challenge", "code_challenge_method"}, q)
        for k, v in q.items():
            self.assertEqual(len(v), 1, k)
        q = {k: v[0] for k, v in q.items()}
        self.assertEqual(q["response_type"], "code")
        self.assertEqual(q["client_id"], "sim-client-id.apps.googleusercontent.com")
        self.assertEqual(q["client_id"], env("AUTH_GOOGLE_ID"))
        self.assertEqual(q["redirect_uri"], "http://127.0.0.1:%d/oauth/google/callback"
                         % stack().port)
        self.assertEqual(q["scope"], SCOPES)
        self.assertEqual(q["access_type"], "offline")
        self.assertEqual(q["prompt"], "consent")
        self.assertEqual(q["login_hint"], ADMIN)
        self.assertRegex(q["state"], HEX64)
        self.assertRegex(q["code_challenge"], r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(q["code_challenge_method"], "S256")
        # The cookie that binds the state to this browser.
        self.assertRegex(r.header("Set-Cookie"),
                         r"^booking_oauth=[0-9a-f]{64}; Path=/oauth/google/; Max-Age=600; "
                         r"HttpOnly; SameSite=Lax$")
        self.assertRegex(d.cookie, HEX64)
        # A link to the same place for a browser that does not follow.
        self.assertIn(d.location, p.links)
        # Stored: only hashes of the state and the cookie; the verifier sealed.
        rows = stack().sql("SELECT stateHash, browserHash, HEX(codeVerifier), "
                           "TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expiresAt), usedAt "
                           "FROM oauth_states")
        self.assertEqual(len(rows), 1, rows)
        state_hash, browser_hash, verifier_hex, expires_in, used = rows[0]
        self.assertEqual(state_hash, hashlib.sha256(q["state"].encode()).hexdigest())
        self.assertEqual(browser_hash, hashlib.sha256(d.cookie.encode()).hexdigest())
        self.assertGreater(len(verifier_hex), 0)
        self.assertTrue(590 <= int(expires_in) <= 601, expires_in)
        self.assertIsNone(used)
        self.assertNotIn(q["state"], verifier_hex.lower())
        # Nothing reached Google yet.
        self.assertEqual(sim_log(), [])

    def test_oauth_start_is_new_each_time(self):
        a, b = begin(), begin()
        self.assertNotEqual(a.state, b.state)
        self.assertNotEqual(a.cookie, b.cookie)
        self.assertNotEqual(a.query["code_challenge"], b.query["code_challenge"])
        rows = stack().sql("SELECT stateHash FROM oauth_states ORDER BY stateHash")
        self.assertEqual(sorted(r[0] for r in rows),
                         sorted(hashlib.sha256(s.encode()).hexdigest()
                                for s in (a.state, b.state)))

    def test_oauth_cookie_secure_unless_plain_loopback(self):
        cookie = (r"^booking_oauth=[0-9a-f]{64}; Path=/oauth/google/; Max-Age=600; "
                  r"HttpOnly; SameSite=Lax")
        cases = [("https://school.example/oauth/google/callback", True),
                 ("https://127.0.0.1:8443/oauth/google/callback", True),
                 ("http://school.example/oauth/google/callback", True),
                 ("http://localhost.school.example/oauth/google/callback", True),
                 ("http://localhost:8080/oauth/google/callback", False),
                 ("http://127.0.0.1:8080/oauth/google/callback", False),
                 ("http://[::1]:8080/oauth/google/callback", False)]
        for uri, secure in cases:
            with self.subTest(redirect_uri=uri):
                status, headers, body, _ = cgi_finish(cgi_spawn(
                    "oauth_callback", "GET", START,
                    env_extra={"AUTH_GOOGLE_REDIRECT_URI": uri}))
                self.assertEqual(status, 302, body)
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["location"]).query)
                self.assertEqual(q["redirect_uri"], [uri])
                attrs = [a.strip().lower() for a in headers["set-cookie"].split(";")]
                self.assertEqual("secure" in attrs, secure, headers["set-cookie"])
                self.assertRegex(headers["set-cookie"].replace("; Secure", ""), cookie + "$")


class OAuthCallback(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    # -- helpers --

    def assertNothingStored(self, token_posts=0):
        self.assertEqual(users_count(), 0, stack().sql("SELECT email FROM users"))
        self.assertEqual(len(token_calls()), token_posts, token_calls())

    def issued(self):
        access, refresh = sim_tokens()
        return [a["token"] for a in access] + [x["token"] for x in refresh]

    # -- the happy path --

    def test_oauth_happy_path_stores_sealed_tokens(self):
        d = consent(begin())
        verifier_blob = bytes.fromhex(stack().sql(
            "SELECT HEX(codeVerifier) FROM oauth_states")[0][0])
        r = callback(d.callback_path, d.cookie)
        access, refresh = sim_tokens()
        self.assertEqual(len(access), 1, access)
        self.assertEqual(len(refresh), 1, refresh)
        at, rt = access[0]["token"], refresh[0]["token"]
        p = assert_page(self, r, 200, forbidden=[at, rt, d.code, d.state])
        self.assertTrue(p.text)
        self.assertRegex(r.header("Set-Cookie"),
                         r"^booking_oauth=; Path=/oauth/google/; Max-Age=0(;.*)?$")
        # The code exchange: once, with the secret and the PKCE verifier.
        calls = token_calls()
        self.assertEqual(len(calls), 1, calls)
        f = calls[0]["form"]
        self.assertEqual(f.get("grant_type"), "authorization_code")
        self.assertEqual(f.get("code"), d.code)
        self.assertEqual(f.get("client_id"), env("AUTH_GOOGLE_ID"))
        self.assertEqual(f.get("client_secret"), env("AUTH_GOOGLE_SECRET"))
        self.assertEqual(f.get("redirect_uri"), env("AUTH_GOOGLE_REDIRECT_URI"))
        verifier = f.get("code_verifier") or ""
        self.assertRegex(verifier, r"^[A-Za-z0-9._~-]{43,128}$")
        self.assertEqual(b64url(hashlib.sha256(verifier.encode()).digest()),
                         d.query["code_challenge"][0])
        assert_sealed(self, verifier_blob, [verifier])
        self.assertEqual(calls[0]["status"], 200)
        # The admin's row.
        rows = stack().sql("SELECT email FROM users")
        self.assertEqual(rows, [[ADMIN]])
        row = admin_row()
        self.assertEqual(row["role"], "admin")
        self.assertEqual(row["sub"], ADMIN_SUB)
        self.assertEqual(row["status"], "ok")
        assert_sealed(self, row["refresh"], [rt, at])
        assert_sealed(self, row["access"], [at, rt])
        self.assertGreaterEqual(len(row["refresh"]), len(rt) + 28, "nonce and tag")
        self.assertGreaterEqual(len(row["access"]), len(at) + 28, "nonce and tag")
        self.assertNotEqual(len(at), len(rt))
        self.assertEqual(len(row["refresh"]) - len(rt), len(row["access"]) - len(at),
                         "a stream cipher (GCM): the same overhead whatever the length")
        self.assertTrue(3500 <= row["expiresIn"] <= 3601, row["expiresIn"])
        self.assertIn(CAL_SCOPE, row["scopes"].split())
        self.assertTrue(0 <= row["connectedAgo"] <= 60, row["connectedAgo"])
        # The state is spent.
        used = stack().sql("SELECT usedAt FROM oauth_states")
        self.assertEqual(len(used), 1, used)
        self.assertIsNotNone(used[0][0], used)
        # A dump of the database holds no token and no verifier, in any form.
        for hex_blob in (False, True):
            dump = mysqldump(hex_blob)
            for s in (at, rt, verifier):
                self.assertNotIn(s.encode(), dump)
                self.assertNotIn(s.encode().hex().encode(), dump.lower())
        # Nor does any log of ours.
        for name, text in stack().logs().items():
            if name.startswith("simulator"):
                continue
            for s in (at, rt, d.code, verifier, env("AUTH_GOOGLE_SECRET")):
                self.assertNotIn(s, text, name)
        # The status.
        s = get_status(self)
        self.assertIs(s["connected"], True)
        self.assertEqual(s["email"], ADMIN)
        assert_iso_now(self, s["connectedAt"])
        self.assertIsInstance(s["scopes"], list)
        self.assertIn(CAL_SCOPE, s["scopes"])
        self.assertIsNone(s["lastRefreshError"])
        # Connected with the code's own access token: no renewal yet.
        self.assertIsNone(s["lastRefreshAt"])
        # /api/health sees the connection.
        self.assertIs(stack().get("/api/health").json()["calendarConnected"], True)
        # Once the access token expires, the next call renews it, and the
        # status says when.
        stack().sql("UPDATE users SET googleAccessExpiresAt = UTC_TIMESTAMP() "
                    "- INTERVAL 1 SECOND")
        from test_token import get_events
        self.assertEqual(get_events().status, 200)
        s = get_status(self)
        assert_iso_now(self, s["lastRefreshAt"])
        self.assertIsNone(s["lastRefreshError"])

    def test_oauth_callback_accepts_google_extra_keys_and_other_cookies(self):
        d = consent(begin())
        path = callback_with(d, iss="https://accounts.google.com", hd="school.test",
                             session_state="abc.def")
        r = stack().get(path, headers=cookie_header(d.cookie, "theme=dark; _ga=GA1.2.3; "))
        assert_page(self, r, 200, forbidden=[d.code])
        self.assertEqual(admin_row()["status"], "ok")

    def test_oauth_replayed_state_is_refused(self):
        d = connect()
        before = admin_row()
        r = callback(d.callback_path, d.cookie)
        assert_page(self, r, 400, forbidden=[d.code] + self.issued())
        self.assertEqual(len(token_calls()), 1)
        after = admin_row()
        self.assertEqual((after["refreshHex"], after["accessHex"]),
                         (before["refreshHex"], before["accessHex"]))

    def test_oauth_concurrent_callbacks_use_the_state_once(self):
        d = consent(begin())
        procs = [cgi_spawn("oauth_callback", "GET", d.callback_path,
                           headers={"Cookie": COOKIE + "=" + d.cookie}) for _ in range(6)]
        replies = []

        def via_nginx():
            replies.append(callback(d.callback_path, d.cookie).status)

        threads = [threading.Thread(target=via_nginx) for _ in range(2)]
        for t in threads:
            t.start()
        statuses = [cgi_finish(p)[0] for p in procs]
        for t in threads:
            t.join(60)
        statuses += replies
        self.assertEqual(len(statuses), 8)
        self.assertEqual(sorted(statuses), [200] + [400] * 7, statuses)
        self.assertEqual(len(token_calls()), 1)
        self.assertEqual(users_count(), 1)

    # -- state refusals --

    def test_oauth_unknown_state_is_400(self):
        d = consent(begin())
        r = callback(callback_with(d, state=os.urandom(32).hex()), d.cookie)
        assert_page(self, r, 400, forbidden=[d.code])
        self.assertNothingStored()

    def test_oauth_expired_state_is_400(self):
        d = consent(begin())
        stack().sql("UPDATE oauth_states SET expiresAt = UTC_TIMESTAMP() - INTERVAL 1 SECOND")
        r = callback(d.callback_path, d.cookie)
        assert_page(self, r, 400, forbidden=[d.code])
        self.assertNothingStored()

    def test_oauth_cookie_missing_or_mismatched_is_400(self):
        d = consent(begin())
        other = begin()  # another browser's cookie, a valid one
        cases = {"no cookie": None, "another browser's": other.cookie,
                 "altered": d.cookie[:-1] + ("0" if d.cookie[-1] != "0" else "1"),
                 "empty": "", "the state itself": d.state}
        for name, value in cases.items():
            with self.subTest(cookie=name):
                r = callback(d.callback_path, value)
                assert_page(self, r, 400, forbidden=[d.code])
                self.assertNothingStored()
        # A cookie of another name is not ours either.
        r = stack().get(d.callback_path, headers={"Cookie": "x" + COOKIE + "=" + d.cookie})
        assert_page(self, r, 400, forbidden=[d.code])
        self.assertNothingStored()

    def test_oauth_missing_code_or_state_is_400(self):
        d = consent(begin())
        for name, path in (("no code", callback_with(d, code=None)),
                           ("no state", callback_with(d, state=None)),
                           ("nothing", CALLBACK),
                           ("empty code", callback_with(d, code="")),
                           ("empty state", callback_with(d, state=""))):
            with self.subTest(case=name):
                assert_page(self, callback(path, d.cookie), 400, forbidden=[d.code])
                self.assertNothingStored()

    # -- Google's errors --

    def test_oauth_access_denied_page(self):
        sim_google({"consent": {"deny": True}})
        d = consent(begin())
        self.assertEqual(d.callback_query.get("error"), "access_denied")
        self.assertEqual(d.callback_query.get("state"), d.state)
        p = assert_page(self, callback(d.callback_path, d.cookie), 400)
        # In English or in Spanish (the school's language).
        self.assertRegex(p.text, r"(?i)denied|not (been )?granted|did not (grant|allow)|"
                                 r"didn't (grant|allow)|declined|refused|"
                                 r"no se (dio|otorg|concedi)|no (fue|fueron) (concedid|otorgad)|"
                                 r"denegad|rechaz|no (diste|concediste|aceptaste)")
        self.assertTrue(links_to_start(p), p.links)
        self.assertNothingStored()

    def test_oauth_other_google_error_is_named_escaped(self):
        d = begin()
        p = assert_page(self, callback(CALLBACK + "?" + urllib.parse.urlencode(
            {"error": "server_error", "state": d.state}), d.cookie), 400)
        self.assertIn("server_error", p.text)
        evil = "<i id=\"evil\">x</i>'&y"
        r = callback(CALLBACK + "?" + urllib.parse.urlencode(
            {"error": evil, "error_description": "<script>alert(1)</script>",
             "error_uri": "javascript:alert(2)", "state": d.state}), d.cookie)
        p = assert_page(self, r, 400)
        body = r.body.decode()
        self.assertNotIn("<i id=", body)
        self.assertNotIn("<script>alert", body)
        self.assertFalse([h for h in p.links if h.strip().lower().startswith("javascript:")],
                         p.links)
        self.assertIn(evil, p.text, "the error is named, as text")
        self.assertNothingStored()

    def test_oauth_token_endpoint_4xx_is_400(self):
        sim_google({"code_ttl_s": 0})  # the code is stale when exchanged
        d = consent(begin())
        p = assert_page(self, callback(d.callback_path, d.cookie), 400, forbidden=[d.code])
        self.assertTrue(p.text)
        self.assertNothingStored(token_posts=1)
        self.assertEqual(token_calls()[0]["status"], 400)

    def test_oauth_token_endpoint_5xx_or_silent_is_502_once(self):
        for name, rule in (("500", {"status": 500}), ("503", {"status": 503}),
                           ("dropped", {"drop": True})):
            with self.subTest(fault=name):
                reset_all()
                sim_fault(dict(rule, method="POST", path="^/token$", times=-1))
                d = consent(begin())
                assert_page(self, callback(d.callback_path, d.cookie), 502, forbidden=[d.code])
                self.assertNothingStored(token_posts=1)

    # -- the account --

    def test_oauth_admin_email_is_case_folded(self):
        sim_google({"accounts": [{"email": "Admin@School.test"}]})
        d = connect()
        assert_page(self, d.callback, 200, forbidden=self.issued())
        rows = stack().sql("SELECT LOWER(email), role, googleSub, googleTokenStatus FROM users")
        self.assertEqual(rows, [[ADMIN, "admin", ADMIN_SUB, "ok"]])

    def test_oauth_existing_admin_row_is_updated(self):
        stack().sql("INSERT INTO users (email, role) VALUES ('%s', 'admin')" % ADMIN)
        d = connect()
        assert_page(self, d.callback, 200)
        self.assertEqual(users_count(), 1)
        row = admin_row()
        self.assertEqual((row["status"], row["sub"]), ("ok", ADMIN_SUB))
        access, refresh = sim_tokens()
        assert_sealed(self, row["refresh"], [refresh[0]["token"]])

    def test_oauth_other_account_is_403(self):
        # The admin had connected once and it broke: a wrong account must
        # not touch that row.
        stack().sql("INSERT INTO users (email, role, googleSub, googleRefreshToken, "
                    "googleTokenStatus) VALUES ('%s', 'admin', '%s', x'0102030405', 'broken')"
                    % (ADMIN, ADMIN_SUB))
        sim_google({"accounts": [{"email": "someone@else.test",
                                  "sub": "200000000000000000002"}],
                    "consent": {"email": "someone@else.test"}})
        d = connect(expect=None)
        assert_page(self, d.callback, 403, forbidden=[d.code] + self.issued())
        self.assertEqual(stack().sql("SELECT email, HEX(googleRefreshToken), googleTokenStatus, "
                                     "googleSub FROM users"),
                         [[ADMIN, "0102030405", "broken", ADMIN_SUB]])
        self.assertEqual(len(token_calls()), 1)
        self.assertIs(get_status(self)["connected"], False)

    def test_oauth_unverified_email_is_403(self):
        sim_google({"accounts": [{"email": ADMIN, "email_verified": False}]})
        d = connect(expect=None)
        assert_page(self, d.callback, 403, forbidden=[d.code] + self.issued())
        self.assertNothingStored(token_posts=1)

    def test_oauth_no_refresh_token_explains_how_to_revoke(self):
        sim_google({"consent": {"refresh_token": False}})
        d = connect(expect=None)
        p = assert_page(self, d.callback, 400, forbidden=[d.code] + self.issued())
        self.assertIn("myaccount.google.com/permissions", d.callback.body.decode())
        self.assertTrue(links_to_start(p), p.links)
        self.assertNothingStored(token_posts=1)

    def test_oauth_calendar_scope_not_granted_is_400(self):
        sim_google({"consent": {"scopes": ["openid", "email", "profile"]}})
        d = connect(expect=None)
        self.assertNotIn(CAL_SCOPE, d.callback_query.get("scope", ""))
        assert_page(self, d.callback, 400, forbidden=[d.code] + self.issued())
        self.assertNothingStored(token_posts=1)

    def token_answer(self, claims, access_token, refresh_token="1//crafted-refresh-0123456789abcdef"):
        body = {"access_token": access_token, "expires_in": 3599, "scope": SCOPES,
                "token_type": "Bearer", "refresh_token": refresh_token}
        if claims is not None:
            body["id_token"] = fake_jwt(claims)
        sim_fault({"method": "POST", "path": "^/token$", "status": 200, "body": body,
                   "times": 1})

    def claims(self, **changes):
        now = int(time.time())
        c = {"iss": "https://accounts.google.com", "azp": env("AUTH_GOOGLE_ID"),
             "aud": env("AUTH_GOOGLE_ID"), "sub": ADMIN_SUB, "iat": now, "exp": now + 3600,
             "email": ADMIN, "email_verified": True}
        for k, v in changes.items():
            if v is None:
                c.pop(k)
            else:
                c[k] = v
        return c

    def test_oauth_email_from_userinfo_when_id_token_lacks_it(self):
        for name, claims in (("no email claims", self.claims(email=None, email_verified=None)),
                             ("no id_token", None)):
            with self.subTest(case=name):
                reset_all()
                grant = sim_grant()  # a live access token for the admin
                clear_sim_log()
                rt = "1//crafted-refresh-" + os.urandom(12).hex()
                self.token_answer(claims, grant["access_token"], rt)
                d = connect(expect=None)
                assert_page(self, d.callback, 200, forbidden=[rt, grant["access_token"]])
                info = sim_log(r"^/v1/userinfo$", "GET")
                self.assertGreaterEqual(len(info), 1)
                self.assertEqual(info[0]["headers"].get("authorization"),
                                 "Bearer " + grant["access_token"])
                row = admin_row()
                self.assertEqual((row["status"], row["sub"]), ("ok", ADMIN_SUB))
                assert_sealed(self, row["refresh"], [rt])

    def test_oauth_id_token_claims_are_checked(self):
        # The access token is worthless, so userinfo cannot vouch for the
        # account: only the ID token's claims could, and they are wrong.
        now = int(time.time())
        for name, claims in (("aud", self.claims(aud="other-client.apps.googleusercontent.com")),
                             ("iss", self.claims(iss="https://accounts.evil.example")),
                             ("exp", self.claims(exp=now - 600, iat=now - 4200)),
                             ("email_verified", self.claims(email_verified=False))):
            with self.subTest(claim=name):
                reset_all()
                self.token_answer(claims, "ya29.worthless-" + os.urandom(16).hex())
                d = connect(expect=None)
                self.assertIn(d.callback.status, (400, 403, 502), d.callback)
                assert_page(self, d.callback, d.callback.status, forbidden=[d.code])
                self.assertNothingStored(token_posts=1)

    def test_oauth_id_token_issuer_without_scheme_is_google(self):
        # Google's documentation: iss is https://accounts.google.com or
        # accounts.google.com.
        self.token_answer(self.claims(iss="accounts.google.com"),
                          "ya29.worthless-" + os.urandom(16).hex())
        d = connect(expect=None)
        assert_page(self, d.callback, 200, forbidden=[d.code])
        self.assertEqual(admin_row()["status"], "ok")


class OAuthStatus(unittest.TestCase):
    def setUp(self):
        reset_all()

    def tearDown(self):
        clean_up()

    def test_oauth_status_needs_the_internal_token(self):
        for headers in ({}, {"Authorization": "Bearer nope"}):
            r = stack().get(STATUS, headers=headers)
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
            self.assertEqual(r.header("Cache-Control"), "no-store")
            self.assertEqual(r.json()["error"]["code"], "unauthorized")

    def test_oauth_status_not_connected(self):
        self.assertEqual(get_status(self), {"connected": False, "email": None,
                                            "connectedAt": None, "scopes": None,
                                            "lastRefreshAt": None,
                                            "lastRefreshError": None})


if __name__ == "__main__":
    unittest.main()
