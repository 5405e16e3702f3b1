"""The PHP site's examples (examples/php/) end to end: each script run with
php against the test stack, MercadoPago played by the simulator.

What is checked: availability.php and slots.php print what the API answers;
hold.php holds the slot (the booking is `held`, a second hold of the same
slot is refused); checkout.php creates exactly one checkout preference that
names the held booking (external_reference, metadata.booking_id), with the
notification URL, the back URLs, the price and the hold's expiry, and
refuses a booking that is no longer held or a wrong MercadoPago token
without printing it; once MercadoPago (the simulator) notifies an approved
payment, return.php tells the class's time and its Meet link, as a command
and as a web page (php's built-in server, output escaped); and it says to
try again for a payment not notified yet, that a rejected payment was
rejected, that a pending one is pending, and why no class was made.

Each test starts from an empty cache, no bookings or payments, a reset
simulator, and connects the admin's Google account again.
"""

import datetime
import http.client
import os
import re
import subprocess
import time
import unittest
import urllib.parse

import harness
from test_availability import busy, local, reset, seed, timed, today, weekday_on_or_after
from test_booking_write import HOLDS, at, iso, klass, mins, parse_iso, post, zone
from test_oauth import clean_up, clear_sim_log, connect, sim_log
from test_payments import api_booking, class_meta, new_payment, notify

EXAMPLES = os.path.join(harness.ROOT, "examples", "php")
SITE = "https://escuela.example"
NOTIFICATION_URL = SITE + "/api/payments/mercadopago"
RETURN_URL = SITE + "/reserva/vuelta.php"
DAY = datetime.timedelta(days=1)
DAYS_ES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]


def stack():
    return harness.stack


def php_env(**changes):
    """The PHP site's environment, pointed at the test stack (a value of
    None leaves the variable out)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "BOOKING_API_BASE": "http://127.0.0.1:%d" % stack().port,
        "INTERNAL_API_TOKEN": stack().env["INTERNAL_API_TOKEN"],
        "MP_API_BASE": stack().env["MP_API_BASE"],
        "MP_ACCESS_TOKEN": stack().env["MP_ACCESS_TOKEN"],
        "BOOKING_NOTIFICATION_URL": NOTIFICATION_URL,
        "SITE_BASE_URL": SITE,
        "CLASS_PRICE": "15000",
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def php(script, *args, **env):
    """Runs examples/php/<script> with php: the CompletedProcess."""
    return subprocess.run(["php", os.path.join(EXAMPLES, script)] + [str(a) for a in args],
                          env=php_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120)


def class_time_es(start, minutes=60):
    """What the examples write for a class's time."""
    s = start.astimezone(zone())
    e = s + mins(minutes)
    place = zone().key.rsplit("/", 1)[-1].replace("_", " ")
    return "%s %d de %s de %d, de %s a %s (hora de %s)" % (
        DAYS_ES[s.weekday()], s.day, MONTHS_ES[s.month - 1], s.year,
        s.strftime("%H:%M"), e.strftime("%H:%M"), place)


def preferences():
    return stack().sim("GET", "/_sim/mp/preferences")


def pay(bid, status):
    """MercadoPago's payment for held booking bid, notified to the hook."""
    pid = new_payment(status, {"booking_id": bid}, external_reference=bid)
    r = notify(pid)
    if r["status"] != 200:
        raise AssertionError("the hook answered %r" % r)
    return pid


