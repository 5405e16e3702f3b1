"""GET /api/calendar (public availability) end to end, through nginx and as
plain CGI, against the simulator's Google Calendar.

What is checked: the mapping of Google events to busy times (cancelled and
transparent left out, all-day events as local midnight to midnight, edges,
recurring instances, sorting, offsets, a daylight-saving zone), the window
parameters and their errors, the shared MySQL cache (one events.list round
per CALENDAR_CACHE_TTL_S however many requests and processes; incremental
sync; the full resync after 410; stale data while Google fails, then 503;
windows outside the span it keeps refused without asking Google), ETag / 304 /
Cache-Control / X-Cache, and the API key refused or missing (the admin's
token instead, or 503 calendar_not_connected).

The helpers at the top are reused by test_slots.py.
"""

import datetime
import math
import os
import re
import threading
import time
import unittest
import urllib.parse
import zoneinfo

import harness

CAL = "school@group.calendar.google.com"
EVENTS_RE = r"^/calendar/v3/calendars/[^/]+/events$"
TTL = int(harness.TEST_ENV["CALENDAR_CACHE_TTL_S"])
MAX_STALE = int(harness.TEST_ENV["CALENDAR_MAX_STALE_S"])
DEFAULT_ZONE = "America/Argentina/Buenos_Aires"
# What is left of the copy's freshness; a second in a shared cache and a
# second of grace while it refreshes it; what is left until the copy is
# CALENDAR_MAX_STALE_S old.
CC_RE = re.compile(r"^public, max-age=(\d+), s-maxage=1, stale-while-revalidate=1, "
                   r"stale-if-error=(\d+)$")
# A stale copy: fresh for no time, usable while the service cannot be
# reached for what is left until it is CALENDAR_MAX_STALE_S old.
STALE_CC_RE = r"^public, max-age=0, s-maxage=1, stale-while-revalidate=1, stale-if-error=\d+$"
ETAG_RE = re.compile(r'^(W/)?"[\x21\x23-\x7e]+"$')
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def stack():
    return harness.stack


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------

def zone_name():
    return stack().env.get("TIME_ZONE") or DEFAULT_ZONE


def zone(name=None):
    return zoneinfo.ZoneInfo(name or zone_name())


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def today(tz=None):
    """The local date now."""
    return utcnow().astimezone(tz or zone()).date()


def local(day, hour=0, minute=0, tz=None):
    """An aware datetime: that wall time on that date in the zone."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute,
                             tzinfo=tz or zone())


def iso(dt, tz=None):
    """As the programs write it: seconds, the zone's offset for that instant."""
    return dt.astimezone(tz or zone()).isoformat(timespec="seconds")


def parse_iso(s):
    return datetime.datetime.fromisoformat(s)


def db_utc(dt):
    """A DATETIME literal in UTC, as the programs store times."""
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def weekday_on_or_after(day, weekdays):
    """The first date on or after day whose weekday() is in weekdays."""
    while day.weekday() not in weekdays:
        day += DAY
    return day


def qs(**params):
    """A query string; '+' is sent as %2B, ':' as is."""
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe=":")


# ---------------------------------------------------------------------------
# State: simulator, cache tables
# ---------------------------------------------------------------------------

def wait_until_db(sql_time, what):
    """Waits until the database's clock reaches sql_time (an SQL DATETIME
    expression), the clock the programs compare their copies with."""
    ok = stack().wait_for(
        lambda: stack().sql("SELECT UTC_TIMESTAMP() >= %s" % sql_time) == [["1"]],
        timeout=TTL + 60, interval=0.1)
    assert ok, "waited over a minute for " + what


def reset(wait=True, users=False):
    """A clean simulator and an empty cache. With wait, no refresh is under
    way when the cache is emptied, no process may still serve the copy it
    kept in memory (a TTL after the latest success the cache ever held,
    harness.Stack.forget_cache()), and the cache is still empty at the end
    (a refresh that ended meanwhile makes it start again)."""
    stack().sim("POST", "/_sim/reset")
    also = "DELETE FROM bookings"
    if users:
        also += "; DELETE FROM users; DELETE FROM oauth_states"
    for _ in range(5):
        if wait:
            wait_until_db("COALESCE((SELECT MAX(refreshingUntil) FROM calendar_sync "
                          "WHERE refreshingUntil >= UTC_TIMESTAMP()), UTC_TIMESTAMP())",
                          "a refresh under way to end")
        stack().forget_cache(also)
        if not wait:
            return
        if stack().cache_mark is not None:
            wait_until_db("'%s' + INTERVAL %d SECOND" % (stack().cache_mark, TTL),
                          "the processes' copies to expire")
        if stack().sql("SELECT COUNT(*) FROM calendar_sync") == [["0"]]:
            return
    raise AssertionError("the availability cache kept filling up again")


def wait_ttl():
    """Waits until the next request refreshes: the cache's last success and
    last attempt both a TTL old, so no process serves its copy from memory
    and the refresh lease can be taken."""
    row = stack().sql("SELECT GREATEST(COALESCE(MAX(lastSuccessAt), 0), "
                      "COALESCE(MAX(lastAttemptAt), 0)) + INTERVAL %d SECOND "
                      "FROM calendar_sync" % TTL)
    if row and row[0][0] is not None:
        wait_until_db("'%s'" % row[0][0], "the cache to be a TTL old")


