"""The write side's rules end to end (DESIGN.md "calendar_post"): a class
(POST /api/calendar), a hold (POST /api/calendar/holds), a reschedule
(PATCH /api/calendar/{id}) and the class a MercadoPago payment's metadata
carries must start at a time /api/calendar/slots offers for that duration:
inside BOOKING_HOURS, on the hour or the half hour, the class ending by
closing time, at least BOOKING_MIN_NOTICE_MIN ahead (a paid class needs no
notice) and at most 366 days ahead. Anything else is 422
`outside_opening_hours` and stores nothing (a payment's class is recorded
as the payment's error, the hook still answering 200). The slots and the
writes agree start by start. /api/calendar/slots refuses a date more than
366 days ahead (422 naming date).

Bodies are strict UTF-8: overlong forms, surrogates (raw CESU-8 bytes or a
lone \\uD800 escape) and code points past U+10FFFF are 400 `invalid_json`
on every write path, DELETE included, and change nothing; a valid
surrogate pair comes back intact. A 422 that quotes the body (an unknown
field) is itself valid UTF-8, cut between characters.

The stack runs with the default hours, `mon-fri 09:00-21:00; sat
09:00-13:00`, in America/Argentina/Buenos_Aires (no daylight saving).
"""

import datetime
import json
import unittest

import harness
from test_booking_write import CREATE, HOLDS, BookingWriteBase, at, delete, iso, klass, \
    live_events, mins, notice_min, now, patch, post, stable_rows, zone
from test_payments import ACTIVE, PaymentBase, api_booking, booking_rows, bookings_for, \
    class_meta, inserts, new_payment, payment_row

JSON = {"Content-Type": "application/json"}
OUTSIDE = "outside_opening_hours"
SLOTS = "/api/calendar/slots"


def stack():
    return harness.stack


def on_weekday(weekday, hour, minute=0, days=3):
    """The first local date at least `days` ahead that is `weekday`
    (0 = Monday), at hour:minute."""
    d = now().astimezone(zone()).date() + datetime.timedelta(days=days)
    while d.weekday() != weekday:
        d += datetime.timedelta(days=1)
    return datetime.datetime(d.year, d.month, d.day, hour, minute, tzinfo=zone())


def count():
    return int(stack().sql("SELECT COUNT(*) FROM bookings")[0][0])


def refusals():
    """Starts (and durations) the school never offers, each with why."""
    soon = now().astimezone(zone()) + mins(max(notice_min() - 60, 1))
    soon = soon.replace(second=0, microsecond=0)
    soon += mins((30 - soon.minute % 30) % 30)  # on the grid, still too soon
    return [
        ("03:00 on a weekday", iso(at(3, 3)), 60),
        ("a weekday, off the half-hour grid", iso(at(3, 15, 7)), 60),
        ("a second past the half hour", iso(at(3, 15) + datetime.timedelta(seconds=1)), 60),
        ("Sunday 15:07", iso(on_weekday(6, 15, 7)), 60),
        ("Sunday 15:00, closed", iso(on_weekday(6, 15)), 60),
        ("before opening", iso(at(3, 8, 30)), 60),
        ("ends after closing", iso(at(3, 20, 30)), 60),
        ("four hours from 17:30", iso(at(3, 17, 30)), 240),
        ("Saturday, ends after 13:00", iso(on_weekday(5, 12, 30)), 60),
        ("inside the notice", iso(soon), 60),
        ("367 days ahead", iso(at(367, 15)), 60),
        ("far in the future", iso(at(800, 10)), 60),
        ("the end of time, 240 minutes", "9999-12-31T20:00:00Z", 240),
        ("the end of time, local", "9999-12-31T19:00:00", 240),
    ]


