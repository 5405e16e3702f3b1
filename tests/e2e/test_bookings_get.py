"""GET /api/bookings/{id} (internal) end to end, through nginx: the
contract's BOOKING shape read from rows inserted with SQL (times stored in
UTC, answered in the zone), null for absent values, 404 booking_not_found
for an unknown or malformed id, 401 without the internal token."""

import datetime
import os
import unittest

import harness
import zoneinfo

DEFAULT_ZONE = "America/Argentina/Buenos_Aires"
KEYS = {"id", "status", "start", "end", "timeZone", "classType", "participants",
        "studentEmail", "studentName", "eventId", "meetLink", "htmlLink", "paymentId",
        "holdExpiresAt", "lastError"}
STATUSES = ("held", "pending", "scheduling", "scheduled", "cancelled", "failed")


def stack():
    return harness.stack


def zone_name():
    return stack().env.get("TIME_ZONE") or DEFAULT_ZONE


def local(day, hour, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute,
                             tzinfo=zoneinfo.ZoneInfo(zone_name()))


def iso(dt):
    return dt.astimezone(zoneinfo.ZoneInfo(zone_name())).isoformat(timespec="seconds")


def db_utc(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def lit(value):
    """A SQL literal: NULL, a number, or UTF-8 text as a hex literal (no
    quoting or client charset to get wrong)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "CONVERT(X'%s' USING utf8mb4)" % value.encode("utf-8").hex()


def insert(**cols):
    bid = cols.pop("id", None) or os.urandom(16).hex()
    cols.setdefault("status", "scheduled")
    cols.setdefault("timeZone", zone_name())
    cols.setdefault("studentEmail", "student@example.com")
    names = ["id"] + list(cols)
    values = [lit(bid)] + [lit(v) for v in cols.values()]
    stack().sql("INSERT INTO bookings (%s) VALUES (%s)" % (", ".join(names), ", ".join(values)))
    return bid


def get(bid, headers=None):
    return stack().get("/api/bookings/" + bid,
                       headers=stack().internal() if headers is None else headers)


class BookingsGet(unittest.TestCase):
    def setUp(self):
        stack().sql("DELETE FROM bookings")
        self.day = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=5)

    def tearDown(self):
        stack().sql("DELETE FROM bookings")

    def assertError(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
        body = r.json()
        self.assertEqual(set(body), {"error"}, body)
        self.assertEqual(set(body["error"]), {"code", "message"}, body)
        self.assertTrue(body["error"]["message"])
        if code is not None:
            self.assertEqual(body["error"]["code"], code, body)
        return body["error"]

    def booking(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
        body = r.json()
        self.assertEqual(set(body), {"booking"}, body)
        self.assertEqual(set(body["booking"]), KEYS, body)
        return body["booking"]

    def test_bookings_get_every_field(self):
        # 22:30 local is 01:30 UTC the next day: the date moves back too.
        start, end = local(self.day, 22, 30), local(self.day, 23, 30)
        hold = local(self.day, 12, 15)
        name = 'José "Pepe" O\'Brien \\ </script> ñ'
        bid = insert(status="scheduled", startAt=db_utc(start), endAt=db_utc(end),
                     classType="conversation", participants=3, studentEmail="ana@example.com",
                     studentName=name, notes="not part of the reply",
                     eventId="0123456789abcdefghijklmnopqrstuv",
                     meetLink="https://meet.google.com/abc-defg-hij",
                     htmlLink="https://www.google.com/calendar/event?eid=abc123",
                     paymentId="1234567890", idempotencyKey="key-1",
                     holdExpiresAt=db_utc(hold), lastError="Google answered 503 once")
        self.assertEqual(self.booking(get(bid)), {
            "id": bid, "status": "scheduled",
            "start": iso(start), "end": iso(end), "timeZone": zone_name(),
            "classType": "conversation", "participants": 3,
            "studentEmail": "ana@example.com", "studentName": name,
            "eventId": "0123456789abcdefghijklmnopqrstuv",
            "meetLink": "https://meet.google.com/abc-defg-hij",
            "htmlLink": "https://www.google.com/calendar/event?eid=abc123",
            "paymentId": "1234567890", "holdExpiresAt": iso(hold),
            "lastError": "Google answered 503 once"})
        b = self.booking(get(bid))
        # The stack runs in the default zone (UTC-3, no daylight saving).
        self.assertEqual((b["start"], b["end"], b["holdExpiresAt"]),
                         ("%sT22:30:00-03:00" % self.day, "%sT23:30:00-03:00" % self.day,
                          "%sT12:15:00-03:00" % self.day))
        self.assertIs(type(b["participants"]), int)
        self.assertIs(type(b["paymentId"]), str)

    def test_bookings_get_absent_values_are_null(self):
        start, end = local(self.day, 10), local(self.day, 11)
        bid = insert(status="pending", startAt=db_utc(start), endAt=db_utc(end))
        self.assertEqual(self.booking(get(bid)), {
            "id": bid, "status": "pending", "start": iso(start), "end": iso(end),
            "timeZone": zone_name(), "classType": "individual", "participants": 1,
            "studentEmail": "student@example.com", "studentName": None, "eventId": None,
            "meetLink": None, "htmlLink": None, "paymentId": None, "holdExpiresAt": None,
            "lastError": None})

    def test_bookings_get_each_status(self):
        ids = {}
        for k, status in enumerate(STATUSES):
            start = local(self.day, 9 + k)
            ids[status] = insert(status=status, startAt=db_utc(start),
                                 endAt=db_utc(start + datetime.timedelta(minutes=45)))
        for status, bid in ids.items():
            with self.subTest(status=status):
                b = self.booking(get(bid))
                self.assertEqual((b["id"], b["status"]), (bid, status))

    def test_bookings_get_unknown_or_malformed_id_is_404(self):
        start = local(self.day, 10)
        bid = insert(startAt=db_utc(start), endAt=db_utc(start + datetime.timedelta(hours=1)))
        self.booking(get(bid))
        for other in (os.urandom(16).hex(),           # unknown
                      bid.upper(),                     # not lowercase
                      bid[:31], bid + "0", bid[:31] + "g",
                      bid + bid,                       # 64 characters
                      bid + bid + "0",                 # 65
                      "x", "-", "abc.def", "abc~def", bid[:16] + "_" + bid[17:]):
            with self.subTest(id=other):
                self.assertError(get(other), 404, "booking_not_found")

    def test_bookings_get_needs_the_internal_token(self):
        start = local(self.day, 10)
        bid = insert(startAt=db_utc(start), endAt=db_utc(start + datetime.timedelta(hours=1)),
                     studentEmail="private@example.com")
        token = stack().env["INTERNAL_API_TOKEN"]
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer wrong"},
                        {"Authorization": "Bearer " + token[:-1]},
                        {"Authorization": "Bearer " + token + "x"},
                        {"Authorization": "Basic " + token},
                        {"Authorization": token}):
            for which in (bid, os.urandom(16).hex()):
                with self.subTest(headers=headers, known=which == bid):
                    r = get(which, headers=headers)
                    self.assertError(r, 401)
                    self.assertNotIn(b"private@example.com", r.body)
        self.booking(get(bid))


if __name__ == "__main__":
    unittest.main()
