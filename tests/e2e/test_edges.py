"""The stack's edges: the errors nginx makes itself (JSON on the API's
paths, small HTML pages on /oauth), logs that never hold a query string
(where an OAuth callback's code and state travel), and the local
database's accounts, socket and secret files.

Malformed requests are sent on raw sockets: http.client will not send
them."""

import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import time
import unittest
import urllib.parse

import harness


def stack():
    return harness.stack


# ---------------------------------------------------------------------------
# Raw HTTP
# ---------------------------------------------------------------------------

def raw(data, timeout=30):
    """Sends bytes to the stack's nginx and reads until it closes; a
    harness.Reply (headers lower-cased), or None for no reply at all."""
    out = b""
    with socket.create_connection(("127.0.0.1", stack().port), timeout=timeout) as s:
        s.sendall(data)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
    if not out:
        return None
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return harness.Reply(status, headers, body)


def request(method, target, headers=(), body=b"", version=b"HTTP/1.1"):
    """A request's bytes; Host and Connection: close unless given."""
    if isinstance(method, str):
        method = method.encode()
    if isinstance(target, str):
        target = target.encode()
    lines = [method + b" " + target + b" " + version]
    names = {h.split(b":")[0].lower() for h in headers}
    if b"host" not in names:
        lines.append(b"Host: localhost")
    lines.append(b"Connection: close")
    lines += list(headers)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


LONG_HEADER = b"X-Long: " + b"a" * 9000  # over one 8 KiB header buffer
MANY_HEADERS = [b"X-Many-%d: %s" % (i, b"b" * 7000) for i in range(6)]  # over 32 KiB

# (name, request bytes, status, code) of the errors nginx makes itself on
# the API's paths.
API_CASES = [
    ("duplicate Authorization", request("GET", "/api/calendar/events", [
        b"Authorization: Bearer a", b"Authorization: Bearer b"]), 400, "bad_request"),
    ("Content-Length with chunked", request("POST", "/api/calendar", [
        b"Content-Type: application/json", b"Content-Length: 5",
        b"Transfer-Encoding: chunked"], b"0\r\n\r\n"), 400, "bad_request"),
    ("duplicate Content-Length", request("POST", "/api/calendar", [
        b"Content-Length: 2", b"Content-Length: 3"], b"{}"), 400, "bad_request"),
    ("duplicate Host", request("GET", "/api/health", [
        b"Host: a", b"Host: b"]), 400, "bad_request"),
    ("no Host in HTTP/1.1", b"GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n",
     400, "bad_request"),
    ("a header line over 8 KiB", request("GET", "/api/health", [LONG_HEADER]),
     400, "bad_request"),
    ("headers over 32 KiB", request("GET", "/api/health", MANY_HEADERS), 400, "bad_request"),
    ("a request line over 8 KiB", request("GET", "/api/calendar?from=" + "a" * 9000),
     400, "bad_request"),
    ("a path above the root", request("GET", "/api/../../etc/passwd"), 400, "bad_request"),
    ("a lower-case method", request("get", "/api/health"), 400, "bad_request"),
    ("an unknown Transfer-Encoding", request("POST", "/api/calendar", [
        b"Content-Type: application/json", b"Transfer-Encoding: gzip"]), 400, "bad_request"),
    ("HTTP/2.0 in a request line", request("GET", "/api/health", version=b"HTTP/2.0"),
     400, "bad_request"),
    ("TRACE on a path of the API", request("TRACE", "/api/health"), 405, "method_not_allowed"),
    ("TRACE on a path the API does not have", request("TRACE", "/api/nowhere"),
     404, "not_found"),
    ("/api itself", request("GET", "/api"), 404, "not_found"),
    ("a body over 64 KiB", request("POST", "/api/calendar", [
        b"Content-Type: application/json", b"Content-Length: %d" % (70 * 1024)],
        b"{" + b" " * (70 * 1024 - 2) + b"}"), 413, "body_too_large"),
    ("a chunked body over 64 KiB", request("POST", "/api/payments/mercadopago", [
        b"Content-Type: application/json", b"Transfer-Encoding: chunked"],
        b"%x\r\n" % (70 * 1024) + b"x" * (70 * 1024) + b"\r\n0\r\n\r\n"), 413, "body_too_large"),
]