class WriteRulesCreate(BookingWriteBase):
    def assertOutside(self, r):
        err = self.assertError(r, 422, OUTSIDE)
        self.assertIn("start", err["message"])
        return err

    def test_write_rules_create_and_hold_refuse_what_slots_never_offer(self):
        for why, start, minutes in refusals():
            for path in (CREATE, HOLDS):
                with self.subTest(why=why, path=path):
                    r = post(klass(start, durationMinutes=minutes), path=path)
                    self.assertOutside(r)
        self.assertEqual(count(), 0)
        self.assertEqual(live_events(), [])

    def test_write_rules_the_edges_of_the_hours_are_accepted(self):
        cases = [(at(3, 9), 60), (at(10, 20), 60), (at(17, 17), 240),
                 (on_weekday(5, 12), 60), (on_weekday(5, 9, 30, days=10), 30)]
        for start, minutes in cases:
            with self.subTest(start=iso(start), minutes=minutes):
                r = post(klass(start, durationMinutes=minutes), path=HOLDS)
                b = self.booking(r, 201)
                self.assertEqual(b["start"], iso(start))
        # As far ahead as the rule allows (365 days: a weekday moved to by
        # at() stays within 366), and as a class with its Google event.
        far = at(363, 15)
        self.assertLessEqual(far - now(), datetime.timedelta(days=366))
        self.create(far)

    def test_write_rules_the_past_is_refused_naming_start(self):
        past = now() - datetime.timedelta(days=1)
        past = past.astimezone(zone()).replace(hour=10, minute=0, second=0, microsecond=0)
        for path in (CREATE, HOLDS):
            with self.subTest(path=path):
                err = self.assertError(post(klass(past), path=path), 422)
                self.assertIn(err["code"], ("invalid_field", OUTSIDE, "start_in_past"))
                self.assertIn("start", err["message"])
        self.assertEqual(count(), 0)

    def test_write_rules_slots_and_writes_agree(self):
        """Every half hour of a weekday and of a Saturday, and a few starts
        off the grid: a hold is taken exactly when /api/calendar/slots
        offers the start for that duration."""
        for day, minutes in ((at(5, 0), 90), (on_weekday(5, 0), 60)):
            d = day.date()
            r = stack().get("%s?date=%s&duration=%d" % (SLOTS, d.isoformat(), minutes))
            self.assertEqual(r.status, 200, r)
            offered = {s["start"] for s in r.json()["slots"]}
            self.assertTrue(offered, r.json())
            tried = [day + mins(m) for m in range(0, 24 * 60, 30)]
            tried += [day + mins(m) for m in (9 * 60 + 15, 10 * 60 + 1, 12 * 60 + 45)]
            for start in tried:
                with self.subTest(start=iso(start), minutes=minutes):
                    r = post(klass(start, durationMinutes=minutes), path=HOLDS)
                    if iso(start) in offered:
                        b = self.booking(r, 201)
                        self.assertEqual(delete(b["id"]).status, 200)
                    else:
                        self.assertOutside(r)
        # Each hold taken was cancelled again: nothing is left active.
        self.assertEqual([b for b in booking_rows() if b["status"] in ACTIVE], [])

    def test_write_rules_idempotency_key_does_not_bypass_the_rule(self):
        start = at(3, 3)
        for _ in range(2):
            r = post(klass(start), headers={"Idempotency-Key": "rules-1"})
            self.assertOutside(r)
        self.assertEqual(count(), 0)
        # The key was never used: a good body with it books.
        good = at(3, 10)
        r = post(klass(good), headers={"Idempotency-Key": "rules-1"})
        self.scheduled(r, good)


class WriteRulesReschedule(BookingWriteBase):
    def assertOutside(self, r):
        err = self.assertError(r, 422, OUTSIDE)
        self.assertIn("start", err["message"])

    def test_write_rules_patch_refuses_what_slots_never_offer(self):
        hold = self.booking(post(klass(at(3, 10)), path=HOLDS), 201)
        klass_start = at(4, 20)
        scheduled = self.create(klass_start)
        before = stable_rows()
        for why, start, minutes in refusals():
            for b in (hold, scheduled):
                with self.subTest(why=why, booking=b["status"]):
                    self.assertOutside(patch(b["id"], {"start": start,
                                                       "durationMinutes": minutes}))
        # Only the duration: the class would end after 21:00.
        self.assertOutside(patch(scheduled["id"], {"durationMinutes": 90}))
        self.assertEqual(stable_rows(), before)
        # Moved to an offered slot, it goes through.
        r = patch(scheduled["id"], {"start": iso(at(4, 19, 30)), "durationMinutes": 90})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["booking"]["start"], iso(at(4, 19, 30)))


