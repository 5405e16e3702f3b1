#!/usr/bin/env python3
"""Self-test of the Google / MercadoPago simulator (standard library only).

Starts simulator.py on a free port in a subprocess and exercises every
feature over real HTTP.  Run:  python3 tests/sim/test_simulator.py
The last line printed is "N passed, N failed"; exit status 0 only when
everything passed.
"""

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True     # keep __pycache__ out of the tree
import simulator  # noqa: E402  (for mp_signature and the pure functions)

CAL = "school@group.calendar.google.com"
CLIENT_ID = "sim-client-id.apps.googleusercontent.com"
CLIENT_SECRET = "sim-client-secret"
REDIRECT = "http://127.0.0.1:8080/oauth/google/callback"
SCOPE_EVENTS = "https://www.googleapis.com/auth/calendar.events"
SCOPE_CAL = "https://www.googleapis.com/auth/calendar"
MP_TOKEN = "sim-mp-access-token"


# ---------------------------------------------------------------------------
# Harness: one simulator process for the whole module
# ---------------------------------------------------------------------------

class Sim:
    proc = None
    port = None
    tmp = None


def start_simulator(tmpdir, name="sim"):
    port_file = os.path.join(tmpdir, name + ".port")
    log = os.path.join(tmpdir, name + ".log")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "simulator.py"), "--host",
         "127.0.0.1", "--port", "0", "--port-file", port_file, "--log", log],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(
            tmpdir, name + ".stderr"), "w"))
    deadline = time.time() + 10
    while time.time() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as fh:
                text = fh.read()
            return proc, int(text.strip()), port_file, log
        if proc.poll() is not None:
            raise RuntimeError("simulator exited with %s" % proc.returncode)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("simulator did not start")


def setUpModule():
    Sim.tmp = tempfile.TemporaryDirectory()
    Sim.proc, Sim.port, _, _ = start_simulator(Sim.tmp.name)


def tearDownModule():
    if Sim.proc is not None:
        Sim.proc.send_signal(signal.SIGTERM)
        try:
            rc = Sim.proc.wait(10)
        except subprocess.TimeoutExpired:
            Sim.proc.kill()
            raise
        if rc != 0:
            raise RuntimeError("simulator exited with %d" % rc)
    with open(os.path.join(Sim.tmp.name, "sim.stderr")) as fh:
        errors = fh.read()
    Sim.tmp.cleanup()
    if "Traceback" in errors:
        raise RuntimeError("the simulator logged exceptions:\n" + errors)


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body.decode()) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<Reply %d %r>" % (self.status, self.body[:300])


def call(method, path, body=None, headers=None, form=None, conn=None,
         query=None):
    """One HTTP request to the simulator (new connection unless given)."""
    hdrs = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    if query:
        path += ("&" if "?" in path else "?") + urllib.parse.urlencode(
            query, doseq=True)
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", Sim.port, timeout=10)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in
                                   resp.getheaders()}, raw)
    finally:
        if own:
            conn.close()


def ctl(method, path, body=None, query=None):
    r = call(method, "/_sim/" + path, body=body, query=query)
    if r.status != 200:
        raise AssertionError("control %s %s -> %r" % (method, path, r))
    return r.json


def q(s):
    return urllib.parse.quote(s, safe="")


def events_path(cal=CAL, eid=None):
    p = "/calendar/v3/calendars/%s/events" % q(cal)
    return p + ("/" + q(eid) if eid else "")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def authorize(scope="openid email profile " + SCOPE_EVENTS,
              access_type="offline", prompt="consent", login_hint=None,
              verifier=None, state="st4te", method="S256", extra=None,
              redirect=REDIRECT):
    """GET the consent URL; returns (Reply, parsed redirect query)."""
    params = {"client_id": CLIENT_ID, "redirect_uri": redirect,
              "response_type": "code", "scope": scope, "state": state}
    if access_type:
        params["access_type"] = access_type
    if prompt:
        params["prompt"] = prompt
    if login_hint:
        params["login_hint"] = login_hint
    if verifier:
        challenge = b64url(hashlib.sha256(verifier.encode()).digest()) \
            if method == "S256" else verifier
        params["code_challenge"] = challenge
        params["code_challenge_method"] = method
    params.update(extra or {})
    r = call("GET", "/o/oauth2/v2/auth?" + urllib.parse.urlencode(params))
    loc = r.headers.get("location")
    got = {}
    if loc:
        got = {k: v[0] for k, v in urllib.parse.parse_qs(
            urllib.parse.urlsplit(loc).query).items()}
        got["_location"] = loc
    return r, got


def exchange(code, verifier=None, redirect=REDIRECT, secret=CLIENT_SECRET):
    form = {"grant_type": "authorization_code", "code": code,
            "client_id": CLIENT_ID, "client_secret": secret,
            "redirect_uri": redirect}
    if verifier:
        form["code_verifier"] = verifier
    return call("POST", "/token", form=form)


def login(scope="openid email profile " + SCOPE_EVENTS, **kw):
    verifier = b64url(secrets.token_bytes(48))
    r, got = authorize(scope=scope, verifier=verifier, **kw)
    assert r.status == 302, r
    t = exchange(got["code"], verifier)
    assert t.status == 200, t
    return t.json


def bearer(token):
    return {"Authorization": "Bearer " + token}


def dtz(s):
    return {"dateTime": s, "timeZone": "America/Argentina/Buenos_Aires"}


class Base(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        ctl("POST", "reset")
        self._token = None

    @property
    def token(self):
        if self._token is None:
            self._token = login()["access_token"]
        return self._token

    def api(self, method, path, body=None, token=None, query=None,
            headers=None, conn=None):
        hdrs = dict(bearer(token or self.token))
        hdrs.update(headers or {})
        return call(method, path, body=body, headers=hdrs, query=query,
                    conn=conn)

    def insert(self, body, query=None, cal=CAL):
        r = self.api("POST", events_path(cal), body, query=query)
        self.assertEqual(r.status, 200, r)
        return r.json

    def list_all(self, query=None, cal=CAL, token=None):
        """Follow nextPageToken; returns (items, pages, nextSyncToken)."""
        items, pages, page_token = [], 0, None
        while True:
            qq = dict(query or {})
            if page_token:
                qq["pageToken"] = page_token
            r = self.api("GET", events_path(cal), query=qq, token=token)
            self.assertEqual(r.status, 200, r)
            pages += 1
            items += r.json["items"]
            self.assertFalse("nextPageToken" in r.json
                             and "nextSyncToken" in r.json)
            page_token = r.json.get("nextPageToken")
            if not page_token:
                self.assertIn("nextSyncToken", r.json)
                return items, pages, r.json["nextSyncToken"]

    def assertGoogleError(self, r, status, reason, message=None):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers["content-type"].startswith(
            "application/json"), r.headers)
        err = r.json["error"]
        self.assertEqual(err["code"], status)
        self.assertEqual(err["errors"][0]["reason"], reason, r)
        if message is not None:
            self.assertIn(message, err["message"])
        return err


# ---------------------------------------------------------------------------
# OAuth
# ---------------------------------------------------------------------------

