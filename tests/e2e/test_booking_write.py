"""calendar_post end to end: POST /api/calendar, POST /api/calendar/holds,
PATCH /api/calendar/{id} and DELETE /api/calendar/{id}, through nginx (and
as plain CGI runs where more processes are wanted) against the simulator.

What is checked (DESIGN.md "calendar_post", BOOKING, "The Google event",
"Details the clients rely on"; protocols.md §2-§3): strict validation of
every field; the order of work (row first, then the event, then the row
scheduled) and a Google failure leaving a safe `scheduling` row answered
202; exactly one event per booking (id "bk" + booking id, 409 read as "it
exists" and fetched); no double booking, also against Google's busy times
and under 20+ simultaneous requests; the Meet link and its short polling;
Idempotency-Key replays; holds; reschedule and cancel; and the exact
requests sent to Google.

Each test starts from an empty `bookings` table and a reset simulator, and
connects the admin's Google account again (every write needs it).
"""

import datetime
import json
import os
import re
import subprocess
import threading
import time
import unittest
import zoneinfo

import harness
from test_oauth import cgi_finish, clean_up, clear_sim_log, connect, reset_all, sim_fault, \
    sim_google, sim_log, sim_tokens

CAL = "school@group.calendar.google.com"
EVENTS_RE = r"^/calendar/v3/calendars/[^/]+/events$"
CREATE = "/api/calendar"
HOLDS = "/api/calendar/holds"
SUMMARY = "Clase de Inglés"
KEYS = {"id", "status", "start", "end", "timeZone", "classType", "participants",
        "studentEmail", "studentName", "eventId", "meetLink", "htmlLink", "paymentId",
        "holdExpiresAt", "lastError"}
EVENT_KEYS = {"id", "summary", "description", "start", "end", "transparency", "attendees",
              "extendedProperties", "conferenceData"}
ID_RE = re.compile(r"^[0-9a-f]{32}$")
JSON_TYPE = "application/json; charset=utf-8"


def stack():
    return harness.stack


def zone_name():
    return stack().env.get("TIME_ZONE") or "America/Argentina/Buenos_Aires"


def zone():
    return zoneinfo.ZoneInfo(zone_name())


def notice_min():
    return int(stack().env.get("BOOKING_MIN_NOTICE_MIN") or 120)


def hold_min():
    return int(stack().env.get("BOOKING_HOLD_MIN") or 15)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def at(days, hour, minute=0):
    """A local time `days` ahead (moved to a weekday) at hour:minute."""
    d = now().astimezone(zone()).date() + datetime.timedelta(days=days)
    while d.weekday() >= 5:
        d += datetime.timedelta(days=1)
    return datetime.datetime(d.year, d.month, d.day, hour, minute, tzinfo=zone())


def iso(dt):
    return dt.astimezone(zone()).isoformat(timespec="seconds")


def parse_iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def mins(n):
    return datetime.timedelta(minutes=n)


def first_slot(minutes=60):
    """The earliest start /api/calendar/slots offers (the first one past
    the notice on an open day): the soonest a class may be booked."""
    d = now().astimezone(zone()).date()
    for _ in range(8):
        r = stack().get("/api/calendar/slots?date=%s&duration=%d" % (d.isoformat(), minutes))
        if r.status != 200:
            raise AssertionError("slots: %r" % r)
        if r.json()["slots"]:
            return parse_iso(r.json()["slots"][0]["start"]).astimezone(zone())
        d += datetime.timedelta(days=1)
    raise AssertionError("no slot offered in a week")


def klass(when, **fields):
    """A class body: start (datetime or text) and a student, plus fields
    (a field given as start= replaces it)."""
    b = {"start": when if isinstance(when, str) else iso(when),
         "studentEmail": "ana@example.com"}
    b.update(fields)
    return b


# ---- HTTP ----

def call(method, path, body=None, headers=None, auth=True, timeout=60):
    h = dict(stack().internal()) if auth else {}
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    return stack().call(method, path, body=body, headers=h, timeout=timeout)


def post(body, path=CREATE, **kw):
    return call("POST", path, body, **kw)


def patch(bid, body, **kw):
    return call("PATCH", "/api/calendar/" + bid, body, **kw)


def delete(bid, **kw):
    return call("DELETE", "/api/calendar/" + bid, **kw)


def cgi_start(method, uri, body, headers=None):
    """calendar_post as a plain CGI program, its body already written."""
    e = stack().program_env()
    path, _, query = uri.partition("?")
    e.update({"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
              "REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": query,
              "SCRIPT_NAME": path, "SERVER_NAME": "127.0.0.1",
              "SERVER_PORT": str(stack().port), "REMOTE_ADDR": "127.0.0.1",
              "HTTP_HOST": "127.0.0.1:%d" % stack().port,
              "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
              "HTTP_AUTHORIZATION": stack().internal()["Authorization"]})
    for k, v in (headers or {}).items():
        e["HTTP_" + k.upper().replace("-", "_")] = v
    p = subprocess.Popen([os.path.join(stack().bin_dir, "calendar_post")], env=e,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)

    def feed():
        # A program may refuse a large body without reading it.
        try:
            p.stdin.write(body)
        except OSError:
            pass
        try:
            p.stdin.close()
        except OSError:
            pass

    p.feeder = threading.Thread(target=feed, daemon=True)
    p.feeder.start()
    return p


def cgi_done(p):
    """(status, headers, body, stderr) of a cgi_start run."""
    p.feeder.join(60)
    p.stdin = None  # written and closed by the feeder
    return cgi_finish(p)


# ---- the simulator ----

def sim_events():
    """Every event the simulator holds on the school's calendar."""
    return stack().sim("GET", "/_sim/calendars/%s/events" % CAL)


def live_events():
    return [e for e in sim_events() if e.get("status") != "cancelled"]


def sim_event(eid):
    return stack().sim("GET", "/_sim/calendars/%s/events/%s" % (CAL, eid))


def seed(event):
    return stack().sim("POST", "/_sim/calendars/%s/events" % CAL, event)


def inserts(since=0):
    return sim_log(EVENTS_RE, "POST", since)


def lists(since=0):
    return sim_log(EVENTS_RE, "GET", since)


def on_event(eid, method, since=0):
    return sim_log(r"^/calendar/v3/calendars/[^/]+/events/%s$" % re.escape(eid), method, since)


def clear_faults():
    stack().sim("DELETE", "/_sim/faults")


def busy_event(start, end, **extra):
    ev = {"summary": "Staff meeting", "status": "confirmed",
          "start": {"dateTime": iso(start)}, "end": {"dateTime": iso(end)}}
    ev.update(extra)
    return ev


# ---- the database ----

ROW_COLS = ["id", "status",
            "DATE_FORMAT(nextAttemptAt, '%Y-%m-%dT%H:%i:%sZ')",
            "DATE_FORMAT(holdExpiresAt, '%Y-%m-%dT%H:%i:%sZ')", "DATE_FORMAT(startAt, '%Y-%m-%dT%H:%i:%sZ')",
            "DATE_FORMAT(endAt, '%Y-%m-%dT%H:%i:%sZ')", "eventId", "meetLink", "htmlLink",
            "attempts", "lastError",
            "TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), nextAttemptAt)",
            "TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), holdExpiresAt)", "cancelPending",
            "classType", "participants", "studentEmail", "studentName", "notes"]
