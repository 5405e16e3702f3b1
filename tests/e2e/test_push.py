"""Google push notifications end to end (DESIGN.md "Google push
notifications"; README.md "Push channels"): reconcile opens, renews and
stops the channel (events.watch, channels.stop on the simulator), the
simulator sends its notifications through nginx to calendar_get, and
/api/calendar follows Google within a second of one, with a cache lifetime
of an hour so that polling cannot explain it.

What is checked: a change made in Google shows within one second of its
notification (calendar_get refreshes at once; a copy nginx's cache made
before lasts to the end of its second, and the read that finds it expired
gets it once more); forged notifications (unknown channel, wrong resource, wrong
or missing token) get 401 and change nothing; a burst of 100 notifications
costs at most two refreshes; renewal opens the new channel before it stops
the old; removing CALENDAR_PUSH_URL stops the channel; a channel Google
refuses, or one that lapsed, leaves polling working and health, metrics and
the doctor say no channel is live; without the variable nothing changes.
"""

import hashlib
import json
import os
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness
import test_payments as tp
from test_availability import (CAL, DAY, connect_admin, iso, local, today)

EVENTS_RE = r"^/calendar/v3/calendars/[^/]+/events$"
WATCH_RE = r"^/calendar/v3/calendars/[^/]+/events/watch$"
STOP_RE = r"^/calendar/v3/channels/stop$"
# The cache's lifetime while these tests run: an hour, so that only a
# notification can make a change show within seconds.
LONG_TTL = "3600"


def stack():
    return harness.stack


def push_url():
    return "http://127.0.0.1:%d/api/calendar/notifications" % stack().port


def restart(**env):
    """The programs again with the tests' settings plus env."""
    with open(stack().env_file, "w") as f:
        for k, v in dict(harness.TEST_ENV, **env).items():
            f.write("%s=%s\n" % (k, v))
    stack().start()


def sim_log(path, method="POST", since=0):
    q = {"path": path, "method": method}
    if since:
        q["since"] = str(since)
    return stack().sim("GET", "/_sim/requests?" + urllib.parse.urlencode(q))


def log_seq():
    log = stack().sim("GET", "/_sim/requests")
    return log[-1]["seq"] if log else 0


def list_calls(since=0):
    return sim_log(EVENTS_RE, "GET", since)


def channels():
    return stack().sim("GET", "/_sim/push/channels")


def notifications(channel=None):
    q = "?channel=" + urllib.parse.quote(channel) if channel else ""
    return stack().sim("GET", "/_sim/push/notifications" + q)


def reconcile(**env):
    p = tp.run_reconcile(env_extra=env)
    return p.returncode, p.stdout, p.stderr


def window():
    d0 = today() + 5 * DAY
    return d0, "/api/calendar?" + urllib.parse.urlencode(
        {"from": iso(local(d0, 0)), "to": iso(local(d0 + DAY, 0))})


def busy_starts(path, fresh=True):
    """The busy starts /api/calendar gives. fresh: never from a copy
    nginx's cache made before the call (harness get()); polls pass False
    and wait out a copy's second like any client."""
    r = stack().get(path, fresh=fresh)
    assert r.status == 200, r
    return [e["start"] for e in r.json()["events"]]


def add_event(d0, hour):
    """An event made in Google (the simulator's own change: it notifies
    every live channel). Its start as /api/calendar writes it."""
    start, end = local(d0, hour), local(d0, hour + 1)
    stack().sim("POST", "/_sim/calendars/%s/events" % CAL, {
        "summary": "made in Google", "status": "confirmed",
        "start": {"dateTime": iso(start)}, "end": {"dateTime": iso(end)}})
    return iso(start)


def health():
    r = stack().get("/api/health")
    assert r.status == 200, r
    return r.json()


def metrics():
    r = stack().get("/api/metrics", headers=stack().internal())
    assert r.status == 200, r
    return r.body.decode()


