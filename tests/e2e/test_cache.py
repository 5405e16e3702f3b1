"""nginx's cache of the public reads (nginx/booking-server.conf):
GET /api/calendar and /api/calendar/slots are answered from it to the end
of the second calendar_get made the reply in; a class
booked through the API is gone from the slots within a second; ETag and 304
work through it; an error is never cached; a query with anything but the
path's parameters is never cached; HEAD and GET are kept apart; each reply
has its own X-Request-Id; `set $booking_cache_off 1;` turns it off.

X-Nginx-Cache is nginx's own word on each reply (HIT, MISS, EXPIRED, STALE,
UPDATING, BYPASS); X-Cache stays calendar_get's (its copy of Google).
"""

import os
import time
import unittest

import harness
from test_availability import (DAY, GOOGLE_503, TTL, connect_admin, qs, reset, today,
                               wait_ttl, weekday_on_or_after)


def stack():
    return harness.stack


def window_uri(first=None, reverse=False):
    day = first or today() + 2 * DAY
    params = [("from", day.isoformat()), ("to", (day + 30 * DAY).isoformat())]
    if reverse:
        params.reverse()
    return "/api/calendar?" + "&".join("%s=%s" % p for p in params)


def slots_uri(day, duration=60):
    return "/api/calendar/slots?" + qs(date=day.isoformat(), duration=str(duration))


def nginx_cache(reply):
    return reply.header("X-Nginx-Cache")


def start_of_next_second():
    """Sleeps to just after the start of the next wall-clock second, so a
    test's few requests fall inside one second of nginx's clock."""
    now = time.time()
    time.sleep(1.02 - (now - int(now)))


def reload_nginx():
    """stack.sh start renders nginx's files again and reloads it (the
    programs and the database are left as they are)."""
    stack().script("start")


