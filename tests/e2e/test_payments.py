"""payment_hook end to end: POST /api/payments/mercadopago through nginx,
with MercadoPago and Google played by the simulator.

What is checked (DESIGN.md "payment_hook", "Details the clients rely on";
protocols.md §8): the x-signature check on the signed form (forged,
missing, malformed, stale in milliseconds and in ten-digit seconds, and a
replay once its timestamp is old), the unsigned legacy form, other topics
ignored; the payment always read back from MercadoPago (never the body);
the hold named by metadata.booking_id / external_reference, or the class
carried in the metadata; the state machine (pending, approved, rejected,
refunded / cancelled / charged_back) that never moves back; exactly one
booking and one event under 50 concurrent deliveries; 200 once the state is
durable even with Google down (then reconcile finishes it); 5xx at once
when MercadoPago's API fails (one try, nothing stored: MercadoPago sends
it again); 200 for an unknown payment;
failed bookings and payments.lastError for a taken slot or bad metadata.

Each test starts from empty `bookings` and `payments` tables and a reset
simulator, and connects the admin's Google account again.
"""

import datetime
import json
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.parse
import uuid

import harness
from test_booking_write import CAL, EVENTS_RE, HOLDS, at, iso, klass, mins, now, \
    on_event, post, sim_event, sim_events, utc, zone
from test_oauth import clean_up, clear_sim_log, connect, reset_all, sim_fault, sim_log

HOOK = "/api/payments/mercadopago"
MP_GET_RE = r"^/mp/v1/payments/"
JSON_TYPE = "application/json; charset=utf-8"
ACTIVE = ("held", "pending", "scheduling", "scheduled")


def stack():
    return harness.stack


# ---- MercadoPago in the simulator ----

def hook_url():
    return "http://127.0.0.1:%d%s" % (stack().port, HOOK)


def webhook_secret():
    return stack().env["MP_WEBHOOK_SECRET"]


def class_meta(start, minutes=60, **changes):
    """A class in a payment's metadata, as the PHP site writes it (a value
    of None removes the key)."""
    m = {"start": iso(start), "duration_minutes": minutes, "class_type": "individual",
         "participants": 1, "student_email": "lucia@example.com",
         "student_name": "Lucía Gómez"}
    m.update(changes)
    return {k: v for k, v in m.items() if v is not None}


def new_payment(status="approved", metadata=None, **fields):
    """A payment MercadoPago knows; its id (a number)."""
    spec = {"status": status, "metadata": metadata or {}}
    spec.update(fields)
    return stack().sim("POST", "/_sim/mp/payments", spec)["id"]


def set_payment(pid, **fields):
    fields["id"] = pid
    return stack().sim("POST", "/_sim/mp/payments", fields)


def notify(pid, **spec):
    """MercadoPago (the simulator) posts a notification for pid; the
    simulator's report: {"status", "headers", "body", "request"}."""
    spec.update({"url": hook_url(), "payment_id": str(pid)})
    return stack().sim("POST", "/_sim/mp/notify", spec)


def now_ms():
    return int(time.time() * 1000)


def signature(pid, request_id, ts, secret=None):
    q = {"data_id": str(pid), "request_id": request_id, "ts": str(ts)}
    if secret is not None:
        q["secret"] = secret
    return stack().sim("GET", "/_sim/mp/sign?" + urllib.parse.urlencode(q))


def mp_gets(pid=None, since=0):
    """GET /mp/v1/payments/... the programs made (for pid, when given)."""
    path = MP_GET_RE + (re.escape(str(pid)) + "$" if pid is not None else "")
    return sim_log(path, "GET", since)


def last_seq():
    log = sim_log()
    return log[-1]["seq"] if log else 0


def inserts(since=0):
    return sim_log(EVENTS_RE, "POST", since)


def events_of(bid):
    """Every event (cancelled ones too) that names booking bid."""
    return [e for e in sim_events()
            if ((e.get("extendedProperties") or {}).get("private") or {}).get("bookingId") == bid
            or e.get("id") == "bk" + bid]


def live_events():
    return [e for e in sim_events() if e.get("status") != "cancelled"]


# ---- the database ----

B_COLS = ["id", "status", "paymentId", "eventId", "meetLink", "lastError",
          "DATE_FORMAT(startAt, '%Y-%m-%dT%H:%i:%sZ')", "DATE_FORMAT(endAt, '%Y-%m-%dT%H:%i:%sZ')",
          "attempts", "TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), nextAttemptAt)",
          "cancelPending", "DATE_FORMAT(pendingSince, '%Y-%m-%dT%H:%i:%sZ')",
          "holdExpiresAt IS NOT NULL"]
B_NAMES = ["id", "status", "paymentId", "eventId", "meetLink", "lastError", "start", "end",
           "attempts", "nextAttemptIn", "cancelPending", "pendingSince", "hasHold"]