def assert_rounds_spaced(test, rounds):
    """At most one events.list round per TTL: consecutive rounds (their
    first pages, as the simulator received them) are at least TTL - 1 s
    apart (the programs count whole seconds of the database's clock).
    Slowness only widens the gaps."""
    times = [c["time"] for c in rounds]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    test.assertEqual([g for g in gaps if g < TTL - 1], [],
                     "rounds closer than the TTL allows: gaps %s, %s"
                     % (gaps, [c["raw_path"][:120] for c in rounds]))


def cgi_long_ttl(uri, headers=None):
    """calendar_get as plain CGI with a TTL of an hour: its answers do not
    depend on how fast this machine is. A Reply and the program's log."""
    return cgi_get(uri, headers=headers, env_extra={"CALENDAR_CACHE_TTL_S": "3600"})


def seed(events):
    return stack().sim("POST", "/_sim/calendars/%s/events" % CAL, events)


def timed(start, end, **extra):
    ev = {"summary": "busy", "status": "confirmed",
          "start": {"dateTime": start if isinstance(start, str) else iso(start)},
          "end": {"dateTime": end if isinstance(end, str) else iso(end)}}
    ev.update(extra)
    return ev


def all_day(first, end_exclusive, **extra):
    ev = {"summary": "closed", "status": "confirmed",
          "start": {"date": first.isoformat()}, "end": {"date": end_exclusive.isoformat()}}
    ev.update(extra)
    return ev


def busy(start, end, status="confirmed", tz=None):
    """One entry of the reply's events."""
    return {"start": iso(start, tz), "end": iso(end, tz), "status": status}


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


def list_calls():
    """Every events.list call in the simulator's log, oldest first."""
    return sim_log(EVENTS_RE, "GET")


def log_seq():
    """The sequence number of the simulator's last logged request (0)."""
    log = sim_log()
    return log[-1]["seq"] if log else 0


def list_calls_since(seq):
    """The events.list calls logged after seq."""
    return sim_log(EVENTS_RE, "GET", since=seq)


def first_pages(calls):
    """Rounds: a round is a first page (no pageToken) and its follow-ups."""
    return [c for c in calls if "pageToken" not in c["query"]]


def qv(call, name):
    v = call["query"].get(name)
    return v[0] if v else None


def uses_key(call):
    return (call["headers"].get("x-goog-api-key") == "sim-api-key"
            or qv(call, "key") == "sim-api-key")


def has_key(call):
    return "x-goog-api-key" in call["headers"] or "key" in call["query"]


def bearer(call):
    a = call["headers"].get("authorization") or ""
    return a[7:] if a.startswith("Bearer ") else None


def sql_ago(seconds):
    return "UTC_TIMESTAMP() - INTERVAL %d SECOND" % seconds


def age_cache(success_ago=None, attempt_ago=None):
    """Moves the cache's last success and last attempt back in time."""
    sets = []
    if success_ago is not None:
        sets.append("lastSuccessAt = " + sql_ago(success_ago))
    if attempt_ago is not None:
        sets.append("lastAttemptAt = " + sql_ago(attempt_ago))
    stack().sql("UPDATE calendar_sync SET %s WHERE calendarId = '%s'" % (", ".join(sets), CAL))


def log_size(name="calendar_get.log"):
    return len(stack().log(name))


def log_since(size, name="calendar_get.log"):
    return stack().log(name)[size:]


GOOGLE_503 = {"method": "GET", "path": "/calendar/v3/calendars/.*/events",
              "status": 503, "times": -1}


# ---------------------------------------------------------------------------
# Requests and checks
# ---------------------------------------------------------------------------

def get_calendar(frm=None, to=None, headers=None, fresh=False):
    """GET /api/calendar; with fresh, never a copy nginx's cache made
    before the call (harness.Stack.get_fresh())."""
    params = {}
    if frm is not None:
        params["from"] = frm if isinstance(frm, str) else iso(frm)
    if to is not None:
        params["to"] = to if isinstance(to, str) else iso(to)
    get = stack().get_fresh if fresh else stack().get
    return get("/api/calendar" + ("?" + qs(**params) if params else ""), headers=headers)


def max_age(r):
    m = CC_RE.match(r.header("Cache-Control") or "")
    return int(m.group(1)) if m else None


def assert_cached_reply(test, r, xcache=None):
    """A 200 with the contract's cache headers; its JSON."""
    test.assertEqual(r.status, 200, r)
    test.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
    test.assertRegex(r.header("ETag") or "", ETAG_RE)
    test.assertRegex(r.header("Cache-Control") or "", CC_RE)
    n = max_age(r)
    test.assertTrue(0 <= n <= TTL, r.header("Cache-Control"))
    usable = int(CC_RE.match(r.header("Cache-Control")).group(2))
    test.assertTrue(n <= usable <= MAX_STALE, r.header("Cache-Control"))
    test.assertIn(r.header("X-Cache"), ("HIT", "MISS", "STALE"))
    if xcache is not None:
        test.assertEqual(r.header("X-Cache"), xcache, r)
    if r.header("X-Cache") == "STALE":
        test.assertEqual(n, 0, "a stale reply is not fresh for any time")
    if r.header("X-Cache") == "MISS" and xcache == "MISS":
        # Just refreshed: what is left of the TTL is (nearly) all of it.
        test.assertGreaterEqual(n, TTL - 1, r.header("Cache-Control"))
    return r.json()