class OAuthTests(Base):
    def test_happy_path_with_pkce(self):
        verifier = b64url(secrets.token_bytes(48))
        r, got = authorize(verifier=verifier)
        self.assertEqual(r.status, 302)
        self.assertTrue(got["_location"].startswith(REDIRECT + "?"))
        self.assertEqual(got["state"], "st4te")
        self.assertEqual(got["authuser"], "0")
        self.assertEqual(got["prompt"], "consent")
        self.assertEqual(got["scope"].split(),
                         ["openid", "email", "profile", SCOPE_EVENTS])
        t = exchange(got["code"], verifier)
        self.assertEqual(t.status, 200, t)
        self.assertIn("no-store", t.headers["cache-control"])
        body = t.json
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3600)
        self.assertIn(SCOPE_EVENTS, body["scope"].split())
        self.assertTrue(body["refresh_token"])
        header = json.loads(base64.urlsafe_b64decode(
            body["id_token"].split(".")[0] + "=="))
        self.assertEqual(header, {"alg": "RS256", "kid": "sim",
                                  "typ": "JWT"})
        claims = jwt_claims(body["id_token"])
        self.assertEqual(claims["iss"], "https://accounts.google.com")
        self.assertEqual(claims["aud"], CLIENT_ID)
        self.assertEqual(claims["azp"], CLIENT_ID)
        self.assertEqual(claims["sub"], "100000000000000000001")
        self.assertEqual(claims["email"], "admin@school.test")
        self.assertIs(claims["email_verified"], True)
        self.assertEqual(claims["exp"], claims["iat"] + 3600)
        digest = hashlib.sha256(body["access_token"].encode()).digest()
        self.assertEqual(claims["at_hash"], b64url(digest[:16]))
        u = call("GET", "/v1/userinfo", headers=bearer(body["access_token"]))
        self.assertEqual(u.status, 200, u)
        self.assertEqual(u.json["email"], "admin@school.test")
        self.assertEqual(u.json["sub"], "100000000000000000001")
        for k in ("email_verified", "name", "given_name", "family_name",
                  "picture"):
            self.assertIn(k, u.json)
        # the live token is visible to tests
        view = ctl("GET", "google")
        self.assertIn(body["access_token"],
                      [a["token"] for a in view["tokens"]["access"]])

    def test_wrong_or_missing_verifier(self):
        verifier = b64url(secrets.token_bytes(48))
        _, got = authorize(verifier=verifier)
        r = exchange(got["code"], "x" * 50)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"], "invalid_grant")
        r = exchange(got["code"], None)
        self.assertEqual(r.json, {"error": "invalid_grant",
                                  "error_description":
                                  "Missing code verifier."})
        # plain is accepted as Google does
        _, got = authorize(verifier="p" * 43, method="plain")
        self.assertEqual(exchange(got["code"], "p" * 43).status, 200)

    def test_code_single_use_and_unknown(self):
        verifier = b64url(secrets.token_bytes(48))
        _, got = authorize(verifier=verifier)
        self.assertEqual(exchange(got["code"], verifier).status, 200)
        r = exchange(got["code"], verifier)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"], "invalid_grant")
        r = exchange("4/0Anonsense", verifier)
        self.assertEqual(r.json, {"error": "invalid_grant",
                                  "error_description":
                                  "Malformed auth code."})
        ctl("POST", "google", {"code_ttl_s": 0.2})
        _, got = authorize(verifier=verifier)
        time.sleep(0.3)
        r = exchange(got["code"], verifier)
        self.assertEqual((r.status, r.json["error"]), (400, "invalid_grant"))

    def test_token_endpoint_errors(self):
        verifier = b64url(secrets.token_bytes(48))
        _, got = authorize(verifier=verifier)
        r = exchange(got["code"], verifier, secret="wrong")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json, {"error": "invalid_client",
                                  "error_description": "Unauthorized"})
        r = exchange(got["code"], verifier,
                     redirect="http://127.0.0.1:9/oauth/google/callback")
        self.assertEqual((r.status, r.json["error"]),
                         (400, "redirect_uri_mismatch"))
        r = call("POST", "/token", form={"grant_type": "password",
                                         "client_id": CLIENT_ID,
                                         "client_secret": CLIENT_SECRET})
        self.assertEqual((r.status, r.json["error"]),
                         (400, "unsupported_grant_type"))
        r = call("POST", "/token", form={"grant_type": "authorization_code",
                                         "client_id": CLIENT_ID,
                                         "client_secret": CLIENT_SECRET})
        self.assertEqual((r.status, r.json["error"]), (400,
                                                       "invalid_request"))
        # client credentials through HTTP Basic
        basic = base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET))
                                 .encode()).decode()
        r = call("POST", "/token", headers={"Authorization": "Basic " + basic},
                 form={"grant_type": "authorization_code",
                       "code": got["code"], "redirect_uri": REDIRECT,
                       "code_verifier": verifier})
        self.assertEqual(r.status, 200, r)

    def test_authorize_errors_and_denial(self):
        r, got = authorize(extra={"client_id": "nobody"})
        self.assertEqual(r.status, 400)
        self.assertNotIn("location", r.headers)
        self.assertIn(b"invalid_client", r.body)
        r, _ = authorize(redirect="http://evil.test/cb")
        self.assertEqual(r.status, 400)
        self.assertIn(b"redirect_uri_mismatch", r.body)
        r, _ = authorize(scope="")
        self.assertEqual(r.status, 400)
        r, _ = authorize(verifier="v" * 50, method="S512")
        self.assertEqual(r.status, 400)
        # configured redirect URI, and the loopback pattern with any port
        ctl("POST", "google", {"redirect_uris": ["https://demo.test/cb"]})
        self.assertEqual(authorize(redirect="https://demo.test/cb")[0]
                         .status, 302)
        self.assertEqual(authorize(
            redirect="http://localhost:5555/oauth/google/callback")[0]
            .status, 302)
        ctl("POST", "google", {"consent": {"deny": True}})
        r, got = authorize()
        self.assertEqual(r.status, 302)
        self.assertEqual(got["error"], "access_denied")
        self.assertEqual(got["state"], "st4te")
        self.assertNotIn("code", got)

    def test_refresh_token_only_on_first_consent(self):
        first = login(prompt=None)
        self.assertIn("refresh_token", first)
        second = login(prompt=None)
        self.assertNotIn("refresh_token", second)
        third = login(prompt="consent")
        self.assertIn("refresh_token", third)
        online = login(access_type=None)
        self.assertNotIn("refresh_token", online)
        ctl("POST", "google", {"consent": {"refresh_token": False}})
        self.assertNotIn("refresh_token", login())

    def test_accounts_and_consent_choice(self):
        ctl("POST", "google", {"accounts": [{"email": "teacher@school.test",
                                             "sub": "2002",
                                             "email_verified": False}]})
        t = login(login_hint="teacher@school.test")
        claims = jwt_claims(t["id_token"])
        self.assertEqual((claims["email"], claims["sub"],
                          claims["email_verified"]),
                         ("teacher@school.test", "2002", False))
        t = login(login_hint="stranger@nowhere.test")
        self.assertEqual(jwt_claims(t["id_token"])["email"],
                         "admin@school.test")
        ctl("POST", "google", {"consent": {"email": "intruder@evil.test"}})
        t = login(login_hint="admin@school.test")
        self.assertEqual(jwt_claims(t["id_token"])["email"],
                         "intruder@evil.test")
        ctl("POST", "google", {"consent": {"email": None,
                                           "scopes": ["openid"]}})
        t = login()
        self.assertEqual(t["scope"], "openid")
        self.assertNotIn("email", jwt_claims(t["id_token"]))

    def test_refresh_and_revoke(self):
        t = login()
        r = call("POST", "/token", form={
            "grant_type": "refresh_token", "refresh_token": t["refresh_token"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refresh_token", r.json)
        self.assertNotEqual(r.json["access_token"], t["access_token"])
        self.assertEqual(r.json["token_type"], "Bearer")
        new_access = r.json["access_token"]
        self.assertEqual(self.api("GET", events_path(),
                                  token=new_access).status, 200)
        # revoke (token in the form): the whole grant goes
        r = call("POST", "/revoke", form={"token": t["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        r = call("POST", "/token", form={
            "grant_type": "refresh_token", "refresh_token": t["refresh_token"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json, {"error": "invalid_grant",
                                  "error_description":
                                  "Token has been expired or revoked."})
        self.assertGoogleError(self.api("GET", events_path(),
                                        token=new_access), 401, "authError")
        r = call("POST", "/revoke?token=" + q(t["refresh_token"]))
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["error"], "invalid_token")
        # after a revocation the next consent gives a refresh token again
        self.assertIn("refresh_token", login(prompt=None))

    def test_control_revoke_and_expire(self):
        t = login()
        ctl("POST", "tokens/revoke", {"email": "admin@school.test"})
        r = call("POST", "/token", form={
            "grant_type": "refresh_token", "refresh_token": t["refresh_token"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        self.assertEqual(r.json["error"], "invalid_grant")
        t = login()
        self.assertEqual(self.api("GET", events_path(),
                                  token=t["access_token"]).status, 200)
        ctl("POST", "tokens/expire")
        r = self.api("GET", events_path(), token=t["access_token"])
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json, {"error": {"errors": [{
            "domain": "global", "reason": "authError",
            "message": "Invalid Credentials", "locationType": "header",
            "location": "Authorization"}], "code": 401,
            "message": "Invalid Credentials"}})
        u = call("GET", "/v1/userinfo", headers=bearer(t["access_token"]))
        self.assertEqual(u.status, 401)
        self.assertIn("www-authenticate", u.headers)
        # the refresh token still works after expiry
        r = call("POST", "/token", form={
            "grant_type": "refresh_token", "refresh_token": t["refresh_token"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        self.assertEqual(r.status, 200)

    def test_short_ttl_expires(self):
        ctl("POST", "google", {"access_token_ttl_s": 1})
        t = login()
        self.assertEqual(t["expires_in"], 1)
        self.assertEqual(self.api("GET", events_path(),
                                  token=t["access_token"]).status, 200)
        time.sleep(1.1)
        self.assertEqual(self.api("GET", events_path(),
                                  token=t["access_token"]).status, 401)


# ---------------------------------------------------------------------------
# Calendar: auth and API keys
# ---------------------------------------------------------------------------

class CalendarAuthTests(Base):
    def test_api_key_rules(self):
        r = call("GET", events_path() + "?key=sim-api-key")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["accessRole"], "reader")
        self.assertEqual(r.json["timeZone"], "America/Argentina/Buenos_Aires")
        r = call("GET", events_path(), headers={"X-Goog-Api-Key":
                                                "sim-api-key"})
        self.assertEqual(r.status, 200)
        err = self.assertGoogleError(call("GET", events_path() + "?key=nope"),
                                     400, "badRequest")
        self.assertEqual(err["message"],
                         "API key not valid. Please pass a valid API key.")
        r = call("POST", events_path() + "?key=sim-api-key",
                 body={"start": dtz("2026-12-01T10:00:00"),
                       "end": dtz("2026-12-01T11:00:00")})
        self.assertGoogleError(r, 401, "required", "Login Required")
        ctl("POST", "calendars/" + q("private@group.calendar.google.com"),
            {"public": False})
        r = call("GET", events_path("private@group.calendar.google.com")
                 + "?key=sim-api-key")
        self.assertEqual(r.json, {"error": {"errors": [{
            "domain": "global", "reason": "notFound", "message": "Not Found"}],
            "code": 404, "message": "Not Found"}})
        r = self.api("GET", events_path("private@group.calendar.google.com"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["accessRole"], "owner")
        self.assertGoogleError(self.api("GET", events_path("nope@x.test")),
                               404, "notFound")
        self.assertGoogleError(call("GET", events_path()), 401, "required")
        self.assertGoogleError(call("GET", events_path(),
                                    headers=bearer("ya29.bogus")),
                               401, "authError")

    def test_insufficient_scope(self):
        t = login(scope="openid email")
        self.assertGoogleError(self.api("GET", events_path(),
                                        token=t["access_token"]),
                               403, "insufficientPermissions")
        # freeBusy is not allowed by calendar.events (protocols.md §6.6)
        r = self.api("POST", "/calendar/v3/freeBusy",
                     {"timeMin": "2026-12-01T00:00:00Z",
                      "timeMax": "2026-12-02T00:00:00Z",
                      "items": [{"id": CAL}]})
        self.assertGoogleError(r, 403, "insufficientPermissions")
        full = login(scope="openid " + SCOPE_CAL)["access_token"]
        self.insert({"start": dtz("2026-12-01T10:00:00"),
                     "end": dtz("2026-12-01T11:00:00")})
        self.insert({"start": dtz("2026-12-01T12:00:00"),
                     "end": dtz("2026-12-01T13:00:00"),
                     "transparency": "transparent"})
        r = self.api("POST", "/calendar/v3/freeBusy",
                     {"timeMin": "2026-12-01T00:00:00Z",
                      "timeMax": "2026-12-02T00:00:00Z",
                      "items": [{"id": CAL}, {"id": "missing@x.test"}]},
                     token=full)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["calendars"][CAL]["busy"],
                         [{"start": "2026-12-01T13:00:00Z",
                           "end": "2026-12-01T14:00:00Z"}])
        self.assertEqual(r.json["calendars"]["missing@x.test"]["errors"][0]
                         ["reason"], "notFound")

    def test_rate_limit(self):
        ctl("POST", "rate_limit", {"per_second": 2, "status": 429,
                                   "retry_after": 1})
        path = events_path() + "?key=sim-api-key"
        self.assertEqual(call("GET", path).status, 200)
        self.assertEqual(call("GET", path).status, 200)
        r = call("GET", path)
        err = self.assertGoogleError(r, 429, "rateLimitExceeded")
        self.assertEqual(err["errors"][0]["domain"], "usageLimits")
        self.assertEqual(r.headers.get("retry-after"), "1")
        # another credential has its own budget
        self.assertEqual(self.api("GET", events_path()).status, 200)
        time.sleep(1.05)
        self.assertEqual(call("GET", path).status, 200)
        ctl("POST", "rate_limit", {"per_second": 1, "status": 403,
                                   "reason": "userRateLimitExceeded"})
        call("GET", path)
        r = call("GET", path)
        self.assertGoogleError(r, 403, "userRateLimitExceeded",
                               "User Rate Limit Exceeded")
        self.assertNotIn("retry-after", r.headers)
        ctl("DELETE", "rate_limit")
        for _ in range(5):
            self.assertEqual(call("GET", path).status, 200)


# ---------------------------------------------------------------------------
# Calendar: insert / get / patch / update / delete
# ---------------------------------------------------------------------------

class EventWriteTests(Base):
    def booking_event(self, **over):
        ev = {"id": "0123456789abcdefghijklmnopqrstuv",
              "summary": "Clase de Inglés",
              "description": "individual, 1 participant",
              "start": dtz("2026-12-01T15:00:00-03:00"),
              "end": dtz("2026-12-01T16:00:00-03:00"),
              "transparency": "opaque",
              "attendees": [{"email": "student@example.com",
                             "displayName": "Student"}],
              "extendedProperties": {"private": {"bookingId": "b1"}},
              "reminders": {"useDefault": False, "overrides": [
                  {"method": "email", "minutes": 60}]},
              "conferenceData": {"createRequest": {
                  "requestId": "req-1",
                  "conferenceSolutionKey": {"type": "hangoutsMeet"}}}}
        ev.update(over)
        return ev

    def test_insert_and_get(self):
        ev = self.insert(self.booking_event(),
                         {"conferenceDataVersion": 1, "sendUpdates": "none"})
        self.assertEqual(ev["id"], "0123456789abcdefghijklmnopqrstuv")
        self.assertEqual(ev["status"], "confirmed")
        self.assertEqual(ev["kind"], "calendar#event")
        self.assertTrue(ev["htmlLink"].startswith(
            "https://www.google.com/calendar/event?eid="))
        self.assertRegex(ev["created"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(ev["sequence"], 0)
        self.assertTrue(ev["etag"].startswith('"'))
        self.assertEqual(ev["iCalUID"], ev["id"] + "@google.com")
        self.assertEqual(ev["start"]["dateTime"], "2026-12-01T15:00:00-03:00")
        self.assertEqual(ev["extendedProperties"]["private"]["bookingId"],
                         "b1")
        # default conference_pending_gets 0: success in the insert answer
        cd = ev["conferenceData"]
        self.assertEqual(cd["createRequest"]["status"]["statusCode"],
                         "success")
        self.assertRegex(ev["hangoutLink"],
                         r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-"
                         r"[a-z]{3}$")
        self.assertEqual(cd["conferenceId"],
                         ev["hangoutLink"].rsplit("/", 1)[1])
        kinds = [e["entryPointType"] for e in cd["entryPoints"]]
        self.assertIn("video", kinds)
        self.assertIn("phone", kinds)
        self.assertEqual(cd["conferenceSolution"]["name"], "Google Meet")
        g = self.api("GET", events_path(eid=ev["id"]))
        self.assertEqual(g.status, 200)
        self.assertEqual(g.json["hangoutLink"], ev["hangoutLink"])
        # dateTime is answered in the calendar's zone
        ev2 = self.insert({"start": {"dateTime": "2026-12-02T18:00:00Z"},
                           "end": {"dateTime": "2026-12-02T19:00:00Z"}})
        self.assertEqual(ev2["start"]["dateTime"],
                         "2026-12-02T15:00:00-03:00")
        self.assertRegex(ev2["id"], r"^[a-v0-9]{5,}$")
        # without conferenceDataVersion=1 conferenceData is ignored
        ev3 = self.insert(self.booking_event(id="abcde12345"))
        self.assertNotIn("conferenceData", ev3)
        self.assertNotIn("hangoutLink", ev3)

    def test_insert_validation(self):
        good = self.booking_event()
        good.pop("conferenceData")
        cases = [
            (dict(good, foo=1), "foo"),
            (dict(good, attendees=[{"email": "a@b.co", "bogus": True}]),
             "attendees[0].bogus"),
            (dict(good, summary=5), "summary"),
            (dict(good, start={"dateTime": 5}), "start.dateTime"),
            (dict(good, attendees="a@b.co"), "attendees"),
            (dict(good, guestsCanModify="yes"), "guestsCanModify"),
            (dict(good, reminders={"overrides": [{"minutes": "10"}]}),
             "reminders.overrides[0].minutes"),
        ]
        for body, field in cases:
            r = self.api("POST", events_path(), body)
            self.assertEqual(r.status, 400, (field, r))
            self.assertIn(field, r.json["error"]["message"], field)
        for bad_id in ("ABCDEF12345", "abw12345", "ab1", "a-b-c-d-e"):
            r = self.api("POST", events_path(), dict(good, id=bad_id))
            self.assertGoogleError(r, 400, "invalid",
                                   "Invalid resource id value.")
        r = self.api("POST", events_path(), dict(
            good, start={"dateTime": "2026-12-01T15:00:00"}))
        self.assertGoogleError(r, 400, "required",
                               "Missing time zone definition for start "
                               "time.")
        r = self.api("POST", events_path(), dict(
            good, end=dtz("2026-12-01T14:00:00-03:00")))
        self.assertGoogleError(r, 400, "timeRangeEmpty",
                               "The specified time range is empty.")
        body = dict(good)
        body.pop("end")
        self.assertEqual(self.api("POST", events_path(), body).status, 400)
        r = self.api("POST", events_path(), dict(
            good, end={"date": "2026-12-02"}))
        self.assertEqual(r.status, 400)
        for qs in ({"conferenceDataVersion": 2}, {"sendUpdates": "bogus"},
                   {"maxAttendees": 0}, {"supportsAttachments": "maybe"}):
            r = self.api("POST", events_path(), good, query=qs)
            self.assertEqual(r.status, 400, qs)
            self.assertIn(list(qs)[0], json.dumps(r.json))
        r = self.api("POST", events_path(), b"{not json",
                     headers={"Content-Type": "application/json"})
        self.assertGoogleError(r, 400, "parseError")
        # read-only fields are accepted and ignored
        ev = self.insert(dict(good, hangoutLink="https://x", kind="k",
                              etag='"1"'))
        self.assertNotIn("hangoutLink", ev)
        # duplicate id, even of a deleted event -> 409 exactly as §2.2
        dup = self.api("POST", events_path(), good)
        self.assertEqual(dup.status, 409)
        self.assertEqual(dup.json, {"error": {"errors": [{
            "domain": "global", "reason": "duplicate",
            "message": "The requested identifier already exists."}],
            "code": 409,
            "message": "The requested identifier already exists."}})
        self.assertEqual(self.api("DELETE", events_path(eid=good["id"]))
                         .status, 204)
        self.assertEqual(self.api("POST", events_path(), good).status, 409)

    def test_conference_pending_then_success(self):
        ctl("POST", "google", {"conference_pending_gets": 2})
        ev = self.insert(self.booking_event(), {"conferenceDataVersion": 1})
        status = lambda e: e["conferenceData"]["createRequest"]["status"][
            "statusCode"]
        self.assertEqual(status(ev), "pending")
        self.assertNotIn("hangoutLink", ev)
        self.assertNotIn("entryPoints", ev["conferenceData"])
        self.assertEqual(ev["conferenceData"]["createRequest"]["requestId"],
                         "req-1")
        seen = []
        for _ in range(3):
            g = self.api("GET", events_path(eid=ev["id"])).json
            seen.append(status(g))
        self.assertEqual(seen, ["pending", "pending", "success"])
        self.assertRegex(g["hangoutLink"],
                         r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-"
                         r"[a-z]{3}$")
        video = [e for e in g["conferenceData"]["entryPoints"]
                 if e["entryPointType"] == "video"][0]
        self.assertEqual(video["uri"], g["hangoutLink"])
        self.assertEqual(video["label"], g["hangoutLink"][len("https://"):])
        # patch with the same requestId keeps the conference
        p = self.api("PATCH", events_path(eid=ev["id"]),
                     {"start": dtz("2026-12-01T17:00:00-03:00"),
                      "end": dtz("2026-12-01T18:00:00-03:00"),
                      "conferenceData": {"createRequest": {
                          "requestId": "req-1", "conferenceSolutionKey":
                          {"type": "hangoutsMeet"}}}},
                     query={"conferenceDataVersion": 1})
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json["hangoutLink"], g["hangoutLink"])
        self.assertEqual(p.json["sequence"], 1)
        ctl("POST", "google", {"conference_failure": True,
                               "conference_pending_gets": 0})
        ev = self.insert(self.booking_event(id="failfail01"),
                         {"conferenceDataVersion": 1})
        self.assertEqual(status(ev), "failure")
        self.assertNotIn("hangoutLink", ev)
        self.assertNotIn("entryPoints", ev["conferenceData"])
        r = self.api("POST", events_path(), self.booking_event(
            id="badtype01", conferenceData={"createRequest": {
                "requestId": "x", "conferenceSolutionKey":
                {"type": "eventHangout"}}}),
            query={"conferenceDataVersion": 1})
        self.assertEqual(r.status, 400)

    def test_patch_update_delete(self):
        ev = self.insert({"summary": "A", "description": "d",
                          "start": dtz("2026-12-01T10:00:00-03:00"),
                          "end": dtz("2026-12-01T11:00:00-03:00")})
        path = events_path(eid=ev["id"])
        p = self.api("PATCH", path, {"summary": "B"})
        self.assertEqual(p.status, 200)
        self.assertEqual((p.json["summary"], p.json["description"],
                          p.json["start"]), ("B", "d", ev["start"]))
        self.assertEqual(p.json["sequence"], 1)
        self.assertNotEqual(p.json["etag"], ev["etag"])
        r = self.api("PATCH", path, {"end": dtz("2026-12-01T09:00:00-03:00")})
        self.assertGoogleError(r, 400, "timeRangeEmpty")
        self.assertGoogleError(self.api("PATCH", path, {"nope": 1}), 400,
                               "invalid")
        r = self.api("PATCH", path, {"summary": "C"},
                     headers={"If-Match": '"stale"'})
        self.assertGoogleError(r, 412, "conditionNotMet")
        u = self.api("PUT", path, {"summary": "Full",
                                   "start": dtz("2026-12-01T12:00:00-03:00"),
                                   "end": dtz("2026-12-01T13:00:00-03:00")})
        self.assertEqual(u.status, 200, u)
        self.assertNotIn("description", u.json)
        self.assertEqual(u.json["sequence"], 2)
        self.assertEqual(u.json["created"], ev["created"])
        self.assertEqual(self.api("PUT", path, {"summary": "x"}).status, 400)
        d = self.api("DELETE", path, query={"sendUpdates": "all"})
        self.assertEqual(d.status, 204)
        self.assertEqual(d.body, b"")
        self.assertEqual(d.headers["content-length"], "0")
        d = self.api("DELETE", path)
        self.assertEqual(d.json, {"error": {"errors": [{
            "domain": "global", "reason": "deleted",
            "message": "Resource has been deleted"}], "code": 410,
            "message": "Resource has been deleted"}})
        g = self.api("GET", path)
        self.assertEqual((g.status, g.json["status"]), (200, "cancelled"))
        self.assertGoogleError(self.api("GET", events_path(eid="nothere1")),
                               404, "notFound")
        self.assertGoogleError(self.api("DELETE",
                                        events_path(eid="nothere1")),
                               404, "notFound")
        self.assertGoogleError(self.api("PATCH", events_path(eid="nothere1"),
                                        {"summary": "x"}), 404, "notFound")
        r = self.api("DELETE", events_path(eid="nothere1") +
                     "?sendUpdates=loud")
        self.assertEqual(r.status, 400)

    def test_fields_and_pretty_print(self):
        self.insert({"summary": "A", "start": dtz("2026-12-01T10:00:00-03:00"),
                     "end": dtz("2026-12-01T11:00:00-03:00")})
        r = self.api("GET", events_path(),
                     query={"fields": "items(id,start),nextSyncToken",
                            "prettyPrint": "false"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"items", "nextSyncToken"})
        self.assertEqual(set(r.json["items"][0]), {"id", "start"})
        self.assertNotIn(b"\n", r.body)
        r = self.api("GET", events_path(), query={"fields": "bogus"})
        self.assertEqual(r.status, 400)


# ---------------------------------------------------------------------------
# Calendar: list, windows, recurrence, sync
# ---------------------------------------------------------------------------

class ListTests(Base):
    def test_paging_over_250(self):
        ctl("POST", "calendars/%s/events" % q(CAL), [
            {"summary": "e%d" % i,
             "start": {"dateTime": "2026-12-%02dT%02d:00:00-03:00"
                       % (1 + i // 12, 8 + i % 12)},
             "end": {"dateTime": "2026-12-%02dT%02d:30:00-03:00"
                     % (1 + i // 12, 8 + i % 12)}} for i in range(300)])
        r = self.api("GET", events_path())
        self.assertEqual(len(r.json["items"]), 250)
        self.assertIn("nextPageToken", r.json)
        self.assertNotIn("nextSyncToken", r.json)
        items, pages, _ = self.list_all()
        self.assertEqual((len(items), pages), (300, 2))
        self.assertEqual(len({e["id"] for e in items}), 300)
        items, pages, _ = self.list_all({"maxResults": 100,
                                         "singleEvents": "true",
                                         "orderBy": "startTime"})
        self.assertEqual((len(items), pages), (300, 3))
        starts = [e["start"]["dateTime"] for e in items]
        self.assertEqual(starts, sorted(starts))
        items, pages, _ = self.list_all({"maxResults": 5000})
        self.assertEqual((len(items), pages), (300, 1))
        self.assertEqual(self.api("GET", events_path(),
                                  query={"maxResults": 0}).status, 400)
        r = self.api("GET", events_path(), query={"pageToken": "garbage"})
        self.assertGoogleError(r, 400, "invalid")

    def test_time_window_is_exclusive(self):
        ev = self.insert({"start": {"dateTime": "2026-12-01T10:00:00Z"},
                          "end": {"dateTime": "2026-12-01T11:00:00Z"}})

        def ids(**qs):
            r = self.api("GET", events_path(), query=qs)
            self.assertEqual(r.status, 200, r)
            return [e["id"] for e in r.json["items"]]

        self.assertEqual(ids(timeMin="2026-12-01T11:00:00Z"), [])
        self.assertEqual(ids(timeMin="2026-12-01T10:59:59Z"), [ev["id"]])
        self.assertEqual(ids(timeMax="2026-12-01T10:00:00Z"), [])
        self.assertEqual(ids(timeMax="2026-12-01T07:00:01-03:00"), [ev["id"]])
        self.assertEqual(ids(timeMin="2026-12-01T10:30:00.123Z",
                             timeMax="2026-12-01T10:31:00Z"), [ev["id"]])
        r = self.api("GET", events_path(), query={
            "timeMin": "2026-12-01T11:00:00Z",
            "timeMax": "2026-12-01T11:00:00Z"})
        err = self.assertGoogleError(r, 400, "timeRangeEmpty")
        self.assertEqual(err["errors"][0]["domain"], "calendar")
        r = self.api("GET", events_path(),
                     query={"timeMin": "2026-12-01T10:00:00"})
        self.assertEqual(r.status, 400)
        self.assertIn("timeMin", json.dumps(r.json))
        r = self.api("GET", events_path(), query={"timeMax": "tomorrow"})
        self.assertIn("timeMax", json.dumps(r.json))
        r = self.api("GET", events_path(), query={"orderBy": "startTime"})
        self.assertEqual(r.status, 400)

    def test_all_day_uses_calendar_zone(self):
        ev = self.insert({"start": {"date": "2026-03-10"},
                          "end": {"date": "2026-03-11"}})

        def ids(tmin, tmax):
            r = self.api("GET", events_path(),
                         query={"timeMin": tmin, "timeMax": tmax})
            return [e["id"] for e in r.json["items"]]

        # Buenos Aires is UTC-3: the day runs 03:00Z .. 03:00Z next day
        self.assertEqual(ids("2026-03-10T00:00:00Z", "2026-03-10T03:00:00Z"),
                         [])
        self.assertEqual(ids("2026-03-10T00:00:00Z", "2026-03-10T03:00:01Z"),
                         [ev["id"]])
        self.assertEqual(ids("2026-03-11T03:00:00Z", "2026-03-12T00:00:00Z"),
                         [])
        self.assertEqual(ids("2026-03-11T02:59:00Z", "2026-03-12T00:00:00Z"),
                         [ev["id"]])
        self.assertEqual(self.api("POST", events_path(), {
            "start": {"date": "2026-03-10"}, "end": {"date": "2026-03-10"}})
            .status, 400)

    def test_cancelled_and_transparent_kept_as_data(self):
        seeded = ctl("POST", "calendars/%s/events" % q(CAL), [
            {"id": "cancelled01", "status": "cancelled",
             "start": {"dateTime": "2026-12-01T10:00:00-03:00"},
             "end": {"dateTime": "2026-12-01T11:00:00-03:00"}},
            {"id": "transparent1", "transparency": "transparent",
             "start": {"dateTime": "2026-12-01T12:00:00-03:00"},
             "end": {"dateTime": "2026-12-01T13:00:00-03:00"}},
            {"id": "allday0001", "start": {"date": "2026-12-02"},
             "end": {"date": "2026-12-03"}}])
        self.assertEqual(len(seeded), 3)
        items, _, _ = self.list_all()
        by_id = {e["id"]: e for e in items}
        self.assertEqual(set(by_id), {"transparent1", "allday0001"})
        self.assertEqual(by_id["transparent1"]["transparency"],
                         "transparent")
        self.assertEqual(by_id["allday0001"]["start"], {"date": "2026-12-02"})
        items, _, _ = self.list_all({"showDeleted": "true"})
        by_id = {e["id"]: e for e in items}
        self.assertEqual(by_id["cancelled01"]["status"], "cancelled")
        g = self.api("GET", events_path(eid="cancelled01"))
        self.assertEqual(g.json["status"], "cancelled")
        # the same through an API key
        r = call("GET", events_path() + "?key=sim-api-key&showDeleted=true")
        self.assertEqual(len(r.json["items"]), 3)
        allev = ctl("GET", "calendars/%s/events" % q(CAL))
        self.assertEqual(len(allev), 3)

    def test_q_and_extended_property_filters(self):
        self.insert({"summary": "Clase de Inglés", "start": dtz(
            "2026-12-01T10:00:00-03:00"), "end": dtz(
            "2026-12-01T11:00:00-03:00"),
            "extendedProperties": {"private": {"bookingId": "abc"}}})
        self.insert({"summary": "Other", "start": dtz(
            "2026-12-01T12:00:00-03:00"), "end": dtz(
            "2026-12-01T13:00:00-03:00")})
        r = self.api("GET", events_path(),
                     query={"privateExtendedProperty": "bookingId=abc"})
        self.assertEqual([e["summary"] for e in r.json["items"]],
                         ["Clase de Inglés"])
        r = self.api("GET", events_path(), query={"q": "other"})
        self.assertEqual([e["summary"] for e in r.json["items"]], ["Other"])


class RecurrenceTests(Base):
    MADRID = "madrid#test@group.calendar.google.com"

    def test_weekly_across_dst_in_madrid(self):
        ctl("POST", "calendars/" + q(self.MADRID),
            {"timeZone": "Europe/Madrid"})
        master = self.insert({
            "id": "series0001", "summary": "Weekly",
            "start": {"dateTime": "2026-03-22T10:00:00",
                      "timeZone": "Europe/Madrid"},
            "end": {"dateTime": "2026-03-22T11:00:00",
                    "timeZone": "Europe/Madrid"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=4",
                           "EXDATE;TZID=Europe/Madrid:20260405T100000"]},
            cal=self.MADRID)
        self.assertEqual(master["start"]["dateTime"],
                         "2026-03-22T10:00:00+01:00")
        items, _, _ = self.list_all({"singleEvents": "true",
                                     "orderBy": "startTime"},
                                    cal=self.MADRID)
        self.assertEqual([e["id"] for e in items],
                         ["series0001_20260322T090000Z",
                          "series0001_20260329T080000Z",
                          "series0001_20260412T080000Z"])
        self.assertEqual([e["start"]["dateTime"] for e in items],
                         ["2026-03-22T10:00:00+01:00",
                          "2026-03-29T10:00:00+02:00",
                          "2026-04-12T10:00:00+02:00"])
        for e in items:
            self.assertEqual(e["recurringEventId"], "series0001")
            self.assertEqual(e["originalStartTime"]["dateTime"],
                             e["start"]["dateTime"])
            self.assertNotIn("recurrence", e)
        # singleEvents=false: the master, if an instance is in the window
        r = self.api("GET", events_path(self.MADRID), query={
            "timeMin": "2026-04-12T07:00:00Z",
            "timeMax": "2026-04-12T09:00:00Z"})
        self.assertEqual([e["id"] for e in r.json["items"]], ["series0001"])
        self.assertIn("recurrence", r.json["items"][0])
        r = self.api("GET", events_path(self.MADRID), query={
            "timeMin": "2026-04-05T07:00:00Z",
            "timeMax": "2026-04-05T10:00:00Z"})
        self.assertEqual(r.json["items"], [])
        g = self.api("GET", events_path(self.MADRID,
                                        "series0001_20260329T080000Z"))
        self.assertEqual(g.status, 200)
        self.assertEqual(g.json["start"]["dateTime"],
                         "2026-03-29T10:00:00+02:00")
        r = self.api("POST", events_path(self.MADRID), {
            "start": {"dateTime": "2026-03-22T10:00:00+01:00"},
            "end": {"dateTime": "2026-03-22T11:00:00+01:00"},
            "recurrence": ["RRULE:FREQ=WEEKLY"]})
        self.assertGoogleError(r, 400, "required",
                               "Missing time zone definition")

    def test_daily_interval_until_and_all_day(self):
        madrid = simulator.get_zone("Europe/Madrid")
        data = {"id": "d1", "start": {"dateTime": "2026-10-23T09:00:00",
                                      "timeZone": "Europe/Madrid"},
                "end": {"dateTime": "2026-10-23T09:30:00",
                        "timeZone": "Europe/Madrid"},
                "recurrence": ["RRULE:FREQ=DAILY;INTERVAL=2;"
                               "UNTIL=20261031T235959Z"]}
        inst = simulator.expand_event(data, madrid)
        self.assertEqual([simulator.instance_suffix(i) for i in inst],
                         ["20261023T070000Z", "20261025T080000Z",
                          "20261027T080000Z", "20261029T080000Z",
                          "20261031T080000Z"])
        data = {"id": "a1", "start": {"date": "2026-01-05"},
                "end": {"date": "2026-01-06"},
                "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4",
                               "EXDATE;VALUE=DATE:20260107"]}
        inst = simulator.expand_event(data, madrid)
        self.assertEqual([simulator.instance_suffix(i) for i in inst],
                         ["20260105", "20260112", "20260114"])
        ev = self.insert({"id": "allda7", "start": {"date": "2026-01-05"},
                          "end": {"date": "2026-01-06"},
                          "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"]})
        items, _, _ = self.list_all({"singleEvents": "true"})
        self.assertEqual([e["id"] for e in items],
                         ["allda7_20260105", "allda7_20260106",
                          "allda7_20260107"])
        self.assertEqual(items[1]["start"], {"date": "2026-01-06"})
        self.assertEqual(items[1]["originalStartTime"],
                         {"date": "2026-01-06"})
        r = self.api("POST", events_path(), {
            "start": {"date": "2026-01-05"}, "end": {"date": "2026-01-06"},
            "recurrence": ["RRULE:FREQ=YEARLY;BYMONTHDAY=99"]})
        self.assertEqual(r.status, 400)
        self.assertTrue(ev)

    def test_endless_rules_and_far_windows(self):
        ba = simulator.get_zone("America/Argentina/Buenos_Aires")
        old = {"id": "old1", "start": {"dateTime": "2001-01-01T09:00:00",
                                       "timeZone": "UTC"},
               "end": {"dateTime": "2001-01-01T10:00:00",
                       "timeZone": "UTC"},
               "recurrence": ["RRULE:FREQ=DAILY"]}
        lo = simulator.parse_rfc3339("2035-06-01T00:00:00Z")
        hi = simulator.parse_rfc3339("2035-06-03T00:00:00Z")
        inst = simulator.expand_event(old, ba, lo, hi)
        self.assertEqual([simulator.instance_suffix(i) for i in inst],
                         ["20350601T090000Z", "20350602T090000Z"])
        self.assertLessEqual(len(simulator.expand_event(old, ba)),
                             simulator.MAX_INSTANCES)
        ctl("POST", "calendars/%s/events" % q(CAL), old)
        r = self.api("GET", events_path(), query={
            "singleEvents": "true", "timeMin": "2035-06-01T00:00:00Z",
            "timeMax": "2035-06-03T00:00:00Z"})
        self.assertEqual([e["id"] for e in r.json["items"]],
                         ["old1_20350601T090000Z", "old1_20350602T090000Z"])


class SyncTests(Base):
    def body(self, hour, **over):
        b = {"summary": "h%d" % hour,
             "start": dtz("2026-12-01T%02d:00:00-03:00" % hour),
             "end": dtz("2026-12-01T%02d:30:00-03:00" % hour)}
        b.update(over)
        return b

    def test_incremental_sync_and_invalidate(self):
        a = self.insert(self.body(9))
        b = self.insert(self.body(10))
        c = self.insert(self.body(11))
        items, _, t1 = self.list_all({"timeMin": "2026-11-01T00:00:00Z"})
        self.assertEqual(len(items), 3)
        items, _, t2 = self.list_all({"syncToken": t1})
        self.assertEqual(items, [])
        self.assertNotEqual(t1, t2)
        self.api("PATCH", events_path(eid=a["id"]), {"summary": "A2"})
        self.assertEqual(self.api("DELETE", events_path(eid=b["id"])).status,
                         204)
        ctl("PATCH", "calendars/%s/events/%s" % (q(CAL), c["id"]),
            {"summary": "changed behind the client's back"})
        d = ctl("POST", "calendars/%s/events" % q(CAL), self.body(12))
        e = self.insert(self.body(13))
        items, pages, t3 = self.list_all({"syncToken": t2, "maxResults": 2})
        self.assertEqual(pages, 3)
        by_id = {i["id"]: i for i in items}
        self.assertEqual(set(by_id), {a["id"], b["id"], c["id"], d["id"],
                                      e["id"]})
        self.assertEqual(by_id[b["id"]]["status"], "cancelled")
        self.assertEqual(by_id[a["id"]]["summary"], "A2")
        items, _, t4 = self.list_all({"syncToken": t3})
        self.assertEqual(items, [])
        ctl("DELETE", "calendars/%s/events/%s" % (q(CAL), d["id"]))
        items, _, _ = self.list_all({"syncToken": t4})
        self.assertEqual([(i["id"], i["status"]) for i in items],
                         [(d["id"], "cancelled")])
        # forbidden combinations
        for extra in ({"timeMin": "2026-11-01T00:00:00Z"},
                      {"orderBy": "updated"}, {"q": "x"},
                      {"updatedMin": "2026-11-01T00:00:00Z"},
                      {"showDeleted": "false"}):
            r = self.api("GET", events_path(),
                         query=dict(extra, syncToken=t4))
            self.assertGoogleError(r, 400, "invalid")
        r = self.api("GET", events_path(), query={"syncToken": t4,
                                                  "singleEvents": "true"})
        self.assertEqual(r.status, 400)
        ctl("POST", "sync/invalidate")
        r = self.api("GET", events_path(), query={"syncToken": t4})
        self.assertEqual(r.status, 410)
        self.assertEqual(r.json, {"error": {"errors": [{
            "domain": "calendar", "reason": "fullSyncRequired",
            "message": "Sync token is no longer valid, a full sync is "
                       "required.",
            "locationType": "parameter", "location": "syncToken"}],
            "code": 410,
            "message": "Sync token is no longer valid, a full sync is "
                       "required."}})
        r = self.api("GET", events_path(), query={"syncToken": "CPDAlvWDx70="})
        self.assertEqual(r.status, 410)
        # paging an incremental sync across an invalidation -> 410
        _, _, t5 = self.list_all()
        for h in (14, 15, 16):
            self.insert(self.body(h))
        r = self.api("GET", events_path(), query={"syncToken": t5,
                                                  "maxResults": 1})
        page = r.json["nextPageToken"]
        ctl("POST", "sync/invalidate")
        r = self.api("GET", events_path(), query={
            "syncToken": t5, "maxResults": 1, "pageToken": page})
        self.assertGoogleError(r, 410, "fullSyncRequired")

    def test_sync_with_single_events_expands_changes(self):
        self.insert(self.body(9, id="rec0001", recurrence=[
            "RRULE:FREQ=DAILY;COUNT=3"]))
        items, _, t1 = self.list_all({"singleEvents": "true"})
        self.assertEqual(len(items), 3)
        self.api("DELETE", events_path(eid="rec0001"))
        items, _, _ = self.list_all({"singleEvents": "true",
                                     "syncToken": t1})
        self.assertEqual(len(items), 3)
        self.assertEqual({i["status"] for i in items}, {"cancelled"})


# ---------------------------------------------------------------------------
# Faults and the request log
# ---------------------------------------------------------------------------

class FaultTests(Base):
    def test_status_faults_default_bodies(self):
        ctl("POST", "faults", {"path": "/calendar/v3/", "status": 500})
        r = call("GET", events_path() + "?key=sim-api-key")
        self.assertGoogleError(r, 500, "backendError")
        self.assertEqual(call("GET", events_path() + "?key=sim-api-key")
                         .status, 200)
        ctl("POST", "faults", {"path": "^/mp/", "status": 503, "times": 2})
        for _ in range(2):
            r = call("GET", "/mp/v1/payments/1", headers=bearer(MP_TOKEN))
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json["status"], 503)
            self.assertEqual(r.json["cause"], [])
        self.assertEqual(call("GET", "/mp/v1/payments/1",
                              headers=bearer(MP_TOKEN)).status, 404)
        ctl("POST", "faults", {"path": "^/token$", "status": 500})
        r = call("POST", "/token", form={"grant_type": "refresh_token"})
        self.assertEqual(r.status, 500)
        self.assertIn("error", r.json)
        ctl("POST", "faults", {"path": "/events", "status": 403})
        r = call("GET", events_path() + "?key=sim-api-key")
        self.assertGoogleError(r, 403, "rateLimitExceeded")

    def test_custom_body_headers_method_and_times(self):
        ctl("POST", "faults", {"method": "POST", "path": "/events$",
                               "status": 429, "headers": {"Retry-After": "2"},
                               "body": {"custom": True}, "times": -1})
        self.assertEqual(call("GET", events_path() + "?key=sim-api-key")
                         .status, 200)
        for _ in range(3):
            r = self.api("POST", events_path(), {})
            self.assertEqual((r.status, r.json), (429, {"custom": True}))
            self.assertEqual(r.headers["retry-after"], "2")
        rules = ctl("GET", "faults")
        self.assertEqual(rules[0]["remaining"], -1)
        self.assertEqual(rules[0]["applied"], 3)
        ctl("DELETE", "faults")
        self.assertEqual(ctl("GET", "faults"), [])
        ctl("POST", "faults", {"path": "/events", "status": 502,
                               "body": "<html>bad gateway</html>"})
        r = call("GET", events_path() + "?key=sim-api-key")
        self.assertEqual(r.status, 502)
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        ctl("POST", "faults", {"path": "/events", "status": 500, "times": 3})
        ctl("GET", "faults")
        call("GET", events_path() + "?key=sim-api-key")
        self.assertEqual(ctl("GET", "faults")[1]["remaining"], 2)

    def test_drop_and_delay(self):
        ctl("POST", "faults", {"path": "/events", "drop": True})
        with self.assertRaises((http.client.RemoteDisconnected,
                                ConnectionError)):
            call("GET", events_path() + "?key=sim-api-key")
        ctl("POST", "faults", {"path": "/events", "drop": True,
                               "reset": True, "delay_ms": 100})
        t0 = time.monotonic()
        with self.assertRaises((http.client.RemoteDisconnected,
                                ConnectionError)):
            call("GET", events_path() + "?key=sim-api-key")
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        ctl("POST", "faults", {"path": "/events", "status": None,
                               "delay_ms": 300})
        t0 = time.monotonic()
        r = call("GET", events_path() + "?key=sim-api-key")
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)
        ctl("POST", "faults", {"path": "/events", "status": 504,
                               "delay_ms": 200})
        t0 = time.monotonic()
        self.assertEqual(call("GET", events_path() + "?key=sim-api-key")
                         .status, 504)
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)
        log = ctl("GET", "requests")
        self.assertEqual([e["status"] for e in log], [None, None, 200, 504])
        # a client timing out on a slow answer: the server keeps serving
        ctl("POST", "faults", {"path": "/events", "delay_ms": 1000,
                               "status": None})
        conn = http.client.HTTPConnection("127.0.0.1", Sim.port, timeout=0.2)
        with self.assertRaises(socket.timeout):
            call("GET", events_path() + "?key=sim-api-key", conn=conn)
        conn.close()
        self.assertEqual(call("GET", events_path() + "?key=sim-api-key")
                         .status, 200)

    def test_request_log(self):
        ctl("DELETE", "requests")
        self.api("POST", events_path(), {
            "summary": "logged", "start": dtz("2026-12-01T10:00:00-03:00"),
            "end": dtz("2026-12-01T11:00:00-03:00")},
            query={"conferenceDataVersion": 1})
        ctl("GET", "google")      # control calls are not recorded
        log = ctl("GET", "requests")
        # login() made two requests before the insert
        self.assertEqual([e["path"] for e in log],
                         ["/o/oauth2/v2/auth", "/token",
                          "/calendar/v3/calendars/%s/events" % CAL])
        e = log[-1]
        self.assertEqual(e["method"], "POST")
        self.assertEqual(e["raw_path"],
                         "/calendar/v3/calendars/%s/events?"
                         "conferenceDataVersion=1" % q(CAL))
        self.assertEqual(e["query"], {"conferenceDataVersion": ["1"]})
        self.assertTrue(e["headers"]["authorization"].startswith("Bearer "))
        self.assertEqual(e["json"]["summary"], "logged")
        self.assertEqual(json.loads(e["body"])["summary"], "logged")
        self.assertEqual(e["status"], 200)
        self.assertIsInstance(e["time"], float)
        since = ctl("GET", "requests", query={"since": log[1]["seq"]})
        self.assertEqual([x["seq"] for x in since], [e["seq"]])
        only = ctl("GET", "requests", query={"path": "^/token"})
        self.assertEqual(len(only), 1)
        ctl("DELETE", "requests")
        self.assertEqual(ctl("GET", "requests"), [])


# ---------------------------------------------------------------------------
# MercadoPago
# ---------------------------------------------------------------------------

class MercadoPagoTests(Base):
    VECTORS = [
        ("ORD01JQ4S4KY8HWQ6NA5PXB65B3D3",
         "2066ca19-c6f1-498a-be75-1923005edd06", "1742505638683",
         "id:ord01jq4s4ky8hwq6na5pxb65b3d3;request-id:2066ca19-c6f1-498a-"
         "be75-1923005edd06;ts:1742505638683;",
         "633f91233312dd391ec75fa0bea539cfc2d6c4918873305b84a96cc1c58db71c"),
        ("123456", "bb56a2f1-6aae-46ac-982e-9dcd3581d08e", "1742505638683",
         "id:123456;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;"
         "ts:1742505638683;",
         "5e0a7ed2ea5ece575e9d1a9bb80f7ce6ca43d6d30e8be93413bae108b94ad7cd"),
        (None, "2066ca19-c6f1-498a-be75-1923005edd06", "1742505638683",
         "request-id:2066ca19-c6f1-498a-be75-1923005edd06;ts:1742505638683;",
         "8a7b0cc777a8217c3bab41a50c95dc92debbc6f8448f1c967dfe10ac1cb8b894"),
    ]

    def test_signature_vectors(self):
        for data_id, rid, ts, manifest, want in self.VECTORS:
            self.assertEqual(simulator.mp_manifest(data_id, rid, ts),
                             manifest)
            self.assertEqual(simulator.mp_signature("your_secret_key_here",
                                                    data_id, rid, ts), want)
            qs = {"request_id": rid, "ts": ts,
                  "secret": "your_secret_key_here"}
            if data_id:
                qs["data_id"] = data_id
            got = ctl("GET", "mp/sign", query=qs)
            self.assertEqual(got, {"manifest": manifest, "v1": want,
                                   "header": "ts=%s,v1=%s" % (ts, want)})

    def test_payment_fetch(self):
        pay = ctl("POST", "mp/payments", {
            "status": "approved", "external_reference": "b" * 32,
            "metadata": {"booking_id": "b" * 32},
            "transaction_amount": 15000})
        pid = pay["id"]
        self.assertIsInstance(pid, int)
        r = call("GET", "/mp/v1/payments/%d" % pid, headers=bearer(MP_TOKEN))
        self.assertEqual(r.status, 200)
        p = r.json
        self.assertEqual((p["id"], p["status"], p["status_detail"],
                          p["currency_id"], p["transaction_amount"]),
                         (pid, "approved", "accredited", "ARS", 15000))
        self.assertEqual(p["metadata"], {"booking_id": "b" * 32})
        for k in ("date_created", "date_approved", "date_last_updated",
                  "payer"):
            self.assertIn(k, p)
        self.assertIn("email", p["payer"])
        ctl("POST", "mp/payments", {"id": pid, "status": "refunded"})
        p = call("GET", "/mp/v1/payments/%d" % pid,
                 headers=bearer(MP_TOKEN)).json
        self.assertEqual((p["status"], p["status_detail"], p["metadata"]),
                         ("refunded", "refunded", {"booking_id": "b" * 32}))
        unauthorized = {"message": "invalid access token",
                        "error": "unauthorized", "status": 401, "cause": []}
        r = call("GET", "/mp/v1/payments/%d" % pid, headers=bearer("wrong"))
        self.assertEqual((r.status, r.json), (401, unauthorized))
        r = call("GET", "/mp/v1/payments/%d" % pid)
        self.assertEqual((r.status, r.json), (401, unauthorized))
        r = call("GET", "/mp/v1/payments/999", headers=bearer(MP_TOKEN))
        self.assertEqual(r.status, 404)
        body = dict(r.json)
        cause = body.pop("cause")
        self.assertEqual(body, {"message": "Payment not found",
                                "error": "not_found", "status": 404})
        self.assertEqual(len(cause), 1)
        self.assertEqual((cause[0]["code"], cause[0]["description"]),
                         (2000, "Payment not found"))
        self.assertRegex(cause[0]["data"],
                         r"^\d\d-\d\d-\d{4}T\d\d:\d\d:\d\dUTC;[0-9a-f-]{36}$")
        ctl("POST", "mp", {"access_token": "other"})
        self.assertEqual(call("GET", "/mp/v1/payments/%d" % pid,
                              headers=bearer(MP_TOKEN)).status, 401)
        self.assertEqual(call("GET", "/mp/v1/payments/%d" % pid,
                              headers=bearer("other")).status, 200)

    def test_payment_served_raw(self):
        pid = ctl("POST", "mp/payments", {"status": "approved"})["id"]
        raw = b'{"id": %d, "metadata": {"student_name": "\xff\xfe"}}' % pid
        ctl("POST", "mp/payments", {"id": pid, "raw_b64":
                                    base64.b64encode(raw).decode()})
        r = call("GET", "/mp/v1/payments/%d" % pid, headers=bearer(MP_TOKEN))
        self.assertEqual((r.status, r.body), (200, raw))
        self.assertEqual(r.headers["content-type"],
                         "application/json; charset=utf-8")
        # Still known to the control API; null serves the JSON again.
        self.assertEqual(ctl("GET", "mp/payments/%d" % pid)["status"],
                         "approved")
        ctl("POST", "mp/payments", {"id": pid, "raw_b64": None})
        r = call("GET", "/mp/v1/payments/%d" % pid, headers=bearer(MP_TOKEN))
        self.assertEqual((r.status, r.json["id"]), (200, pid))
        # The token is still required, and bad base64 is refused.
        ctl("POST", "mp/payments", {"id": pid, "raw_b64": "e30="})
        self.assertEqual(call("GET", "/mp/v1/payments/%d" % pid).status, 401)
        r = call("POST", "/_sim/mp/payments", {"id": pid, "raw_b64": "%%"})
        self.assertEqual(r.status, 400)
        ctl("POST", "mp/payments", {"id": pid, "replace": True})
        r = call("GET", "/mp/v1/payments/%d" % pid, headers=bearer(MP_TOKEN))
        self.assertEqual(r.json["id"], pid)

    def test_notify_to_local_receiver(self):
        got = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                got.append((self.path, {k.lower(): v for k, v in
                                        self.headers.items()},
                            self.rfile.read(n)))
                body = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/api/payments/mercadopago" % \
            server.server_address[1]
        try:
            res = ctl("POST", "mp/notify", {"url": url,
                                            "payment_id": "123456"})
            self.assertEqual(res["status"], 200, res)
            self.assertEqual(json.loads(res["body"]), {"ok": True})
            path, headers, body = got[-1]
            parts = urllib.parse.urlsplit(path)
            self.assertEqual(parts.path, "/api/payments/mercadopago")
            self.assertEqual(urllib.parse.parse_qs(parts.query),
                             {"data.id": ["123456"], "type": ["payment"]})
            self.assertEqual(headers["content-type"], "application/json")
            sig = dict(p.split("=", 1) for p in
                       headers["x-signature"].split(","))
            self.assertRegex(sig["ts"], r"^\d{13}$")
            self.assertEqual(sig["v1"], simulator.mp_signature(
                "sim-mp-webhook-secret", "123456", headers["x-request-id"],
                sig["ts"]))
            doc = json.loads(body)
            self.assertEqual((doc["type"], doc["data"], doc["action"]),
                             ("payment", {"id": "123456"}, "payment.updated"))
            res = ctl("POST", "mp/notify", {
                "url": url, "payment_id": "77", "ts": 1742505638683,
                "request_id": "rid-1", "secret": "s3cret"})
            headers = got[-1][1]
            self.assertEqual(headers["x-request-id"], "rid-1")
            self.assertEqual(headers["x-signature"],
                             "ts=1742505638683,v1=" + simulator.mp_signature(
                                 "s3cret", "77", "rid-1", "1742505638683"))
            ctl("POST", "mp/notify", {"url": url, "payment_id": "77",
                                      "signature": "ts=1,v1=forged"})
            self.assertEqual(got[-1][1]["x-signature"], "ts=1,v1=forged")
            ctl("POST", "mp/notify", {"url": url, "payment_id": "88",
                                      "form": "legacy"})
            path, headers, body = got[-1]
            self.assertEqual(urllib.parse.parse_qs(
                urllib.parse.urlsplit(path).query),
                {"topic": ["payment"], "id": ["88"]})
            self.assertNotIn("x-signature", headers)
        finally:
            server.shutdown()
            server.server_close()
        res = ctl("POST", "mp/notify", {"url": url, "payment_id": "1",
                                        "timeout_s": 2})
        self.assertIsNone(res["status"])
        self.assertIn("error", res)


# ---------------------------------------------------------------------------
# Push notifications: events.watch, channels.stop (protocols.md §10)
# ---------------------------------------------------------------------------

class PushReceiver:
    """A local receiver of notifications: answers status (200), records
    (path, headers) of each POST."""

    def __init__(self, status=200):
        got = self.got = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                got.append((self.path, {k.lower(): v for k, v in
                                        self.headers.items()}))
                self.send_response(me.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.status = status
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.url = "http://127.0.0.1:%d/api/calendar/notifications" % \
            self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def wait(self, n, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.got) < n:
            time.sleep(0.01)
        return self.got


class PushTests(Base):
    def setUp(self):
        super().setUp()
        self.rx = PushReceiver()

    def tearDown(self):
        self.rx.close()

    def watch(self, body=None, token=None, cal=CAL):
        b = {"id": "chan-" + secrets.token_hex(8), "type": "web_hook",
             "address": self.rx.url, "token": "tok-" + secrets.token_hex(8)}
        b.update(body or {})
        return self.api("POST", events_path(cal) + "/watch", b, token=token)

    def test_watch_answers_a_channel_and_sends_sync_first(self):
        r = self.watch({"id": "chan-1", "params": {"ttl": "3600"}})
        self.assertEqual(r.status, 200, r)
        ch = r.json
        self.assertEqual((ch["kind"], ch["id"]), ("api#channel", "chan-1"))
        self.assertTrue(ch["token"].startswith("tok-"))
        # int64: a string of milliseconds, the ttl asked (or less).
        self.assertRegex(ch["expiration"], r"^\d{13}$")
        left = int(ch["expiration"]) / 1000 - time.time()
        self.assertTrue(3590 < left <= 3600, left)
        self.assertIn("/calendars/school%40group.calendar.google.com/events",
                      ch["resourceUri"])
        path, h = self.rx.wait(1)[0]
        self.assertEqual(path, "/api/calendar/notifications")
        self.assertEqual(h["x-goog-channel-id"], "chan-1")
        self.assertEqual(h["x-goog-channel-token"], ch["token"])
        self.assertEqual(h["x-goog-resource-id"], ch["resourceId"])
        self.assertEqual(h["x-goog-resource-uri"], ch["resourceUri"])
        self.assertEqual(h["x-goog-resource-state"], "sync")
        self.assertEqual(h["x-goog-message-number"], "1")
        self.assertRegex(h["x-goog-channel-expiration"],
                         r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")
        self.assertEqual(h["content-length"], "0")
        self.assertTrue(h["user-agent"].startswith("APIs-Google"))
        # Every change of an event of the calendar: "exists", numbers up.
        ev = self.insert({"summary": "a", "start": dtz("2030-01-01T10:00:00"),
                          "end": dtz("2030-01-01T11:00:00")})
        self.api("PATCH", events_path(CAL, ev["id"]), {"summary": "b"})
        self.api("DELETE", events_path(CAL, ev["id"]))
        ctl("POST", "calendars/%s/events" % q(CAL), {"summary": "seeded"})
        got = self.rx.wait(5)
        self.assertEqual([g[1]["x-goog-resource-state"] for g in got],
                         ["sync"] + ["exists"] * 4)
        nums = [int(g[1]["x-goog-message-number"]) for g in got]
        self.assertEqual(nums, sorted(set(nums)))
        # Another calendar's changes are not this channel's.
        ctl("POST", "calendars/other@x.test/events", {"summary": "x"})
        time.sleep(0.2)
        self.assertEqual(len(self.rx.got), 5)
        # The delivered log, with the receiver's answers.
        log = ctl("GET", "push/notifications", query={"channel": "chan-1"})
        self.assertEqual([n["status"] for n in log], [200] * 5)
        self.assertEqual([n["state"] for n in log], ["sync"] + ["exists"] * 4)

    def test_watch_needs_the_oauth_token_and_a_good_body(self):
        r = call("POST", events_path() + "/watch",
                 body={"id": "c1", "type": "web_hook", "address": self.rx.url},
                 query={"key": "sim-api-key"})
        self.assertGoogleError(r, 401, "required")
        r = self.watch(token="not-a-token")
        self.assertGoogleError(r, 401, "authError")
        self.assertGoogleError(self.watch({"id": None}), 400, "required")
        self.assertGoogleError(self.watch({"type": "email"}), 400,
                               "push.channelTypeNotSupported")
        self.assertGoogleError(self.watch({"address": "http://example.com/x"}),
                               400, "push.webhookUrlNotHttps")
        self.assertGoogleError(self.watch({"token": "t" * 257}), 400, "invalid")
        self.assertEqual(self.watch({"id": "again"}).status, 200)
        self.assertGoogleError(self.watch({"id": "again"}), 400,
                               "channelIdNotUnique")
        self.assertEqual(self.watch({"type": "webhook"}).status, 200)

    def test_refused_watch_expiry_and_expiration_as_a_number(self):
        ctl("POST", "push", {"refuse_watch": "webhookUrlUnauthorized"})
        self.assertGoogleError(self.watch(), 401, "push.webhookUrlUnauthorized")
        ctl("POST", "push", {"refuse_watch": {"status": 400, "reason": "x",
                                              "message": "no"}})
        self.assertGoogleError(self.watch(), 400, "x", "no")
        self.assertEqual(call("POST", "/_sim/push",
                              body={"refuse_watch": "nonsense"}).status, 400)
        ctl("POST", "push", {"refuse_watch": None, "max_ttl_s": 60,
                             "expiration_number": True})
        ch = self.watch({"params": {"ttl": "604800"}}).json
        self.assertIsInstance(ch["expiration"], int)
        self.assertTrue(ch["expiration"] / 1000 - time.time() <= 60)
        self.rx.wait(1)
        ctl("POST", "push/channels/%s/expire" % ch["id"])
        view = ctl("GET", "push/channels/%s" % ch["id"])
        self.assertEqual((view["live"], view["expired"]), (False, True))
        ctl("POST", "calendars/%s/events" % q(CAL), {"summary": "late"})
        time.sleep(0.2)
        self.assertEqual(len(self.rx.got), 1, "an expired channel is silent")
        self.assertEqual(call("POST", "/_sim/push/channels/%s/notify"
                              % ch["id"]).status, 409)

    def test_stop(self):
        ch = self.watch().json
        self.rx.wait(1)
        stop = "/calendar/v3/channels/stop"
        r = call("POST", stop, body={"id": ch["id"], "resourceId": ch["resourceId"]},
                 query={"key": "sim-api-key"})
        self.assertGoogleError(r, 401, "required")
        r = self.api("POST", stop, {"id": ch["id"]})
        self.assertGoogleError(r, 400, "required")
        r = self.api("POST", stop, {"id": ch["id"], "resourceId": "other"})
        self.assertGoogleError(r, 404, "notFound", "Channel '%s' not found"
                               % ch["id"])
        r = self.api("POST", stop, {"id": ch["id"], "resourceId": ch["resourceId"]})
        self.assertEqual((r.status, r.body), (204, b""))
        self.assertFalse(ctl("GET", "push/channels")[0]["live"])
        ctl("POST", "calendars/%s/events" % q(CAL), {"summary": "after"})
        time.sleep(0.2)
        self.assertEqual(len(self.rx.got), 1, "a stopped channel is silent")
        self.assertGoogleError(self.api("POST", stop, {"id": "nope",
                                                       "resourceId": "r"}),
                               404, "notFound")

    def test_a_receiver_that_fails_or_hangs_does_not_block(self):
        # Nothing listens on the address: the failure is recorded.
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        port = dead.getsockname()[1]
        dead.close()
        ch = self.watch({"address": "http://127.0.0.1:%d/x" % port}).json
        # One that accepts and never answers: only its own channel waits.
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(8)
        try:
            slow = self.watch({"address": "http://127.0.0.1:%d/x"
                               % hang.getsockname()[1]}).json
            ok = self.watch().json
            ctl("POST", "calendars/%s/events" % q(CAL), {"summary": "x"})
            self.assertEqual(len(self.rx.wait(2)), 2)
            self.assertEqual(ctl("GET", "health"), {"ok": True})
            # The good receiver got both while the slow one still hangs.
            log = ctl("GET", "push/notifications")
            self.assertEqual([n for n in log if n["channel"] == slow["id"]], [])
        finally:
            hang.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            log = ctl("GET", "push/notifications")
            if len([n for n in log if n["channel"] == slow["id"]]) >= 2:
                break
            time.sleep(0.05)
        by = {}
        for n in ctl("GET", "push/notifications"):
            by.setdefault(n["channel"], []).append(n)
        self.assertEqual(len(by[ch["id"]]), 2)
        self.assertTrue(all(n["status"] is None and n["error"]
                            for n in by[ch["id"]]), by[ch["id"]])
        self.assertEqual(len(by[slow["id"]]), 2)
        self.assertTrue(all(n["status"] is None for n in by[slow["id"]]))
        self.assertEqual([n["status"] for n in by[ok["id"]]], [200, 200])

    def test_notify_control_sends_many_at_once(self):
        ch = self.watch().json
        self.rx.wait(1)
        ctl("POST", "push/channels/%s/notify" % ch["id"],
            {"count": 20, "concurrency": 4})
        got = self.rx.wait(21)
        self.assertEqual(len(got), 21)
        nums = sorted(int(g[1]["x-goog-message-number"]) for g in got[1:])
        self.assertEqual(len(set(nums)), 20)
        self.assertTrue(all(n > 1 for n in nums))
        self.assertEqual(call("POST", "/_sim/push/channels/%s/notify" % ch["id"],
                              body={"count": 0}).status, 400)


def preference(**changes):
    """A checkout preference as the school's site makes it (a value of
    None removes the key)."""
    pref = {
        "items": [{"title": "Clase de Inglés", "quantity": 1,
                   "currency_id": "ARS", "unit_price": 15000}],
        "external_reference": "b" * 32,
        "metadata": {"booking_id": "b" * 32},
        "notification_url": "https://escuela.test/api/payments/mercadopago",
        "back_urls": {k: "https://escuela.test/reserva/vuelta.php"
                      for k in ("success", "pending", "failure")},
        "auto_return": "approved",
        "expires": True,
        "expiration_date_to": "2030-02-01T12:15:00.000-03:00",
    }
    pref.update(changes)
    return {k: v for k, v in pref.items() if v is not None}


class DoctorFailureTests(Base):
    """The failures the doctor is checked against, as Google and
    MercadoPago give them (protocols.md §11.2, §11.9, §12.1)."""

    def test_calendar_api_disabled_is_accessNotConfigured(self):
        token = self.token
        ctl("POST", "google", {"calendar_api_disabled": True,
                               "project_number": "336992806363"})
        for hdrs in (bearer(token), {"X-Goog-Api-Key": "sim-api-key"}):
            r = call("GET", events_path(), headers=hdrs)
            self.assertEqual(r.status, 403, r)
            err = r.json["error"]
            self.assertEqual((err["code"], err["status"]),
                             (403, "PERMISSION_DENIED"))
            self.assertIn("in project 336992806363 ", err["message"])
            self.assertEqual(err["errors"][0]["reason"],
                             "accessNotConfigured")
            self.assertEqual(err["errors"][0]["domain"], "usageLimits")
            info = [d for d in err["details"] if d["@type"].endswith(
                "ErrorInfo")][0]
            self.assertEqual(info["reason"], "SERVICE_DISABLED")
            self.assertEqual(info["metadata"], {
                "consumer": "projects/336992806363",
                "service": "calendar-json.googleapis.com"})
            helps = [d for d in err["details"] if d["@type"].endswith("Help")]
            self.assertTrue(helps[0]["links"][0]["url"].endswith(
                "?project=336992806363"))
        # Only the OAuth client's project: the key's calls still work.
        ctl("POST", "google", {"calendar_api_disabled": "oauth"})
        self.assertEqual(self.api("GET", events_path()).status, 403)
        r = call("GET", events_path(), headers={
            "X-Goog-Api-Key": "sim-api-key"})
        self.assertEqual(r.status, 200, r)
        # A bad token is still 401 first, as Google checks it first.
        r = call("GET", events_path(), headers=bearer("nope"))
        self.assertEqual(r.status, 401, r)
        ctl("POST", "google", {"calendar_api_disabled": False})
        self.assertEqual(self.api("GET", events_path()).status, 200)
        r = call("POST", "/_sim/google", body={"calendar_api_disabled": 3})
        self.assertEqual(r.status, 400, r)

    def test_clock_skew_moves_googles_date_only(self):
        import email.utils
        ctl("POST", "google", {"clock_skew_s": -300})
        for path, hdrs in ((events_path(), bearer(self.token)),
                           ("/token", {})):
            r = call("GET" if path != "/token" else "POST", path,
                     headers=hdrs, form={} if path == "/token" else None)
            date = email.utils.parsedate_to_datetime(r.headers["date"])
            self.assertAlmostEqual(date.timestamp(), time.time() - 300,
                                   delta=5, msg=path)
        r = call("GET", "/mp/users/me", headers=bearer(MP_TOKEN))
        date = email.utils.parsedate_to_datetime(r.headers["date"])
        self.assertAlmostEqual(date.timestamp(), time.time(), delta=5)
        ctl("POST", "reset")
        r = call("GET", events_path(), headers=bearer(login()["access_token"]))
        date = email.utils.parsedate_to_datetime(r.headers["date"])
        self.assertAlmostEqual(date.timestamp(), time.time(), delta=5)
        r = call("POST", "/_sim/google", body={"clock_skew_s": "5"})
        self.assertEqual(r.status, 400, r)

    def test_mp_users_me(self):
        r = call("GET", "/mp/users/me", headers=bearer(MP_TOKEN))
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["id"], r.json["site_id"]),
                         (123456789, "MLA"))
        self.assertIsInstance(r.json["nickname"], str)
        for hdrs in ({}, bearer("APP_USR-wrong")):
            r = call("GET", "/mp/users/me", headers=hdrs)
            self.assertEqual(r.status, 401, r)
            self.assertEqual((r.json["status"], r.json["error"]),
                             (401, "unauthorized"))
        # A new token: the old one is refused, the new one accepted.
        ctl("POST", "mp", {"access_token": "APP_USR-new"})
        self.assertEqual(call("GET", "/mp/users/me",
                              headers=bearer(MP_TOKEN)).status, 401)
        self.assertEqual(call("GET", "/mp/users/me",
                              headers=bearer("APP_USR-new")).status, 200)

    def test_calendar_time_zone_in_events_list(self):
        ctl("POST", "calendars/" + q(CAL), {"timeZone": "Europe/Madrid"})
        r = self.api("GET", events_path(), query={"maxResults": "1"})
        self.assertEqual(r.json["timeZone"], "Europe/Madrid")


class PreferenceTests(Base):
    PATH = "/mp/checkout/preferences"

    def create(self, body, token=MP_TOKEN):
        return call("POST", self.PATH, body=body,
                    headers=bearer(token) if token else None)

    def assertMpError(self, r, status, error, message):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json, {"message": message, "error": error,
                                  "status": status, "cause": []})

    def test_create_echoes_and_records(self):
        sent = preference()
        r = self.create(sent)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.headers["content-type"].startswith(
            "application/json"))
        p = r.json
        for k, v in sent.items():
            self.assertEqual(p[k], v, k)
        self.assertRegex(p["id"], r"^123456789-[0-9a-f-]{36}$")
        self.assertEqual(p["init_point"], "https://www.mercadopago.com.ar/"
                         "checkout/v1/redirect?pref_id=" + p["id"])
        self.assertEqual(p["sandbox_init_point"],
                         "https://sandbox.mercadopago.com.ar/checkout/v1/"
                         "redirect?pref_id=" + p["id"])
        self.assertEqual(p["collector_id"], 123456789)
        self.assertRegex(p["date_created"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-04:00$")
        self.assertEqual(ctl("GET", "mp/preferences"), [p])
        self.assertEqual(ctl("GET", "mp/preferences/" + p["id"]), p)
        self.assertEqual(call("GET", "/_sim/mp/preferences/nope").status, 404)
        # Each creation is a new preference; the request log has them too.
        r2 = self.create(preference(auto_return=None, back_urls=None))
        self.assertEqual(r2.status, 201, r2)
        self.assertNotEqual(r2.json["id"], p["id"])
        self.assertEqual([x["id"] for x in ctl("GET", "mp/preferences")],
                         [p["id"], r2.json["id"]])
        log = ctl("GET", "requests", query={"path": "^/mp/checkout/"})
        self.assertEqual([(e["method"], e["status"], e["json"]) for e in log],
                         [("POST", 201, sent),
                          ("POST", 201, preference(auto_return=None,
                                                   back_urls=None))])
        ctl("DELETE", "mp/preferences")
        self.assertEqual(ctl("GET", "mp/preferences"), [])
        self.create(preference())
        ctl("POST", "reset")
        self.assertEqual(ctl("GET", "mp/preferences"), [])

    def test_token_required(self):
        unauthorized = {"message": "invalid access token",
                        "error": "unauthorized", "status": 401, "cause": []}
        for token in (None, "wrong"):
            r = self.create(preference(), token=token)
            self.assertEqual((r.status, r.json), (401, unauthorized))
        ctl("POST", "mp", {"access_token": "other"})
        self.assertEqual(self.create(preference()).status, 401)
        self.assertEqual(self.create(preference(), token="other").status, 201)
        self.assertEqual(len(ctl("GET", "mp/preferences")), 1)

    def test_bad_bodies(self):
        item = preference()["items"][0]

        def with_item(**changes):
            it = dict(item)
            it.update(changes)
            return preference(items=[{k: v for k, v in it.items()
                                      if v is not None}])

        cases = [
            (preference(items=None), "invalid_items", "items needed."),
            (preference(items=[]), "invalid_items", "items needed."),
            (preference(items={"title": "x"}), "invalid_items",
             "items must be a array"),
            (with_item(title=None), "invalid_items", "title needed."),
            (with_item(title=" "), "invalid_items", "title needed."),
            (with_item(quantity=None), "invalid_items", "quantity needed."),
            (with_item(quantity=0), "invalid_items", "quantity invalid."),
            (with_item(quantity=1.5), "invalid_items",
             "items.0.quantity must be a integer."),
            (with_item(currency_id=None), "invalid_items",
             "currency_id needed."),
            (with_item(currency_id="pesos"), "invalid_items",
             "currency_id invalid."),
            (with_item(unit_price=None), "invalid_items",
             "unit_price needed."),
            (with_item(unit_price="15000"), "invalid_items",
             "unit_price must be a number."),
            (with_item(unit_price=0), "invalid_items", "unit_price invalid."),
            (with_item(unit_price=-5), "invalid_items", "unit_price invalid."),
            (with_item(unit_price=1.005), "invalid_items",
             "unit_price invalid."),
            (preference(back_urls="https://x.test"), "invalid_back_urls",
             "back_urls invalid. Wrong format"),
            (preference(auto_return="sometimes"), "invalid_auto_return",
             "auto_return invalid."),
            (preference(expiration_date_to="mañana"),
             "invalid_expiration_date_to", "expiration_date_to invalid."),
            (preference(expiration_date_to="2030-02-01T12:15:00"),
             "invalid_expiration_date_to", "expiration_date_to invalid."),
            (preference(expiration_date_from="2030-02-01T16:00:00Z"),
             "invalid_expiration_date_to", "expiration_date_to invalid."),
            (preference(metadata="b" * 32), "bad_request",
             "invalid type for field metadata"),
        ]
        for body, error, message in cases:
            with self.subTest(message=message, body=body):
                self.assertMpError(self.create(body), 400, error, message)
        r = call("POST", self.PATH, body=b"{not json",
                 headers=bearer(MP_TOKEN))
        self.assertMpError(r, 400, "bad_request", "invalid JSON body")
        self.assertMpError(self.create([preference()]), 400, "bad_request",
                           "body must be a JSON object")
        # Several items, each checked; a fine one among them is not enough.
        two = preference(items=[item, dict(item, quantity=-1)])
        self.assertMpError(self.create(two), 400, "invalid_items",
                           "quantity invalid.")
        self.assertEqual(ctl("GET", "mp/preferences"), [])

    def test_auto_return_needs_success_url(self):
        msg = "auto_return invalid. back_url.success must be defined"
        for back in (None, {}, {"failure": "https://escuela.test/x",
                                "pending": "https://escuela.test/x"},
                     {"success": ""}):
            with self.subTest(back_urls=back):
                r = self.create(preference(back_urls=back))
                self.assertMpError(r, 400, "invalid_auto_return", msg)
        self.assertEqual(ctl("GET", "mp/preferences"), [])
        # Without auto_return, back_urls may be left out; "all" is accepted.
        self.assertEqual(self.create(preference(
            auto_return=None, back_urls=None)).status, 201)
        self.assertEqual(self.create(preference(auto_return="all")).status,
                         201)


# ---------------------------------------------------------------------------
# HTTP robustness, control API, process behaviour
# ---------------------------------------------------------------------------

def raw_exchange(data, read_until_close=False, timeout=5):
    s = socket.create_connection(("127.0.0.1", Sim.port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if not read_until_close and b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"Content-Length: (\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
        return out
    finally:
        s.close()


class HttpTests(Base):
    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", Sim.port, timeout=10)
        ev = self.api("POST", events_path(), {
            "start": dtz("2026-12-01T10:00:00-03:00"),
            "end": dtz("2026-12-01T11:00:00-03:00")}, conn=conn)
        sock = conn.sock
        self.assertIsNotNone(sock)
        self.assertEqual(self.api("DELETE", events_path(eid=ev.json["id"]),
                                  conn=conn).status, 204)
        self.assertEqual(self.api("DELETE", events_path(eid=ev.json["id"]),
                                  conn=conn).status, 410)
        for _ in range(3):
            self.assertEqual(self.api("GET", events_path(),
                                      conn=conn).status, 200)
        self.assertIs(conn.sock, sock)
        conn.close()

    def test_expect_continue_and_chunked(self):
        body = urllib.parse.urlencode({"grant_type": "refresh_token",
                                       "client_id": CLIENT_ID,
                                       "client_secret": CLIENT_SECRET,
                                       "refresh_token": "nope"}).encode()
        s = socket.create_connection(("127.0.0.1", Sim.port), timeout=5)
        try:
            s.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                      % len(body))
            interim = s.recv(1024)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            s.sendall(body)
            final = b""
            while b"invalid_grant" not in final:
                chunk = s.recv(4096)
                if not chunk:
                    break
                final += chunk
            self.assertTrue(final.startswith(b"HTTP/1.1 400"), final)
        finally:
            s.close()
        half = len(body) // 2
        chunked = (b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
                   % (half, body[:half], len(body) - half, body[half:]))
        out = raw_exchange(b"POST /token HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/x-www-form-urlencoded"
                           b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out)
        self.assertIn(b"invalid_grant", out)

    def test_garbage_never_kills_the_server(self):
        out = raw_exchange(b"NONSENSE\r\n\r\n", read_until_close=True)
        self.assertIn(b"400", out)          # an HTTP/0.9-style answer
        out = raw_exchange(b"GET / HTTP/1.1 extra\r\n\r\n",
                           read_until_close=True)
        self.assertIn(b"400", out)
        out = raw_exchange(b"GET /x HTTP/1.1\r\nNo colon here\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1."), out)
        out = raw_exchange(b"POST /token HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: abc\r\n\r\n",
                           read_until_close=True)
        self.assertIn(b" 400 ", out.split(b"\r\n")[0])
        r = self.api("POST", events_path(), b"\xff\xfe\x00garbage",
                     headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        r = self.api("PATCH", events_path(eid="x" * 5000), [1, 2])
        self.assertIn(r.status, (400, 404))
        r = call("GET", "/calendar/v3/nowhere")
        self.assertEqual(r.status, 404)
        r = call("GET", "/calendar/v3/users/me/calendarList",
                 headers=bearer(self.token))
        self.assertIn(r.status, (403, 501))
        r = call("GET", "/_sim/nowhere")
        self.assertEqual(r.status, 404)
        r = call("POST", "/_sim/faults", body=b"{bad",
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(call("GET", "/_sim/health").status, 200)

    def test_reset_restores_everything(self):
        ctl("POST", "google", {"client_secret": "changed",
                               "conference_pending_gets": 5})
        ctl("POST", "faults", {"path": "/nothing", "status": 500})
        ctl("POST", "rate_limit", {"per_second": 1})
        ctl("POST", "mp/payments", {"id": 5})
        ctl("POST", "calendars/" + q("other@x.test"), {"public": False})
        ctl("POST", "reset")
        g = ctl("GET", "google")
        self.assertEqual((g["client_secret"], g["conference_pending_gets"]),
                         ("sim-client-secret", 0))
        self.assertEqual(g["tokens"], {"access": [], "refresh": []})
        self.assertEqual(ctl("GET", "faults"), [])
        self.assertEqual(ctl("GET", "rate_limit"), {"rate_limit": None})
        self.assertEqual(ctl("GET", "mp/payments"), [])
        self.assertEqual([c["id"] for c in ctl("GET", "calendars")], [CAL])
        self.assertEqual(ctl("GET", "requests"), [])

    def test_sigterm_and_port_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc, port, port_file, log = start_simulator(tmp, "second")
            self.assertNotEqual(port, Sim.port)
            with open(port_file) as fh:
                self.assertRegex(fh.read(), r"^\d+\n$")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/_sim/health")
            self.assertEqual(conn.getresponse().read() != b"", True)
            # an idle keep-alive connection must not block shutdown
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(5), 0)
            conn.close()
            with open(log) as fh:
                lines = fh.read().splitlines()
            self.assertTrue(any("GET /_sim/health 200" in ln for ln in lines),
                            lines)


# ---------------------------------------------------------------------------
# Result printer
# ---------------------------------------------------------------------------

class CountingResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0

    def startTest(self, test):
        super().startTest(test)
        self._t0 = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        print("ok    %-70s %.2fs" % (test.id().split(".", 1)[-1],
                                     time.monotonic() - self._t0))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        print("FAIL  %s\n%s" % (test.id(), self._exc_info_to_string(err,
                                                                   test)))

    def addError(self, test, err):
        super().addError(test, err)
        print("ERROR %s\n%s" % (getattr(test, "id", lambda: test)(),
                                self._exc_info_to_string(err, test)))


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[__name__])
    result = CountingResult()
    t0 = time.monotonic()
    try:
        suite.run(result)
    except Exception:
        traceback.print_exc()
        result.errors.append((None, "suite crashed"))
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    sys.stdout.flush()
    print("(%.1fs)" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (result.passed, failed))
    return 0 if failed == 0 and result.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
