"""GET /api/calendar/slots (public) end to end: the opening hours cut into
:00/:30 slots that end within them, less busy Google events (the same
cache as /api/calendar), less active bookings, less anything sooner than
BOOKING_MIN_NOTICE_MIN; its parameters and errors; its cache headers; and
503 (never a slot that might be taken) when busy times cannot be known.

Test dates are computed (a weekday at least three days ahead, a Saturday,
a Sunday), never written down.
"""

import datetime
import math
import os
import time
import unittest

import harness
from test_availability import (DAY, GOOGLE_503, MAX_STALE, STALE_CC_RE, TTL, age_cache, all_day,
                               assert_rounds_spaced,
                               assert_cached_reply, assert_error, busy, cgi_get,
                               clear_sim_log, db_utc, first_pages, iso, list_calls, local,
                               parse_iso, qs, qv, reset, seed, timed, today, utcnow,
                               wait_ttl, weekday_on_or_after, zone_name)

WEEKDAYS = {0, 1, 2, 3, 4}
MINUTE = datetime.timedelta(minutes=1)
DEFAULT_HOURS = {0: [(540, 1260)], 1: [(540, 1260)], 2: [(540, 1260)], 3: [(540, 1260)],
                 4: [(540, 1260)], 5: [(540, 780)], 6: []}  # by date.weekday()


def stack():
    return harness.stack


def slots_uri(day=None, duration=None):
    params = {}
    if day is not None:
        params["date"] = day if isinstance(day, str) else day.isoformat()
    if duration is not None:
        params["duration"] = str(duration)
    return "/api/calendar/slots" + ("?" + qs(**params) if params else "")


def get_slots(day=None, duration=None, headers=None, fresh=False):
    """With fresh, never a copy nginx's cache made before the call."""
    get = stack().get_fresh if fresh else stack().get
    return get(slots_uri(day, duration), headers=headers)