def booking_rows(where="1=1"):
    out = []
    for r in stack().sql("SELECT %s FROM bookings WHERE %s ORDER BY createdAt, id"
                         % (", ".join(B_COLS), where)):
        d = dict(zip(B_NAMES, r))
        for k in ("attempts", "nextAttemptIn", "cancelPending", "hasHold"):
            d[k] = int(d[k]) if d[k] is not None else None
        out.append(d)
    return out


def brow(bid):
    found = booking_rows("id = '%s'" % bid)
    return found[0] if found else None


def bookings_for(pid):
    return booking_rows("paymentId = '%s'" % int(pid))


def payment_rows():
    out = []
    for r in stack().sql("SELECT id, status, bookingId, lastError FROM payments ORDER BY id"):
        out.append(dict(zip(["id", "status", "bookingId", "lastError"], r)))
    return out


def payment_row(pid):
    found = [p for p in payment_rows() if p["id"] == str(pid)]
    return found[0] if found else None


def api_booking(bid):
    r = stack().get("/api/bookings/" + bid, headers=stack().internal())
    if r.status != 200:
        raise AssertionError("GET /api/bookings/%s: %r" % (bid, r))
    return r.json()["booking"]


def hook_log():
    return stack().log("payment_hook.log")


def slots_on(start):
    d = start.astimezone(zone()).date().isoformat()
    r = stack().get_fresh("/api/calendar/slots?date=%s&duration=60" % d)
    if r.status != 200:
        raise AssertionError("slots: %r" % r)
    return [s["start"] for s in r.json()["slots"]]


