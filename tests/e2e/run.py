#!/usr/bin/env python3
"""Runs the end-to-end tests (tests/e2e/test_*.py) against a stack of their
own, started before the first test and stopped after the last one, also
when a test fails or the run is interrupted. Prints "ok NAME" / "not ok
NAME" per test and ends with "N passed, N failed".

    python3 tests/e2e/run.py [--bin cgi-bin] [-k substring]
"""

import argparse
import os
import re
import signal
import sys
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

# Lines a sanitizer writes when it finds something.
SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer")


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0

    def addSuccess(self, test):
        self.passed += 1
        print("ok", test.id(), flush=True)

    def _fail(self, test, err, kind):
        print("not ok", test.id(), "(%s)" % kind, flush=True)
        print("".join(traceback.format_exception(*err)), flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, "error")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(subtest, err, "failure")

    def addSkip(self, test, reason):
        # A skipped check is a defect here: count it as a failure.
        super().addSkip(test, reason)
        self.failures.append((test, "skipped: " + reason))
        print("not ok", test.id(), "(skipped: %s)" % reason, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="cgi-bin")
    ap.add_argument("-k", default=None)
    args = ap.parse_args()

    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % args.k]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)

    stack = harness.Stack(args.bin)
    harness.stack = stack

    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupted)
    result = Result()
    try:
        print(stack.start(), flush=True)
        suite.run(result)
        if result.testsRun == 0:
            # Zero tests is a failure: a filter that matches nothing, or
            # a suite that lost its tests, must not look green.
            result.failures.append(("run", "no test ran"))
            print("not ok no test ran", flush=True)
    except KeyboardInterrupt:
        print("interrupted")
        result.failures.append(("run", "interrupted"))
    except Exception:
        traceback.print_exc()
        result.failures.append(("run", "the stack did not start"))
    finally:
        # The programs are stopped first (SIGTERM: they free what they
        # hold and exit), so that LeakSanitizer's report at exit is in
        # their logs; then whatever a sanitizer found counts as a failure.
        stack.stop(remove=False)
        for name, text in stack.logs().items():
            if SANITIZER.search(text):
                result.failures.append((name, "sanitizer report"))
                print("not ok sanitizer report in", name)
                print(text[-4000:])
        failed = len(result.failures) + len(result.errors)
        if failed == 0:
            stack.stop(remove=True)
        else:
            print("the stack's files are kept in", stack.dir)
    print("%d passed, %d failed" % (result.passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
