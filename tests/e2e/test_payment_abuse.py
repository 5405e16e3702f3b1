"""payment_hook against a bad outsider and a bad upstream, end to end
through nginx, MercadoPago and Google played by the simulator (which
counts every call made to it).

What is checked (docs/API.md "POST /api/payments/mercadopago"):
- the unsigned legacy form stays cheap: a payment id is digits only
  (anything else is 400 and MercadoPago is not called); an id MercadoPago
  answered 404 for is not asked about again for a while; the payment is
  read once, with no retry sleeping in the request (a failure is 503 at
  once: MercadoPago delivers again); and a process spends a bounded number
  of MercadoPago calls on unsigned notifications (beyond it, 429 with
  Retry-After and no call). The signed form is not limited by any of it.
- poison payments MercadoPago would deliver forever are recorded, with
  their reason, and answered 200: an amount DECIMAL(12,2) cannot hold,
  JSON nested too deep or not valid UTF-8.
- a class carried in a payment's metadata (or an expired hold) is checked
  against Google's busy times too: a busy slot makes the booking failed.
- a pending payment does not keep its slot forever: reconcile releases it
  after MercadoPago's date_of_expiration (or a bound when there is none),
  and a later approval books it when the slot is still free.
"""

import base64
import datetime
import json
import os
import re
import time

import harness
import test_payments as tp
from test_booking_write import at, busy_event, iso, klass, mins, now, post, seed, \
    sim_events
from test_oauth import sim_fault

HOOK = tp.HOOK
JSON_TYPE = tp.JSON_TYPE
EVENTS_LIST_RE = r"^/calendar/v3/calendars/[^/]+/events$"
LIMIT_H = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "src", "core", "limit.h")


def stack():
    return harness.stack


def limit(name):
    """A constant of src/core/limit.h, so the test follows the source."""
    with open(LIMIT_H) as f:
        m = re.search(r"^#define\s+%s\s+\(?(\d+)" % name, f.read(), re.M)
    if m is None:
        raise AssertionError("%s is not in limit.h" % name)
    return int(m.group(1))


def processes():
    return len(stack().pids("payment_hook"))


def legacy(pid, topic="payment"):
    """An unsigned legacy notification sent straight to nginx (the reply
    is checked against docs/openapi.yaml)."""
    return stack().call("POST", "%s?topic=%s&id=%s" % (HOOK, topic, pid),
                        body=json.dumps({"resource": str(pid), "topic": topic}),
                        headers={"Content-Type": "application/json"})


def signed(data_id):
    """A correctly signed notification for data_id, whatever it holds, sent
    straight to nginx (the reply checked against docs/openapi.yaml). The
    tests whose point is not the unsigned form use it: it spends none of
    a process's allowance for unsigned notifications."""
    rid = "abuse-" + str(time.time())
    ts = tp.now_ms()
    sig = tp.signature(data_id, rid, ts)["header"]
    return stack().call("POST", "%s?data.id=%s&type=payment" % (HOOK, data_id),
                        body="{}", headers={"Content-Type": "application/json",
                                            "x-signature": sig, "x-request-id": rid})


def mp_calls(since=0):
    return tp.sim_log(tp.MP_GET_RE, "GET", since)


def history(bid):
    return stack().sql("SELECT COALESCE(fromStatus, '-'), toStatus, reason FROM "
                       "booking_history WHERE bookingId = '%s' ORDER BY id" % bid)


def mp_time(dt):
    """A time as MercadoPago writes it: milliseconds and -04:00."""
    t = dt.astimezone(datetime.timezone(datetime.timedelta(hours=-4)))
    return t.strftime("%Y-%m-%dT%H:%M:%S.000-04:00")


def nested(depth):
    v = "deep"
    for _ in range(depth):
        v = {"a": v}
    return v


