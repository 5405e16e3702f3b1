"""The admin console in a real browser: headless Chromium (Debian's
chromium and chromium-driver, driven by python3-selenium) against a stack
of its own, as tests/e2e/run.py starts it.

The admin signs in through the simulator's consent page (no real Google
account), opens the overview, filters the bookings, opens one, retries a
booking left in `scheduling` while the simulator failed (and sees it
scheduled with its Meet link), cancels a class, looks at the payments and
logs out. Each page is photographed at desktop width and at 375 px into
the output folder (listed below as "screenshot: PATH"). Any console error
of the browser (a failed request, a CSP violation, a script error) fails
the test.

    /usr/bin/python3 tests/browser/test_console.py [--bin cgi-bin] [--out DIR]

Prints "ok STEP" / "not ok STEP" and ends with "N passed, N failed".
"""

import argparse
import os
import re
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import harness  # noqa: E402

DESKTOP = (1280, 900)
PHONE = (375, 812)


class Failed(Exception):
    pass


class Browser:
    def __init__(self, out):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-extensions", "--window-size=%d,%d" % DESKTOP):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                       options=opts)
        self.driver.set_page_load_timeout(60)
        self.out = out
        self.shots = []

    def quit(self):
        self.driver.quit()

    def errors(self):
        """The browser's console errors since the last call."""
        return [e for e in self.driver.get_log("browser")
                if e.get("level") == "SEVERE"]

    def check_console(self):
        errs = self.errors()
        if errs:
            raise Failed("console errors: %r" % errs)

    def shoot(self, name):
        """The page at desktop width and at 375 px."""
        d = self.driver
        for label, (w, h) in (("desktop", DESKTOP), ("375px", PHONE)):
            d.set_window_size(w, h)
            # The page fits the width: nothing scrolls sideways but tables.
            width = d.execute_script("return document.documentElement.scrollWidth")
            if width > w + 1:
                raise Failed("%s at %d px is %d px wide" % (name, w, width))
            path = os.path.join(self.out, "%s-%s.png" % (name, label))
            if not d.save_screenshot(path):
                raise Failed("no screenshot for %s" % path)
            self.shots.append(path)
            print("screenshot: %s" % path, flush=True)
        d.set_window_size(*DESKTOP)

    def go(self, element):
        """Clicks element and waits for the next page to replace this one
        (a form posted back to the same address changes no URL)."""
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait
        old = self.driver.find_element("tag name", "html")
        element.click()
        WebDriverWait(self.driver, 30).until(ec.staleness_of(old))
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def h1(self):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def button(self, label):
        from selenium.webdriver.common.by import By
        for b in self.driver.find_elements(By.TAG_NAME, "button"):
            if b.text.strip() == label:
                return b
        raise Failed("no button %r on %s" % (label, self.driver.current_url))


def expect(cond, what):
    if not cond:
        raise Failed(what)


def prepare():
    """Google connected; a class scheduled; one left in `scheduling`
    while the simulator failed (then Google is back)."""
    import test_oauth as o
    import test_payments as tp
    from test_booking_write import at

    o.reset_all()
    harness.stack.sql("DELETE FROM admin_sessions; DELETE FROM bookings; "
                      "DELETE FROM payments; DELETE FROM booking_history")
    o.connect()
    ok = tp.new_payment("approved", tp.class_meta(at(4, 10), student_name="Ana Pérez"))
    if tp.notify(ok)["status"] != 200:
        raise Failed("the first payment was not taken")
    tp.google_down()
    late = tp.new_payment("approved", tp.class_meta(at(5, 11), student_name="Bruno Díaz"))
    if tp.notify(late)["status"] != 200:
        raise Failed("the second payment was not taken")
    tp.clear_faults()
    scheduled = tp.bookings_for(ok)[0]
    scheduling = tp.bookings_for(late)[0]
    expect(scheduled["status"] == "scheduled", scheduled)
    expect(scheduling["status"] == "scheduling", scheduling)
    return scheduled["id"], scheduling["id"]


