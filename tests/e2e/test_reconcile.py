"""cgi-bin/reconcile end to end: the command the timer runs, against the
stack's database and the simulator.

What is checked (DESIGN.md "Reconciliation", "Details the clients rely
on"): bookings left in `scheduling` are finished (the event inserted, or
found when a previous try made it), Meet links still pending are filled
in, cancellations not yet applied to Google are applied; each booking is
retried after 5 s, doubling up to an hour (attempts, nextAttemptAt), and
given up after 24 hours of failures since pendingSince (failed, logged);
three runs at once, alongside the payment endpoint, still make one event
per booking; one summary line; exit 0 when nothing is left, 1 when work
waits, 2 when it could not run.

The state each test starts from is made through payment_hook (Google
failing where a booking must stay unfinished); the backoff is skipped by
setting nextAttemptAt to the past between runs.
"""

import os
import subprocess
import threading
import time
import urllib.parse

import harness
import test_payments as tp
from test_booking_write import CAL, at, iso, mins, on_event, sim_event, sim_events
from test_oauth import sim_fault, sim_google, sim_tokens

def stack():
    return harness.stack


def finish_conference(eid):
    """Google finishes preparing the Meet conference of event eid: read it
    (as the admin) until the simulator stops answering pending."""
    live = [a["token"] for a in sim_tokens()[0] if a.get("status") == "live"]
    if not live:
        raise AssertionError("no live access token in the simulator")
    path = "/calendar/v3/calendars/%s/events/%s" % (urllib.parse.quote(CAL, safe=""), eid)
    for _ in range(100):
        r = harness.request(stack().sim_port, "GET", path,
                            headers={"Authorization": "Bearer " + live[-1]})
        if r.status != 200:
            raise AssertionError("events.get: %r" % r)
        if r.json().get("hangoutLink"):
            return r.json()["hangoutLink"]
    raise AssertionError("the conference never became ready")


class ReconcileBase(tp.PaymentBase):
    def reconcile(self, expect=None, **kw):
        """One run: its CompletedProcess, with the one-line summary checked."""
        p = tp.run_reconcile(**kw)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, "one summary line: %r (stderr %r)" % (p.stdout, p.stderr))
        self.assertTrue(lines[0].strip(), p.stdout)
        if expect is not None:
            self.assertEqual(p.returncode, expect, (p.stdout, p.stderr))
        return p

    def unfinished(self, start, **meta):
        """An approved payment whose class stays in `scheduling`: Google
        fails (until the caller clears the fault). Its booking row."""
        pid = tp.new_payment("approved", tp.class_meta(start, **meta))
        self.delivered(pid)
        bk = self.only_booking(pid)
        self.assertEqual(bk["status"], "scheduling", bk)
        return pid, bk