def names(message, name):
    """Whether message names the parameter or key (as a word)."""
    return re.search(r"(^|[^A-Za-z0-9_])%s([^A-Za-z0-9_]|$)" % re.escape(name), message) is not None


def assert_error(test, r, status, code, name=None):
    test.assertEqual(r.status, status, r)
    test.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
    body = r.json()
    test.assertEqual(set(body), {"error"}, body)
    test.assertEqual(set(body["error"]), {"code", "message"}, body)
    test.assertEqual(body["error"]["code"], code, body)
    test.assertTrue(body["error"]["message"])
    if name is not None:
        test.assertTrue(names(body["error"]["message"], name),
                        "the message should name %r: %r" % (name, body["error"]["message"]))
    return body["error"]["message"]


# ---------------------------------------------------------------------------
# Plain CGI runs: more processes than spawn-fcgi's two, other settings
# ---------------------------------------------------------------------------

def cgi_spawn(uri, headers=None, env_extra=None, drop=()):
    """calendar_get run as plain CGI for a GET of uri (test_oauth's runner)."""
    from test_oauth import cgi_spawn as spawn

    return spawn("calendar_get", "GET", uri, headers, env_extra, drop)


def cgi_finish(p):
    """A Reply (headers lower-cased) and the program's log (stderr)."""
    from test_oauth import cgi_finish as finish

    status, headers, body, err = finish(p)
    return harness.Reply(status, headers, body), err


def cgi_get(uri, **kw):
    return cgi_finish(cgi_spawn(uri, **kw))


# ---------------------------------------------------------------------------
# The admin's Google sign-in (for the API-key-refused fallback)
# ---------------------------------------------------------------------------

def connect_admin():
    """The admin connects through the whole OAuth dance (test_oauth's)."""
    from test_oauth import connect

    connect()
    rows = stack().sql("SELECT googleTokenStatus FROM users WHERE role = 'admin'")
    if rows != [["ok"]]:
        raise AssertionError("the admin is not connected: %r" % rows)


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------