class AbuseBase(tp.PaymentBase):
    def ack(self, reply, result=None):
        """A 200 acknowledgement; its body."""
        self.assertEqual(reply.status, 200, reply)
        body = reply.json()
        if result is not None:
            self.assertEqual(body["result"], result, body)
        return body

    def no_secrets_logged(self):
        log = self.new_log()
        for name in ("MP_ACCESS_TOKEN", "MP_WEBHOOK_SECRET", "INTERNAL_API_TOKEN"):
            self.assertNotIn(stack().env[name], log, name)

    def read_payment(self, pid):
        r = tp.get_payment(pid)
        self.assertEqual(r.status, 200, r)
        return r.json()["payment"]


# ---------------------------------------------------------------------------
# 1. The unsigned legacy form stays cheap
# ---------------------------------------------------------------------------

class UnsignedIsCheap(AbuseBase):
    def test_abuse_payment_ids_are_digits_only(self):
        for bad in ("abc", "12a", "ABC123", "0x1F", "-5", "1.5", "1e9", "0", "0123",
                    "1" * 21, "%E2%91%A0", "12%2034"):
            with self.subTest(id=bad):
                r = legacy(bad)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["code"], "invalid_query")
                self.assertIn("digits", r.json()["error"]["message"])
        # The signed form holds MercadoPago's payment ids too.
        for bad in ("abc", "12a"):
            with self.subTest(signed=bad):
                r = signed(bad)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["code"], "invalid_query")
        self.assertEqual(mp_calls(), [], "MercadoPago is never asked about a malformed id")
        self.assertNothingStored()
        # The longest id MercadoPago could write is still taken.
        self.ack(legacy("9" * 20), "ignored: unknown payment")
        self.assertEqual(len(mp_calls()), 1)

    def test_abuse_unknown_id_is_not_asked_again(self):
        pid = 4200000001
        ttl = limit("LIMIT_MP_UNKNOWN_TTL_S")
        ignored, later = 0, 0
        for _ in range(8):
            r = legacy(pid)
            if r.status == 200:
                self.ack(r, "ignored: unknown payment")
                ignored += 1
            else:
                # Asked a moment ago: not read again, nor dropped as
                # unknown unread (MercadoPago sends it again later).
                self.assertEqual(r.status, 429, r)
                self.assertEqual(r.json()["error"]["code"], "too_many_notifications")
                self.assertIn("did not know this payment", r.json()["error"]["message"])
                self.assertRegex(r.header("Retry-After") or "", r"^[1-9][0-9]*$", r)
                self.assertLessEqual(int(r.header("Retry-After")), ttl)
                later += 1
        calls = tp.mp_gets(pid)
        self.assertEqual(len(calls), ignored)
        self.assertLessEqual(len(calls), processes(),
                             "at most one call per process for an id MercadoPago "
                             "does not know: %d calls" % len(calls))
        self.assertGreaterEqual(later, 8 - processes())
        self.assertEqual([c["status"] for c in calls], [404] * len(calls))
        self.assertNothingStored()
        # The signed form is authenticated: it always reads, and books.
        start = at(10, 10)
        tp.set_payment(pid, status="approved", metadata=tp.class_meta(start))
        self.delivered(pid)
        self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)
        self.assertEqual(len(tp.mp_gets(pid)), len(calls) + 1)

    def test_abuse_a_failing_mercadopago_is_answered_at_once(self):
        # (name, fault, most calls): a connection dropped without an
        # answer is opened again once, at once, by libcurl itself when it
        # was a kept-alive one: no sleep either way.
        faults = [("500", {"status": 500}, 1),
                  ("429 with Retry-After", {"status": 429, "headers": {"Retry-After": "30"}}, 1),
                  ("dropped", {"drop": True}, 2)]
        for i, (name, fault, most) in enumerate(faults):
            with self.subTest(fault=name):
                self.fresh()
                tp.clear_faults()
                start = at(10, 12 + i)
                pid = tp.new_payment("approved", tp.class_meta(start))
                rule = {"method": "GET", "path": tp.MP_GET_RE, "times": -1}
                rule.update(fault)
                sim_fault(rule)
                for form in ("legacy", "signed"):
                    seq = tp.last_seq()
                    t0 = time.monotonic()
                    r = legacy(pid) if form == "legacy" else tp.notify(pid)
                    took = time.monotonic() - t0
                    status = r.status if form == "legacy" else r["status"]
                    self.assertIn(status, (502, 503), r)
                    self.assertIn(len(mp_calls(seq)), range(1, most + 1),
                                  "%s form: one try, no retry in the request" % form)
                    self.assertLess(took, 2.0, "%s form: no sleep in the request" % form)
                self.assertNothingStored()
                # MercadoPago delivers again once its API answers.
                tp.clear_faults()
                self.ack(legacy(pid), "scheduling")
                self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)

    def test_abuse_unsigned_calls_are_bounded_per_process(self):
        burst = limit("LIMIT_MP_UNSIGNED_BURST")
        refill_ms = limit("LIMIT_MP_UNSIGNED_REFILL_MS")
        sent = 4 * burst * processes()
        limited = []
        t0 = time.monotonic()
        try:
            for i in range(sent):
                r = legacy(4300000000 + i)
                if r.status == 429:
                    self.assertEqual(r.json()["error"]["code"], "too_many_notifications", r)
                    self.assertRegex(r.header("Retry-After") or "", r"^[1-9][0-9]*$", r)
                    self.assertLessEqual(int(r.header("Retry-After")), 60)
                    limited.append(r)
                else:
                    self.ack(r, "ignored: unknown payment")
            took = time.monotonic() - t0
            calls = mp_calls()
            allowance = processes() * (burst + 1 + int(took * 1000 / refill_ms))
            self.assertLessEqual(len(calls), allowance,
                                 "%d MercadoPago calls for %d unsigned notifications in "
                                 "%.1f s" % (len(calls), sent, took))
            self.assertEqual(len(calls) + len(limited), sent,
                             "a limited notification costs no call")
            self.assertTrue(limited)
            # The signed form is not limited: MercadoPago itself still gets through.
            start = at(10, 16)
            pid = tp.new_payment("approved", tp.class_meta(start))
            for _ in range(2):
                self.delivered(pid)
            self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)
            self.assertEqual([p["id"] for p in tp.payment_rows()], [str(pid)])
        finally:
            # The next tests find every bucket full again.
            time.sleep(burst * refill_ms / 1000.0 + 1)