# The same on /oauth: nginx's own pages are HTML there.
OAUTH_CASES = [
    ("duplicate Authorization", request("GET", "/oauth/google/status", [
        b"Authorization: Bearer a", b"Authorization: Bearer b"]), 400),
    ("Content-Length with chunked", request("POST", "/oauth/google/start", [
        b"Content-Length: 5", b"Transfer-Encoding: chunked"], b"0\r\n\r\n"), 400),
    ("a header line over 8 KiB", request("GET", "/oauth/google/callback", [LONG_HEADER]), 400),
    ("a request line over 8 KiB",
     request("GET", "/oauth/google/callback?code=" + "a" * 9000), 400),
    ("a path above the root", request("GET", "/oauth/../../etc/passwd"), 400),
    ("TRACE", request("TRACE", "/oauth/google/start"), 405),
    ("an /oauth path that is not there", request("GET", "/oauth/nowhere"), 404),
    ("a body over 64 KiB", request("POST", "/oauth/google/start", [
        b"Content-Length: %d" % (70 * 1024)], b"x" * (70 * 1024)), 413),
]


class NginxOwnErrors(unittest.TestCase):
    def assertJsonError(self, r, status, code):
        self.assertIsNotNone(r, "no reply")
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
        body = r.json()
        self.assertEqual(set(body), {"error"}, r)
        self.assertEqual(set(body["error"]), {"code", "message"}, r)
        self.assertEqual(body["error"]["code"], code, r)
        self.assertTrue(body["error"]["message"], r)
        self.assertRegex(r.header("X-Request-Id") or "", r"^[0-9a-f]{32}$", r)
        self.assertEqual(r.header("Cache-Control"), "no-store", r)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", r)

    def assertHtmlPage(self, r, status):
        self.assertIsNotNone(r, "no reply")
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8", r)
        text = r.body.decode("utf-8")
        self.assertTrue(text.startswith("<!DOCTYPE html>"), r)
        self.assertIn('<html lang="es">', text)
        self.assertNotIn("nginx", text)
        self.assertNotIn('"error"', text)
        self.assertRegex(r.header("X-Request-Id") or "", r"^[0-9a-f]{32}$", r)
        self.assertEqual(r.header("Cache-Control"), "no-store", r)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", r)
        self.assertEqual(r.header("X-Frame-Options"), "DENY", r)
        csp = r.header("Content-Security-Policy") or ""
        self.assertIn("default-src 'none'", csp, r)
        self.assertIn("frame-ancestors 'none'", csp, r)

    def test_errors_nginx_makes_on_the_api_are_the_contracts_json(self):
        for name, data, status, code in API_CASES:
            with self.subTest(case=name):
                r = raw(data)
                self.assertJsonError(r, status, code)
                line = data.split(b"\r\n", 1)[0].split(b" ")
                method, path = line[0].decode(), line[1].decode()
                if method.isupper() and len(path) < 1000:
                    harness.check_documented(method, path, r)
        # The reply's request id is the one nginx logs for it.
        r = raw(request("TRACE", "/api/calendar"))
        self.assertTrue(stack().wait_for(
            lambda: r.header("X-Request-Id") in stack().log("nginx-access.log")))

    def test_a_405_of_nginx_has_the_contracts_allow(self):
        # TRACE is refused by nginx before any program sees it; its Allow is
        # the one the programs give (a PUT reaches them).
        paths = ["/api/calendar", "/api/calendar/slots", "/api/calendar/events",
                 "/api/calendar/holds", "/api/calendar/notifications",
                 "/api/calendar/0123456789abcdef0123456789abcdef",
                 "/api/bookings/0123456789abcdef0123456789abcdef", "/api/health",
                 "/api/payments/mercadopago", "/api/payments/123456", "/api/metrics",
                 "/oauth/google/start", "/oauth/google/callback", "/oauth/google/status"]
        for path in paths:
            with self.subTest(path=path):
                program = stack().call("PUT", path)
                self.assertEqual(program.status, 405, program)
                r = raw(request("TRACE", path + "?a=1"))
                self.assertEqual(r.status, 405, r)
                self.assertEqual(r.header("Allow"), program.header("Allow"), path)
        # Nowhere else is there an Allow on nginx's pages.
        r = raw(request("GET", "/api"))
        self.assertIsNone(r.header("Allow"))

    def test_errors_nginx_makes_on_oauth_are_small_html_pages(self):
        for name, data, status in OAUTH_CASES:
            with self.subTest(case=name):
                self.assertHtmlPage(raw(data), status)
        r = raw(request("TRACE", "/oauth/google/callback"))
        self.assertEqual(r.header("Allow"), "GET, HEAD")

    def test_head_gets_the_headers_without_a_body(self):
        r = raw(request("HEAD", "/api"))
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.body, b"")
        r = raw(request("HEAD", "/oauth/nowhere"))
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(r.body, b"")

    def test_a_program_down_is_json_on_the_api_and_a_page_on_oauth(self):
        try:
            stop_program("oauth_callback")
            stop_program("calendar_get")
            r = raw(request("GET", "/api/health"))
            self.assertJsonError(r, 502, "service_unavailable")
            self.assertHtmlPage(raw(request("GET", "/oauth/google/start")), 502)
        finally:
            stack().script("start")
        self.assertEqual(stack().get("/api/health").status, 200)


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