def doctor_checks():
    p = subprocess.run([os.path.join(stack().bin_dir, "doctor"), "--json"],
                       env=stack().program_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return {c["name"]: c for c in json.loads(p.stdout)["checks"]}


def notify(headers):
    """A notification as anyone could send it, through nginx."""
    h = {"Content-Type": "application/json; utf-8", "Content-Length": "0"}
    h.update({k: v for k, v in headers.items() if v is not None})
    return stack().call("POST", "/api/calendar/notifications", headers=h)


def clean_slate():
    """The simulator and the tables as new, the admin connected (the
    simulator forgot the grant)."""
    stack().sim("POST", "/_sim/reset")
    stack().sql("DELETE FROM push_channels; DELETE FROM push_lease; "
                "DELETE FROM calendar_events; DELETE FROM calendar_sync; "
                "DELETE FROM users; DELETE FROM oauth_states")
    connect_admin()


class PushOn(unittest.TestCase):
    """CALENDAR_PUSH_URL set (to nginx on the loopback), a TTL of an hour."""

    @classmethod
    def setUpClass(cls):
        restart(CALENDAR_PUSH_URL=push_url(), CALENDAR_CACHE_TTL_S=LONG_TTL)

    @classmethod
    def tearDownClass(cls):
        stack().sim("POST", "/_sim/reset")
        stack().sql("DELETE FROM push_channels; DELETE FROM push_lease")
        restart()

    def setUp(self):
        clean_slate()
        # With push on, a process looks at the emptied cache within a
        # fraction of a second; this read refills it.
        self.d0, self.path = window()
        time.sleep(0.3)
        self.assertEqual(busy_starts(self.path), [])

    def open_channel(self):
        rc, out, err = reconcile()
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("reconcile: push channel opened", out)
        chans = channels()
        self.assertEqual(len(chans), 1, chans)
        ch = chans[0]
        # Google's first message is sync, numbered 1, and it is answered 200.
        self.assertTrue(stack().wait_for(lambda: notifications(ch["id"])))
        first = notifications(ch["id"])[0]
        self.assertEqual((first["state"], first["number"], first["status"]),
                         ("sync", 1, 200), first)
        return ch

    def wait_delivered(self, ch, n, timeout=10):
        """The first n notifications of ch, once all were delivered."""
        ok = stack().wait_for(lambda: len(notifications(ch["id"])) >= n,
                              timeout=timeout, interval=0.02)
        self.assertTrue(ok, notifications(ch["id"]))
        return notifications(ch["id"])[:n]

    # ---- the channel ----

    def test_the_channel_is_stored_with_its_token_hashed(self):
        ch = self.open_channel()
        call = sim_log(WATCH_RE)[-1]
        body = call["json"]
        self.assertEqual(body["type"], "web_hook")
        self.assertEqual(body["address"], push_url())
        self.assertEqual(body["id"], ch["id"])
        self.assertTrue(call["headers"]["authorization"].startswith("Bearer "))
        self.assertGreaterEqual(len(ch["token"]), 32)
        rows = stack().sql("SELECT id, resourceId, tokenHash, state, address, "
                           "UNIX_TIMESTAMP(expiresAt) * 1000 FROM push_channels")
        self.assertEqual(len(rows), 1, rows)
        cid, rid, thash, state, address, exp = rows[0]
        self.assertEqual((cid, rid, state, address),
                         (ch["id"], ch["resourceId"], "live", push_url()))
        self.assertEqual(thash, hashlib.sha256(ch["token"].encode()).hexdigest())
        self.assertEqual(int(float(exp)), ch["expiration"])
        # The token itself is nowhere in the database, nor in a log.
        dump = subprocess.run(stack().db_client("mariadb-dump") + ["booking"],
                              stdout=subprocess.PIPE, check=True).stdout
        self.assertNotIn(ch["token"].encode(), dump)
        for name, text in stack().logs().items():
            self.assertNotIn(ch["token"], text, name)
        # Health, metrics and the doctor say it is live.
        self.assertIs(health()["pushChannelLive"], True)
        self.assertIn("\nbooking_calendar_push_live 1\n", metrics())
        check = doctor_checks()["push-channel"]
        self.assertEqual(check["status"], "ok", check)
        self.assertIn("live until", check["message"])
        # A second run keeps it.
        rc, out, _ = reconcile()
        self.assertEqual(rc, 0)
        self.assertIn("reconcile: push channel live", out)
        self.assertEqual(len(channels()), 1)

    def test_a_change_in_google_shows_within_one_second(self):
        ch = self.open_channel()
        # The last refresh (setUp's read) began over a second ago: a
        # notification may start the next one at once.
        time.sleep(1.1)
        before = len(list_calls())
        start = add_event(self.d0, 15)
        seen = None
        replies = []  # (when, X-Nginx-Cache, shown)
        deadline = time.time() + 5
        while time.time() < deadline:
            r = stack().get(self.path)
            self.assertEqual(r.status, 200, r)
            shown = start in [e["start"] for e in r.json()["events"]]
            replies.append((time.time(), r.header("X-Nginx-Cache"), shown))
            if shown:
                seen = time.time()
                break
            time.sleep(0.02)
        self.assertIsNotNone(seen, "the change never showed (TTL is an hour)")
        sent = [n for n in notifications(ch["id"]) if n["state"] == "exists"]
        self.assertEqual(len(sent), 1, sent)
        note = sent[0]
        self.assertEqual(note["status"], 200, note)
        self.assertGreater(note["number"], 1)
        # calendar_get refreshes at once: every reply it made a second or
        # more after the delivery has the change. nginx's copy of a reply
        # made before lasts to the end of that reply's second; only the
        # one read that finds it expired (STALE) and those while it is
        # refreshed (UPDATING) may still get it.
        late = [(round(t - note["done"], 3), c) for t, c, shown in replies
                if not shown and t - note["done"] >= 1.0]
        self.assertEqual([x for x in late if x[1] not in ("STALE", "UPDATING")], [],
                         "replies without the change a second after the notification")
        self.assertLessEqual(seen - note["done"], 1.5,
                             "shown %.3f s after the notification was delivered"
                             % (seen - note["done"]))
        # Clients may not keep it: a change may be notified at any moment.
        r = stack().get(self.path)
        self.assertRegex(r.header("Cache-Control"), r"^public, max-age=0, s-maxage=1, ")
        # It took one incremental read of Google, not a poll.
        calls = list_calls()[before:]
        self.assertEqual(len(calls), 1, calls)
        self.assertIn("syncToken", calls[0]["query"])
        # Every header Google sends was there.
        h = {k.lower(): v for k, v in note["headers"].items()}
        for name in ("x-goog-channel-id", "x-goog-channel-token",
                     "x-goog-channel-expiration", "x-goog-resource-id",
                     "x-goog-resource-uri", "x-goog-resource-state",
                     "x-goog-message-number"):
            self.assertIn(name, h)
        # A second change, over a second later: the same again.
        time.sleep(1.1)
        start2 = add_event(self.d0, 17)
        self.assertTrue(stack().wait_for(lambda: start2 in busy_starts(self.path, fresh=False),
                                         timeout=3, interval=0.05))
        nums = [n["number"] for n in notifications(ch["id"])]
        self.assertEqual(nums, sorted(set(nums)), "message numbers increase")

    def test_forged_notifications_are_refused_and_change_nothing(self):
        ch = self.open_channel()
        time.sleep(1.1)  # a refresh a notification causes is due at once
        seq = log_seq()
        state = stack().sql("SELECT version, notifiedAt FROM calendar_sync")
        good = {"X-Goog-Channel-ID": ch["id"], "X-Goog-Resource-ID": ch["resourceId"],
                "X-Goog-Channel-Token": ch["token"], "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": "999", "X-Goog-Resource-URI": ch["resourceUri"]}
        cases = {
            "unknown channel": {"X-Goog-Channel-ID": "f" * 32},
            "wrong resource": {"X-Goog-Resource-ID": "not-" + ch["resourceId"]},
            "wrong token": {"X-Goog-Channel-Token": ch["token"][:-1] + (
                "0" if ch["token"][-1] != "0" else "1")},
            "no token": {"X-Goog-Channel-Token": None},
            "empty token": {"X-Goog-Channel-Token": ""},
            "no channel": {"X-Goog-Channel-ID": None},
            "sync with a wrong token": {"X-Goog-Resource-State": "sync",
                                        "X-Goog-Channel-Token": "x" * 64},
        }
        for name, change in cases.items():
            with self.subTest(case=name):
                h = dict(good)
                h.update(change)
                r = notify(h)
                self.assertEqual(r.status, 401, r)
                self.assertEqual(r.json()["error"]["code"], "unauthorized")
                self.assertNotIn(ch["token"].encode(), r.body)
        # Nothing moved: no refresh, nothing marked, nothing recorded.
        for i in range(5):
            self.assertEqual(busy_starts(self.path, fresh=i == 0), [])
            time.sleep(0.1)
        self.assertEqual(list_calls(seq), [])
        self.assertEqual(stack().sql("SELECT version, notifiedAt FROM calendar_sync"),
                         state)
        self.assertEqual(stack().sql("SELECT lastMessageAt FROM push_channels"),
                         [[None]])
        self.assertNotIn(ch["token"], stack().log("calendar_get.log"))
        # The same notification with the right credentials is taken.
        r = notify(good)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"received": True, "result": "changed"})
        self.assertTrue(stack().wait_for(
            lambda: busy_starts(self.path, fresh=False) == [] and list_calls(seq), timeout=3))

    def test_a_burst_of_100_notifications_costs_at_most_two_refreshes(self):
        ch = self.open_channel()
        time.sleep(1.1)
        seq = log_seq()
        stop = threading.Event()
        errors = []

        def read():
            while not stop.is_set():
                r = stack().get(self.path)
                if r.status != 200:
                    errors.append(r)
                time.sleep(0.01)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            stack().sim("POST", "/_sim/push/channels/%s/notify" % ch["id"],
                        {"count": 100, "concurrency": 4})
            burst = self.wait_delivered(ch, 101)[1:]
            time.sleep(1.5)  # reads go on well past the burst
        finally:
            stop.set()
            reader.join()
        self.assertEqual(errors, [])
        self.assertEqual([n["status"] for n in burst], [200] * 100)
        span = max(n["done"] for n in burst) - min(n["sent"] for n in burst)
        rounds = [c for c in list_calls(seq) if "pageToken" not in c["query"]]
        times = [c["time"] for c in rounds]
        self.assertGreaterEqual(len(rounds), 1, "a notification must refresh")
        self.assertLessEqual(len(rounds), 2, "the burst took %.2f s; refreshes at %s"
                             % (span, times))
        # However long the burst took: a second between refreshes (slowness
        # only widens the gap).
        self.assertEqual([round(b - a, 3) for a, b in zip(times, times[1:])
                          if b - a < 0.9], [])

    def test_renewal_opens_the_new_channel_then_stops_the_old(self):
        # Google grants 8 s: halfway through, reconcile renews.
        stack().sim("POST", "/_sim/push", {"max_ttl_s": 8})
        old = self.open_channel()
        rc, out, _ = reconcile()
        self.assertIn("reconcile: push channel live", out)
        self.assertEqual(len(channels()), 1)
        time.sleep(max(0, old["expiration"] / 1000 - 2.5 - time.time()))
        seq = log_seq()
        rc, out, err = reconcile()
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("reconcile: push channel renewed", out)
        watch = sim_log(WATCH_RE, since=seq)
        stop = sim_log(STOP_RE, since=seq)
        self.assertEqual((len(watch), len(stop)), (1, 1), (watch, stop))
        self.assertLess(watch[0]["seq"], stop[0]["seq"], "opened first, then stopped")
        self.assertEqual(stop[0]["json"], {"id": old["id"], "resourceId": old["resourceId"]})
        self.assertEqual(stop[0]["status"], 204)
        by_id = {c["id"]: c for c in channels()}
        new_id = watch[0]["json"]["id"]
        self.assertNotEqual(new_id, old["id"])
        self.assertIsNotNone(by_id[old["id"]]["stopped"])
        self.assertTrue(by_id[new_id]["live"])
        self.assertEqual(stack().sql("SELECT id, state FROM push_channels"),
                         [[new_id, "live"]])
        # The new channel is the one that counts now.
        start = add_event(self.d0, 11)
        self.assertTrue(stack().wait_for(lambda: start in busy_starts(self.path, fresh=False),
                                         timeout=3, interval=0.05))
        self.assertEqual([n["status"] for n in notifications(new_id)], [200, 200])

    def test_removing_the_variable_stops_the_channel(self):
        ch = self.open_channel()
        seq = log_seq()
        rc, out, err = reconcile(CALENDAR_PUSH_URL="")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("reconcile: push channel stopped", out)
        stop = sim_log(STOP_RE, since=seq)
        self.assertEqual([s["json"]["id"] for s in stop], [ch["id"]])
        self.assertIsNotNone(channels()[0]["stopped"])
        self.assertEqual(stack().sql("SELECT COUNT(*) FROM push_channels"), [["0"]])
        # Then reconcile has nothing to say about it, and asks Google nothing.
        seq = log_seq()
        rc, out, _ = reconcile(CALENDAR_PUSH_URL="")
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertEqual(sim_log(WATCH_RE, since=seq) + sim_log(STOP_RE, since=seq), [])

    def assert_no_channel_live(self):
        self.assertIs(health()["pushChannelLive"], False)
        self.assertIn("\nbooking_calendar_push_live 0\n", metrics())
        check = doctor_checks()["push-channel"]
        self.assertEqual(check["status"], "warn", check)
        self.assertIn("no push channel is live", check["message"])

    def assert_polling_works(self):
        """A change Google does not notify shows once the TTL has run out,
        as without push."""
        start = add_event(self.d0, 19)
        time.sleep(0.5)
        self.assertNotIn(start, busy_starts(self.path))
        stack().sql("UPDATE calendar_sync SET lastSuccessAt = UTC_TIMESTAMP() - "
                    "INTERVAL 3601 SECOND, lastAttemptAt = UTC_TIMESTAMP() - "
                    "INTERVAL 3601 SECOND")
        self.assertTrue(stack().wait_for(lambda: start in busy_starts(self.path, fresh=False),
                                         timeout=3, interval=0.05))

    def test_a_channel_google_refuses_leaves_polling_working(self):
        stack().sim("POST", "/_sim/push", {"refuse_watch": "webhookUrlUnauthorized"})
        rc, out, err = reconcile()
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("reconcile: push channel failed", out)
        self.assertIn("push.webhookUrlUnauthorized", err)
        self.assertIn("availability keeps polling", err)
        # Asked once: the 401 is about the address, not the access token.
        self.assertEqual([c["status"] for c in sim_log(WATCH_RE)], [401])
        self.assertNotIn("renewing it", err)
        self.assertEqual(stack().sql("SELECT COUNT(*) FROM push_channels"), [["0"]])
        self.assertEqual(channels(), [])
        self.assert_no_channel_live()
        self.assert_polling_works()
        # Once Google takes it, the next run opens it.
        stack().sim("POST", "/_sim/push", {"refuse_watch": None})
        rc, out, _ = reconcile()
        self.assertEqual(rc, 0)
        self.assertIn("reconcile: push channel opened", out)
        self.assertIs(health()["pushChannelLive"], True)

    def test_a_lapsed_channel_leaves_polling_working(self):
        stack().sim("POST", "/_sim/push", {"max_ttl_s": 2})
        ch = self.open_channel()
        self.assertIs(health()["pushChannelLive"], True)
        time.sleep(max(0, ch["expiration"] / 1000 - time.time()) + 0.2)
        self.assert_no_channel_live()
        n = len(notifications(ch["id"]))
        self.assert_polling_works()
        self.assertEqual(len(notifications(ch["id"])), n, "an expired channel is silent")
        # reconcile replaces it; the old one is only forgotten (Google
        # has dropped it: nothing to stop).
        seq = log_seq()
        rc, out, _ = reconcile()
        self.assertIn("reconcile: push channel opened", out)
        self.assertEqual(sim_log(STOP_RE, since=seq), [])
        self.assertEqual(stack().sql("SELECT COUNT(*) FROM push_channels"), [["1"]])

    def test_a_receiver_that_fails_does_not_stop_the_simulator(self):
        # Google keeps sending to an address that does not answer; the
        # simulator records the failure and goes on serving.
        rc, out, err = reconcile(CALENDAR_PUSH_URL="http://127.0.0.1:9/nowhere")
        self.assertEqual(rc, 0, (out, err))
        ch = channels()[0]
        self.assertTrue(stack().wait_for(lambda: notifications(ch["id"])))
        self.assertIsNone(notifications(ch["id"])[0]["status"])
        self.assertTrue(notifications(ch["id"])[0]["error"])
        self.assertEqual(busy_starts(self.path), [])
        # It is not the live channel of calendar_get's address: reconcile
        # with the right address replaces it.
        rc, out, _ = reconcile()
        self.assertIn("reconcile: push channel opened", out)
        self.assertIsNotNone({c["id"]: c for c in channels()}[ch["id"]]["stopped"])