def wall(day, minutes):
    """The instant of a wall time (minutes since midnight; 1440 = the next
    day's midnight) on that local date."""
    if minutes == 1440:
        return local(day + DAY)
    return local(day, minutes // 60, minutes % 60)


def expected_slots(day, duration=60, busy_spans=(), not_before=None, hours=None):
    """The oracle: the spec's rule written out plainly."""
    out = []
    for r_start, r_end in (hours or DEFAULT_HOURS)[day.weekday()]:
        m = math.ceil(r_start / 30) * 30
        while m < r_end:
            s = wall(day, m)
            e = s + duration * MINUTE
            free = e <= wall(day, r_end) and not any(bs < e and s < be for bs, be in busy_spans)
            if free and (not_before is None or s >= not_before):
                out.append({"start": iso(s), "end": iso(e)})
            m += 30
    return out


def starts(slots):
    return [parse_iso(s["start"]).strftime("%H:%M") for s in slots]


def insert_booking(status, start, end, hold=None):
    """A bookings row (times in UTC); hold: seconds from now of holdExpiresAt."""
    bid = os.urandom(16).hex()
    hold_sql = "NULL" if hold is None else (
        "UTC_TIMESTAMP() %s INTERVAL %d SECOND" % ("+" if hold >= 0 else "-", abs(hold)))
    stack().sql(
        "INSERT INTO bookings (id, status, startAt, endAt, timeZone, studentEmail, holdExpiresAt) "
        "VALUES ('%s', '%s', '%s', '%s', '%s', 'student@example.com', %s)"
        % (bid, status, db_utc(start), db_utc(end), zone_name(), hold_sql))
    return bid


class Slots(unittest.TestCase):
    def tearDown(self):
        stack().sim("POST", "/_sim/reset")
        stack().sql("DELETE FROM bookings")

    def assertSlots(self, r, day, duration, expected, xcache=None):
        body = assert_cached_reply(self, r, xcache)
        self.assertEqual(body, {"date": day.isoformat(), "timeZone": zone_name(),
                                "duration": duration, "slots": expected})
        return body

    def test_slots_hours_minus_busy_events_and_active_bookings(self):
        reset()
        d = weekday_on_or_after(today() + 3 * DAY, WEEKDAYS)
        d2 = weekday_on_or_after(d + DAY, WEEKDAYS)
        sat = weekday_on_or_after(today() + 3 * DAY, {5})
        sun = sat + DAY
        # Outside the cached horizon (7 days back): a date a month ago (a
        # date over 366 days ahead is refused; below).
        far = weekday_on_or_after(today() - 30 * DAY, WEEKDAYS)
        g_busy = [
            (local(d, 12), local(d, 13)),                 # confirmed
            (local(d - DAY, 23), local(d, 9, 30)),        # from the night before
            (local(d, 16), local(d, 16, 15)),             # tentative
            (local(sat, 11), local(sat, 11, 30)),
        ]
        seed([
            timed(*g_busy[0]),
            timed(*g_busy[1]),
            timed(*g_busy[2], status="tentative"),
            timed(local(d, 17), local(d, 18), transparency="transparent"),
            timed(local(d, 19, 30), local(d, 20), status="cancelled"),
            all_day(d2, d2 + DAY),
            timed(*g_busy[3]),
            timed(local(far, 10), local(far, 11)),
        ])
        active = [
            ("scheduled", local(d, 14), local(d, 15), None),
            ("scheduling", local(d, 20, 30), local(d, 21), None),
            ("pending", local(d, 10, 30), local(d, 11), None),
            ("held", local(d, 10), local(d, 10, 30), 600),
        ]
        inactive = [
            ("held", local(d, 19), local(d, 20), -60),     # the hold expired
            ("cancelled", local(d, 18), local(d, 19), None),
            ("failed", local(d, 17, 30), local(d, 18), None),
        ]
        for status, s, e, hold in active + inactive:
            insert_booking(status, s, e, hold)
        d_busy = g_busy[:3] + [(s, e) for _, s, e, _ in active]

        clear_sim_log()
        r = get_slots(d, 60)
        expected = expected_slots(d, 60, d_busy)
        self.assertSlots(r, d, 60, expected, "MISS")
        # Written out: touching is not overlapping; the transparent and the
        # cancelled event, the expired hold, the cancelled and the failed
        # booking take nothing.
        self.assertEqual(starts(r.json()["slots"]),
                         ["11:00", "13:00", "15:00", "16:30", "17:00", "17:30", "18:00",
                          "18:30", "19:00", "19:30"])
        etag = r.header("ETag")

        # duration defaults to 60; other durations, 15 and 240 included.
        self.assertSlots(get_slots(d), d, 60, expected)
        for duration in (15, 90, 240):
            with self.subTest(duration=duration):
                self.assertSlots(get_slots(d, duration), d, duration,
                                 expected_slots(d, duration, d_busy))
        # Saturday's shorter hours, Sunday closed, an all-day event.
        self.assertSlots(get_slots(sat, 60), sat, 60, expected_slots(sat, 60, [g_busy[3]]))
        self.assertEqual(starts(expected_slots(sat, 60, [g_busy[3]])),
                         ["09:00", "09:30", "10:00", "11:30", "12:00"])
        self.assertSlots(get_slots(sun, 60), sun, 60, [])
        self.assertSlots(get_slots(d2, 60), d2, 60, [])
        # A past date: everything is sooner than the notice.
        yesterday = today() - DAY
        self.assertSlots(get_slots(yesterday, 60), yesterday, 60, [])

        # ETag, 304, another reply another ETag.
        r = get_slots(d, 60, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), etag)
        self.assertNotEqual(get_slots(d, 90).header("ETag"), etag)
        self.assertEqual(get_slots(d, 60, headers={"If-None-Match": '"x"'}).status, 200)

        # The same cache as /api/calendar: its busy times are those above,
        # and no more events.list rounds than the TTL allows.
        r = stack().get("/api/calendar?" + qs(**{"from": d.isoformat(), "to": (d + DAY).isoformat()}))
        body = assert_cached_reply(self, r)
        self.assertEqual(body["events"], [busy(*g_busy[1]), busy(*g_busy[0]),
                                          busy(*g_busy[2], status="tentative")])
        rounds = first_pages(list_calls())
        self.assertGreaterEqual(len(rounds), 1)
        assert_rounds_spaced(self, rounds)

        # A day gone by, outside the cached horizon too: no slot, and
        # Google is not asked about it.
        clear_sim_log()
        self.assertSlots(get_slots(far, 60), far, 60, [])
        self.assertEqual(list_calls(), [])

        # A date over 366 days ahead offers nothing: 422, Google not asked.
        clear_sim_log()
        later = weekday_on_or_after(today() + 420 * DAY, WEEKDAYS)
        assert_error(self, get_slots(later, 60), 422, "outside_opening_hours", "date")
        self.assertEqual(list_calls(), [])

    def test_slots_min_notice(self):
        """Plain CGI runs (no memory of their own, settings of their own)."""
        reset(wait=False)
        d = weekday_on_or_after(today() + 3 * DAY, WEEKDAYS)
        # A notice that ends at d 14:10 (give or take the run's seconds).
        target = local(d, 14, 10)
        notice = math.ceil((target - utcnow()).total_seconds() / 60)
        r, log = cgi_get(slots_uri(d, 60), env_extra={"BOOKING_MIN_NOTICE_MIN": str(notice)})
        self.assertSlots(r, d, 60, expected_slots(d, 60, not_before=target))
        self.assertEqual(starts(r.json()["slots"])[0], "14:30", log[-1000:])

        # The default, 120 minutes, with hours open all day every day.
        hours = {k: [(0, 1440)] for k in range(7)}
        env = {"BOOKING_HOURS": "mon-sun 00:00-24:00"}
        for day in (today(), today() + DAY):
            with self.subTest(day=day):
                before = utcnow()
                r, log = cgi_get(slots_uri(day, 60), env_extra=env)
                after = utcnow()
                body = assert_cached_reply(self, r)
                self.assertEqual((body["date"], body["duration"]), (day.isoformat(), 60))
                # Starts within the run's seconds of the cutoff may go either way.
                lo, hi = before + 120 * MINUTE, after + 120 * MINUTE

                def sure(slots):
                    return [s for s in slots
                            if not lo - MINUTE <= parse_iso(s["start"]) <= hi + MINUTE]

                self.assertEqual(sure(body["slots"]),
                                 sure(expected_slots(day, 60, not_before=lo, hours=hours)),
                                 log[-1000:])
                for s in body["slots"]:
                    self.assertGreaterEqual(parse_iso(s["start"]), lo)
                if day == today():
                    self.assertNotIn(iso(local(day)), [s["start"] for s in body["slots"]])
                else:
                    self.assertIn(iso(local(day, 23)), [s["start"] for s in body["slots"]],
                                  "the last slot ends at 24:00")

    def test_slots_query_errors(self):
        d = weekday_on_or_after(today() + 3 * DAY, WEEKDAYS)
        ds = d.isoformat()

        def get(query):
            return stack().get("/api/calendar/slots" + ("?" + query if query is not None else ""))

        assert_error(self, get(None), 400, "invalid_parameter", "date")
        assert_error(self, get("duration=60"), 400, "invalid_parameter", "date")
        for bad in ("2026-02-30", "%d-02-30" % (d.year + 1), "%d-13-01" % d.year,
                    "%d-1-5" % (d.year + 1),
                    "tomorrow", "", d.strftime("%d/%m/%Y"), ds + "T00:00:00-03:00", ds + "x"):
            with self.subTest(date=bad):
                assert_error(self, get(qs(date=bad)), 400, "invalid_parameter", "date")
        for bad in ("14", "241", "0", "-60", "60.5", "abc", "", "1e2", "60 ", "99999999999999999999"):
            with self.subTest(duration=bad):
                assert_error(self, get(qs(date=ds, duration=bad)), 400, "invalid_parameter",
                             "duration")
        for query, key in ((qs(date=ds, foo="1"), "foo"),
                           (qs(date=ds) + "&from=" + ds, "from"),
                           (qs(date=ds) + "&date=" + ds, "date"),
                           (qs(date=ds, duration="60") + "&duration=60", "duration")):
            with self.subTest(query=query):
                assert_error(self, get(query), 400, "invalid_query", key)

    def test_slots_503_when_busy_times_cannot_be_known(self):
        reset(users=True)
        d = weekday_on_or_after(today() + 3 * DAY, WEEKDAYS)
        g = (local(d, 12), local(d, 13))
        seed(timed(*g))
        expected = expected_slots(d, 60, [g])

        # The key refused and no admin connected.
        stack().sim("POST", "/_sim/google", {"api_keys": []})
        assert_error(self, get_slots(d, 60), 503, "calendar_not_connected")
        stack().sim("POST", "/_sim/google", {"api_keys": ["sim-api-key"]})

        # Google failing, nothing cached yet.
        stack().sim("POST", "/_sim/faults", GOOGLE_503)
        age_cache(attempt_ago=TTL + 1)
        for _ in range(2):
            assert_error(self, get_slots(d, 60), 503, "calendar_unavailable")

        # Google back: fresh slots.
        stack().sim("DELETE", "/_sim/faults")
        age_cache(attempt_ago=TTL + 1)
        self.assertSlots(get_slots(d, 60), d, 60, expected, "MISS")

        # Google failing again: stale slots within the limit, said so ...
        stack().sim("POST", "/_sim/faults", GOOGLE_503)
        wait_ttl()
        for _ in range(2):
            r = get_slots(d, 60)
            self.assertSlots(r, d, 60, expected, "STALE")
            self.assertRegex(r.header("Cache-Control"), STALE_CC_RE)
        # ... and 503 past it, from every process.
        age_cache(success_ago=MAX_STALE + 1, attempt_ago=TTL + 1)
        for i in range(4):
            assert_error(self, get_slots(d, 60, fresh=i == 0), 503, "calendar_unavailable")


if __name__ == "__main__":
    unittest.main()