ROW_NAMES = ["id", "status", "nextAttemptAt", "holdExpiresAt", "start", "end", "eventId", "meetLink", "htmlLink", "attempts",
             "lastError", "nextAttemptIn", "holdExpiresIn", "cancelPending", "classType",
             "participants", "studentEmail", "studentName", "notes"]


def rows():
    out = []
    for r in stack().sql("SELECT %s FROM bookings ORDER BY createdAt, id" % ", ".join(ROW_COLS)):
        d = dict(zip(ROW_NAMES, r))
        for k in ("attempts", "nextAttemptIn", "holdExpiresIn", "cancelPending", "participants"):
            d[k] = int(d[k]) if d[k] is not None else None
        out.append(d)
    return out


def stable_rows():
    """rows() without the columns relative to the current time."""
    return [{k: v for k, v in r.items() if k not in ("nextAttemptIn", "holdExpiresIn")}
            for r in rows()]


def row(bid):
    found = [r for r in rows() if r["id"] == bid]
    return found[0] if found else None


def active_ids():
    return [r[0] for r in stack().sql(
        "SELECT id FROM bookings WHERE status NOT IN ('cancelled', 'failed') AND "
        "(status <> 'held' OR holdExpiresAt > UTC_TIMESTAMP())")]


def utc(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------

class BookingWriteBase(unittest.TestCase):
    def setUp(self):
        reset_all()
        stack().sql("DELETE FROM bookings")
        connect()
        clear_sim_log()

    def tearDown(self):
        clean_up()
        stack().sql("DELETE FROM bookings")

    # -- checks --

    def assertError(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), JSON_TYPE, r)
        body = r.json()
        self.assertEqual(set(body), {"error"}, body)
        self.assertEqual(set(body["error"]), {"code", "message"}, body)
        self.assertRegex(body["error"]["code"], r"^[a-z][a-z0-9_]*$")
        self.assertIsInstance(body["error"]["message"], str)
        self.assertTrue(body["error"]["message"].strip(), body)
        if code is not None:
            self.assertEqual(body["error"]["code"], code, body)
        return body["error"]

    def assertInvalid(self, r, field):
        err = self.assertError(r, 422, "invalid_field")
        self.assertIn(field, err["message"], "the message names the field")
        return err

    def booking(self, r, status):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), JSON_TYPE, r)
        body = r.json()
        self.assertEqual(set(body), {"booking"}, body)
        b = body["booking"]
        self.assertEqual(set(b), KEYS, b)
        self.assertRegex(b["id"], ID_RE)
        self.assertEqual(b["timeZone"], zone_name())
        return b

    def scheduled(self, r, start, minutes=60, status=201, meet=True):
        """A class that has its event: checked against the simulator; with
        meet, its Meet link too (else none yet)."""
        b = self.booking(r, status)
        self.assertEqual(b["status"], "scheduled", b)
        self.assertEqual((b["start"], b["end"]), (iso(start), iso(start + mins(minutes))), b)
        self.assertEqual(b["eventId"], "bk" + b["id"], b)
        self.assertRegex(b["eventId"], r"^[a-v0-9]{5,1024}$")
        ev = sim_event(b["eventId"])
        self.assertEqual(ev.get("status"), "confirmed", ev)
        self.assertEqual(b["htmlLink"], ev["htmlLink"])
        if meet:
            self.assertIsNotNone(b["meetLink"], b)
            self.assertEqual(b["meetLink"], ev.get("hangoutLink"), ev)
        else:
            self.assertIsNone(b["meetLink"], b)
        self.assertIsNone(b["holdExpiresAt"])
        self.assertIsNone(b["paymentId"])
        return b

    def assertEventBody(self, sent, bid, start, minutes, class_type="individual",
                        participants=1, email="ana@example.com", name=None):
        """The body of events.insert, as designed."""
        self.assertIsInstance(sent, dict, sent)
        self.assertEqual(set(sent), EVENT_KEYS, sent)
        self.assertEqual(sent["id"], "bk" + bid)
        self.assertRegex(sent["id"], r"^[a-v0-9]{5,1024}$")
        self.assertEqual(sent["summary"], SUMMARY)
        self.assertEqual(sent["start"], {"dateTime": iso(start), "timeZone": zone_name()})
        self.assertEqual(sent["end"], {"dateTime": iso(start + mins(minutes)),
                                       "timeZone": zone_name()})
        self.assertEqual(sent["transparency"], "opaque")
        att = sent["attendees"]
        self.assertEqual(len(att), 1, att)
        self.assertEqual(att[0]["email"], email)
        self.assertLessEqual(set(att[0]), {"email", "displayName", "responseStatus"}, att)
        if "displayName" in att[0]:
            self.assertEqual(att[0]["displayName"], name)
        self.assertEqual(sent["extendedProperties"]["private"]["bookingId"], bid)
        cd = sent["conferenceData"]
        self.assertEqual(set(cd), {"createRequest"}, cd)
        self.assertEqual(set(cd["createRequest"]), {"requestId", "conferenceSolutionKey"}, cd)
        self.assertEqual(cd["createRequest"]["conferenceSolutionKey"], {"type": "hangoutsMeet"})
        rid = cd["createRequest"]["requestId"]
        self.assertIsInstance(rid, str)
        self.assertTrue(rid)
        desc = sent["description"]
        self.assertIsInstance(desc, str)
        self.assertIn(class_type, desc)
        self.assertRegex(desc, r"(?<!\d)%d(?!\d)" % participants)
        self.assertRegex(desc.lower(), r"participantes?\b")

    def assertWriteQuery(self, entry):
        q = entry["query"]
        self.assertEqual(q.get("conferenceDataVersion"), ["1"], entry["raw_path"])
        self.assertEqual(q.get("sendUpdates"), ["all"], entry["raw_path"])
        self.assertTrue((entry["headers"].get("authorization") or "").startswith("Bearer "))
        self.assertNotIn("key", q)

    def create(self, start, minutes=60, **fields):
        if minutes != 60:
            fields["durationMinutes"] = minutes
        return self.scheduled(post(klass(start, **fields)), start, minutes)

    def fail_google(self, rule):
        """A 202 booking left in scheduling by a failure on insert."""
        base = {"method": "POST", "path": EVENTS_RE, "times": -1}
        base.update(rule)
        sim_fault(base)


# ---------------------------------------------------------------------------