class Availability(unittest.TestCase):
    def tearDown(self):
        stack().sim("POST", "/_sim/reset")

    def test_availability_mapping_window_and_etag(self):
        """Which events block time and how they are written; the window's
        forms; the first request refreshes (a full sync over the horizon,
        with the API key) and the next ones are served from the cache;
        ETag and 304; windows outside the cached span refused."""
        reset()
        d0 = today() + 3 * DAY
        frm, to = local(d0, 10), local(d0 + 2 * DAY, 10)
        far = today() + 420 * DAY
        past = today() - 30 * DAY
        ev = {
            "touch_start": (local(d0, 9), local(d0, 10)),
            "cross_start": (local(d0, 9, 30), local(d0, 10, 30)),
            "timed": (local(d0, 12), local(d0, 13)),
            "tentative": (local(d0, 13), local(d0, 14)),
            "transparent": (local(d0, 15), local(d0, 16)),
            "other_offsets": (local(d0, 17), local(d0, 18)),
            "cancelled": (local(d0, 19), local(d0, 20)),
            "all_day": (local(d0 + DAY), local(d0 + 2 * DAY)),
            "cross_end": (local(d0 + 2 * DAY, 9), local(d0 + 2 * DAY, 11)),
            "touch_end": (local(d0 + 2 * DAY, 10), local(d0 + 2 * DAY, 11)),
            "multi_day": (local(d0 + 4 * DAY), local(d0 + 6 * DAY)),
            "far": (local(far, 10), local(far, 11)),
            "past": (local(past, 10), local(past, 11)),
        }
        rec_start = local(d0 + 3 * DAY, 7)
        o_s, o_e = ev["other_offsets"]
        seed([
            timed(*ev["touch_start"]),
            timed(*ev["cross_start"]),
            timed(*ev["timed"]),
            timed(*ev["tentative"], status="tentative"),
            timed(*ev["transparent"], transparency="transparent"),
            # The same instants written in other offsets: UTC and +02:00.
            timed(o_s.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  iso(o_e, datetime.timezone(datetime.timedelta(hours=2)))),
            timed(*ev["cancelled"], status="cancelled"),
            all_day(d0 + DAY, d0 + 2 * DAY),
            timed(*ev["cross_end"], transparency="opaque"),
            timed(*ev["touch_end"]),
            all_day(d0 + 4 * DAY, d0 + 6 * DAY),
            timed(*ev["far"]),
            timed(*ev["past"]),
            {"summary": "weekly", "status": "confirmed",
             "start": {"dateTime": iso(rec_start), "timeZone": zone_name()},
             "end": {"dateTime": iso(rec_start + 45 * datetime.timedelta(minutes=1)),
                     "timeZone": zone_name()},
             "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"]},
        ])
        clear_sim_log()

        # -- the window [d0 10:00, d0+2 10:00) --
        r = get_calendar(frm, to)
        body = assert_cached_reply(self, r, "MISS")
        expected = [
            busy(*ev["cross_start"]),
            busy(*ev["timed"]),
            busy(*ev["tentative"], status="tentative"),
            busy(*ev["other_offsets"]),
            busy(*ev["all_day"]),
            busy(*ev["cross_end"]),
        ]
        self.assertEqual(body, {"timeZone": zone_name(), "from": iso(frm), "to": iso(to),
                                "events": expected})
        self.assertEqual(body["events"][4], {"start": "%sT00:00:00-03:00" % (d0 + DAY),
                                             "end": "%sT00:00:00-03:00" % (d0 + 2 * DAY),
                                             "status": "confirmed"})
        etag = r.header("ETag")

        # The refresh: one full list over the horizon, every page, with the key.
        calls = list_calls()
        rounds = first_pages(calls)
        self.assertEqual(len(rounds), 1, calls)
        full = rounds[0]
        self.assertEqual(full["status"], 200, full)
        self.assertEqual(qv(full, "singleEvents"), "true", full["raw_path"])
        self.assertIsNone(qv(full, "syncToken"))
        self.assertIn("/calendars/%s/events" % CAL, full["path"])
        self.assertTrue(uses_key(full), full["headers"])
        self.assertIsNone(bearer(full))
        now = utcnow()
        tmin, tmax = parse_iso(qv(full, "timeMin")), parse_iso(qv(full, "timeMax"))
        self.assertLess(abs((tmin - (now - 7 * DAY)).total_seconds()), 300, tmin)
        self.assertLess(abs((tmax - (now + 400 * DAY)).total_seconds()), 300, tmax)

        # -- the same window again: served from the cache, same ETag, 304 --
        clear_sim_log()
        for _ in range(4):  # both processes, whichever nginx picks
            r2 = get_calendar(frm, to)
            b2 = assert_cached_reply(self, r2)
            self.assertEqual(b2, body)
            self.assertEqual(r2.header("ETag"), etag)
        # A copy younger than the TTL is a HIT and costs Google nothing: a
        # process with an hour's TTL, whatever the time the test took.
        window = "/api/calendar?" + qs(**{"from": iso(frm), "to": iso(to)})
        seq = log_seq()
        r2, _ = cgi_long_ttl(window)
        self.assertEqual((r2.status, r2.header("X-Cache")), (200, "HIT"), r2)
        self.assertEqual(r2.json(), body)
        self.assertEqual(r2.header("ETag"), etag)
        self.assertEqual(first_pages(list_calls_since(seq)), [])
        for inm in (etag, '"nope", ' + etag, "W/" + etag):
            with self.subTest(if_none_match=inm):
                r3 = get_calendar(frm, to, headers={"If-None-Match": inm})
                self.assertEqual(r3.status, 304, r3)
                self.assertEqual(r3.body, b"")
                self.assertEqual(r3.header("ETag"), etag)
                self.assertRegex(r3.header("Cache-Control") or "", CC_RE)
        r4 = get_calendar(frm, to, headers={"If-None-Match": '"not-the-etag"'})
        self.assertEqual(r4.status, 200)
        self.assertEqual(r4.json(), body)
        # max-age is what is left of the TTL: it goes down as the copy ages
        # (at least a second after the refresh, with an hour's TTL).
        time.sleep(1.1)
        r4, _ = cgi_long_ttl(window)
        self.assertEqual((r4.status, r4.header("X-Cache")), (200, "HIT"), r4)
        self.assertTrue(3600 - 600 <= max_age(r4) <= 3599, r4.header("Cache-Control"))

        # -- the window's forms: offset (+ as %2B, Z), no offset, a date --
        forms = [
            (iso(frm, datetime.timezone(datetime.timedelta(hours=2))), iso(frm)),
            (frm.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), iso(frm)),
            (frm.strftime("%Y-%m-%dT%H:%M:%S"), iso(frm)),
            (d0.isoformat(), iso(local(d0))),
        ]
        for given, echoed in forms:
            with self.subTest(from_=given):
                r5 = get_calendar(given, to)
                b5 = assert_cached_reply(self, r5)
                self.assertEqual(b5["from"], echoed)
                self.assertEqual(b5["to"], iso(to))
        r5 = get_calendar(d0.isoformat(), (d0 + 2 * DAY).isoformat())
        b5 = assert_cached_reply(self, r5)
        self.assertEqual((b5["from"], b5["to"]), (iso(local(d0)), iso(local(d0 + 2 * DAY))))
        self.assertNotEqual(r5.header("ETag"), etag, "another body, another ETag")
        # From d0 00:00 the event touching 10:00 is inside.
        self.assertEqual(b5["events"][0], busy(*ev["touch_start"]))

        # -- a wide window: the recurring instances and a multi-day all-day --
        wfrm, wto = local(d0), local(d0 + 21 * DAY)
        r6 = get_calendar(wfrm, wto)
        b6 = assert_cached_reply(self, r6)
        rec = [busy(rec_start + k * 7 * DAY, rec_start + k * 7 * DAY + 45 * datetime.timedelta(minutes=1))
               for k in range(3)]
        expected_wide = sorted(
            [busy(*ev[k]) for k in ("touch_start", "cross_start", "timed", "other_offsets",
                                    "all_day", "cross_end", "touch_end", "multi_day")]
            + [busy(*ev["tentative"], status="tentative")] + rec,
            key=lambda e: (parse_iso(e["start"]), parse_iso(e["end"])))
        self.assertEqual(b6["events"], expected_wide)
        starts = [parse_iso(e["start"]) for e in b6["events"]]
        self.assertEqual(starts, sorted(starts), "sorted by start")
        for e in b6["events"]:
            for k in ("start", "end"):
                self.assertTrue(e[k].endswith("-03:00"), e)

        # -- no window: from now, to 30 days later --
        before = utcnow()
        r7 = get_calendar()
        b7 = assert_cached_reply(self, r7)
        f7, t7 = parse_iso(b7["from"]), parse_iso(b7["to"])
        self.assertLessEqual(abs((f7 - before).total_seconds()), 120, b7["from"])
        self.assertEqual(t7 - f7, 30 * DAY)
        self.assertEqual(b7["events"], [e for e in expected_wide
                                        if parse_iso(e["end"]) > f7 and parse_iso(e["start"]) < t7])
        # Every in-horizon window came from the cache: no more rounds than
        # the TTL allows.
        assert_rounds_spaced(self, first_pages(list_calls()))

        # -- outside the span kept in the cache: refused, Google not asked --
        for wf, wt, ekey in ((local(far), local(far + DAY), "far"),
                             (local(past), local(past + DAY), "past")):
            with self.subTest(window=ekey):
                clear_sim_log()
                msg = assert_error(self, get_calendar(wf, wt), 400,
                                   "invalid_parameter")
                self.assertTrue(names(msg, "from") and names(msg, "to"), msg)
                self.assertEqual(list_calls(), [])

    def test_availability_query_errors(self):
        d = today() + 3 * DAY
        frm, to = local(d, 10), local(d + DAY, 10)
        ok_from, ok_to = iso(frm), iso(to)

        def get(query):
            return stack().get("/api/calendar?" + query)

        cases_query = [
            (qs(**{"from": ok_from, "to": ok_to, "foo": "1"}), "foo"),
            (qs(**{"From": ok_from}), "From"),
            ("from=%s&from=%s" % (urllib.parse.quote(ok_from), urllib.parse.quote(ok_to)), "from"),
            (qs(**{"from": ok_from}) + "&to=" + urllib.parse.quote(ok_to) + "&to=" +
             urllib.parse.quote(ok_to), "to"),
            (qs(**{"date": d.isoformat()}), "date"),
        ]
        for query, key in cases_query:
            with self.subTest(query=query):
                assert_error(self, get(query), 400, "invalid_query", key)

        cases_param = [
            ({"from": "garbage", "to": ok_to}, "from"),
            ({"from": ok_from, "to": "2026-13-01"}, "to"),
            ({"from": "%d-02-30" % (d.year + 1), "to": ok_to}, "from"),
            ({"from": ok_from, "to": ""}, "to"),
            ({"from": "", "to": ok_to}, "from"),
            ({"from": frm.strftime("%Y-%m-%dT25:00:00-03:00")}, "from"),
            ({"from": frm.strftime("%d/%m/%Y")}, "from"),
        ]
        for params, name in cases_param:
            with self.subTest(params=params):
                assert_error(self, get(qs(**params)), 400, "invalid_parameter", name)

        # A raw '+' in a URL is a space: the offset is unreadable, not ignored.
        raw_plus = "from=%s&to=%s" % (frm.strftime("%Y-%m-%dT%H:%M:%S") + "+01:00", urllib.parse.quote(ok_to))
        assert_error(self, get(raw_plus), 400, "invalid_parameter", "from")

        # from not before to; windows over 366 days.
        for params in ({"from": ok_from, "to": ok_from},
                       {"from": ok_to, "to": ok_from},
                       {"from": d.isoformat(), "to": (d + 367 * DAY).isoformat()},
                       {"from": ok_from, "to": iso(frm + 366 * DAY + datetime.timedelta(seconds=1))}):
            with self.subTest(params=params):
                msg = assert_error(self, get(qs(**params)), 400, "invalid_parameter")
                self.assertTrue(names(msg, "to") or names(msg, "from"), msg)

    def test_availability_many_requests_many_processes_one_round_per_ttl(self):
        """200 requests from threads through nginx (two calendar_get
        processes) and from plain CGI runs at the same time: at most one
        events.list round per TTL in the simulator's log."""
        reset()
        d = today() + 3 * DAY
        seed([timed(local(d, 11), local(d, 12)), timed(local(d + DAY, 15), local(d + DAY, 16))])
        expected = [busy(local(d, 11), local(d, 12)), busy(local(d + DAY, 15), local(d + DAY, 16))]
        uri = "/api/calendar?" + qs(**{"from": d.isoformat(), "to": (d + 7 * DAY).isoformat()})
        n_cgi, n_threads = 8, 8
        per_thread = (200 - n_cgi) // n_threads
        replies, errors = [], []
        lock = threading.Lock()

        def worker():
            for _ in range(per_thread):
                try:
                    r = stack().get(uri)
                except Exception as exc:  # noqa: BLE001 - reported below
                    with lock:
                        errors.append(repr(exc))
                    continue
                with lock:
                    replies.append(r)

        clear_sim_log()
        threads = [threading.Thread(target=worker) for _ in range(n_threads)]
        for t in threads:
            t.start()
        procs = [cgi_spawn(uri, env_extra={"CALENDAR_CACHE_TTL_S": "3600"})
                 for _ in range(n_cgi)]
        for t in threads:
            t.join()
        cgi_replies = [cgi_finish(p)[0] for p in procs]

        self.assertEqual(errors, [])
        every = replies + cgi_replies
        self.assertEqual(len(every), 200)
        calls = list_calls()
        rounds = first_pages(calls)
        with self.subTest(check="rounds"):
            self.assertGreaterEqual(len(rounds), 1, "the empty cache was never filled")
            assert_rounds_spaced(self, rounds)
            for c in calls:
                self.assertEqual(c["status"], 200, c["raw_path"])
        with self.subTest(check="every reply"):
            bad = [(i >= len(replies) and "cgi" or "nginx", r.status, r.body[:120])
                   for i, r in enumerate(every) if r.status != 200]
            self.assertEqual(bad, [], "%d of 200 replies were not 200 while Google was fine"
                             % len(bad))
            for r in every:
                self.assertEqual(r.json()["events"], expected)
            # The replies calendar_get made for their own request (not
            # nginx's copies of one, which keep its X-Cache).
            caches = [r.header("X-Cache") for r in every
                      if r.header("X-Nginx-Cache") not in ("HIT", "STALE", "UPDATING")]
            self.assertLessEqual(caches.count("MISS"), len(rounds),
                                 "a MISS reply without a call to Google")
            # The plain CGI runs have an hour's TTL: a copy that young is
            # never stale, however long the burst took.
            self.assertNotIn("STALE", [r.header("X-Cache") for r in cgi_replies])

    def test_availability_incremental_sync_and_410_resync(self):
        reset()
        d = today() + 3 * DAY
        frm, to = local(d), local(d + DAY)
        a, b, t, c, e = [(local(d, h), local(d, h + 1)) for h in (10, 12, 14, 16, 18)]
        stored = seed([timed(*a), timed(*b), timed(*t)])
        ids = [s["id"] for s in stored]
        clear_sim_log()
        r = get_calendar(frm, to)
        self.assertEqual(assert_cached_reply(self, r, "MISS")["events"],
                         [busy(*a), busy(*b), busy(*t)])
        full = first_pages(list_calls())
        self.assertEqual(len(full), 1)
        self.assertIsNotNone(qv(full[0], "timeMin"))
        self.assertIsNone(qv(full[0], "syncToken"))

        # Changes: a cancelled, t made transparent, c added. The next
        # refresh is incremental (syncToken, no time bounds).
        stack().sim("DELETE", "/_sim/calendars/%s/events/%s" % (CAL, ids[0]))
        stack().sim("PATCH", "/_sim/calendars/%s/events/%s" % (CAL, ids[2]),
                    {"transparency": "transparent"})
        seed(timed(*c))
        clear_sim_log()
        wait_ttl()
        r = get_calendar(frm, to)
        self.assertEqual(assert_cached_reply(self, r, "MISS")["events"], [busy(*b), busy(*c)])
        inc = first_pages(list_calls())
        self.assertEqual(len(inc), 1, [x["raw_path"] for x in inc])
        self.assertIsNotNone(qv(inc[0], "syncToken"), inc[0]["raw_path"])
        self.assertIsNone(qv(inc[0], "timeMin"))
        self.assertIsNone(qv(inc[0], "timeMax"))
        self.assertEqual(qv(inc[0], "singleEvents"), "true")
        self.assertEqual(inc[0]["status"], 200)

        # The sync token goes stale: 410, then a full list, and the reply right.
        stack().sim("POST", "/_sim/sync/invalidate")
        seed(timed(*e))
        clear_sim_log()
        size = log_size()
        wait_ttl()
        r = get_calendar(frm, to)
        self.assertEqual(assert_cached_reply(self, r, "MISS")["events"],
                         [busy(*b), busy(*c), busy(*e)])
        calls = list_calls()
        seen = [(qv(x, "syncToken") is not None, qv(x, "timeMin") is not None, x["status"])
                for x in calls]
        self.assertGreaterEqual(len(calls), 2, seen)
        self.assertEqual(seen[0], (True, False, 410), seen)
        self.assertIn((False, True, 200), seen[1:], seen)
        self.assertEqual(calls[-1]["status"], 200)
        resync = [x for x in calls if qv(x, "syncToken") is None]
        self.assertEqual(qv(resync[0], "singleEvents"), "true")
        self.assertIn("sync token is no longer valid", log_since(size))
        # And the new sync token works: the next refresh is incremental again.
        clear_sim_log()
        wait_ttl()
        assert_cached_reply(self, get_calendar(frm, to), "MISS")
        again = first_pages(list_calls())
        self.assertEqual([(qv(x, "syncToken") is not None, x["status"]) for x in again],
                         [(True, 200)])

    def test_availability_stale_while_google_fails_then_503(self):
        reset()
        d = today() + 3 * DAY
        frm, to = local(d), local(d + DAY)
        a = (local(d, 10), local(d, 11))
        seed(timed(*a))
        r = get_calendar(frm, to)
        body = assert_cached_reply(self, r, "MISS")
        self.assertEqual(body["events"], [busy(*a)])
        etag = r.header("ETag")

        # Google fails: within CALENDAR_MAX_STALE_S of the last success the
        # copy is served, said so.
        stack().sim("POST", "/_sim/faults", GOOGLE_503)
        clear_sim_log()
        wait_ttl()
        for _ in range(3):
            r = get_calendar(frm, to)
            self.assertEqual(assert_cached_reply(self, r, "STALE"), body)
            self.assertRegex(r.header("Cache-Control"), STALE_CC_RE)
        self.assertTrue(any(c["status"] == 503 for c in list_calls()), "Google was not asked")
        r = get_calendar(frm, to, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        # Still within the limit some seconds later (the refresh that fails
        # again takes its retries' time too).
        age_cache(success_ago=MAX_STALE - 5, attempt_ago=TTL + 1)
        r = get_calendar(frm, to)
        self.assertEqual(assert_cached_reply(self, r, "STALE"), body)

        # Past the limit: 503 calendar_unavailable, from every process.
        age_cache(success_ago=MAX_STALE + 1, attempt_ago=TTL + 1)
        for i in range(4):
            assert_error(self, get_calendar(frm, to, fresh=i == 0), 503, "calendar_unavailable")

        # Google back: the next refresh (once the last attempt is a TTL
        # old) is served fresh.
        stack().sim("DELETE", "/_sim/faults")
        age_cache(attempt_ago=TTL + 1)
        r = get_calendar(frm, to)
        self.assertEqual(assert_cached_reply(self, r, "MISS"), body)

    def test_availability_api_key_refused_or_missing_uses_admin_token(self):
        reset(users=True)
        self.addCleanup(stack().sql, "DELETE FROM users; DELETE FROM oauth_states")
        d = today() + 3 * DAY
        frm, to = local(d), local(d + DAY)
        a = (local(d, 10), local(d, 11))
        seed(timed(*a))
        uri = "/api/calendar?" + qs(**{"from": iso(frm), "to": iso(to)})

        # The key refused (unknown key: 400) and no admin: 503, every time.
        stack().sim("POST", "/_sim/google", {"api_keys": []})
        clear_sim_log()
        for i in range(4):
            with self.subTest(not_connected=i):
                msg = assert_error(self, stack().get(uri), 503, "calendar_not_connected")
                self.assertIn("/oauth/google/start", msg)
        calls = list_calls()
        self.assertTrue(calls and uses_key(calls[0]) and calls[0]["status"] == 400, calls)

        # The admin connects: the same refusal now reads with the token.
        connect_admin()
        age_cache(attempt_ago=TTL + 1)
        clear_sim_log()
        size = log_size()
        r = stack().get(uri)
        self.assertEqual(assert_cached_reply(self, r, "MISS")["events"], [busy(*a)])
        calls = list_calls()
        self.assertTrue(any(uses_key(c) and c["status"] == 400 for c in calls),
                        [(c["headers"], c["status"]) for c in calls])
        tok = [c for c in calls if bearer(c)]
        self.assertTrue(tok, "no events.list with Authorization: Bearer")
        self.assertEqual(tok[-1]["status"], 200)
        self.assertFalse(has_key(tok[-1]), "the token call carries no key")
        live = [x["token"] for x in stack().sim("GET", "/_sim/google")["tokens"]["access"]
                if x["status"] == "live"]
        self.assertIn(bearer(tok[-1]), live)
        text = log_since(size)
        self.assertRegex(text, r"(?i)api key was refused.*instead")
        self.assertNotIn("sim-api-key", text)
        self.assertNotIn(bearer(tok[-1]), text)

        # A private calendar answers 404 to the key: the token again
        # (a plain CGI run: no memory of its own).
        stack().sim("POST", "/_sim/google", {"api_keys": ["sim-api-key"]})
        stack().sim("POST", "/_sim/calendars/%s" % CAL, {"public": False})
        age_cache(success_ago=TTL + 1, attempt_ago=TTL + 1)
        clear_sim_log()
        r, log = cgi_get(uri)
        self.assertEqual(assert_cached_reply(self, r, "MISS")["events"], [busy(*a)])
        calls = list_calls()
        self.assertTrue(any(uses_key(c) and c["status"] == 404 for c in calls),
                        [(bool(bearer(c)), c["status"]) for c in calls])
        self.assertTrue(any(bearer(c) and c["status"] == 200 for c in calls))
        self.assertRegex(log, r"(?i)api key was refused.*instead")

        # No CALENDAR_API_KEY configured: the token, said so in the log.
        stack().sim("POST", "/_sim/calendars/%s" % CAL, {"public": True})
        age_cache(success_ago=TTL + 1, attempt_ago=TTL + 1)
        clear_sim_log()
        r, log = cgi_get(uri, drop=("CALENDAR_API_KEY",))
        self.assertEqual(assert_cached_reply(self, r, "MISS")["events"], [busy(*a)])
        calls = list_calls()
        self.assertTrue(calls)
        for c in calls:
            self.assertFalse(has_key(c), c["raw_path"])
            self.assertIsNotNone(bearer(c))
        self.assertRegex(log, r"(?i)CALENDAR_API_KEY")
        self.assertRegex(log, r"(?i)token")

        # No key and no admin: 503 calendar_not_connected.
        stack().forget_cache("DELETE FROM users")
        r, _ = cgi_get(uri, drop=("CALENDAR_API_KEY",))
        assert_error(self, r, 503, "calendar_not_connected")

    def test_availability_pages_followed_366_day_window(self):
        reset()
        start = local(today() + DAY, 8)
        n = 2600
        events = [timed(start + k * 3 * HOUR, start + k * 3 * HOUR + HOUR) for k in range(n)]
        for ev in events:
            ev.pop("summary")
        seed(events)
        frm, to = today().isoformat(), (today() + 366 * DAY).isoformat()
        clear_sim_log()
        r = stack().get("/api/calendar?" + qs(**{"from": frm, "to": to}))
        body = assert_cached_reply(self, r, "MISS")
        self.assertEqual(len(body["events"]), n)
        self.assertEqual(body["events"][0], busy(start, start + HOUR))
        self.assertEqual(body["events"][-1], busy(start + (n - 1) * 3 * HOUR,
                                                  start + (n - 1) * 3 * HOUR + HOUR))
        self.assertEqual(body["events"],
                         [busy(start + k * 3 * HOUR, start + k * 3 * HOUR + HOUR) for k in range(n)])
        calls = list_calls()
        self.assertEqual(len(first_pages(calls)), 1, "one round")
        # Google's page holds at most min(maxResults (default 250), 2500)
        # events: 2 pages at the largest page size.
        size = min(int(qv(calls[0], "maxResults") or 250), 2500)
        self.assertEqual(len(calls), math.ceil(n / size), [c["raw_path"][:160] for c in calls])
        self.assertGreaterEqual(len(calls), 2)
        tokens = [qv(c, "pageToken") for c in calls[1:]]
        self.assertTrue(all(tokens) and len(set(tokens)) == len(tokens), tokens)
        for c in calls:
            self.assertEqual(c["status"], 200)
        # One second more than 366 days is refused.
        r = stack().get("/api/calendar?" + qs(**{
            "from": iso(local(today())), "to": iso(local(today() + 366 * DAY) + datetime.timedelta(seconds=1))}))
        assert_error(self, r, 400, "invalid_parameter")

    def test_availability_daylight_saving_zone_as_plain_cgi(self):
        """TIME_ZONE=Europe/Madrid: offsets change at the transitions, and
        all-day events are local midnight to midnight (23 and 25 hours)."""
        reset(wait=False)  # plain CGI runs have no memory of their own
        madrid = zone("Europe/Madrid")
        seed([
            timed("2027-03-27T10:00:00+01:00", "2027-03-27T11:00:00+01:00"),
            timed("2027-03-28T01:30:00+01:00", "2027-03-28T03:30:00+02:00"),
            all_day(datetime.date(2027, 3, 28), datetime.date(2027, 3, 29)),
            timed("2027-03-29T10:00:00+02:00", "2027-03-29T11:00:00+02:00"),
            all_day(datetime.date(2027, 10, 31), datetime.date(2027, 11, 1)),
            timed("2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00"),
        ])
        env = {"TIME_ZONE": "Europe/Madrid"}
        r, log = cgi_get("/api/calendar?from=2027-03-27&to=2027-03-30", env_extra=env)
        body = assert_cached_reply(self, r)
        self.assertEqual(body, {
            "timeZone": "Europe/Madrid",
            "from": "2027-03-27T00:00:00+01:00", "to": "2027-03-30T00:00:00+02:00",
            "events": [
                {"start": "2027-03-27T10:00:00+01:00", "end": "2027-03-27T11:00:00+01:00",
                 "status": "confirmed"},
                {"start": "2027-03-28T00:00:00+01:00", "end": "2027-03-29T00:00:00+02:00",
                 "status": "confirmed"},
                {"start": "2027-03-28T01:30:00+01:00", "end": "2027-03-28T03:30:00+02:00",
                 "status": "confirmed"},
                {"start": "2027-03-29T10:00:00+02:00", "end": "2027-03-29T11:00:00+02:00",
                 "status": "confirmed"},
            ]}, log[-2000:])
        ad = body["events"][1]
        self.assertEqual(parse_iso(ad["end"]) - parse_iso(ad["start"]), 23 * HOUR)

        r, log = cgi_get("/api/calendar?from=2027-10-30&to=2027-11-01", env_extra=env)
        body = assert_cached_reply(self, r)
        self.assertEqual((body["from"], body["to"]),
                         ("2027-10-30T00:00:00+02:00", "2027-11-01T00:00:00+01:00"))
        self.assertEqual(body["events"], [
            {"start": "2027-10-31T00:00:00+02:00", "end": "2027-11-01T00:00:00+01:00",
             "status": "confirmed"},
            {"start": "2027-10-31T02:30:00+02:00", "end": "2027-10-31T02:30:00+01:00",
             "status": "confirmed"},
        ], log[-2000:])
        ad = body["events"][0]
        self.assertEqual(parse_iso(ad["end"]) - parse_iso(ad["start"]), 25 * HOUR)
        self.assertEqual(iso(parse_iso(ad["start"]), madrid), ad["start"])

        # The same cache read in the school's zone: the all-day event is
        # Buenos Aires' midnight to midnight.
        r, _ = cgi_get("/api/calendar?from=2027-03-28&to=2027-03-29")
        body = assert_cached_reply(self, r)
        self.assertIn({"start": "2027-03-28T00:00:00-03:00", "end": "2027-03-29T00:00:00-03:00",
                       "status": "confirmed"}, body["events"])


if __name__ == "__main__":
    unittest.main()