class WriteRulesPayment(PaymentBase):
    def test_write_rules_payment_metadata_outside_the_hours_books_nothing(self):
        cases = [
            ("03:00", class_meta(at(3, 3))),
            ("Sunday 15:07", class_meta(on_weekday(6, 15, 7))),
            ("off the grid", class_meta(at(3, 15, 7))),
            ("ends after closing", class_meta(at(3, 20, 30), duration_minutes=90)),
            ("367 days ahead", class_meta(at(367, 10))),
            ("the end of time", dict(class_meta(at(3, 10), duration_minutes=240),
                                     start="9999-12-31T20:00:00Z")),
        ]
        for name, meta in cases:
            with self.subTest(case=name):
                pid = new_payment("approved", meta)
                self.delivered(pid)
                self.assertEqual([b for b in bookings_for(pid) if b["status"] in ACTIVE], [])
                p = payment_row(pid)
                self.assertIsNotNone(p, "the payment is recorded")
                self.assertEqual(p["status"], "approved")
                self.assertIn("start", p["lastError"] or "", p)
                self.assertLogged(str(pid))
        self.assertEqual(inserts(), [])
        self.assertEqual([b for b in booking_rows() if b["status"] in ACTIVE], [])

    def test_write_rules_paid_class_needs_no_notice_but_the_hours(self):
        """A paid class may start inside the notice, if the slot is open."""
        d = now().astimezone(zone())
        start = d.replace(second=0, microsecond=0) + mins(45)
        start += mins((30 - start.minute % 30) % 30)
        pid = new_payment("approved", class_meta(start, duration_minutes=15))
        self.delivered(pid)
        found = bookings_for(pid)
        wd, wall = start.weekday(), start.hour * 60 + start.minute
        open_ = (wd < 5 and 540 <= wall and wall + 15 <= 1260) or \
            (wd == 5 and 540 <= wall and wall + 15 <= 780)
        if open_:
            self.assertEqual(len(found), 1, found)
            self.assertEqual(found[0]["status"], "scheduled", found)
        else:
            self.assertEqual([b for b in found if b["status"] in ACTIVE], [])
            self.assertIn("start", payment_row(pid)["lastError"] or "")

    def test_write_rules_paying_a_hold_is_not_checked_again(self):
        """The hold was checked when it was placed: its payment is not
        refused if the hold's time is no longer one the hours allow."""
        start = at(3, 10)
        h = self.hold(start)
        odd = at(3, 3)
        stack().sql("UPDATE bookings SET startAt = '%s', endAt = '%s' WHERE id = '%s'" % (
            odd.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            (odd + mins(60)).astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            h["id"]))
        pid = new_payment("approved", {"booking_id": h["id"]}, external_reference=h["id"])
        self.delivered(pid)
        self.assertScheduled(h["id"], odd, pid=pid)


class WriteRulesSlotsDate(BookingWriteBase):
    def test_write_rules_slots_date_at_most_366_days_ahead(self):
        today = now().astimezone(zone()).date()
        for days in (367, 400, 3000):
            d = today + datetime.timedelta(days=days)
            with self.subTest(date=d.isoformat()):
                r = stack().get("%s?date=%s&duration=60" % (SLOTS, d.isoformat()))
                self.assertEqual(r.status, 422, r)
                err = r.json()["error"]
                self.assertEqual(err["code"], OUTSIDE)
                self.assertIn("date", err["message"])
        r = stack().get("%s?date=9999-12-31&duration=240" % SLOTS)
        self.assertEqual(r.status, 422, r)
        self.assertIn("date", r.json()["error"]["message"])
        # 366 days ahead is answered (its early slots, within the bound).
        d = today + datetime.timedelta(days=366)
        r = stack().get("%s?date=%s" % (SLOTS, d.isoformat()))
        self.assertEqual(r.status, 200, r)
        for s in r.json()["slots"]:
            self.assertLessEqual(datetime.datetime.fromisoformat(s["start"]) - now(),
                                 datetime.timedelta(days=366))


# ---- UTF-8 ----

BAD_BYTES = [
    ("overlong /", b"\xc0\xaf"),
    ("overlong DEL", b"\xc1\xbf"),
    ("past U+10FFFF", b"\xf4\x90\x80\x80"),
    ("a raw surrogate (CESU-8)", b"\xed\xa0\x80"),
    ("a lone surrogate escape", b"\\uD800"),
    ("a lone low surrogate escape", b"\\uDC00"),
    ("a reversed pair", b"\\uDE00\\uD83D"),
]


def body_with(template, bad):
    """template (bytes, JSON with one %s inside a string) with bad in it."""
    return template.replace(b"%s", bad)