# ---------------------------------------------------------------------------
# 2. Poison payments are recorded and answered 200
# ---------------------------------------------------------------------------

class PoisonPayments(AbuseBase):
    def test_abuse_amount_beyond_decimal_12_2_is_recorded_failed(self):
        for i, amount in enumerate((1e13, -1e13, 9999999999.999, 1e300)):
            with self.subTest(amount=amount):
                self.fresh()
                start = at(11, 10 + i)
                pid = tp.new_payment("approved", tp.class_meta(start),
                                     transaction_amount=amount)
                for _ in range(2):  # and again: the same answer
                    self.ack(signed(pid), "failed")
                p = tp.payment_row(pid)
                self.assertEqual((p["status"], p["bookingId"]), ("approved", None), p)
                self.assertIn("amount", p["lastError"], p)
                self.assertEqual(stack().sql("SELECT amount FROM payments WHERE id = '%s'"
                                             % pid), [[None]])
                api = self.read_payment(pid)
                self.assertEqual(api["lastError"], p["lastError"])
                self.assertEqual(tp.booking_rows(), [])
                self.assertEqual(tp.inserts(), [])
                self.assertLogged(str(pid), "amount")
        # The largest amount the column holds is an ordinary payment.
        self.fresh()
        start = at(11, 16)
        pid = tp.new_payment("approved", tp.class_meta(start),
                             transaction_amount=9999999999.99)
        self.ack(signed(pid), "scheduling")
        self.assertEqual(stack().sql("SELECT amount FROM payments WHERE id = '%s'" % pid),
                         [["9999999999.99"]])
        self.no_secrets_logged()

    def test_abuse_unreadable_payment_is_recorded_with_its_reason(self):
        start = at(11, 18)
        cases = [
            ("nested too deep", None, "deep"),
            ("not UTF-8", b'{"id": %d, "status": "approved", "metadata": '
                          b'{"student_name": "Luc\xeda"}}', "utf-8"),
            ("a lone surrogate", b'{"id": %d, "status": "approved", "metadata": '
                                 b'{"student_name": "\\ud800"}}', "json"),
            ("not JSON", b'{"id": %d, "status": "approved",', "json"),
            ("not an object", b'[%d]', "object"),
        ]
        for name, raw, word in cases:
            with self.subTest(case=name):
                self.fresh()
                meta = tp.class_meta(start)
                if raw is None:
                    meta["extra"] = nested(40)
                pid = tp.new_payment("approved", meta)
                if raw is not None:
                    tp.set_payment(pid, raw_b64=base64.b64encode(raw % pid).decode())
                for send in (lambda: legacy(pid), lambda: signed(pid)):
                    self.ack(send(), "failed: unreadable payment")
                p = tp.payment_row(pid)
                self.assertEqual((p["status"], p["bookingId"]), ("unknown", None), p)
                self.assertIn(word, p["lastError"].lower(), p)
                api = self.read_payment(pid)
                self.assertEqual((api["status"], api["lastError"]), ("unknown", p["lastError"]))
                self.assertEqual(tp.booking_rows(), [])
                self.assertEqual(tp.inserts(), [])
                self.assertLogged(str(pid), "could not be read")
                self.no_secrets_logged()
                # MercadoPago answers it readably later: it books, and the
                # reason is gone.
                tp.set_payment(pid, raw_b64=None, metadata=tp.class_meta(start))
                self.ack(signed(pid), "scheduling")
                bid = self.only_booking(pid)["id"]
                self.assertScheduled(bid, start, pid=pid)
                self.assertEqual(tp.payment_row(pid)["lastError"], None)

    def test_abuse_unreadable_answer_keeps_what_was_known(self):
        start = at(12, 10)
        pid = tp.new_payment("pending", tp.class_meta(start))
        self.ack(signed(pid), "pending")
        bid = self.only_booking(pid)["id"]
        tp.set_payment(pid, raw_b64=base64.b64encode(b'{"id": %d, "x": "\xff"}' % pid).decode())
        self.ack(signed(pid), "failed: unreadable payment")
        p = tp.payment_row(pid)
        self.assertEqual((p["status"], p["bookingId"]), ("pending", bid), p)
        self.assertIn("utf-8", p["lastError"].lower())
        self.assertEqual(tp.brow(bid)["status"], "pending")

    def test_abuse_a_page_that_is_not_json_is_a_failure_to_retry(self):
        # Not JSON by its Content-Type (a proxy's page): MercadoPago's API
        # failed, the notification is answered 503 and delivered again.
        pid = tp.new_payment("approved", tp.class_meta(at(12, 12)))
        sim_fault({"method": "GET", "path": tp.MP_GET_RE, "status": 200, "times": 1,
                   "body": "<html><body>Mantenimiento</body></html>"})
        r = signed(pid)
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.json()["error"]["code"], "payment_provider_unavailable")
        self.assertNothingStored()
        self.ack(signed(pid), "scheduling")