def run_reconcile(env_extra=None, timeout=120):
    """cgi-bin/reconcile with the programs' environment: the CompletedProcess."""
    e = stack().program_env()
    e.update(env_extra or {})
    return subprocess.run([os.path.join(stack().bin_dir, "reconcile")], env=e,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def make_due(where="1=1"):
    """No waiting for the backoff: every matching booking is due now."""
    stack().sql("UPDATE bookings SET nextAttemptAt = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
                "WHERE nextAttemptAt IS NOT NULL AND %s" % where)


def google_down():
    sim_fault({"method": "POST", "path": EVENTS_RE, "status": 503, "times": -1})


def clear_faults():
    stack().sim("DELETE", "/_sim/faults")


# ---------------------------------------------------------------------------

class PaymentBase(unittest.TestCase):
    def setUp(self):
        reset_all()
        stack().sql("DELETE FROM bookings; DELETE FROM payments")
        connect()
        clear_sim_log()
        self.log_mark = len(hook_log())

    def tearDown(self):
        clean_up()
        stack().sql("DELETE FROM bookings; DELETE FROM payments")

    # -- helpers --

    def fresh(self):
        """Between subtests: no rows, no events, an empty request log, so
        that each subtest's checks see only its own effects."""
        stack().sql("DELETE FROM bookings; DELETE FROM payments")
        for e in sim_events():
            stack().sim("DELETE", "/_sim/calendars/%s/events/%s" % (CAL, e["id"]))
        clear_sim_log()

    def new_log(self):
        return hook_log()[self.log_mark:]

    def assertLogged(self, *needles):
        """A line of payment_hook's log written during this test holds
        every needle (case-insensitive)."""
        lines = self.new_log().splitlines()
        want = [n.lower() for n in needles]
        hits = [ln for ln in lines if all(n in ln.lower() for n in want)]
        self.assertTrue(hits, "no log line with %r in:\n%s" % (needles, "\n".join(lines[-30:])))

    def hold(self, start, **fields):
        r = post(klass(start, **fields), path=HOLDS)
        self.assertEqual(r.status, 201, r)
        b = r.json()["booking"]
        self.assertEqual(b["status"], "held", b)
        return b

    def delivered(self, pid, **spec):
        """A notification MercadoPago sends, answered 200."""
        r = notify(pid, **spec)
        self.assertEqual(r["status"], 200, r)
        return r

    def assertRefused(self, reply, status=401):
        self.assertEqual(reply["status"], status, reply)
        self.assertEqual(reply["headers"].get("content-type"), JSON_TYPE, reply)
        body = json.loads(reply["body"])
        self.assertEqual(set(body), {"error"}, body)
        self.assertRegex(body["error"]["code"], r"^[a-z][a-z0-9_]*$")
        self.assertTrue(body["error"]["message"].strip(), body)
        self.assertNotIn(webhook_secret(), reply["body"])
        self.assertNotIn(stack().env["MP_ACCESS_TOKEN"], reply["body"])
        return body["error"]

    def assertNothingStored(self):
        self.assertEqual(payment_rows(), [])
        self.assertEqual(booking_rows(), [])
        self.assertEqual(inserts(), [])

    def assertScheduled(self, bid, start, minutes=60, pid=None, meet=True):
        """Booking bid is scheduled with its one Google event (and Meet
        link), as the API, the table and the simulator tell."""
        b = api_booking(bid)
        self.assertEqual(b["status"], "scheduled", b)
        self.assertEqual((b["start"], b["end"]), (iso(start), iso(start + mins(minutes))), b)
        self.assertEqual(b["eventId"], "bk" + bid, b)
        self.assertIsNone(b["holdExpiresAt"], b)
        self.assertIsNone(b["lastError"], b)
        if pid is not None:
            self.assertEqual(b["paymentId"], str(pid), b)
        ev = sim_event(b["eventId"])
        self.assertEqual(ev.get("status"), "confirmed", ev)
        self.assertEqual(ev["extendedProperties"]["private"]["bookingId"], bid, ev)
        self.assertEqual(b["htmlLink"], ev.get("htmlLink"))
        if meet:
            self.assertIsNotNone(b["meetLink"], b)
            self.assertRegex(b["meetLink"], r"^https://meet\.google\.com/")
            self.assertEqual(b["meetLink"], ev.get("hangoutLink"), ev)
        self.assertEqual(len(events_of(bid)), 1, events_of(bid))
        return b

    def only_booking(self, pid):
        found = bookings_for(pid)
        self.assertEqual(len(found), 1, found)
        return found[0]


# ---------------------------------------------------------------------------

class PaymentsApproved(PaymentBase):
    def test_payments_approved_hold_becomes_scheduled_with_meet(self):
        start = at(3, 10)
        h = self.hold(start, classType="conversación", participants=2,
                      studentEmail="ana@example.com", studentName="Ana")
        pid = new_payment("approved", {"booking_id": h["id"]}, external_reference=h["id"])
        self.delivered(pid)
        b = self.assertScheduled(h["id"], start, pid=pid)
        self.assertEqual((b["classType"], b["participants"], b["studentEmail"]),
                         ("conversación", 2, "ana@example.com"))
        # The hold became the class: no second booking.
        self.assertEqual([x["id"] for x in booking_rows()], [h["id"]])
        self.assertEqual(self.only_booking(pid)["id"], h["id"])
        p = payment_row(pid)
        self.assertEqual((p["status"], p["bookingId"], p["lastError"]),
                         ("approved", h["id"], None))
        # Read back from MercadoPago with the access token.
        gets = mp_gets(pid)
        self.assertGreaterEqual(len(gets), 1)
        for g in gets:
            self.assertEqual(g["headers"].get("authorization"),
                             "Bearer " + stack().env["MP_ACCESS_TOKEN"])
        ins = inserts()
        self.assertEqual(len([i for i in ins if i["status"] == 200]), 1, ins)
        self.assertEqual(ins[0]["json"]["id"], "bk" + h["id"])
        self.assertEqual(ins[0]["json"]["attendees"][0]["email"], "ana@example.com")
        self.assertEqual([e["id"] for e in live_events()], ["bk" + h["id"]])
        self.assertLogged(str(pid))

    def test_payments_approved_metadata_alone_becomes_scheduled(self):
        start = at(3, 12, 30)
        meta = class_meta(start, 90, class_type="grupal B1", participants=3,
                          student_email="Lucia.Gomez+clase@example.com")
        pid = new_payment("approved", meta)
        self.delivered(pid)
        bk = self.only_booking(pid)
        b = self.assertScheduled(bk["id"], start, 90, pid=pid)
        self.assertEqual((b["classType"], b["participants"], b["studentEmail"], b["studentName"]),
                         ("grupal B1", 3, "Lucia.Gomez+clase@example.com", "Lucía Gómez"))
        self.assertEqual((bk["start"], bk["end"]), (utc(start), utc(start + mins(90))))
        self.assertEqual(len(booking_rows()), 1)
        p = payment_row(pid)
        self.assertEqual((p["status"], p["bookingId"], p["lastError"]),
                         ("approved", bk["id"], None))
        ev = sim_event("bk" + bk["id"])
        self.assertEqual(ev["attendees"][0]["email"], "Lucia.Gomez+clase@example.com")
        self.assertEqual(len(live_events()), 1)
        # The slot is no longer offered.
        self.assertNotIn(iso(start), slots_on(start))

    def test_payments_legacy_form_is_accepted_unsigned(self):
        start = at(3, 17)
        pid = new_payment("approved", class_meta(start))
        r = self.delivered(pid, form="legacy")
        self.assertNotIn("x-signature", {k.lower() for k in r["request"]["headers"]})
        bk = self.only_booking(pid)
        self.assertScheduled(bk["id"], start, pid=pid)
        self.assertGreaterEqual(len(mp_gets(pid)), 1)


class PaymentsStates(PaymentBase):
    def test_payments_sequence_pending_approved_refunded(self):
        start = at(4, 9)
        h = self.hold(start)
        pid = new_payment("pending", {"booking_id": h["id"]}, external_reference=h["id"])
        # pending: the hold becomes a pending booking and keeps the slot.
        self.delivered(pid)
        b = api_booking(h["id"])
        self.assertEqual((b["status"], b["paymentId"], b["eventId"], b["meetLink"]),
                         ("pending", str(pid), None, None), b)
        self.assertIsNone(b["holdExpiresAt"], "a paid slot no longer expires")
        self.assertEqual(payment_row(pid)["status"], "pending")
        self.assertEqual(inserts(), [])
        self.assertEqual(sim_events(), [])
        taken = post(klass(start, studentEmail="otro@example.com"))
        self.assertEqual(taken.status, 409, taken)
        self.assertEqual(taken.json()["error"]["code"], "slot_unavailable")
        self.assertNotIn(iso(start), slots_on(start))
        # in_process: still pending.
        set_payment(pid, status="in_process")
        self.delivered(pid)
        self.assertEqual(api_booking(h["id"])["status"], "pending")
        self.assertEqual(sim_events(), [])
        # approved: scheduled, with its Meet link.
        set_payment(pid, status="approved")
        self.delivered(pid)
        self.assertScheduled(h["id"], start, pid=pid)
        self.assertEqual(payment_row(pid)["status"], "approved")
        # refunded: the class cancelled and its event deleted.
        seq = last_seq()
        set_payment(pid, status="refunded")
        self.delivered(pid)
        b = api_booking(h["id"])
        self.assertEqual(b["status"], "cancelled", b)
        self.assertEqual(sim_event("bk" + h["id"])["status"], "cancelled")
        self.assertTrue(on_event("bk" + h["id"], "DELETE", seq))
        self.assertEqual(brow(h["id"])["cancelPending"], 0)
        self.assertEqual(payment_row(pid)["status"], "refunded")
        self.assertEqual(live_events(), [])
        self.assertEqual(len(booking_rows()), 1)

    def test_payments_refund_cancel_chargeback_delete_the_event(self):
        for i, status in enumerate(("refunded", "cancelled", "charged_back")):
            with self.subTest(status=status):
                start = at(4, 11 + 2 * i)
                pid = new_payment("approved", class_meta(start))
                self.delivered(pid)
                bid = self.only_booking(pid)["id"]
                self.assertScheduled(bid, start, pid=pid)
                seq = last_seq()
                set_payment(pid, status=status)
                self.delivered(pid)
                self.assertEqual(api_booking(bid)["status"], "cancelled")
                ev = sim_event("bk" + bid)
                self.assertEqual(ev["status"], "cancelled", ev)
                dels = on_event("bk" + bid, "DELETE", seq)
                self.assertTrue(dels, "the event is deleted in Google")
                self.assertEqual(brow(bid)["cancelPending"], 0)
                self.assertEqual(payment_row(pid)["status"], status)
                # Told again: harmless.
                self.delivered(pid)
                self.assertEqual(api_booking(bid)["status"], "cancelled")
                self.assertEqual(len(events_of(bid)), 1)
        self.assertEqual(live_events(), [])

    def test_payments_rejected_books_nothing(self):
        # Metadata alone, rejected at once: no class, the slot stays free.
        with self.subTest(case="metadata alone"):
            s1 = at(4, 15)
            p1 = new_payment("rejected", class_meta(s1))
            self.delivered(p1)
            self.assertEqual(payment_row(p1)["status"], "rejected")
            self.assertEqual([b["status"] for b in bookings_for(p1) if b["status"] in ACTIVE],
                             [], "a rejected payment books nothing: %r" % bookings_for(p1))
            self.assertIn(iso(s1), slots_on(s1), "a rejected payment keeps no slot")
        # A hold paid with a rejected card: the hold is not made a booking.
        with self.subTest(case="hold"):
            s2 = at(4, 17)
            h = self.hold(s2)
            p2 = new_payment("rejected", {"booking_id": h["id"]}, external_reference=h["id"])
            self.delivered(p2)
            hr = brow(h["id"])
            self.assertIn(hr["status"], ("held", "failed", "cancelled"),
                          "a rejected payment must not turn the hold into a booking: %r" % hr)
        # pending, then rejected: the pending booking becomes failed.
        with self.subTest(case="pending, then rejected"):
            s3 = at(4, 19)
            p3 = new_payment("pending", class_meta(s3))
            self.delivered(p3)
            bid = self.only_booking(p3)["id"]
            self.assertEqual(brow(bid)["status"], "pending")
            set_payment(p3, status="rejected")
            self.delivered(p3)
            r3 = brow(bid)
            self.assertEqual(r3["status"], "failed", r3)
            self.assertTrue(r3["lastError"], r3)
            self.assertIn(iso(s3), slots_on(s3))
        self.assertEqual(inserts(), [])
        self.assertEqual(sim_events(), [])

    def test_payments_out_of_order_never_moves_back(self):
        start = at(5, 10)
        pid = new_payment("approved", class_meta(start))
        self.delivered(pid)
        bid = self.only_booking(pid)["id"]
        first = self.assertScheduled(bid, start, pid=pid)
        seq = last_seq()
        # A late "pending" (and "in_process") read back after the approval.
        for late in ("pending", "in_process"):
            with self.subTest(late=late):
                set_payment(pid, status=late)
                self.delivered(pid)
                b = api_booking(bid)
                self.assertEqual((b["status"], b["eventId"], b["meetLink"]),
                                 ("scheduled", first["eventId"], first["meetLink"]), b)
        # The same approval again: nothing new.
        set_payment(pid, status="approved")
        self.delivered(pid)
        self.assertEqual(api_booking(bid)["status"], "scheduled")
        self.assertEqual(inserts(seq), [])
        self.assertEqual(sim_log(r"^/calendar/v3/.*/events/", "DELETE", seq), [])
        self.assertEqual(len(events_of(bid)), 1)
        self.assertEqual(len(booking_rows()), 1)
        # Refunded, then an approval arriving late: stays cancelled.
        set_payment(pid, status="refunded")
        self.delivered(pid)
        self.assertEqual(api_booking(bid)["status"], "cancelled")
        seq = last_seq()
        set_payment(pid, status="approved")
        self.delivered(pid)
        self.assertEqual(api_booking(bid)["status"], "cancelled")
        self.assertEqual(inserts(seq), [])
        self.assertEqual(live_events(), [])
        self.assertEqual(len(booking_rows()), 1)


class PaymentsSignature(PaymentBase):
    def variants(self, pid):
        rid = str(uuid.uuid4())
        ts = now_ms()
        good = signature(pid, rid, ts)["v1"]
        other = signature(int(pid) + 1, rid, ts)["header"]
        return [
            ("forged with another secret", {"secret": "not-the-webhook-secret",
                                            "request_id": rid, "ts": ts}),
            ("missing", {"signature": None, "request_id": rid, "ts": ts}),
            ("empty", {"signature": "", "request_id": rid, "ts": ts}),
            ("garbage", {"signature": "garbage", "request_id": rid, "ts": ts}),
            ("ts not digits", {"signature": "ts=abc,v1=" + good, "request_id": rid}),
            ("no ts", {"signature": "v1=" + good, "request_id": rid}),
            ("no v1", {"signature": "ts=%d" % ts, "request_id": rid}),
            ("short v1", {"signature": "ts=%d,v1=%s" % (ts, good[:-2]), "request_id": rid}),
            ("zero v1", {"signature": "ts=%d,v1=%s" % (ts, "0" * 64), "request_id": rid}),
            ("another data.id's", {"signature": other, "request_id": rid, "ts": ts}),
            ("another request id", {"signature": "ts=%d,v1=%s" % (ts, good),
                                    "request_id": str(uuid.uuid4())}),
            ("another ts", {"signature": "ts=%d,v1=%s" % (ts + 1, good), "request_id": rid}),
        ]

    def test_payments_forged_missing_malformed_signatures_are_401(self):
        start = at(5, 12)
        pid = new_payment("approved", class_meta(start))
        for name, spec in self.variants(pid):
            with self.subTest(signature=name):
                self.fresh()
                self.assertRefused(notify(pid, **spec))
                self.assertEqual(mp_gets(), [], "nothing is fetched before the check")
                self.assertNothingStored()
        self.assertLogged("signature")
        # The same notification correctly signed goes through.
        self.fresh()
        self.delivered(pid)
        self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)

    def test_payments_stale_signatures_are_401(self):
        start = at(5, 14)
        pid = new_payment("approved", class_meta(start))
        old = now_ms() - 10 * 60 * 1000
        for name, ts in (("milliseconds", old), ("ten-digit seconds", old // 1000)):
            with self.subTest(ts=name):
                self.fresh()
                self.assertRefused(notify(pid, ts=ts))
                self.assertEqual(mp_gets(), [])
                self.assertNothingStored()
        # A current ten-digit timestamp is read as seconds, and accepted.
        self.fresh()
        self.delivered(pid, ts=int(time.time()))
        self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)

    def test_payments_replay_of_old_notification(self):
        start = at(5, 16)
        pid = new_payment("approved", class_meta(start))
        rid = str(uuid.uuid4())
        ts = now_ms()
        first = self.delivered(pid, ts=ts, request_id=rid)
        bid = self.only_booking(pid)["id"]
        self.assertScheduled(bid, start, pid=pid)
        # The very same request, replayed once its timestamp is older than
        # the tolerance: payment_hook (as plain CGI) with a tolerance of 2 s,
        # after at least 3 s, so no test waits five minutes.
        wait = ts / 1000.0 + 3 - time.time()
        if wait > 0:
            time.sleep(wait)
        seq = last_seq()
        from test_oauth import cgi_finish, cgi_spawn
        status, headers, body, _ = cgi_finish(cgi_spawn(
            "payment_hook", "POST",
            "/api/payments/mercadopago?data.id=%s&type=payment" % pid,
            headers={"X-Signature": first["request"]["headers"]["x-signature"],
                     "X-Request-Id": rid},
            env_extra={"MP_SIGNATURE_TOLERANCE_S": "2"}))
        self.assertRefused({"status": status, "headers": headers,
                            "body": body.decode()})
        self.assertIn("timestamp is too old", body.decode())
        self.assertEqual(mp_gets(since=seq), [])
        # Legacy replays are harmless: no second booking or event.
        for _ in range(2):
            self.delivered(pid, form="legacy")
        self.assertGreaterEqual(len(mp_gets(pid, seq)), 2)
        self.assertEqual(len(booking_rows()), 1)
        self.assertEqual(len(payment_rows()), 1)
        self.assertScheduled(bid, start, pid=pid)
        self.assertEqual(inserts(seq), [])

    def test_payments_body_is_never_trusted(self):
        s1, s2 = at(6, 10), at(6, 12)
        p = new_payment("pending", class_meta(s1))
        q = new_payment("approved", class_meta(s2, student_email="otro@example.com"))
        lie = {"action": "payment.updated", "api_version": "v1", "type": "payment",
               "data": {"id": str(q)}, "id": str(q), "status": "approved",
               "live_mode": True, "user_id": 724484980}
        self.delivered(p, body=lie)
        self.delivered(p, form="legacy", body={"resource": str(q), "topic": "payment",
                                               "id": str(q), "status": "approved"})
        self.assertGreaterEqual(len(mp_gets(p)), 2)
        self.assertEqual(mp_gets(q), [], "the body's id is not fetched")
        bk = self.only_booking(p)
        self.assertEqual(bk["status"], "pending", bk)
        self.assertEqual(bookings_for(q), [])
        self.assertEqual([x["id"] for x in payment_rows()], [str(p)])
        self.assertEqual(payment_row(p)["status"], "pending")
        self.assertEqual(inserts(), [])
        self.assertEqual(sim_events(), [])

    def test_payments_other_topics_are_ignored(self):
        start = at(6, 14)
        pid = new_payment("approved", class_meta(start))
        for spec in ({"topic": "merchant_order"}, {"topic": "order"},
                     {"form": "legacy", "topic": "merchant_order"},
                     {"form": "legacy", "topic": "chargebacks"}):
            with self.subTest(**spec):
                r = self.delivered(pid, **spec)
                self.assertIn(("type" if spec.get("form") != "legacy" else "topic") + "="
                              + spec["topic"], r["request"]["url"])
        self.assertEqual(mp_gets(), [])
        self.assertNothingStored()

    def test_payments_unknown_payment_is_200_and_logged(self):
        for form in ("signed", "legacy"):
            with self.subTest(form=form):
                pid = 987654321 if form == "signed" else 987654322
                self.delivered(pid, form=form)
                gets = mp_gets(pid)
                self.assertEqual([g["status"] for g in gets][-1:], [404], gets)
                self.assertLogged(str(pid))
        self.assertNothingStored()


class PaymentsConcurrency(PaymentBase):
    def test_payments_fifty_concurrent_duplicates_one_booking_one_event(self):
        start = at(6, 16)
        pid = new_payment("approved", class_meta(start))
        rid = str(uuid.uuid4())
        sig = signature(pid, rid, now_ms())["header"]
        body = json.dumps({"action": "payment.updated", "api_version": "v1",
                           "data": {"id": str(pid)}, "date_created": utc(now()),
                           "id": "12345678901", "live_mode": False, "type": "payment",
                           "user_id": 724484980}).encode()
        headers = {"Content-Type": "application/json", "x-request-id": rid,
                   "x-signature": sig, "X-Retry": "0", "User-Agent": "restclient-node/4.15.3"}
        path = HOOK + "?" + urllib.parse.urlencode([("data.id", str(pid)), ("type", "payment")])
        n = 50
        barrier = threading.Barrier(n)
        replies = [None] * n

        def deliver(i):
            try:
                barrier.wait(30)
                replies[i] = stack().call("POST", path, body=body, headers=headers,
                                          timeout=120)
            except Exception as exc:  # reported below
                replies[i] = exc

        threads = [threading.Thread(target=deliver, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        statuses = [getattr(r, "status", r) for r in replies]
        self.assertEqual(statuses, [200] * n, statuses)
        found = bookings_for(pid)
        self.assertEqual(len(found), 1, found)
        self.assertEqual(len(booking_rows()), 1)
        self.assertEqual([p["id"] for p in payment_rows()], [str(pid)])
        bid = found[0]["id"]
        self.assertScheduled(bid, start, pid=pid)
        self.assertEqual(len(sim_events()), 1, sim_events())
        self.assertEqual(len([i for i in inserts() if i["status"] == 200]), 1)


class PaymentsFailures(PaymentBase):
    def test_payments_google_down_then_reconcile(self):
        start = at(7, 10)
        google_down()
        pid = new_payment("approved", class_meta(start))
        self.delivered(pid)
        bk = self.only_booking(pid)
        self.assertEqual(bk["status"], "scheduling", bk)
        self.assertIsNone(bk["eventId"])
        self.assertTrue(bk["lastError"], bk)
        self.assertIsNotNone(bk["pendingSince"], bk)
        self.assertGreaterEqual(bk["attempts"], 1)
        self.assertEqual(payment_row(pid)["status"], "approved")
        self.assertEqual(payment_row(pid)["bookingId"], bk["id"])
        self.assertTrue(inserts(), "Google was tried")
        self.assertEqual(sim_events(), [])
        self.assertNotIn(iso(start), slots_on(start), "the slot is kept meanwhile")
        # Google back: reconcile finishes it.
        clear_faults()
        make_due()
        p = run_reconcile()
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertEqual(len(p.stdout.strip().splitlines()), 1, p.stdout)
        self.assertScheduled(bk["id"], start, pid=pid)
        self.assertEqual(len(sim_events()), 1)
        # A late redelivery changes nothing.
        self.delivered(pid)
        self.assertEqual(len(sim_events()), 1)
        self.assertEqual(len(booking_rows()), 1)

    def test_payments_mercadopago_api_failing_is_5xx_then_retry(self):
        start = at(7, 12)
        pid = new_payment("approved", class_meta(start))
        sim_fault({"method": "GET", "path": MP_GET_RE, "status": 500, "times": -1})
        r = notify(pid)
        self.assertIn(r["status"], (502, 503), r)
        self.assertRefused(r, r["status"])
        self.assertEqual(len(mp_gets(pid)), 1,
                         "one try: MercadoPago sends it again, no one waits on a retry")
        self.assertNothingStored()
        # MercadoPago sends it again once its API is back.
        clear_faults()
        self.delivered(pid)
        self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)

    def test_payments_mercadopago_transient_failures_are_delivered_again(self):
        for i, fault in enumerate(({"status": 500}, {"drop": True})):
            with self.subTest(fault=fault):
                start = at(7, 14 + 2 * i)
                pid = new_payment("approved", class_meta(start))
                rule = {"method": "GET", "path": MP_GET_RE + str(pid) + "$", "times": 1}
                rule.update(fault)
                sim_fault(rule)
                r = notify(pid)
                # A kept-alive connection dropped without an answer is
                # opened again at once by libcurl itself (no sleep): then
                # that one delivery is enough.
                if not (fault.get("drop") and r["status"] == 200):
                    self.assertEqual(r["status"], 503, r)
                    self.assertNothingStored()
                    # MercadoPago's next delivery finds its API answering.
                    self.delivered(pid)
                self.assertEqual(len(mp_gets(pid)), 2)
                self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)

    def test_payments_expired_hold_still_free_is_booked(self):
        start = at(8, 10)
        h = self.hold(start)
        stack().sql("UPDATE bookings SET holdExpiresAt = UTC_TIMESTAMP() - INTERVAL 10 MINUTE "
                    "WHERE id = '%s'" % h["id"])
        # Named by external_reference alone.
        pid = new_payment("approved", {}, external_reference=h["id"])
        self.delivered(pid)
        self.assertScheduled(h["id"], start, pid=pid)
        self.assertEqual([b["id"] for b in booking_rows()], [h["id"]])
        self.assertEqual(payment_row(pid)["bookingId"], h["id"])

    def test_payments_expired_hold_taken_meanwhile_fails(self):
        start = at(8, 12)
        h = self.hold(start)
        stack().sql("UPDATE bookings SET holdExpiresAt = UTC_TIMESTAMP() - INTERVAL 2 MINUTE "
                    "WHERE id = '%s'" % h["id"])
        other = post(klass(start, studentEmail="otro@example.com"))
        self.assertEqual(other.status, 201, other)
        oid = other.json()["booking"]["id"]
        pid = new_payment("approved", {"booking_id": h["id"]}, external_reference=h["id"])
        self.delivered(pid)
        hr = brow(h["id"])
        self.assertEqual(hr["status"], "failed", hr)
        self.assertTrue(hr["lastError"], hr)
        self.assertIsNone(hr["eventId"])
        self.assertEqual(events_of(h["id"]), [])
        self.assertEqual(api_booking(h["id"])["lastError"], hr["lastError"])
        # The other class is untouched, and the only active one.
        self.assertScheduled(oid, start)
        self.assertEqual([b["id"] for b in booking_rows() if b["status"] in ACTIVE], [oid])
        self.assertEqual(len(sim_events()), 1)
        self.assertLogged(str(pid))

    def test_payments_bad_metadata_is_recorded_not_scheduled(self):
        past = (now() - datetime.timedelta(days=2)).astimezone(zone()).replace(
            hour=10, minute=0, second=0, microsecond=0)
        cases = [
            ("missing student_email", class_meta(at(8, 14), student_email=None), {}, "email"),
            ("start in the past", class_meta(past), {}, "start"),
            ("bad duration", class_meta(at(8, 16), duration_minutes=5), {}, "duration"),
            ("no class and no booking", {}, {}, None),
            ("names a booking that does not exist", {"booking_id": "0" * 32},
             {"external_reference": "0" * 32}, None),
        ]
        for name, meta, extra, word in cases:
            with self.subTest(case=name):
                pid = new_payment("approved", meta, **extra)
                self.delivered(pid)
                self.assertEqual([b for b in bookings_for(pid) if b["status"] in ACTIVE], [])
                p = payment_row(pid)
                self.assertIsNotNone(p, "the payment is recorded")
                self.assertEqual(p["status"], "approved")
                self.assertTrue(p["lastError"], p)
                if word:
                    self.assertIn(word, p["lastError"].lower().replace("_", ""), p)
                self.assertLogged(str(pid))
        self.assertEqual(inserts(), [])
        self.assertEqual(sim_events(), [])


if __name__ == "__main__":
    unittest.main()


# ---------------------------------------------------------------------------
# GET /api/payments/{id}: what became of a payment (the PHP return page)
# ---------------------------------------------------------------------------

PAYMENT_KEYS = {"id", "status", "bookingId", "bookingStatus", "lastError", "updatedAt"}
ISO_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"


def get_payment(pid, auth=True):
    return stack().get("/api/payments/%s" % pid,
                       headers=stack().internal() if auth else None)


class PaymentsRead(PaymentBase):
    def payment(self, pid):
        r = get_payment(pid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), JSON_TYPE)
        body = r.json()
        self.assertEqual(set(body), {"payment"}, body)
        p = body["payment"]
        self.assertEqual(set(p), PAYMENT_KEYS, p)
        self.assertEqual(p["id"], str(pid))
        self.assertRegex(p["updatedAt"], ISO_RE)
        return p

    def test_payments_read_a_paid_hold_names_its_class(self):
        start = at(9, 10)
        h = self.hold(start)
        pid = new_payment("approved", {"booking_id": h["id"]}, external_reference=h["id"])
        self.delivered(pid)
        p = self.payment(pid)
        self.assertEqual((p["status"], p["bookingId"], p["bookingStatus"], p["lastError"]),
                         ("approved", h["id"], "scheduled", None))
        # The class itself, with its Meet link, is one call away.
        b = api_booking(h["id"])
        self.assertIsNotNone(b["meetLink"], b)

    def test_payments_read_pending_then_refunded(self):
        start = at(9, 12)
        pid = new_payment("pending", class_meta(start))
        self.delivered(pid)
        p = self.payment(pid)
        self.assertEqual((p["status"], p["bookingStatus"]), ("pending", "pending"))
        set_payment(pid, status="refunded")
        self.delivered(pid)
        p = self.payment(pid)
        self.assertEqual((p["status"], p["bookingStatus"]), ("refunded", "cancelled"))

    def test_payments_read_says_why_no_class_was_made(self):
        # Unusable metadata: the payment's own reason.
        pid = new_payment("approved", class_meta(at(9, 14), student_email=None))
        self.delivered(pid)
        p = self.payment(pid)
        self.assertEqual((p["bookingId"], p["bookingStatus"]), (None, None))
        self.assertIn("email", p["lastError"].lower())
        # The slot taken meanwhile: its booking's reason.
        start = at(9, 16)
        self.assertEqual(post(klass(start)).status, 201)
        pid2 = new_payment("approved", class_meta(start, student_email="otra@example.com"))
        self.delivered(pid2)
        p2 = self.payment(pid2)
        self.assertEqual(p2["bookingStatus"], "failed", p2)
        self.assertIn("taken", p2["lastError"], p2)

    def test_payments_read_unknown_malformed_and_unauthorized(self):
        for pid in ("999999999", "abc", "x" * 65, "12%2034", "a-b"):
            with self.subTest(pid=pid):
                r = get_payment(pid)
                self.assertEqual(r.status, 404, r)
                self.assertEqual(r.json()["error"]["code"], "payment_not_found")
        pid = new_payment("approved", class_meta(at(9, 18)))
        self.delivered(pid)
        r = get_payment(pid, auth=False)
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(str(pid).encode(), r.body)
        r = stack().get("/api/payments/%s" % pid, headers={"Authorization": "Bearer nope"})
        self.assertEqual(r.status, 401, r)
        # The notification path is not a payment id.
        r = get_payment("mercadopago")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("Allow"), "POST")