def stop_program(name):
    pids = stack().pids(name)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    stack().wait_for(lambda: not any(_alive(p) for p in pids))


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def every_log_file():
    """(path, bytes) of every file under the stack's log directory."""
    out = []
    for top, _dirs, files in os.walk(os.path.join(stack().dir, "log")):
        for name in files:
            path = os.path.join(top, name)
            with open(path, "rb") as f:
                out.append((path, f.read()))
    return out


class Timeout:
    """A short fastcgi_read_timeout on the stack's nginx (a file of its
    extra/ folder), so a program that does not answer gives 504 in
    seconds; removed again on exit."""

    def __init__(self, seconds):
        self.path = os.path.join(stack().dir, "nginx", "extra", "edges-timeout.conf")
        self.seconds = seconds

    def _reload(self, expect):
        stack().script("start")
        ok = stack().wait_for(lambda: raw(request("GET", "/_edges_probe")).status == expect,
                              timeout=20)
        if not ok:
            raise AssertionError("nginx did not take its new configuration")

    def __enter__(self):
        with open(self.path, "w") as f:
            f.write("fastcgi_read_timeout %ds;\nlocation = /_edges_probe { return 204; }\n"
                    % self.seconds)
        self._reload(204)
        return self

    def __exit__(self, *exc):
        os.unlink(self.path)
        self._reload(404)


