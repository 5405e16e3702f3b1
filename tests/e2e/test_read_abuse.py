"""What an anonymous visitor or an odd Google calendar can cost the public
reads (GET /api/calendar and /api/calendar/slots), end to end through nginx.

- A window outside the span the cache keeps (more than 7 days ago, more
  than 367 days ahead) is refused, and a day gone by has no slots: neither
  ever costs a Google call, however many visitors ask.
- A refresh made while a visitor waits tries Google once and never sleeps:
  while Google fails, the stale copy answers after one call, not after a
  round of retries.
- One event Google sends that the cache cannot take as it is (an id that is
  not ASCII, a text with a lone surrogate escape, an id too long to key)
  never stops the sync: every other event still blocks its time.
"""

import urllib.parse
import unittest

import harness
from test_availability import (CAL, DAY, GOOGLE_503, assert_cached_reply, assert_error, busy,
                               clear_sim_log, get_calendar, iso, list_calls,
                               list_calls_since, local, log_seq, names, qs, reset, seed,
                               timed, today, wait_ttl)


def stack():
    return harness.stack


def get_slots(day):
    return stack().get("/api/calendar/slots?" + qs(date=day.isoformat(), duration="60"))


class ReadAbuse(unittest.TestCase):
    def tearDown(self):
        stack().sim("DELETE", "/_sim/faults")

    def test_reads_outside_the_kept_span_never_ask_google(self):
        reset()
        d = today() + 3 * DAY
        assert_cached_reply(self, get_calendar(local(d), local(d + DAY)))
        clear_sim_log()
        windows = [
            (local(today() - 30 * DAY), local(today() - 29 * DAY)),
            (local(today() - 8 * DAY), local(today() + DAY)),
            (local(today() + 400 * DAY), local(today() + 401 * DAY)),
            (local(today() + 300 * DAY), local(today() + 368 * DAY)),
            ("2001-01-01", "2001-02-01"),
            ("9999-01-01", "9999-02-01"),
        ]
        for frm, to in windows * 2:
            with self.subTest(window=(str(frm), str(to))):
                msg = assert_error(self, get_calendar(frm, to), 400, "invalid_parameter")
                self.assertTrue(names(msg, "from") and names(msg, "to"), msg)
        # A day gone by offers no slot, whatever Google holds for it.
        for day in (today() - 30 * DAY, today() - 3 * DAY, today().replace(year=2001)):
            with self.subTest(date=day.isoformat()):
                r = get_slots(day)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["slots"], [])
        self.assertEqual(list_calls(), [], "a public read asked Google itself")
        # The edges of the span are served from the cache.
        r = get_calendar(local(today() - 6 * DAY), local(today() + 300 * DAY))
        assert_cached_reply(self, r)
        self.assertEqual([c for c in list_calls() if "syncToken" not in c["query"]
                          and "timeMin" in c["query"]
                          and c["query"]["timeMin"][0].startswith(
                              iso(local(today() - 6 * DAY))[:10])], [])

    def test_a_refresh_while_google_fails_tries_once(self):
        reset()
        d = today() + 3 * DAY
        assert_cached_reply(self, get_calendar(local(d), local(d + DAY)))
        stack().sim("POST", "/_sim/faults", GOOGLE_503)
        wait_ttl()
        seq = log_seq()
        r = get_calendar(local(d), local(d + DAY))
        assert_cached_reply(self, r, "STALE")
        self.assertEqual(len(list_calls_since(seq)), 1,
                         "the visitor waited for retries: %r" % list_calls_since(seq))
        # The same for a rate limit with a Retry-After: no sleeping in
        # the request, the stale copy answers.
        stack().sim("DELETE", "/_sim/faults")
        stack().sim("POST", "/_sim/faults", dict(GOOGLE_503, status=429,
                                                 headers={"Retry-After": "2"}))
        wait_ttl()
        seq = log_seq()
        r = get_calendar(local(d), local(d + DAY))
        assert_cached_reply(self, r, "STALE")
        self.assertEqual(len(list_calls_since(seq)), 1)

    def test_one_odd_event_never_stops_the_sync(self):
        reset()
        d = today() + 3 * DAY
        odd_id = "reuni\u00f3n\u00e9\u00e8\u4f1a\u8bae1"
        events = [
            timed(local(d, 9), local(d, 10), id=odd_id),
            timed(local(d, 11), local(d, 12), summary="caf\ud800"),
            timed(local(d, 13), local(d, 14), id="x" * 300),
            timed(local(d, 15), local(d, 16)),
        ]
        seed(events)
        size = len(stack().log("calendar_get.log"))
        r = get_calendar(local(d), local(d + DAY))
        body = assert_cached_reply(self, r)
        self.assertEqual(body["events"], [busy(local(d, 9), local(d, 10)),
                                          busy(local(d, 11), local(d, 12)),
                                          busy(local(d, 15), local(d, 16))])
        self.assertEqual(stack().sql(
            "SELECT COUNT(*) FROM calendar_events WHERE eventId = '%s'" % odd_id),
            [["1"]])
        # Its cancellation reaches the cache by the incremental sync.
        stack().sim("DELETE", "/_sim/calendars/%s/events/%s"
                    % (urllib.parse.quote(CAL), urllib.parse.quote(odd_id)))
        wait_ttl()
        body = assert_cached_reply(self, get_calendar(local(d), local(d + DAY)))
        self.assertEqual(body["events"], [busy(local(d, 11), local(d, 12)),
                                          busy(local(d, 15), local(d, 16))])
        # What was left out is said in the log.
        log = stack().log("calendar_get.log")[size:]
        self.assertIn("skipping Google event " + "x" * 20, log)


if __name__ == "__main__":
    unittest.main()