class Cache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset(users=True)
        connect_admin()  # holds and the admin's events need the calendar

    def tearDown(self):
        # A test that failed with Google failing leaves it fine, and the
        # programs' next refresh due.
        stack().sim("DELETE", "/_sim/faults")

    def test_a_second_read_within_the_second_is_a_hit(self):
        uri = window_uri(today() + 3 * DAY)
        # calendar_get's own copy warm (another window: nginx has no copy
        # of uri), so both reads fit in one second.
        self.assertEqual(stack().get(window_uri(today() + 2 * DAY)).status, 200)
        start_of_next_second()
        first = stack().get(uri)
        second = stack().get(uri)
        self.assertEqual(first.status, 200, first)
        self.assertIn(nginx_cache(first), ("MISS", "EXPIRED", "STALE", "HIT"))
        self.assertEqual(second.status, 200, second)
        self.assertEqual(nginx_cache(second), "HIT", second)
        self.assertEqual(second.body, first.body)
        self.assertEqual(second.header("ETag"), first.header("ETag"))
        # The contract's cache headers are calendar_get's, kept with the copy.
        self.assertRegex(second.header("Cache-Control"), r"^public, max-age=\d+")

    def test_each_reply_has_its_own_request_id(self):
        uri = window_uri(today() + 4 * DAY)
        ids = [stack().get(uri).header("X-Request-Id") for _ in range(3)]
        for i in ids:
            self.assertRegex(i or "", r"^[0-9a-f]{32}$")
        self.assertEqual(len(set(ids)), 3, ids)

    def test_the_key_is_the_parameters_in_one_order(self):
        day = today() + 5 * DAY
        # calendar_get's own copy warm, nginx without a copy of either form.
        self.assertEqual(stack().get(window_uri(day + DAY)).status, 200)
        start_of_next_second()
        a = stack().get(window_uri(day))
        b = stack().get(window_uri(day, reverse=True))
        self.assertEqual(b.status, 200, b)
        self.assertEqual(nginx_cache(b), "HIT", (a, b))
        self.assertEqual(a.body, b.body)

    def test_head_and_get_are_kept_apart(self):
        uri = window_uri(today() + 6 * DAY)
        head = stack().call("HEAD", uri)
        self.assertEqual(head.status, 200, head)
        self.assertEqual(head.body, b"")
        get = stack().get(uri)
        self.assertEqual(get.status, 200, get)
        self.assertGreater(len(get.body), 50, "a GET after a HEAD got the HEAD's empty body")
        self.assertEqual(get.json()["from"][:10], (today() + 6 * DAY).isoformat())

    def test_any_other_query_is_never_cached(self):
        day = (today() + 7 * DAY).isoformat()
        to = (today() + 9 * DAY).isoformat()
        odd = [
            "/api/calendar?from=%s&to=%s&junk=1" % (day, to),   # unknown parameter
            "/api/calendar?from=%s&from=%s" % (day, to),         # given twice
            "/api/calendar?from=&to=%s" % to,                    # empty value
            "/api/calendar?from=%s&to=%s&" % (day, to),          # empty parameter
            "/api/calendar/slots?date=%s&date=%s" % (day, day),
            "/api/calendar/slots?date=%s&x=1" % day,
        ]
        for uri in odd:
            for _ in range(2):
                r = stack().get(uri)
                self.assertEqual(r.status, 400, (uri, r))
                self.assertEqual(nginx_cache(r), "BYPASS", (uri, r))
                self.assertIn(r.json()["error"]["code"], ("invalid_query", "invalid_parameter"),
                              (uri, r))

    def test_a_refused_read_is_never_cached(self):
        uri = "/api/calendar?from=x&to=y"
        for _ in range(3):
            r = stack().get(uri)
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json()["error"]["code"], "invalid_parameter", r)
            self.assertEqual(nginx_cache(r), "MISS", r)
            self.assertIn("no-store", r.header("Cache-Control"))

    def test_an_error_is_never_cached_and_never_replaces_a_good_copy(self):
        uri = window_uri(today() + 8 * DAY)
        reset()  # nothing cached anywhere: calendar_get has nothing to serve
        stack().sim("POST", "/_sim/faults", GOOGLE_503)
        try:
            for _ in range(2):
                r = stack().get(uri)
                self.assertEqual(r.status, 503, r)
                self.assertEqual(nginx_cache(r), "MISS", r)
                self.assertIn("no-store", r.header("Cache-Control"))
        finally:
            stack().sim("DELETE", "/_sim/faults")
        # Google back: the next read calendar_get refreshes is good, not a
        # cached 503 (a failed attempt waits a TTL before the next).
        wait_ttl()
        r = stack().get(uri)
        self.assertEqual(r.status, 200, r)
        good = r.body
        # Google down again and the program's copy gone from the database:
        # nginx's good copy answers to the end of its second (and a second
        # of grace), calendar_get's copies in memory for their TTL; then
        # calendar_get answers 503, which nginx passes on and never keeps:
        # no 503 comes from nginx's cache, and in the end only 503s come.
        stack().sim("POST", "/_sim/faults", GOOGLE_503)
        try:
            stack().sql("DELETE FROM calendar_events; DELETE FROM calendar_sync")
            seen = []
            start = time.time()
            while time.time() < start + TTL + 4:
                r = stack().get(uri)
                seen.append((round(time.time() - start, 2), r.status))
                if r.status == 200:
                    self.assertEqual(r.body, good)
                else:
                    self.assertEqual(r.status, 503, r)
                    self.assertNotIn(nginx_cache(r), ("HIT", "STALE", "UPDATING"), r)
                time.sleep(0.1)
            self.assertEqual({st for t, st in seen if t >= TTL + 3}, {503}, seen)
        finally:
            stack().sim("DELETE", "/_sim/faults")
        wait_ttl()
        r = stack().get(uri)
        self.assertEqual(r.status, 200, r)

    def test_etag_and_304_through_the_cache(self):
        uri = window_uri(today() + 10 * DAY)
        r = stack().get(uri)
        self.assertEqual(r.status, 200, r)
        etag = r.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
        # From a fresh copy (a HIT), then from one just expired (STALE).
        for _ in range(2):
            m = stack().get(uri, headers={"If-None-Match": etag})
            self.assertEqual(m.status, 304, m)
            self.assertEqual(m.body, b"")
            self.assertEqual(m.header("ETag"), etag)
            m = stack().get(uri, headers={"If-None-Match": 'W/' + etag})
            self.assertEqual(m.status, 304, m)
            m = stack().get(uri, headers={"If-None-Match": '"0000", ' + etag})
            self.assertEqual(m.status, 304, m)
            other = stack().get(uri, headers={"If-None-Match": '"not-it"'})
            self.assertEqual(other.status, 200, other)
            self.assertEqual(other.body, r.body)
            start_of_next_second()
        # A client's If-None-Match on a copy nginx does not have yet.
        fresh = window_uri(today() + 11 * DAY)
        etag2 = stack().get(fresh).header("ETag")
        start_of_next_second()
        time.sleep(1.1)  # the copy's second and its grace are over
        m = stack().get(fresh, headers={"If-None-Match": etag2})
        self.assertEqual(m.status, 304, m)

    def test_a_class_booked_here_leaves_the_slots_within_a_second(self):
        day = weekday_on_or_after(today() + 3 * DAY, {0, 1, 2, 3, 4})
        uri = slots_uri(day)
        r = stack().get(uri)
        self.assertEqual(r.status, 200, r)
        start = r.json()["slots"][0]["start"]
        r = stack().get(uri)
        self.assertEqual(nginx_cache(r), "HIT", r)  # the slots are cached now
        hold = stack().call("POST", "/api/calendar/holds", headers=stack().internal(),
                            body={"start": start, "studentEmail": "ana@example.com"})
        booked = time.time()
        self.assertEqual(hold.status, 201, hold)
        replies = []
        gone_at = None
        while time.time() < booked + 3:
            r = stack().get(uri)
            t = time.time() - booked
            self.assertEqual(r.status, 200, r)
            shown = start in [s["start"] for s in r.json()["slots"]]
            replies.append((round(t, 3), nginx_cache(r), shown))
            if not shown and gone_at is None:
                gone_at = t
            if gone_at is not None and t > gone_at + 0.3:
                break
            time.sleep(0.05)
        self.assertIsNotNone(gone_at, replies)
        # The copy made before the booking lasts to the end of its second;
        # after that only the one request that finds it expired (STALE)
        # and those while its refresh runs (UPDATING) may still get it.
        late = [x for x in replies if x[0] >= 1.0 and x[2]]
        self.assertEqual([x for x in late if x[1] not in ("STALE", "UPDATING")], [],
                         replies)
        self.assertLess(gone_at, 2.0, replies)
        # And it stays gone.
        self.assertFalse([x for x in replies if x[0] > gone_at and x[2]], replies)

    def test_the_admins_events_are_never_cached(self):
        connect_admin()  # another test's reset() forgot the grant
        uri = window_uri().replace("/api/calendar", "/api/calendar/events")
        for _ in range(2):
            r = stack().get(uri, headers=stack().internal())
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(nginx_cache(r))
            self.assertIn("no-store", r.header("Cache-Control"))

    def test_writes_are_never_cached(self):
        connect_admin()  # another test's reset() forgot the grant
        day = weekday_on_or_after(today() + 4 * DAY, {0, 1, 2, 3, 4})
        starts = [s["start"] for s in stack().get(slots_uri(day)).json()["slots"]]
        body = {"start": starts[-1], "studentEmail": "ana@example.com"}
        first = stack().call("POST", "/api/calendar/holds", headers=stack().internal(),
                             body=body)
        again = stack().call("POST", "/api/calendar/holds", headers=stack().internal(),
                             body=body)
        self.assertEqual(first.status, 201, first)
        self.assertEqual(again.status, 409, again)
        self.assertNotEqual(first.header("X-Request-Id"), again.header("X-Request-Id"))


class CacheOff(unittest.TestCase):
    """README: `set $booking_cache_off 1;` after the include turns it off."""

    def setUp(self):
        self.extra = os.path.join(stack().dir, "nginx", "extra", "cache-off.conf")

    def tearDown(self):
        if os.path.exists(self.extra):
            os.unlink(self.extra)
            reload_nginx()

    def test_the_switch_turns_the_cache_off_and_on(self):
        uri = window_uri(today() + 12 * DAY)
        with open(self.extra, "w") as f:
            f.write("set $booking_cache_off 1;\n")
        reload_nginx()
        # nginx's old workers may answer a moment longer.
        self.assertTrue(stack().wait_for(lambda: nginx_cache(stack().get(uri)) == "BYPASS",
                                         timeout=10))
        for _ in range(3):
            r = stack().get(uri)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(nginx_cache(r), "BYPASS", r)
        os.unlink(self.extra)
        reload_nginx()
        self.assertTrue(stack().wait_for(
            lambda: nginx_cache(stack().get(uri)) in ("HIT", "STALE", "UPDATING"), timeout=10))


if __name__ == "__main__":
    unittest.main()