def run(b, site, scheduled, scheduling, step):
    d = b.driver

    def sign_in():
        d.get(site + "/admin")
        expect(d.current_url == site + "/admin", "back on the overview: %s" % d.current_url)
        expect(b.h1() == "Resumen", b.h1())
        b.check_console()
    step("sign in through the simulator's consent page", sign_in)

    def overview():
        text = d.find_element("tag name", "body").text
        expect("Conectado" in text, "Google connected")
        expect("database" in text, "the doctor's checks")
        expect("Próximas clases" in text, "the next classes")
        b.shoot("overview")
        b.check_console()
    step("the overview", overview)

    def filter_bookings():
        b.go(b.find('a[href="/admin/bookings"]'))
        expect(b.h1() == "Reservas", b.h1())
        from selenium.webdriver.support.ui import Select
        Select(b.find("#status")).select_by_value("scheduling")
        b.go(b.button("Filtrar"))
        expect("status=scheduling" in d.current_url, d.current_url)
        links = [a.get_attribute("href") for a in b.finds('td a[href^="/admin/bookings/"]')]
        expect(links == [site + "/admin/bookings/" + scheduling], links)
        b.shoot("bookings-filtered")
        b.check_console()
    step("filter the bookings", filter_bookings)

    def open_one():
        b.go(b.find('a[href="/admin/bookings/%s"]' % scheduling))
        expect(scheduling in b.h1(), b.h1())
        expect("Agendándose" in d.find_element("tag name", "main").text, "in scheduling")
        b.shoot("booking-scheduling")
        b.check_console()
    step("open a booking", open_one)

    def retry():
        b.go(b.button("Reintentar ahora"))
        expect(d.current_url == site + "/admin/bookings/" + scheduling, d.current_url)
        main = d.find_element("tag name", "main").text
        expect("Agendada" in main, "scheduled now")
        meet = [a.get_attribute("href") for a in b.finds('a[href^="https://meet.google.com/"]')]
        expect(len(meet) == 1, "its Meet link: %r" % meet)
        row = harness.stack.sql("SELECT status, meetLink FROM bookings WHERE id = '%s'" % scheduling)
        expect(row == [["scheduled", meet[0]]], row)
        b.shoot("booking-retried")
        b.check_console()
    step("retry it: scheduled with its Meet link", retry)

    def cancel():
        d.get(site + "/admin/bookings/" + scheduled)
        b.go(b.button("Cancelar la clase"))
        expect(d.current_url == site + "/admin/bookings/" + scheduled, d.current_url)
        expect("Cancelada" in d.find_element("tag name", "main").text, "cancelled")
        row = harness.stack.sql("SELECT status FROM bookings WHERE id = '%s'" % scheduled)
        expect(row == [["cancelled"]], row)
        b.shoot("booking-cancelled")
        b.check_console()
    step("cancel a class", cancel)

    def payments():
        b.go(b.find('a[href="/admin/payments"]'))
        expect(b.h1() == "Pagos", b.h1())
        b.shoot("payments")
        b.check_console()
    step("the payments", payments)

    def keyboard():
        from selenium.webdriver.common.keys import Keys
        d.get(site + "/admin")
        d.find_element("tag name", "body").send_keys(Keys.TAB)
        el = d.switch_to.active_element
        outline = el.value_of_css_property("outline-style")
        expect(el.tag_name == "a" and outline not in ("none", ""),
               "a visible focus: %s %s" % (el.tag_name, outline))
        b.check_console()
    step("keyboard focus is visible", keyboard)

    def logout():
        b.go(b.button("Cerrar sesión"))
        expect(b.h1() == "Sesión cerrada", b.h1())
        left = harness.stack.sql("SELECT COUNT(*) FROM admin_sessions")
        expect(left == [["0"]], left)
        b.shoot("logged-out")
        b.check_console()
    step("log out", logout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="cgi-bin")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "browser"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    passed = failed = 0

    def step(name, fn):
        nonlocal passed, failed
        try:
            fn()
            passed += 1
            print("ok", name, flush=True)
        except Exception:
            failed += 1
            print("not ok", name, flush=True)
            print(traceback.format_exc(), flush=True)

    stack = harness.Stack(args.bin)
    harness.stack = stack
    b = None
    try:
        print(stack.start(), flush=True)
        ids = []
        step("prepare: Google connected, one class scheduled, one left in scheduling",
             lambda: ids.extend(prepare()))
        if ids:
            b = Browser(args.out)
            run(b, "http://127.0.0.1:%d" % stack.port, ids[0], ids[1], step)
            print("screenshots in %s: %d" % (args.out, len(b.shots)), flush=True)
    except Exception:
        failed += 1
        traceback.print_exc()
    finally:
        if b is not None:
            b.quit()
        stack.stop()
    if passed + failed == 0:
        failed = 1
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
