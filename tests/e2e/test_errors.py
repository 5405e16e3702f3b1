"""The contract's errors through nginx: oversized, malformed and
wrong-method requests, unknown paths, the internal token. None of them
takes a program down."""

import socket
import unittest

import harness


def stack():
    return harness.stack


class Errors(unittest.TestCase):
    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
        body = r.json()
        self.assertEqual(set(body), {"error"})
        self.assertEqual(set(body["error"]), {"code", "message"})
        self.assertEqual(body["error"]["code"], code)
        self.assertTrue(body["error"]["message"])
        self.assertTrue(r.header("X-Request-Id"))
        return body["error"]["message"]

    def test_body_over_64_kib_is_413(self):
        r = stack().call("POST", "/api/calendar", body=b"{" + b" " * (70 * 1024) + b"}",
                         headers={"Content-Type": "application/json"})
        self.assertError(r, 413, "body_too_large")
        r = stack().call("POST", "/api/payments/mercadopago", body=b"x" * (65 * 1024 + 1),
                         headers={"Content-Type": "application/json"})
        self.assertError(r, 413, "body_too_large")

    def test_body_of_exactly_64_kib_passes_nginx(self):
        r = stack().call("POST", "/api/calendar", body=b" " * (64 * 1024),
                         headers={"Content-Type": "application/json"})
        self.assertError(r, 401, "unauthorized")  # it reached the program

    def test_wrong_method_is_405_with_allow(self):
        # The OAuth pages answer a page instead (test_oauth_abuse.HtmlOnly).
        cases = [
            ("POST", "/api/health", "GET, HEAD"),
            ("DELETE", "/api/health", "GET, HEAD"),
            ("PUT", "/api/calendar", "GET, HEAD, POST"),
            ("DELETE", "/api/calendar", "GET, HEAD, POST"),
            ("GET", "/api/calendar/holds", "POST"),
            ("GET", "/api/calendar/notifications", "POST"),
            ("DELETE", "/api/calendar/notifications", "POST"),
            ("GET", "/api/calendar/0123456789abcdef0123456789abcdef", "PATCH, DELETE"),
            ("POST", "/api/calendar/slots", "GET, HEAD"),
            ("PATCH", "/api/calendar/events", "GET, HEAD"),
            ("GET", "/api/payments/mercadopago", "POST"),
            ("POST", "/oauth/google/status", "GET, HEAD"),
            ("DELETE", "/api/bookings/0123456789abcdef0123456789abcdef", "GET, HEAD"),
        ]
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                r = stack().call(method, path)
                self.assertError(r, 405, "method_not_allowed")
                self.assertEqual(r.header("Allow"), allow)

    def test_unknown_paths_are_404(self):
        for path in ["/api/nowhere", "/api/calendar/a/b", "/api/healthz",
                     "/api/calendar/" + "a" * 129, "/api/bookings/"]:
            with self.subTest(path=path):
                self.assertError(stack().get(path), 404, "not_found")

    def test_query_outside_the_allowlist_is_400_naming_it(self):
        msg = self.assertError(stack().get("/api/calendar?colour=red"), 400, "invalid_query")
        self.assertIn("colour", msg)
        msg = self.assertError(stack().get("/api/calendar?from=a&from=b"), 400, "invalid_query")
        self.assertIn("from", msg)
        msg = self.assertError(stack().get("/api/calendar?from=%zz"), 400, "invalid_query")
        self.assertIn("from", msg)
        self.assertError(stack().get("/api/calendar?from=%00"), 400, "invalid_query")
        self.assertError(stack().get("/api/calendar?&"), 400, "invalid_query")
        self.assertError(stack().get("/api/health?x=1"), 400, "invalid_query")
        self.assertError(stack().get("/api/calendar?" + "a" * 3000), 400, "invalid_query")

    def test_internal_paths_need_the_token(self):
        paths = [("GET", "/api/calendar/events"),
                 ("GET", "/api/bookings/0123456789abcdef0123456789abcdef"),
                 ("POST", "/api/calendar"), ("POST", "/api/calendar/holds"),
                 ("PATCH", "/api/calendar/0123456789abcdef0123456789abcdef"),
                 ("DELETE", "/api/calendar/0123456789abcdef0123456789abcdef"),
                 ("GET", "/oauth/google/status")]
        token = stack().env["INTERNAL_API_TOKEN"]
        for method, path in paths:
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": "Bearer " + token[:-1]},
                            {"Authorization": "Bearer " + token + "x"},
                            {"Authorization": "Basic " + token}):
                with self.subTest(method=method, path=path, headers=headers):
                    r = stack().call(method, path, headers=headers)
                    self.assertError(r, 401, "unauthorized")
                    self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
                    self.assertNotIn(token, r.body.decode())
            r = stack().call(method, path, headers=stack().internal())
            self.assertNotEqual(r.status, 401, (method, path, r))

    def test_malformed_http_never_takes_a_program_down(self):
        before = {p: stack().pids(p) for p in ("calendar_get", "calendar_post")}
        raw = [
            b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"POST /api/calendar HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
            b"GET /api/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/health?%%%%% HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/calendar?from=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
            b"BREW /api/calendar HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 6000 + b"\r\n\r\n",
            b"POST /api/calendar HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n",
            b"\x00\x01\x02garbage\r\n\r\n",
        ]
        for data in raw:
            with socket.create_connection(("127.0.0.1", stack().port), timeout=5) as s:
                s.sendall(data)
                try:
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
        for p, pids in before.items():
            self.assertEqual(stack().pids(p), pids)
            self.assertTrue(stack().alive(p), p)
        self.assertEqual(stack().get("/api/health").status, 200)

    def test_unsupported_http_method_token(self):
        r = stack().call("BREW", "/api/calendar")
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "GET, HEAD, POST")


if __name__ == "__main__":
    unittest.main()