# ---------------------------------------------------------------------------
# 3. Google's busy times count for a class paid through its metadata
# ---------------------------------------------------------------------------

class GoogleBusy(AbuseBase):
    def test_abuse_metadata_class_over_a_google_event_fails(self):
        start = at(13, 10)
        seed(busy_event(start + mins(30), start + mins(90)))
        pid = tp.new_payment("approved", tp.class_meta(start))
        seq = tp.last_seq()
        self.ack(signed(pid), "failed: the slot was taken")
        self.assertTrue(tp.sim_log(EVENTS_LIST_RE, "GET", seq), "Google's busy times are read")
        bk = self.only_booking(pid)
        self.assertEqual(bk["status"], "failed", bk)
        self.assertIn("Google", bk["lastError"], bk)
        self.assertEqual(tp.inserts(), [], "no event is made")
        self.assertEqual([e["summary"] for e in sim_events()], ["Staff meeting"])
        api = self.read_payment(pid)
        self.assertEqual((api["status"], api["bookingId"], api["bookingStatus"]),
                         ("approved", bk["id"], "failed"), api)
        self.assertIn("Google", api["lastError"])
        self.assertLogged(str(pid))
        # Delivered again: the same booking, still failed, nothing new.
        self.ack(signed(pid), "unchanged")
        self.assertEqual(len(tp.booking_rows()), 1)
        self.assertEqual(tp.inserts(), [])

    def test_abuse_metadata_class_beside_a_google_event_is_booked(self):
        start = at(13, 12)
        seed(busy_event(start - mins(60), start))  # touching is not overlapping
        seed(busy_event(start, start + mins(60), transparency="transparent"))
        pid = tp.new_payment("approved", tp.class_meta(start))
        self.ack(signed(pid), "scheduling")
        self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)

    def test_abuse_expired_hold_over_a_google_event_fails(self):
        start = at(13, 14)
        h = self.hold(start)
        stack().sql("UPDATE bookings SET holdExpiresAt = UTC_TIMESTAMP() - INTERVAL 5 MINUTE "
                    "WHERE id = '%s'" % h["id"])
        seed(busy_event(start, start + mins(60)))
        pid = tp.new_payment("approved", {"booking_id": h["id"]}, external_reference=h["id"])
        self.ack(signed(pid), "failed: the slot was taken")
        hr = tp.brow(h["id"])
        self.assertEqual((hr["status"], hr["paymentId"]), ("failed", str(pid)), hr)
        self.assertIn("Google", hr["lastError"])
        self.assertEqual(tp.inserts(), [])

    def test_abuse_google_unreadable_is_answered_503_then_delivered_again(self):
        start = at(13, 16)
        pid = tp.new_payment("approved", tp.class_meta(start))
        sim_fault({"method": "GET", "path": EVENTS_LIST_RE, "status": 403, "times": -1,
                   "body": {"error": {"code": 403, "message": "Calendar API not enabled",
                                      "errors": [{"domain": "usageLimits",
                                                  "reason": "accessNotConfigured",
                                                  "message": "not enabled"}]}}})
        r = signed(pid)
        self.assertIn(r.status, (502, 503, 504), r)
        self.assertTrue(r.json()["error"]["code"].startswith("calendar_"), r)
        self.assertNothingStored()
        tp.clear_faults()
        self.ack(signed(pid), "scheduling")
        self.assertScheduled(self.only_booking(pid)["id"], start, pid=pid)