class WriteRulesUtf8(BookingWriteBase):
    def strict(self, r):
        """The reply's body is strict UTF-8 JSON."""
        text = r.body.decode("utf-8", errors="strict")
        return json.loads(text)

    def test_write_rules_bad_utf8_is_invalid_json_everywhere(self):
        hold = self.booking(post(klass(at(3, 10)), path=HOLDS), 201)
        cls = self.create(at(3, 12))
        before = stable_rows()
        n = count()
        start = iso(at(4, 15)).encode()
        post_body = (b'{"start":"' + start + b'","studentEmail":"ana@example.com",'
                     b'"studentName":"Ana %s"}')
        for name, bad in BAD_BYTES:
            cases = [
                ("POST", CREATE, body_with(post_body, bad)),
                ("POST", HOLDS, body_with(post_body, bad)),
                ("POST", CREATE, body_with(b'{"start":"' + start + b'","studentEmail":'
                                           b'"ana@example.com","n%s":1}', bad)),
                ("PATCH", "/api/calendar/" + hold["id"],
                 body_with(b'{"start":"' + start + b'","durationMinutes":60%s}',
                           b',"x":"' + bad + b'"')),
                ("PATCH", "/api/calendar/" + cls["id"],
                 body_with(b'{"start":"%s"}', start + bad)),
                ("DELETE", "/api/calendar/" + hold["id"], body_with(b'{"reason":"%s"}', bad)),
                ("DELETE", "/api/calendar/" + cls["id"], body_with(b'"%s"', bad)),
            ]
            for method, path, body in cases:
                with self.subTest(bytes=name, method=method, path=path):
                    r = stack().call(method, path, body=body,
                                     headers=dict(stack().internal(), **JSON))
                    err = self.assertError(r, 400, "invalid_json")
                    self.assertIn("JSON", err["message"])
                    self.strict(r)
        self.assertEqual(count(), n)
        self.assertEqual(stable_rows(), before)
        # A DELETE without a JSON body still cancels (a body of another
        # type is ignored, as before).
        r = stack().call("DELETE", "/api/calendar/" + hold["id"], body=b"\xc0\xaf",
                         headers=dict(stack().internal(), **{"Content-Type": "text/plain"}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["booking"]["status"], "cancelled")
        r = stack().call("DELETE", "/api/calendar/" + cls["id"], body=b'{"reason":"ok"}',
                         headers=dict(stack().internal(), **JSON))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["booking"]["status"], "cancelled")

    def test_write_rules_a_surrogate_pair_comes_back_intact(self):
        start = iso(at(3, 11)).encode()
        for name, text in (("escaped pair", b"\\uD83D\\uDE00"),
                           ("raw UTF-8", "\U0001F600".encode())):
            with self.subTest(form=name):
                stack().sql("DELETE FROM bookings")
                body = (b'{"start":"' + start + b'","studentEmail":"ana@example.com",'
                        b'"studentName":"Ana ' + text + b'","notes":"' + text + b'"}')
                r = stack().call("POST", HOLDS, body=body,
                                 headers=dict(stack().internal(), **JSON))
                self.assertEqual(r.status, 201, r)
                b = self.strict(r)["booking"]
                self.assertEqual(b["studentName"], "Ana \U0001F600")
                self.assertIn("\U0001F600".encode(), r.body)
                again = stack().get("/api/bookings/" + b["id"], headers=stack().internal())
                self.assertEqual(self.strict(again)["booking"]["studentName"], "Ana \U0001F600")
                self.assertEqual(stack().sql(
                    "SELECT HEX(studentName) FROM bookings WHERE id = '%s'" % b["id"]),
                    [["Ana \U0001F600".encode().hex().upper()]])

    def test_write_rules_quoted_input_is_cut_between_characters(self):
        hold = self.booking(post(klass(at(3, 10)), path=HOLDS), 201)
        for unit in ("ñ", "€", "\U0001F600", "aé"):
            for n in (20, 33, 50, 100):
                key = unit * n
                with self.subTest(unit=unit, n=n):
                    for method, path, body in (
                            ("POST", CREATE, dict(klass(at(3, 15)), **{key: 1})),
                            ("POST", HOLDS, dict(klass(at(3, 15)), **{key: 1})),
                            ("PATCH", "/api/calendar/" + hold["id"], {key: 1})):
                        r = stack().call(method, path,
                                         body=json.dumps(body, ensure_ascii=False).encode(),
                                         headers=dict(stack().internal(), **JSON))
                        self.assertEqual(r.status, 422, r)
                        msg = self.strict(r)["error"]["message"]
                        self.assertIn("is not a field of this request", msg)
                        quoted = msg.split(" is not a field")[0].rstrip(".")
                        self.assertTrue(key.startswith(quoted), (quoted, key))
                        self.assertGreater(len(quoted), 0)
        self.assertEqual(count(), 1)


if __name__ == "__main__":
    unittest.main()
