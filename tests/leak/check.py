#!/usr/bin/env python3
"""A leak in a FastCGI program is caught, the way the end-to-end suite
runs the programs: under spawn-fcgi, their stderr in a log, stopped with
SIGTERM, the log scanned after they exit.

    python3 tests/leak/check.py [build/asan]

1. build/asan/tests/leaky (tests/leak/leaky.c) loses 64 bytes a request:
   after one request and a SIGTERM, it exits on its own and
   LeakSanitizer's report is in its log, which the runner's scan
   (tests/e2e/run.py's SANITIZER) calls a failure.
2. build/asan/cgi-bin/calendar_get, the same way: it exits on its own
   after SIGTERM and its log holds no sanitizer report.

Prints "ok NAME" / "not ok NAME" and ends with "N passed, N failed".
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from run import SANITIZER  # noqa: E402  the suite's own scan

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6


def record(kind, content=b"", req=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", 1, kind, req, len(content), pad) + content + b"\0" * pad


def pair(name, value):
    def size(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    n, v = name.encode(), value.encode()
    return size(len(n)) + size(len(v)) + n + v


def fastcgi_get(sock_path, uri):
    """One FastCGI request (the responder role); the CGI reply's bytes."""
    params = b"".join(pair(k, v) for k, v in {
        "REQUEST_METHOD": "GET", "REQUEST_URI": uri, "QUERY_STRING": "",
        "SCRIPT_NAME": uri, "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1", "REMOTE_ADDR": "127.0.0.1"}.items())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    s.sendall(record(FCGI_BEGIN, struct.pack(">HB5x", 1, 0)) + record(FCGI_PARAMS, params)
              + record(FCGI_PARAMS) + record(FCGI_STDIN))
    data, out = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    while len(data) >= 8:
        _, kind, _, length, pad = struct.unpack(">BBHHBx", data[:8])
        if kind == FCGI_STDOUT:
            out += data[8:8 + length]
        data = data[8 + length + pad:]
    return out


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie of ours is gone too.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def run_once(program, env, tmp):
    """Starts program under spawn-fcgi, sends one request, stops it with
    SIGTERM. (reply, log text, exited by itself)."""
    sock = os.path.join(tmp, "p.sock")
    log = os.path.join(tmp, "p.log")
    pidf = os.path.join(tmp, "p.pid")
    for f in (sock, log, pidf):
        if os.path.exists(f):
            os.unlink(f)
    open(log, "w").close()
    subprocess.run(["spawn-fcgi", "-s", sock, "-M", "0600", "-F", "1", "-P", pidf, "--",
                    "/bin/sh", "-c", 'exec "$0" 2>>"$1"', program, log],
                   env=env, check=True, stdout=subprocess.DEVNULL, timeout=30)
    with open(pidf) as f:
        pid = int(f.read().split()[0])
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    reply = fastcgi_get(sock, "/api/health")
    os.kill(pid, 15)
    deadline = time.time() + 20  # a hang guard: LeakSanitizer takes a moment
    while not gone(pid) and time.time() < deadline:
        time.sleep(0.05)
    by_itself = gone(pid)
    if not by_itself:
        os.kill(pid, 9)
    with open(log, errors="replace") as f:
        return reply, f.read(), by_itself


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "asan"))
    if shutil.which("spawn-fcgi") is None:
        print("not ok spawn-fcgi is not installed\n0 passed, 1 failed")
        return 1
    env = {"PATH": "/usr/bin:/bin",
           "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="booking-leak-")
    os.chmod(tmp, 0o755)
    try:
        checks = []
        reply, log, by_itself = run_once(os.path.join(build, "tests", "leaky"), env, tmp)
        checks.append(("leaky_answers", b"Status: 418" in reply, reply[:200]))
        checks.append(("leaky_exits_on_sigterm", by_itself, log[-2000:]))
        checks.append(("leaky_leak_is_reported",
                       "ERROR: LeakSanitizer" in log and "leaky.c" in log, log[-2000:]))
        checks.append(("leaky_report_fails_the_scan", bool(SANITIZER.search(log)), log[-500:]))

        prog_env = dict(env)
        prog_env.update({
            "DATABASE_URL": "mysql://nobody:x@127.0.0.1:1/none",
            "GOOGLE_CALENDAR_ID": "school@example.com",
            "AUTH_GOOGLE_ID": "id", "AUTH_GOOGLE_SECRET": "secret",
            "TOKEN_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "INTERNAL_API_TOKEN": "t" * 32})
        reply, log, by_itself = run_once(os.path.join(build, "cgi-bin", "calendar_get"),
                                         prog_env, tmp)
        checks.append(("calendar_get_answers", b"Status: 503" in reply, reply[:300]))
        checks.append(("calendar_get_exits_on_sigterm", by_itself, log[-2000:]))
        checks.append(("calendar_get_has_no_sanitizer_report",
                       not SANITIZER.search(log), log[-3000:]))
        for name, ok, detail in checks:
            if ok:
                passed += 1
                print("ok", name)
            else:
                failed += 1
                print("not ok", name)
                print(detail if isinstance(detail, str) else repr(detail))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