def web_server(env):
    """php's built-in web server on examples/php: (process, port)."""
    port = harness.free_port()
    p = subprocess.Popen(["php", "-S", "127.0.0.1:%d" % port, "-t", EXAMPLES], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            harness.request(port, "GET", "/nothing-here", timeout=5)
            return p, port
        except OSError:
            if p.poll() is not None:
                raise AssertionError("php -S exited: %s" % p.stderr.read())
            time.sleep(0.05)
    p.kill()
    raise AssertionError("php -S did not start")


class PhpExamples(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        reset(wait=True, users=True)
        stack().sql("DELETE FROM payments")
        connect()
        clear_sim_log()

    def tearDown(self):
        clean_up()
        stack().sql("DELETE FROM bookings; DELETE FROM payments")

    def assertRan(self, p, rc=0):
        self.assertEqual(p.returncode, rc, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        return p.stdout

    def hold(self, start, email="ana@example.com", name="Ana Pérez"):
        out = self.assertRan(php("hold.php", iso(start), email, name))
        m = re.search(r"^Booking id: ([0-9a-f]{32})$", out, re.M)
        self.assertIsNotNone(m, out)
        return m.group(1), out

    # ---- reading ----

    def test_php_examples_availability_prints_the_busy_times(self):
        d0 = weekday_on_or_after(today() + 3 * DAY, {0, 1, 2, 3, 4})
        seed([timed(local(d0, 12), local(d0, 13)),
              timed(local(d0, 15), local(d0, 16, 30), status="tentative"),
              timed(local(d0, 17), local(d0, 18), transparency="transparent")])
        frm, to = d0.isoformat(), (d0 + DAY).isoformat()
        out = self.assertRan(php("availability.php", frm, to))
        r = stack().get("/api/calendar?" + urllib.parse.urlencode({"from": frm, "to": to}))
        self.assertEqual(r.status, 200, r)
        cal = r.json()
        self.assertEqual(cal["events"], [busy(local(d0, 12), local(d0, 13)),
                                         busy(local(d0, 15), local(d0, 16, 30), "tentative")])
        want = ["Busy from %s to %s (%s):" % (cal["from"], cal["to"], cal["timeZone"]),
                "  %s  to  %s" % (iso(local(d0, 12)), iso(local(d0, 13))),
                "  %s  to  %s  (tentative)" % (iso(local(d0, 15)), iso(local(d0, 16, 30)))]
        self.assertEqual(out.splitlines(), want)
        # Without arguments: from now, as the API's default window.
        out = self.assertRan(php("availability.php"))
        self.assertIn("  %s  to  %s\n" % (iso(local(d0, 12)), iso(local(d0, 13))), out)
        # A window the API refuses: its message, exit status 1.
        p = php("availability.php", to, frm)
        self.assertRan(p, 1)
        self.assertRegex(p.stderr, r"^error: booking API: GET /api/calendar\?.* answered 400 ")

    def test_php_examples_slots_prints_the_free_slots(self):
        start = at(3, 12)
        d0 = start.astimezone(zone()).date()
        seed([timed(start, start + mins(60))])
        post(klass(at(3, 15)), path=HOLDS)  # a hold takes its slot too
        out = self.assertRan(php("slots.php", d0.isoformat(), 60))
        r = stack().get("/api/calendar/slots?date=%s&duration=60" % d0.isoformat())
        self.assertEqual(r.status, 200, r)
        day = r.json()
        starts = [s["start"] for s in day["slots"]]
        for taken in (at(3, 11, 30), at(3, 12), at(3, 14, 30), at(3, 15)):
            self.assertNotIn(iso(taken), starts)
        self.assertIn(iso(at(3, 10)), starts)
        want = ["Free 60-minute slots on %s (%s):" % (d0.isoformat(), day["timeZone"])]
        want += ["  %s-%s  %s" % (s["start"][11:16], s["end"][11:16], s["start"])
                 for s in day["slots"]]
        self.assertEqual(out.splitlines(), want)
        # A Sunday has none; a bad date is a usage error.
        sunday = weekday_on_or_after(d0, {6})
        out = self.assertRan(php("slots.php", sunday.isoformat()))
        self.assertEqual(out.splitlines()[1:], ["  none"])
        p = php("slots.php", "mañana")
        self.assertRan(p, 2)
        self.assertIn("usage:", p.stderr)

    # ---- the whole purchase ----

    def test_php_examples_hold_checkout_pay_return(self):
        start = at(4, 10)
        bid, out = self.hold(start)
        b = api_booking(bid)
        self.assertEqual((b["status"], b["start"], b["end"], b["studentEmail"], b["studentName"]),
                         ("held", iso(start), iso(start + mins(60)), "ana@example.com", "Ana Pérez"))
        self.assertIn("Held until: %s\n" % b["holdExpiresAt"], out)
        self.assertIn("Next: php checkout.php %s\n" % bid, out)
        self.assertEqual(stack().sql("SELECT status, holdExpiresAt > UTC_TIMESTAMP() FROM bookings"),
                         [["held", "1"]])
        # The same slot again: refused, nothing stored.
        p = php("hold.php", iso(start), "otro@example.com")
        self.assertRan(p, 1)
        self.assertIn("that slot was just taken", p.stderr)
        self.assertEqual(stack().sql("SELECT id FROM bookings"), [[bid]])
        # A time slots.php never prints (03:00, 10:15): refused, nothing stored.
        for odd in (at(4, 3), at(4, 10, 15)):
            p = php("hold.php", iso(odd), "otro@example.com")
            self.assertRan(p, 1)
            self.assertIn("that time is not a free slot", p.stderr)
        self.assertEqual(stack().sql("SELECT id FROM bookings"), [[bid]])

        # -- checkout: one preference that names the hold --
        out = self.assertRan(php("checkout.php", bid))
        prefs = preferences()
        self.assertEqual(len(prefs), 1, prefs)
        pref = prefs[0]
        self.assertEqual(pref["external_reference"], bid)
        self.assertEqual(pref["metadata"], {"booking_id": bid})
        self.assertEqual(pref["notification_url"], NOTIFICATION_URL)
        self.assertEqual(pref["back_urls"], {"success": RETURN_URL, "pending": RETURN_URL,
                                             "failure": RETURN_URL})
        self.assertEqual(pref["auto_return"], "approved")
        self.assertEqual(len(pref["items"]), 1)
        item = pref["items"][0]
        self.assertEqual((item["title"], item["quantity"], item["currency_id"], item["unit_price"]),
                         ("Clase de Inglés", 1, "ARS", 15000))
        self.assertIs(pref["expires"], True)
        self.assertEqual(parse_iso(pref["expiration_date_to"]), parse_iso(b["holdExpiresAt"]))
        self.assertEqual(pref["payer"]["email"], "ana@example.com")
        self.assertEqual(out.splitlines(), [
            "Preference id: " + pref["id"],
            "Pay until: " + pref["expiration_date_to"],
            "Send the student to: " + pref["init_point"]])
        calls = sim_log(r"^/mp/checkout/preferences$", "POST")
        self.assertEqual([c["headers"].get("authorization") for c in calls],
                         ["Bearer " + stack().env["MP_ACCESS_TOKEN"]])

        # -- the student pays; MercadoPago notifies the hook --
        pid = pay(bid, "approved")
        b = api_booking(bid)
        self.assertEqual(b["status"], "scheduled", b)
        self.assertRegex(b["meetLink"] or "", r"^https://meet\.google\.com/")

        # -- the return page, as a command --
        out = self.assertRan(php("return.php", pid))
        self.assertEqual(out.splitlines(), [
            "¡Listo! Tu clase de inglés quedó reservada para el %s." % class_time_es(start),
            "Link de Google Meet: " + b["meetLink"]])

        # -- and as a web page --
        server, port = web_server(php_env())
        try:
            r = harness.request(port, "GET", "/return.php?" + urllib.parse.urlencode(
                {"collection_id": pid, "collection_status": "approved", "payment_id": pid,
                 "status": "approved", "external_reference": bid}))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
            page = r.body.decode()
            self.assertIn("<p>¡Listo! Tu clase de inglés quedó reservada para el %s.</p>"
                          % class_time_es(start), page)
            self.assertIn('<a href="%s">%s</a>' % (b["meetLink"], b["meetLink"]), page)
            r = harness.request(port, "GET", "/return.php?payment_id=%3Cscript%3E")
            self.assertEqual(r.status, 400, r)
            self.assertNotIn(b"<script", r.body)
            r = harness.request(port, "GET", "/return.php?payment_id=999999999")
            self.assertEqual(r.status, 200, r)
            self.assertIn("Probá de nuevo en unos segundos", r.body.decode())
        finally:
            server.terminate()
            server.wait(30)

        # -- the booking is no longer held: no second checkout --
        p = php("checkout.php", bid)
        self.assertRan(p, 1)
        self.assertIn("is scheduled, not held", p.stderr)
        self.assertEqual(len(preferences()), 1)

    def test_php_examples_checkout_errors_are_clear(self):
        bid, _ = self.hold(at(4, 11))
        token = "APP_USR-wrong-token-123"
        p = php("checkout.php", bid, MP_ACCESS_TOKEN=token)
        self.assertRan(p, 1)
        self.assertIn("MercadoPago: POST /checkout/preferences answered 401 unauthorized: "
                      "invalid access token", p.stderr)
        self.assertNotIn(token, p.stdout + p.stderr)
        p = php("checkout.php", bid, BOOKING_NOTIFICATION_URL=None)
        self.assertRan(p, 1)
        self.assertIn("BOOKING_NOTIFICATION_URL is not set", p.stderr)
        p = php("checkout.php", bid, CLASS_PRICE="gratis")
        self.assertRan(p, 1)
        self.assertIn("CLASS_PRICE", p.stderr)
        p = php("checkout.php", "f" * 32)
        self.assertRan(p, 1)
        self.assertIn("404 booking_not_found", p.stderr)
        p = php("checkout.php", bid, INTERNAL_API_TOKEN="nope")
        self.assertRan(p, 1)
        self.assertIn("answered 401", p.stderr)
        self.assertEqual(preferences(), [])
        # A price with cents is sent as it is.
        self.assertRan(php("checkout.php", bid, CLASS_PRICE="15000.50"))
        self.assertEqual(preferences()[0]["items"][0]["unit_price"], 15000.5)

    # ---- what the return page says otherwise ----

    def test_php_examples_return_unknown_payment_says_try_again(self):
        out = self.assertRan(php("return.php", "999999999"))
        self.assertEqual(out.splitlines(), [
            "Todavía no recibimos la confirmación de MercadoPago de este pago.",
            "Probá de nuevo en unos segundos (volvé a cargar esta página)."])
        p = php("return.php", "abc")
        self.assertRan(p, 2)
        self.assertIn("No encontramos el número de pago", p.stdout)

    def test_php_examples_return_rejected_pending_and_failed(self):
        bid, _ = self.hold(at(4, 12))
        pid = pay(bid, "rejected")
        out = self.assertRan(php("return.php", pid))
        self.assertIn("MercadoPago rechazó el pago, así que la clase no quedó reservada.", out)
        self.assertNotEqual(api_booking(bid)["status"], "scheduled")

        pid = new_payment("pending", class_meta(at(4, 14)))
        self.assertEqual(notify(pid)["status"], 200)
        out = self.assertRan(php("return.php", pid))
        self.assertIn("Tu pago está pendiente de aprobación en MercadoPago.", out)

        # Unusable metadata: the booking side's reason, told as it is.
        pid = new_payment("approved", class_meta(at(4, 16), student_email=None))
        self.assertEqual(notify(pid)["status"], 200)
        r = stack().get("/api/payments/%s" % pid, headers=stack().internal())
        reason = r.json()["payment"]["lastError"]
        self.assertTrue(reason, r)
        out = self.assertRan(php("return.php", pid))
        self.assertIn("No pudimos reservar la clase con este pago: %s." % reason, out)

    def test_php_examples_return_when_the_api_is_down(self):
        p = php("return.php", "1300000001", BOOKING_API_BASE="http://127.0.0.1:%d"
                % harness.free_port())
        self.assertRan(p, 1)
        self.assertIn("No pudimos consultar tu pago en este momento.", p.stdout)
        self.assertIn("no answer", p.stderr)
        self.assertNotIn(stack().env["INTERNAL_API_TOKEN"], p.stdout + p.stderr)