class PushOff(unittest.TestCase):
    """Without CALENDAR_PUSH_URL (the stack's usual settings)."""

    def setUp(self):
        self.assertNotIn("CALENDAR_PUSH_URL", stack().env)
        clean_slate()

    def test_without_the_variable_nothing_changes(self):
        seq = log_seq()
        rc, out, err = reconcile()
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertEqual(sim_log(WATCH_RE, since=seq), [])
        self.assertEqual(channels(), [])
        self.assertNotIn("pushChannelLive", health())
        self.assertNotIn("push", metrics())
        self.assertNotIn("push-channel", doctor_checks())
        # A notification finds no channel, and nothing is marked.
        d0, path = window()
        # A read that reaches the cache's row (a process may serve the copy
        # it keeps in memory for a TTL after earlier tests' reads).
        self.assertTrue(stack().wait_for(
            lambda: busy_starts(path, fresh=False) == [] and
            stack().sql("SELECT COUNT(*) FROM calendar_sync") == [["1"]],
            timeout=15, interval=0.2))
        r = notify({"X-Goog-Channel-ID": "a" * 32, "X-Goog-Resource-ID": "r",
                    "X-Goog-Channel-Token": "t", "X-Goog-Resource-State": "exists"})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["error"]["code"], "unauthorized")
        self.assertEqual(stack().sql("SELECT notifiedAt, refreshStartedAt IS NOT NULL "
                                     "FROM calendar_sync"), [[None, "1"]])
        self.assertEqual(stack().sql("SELECT COUNT(*) FROM push_channels"), [["0"]])
        self.assertEqual(stack().sql("SELECT COUNT(*) FROM push_lease"), [["0"]])


if __name__ == "__main__":
    unittest.main()