class ReconcileWork(ReconcileBase):
    def test_reconcile_fills_pending_meet_link(self):
        start = at(9, 10)
        sim_google({"conference_pending_gets": 50})
        pid = tp.new_payment("approved", tp.class_meta(start))
        self.delivered(pid)
        bid = self.only_booking(pid)["id"]
        b = self.assertScheduled(bid, start, pid=pid, meet=False)
        self.assertIsNone(b["meetLink"], "Meet is still being prepared")
        sim_google({"conference_pending_gets": 0})
        # Still pending at Google: the link waits for a later run.
        tp.make_due()
        self.reconcile(expect=1)
        self.assertIsNone(tp.api_booking(bid)["meetLink"])
        self.assertEqual(tp.brow(bid)["status"], "scheduled")
        # Ready at Google: the next run fills it in.
        link = finish_conference("bk" + bid)
        tp.make_due()
        seq = tp.last_seq()
        self.reconcile(expect=0)
        b = self.assertScheduled(bid, start, pid=pid)
        self.assertEqual(b["meetLink"], link)
        self.assertEqual(tp.inserts(seq), [], "the event is not made again")
        self.assertEqual(len(sim_events()), 1)
        # Nothing left: the next run says so.
        self.reconcile(expect=0)
        self.assertEqual(tp.api_booking(bid)["meetLink"], link)

    def test_reconcile_applies_pending_cancellation(self):
        start = at(9, 12)
        pid = tp.new_payment("approved", tp.class_meta(start))
        self.delivered(pid)
        bid = self.only_booking(pid)["id"]
        eid = "bk" + bid
        self.assertScheduled(bid, start, pid=pid)
        sim_fault({"method": "DELETE", "path": r"/events/%s$" % eid, "status": 503,
                   "times": -1})
        tp.set_payment(pid, status="refunded")
        self.delivered(pid)
        row = tp.brow(bid)
        self.assertEqual((row["status"], row["cancelPending"]), ("cancelled", 1), row)
        self.assertEqual(sim_event(eid)["status"], "confirmed", "Google failed the delete")
        # Google still failing: the cancellation waits.
        tp.make_due()
        self.reconcile(expect=1)
        self.assertEqual(tp.brow(bid)["cancelPending"], 1)
        self.assertEqual(sim_event(eid)["status"], "confirmed")
        # Google back: applied.
        tp.clear_faults()
        tp.make_due()
        seq = tp.last_seq()
        self.reconcile(expect=0)
        self.assertEqual(sim_event(eid)["status"], "cancelled")
        dels = on_event(eid, "DELETE", seq)
        self.assertTrue(dels)
        self.assertIn(dels[-1]["status"], (200, 204), dels)
        row = tp.brow(bid)
        self.assertEqual((row["status"], row["cancelPending"]), ("cancelled", 0), row)
        self.assertEqual(tp.live_events(), [])
        self.reconcile(expect=0)

    def test_reconcile_finds_the_event_a_previous_try_made(self):
        start = at(9, 14)
        tp.google_down()
        pid, bk = self.unfinished(start)
        bid = bk["id"]
        # The insert reached Google, but its answer never came back.
        link = "https://meet.google.com/abc-defg-hij"
        stack().sim("POST", "/_sim/calendars/%s/events" % CAL, {
            "id": "bk" + bid, "summary": "Clase de Inglés", "status": "confirmed",
            "transparency": "opaque",
            "start": {"dateTime": iso(start), "timeZone": stack().env.get(
                "TIME_ZONE", "America/Argentina/Buenos_Aires")},
            "end": {"dateTime": iso(start + mins(60)), "timeZone": stack().env.get(
                "TIME_ZONE", "America/Argentina/Buenos_Aires")},
            "attendees": [{"email": "lucia@example.com"}],
            "extendedProperties": {"private": {"bookingId": bid}},
            "hangoutLink": link,
            "conferenceData": {
                "createRequest": {"requestId": "prev-" + bid,
                                  "conferenceSolutionKey": {"type": "hangoutsMeet"},
                                  "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": link}]}})
        tp.clear_faults()
        tp.make_due()
        self.reconcile(expect=0)
        b = self.assertScheduled(bid, start, pid=pid)
        self.assertEqual(b["meetLink"], link)
        self.assertEqual(len(sim_events()), 1, sim_events())


class ReconcileBackoff(ReconcileBase):
    def assertBackoff(self, row):
        """nextAttemptAt after `attempts` failures in a row: 5 s, doubling,
        at most an hour (DATETIME seconds: a second of slack each way)."""
        want = min(3600, 5 * 2 ** (row["attempts"] - 1))
        self.assertIsNotNone(row["nextAttemptIn"], row)
        self.assertTrue(want - 2 <= row["nextAttemptIn"] <= want + 1,
                        "after %d failures the next try should be in %d s, not %d s"
                        % (row["attempts"], want, row["nextAttemptIn"]))

    def test_reconcile_backoff_and_exit_1_while_work_waits(self):
        start = at(10, 10)
        tp.google_down()
        pid, bk = self.unfinished(start)
        bid = bk["id"]
        self.assertEqual(bk["attempts"], 1, bk)
        with self.subTest(step="first failure"):
            self.assertBackoff(bk)
        # Not due yet: left alone, and the run says work waits.
        seq = tp.last_seq()
        self.reconcile(expect=1)
        self.assertEqual(tp.inserts(seq), [], "a booking is not tried before nextAttemptAt")
        self.assertEqual(tp.brow(bid)["attempts"], 1)
        # Due and failing again: the delay doubles.
        for n in (2, 3):
            tp.make_due()
            seq = tp.last_seq()
            self.reconcile(expect=1)
            self.assertTrue(tp.inserts(seq), "a due booking is tried")
            row = tp.brow(bid)
            self.assertEqual((row["status"], row["attempts"]), ("scheduling", n), row)
            self.assertTrue(row["lastError"], row)
            with self.subTest(step="failure %d" % n):
                self.assertBackoff(row)
        # Many failures later: at most an hour.
        stack().sql("UPDATE bookings SET attempts = 14 WHERE id = '%s'" % bid)
        tp.make_due()
        self.reconcile(expect=1)
        row = tp.brow(bid)
        self.assertEqual(row["attempts"], 15)
        with self.subTest(step="capped"):
            self.assertBackoff(row)
        self.assertEqual(sim_events(), [])

    def test_reconcile_gives_up_after_24_hours(self):
        s1, s2 = at(10, 14), at(10, 16)
        tp.google_down()
        p1, old = self.unfinished(s1)
        p2, young = self.unfinished(s2)
        stack().sql("UPDATE bookings SET pendingSince = UTC_TIMESTAMP() - INTERVAL 25 HOUR "
                    "WHERE id = '%s'" % old["id"])
        stack().sql("UPDATE bookings SET pendingSince = UTC_TIMESTAMP() - INTERVAL 23 HOUR "
                    "WHERE id = '%s'" % young["id"])
        tp.make_due()
        # Google still failing: the older one is given up, the younger waits.
        p = self.reconcile(expect=1)
        r1, r2 = tp.brow(old["id"]), tp.brow(young["id"])
        self.assertEqual(r1["status"], "failed", r1)
        self.assertTrue(r1["lastError"], r1)
        self.assertIn(old["id"], p.stdout + p.stderr, "the give-up is logged")
        self.assertEqual(tp.api_booking(old["id"])["status"], "failed")
        self.assertEqual(r2["status"], "scheduling", r2)
        # Past the point too: failed, and nothing is left to do.
        stack().sql("UPDATE bookings SET pendingSince = UTC_TIMESTAMP() - INTERVAL 25 HOUR "
                    "WHERE id = '%s'" % young["id"])
        tp.make_due()
        p = self.reconcile(expect=0)
        self.assertEqual(tp.brow(young["id"])["status"], "failed")
        self.assertIn(young["id"], p.stdout + p.stderr)
        self.assertEqual(sim_events(), [])
        # Given up is final: Google back, nothing happens.
        tp.clear_faults()
        seq = tp.last_seq()
        self.reconcile(expect=0)
        self.assertEqual(tp.inserts(seq), [])
        self.assertEqual([r["status"] for r in tp.booking_rows()], ["failed", "failed"])