class BookingWriteCreate(BookingWriteBase):
    def test_booking_write_create_class(self):
        start = at(3, 15)
        r = post(klass(start, durationMinutes=90, classType="conversación B2",
                       participants=3, studentEmail="Ana.Perez+clase@example.com",
                       studentName="Ana Pérez", notes="Traer el libro."))
        b = self.scheduled(r, start, 90)
        self.assertEqual((b["classType"], b["participants"], b["studentEmail"], b["studentName"]),
                         ("conversación B2", 3, "Ana.Perez+clase@example.com", "Ana Pérez"))
        self.assertIsNone(b["lastError"])
        self.assertTrue(b["meetLink"], b)
        self.assertRegex(b["meetLink"], r"^https://meet\.google\.com/")
        # The row: scheduled with event id, Meet link and html link.
        rw = row(b["id"])
        self.assertEqual((rw["status"], rw["eventId"], rw["meetLink"], rw["htmlLink"]),
                         ("scheduled", b["eventId"], b["meetLink"], b["htmlLink"]))
        self.assertEqual((rw["start"], rw["end"]), (utc(start), utc(start + mins(90))))
        self.assertEqual(rw["notes"], "Traer el libro.")
        self.assertEqual(len(rows()), 1)
        # Google: the slot checked with the admin's token, one insert.
        access, _ = sim_tokens()
        live = [a["token"] for a in access if a.get("status") == "live"]
        ls = lists()
        self.assertGreaterEqual(len(ls), 1)
        for entry in ls:
            self.assertIn(entry["headers"].get("authorization"),
                          ["Bearer " + t for t in live])
            self.assertNotIn("key", entry["query"])
            tmin = parse_iso(entry["query"]["timeMin"][0])
            tmax = parse_iso(entry["query"]["timeMax"][0])
            self.assertLessEqual(tmin, start)
            self.assertGreaterEqual(tmax, start + mins(90))
        ins = inserts()
        self.assertEqual(len(ins), 1, ins)
        self.assertEqual(ins[0]["status"], 200)
        self.assertWriteQuery(ins[0])
        self.assertEventBody(ins[0]["json"], b["id"], start, 90, "conversación B2", 3,
                             "Ana.Perez+clase@example.com", "Ana Pérez")
        self.assertIn("Bearer " + live[-1], [e["headers"].get("authorization") for e in ins])
        # Exactly one event, ours.
        evs = sim_events()
        self.assertEqual([e["id"] for e in evs], [b["eventId"]])
        self.assertEqual(evs[0]["summary"], SUMMARY)
        self.assertEqual(evs[0]["extendedProperties"]["private"]["bookingId"], b["id"])
        # GET /api/bookings/{id} tells the same.
        g = stack().get("/api/bookings/" + b["id"], headers=stack().internal())
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["booking"], b)

    def test_booking_write_request_ids_differ_per_booking(self):
        a = self.create(at(4, 9))
        b = self.create(at(4, 11))
        ins = inserts()
        self.assertEqual(len(ins), 2)
        rid = {e["json"]["id"]: e["json"]["conferenceData"]["createRequest"]["requestId"]
               for e in ins}
        self.assertEqual(set(rid), {a["eventId"], b["eventId"]})
        self.assertNotEqual(rid[a["eventId"]], rid[b["eventId"]])
        self.assertNotEqual(a["meetLink"], b["meetLink"])

    def test_booking_write_defaults_and_bounds_accepted(self):
        d = 5
        cases = [
            (at(d, 9), {"durationMinutes": 15}, 15, "individual", 1),
            (at(d, 10), {"participants": 50}, 60, "individual", 50),
            (at(d, 11), {"participants": 1, "classType": "ñ" * 64}, 60, "ñ" * 64, 1),
            (at(d, 12), {"studentName": "é" * 200}, 60, "individual", 1),
            (at(d, 13), {"notes": "n" * 2000}, 60, "individual", 1),
            (at(d, 14), {"durationMinutes": 240}, 240, "individual", 1),
            (at(d, 18), {}, 60, "individual", 1),
            (at(d, 19), {"classType": "Business English: B2 (grupo) ~!"}, 60,
             "Business English: B2 (grupo) ~!", 1),
        ]
        for start, fields, minutes, ctype, parts in cases:
            with self.subTest(fields=sorted(fields)):
                since = sim_log()[-1]["seq"] if sim_log() else 0
                b = self.scheduled(post(klass(start, **fields)), start, minutes)
                self.assertEqual((b["classType"], b["participants"]), (ctype, parts))
                self.assertEqual(b["studentName"], fields.get("studentName"))
                ins = inserts(since)
                self.assertEqual(len(ins), 1)
                self.assertEventBody(ins[0]["json"], b["id"], start, minutes, ctype, parts,
                                     name=fields.get("studentName"))
                rw = row(b["id"])
                self.assertEqual(rw["notes"], fields.get("notes"))
                self.assertEqual(rw["studentName"], fields.get("studentName"))
                self.assertEqual(rw["classType"], ctype)
        self.assertEqual(len(rows()), len(cases))

    def test_booking_write_start_forms(self):
        d = at(6, 0)
        day = d.date().isoformat()
        soon = first_slot()
        cases = [
            ("%sT15:00:00" % day, at(6, 15)),                        # no offset: TIME_ZONE
            ((at(6, 17).astimezone(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             at(6, 17)),
            (at(6, 19).astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat(),
             at(6, 19)),
            (iso(soon), soon),                       # the first slot offered, past the notice
        ]
        for text, start in cases:
            with self.subTest(start=text):
                b = self.scheduled(post(klass(text)), start)
                self.assertEqual(row(b["id"])["start"], utc(start))

    def test_booking_write_google_busy_refused(self):
        start = at(7, 16)
        seed(busy_event(start + mins(30), start + mins(90)))
        r = post(klass(start))
        self.assertError(r, 409, "slot_unavailable")
        self.assertEqual(rows(), [])
        self.assertEqual(inserts(), [])
        ls = lists()
        self.assertGreaterEqual(len(ls), 1)
        access, _ = sim_tokens()
        self.assertIn(ls[-1]["headers"].get("authorization"),
                      ["Bearer " + a["token"] for a in access if a.get("status") == "live"])
        # A hold on it is refused too.
        self.assertError(post(klass(start), path=HOLDS), 409, "slot_unavailable")
        self.assertEqual(rows(), [])
        # What does not block: touching the edge, transparent, cancelled.
        seed(busy_event(at(7, 9), at(7, 10)))
        seed(busy_event(at(7, 11), at(7, 12), transparency="transparent"))
        seed(busy_event(at(7, 13), at(7, 14), status="cancelled"))
        self.create(at(7, 10))
        self.create(at(7, 11))
        self.create(at(7, 13))
        self.assertEqual(len(inserts()), 3)

    def test_booking_write_own_bookings_block(self):
        start = at(8, 10)
        first = self.create(start)
        for s, m in ((start, 60), (start + mins(30), 60), (start - mins(30), 45),
                     (start - mins(60), 240)):
            with self.subTest(start=iso(s), minutes=m):
                r = post(klass(s, durationMinutes=m))
                self.assertError(r, 409, "slot_unavailable")
        # Back to back is fine.
        self.create(start + mins(60))
        self.create(start - mins(30), 30)
        self.assertEqual(len(rows()), 3)
        self.assertEqual(len(inserts()), 3)
        self.assertIn(first["id"], active_ids())

    def test_booking_write_calendar_not_connected(self):
        stack().sql("DELETE FROM users")
        clear_sim_log()
        r = post(klass(at(3, 12)))
        err = self.assertError(r, 503, "calendar_not_connected")
        self.assertIn("/oauth/google/start", err["message"])
        self.assertEqual(rows(), [])
        self.assertEqual(inserts(), [])

    def test_booking_write_needs_the_internal_token(self):
        bid = self.create(at(4, 17))["id"]
        before = stable_rows()
        events_before = sim_events()
        clear_sim_log()
        token = stack().env["INTERNAL_API_TOKEN"]
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": "Bearer " + token[:-1]},
                        {"Authorization": "Basic " + token}):
            for method, path, body in (("POST", CREATE, klass(at(4, 9))),
                                       ("POST", HOLDS, klass(at(4, 9))),
                                       ("PATCH", "/api/calendar/" + bid,
                                        {"start": iso(at(4, 9))}),
                                       ("DELETE", "/api/calendar/" + bid, None)):
                with self.subTest(method=method, path=path, headers=headers):
                    r = call(method, path, body, headers=headers, auth=False)
                    self.assertError(r, 401)
        self.assertEqual(stable_rows(), before)
        self.assertEqual(sim_events(), events_before)
        self.assertEqual(sim_log(), [])


# ---------------------------------------------------------------------------

class BookingWriteValidation(BookingWriteBase):
    def test_booking_write_each_invalid_field(self):
        start = at(3, 10)
        past = now() - datetime.timedelta(days=1)
        inside = now() + mins(notice_min() - 60)

        def without(name):
            b = klass(start)
            del b[name]
            return b

        cases = [
            ("foo", dict(klass(start), foo=1)),
            ("studentPhone", dict(klass(start), studentPhone="123")),
            ("start", without("start")),
            ("start", klass(start, start=12345)),
            ("start", klass(start, start=None)),
            ("start", klass(start, start="")),
            ("start", klass(start, start="tomorrow at three")),
            ("start", klass(start, start="%s-13-01T15:00:00-03:00" % start.year)),
            ("start", klass(start, start=start.date().isoformat() + "T25:00:00-03:00")),
            ("start", klass(start, start=iso(past))),
            ("durationMinutes", klass(start, durationMinutes=14)),
            ("durationMinutes", klass(start, durationMinutes=241)),
            ("durationMinutes", klass(start, durationMinutes=0)),
            ("durationMinutes", klass(start, durationMinutes=-60)),
            ("durationMinutes", klass(start, durationMinutes="60")),
            ("durationMinutes", klass(start, durationMinutes=60.5)),
            ("durationMinutes", klass(start, durationMinutes=True)),
            ("participants", klass(start, participants=0)),
            ("participants", klass(start, participants=51)),
            ("participants", klass(start, participants=-1)),
            ("participants", klass(start, participants="2")),
            ("participants", klass(start, participants=1.5)),
            ("participants", klass(start, participants=False)),
            ("classType", klass(start, classType="")),
            ("classType", klass(start, classType="x" * 65)),
            ("classType", klass(start, classType="ñ" * 65)),
            ("classType", klass(start, classType="a\nb")),
            ("classType", klass(start, classType="a\x01b")),
            ("classType", klass(start, classType=7)),
            ("classType", klass(start, classType=["individual"])),
            ("studentEmail", without("studentEmail")),
            ("studentEmail", klass(start, studentEmail=None)),
            ("studentEmail", klass(start, studentEmail="")),
            ("studentEmail", klass(start, studentEmail="ana")),
            ("studentEmail", klass(start, studentEmail="ana@")),
            ("studentEmail", klass(start, studentEmail="@example.com")),
            ("studentEmail", klass(start, studentEmail="ana@example")),
            ("studentEmail", klass(start, studentEmail="ana@@example.com")),
            ("studentEmail", klass(start, studentEmail="ana perez@example.com")),
            ("studentEmail", klass(start, studentEmail="ana@exa mple.com")),
            ("studentEmail", klass(start, studentEmail="ana..perez@example.com")),
            ("studentEmail", klass(start, studentEmail=42)),
            ("studentName", klass(start, studentName="x" * 201)),
            ("studentName", klass(start, studentName="é" * 201)),
            ("studentName", klass(start, studentName=5)),
            ("notes", klass(start, notes="x" * 2001)),
            ("notes", klass(start, notes=["a"])),
        ]
        for field, body in cases:
            for path in (CREATE, HOLDS):
                with self.subTest(field=field, body=json.dumps(body)[:120], path=path):
                    self.assertInvalid(post(body, path=path), field)
        # A well-formed start inside the notice is not a slot the school
        # offers (test_write_rules has the rest of that rule).
        for path in (CREATE, HOLDS):
            err = self.assertError(post(klass(start, start=iso(inside)), path=path), 422,
                                   "outside_opening_hours")
            self.assertIn("start", err["message"])
        self.assertEqual(rows(), [])
        self.assertEqual(inserts(), [])

    def test_booking_write_not_json_wrong_type_too_large(self):
        start = at(3, 11)
        good = json.dumps(klass(start)).encode()
        for path in (CREATE, HOLDS):
            with self.subTest(path=path, case="not JSON"):
                self.assertError(post(b'{"start": ', path=path,
                                      headers={"Content-Type": "application/json"}), 400)
                self.assertError(post(b"", path=path,
                                      headers={"Content-Type": "application/json"}), 400)
                self.assertError(post(b"start=tomorrow", path=path,
                                      headers={"Content-Type": "application/json"}), 400)
            with self.subTest(path=path, case="Content-Type"):
                self.assertError(post(good, path=path, headers={"Content-Type": "text/plain"}),
                                 415)
                self.assertError(post(good, path=path, headers={
                    "Content-Type": "application/x-www-form-urlencoded"}), 415)
                self.assertError(post(good, path=path), 415)  # none at all
            with self.subTest(path=path, case="64 KiB"):
                big = json.dumps(klass(start, notes="x" * (64 * 1024))).encode()
                self.assertGreater(len(big), 64 * 1024)
                self.assertError(post(big, path=path,
                                      headers={"Content-Type": "application/json"}), 413)
        # The program itself refuses a body over 64 KiB, behind any proxy.
        big = json.dumps(klass(start, notes="x" * (64 * 1024))).encode()
        status, headers, body, _ = cgi_done(cgi_start("POST", CREATE, big))
        self.assertEqual(status, 413, body[:300])
        self.assertEqual(set(json.loads(body)), {"error"})
        # A body just under the limit is read (and refused for its notes).
        fits = json.dumps(klass(start, notes="x" * (60 * 1024))).encode()
        self.assertLess(len(fits), 64 * 1024)
        self.assertInvalid(post(fits, headers={"Content-Type": "application/json"}), "notes")
        self.assertEqual(rows(), [])
        self.assertEqual(inserts(), [])
        # And the programs still serve the next request.
        self.create(start)

    def test_booking_write_patch_validation(self):
        start = at(4, 10)
        bid = self.create(start)["id"]
        clear_sim_log()
        before = stable_rows()
        cases = [
            ("start", {}),
            ("foo", {"foo": 1}),
            ("studentEmail", {"studentEmail": "x@example.com"}),
            ("start", {"start": iso(now() - datetime.timedelta(days=1))}),
            ("start", {"start": "soon"}),
            ("start", {"start": 1}),
            ("durationMinutes", {"durationMinutes": 241}),
            ("durationMinutes", {"durationMinutes": 14}),
            ("durationMinutes", {"durationMinutes": "90"}),
        ]
        for field, body in cases:
            with self.subTest(body=body):
                self.assertInvalid(patch(bid, body), field)
        err = self.assertError(patch(bid, {"start": iso(now() + mins(notice_min() - 60))}), 422,
                               "outside_opening_hours")
        self.assertIn("start", err["message"])
        self.assertError(patch(bid, b"{", headers={"Content-Type": "application/json"}), 400)
        self.assertError(patch(bid, json.dumps({"durationMinutes": 90}).encode(),
                               headers={"Content-Type": "text/plain"}), 415)
        self.assertEqual(stable_rows(), before)
        self.assertEqual(on_event("bk" + bid, "PATCH"), [])


# ---------------------------------------------------------------------------

class BookingWriteConcurrency(BookingWriteBase):
    def test_booking_write_twenty_at_once_one_booking(self):
        start = at(9, 11)
        bodies = []
        for i in range(20):
            s, m = (start, 60) if i % 4 else (start + mins(30), 60)
            bodies.append(json.dumps(klass(s, durationMinutes=m,
                                           studentEmail="s%02d@example.com" % i)).encode())
        cgi_bodies = [json.dumps(klass(start + mins(30 * (i % 2)), durationMinutes=45,
                                       studentEmail="c%02d@example.com" % i)).encode()
                      for i in range(8)]
        replies = [None] * len(bodies)
        gate = threading.Barrier(len(bodies) + 1)

        def one(i):
            gate.wait()
            replies[i] = post(bodies[i], headers={"Content-Type": "application/json"})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        gate.wait()
        procs = [cgi_start("POST", CREATE, b) for b in cgi_bodies]
        results = [cgi_done(p) for p in procs]
        for t in threads:
            t.join(120)
        statuses = [r.status for r in replies] + [r[0] for r in results]
        bodies_out = [r.body for r in replies] + [r[2] for r in results]
        self.assertEqual(sorted(statuses), [201] + [409] * (len(statuses) - 1),
                         [(s, b[:200]) for s, b in zip(statuses, bodies_out)])
        for s, b in zip(statuses, bodies_out):
            if s == 409:
                self.assertEqual(json.loads(b)["error"]["code"], "slot_unavailable", b)
        won = json.loads(bodies_out[statuses.index(201)])["booking"]
        self.assertEqual(won["status"], "scheduled")
        self.assertEqual(active_ids(), [won["id"]])
        self.assertEqual([r["id"] for r in rows()], [won["id"]])
        evs = sim_events()
        self.assertEqual([e["id"] for e in evs], ["bk" + won["id"]])
        self.assertEqual(len(inserts()), 1)


# ---------------------------------------------------------------------------

class BookingWriteHolds(BookingWriteBase):
    def assertHeld(self, r, start, minutes=60):
        b = self.booking(r, 201)
        self.assertEqual(b["status"], "held", b)
        self.assertEqual((b["start"], b["end"]), (iso(start), iso(start + mins(minutes))))
        self.assertIsNone(b["eventId"])
        self.assertIsNone(b["meetLink"])
        self.assertIsNone(b["htmlLink"])
        self.assertIsNotNone(b["holdExpiresAt"])
        expires = parse_iso(b["holdExpiresAt"])
        self.assertEqual(expires.utcoffset(), start.utcoffset())
        left = (expires - now()).total_seconds()
        self.assertTrue(hold_min() * 60 - 90 <= left <= hold_min() * 60 + 5, left)
        return b

    def test_booking_write_hold_takes_the_slot(self):
        start = at(3, 14)
        h = self.assertHeld(post(klass(start, classType="grupal", participants=4), path=HOLDS),
                            start)
        self.assertEqual((h["classType"], h["participants"]), ("grupal", 4))
        self.assertEqual(inserts(), [], "a hold makes no Google event")
        self.assertEqual(sim_events(), [])
        rw = row(h["id"])
        self.assertEqual(rw["status"], "held")
        self.assertTrue(hold_min() * 60 - 90 <= rw["holdExpiresIn"] <= hold_min() * 60 + 5)
        # Taken while it lives: by a class, another hold, an overlap.
        for path, s in ((CREATE, start), (HOLDS, start), (CREATE, start + mins(30)),
                        (HOLDS, start - mins(30))):
            with self.subTest(path=path, start=iso(s)):
                self.assertError(post(klass(s, studentEmail="otro@example.com"), path=path),
                                 409, "slot_unavailable")
        self.assertEqual([r["id"] for r in rows()], [h["id"]])
        self.assertEqual(inserts(), [])
        # Next to it is free.
        self.assertHeld(post(klass(start + mins(60)), path=HOLDS), start + mins(60))

    def test_booking_write_expired_hold_never_in_the_way(self):
        start = at(4, 15)
        h1 = self.assertHeld(post(klass(start), path=HOLDS), start)
        h2 = self.assertHeld(post(klass(start + mins(120)), path=HOLDS), start + mins(120))
        stack().sql("UPDATE bookings SET holdExpiresAt = UTC_TIMESTAMP() - INTERVAL 1 MINUTE "
                    "WHERE id IN ('%s', '%s')" % (h1["id"], h2["id"]))
        # A class on the first expired hold's slot, a hold on the second's.
        b = self.create(start, studentEmail="otro@example.com")
        self.assertNotEqual(b["id"], h1["id"])
        h3 = self.assertHeld(post(klass(start + mins(120)), path=HOLDS), start + mins(120))
        self.assertEqual(sorted(active_ids()), sorted([b["id"], h3["id"]]))
        self.assertEqual(len(inserts()), 1)


# ---------------------------------------------------------------------------

class BookingWriteReschedule(BookingWriteBase):
    def test_booking_write_reschedule(self):
        s1, s2 = at(5, 10), at(6, 16)
        b = self.create(s1, studentName="Ana")
        ev0 = sim_event(b["eventId"])
        rid = ev0["conferenceData"]["createRequest"]["requestId"]
        clear_sim_log()
        r = patch(b["id"], {"start": iso(s2)})
        b2 = self.scheduled(r, s2, status=200)
        self.assertEqual((b2["id"], b2["eventId"], b2["meetLink"], b2["htmlLink"]),
                         (b["id"], b["eventId"], b["meetLink"], b["htmlLink"]))
        self.assertEqual((row(b["id"])["start"], row(b["id"])["end"]),
                         (utc(s2), utc(s2 + mins(60))))
        ev = sim_event(b["eventId"])
        self.assertEqual(ev["start"]["dateTime"], iso(s2))
        self.assertEqual(ev["end"]["dateTime"], iso(s2 + mins(60)))
        self.assertEqual(ev["hangoutLink"], b["meetLink"])
        self.assertEqual(ev["conferenceData"]["createRequest"]["requestId"], rid)
        self.assertEqual(inserts(), [])
        ps = on_event(b["eventId"], "PATCH")
        self.assertEqual(len(ps), 1, ps)
        self.assertEqual(ps[0]["status"], 200)
        self.assertWriteQuery(ps[0])
        body = ps[0]["json"]
        self.assertEqual(body["start"], {"dateTime": iso(s2), "timeZone": zone_name()})
        self.assertEqual(body["end"], {"dateTime": iso(s2 + mins(60)), "timeZone": zone_name()})
        self.assertEqual(body.get("id", b["eventId"]), b["eventId"])
        if "conferenceData" in body:  # never a new Meet
            self.assertEqual(body["conferenceData"]["createRequest"]["requestId"], rid)
        self.assertEqual([e["id"] for e in sim_events()], [b["eventId"]])
        # The old slot is free again; the duration alone can change too.
        self.create(s1)
        clear_sim_log()
        b3 = self.scheduled(patch(b["id"], {"durationMinutes": 90}), s2, 90, status=200)
        self.assertEqual(b3["meetLink"], b["meetLink"])
        ev = sim_event(b["eventId"])
        self.assertEqual(ev["end"]["dateTime"], iso(s2 + mins(90)))
        self.assertEqual(len(on_event(b["eventId"], "PATCH")), 1)
        # Overlapping its own old time is not a conflict.
        b4 = self.scheduled(patch(b["id"], {"start": iso(s2 + mins(30)),
                                            "durationMinutes": 60}), s2 + mins(30),
                            status=200)
        self.assertEqual(b4["eventId"], b["eventId"])
        self.assertEqual(len(live_events()), 2)

    def test_booking_write_reschedule_conflicts_change_nothing(self):
        s1, s2, s3 = at(7, 9), at(7, 12), at(7, 15)
        a = self.create(s1)
        other = self.create(s2, studentEmail="otro@example.com")
        seed(busy_event(s3, s3 + mins(60)))
        before_rows = stable_rows()
        before_ev = sim_event(a["eventId"])
        clear_sim_log()
        for body in ({"start": iso(s2)}, {"start": iso(s2 - mins(30))},
                     {"durationMinutes": 240}, {"start": iso(s3 + mins(30))}):
            with self.subTest(body=body):
                self.assertError(patch(a["id"], body), 409, "slot_unavailable")
        self.assertEqual(stable_rows(), before_rows)
        self.assertEqual(sim_event(a["eventId"]), before_ev)
        self.assertEqual(on_event(a["eventId"], "PATCH"), [])
        self.assertEqual(inserts(), [])
        self.assertIn(other["id"], active_ids())

    def test_booking_write_reschedule_unknown_or_cancelled(self):
        s = at(8, 14)
        for bad in (os.urandom(16).hex(), "nope", "A" * 32):
            with self.subTest(id=bad):
                self.assertError(patch(bad, {"start": iso(s)}), 404, "booking_not_found")
                self.assertError(delete(bad), 404, "booking_not_found")
        b = self.create(s)
        self.booking(delete(b["id"]), 200)
        before = stable_rows()
        clear_sim_log()
        self.assertError(patch(b["id"], {"start": iso(s + mins(120))}), 409)
        self.assertEqual(stable_rows(), before)
        self.assertEqual(sim_log(r"^/calendar/"), [])


# ---------------------------------------------------------------------------

class BookingWriteCancel(BookingWriteBase):
    def test_booking_write_cancel(self):
        s = at(3, 9)
        b = self.create(s)
        clear_sim_log()
        c = self.booking(delete(b["id"]), 200)
        self.assertEqual(c["id"], b["id"])
        self.assertEqual(c["status"], "cancelled")
        self.assertEqual((c["start"], c["end"]), (b["start"], b["end"]))
        ds = on_event(b["eventId"], "DELETE")
        self.assertEqual(len(ds), 1, ds)
        self.assertEqual(ds[0]["status"], 204)
        self.assertFalse(ds[0]["body"])
        self.assertEqual(sim_event(b["eventId"])["status"], "cancelled")
        self.assertEqual(live_events(), [])
        self.assertEqual(row(b["id"])["status"], "cancelled")
        self.assertEqual(row(b["id"])["cancelPending"], 0)
        self.assertEqual(active_ids(), [])
        # Repeating it: 200 again, no second call to Google.
        clear_sim_log()
        c2 = self.booking(delete(b["id"]), 200)
        self.assertEqual(c2["status"], "cancelled")
        self.assertEqual(c2["id"], b["id"])
        self.assertEqual(sim_log(r"^/calendar/v3/calendars/[^/]+/events/"), [])
        # The slot is free again.
        n = self.create(s, studentEmail="otro@example.com")
        self.assertNotEqual(n["eventId"], b["eventId"])
        self.assertEqual([e["id"] for e in live_events()], [n["eventId"]])

    def test_booking_write_cancel_event_already_gone(self):
        # Gone at Google (410), or never there (404): cancelled all the same.
        for case, s in (("410", at(4, 10)), ("404", at(4, 13))):
            with self.subTest(case=case):
                b = self.create(s)
                if case == "410":
                    stack().sim("DELETE", "/_sim/calendars/%s/events/%s" % (CAL, b["eventId"]))
                else:
                    sim_fault({"method": "DELETE", "path": re.escape(b["eventId"]),
                               "status": 404, "times": 1})
                clear_sim_log()
                c = self.booking(delete(b["id"]), 200)
                self.assertEqual(c["status"], "cancelled")
                ds = on_event(b["eventId"], "DELETE")
                self.assertEqual([d["status"] for d in ds], [int(case)])
                rw = row(b["id"])
                self.assertEqual((rw["status"], rw["cancelPending"], rw["lastError"]),
                                 ("cancelled", 0, None))
                clear_sim_log()
                self.booking(delete(b["id"]), 200)
                self.assertEqual(on_event(b["eventId"], "DELETE"), [])

    def test_booking_write_cancel_hold(self):
        s = at(5, 17)
        h = self.booking(post(klass(s), path=HOLDS), 201)
        c = self.booking(delete(h["id"]), 200)
        self.assertEqual(c["status"], "cancelled")
        self.assertEqual(active_ids(), [])
        self.create(s)


# ---------------------------------------------------------------------------

class BookingWriteGoogleFailures(BookingWriteBase):
    def assertLeftScheduling(self, r, start):
        b = self.booking(r, 202)
        self.assertEqual(b["status"], "scheduling", b)
        self.assertEqual((b["start"], b["end"]), (iso(start), iso(start + mins(60))))
        self.assertIsInstance(b["lastError"], str)
        self.assertTrue(b["lastError"].strip(), b)
        self.assertIsNone(b["meetLink"])
        rw = row(b["id"])
        self.assertEqual(rw["status"], "scheduling")
        self.assertEqual(rw["attempts"], 1)
        self.assertTrue(rw["lastError"])
        self.assertIsNotNone(rw["nextAttemptIn"], "nextAttemptAt set")
        self.assertGreaterEqual(rw["nextAttemptIn"], 0)
        self.assertLessEqual(rw["nextAttemptIn"], 3600)
        self.assertEqual(active_ids(), [b["id"]])
        # No secret in what the client sees.
        for name in ("INTERNAL_API_TOKEN", "AUTH_GOOGLE_SECRET", "TOKEN_ENCRYPTION_KEY"):
            self.assertNotIn(stack().env[name], b["lastError"])
        return b

    def retry_makes_one_event(self, b, start):
        """The scheduling step again (a PATCH with the same start): the
        simulator then holds exactly one event, with the derived id."""
        clear_faults()
        since = sim_log()[-1]["seq"] if sim_log() else 0
        b2 = self.scheduled(patch(b["id"], {"start": iso(start)}), start, status=200)
        self.assertEqual(b2["id"], b["id"])
        self.assertTrue(b2["meetLink"])
        evs = sim_events()
        self.assertEqual([e["id"] for e in evs], ["bk" + b["id"]])
        ins = inserts(since)
        self.assertLessEqual(len(ins), 1)
        for e in ins:
            self.assertWriteQuery(e)
            self.assertEventBody(e["json"], b["id"], start, 60)
        return b2

    def test_booking_write_google_500_on_insert(self):
        start = at(3, 16)
        self.fail_google({"status": 500})
        b = self.assertLeftScheduling(post(klass(start)), start)
        ins = inserts()
        self.assertGreaterEqual(len(ins), 1)
        for e in ins:
            self.assertEqual(e["status"], 500)
            self.assertEqual(e["json"], ins[0]["json"], "every try is the same insert")
        self.assertEventBody(ins[0]["json"], b["id"], start, 60)
        self.assertEqual(sim_events(), [])
        # The slot stays taken while Google catches up.
        self.assertError(post(klass(start, studentEmail="otro@example.com")), 409,
                         "slot_unavailable")
        b2 = self.retry_makes_one_event(b, start)
        rid = ins[0]["json"]["conferenceData"]["createRequest"]["requestId"]
        self.assertEqual(sim_event(b2["eventId"])["conferenceData"]["createRequest"]["requestId"],
                         rid)
        # Running it once more changes nothing at Google.
        since = sim_log()[-1]["seq"]
        b3 = self.scheduled(patch(b["id"], {"start": iso(start)}), start, status=200)
        self.assertEqual(b3["meetLink"], b2["meetLink"])
        self.assertEqual(inserts(since), [])
        self.assertEqual([e["id"] for e in sim_events()], [b2["eventId"]])

    def test_booking_write_google_drops_insert(self):
        start = at(4, 18)
        self.fail_google({"status": None, "drop": True})
        b = self.assertLeftScheduling(post(klass(start)), start)
        self.assertGreaterEqual(len(inserts()), 1)
        self.assertEqual(sim_events(), [])
        self.retry_makes_one_event(b, start)

    def test_booking_write_google_slow_insert_timeout(self):
        # Google makes the event but answers after the client gave up.
        start = at(5, 16)
        self.fail_google({"status": None, "delay_ms": 10400, "times": 1})
        r = post(klass(start), timeout=120)
        self.assertIn(r.status, (201, 202), r)
        b = self.booking(r, r.status)
        self.assertIn(b["status"], ("scheduled", "scheduling"))
        self.assertEqual(active_ids(), [b["id"]])
        # Wait for the slow insert to have been served.
        self.assertTrue(stack().wait_for(
            lambda: all(e["status"] is not None for e in inserts()), timeout=15))
        ins = inserts()
        self.assertGreaterEqual(len(ins), 1)
        self.assertEqual({e["json"]["id"] for e in ins}, {"bk" + b["id"]})
        self.assertEqual(len({json.dumps(e["json"]["conferenceData"], sort_keys=True)
                              for e in ins}), 1)
        self.assertLessEqual(len(sim_events()), 1)
        self.retry_makes_one_event(b, start)

    def test_booking_write_insert_409_fetches_the_event(self):
        start = at(6, 10)
        self.fail_google({"status": 500})
        b = self.assertLeftScheduling(post(klass(start)), start)
        # A previous try made the event after all: it is at Google with the
        # derived id, its Meet link only in the video entry point.
        seeded = seed({
            "id": "bk" + b["id"], "summary": SUMMARY, "status": "confirmed",
            "transparency": "opaque",
            "start": {"dateTime": iso(start), "timeZone": zone_name()},
            "end": {"dateTime": iso(start + mins(60)), "timeZone": zone_name()},
            "attendees": [{"email": "ana@example.com"}],
            "extendedProperties": {"private": {"bookingId": b["id"]}},
            "conferenceData": {
                "createRequest": {"requestId": "seeded", "conferenceSolutionKey":
                                  {"type": "hangoutsMeet"}, "status": {"statusCode": "success"}},
                "entryPoints": [
                    {"entryPointType": "phone", "uri": "tel:+54-11-5555-0100"},
                    {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": "abc-defg-hij"}})
        self.assertNotIn("hangoutLink", seeded)
        clear_faults()
        clear_sim_log()
        r = patch(b["id"], {"start": iso(start)})
        b2 = self.booking(r, 200)
        self.assertEqual(b2["status"], "scheduled", b2)
        self.assertEqual(b2["eventId"], "bk" + b["id"])
        self.assertEqual(b2["meetLink"], "https://meet.google.com/abc-defg-hij")
        self.assertEqual(b2["htmlLink"], seeded["htmlLink"])
        ins = inserts()
        self.assertEqual([e["status"] for e in ins], [409])
        self.assertWriteQuery(ins[0])
        gets = on_event("bk" + b["id"], "GET")
        self.assertGreaterEqual(len(gets), 1)
        self.assertEqual(gets[0]["status"], 200)
        self.assertGreater(gets[0]["seq"], ins[0]["seq"])
        self.assertEqual([e["id"] for e in sim_events()], ["bk" + b["id"]])
        rw = row(b["id"])
        self.assertEqual((rw["status"], rw["eventId"], rw["meetLink"]),
                         ("scheduled", "bk" + b["id"], "https://meet.google.com/abc-defg-hij"))


# ---------------------------------------------------------------------------

class BookingWriteMeet(BookingWriteBase):
    def test_booking_write_meet_pending_then_ready(self):
        sim_google({"conference_pending_gets": 2})
        start = at(3, 13)
        b = self.scheduled(post(klass(start)), start)
        ev = sim_event(b["eventId"])
        self.assertEqual(ev["conferenceData"]["createRequest"]["status"]["statusCode"], "success")
        self.assertEqual(b["meetLink"], ev["hangoutLink"])
        gets = on_event(b["eventId"], "GET")
        self.assertEqual(len(gets), 3, gets)
        self.assertEqual(row(b["id"])["meetLink"], ev["hangoutLink"])

    def test_booking_write_meet_still_pending(self):
        sim_google({"conference_pending_gets": 10})
        start = at(4, 14)
        r = post(klass(start))
        b = self.booking(r, 201)
        self.assertEqual(b["status"], "scheduled", b)
        self.assertEqual(b["eventId"], "bk" + b["id"])
        self.assertIsNone(b["meetLink"])
        self.assertIsNone(b["lastError"])
        gets = on_event(b["eventId"], "GET")
        self.assertEqual(len(gets), 3, "3 short polls: %r" % gets)
        ins = inserts()
        self.assertEqual(len(ins), 1)
        # The insert, then the three polls, one after the other: the
        # reply came after the last of them, not before.
        seqs = [ins[0]["seq"]] + [g["seq"] for g in gets]
        self.assertEqual(seqs, sorted(seqs), seqs)
        rw = row(b["id"])
        self.assertEqual((rw["status"], rw["meetLink"]), ("scheduled", None))
        self.assertIsNotNone(rw["nextAttemptIn"], "nextAttemptAt set for the Meet link")
        self.assertEqual([e["id"] for e in sim_events()], [b["eventId"]])
        sim_google({"conference_pending_gets": 0})


# ---------------------------------------------------------------------------

class BookingWriteIdempotency(BookingWriteBase):
    def test_booking_write_idempotency_key_malformed_is_400(self):
        """A key that is empty, over 255 characters, or holds a space, a
        control byte or a byte outside ASCII is refused before anything is
        read or stored; 255 printable characters are a key."""
        start = at(5, 13)
        body = json.dumps(klass(start)).encode()
        bad_nginx = {"empty": "", "256 characters": "k" * 256,
                     "a space": "order 1", "a tab": "order\t1"}
        for name, key in bad_nginx.items():
            with self.subTest(key=name):
                r = post(body, headers={"Idempotency-Key": key,
                                        "Content-Type": "application/json"})
                self.assertError(r, 400, "invalid_header")
                self.assertIn("Idempotency-Key", r.json()["error"]["message"])
        # Bytes nginx passes on only in rare setups: plain CGI.
        for name, key in (("a control byte", "order\x01one"),
                          ("DEL", "order\x7f"), ("UTF-8", "pedido-ñ")):
            with self.subTest(key=name):
                status, _, reply, _ = cgi_done(cgi_start(
                    "POST", CREATE, body, headers={"Idempotency-Key": key}))
                self.assertEqual(status, 400, reply)
                self.assertEqual(json.loads(reply)["error"]["code"], "invalid_header")
        self.assertEqual(rows(), [])
        self.assertEqual(inserts(), [])
        self.assertEqual(lists(), [])
        # The longest key there is: 255 printable characters.
        key = {"Idempotency-Key": "k" * 254 + "~", "Content-Type": "application/json"}
        r1 = post(body, headers=key)
        self.scheduled(r1, start)
        self.assertEqual((post(body, headers=key).status, len(rows())), (201, 1))

    def test_booking_write_idempotent_same_body(self):
        start = at(5, 12)
        body = json.dumps(klass(start, studentName="Ana")).encode()
        key = {"Idempotency-Key": "order-7f3a-0001", "Content-Type": "application/json"}
        r1 = post(body, headers=key)
        b1 = self.scheduled(r1, start)
        r2 = post(body, headers=key)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.body, r1.body)
        self.assertEqual(r2.header("Content-Type"), JSON_TYPE)
        # Even after the booking changed, a replay is the first reply.
        self.booking(patch(b1["id"], {"durationMinutes": 45}), 200)
        r3 = post(body, headers=key)
        self.assertEqual((r3.status, r3.body), (201, r1.body))
        self.assertEqual([r["id"] for r in rows()], [b1["id"]])
        self.assertEqual(len(inserts()), 1)
        # The same key with another body.
        for other in (klass(start, studentName="Otra"), klass(start + mins(120))):
            with self.subTest(other=other):
                r = post(json.dumps(other).encode(), headers=key)
                self.assertError(r, 422, "idempotency_key_reused")
        self.assertEqual([r["id"] for r in rows()], [b1["id"]])
        self.assertEqual(len(inserts()), 1)
        # Another key is another booking.
        r4 = post(json.dumps(klass(start + mins(120))).encode(),
                  headers={"Idempotency-Key": "order-7f3a-0002",
                           "Content-Type": "application/json"})
        self.assertNotEqual(self.scheduled(r4, start + mins(120))["id"], b1["id"])

    def test_booking_write_idempotent_replays_202(self):
        start = at(6, 13)
        body = json.dumps(klass(start)).encode()
        key = {"Idempotency-Key": "order-202", "Content-Type": "application/json"}
        self.fail_google({"status": 500})
        r1 = post(body, headers=key)
        self.assertEqual(r1.status, 202, r1)
        n = len(inserts())
        clear_faults()
        r2 = post(body, headers=key)
        self.assertEqual((r2.status, r2.body), (202, r1.body))
        self.assertEqual(len(inserts()), n)
        self.assertEqual(len(rows()), 1)

    def test_booking_write_idempotent_waits_for_the_first(self):
        start = at(7, 17)
        body = json.dumps(klass(start)).encode()
        key = {"Idempotency-Key": "order-slow", "Content-Type": "application/json"}
        self.fail_google({"status": None, "delay_ms": 1500, "times": 1})
        out = {}

        def first():
            out["first"] = post(body, headers=key)

        t = threading.Thread(target=first)
        t.start()
        # The second arrives while the first waits for Google.
        self.assertTrue(stack().wait_for(lambda: len(inserts()) >= 1, timeout=10))
        second = post(body, headers=key)
        t.join(60)
        self.scheduled(out["first"], start)
        # The second answers the first's stored reply, byte for byte, with
        # no Google call of its own: it waited for the first to finish (a
        # reply made any other way would differ, or be a 409).
        self.assertEqual((second.status, second.body), (201, out["first"].body))
        self.assertEqual(len(rows()), 1)
        self.assertEqual(len(inserts()), 1)

    def test_booking_write_idempotent_concurrent_one_booking(self):
        start = at(8, 16)
        body = json.dumps(klass(start, notes="same key")).encode()
        key = "order-concurrent-5"
        gate = threading.Barrier(3)
        replies = [None, None]

        def one(i):
            gate.wait()
            replies[i] = post(body, headers={"Idempotency-Key": key,
                                             "Content-Type": "application/json"})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        gate.wait()
        procs = [cgi_start("POST", CREATE, body, {"Idempotency-Key": key}) for _ in range(3)]
        results = [cgi_done(p) for p in procs]
        for t in threads:
            t.join(60)
        got = [(r.status, r.body) for r in replies] + [(r[0], r[2]) for r in results]
        self.assertEqual(len(rows()), 1)
        self.assertEqual(len(inserts()), 1)
        self.assertEqual(len(sim_events()), 1)
        self.assertEqual({s for s, _ in got}, {201}, got)
        self.assertEqual(len({b for _, b in got}), 1, got)

    def test_booking_write_idempotent_first_slow_to_check(self):
        # The first request is slowed before it records anything (Google's
        # events.list is slow); the second, with the same key and body,
        # records the booking meanwhile. Both must answer that booking.
        start = at(9, 14)
        body = json.dumps(klass(start)).encode()
        key = {"Idempotency-Key": "order-slow-list", "Content-Type": "application/json"}
        sim_fault({"method": "GET", "path": EVENTS_RE, "status": None, "delay_ms": 1500,
                   "times": 1})
        out = {}

        def first():
            out["first"] = post(body, headers=key)

        t = threading.Thread(target=first)
        t.start()
        self.assertTrue(stack().wait_for(lambda: len(lists()) >= 1, timeout=10))
        second = post(body, headers=key)
        t.join(60)
        b = self.scheduled(second, start)
        self.assertEqual([r["id"] for r in rows()], [b["id"]])
        self.assertEqual(len(inserts()), 1)
        self.assertEqual((out["first"].status, out["first"].body), (201, second.body))


if __name__ == "__main__":
    unittest.main()