# ---------------------------------------------------------------------------
# 4. A pending payment does not keep its slot forever
# ---------------------------------------------------------------------------

class PendingReleased(AbuseBase):
    def release_at(self, pid):
        """Seconds from now to the payment's releaseAt (None: none)."""
        v = stack().sql("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), releaseAt) FROM "
                        "payments WHERE id = '%s'" % pid)[0][0]
        return None if v is None else int(v)

    def reconcile(self):
        p = tp.run_reconcile()
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertEqual(len(p.stdout.splitlines()), 1, p.stdout)
        return p

    def test_abuse_pending_past_its_expiration_is_released_then_booked(self):
        start = at(14, 10)
        expired = mp_time(now() - datetime.timedelta(minutes=5))
        pid = tp.new_payment("pending", tp.class_meta(start), date_of_expiration=expired)
        self.ack(signed(pid), "pending")
        bid = self.only_booking(pid)["id"]
        self.assertLess(self.release_at(pid), 0)
        self.assertNotIn(iso(start), tp.slots_on(start))
        # reconcile releases it, through the ledger.
        p = self.reconcile()
        self.assertIn("1 pending released", p.stdout)
        bk = tp.brow(bid)
        self.assertEqual(bk["status"], "failed", bk)
        self.assertIn("pending", bk["lastError"])
        self.assertEqual(history(bid)[-1][:2], ["pending", "failed"])
        self.assertIn(bid, p.stdout + p.stderr, "the release is logged")
        self.assertIn(iso(start), tp.slots_on(start), "the slot is offered again")
        api = self.read_payment(pid)
        self.assertEqual((api["status"], api["bookingStatus"]), ("pending", "failed"))
        self.assertIn("pending", api["lastError"])
        # Again: nothing more to release.
        self.assertIn("0 pending released", self.reconcile().stdout)
        self.assertEqual(len(history(bid)), 2)
        # Still pending when told again: it stays released.
        self.ack(signed(pid), "unchanged")
        # Approved later, the slot still free: it books as usual.
        tp.set_payment(pid, status="approved")
        self.ack(signed(pid), "scheduling")
        self.assertScheduled(bid, start, pid=pid)
        self.assertEqual([h[:2] for h in history(bid)],
                         [["-", "pending"], ["pending", "failed"], ["failed", "scheduling"],
                          ["scheduling", "scheduled"]])
        self.assertEqual(len(tp.booking_rows()), 1)

    def test_abuse_released_slot_taken_meanwhile_stays_failed(self):
        start = at(14, 12)
        h = self.hold(start)
        expired = mp_time(now() - datetime.timedelta(hours=1))
        pid = tp.new_payment("in_process", {"booking_id": h["id"]}, external_reference=h["id"],
                             date_of_expiration=expired)
        self.ack(signed(pid), "pending")
        self.assertEqual(tp.brow(h["id"])["status"], "pending")
        self.assertIn("1 pending released", self.reconcile().stdout)
        self.assertEqual(tp.brow(h["id"])["status"], "failed")
        other = post(klass(start, studentEmail="otro@example.com"))
        self.assertEqual(other.status, 201, other)
        oid = other.json()["booking"]["id"]
        tp.set_payment(pid, status="approved")
        self.ack(signed(pid), "failed: the slot was taken")
        hr = tp.brow(h["id"])
        self.assertEqual(hr["status"], "failed", hr)
        self.assertIn("taken", hr["lastError"])
        self.assertScheduled(oid, start)
        self.assertEqual(len(tp.live_events()), 1)

    def test_abuse_pending_release_time(self):
        # No date_of_expiration: a bounded time from when it was first heard.
        bound_h = limit("LIMIT_PAYMENT_PENDING_H")
        p1 = tp.new_payment("pending", tp.class_meta(at(14, 14)))
        self.ack(signed(p1), "pending")
        self.assertAlmostEqual(self.release_at(p1), bound_h * 3600, delta=120)
        # A date_of_expiration in a day: that.
        p2 = tp.new_payment("pending", tp.class_meta(at(14, 16)),
                            date_of_expiration=mp_time(now() + datetime.timedelta(days=1)))
        self.ack(signed(p2), "pending")
        self.assertAlmostEqual(self.release_at(p2), 86400, delta=120)
        # One far away is capped.
        cap_h = limit("LIMIT_PAYMENT_PENDING_MAX_H")
        p3 = tp.new_payment("pending", tp.class_meta(at(14, 18)),
                            date_of_expiration=mp_time(now() + datetime.timedelta(days=400)))
        self.ack(signed(p3), "pending")
        self.assertAlmostEqual(self.release_at(p3), cap_h * 3600, delta=120)
        self.assertIn("0 pending released", self.reconcile().stdout)
        self.assertEqual([tp.bookings_for(p)[0]["status"] for p in (p1, p2, p3)],
                         ["pending"] * 3)
        # Approved: nothing left to release.
        tp.set_payment(p1, status="approved")
        self.ack(signed(p1), "scheduling")
        self.assertIsNone(self.release_at(p1))
        # Older than its bound (moved back in time here): released.
        stack().sql("UPDATE payments SET releaseAt = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
                    "WHERE id = '%s'" % p2)
        self.assertIn("1 pending released", self.reconcile().stdout)
        self.assertEqual([tp.bookings_for(p)[0]["status"] for p in (p1, p2, p3)],
                         ["scheduled", "failed", "pending"])


if __name__ == "__main__":
    import unittest
    unittest.main()