class ReconcileConcurrency(ReconcileBase):
    def test_reconcile_three_concurrent_runs_one_event_each(self):
        starts = [at(11, 10), at(11, 12), at(11, 14)]
        tp.google_down()
        made = [self.unfinished(s) for s in starts]
        tp.clear_faults()
        tp.make_due()
        seq = tp.last_seq()
        # Three runs at once, and MercadoPago delivering one payment again.
        procs = [subprocess.Popen([os.path.join(stack().bin_dir, "reconcile")],
                                  env=stack().program_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        replies = []
        threads = [threading.Thread(target=lambda: replies.append(tp.notify(made[0][0])))
                   for _ in range(3)]
        for t in threads:
            t.start()
        outs = [p.communicate(timeout=120) for p in procs]
        for t in threads:
            t.join(120)
        for p, (out, err) in zip(procs, outs):
            self.assertIn(p.returncode, (0, 1), (out, err))
            self.assertEqual(len(out.splitlines()), 1, out)
        self.assertEqual([r["status"] for r in replies], [200] * 3, replies)
        for (pid, bk), s in zip(made, starts):
            self.assertScheduled(bk["id"], s, pid=pid)
        self.assertEqual(len(sim_events()), 3, [e["id"] for e in sim_events()])
        self.assertEqual(len([i for i in tp.inserts(seq) if i["status"] == 200]), 3)
        self.assertEqual(len(tp.booking_rows()), 3)
        # All done: the next run finds nothing.
        self.reconcile(expect=0)


class ReconcileExit(ReconcileBase):
    def test_reconcile_exit_status(self):
        outputs = []
        with self.subTest(case="nothing to do"):
            p = self.reconcile(expect=0)
            outputs.append(p.stdout + p.stderr)
        with self.subTest(case="no DATABASE_URL"):
            e = stack().program_env()
            e.pop("DATABASE_URL")
            p = subprocess.run([os.path.join(stack().bin_dir, "reconcile")], env=e,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            outputs.append(p.stdout + p.stderr)
            self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
            self.assertIn("DATABASE_URL", p.stderr)
        with self.subTest(case="database unreachable"):
            url = urllib.parse.urlsplit(stack().env["DATABASE_URL"])
            query = urllib.parse.urlencode({"socket": "/nonexistent/mysql.sock"})
            bad = urllib.parse.urlunsplit((url.scheme, url.netloc, url.path, query, ""))
            t0 = time.time()
            p = tp.run_reconcile({"DATABASE_URL": bad})
            outputs.append(p.stdout + p.stderr)
            self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
            self.assertLess(time.time() - t0, 60)
            if url.password:
                self.assertNotIn(urllib.parse.unquote(url.password), p.stdout + p.stderr)
        for secret in ("MP_WEBHOOK_SECRET", "MP_ACCESS_TOKEN", "INTERNAL_API_TOKEN",
                       "TOKEN_ENCRYPTION_KEY", "AUTH_GOOGLE_SECRET"):
            for out in outputs:
                self.assertNotIn(stack().env[secret], out, secret)


if __name__ == "__main__":
    import unittest
    unittest.main()
