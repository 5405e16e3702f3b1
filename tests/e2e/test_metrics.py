"""GET /api/metrics (calendar_get, internal): the Prometheus text
exposition format 0.0.4, computed from the database. The reply parses as
the format says (every sample after its # HELP and # TYPE, names and label
values well-formed, values numbers), and its figures follow the bookings,
the payments, the Google connection and the availability cache."""

import re
import unittest

import harness
from test_booking_write import HOLDS, at, delete, klass, post
from test_oauth import clean_up, connect, reset_all
from test_payments import class_meta, new_payment, notify

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(r"^(%s)(\{([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\n]|\\.)*)\"\})? (\S+)$" % NAME)
STATUSES = ["held", "pending", "scheduling", "scheduled", "cancelled", "failed"]
SERIES = ["booking_bookings", "booking_unfinished_oldest_seconds", "booking_payments_unbooked",
          "booking_calendar_connected", "booking_calendar_sync_age_seconds"]


def stack():
    return harness.stack


def parse(test, text):
    """{(name, label value or None): value}, checking the format."""
    helps, types, out = set(), {}, {}
    test.assertTrue(text.endswith("\n"), "the exposition ends with a line feed")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, doc = line[7:].partition(" ")
            test.assertRegex(name, "^%s$" % NAME)
            test.assertTrue(doc.strip(), line)
            test.assertNotIn(name, helps, "one HELP a metric")
            helps.add(name)
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            test.assertIn(kind, ("gauge", "counter", "untyped"), line)
            test.assertNotIn(name, types, "one TYPE a metric")
            types[name] = kind
        else:
            m = SAMPLE.match(line)
            test.assertIsNotNone(m, "not a sample line: %r" % line)
            name, label, value = m.group(1), m.group(4), m.group(5)
            test.assertIn(name, types, "a sample before its TYPE: " + line)
            test.assertIn(name, helps, "a sample without HELP: " + line)
            float(value)  # a number, or the line is wrong
            test.assertNotIn((name, label), out, "a repeated sample: " + line)
            out[(name, label)] = float(value)
    return out


class Metrics(unittest.TestCase):
    def setUp(self):
        reset_all()
        stack().forget_cache("DELETE FROM bookings; DELETE FROM payments; "
                             "DELETE FROM booking_history")
        connect()

    def tearDown(self):
        clean_up()
        stack().sql("DELETE FROM bookings; DELETE FROM payments")

    def metrics(self):
        r = stack().get("/api/metrics", headers=stack().internal())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        m = parse(self, r.body.decode("utf-8"))
        for name in SERIES:
            self.assertIn(name, {k[0] for k in m}, name)
        for s in STATUSES:
            self.assertIn(("booking_bookings", s), m, s)
        return m

    def assertFollowsTheTable(self, m):
        for s in STATUSES:
            n = int(stack().sql("SELECT COUNT(*) FROM bookings WHERE status = '%s'" % s)[0][0])
            self.assertEqual(m[("booking_bookings", s)], n, s)

    def test_metrics_internal_only(self):
        for headers in (None, {"Authorization": "Bearer wrong"}):
            r = stack().get("/api/metrics", headers=headers)
            self.assertEqual(r.status, 401, r)
            self.assertNotIn(b"booking_bookings", r.body)

    def test_metrics_empty_school(self):
        m = self.metrics()
        for s in STATUSES:
            self.assertEqual(m[("booking_bookings", s)], 0, s)
        self.assertEqual(m[("booking_unfinished_oldest_seconds", None)], 0)
        self.assertEqual(m[("booking_payments_unbooked", None)], 0)
        self.assertEqual(m[("booking_calendar_connected", None)], 1)
        self.assertEqual(m[("booking_calendar_sync_age_seconds", None)], -1)
        # Not connected any more: 0.
        stack().sql("DELETE FROM users")
        self.assertEqual(self.metrics()[("booking_calendar_connected", None)], 0)

    def test_metrics_follow_the_bookings(self):
        a = post(klass(at(10, 10)))
        self.assertEqual(a.status, 201, a)
        h = post(klass(at(10, 12)), path=HOLDS)
        self.assertEqual(h.status, 201, h)
        m = self.metrics()
        self.assertEqual((m[("booking_bookings", "scheduled")], m[("booking_bookings", "held")]),
                         (1, 1))
        self.assertFollowsTheTable(m)
        self.assertEqual(delete(a.json()["booking"]["id"]).status, 200)
        m = self.metrics()
        self.assertEqual((m[("booking_bookings", "scheduled")],
                          m[("booking_bookings", "cancelled")]), (0, 1))
        self.assertFollowsTheTable(m)
        # Availability was read from Google just now for the checks above.
        stack().get("/api/calendar")
        age = self.metrics()[("booking_calendar_sync_age_seconds", None)]
        self.assertTrue(0 <= age <= 600, age)

    def test_metrics_unfinished_work_and_unbooked_payments(self):
        # A class Google has not taken for ten minutes.
        stack().sql("INSERT INTO bookings (id, status, startAt, endAt, timeZone, studentEmail) "
                    "VALUES ('%s', 'scheduling', '2031-01-06 13:00:00', "
                    "'2031-01-06 14:00:00', 'America/Argentina/Buenos_Aires', "
                    "'ana@example.com')" % ("a" * 32))
        stack().sql("INSERT INTO booking_history (bookingId, fromStatus, toStatus, reason, at) "
                    "VALUES ('%s', NULL, 'scheduling', 'a test', "
                    "UTC_TIMESTAMP() - INTERVAL 600 SECOND)" % ("a" * 32))
        # An approved payment whose metadata cannot become a class.
        pid = new_payment("approved", class_meta(at(10, 14), student_email=None))
        self.assertEqual(notify(pid)["status"], 200)
        m = self.metrics()
        oldest = m[("booking_unfinished_oldest_seconds", None)]
        self.assertTrue(600 <= oldest <= 1200, oldest)
        self.assertEqual(m[("booking_payments_unbooked", None)], 1)
        self.assertEqual(m[("booking_bookings", "scheduling")], 1)
        self.assertFollowsTheTable(m)


if __name__ == "__main__":
    unittest.main()