class Logs(unittest.TestCase):
    def test_no_query_string_reaches_any_log(self):
        mark = "SECRET" + secrets.token_hex(6)
        code, state, token = mark + "CODE", mark + "STATE", mark + "TOKEN"
        callback = "/oauth/google/callback?" + urllib.parse.urlencode(
            {"code": code, "state": state})
        api = "/api/payments/mercadopago?token=" + token
        health = "/api/health?token=" + token
        sent = []

        def send(data, status, kind):
            r = raw(data)
            self.assertIsNotNone(r, data[:80])
            self.assertEqual(r.status, status, (data[:80], r))
            ctype = "application/json" if kind == "json" else "text/html"
            self.assertTrue(r.header("Content-Type").startswith(ctype), r)
            sent.append(r.header("X-Request-Id"))

        try:
            # A program killed: its socket is there, nobody listens (502).
            stop_program("oauth_callback")
            stop_program("payment_hook")
            send(request("GET", callback), 502, "html")
            send(request("POST", api, [b"Content-Type: application/json",
                                       b"Content-Length: 2"], b"{}"), 502, "json")
            # Its socket gone too (nginx logs that at "crit").
            for p in ("oauth_callback", "payment_hook"):
                os.unlink(os.path.join(stack().dir, "run", p + ".sock"))
            send(request("GET", callback), 502, "html")
            send(request("POST", api, [b"Content-Type: application/json",
                                       b"Content-Length: 2"], b"{}"), 502, "json")
        finally:
            stack().script("start")

        # A program that does not answer in time (504).
        stopped = stack().pids("oauth_callback") + stack().pids("calendar_get")
        with Timeout(2):
            try:
                for pid in stopped:
                    os.kill(pid, signal.SIGSTOP)
                send(request("GET", callback), 504, "html")
                send(request("GET", health), 504, "json")
            finally:
                for pid in stopped:
                    os.kill(pid, signal.SIGCONT)

        # Refusals of nginx itself, and the programs' own answers.
        send(request("GET", callback, [b"Cookie: a", LONG_HEADER]), 400, "html")
        send(request("GET", callback + "&x=" + "a" * 9000), 400, "html")
        send(request("TRACE", callback), 405, "html")
        send(request("GET", health, [b"Authorization: a", b"Authorization: b"]), 400, "json")
        send(request("POST", api, [b"Content-Length: %d" % (70 * 1024)], b"x" * (70 * 1024)),
             413, "json")
        send(request("GET", callback), 400, "html")  # the program: an unknown state
        send(request("GET", health), 400, "json")  # the program: invalid_query

        # Every request is in the access log (by its request id), and no
        # file of the log directory holds the query.
        self.assertTrue(stack().wait_for(
            lambda: all(rid in stack().log("nginx-access.log") for rid in sent)))
        access = stack().log("nginx-access.log")
        self.assertRegex(access, r'"GET /oauth/google/callback" 502 ')
        self.assertRegex(access, r'"GET /oauth/google/callback" 504 ')
        self.assertRegex(access, r'"POST /api/payments/mercadopago" 502 ')
        self.assertRegex(access, r'"TRACE /oauth/google/callback" 405 ')
        self.assertRegex(access, r'"POST /api/payments/mercadopago" 413 ')
        # Nothing left for sanitizers' or other programs' files to write.
        time.sleep(0.5)
        for path, data in every_log_file():
            self.assertNotIn(mark.encode(), data, "the query is in %s" % path)
        self.assertEqual(stack().get("/api/health").status, 200)


# ---------------------------------------------------------------------------
# The local database
# ---------------------------------------------------------------------------

def url_parts(url):
    u = urllib.parse.urlsplit(url)
    socket_path = urllib.parse.parse_qs(u.query)["socket"][0]
    return urllib.parse.unquote(u.username), urllib.parse.unquote(u.password), socket_path


def as_user(url, statement):
    """Runs SQL as the account of a mysql:// URL (the password in the
    environment, not the command line); the CompletedProcess."""
    user, password, sock = url_parts(url)
    env = {"PATH": "/usr/bin:/bin", "MYSQL_PWD": password}
    return subprocess.run(["mariadb", "--no-defaults", "--protocol=socket",
                           "--socket=" + sock, "-u" + user, "-N", "-B", "booking",
                           "-e", statement],
                          env=env, capture_output=True, text=True, timeout=60)


def read_env_file(path):
    p = subprocess.run(["bash", "-c", 'set -a; . "$1"; set +a; env -0', "_", path],
                       stdout=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"}, check=True)
    out = {}
    for item in p.stdout.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode()] = v.decode()
    return out


