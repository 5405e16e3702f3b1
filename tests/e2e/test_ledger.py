"""The booking lifecycle's transition table against the stack's own
MariaDB: tests/unit/test_ledger.c run with the stack's DATABASE_URL, so
every allowed and refused transition is applied to real rows and the
history rows they leave are read back. The C program prints its checks
and ends with "N passed, N failed"."""

import os
import re
import subprocess
import unittest

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ledger_binary():
    """The test_ledger of the build the stack's programs come from."""
    bin_dir = harness.stack.bin_dir
    build = os.path.dirname(bin_dir) if os.path.basename(
        os.path.dirname(bin_dir)) == "asan" else os.path.join(ROOT, "build", "release")
    return os.path.join(build, "tests", "test_ledger")


class LedgerOnMariaDB(unittest.TestCase):
    def test_ledger_transitions_and_history_on_real_rows(self):
        stack = harness.stack
        env = stack.program_env()
        p = subprocess.run([ledger_binary()], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
        last = re.findall(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M)
        self.assertTrue(last, p.stdout)
        passed, failed = map(int, last[-1])
        self.assertEqual(failed, 0, p.stdout)
        self.assertEqual(p.returncode, 0, p.stdout)
        # The database part ran: the three table checks alone are 3.
        self.assertGreaterEqual(passed, 6, p.stdout)
        self.assertIn("every_transition_on_a_real_row", p.stdout)

    def test_ledger_history_of_a_class_booked_moved_and_cancelled(self):
        """Each status a class goes through through the API leaves one
        history row, in order, with its reason."""
        from test_booking_write import (at, clean_up, connect, delete, klass,
                                        patch, post, reset_all)
        reset_all()
        connect()
        self.addCleanup(clean_up)
        start = at(40, 10)
        r = post(klass(start))
        self.assertEqual(r.status, 201, r)
        bid = r.json()["booking"]["id"]
        self.assertEqual(r.json()["booking"]["status"], "scheduled")
        r = patch(bid, {"start": start.replace(hour=11).isoformat()})
        self.assertEqual(r.status, 200, r)
        r = delete(bid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["booking"]["status"], "cancelled")
        rows = harness.stack.sql(
            "SELECT COALESCE(fromStatus, '-'), toStatus, reason FROM "
            "booking_history WHERE bookingId = '%s' ORDER BY id" % bid)
        self.assertEqual(rows, [
            ["-", "scheduling", "booked through the API"],
            ["scheduling", "scheduled", "the event is on Google"],
            ["scheduled", "scheduling", "rescheduled"],
            ["scheduling", "scheduled", "the event is on Google"],
            ["scheduled", "cancelled", "cancelled through the API"],
        ])
        # A second DELETE is harmless and writes no history.
        self.assertEqual(delete(bid).status, 200)
        again = harness.stack.sql(
            "SELECT COUNT(*) FROM booking_history WHERE bookingId = '%s'" % bid)
        self.assertEqual(again, [["5"]])