class Database(unittest.TestCase):
    def app_url(self):
        return stack().env["DATABASE_URL"]

    def migrate_url(self):
        return read_env_file(os.path.join(stack().dir, "run", "migrate.env"))[
            "MIGRATE_DATABASE_URL"]

    def test_the_programs_account_reads_and_writes_rows_only(self):
        url = self.app_url()
        self.assertEqual(url_parts(url)[0], "booking")
        p = as_user(url, "SELECT COUNT(*) FROM bookings")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = as_user(url, "SHOW GRANTS")
        grants = sorted(re.sub(r" IDENTIFIED BY PASSWORD .*", "", g)
                        for g in p.stdout.splitlines())
        self.assertEqual(grants, [
            "GRANT SELECT, INSERT, UPDATE, DELETE ON `booking`.* TO `booking`@`localhost`",
            "GRANT USAGE ON *.* TO `booking`@`localhost`"])
        for statement in ["CREATE TABLE edges_probe (a INT)",
                          "DROP TABLE bookings",
                          "ALTER TABLE bookings ADD COLUMN edges_probe INT",
                          "CREATE INDEX edges_probe ON bookings (status)",
                          "TRUNCATE TABLE calendar_events",
                          "CREATE DATABASE edges_probe",
                          "SELECT COUNT(*) FROM mysql.user",
                          "GRANT SELECT ON booking.* TO 'booking'@'localhost'"]:
            with self.subTest(statement=statement):
                p = as_user(url, statement)
                self.assertNotEqual(p.returncode, 0, statement)
                self.assertRegex(p.stderr, r"denied", statement)
        tables = {r[0] for r in stack().sql("SHOW TABLES")}
        self.assertIn("bookings", tables)
        self.assertNotIn("edges_probe", tables)

    def test_the_migrations_have_an_account_of_their_own(self):
        url = self.migrate_url()
        self.assertEqual(url_parts(url)[0], "booking_migrate")
        self.assertNotEqual(url_parts(url)[1], url_parts(self.app_url())[1])
        # The programs never see it.
        self.assertNotIn("MIGRATE_DATABASE_URL", stack().env)
        with open(os.path.join(stack().dir, "run", "stack.env")) as f:
            self.assertNotIn(url_parts(url)[1], f.read())
        # It may change the schema of booking, and nothing outside it.
        p = as_user(url, "CREATE TABLE edges_probe (a INT); DROP TABLE edges_probe")
        self.assertEqual(p.returncode, 0, p.stderr)
        for statement in ["SELECT COUNT(*) FROM mysql.user", "CREATE DATABASE edges_probe"]:
            with self.subTest(statement=statement):
                p = as_user(url, statement)
                self.assertNotEqual(p.returncode, 0, statement)
        # make migrate (stack.sh migrate) runs with it.
        out = stack().script("migrate").stdout
        self.assertRegex(out, r"0 applied, \d+ already there")

    def test_root_needs_its_password(self):
        _user, _password, sock = url_parts(self.app_url())
        for args in (["-uroot"], ["-uroot", "--password="], ["-u", ""], ["-ubooking"]):
            with self.subTest(args=args):
                p = subprocess.run(["mariadb", "--no-defaults", "--protocol=socket",
                                    "--socket=" + sock] + args + ["-e", "SELECT 1"],
                                   env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                                   text=True, timeout=60)
                self.assertNotEqual(p.returncode, 0, args)
                self.assertIn("Access denied", p.stderr)
        # With the password of the root settings file it can; root is
        # root@localhost alone, and there is no anonymous account.
        users = sorted(tuple(r) for r in stack().sql("SELECT user, host FROM mysql.user"))
        self.assertEqual(users, [("booking", "localhost"), ("booking_migrate", "localhost"),
                                 ("mariadb.sys", "localhost"), ("root", "localhost")])
        plugins = stack().sql("SELECT plugin FROM mysql.user WHERE user = 'root'")
        self.assertEqual(plugins, [["mysql_native_password"]])

    def test_the_socket_and_data_are_the_invoking_users(self):
        _user, _password, sock = url_parts(self.app_url())
        folder = os.path.dirname(sock)
        st = os.stat(folder)
        self.assertEqual(st.st_uid, os.getuid())
        self.assertEqual(stat.S_IMODE(st.st_mode) & 0o027, 0, oct(st.st_mode))
        if os.getuid() != 0:
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertNotEqual(os.path.realpath(folder),
                            os.path.realpath(os.path.join(stack().dir, "run")))
        data = os.stat(os.path.join(stack().dir, "mysql"))
        self.assertEqual(stat.S_IMODE(data.st_mode) & 0o077, 0, oct(data.st_mode))

    def test_files_with_secrets_are_0600(self):
        for name in ("secrets.env", "mariadb-root.cnf", os.path.join("run", "stack.env"),
                     os.path.join("run", "migrate.env")):
            with self.subTest(name=name):
                st = os.stat(os.path.join(stack().dir, name))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, oct(st.st_mode))
                self.assertEqual(st.st_uid, os.getuid())


if __name__ == "__main__":
    unittest.main()
