"""Each program run as plain CGI (no FastCGI socket: the request in the
environment, the body on standard input) answers correctly."""

import os
import re
import subprocess
import unittest

import harness


def stack():
    return harness.stack


def cgi(program, env_extra, body=b""):
    env = stack().program_env()
    env.update({"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
                "QUERY_STRING": ""})
    env.update(env_extra)
    p = subprocess.run([os.path.join(stack().bin_dir, program)], input=body, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stderr[-500:])
    head, _, payload = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    m = re.match(r"^Status: (\d{3}) ", lines[0])
    assert m, p.stdout
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        headers[k.lower()] = v
    return p.returncode, int(m.group(1)), headers, payload, p.stderr.decode()


class PlainCgi(unittest.TestCase):
    def test_health_from_the_database(self):
        rc, status, headers, body, log = cgi("calendar_get", {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health"})
        self.assertEqual(rc, 0)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json; charset=utf-8")
        self.assertEqual(int(headers["content-length"]), len(body))
        self.assertRegex(headers["x-request-id"], r"^[0-9a-f]{32}$")
        self.assertIn(b'"database":"ok"', body)
        self.assertIn("GET /api/health 200", log)

    def test_path_from_script_name_and_path_info(self):
        _, status, _, body, _ = cgi("calendar_get", {
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "/api", "PATH_INFO": "/health"})
        self.assertEqual(status, 200, body)

    def test_request_id_from_the_server(self):
        _, _, headers, _, _ = cgi("calendar_get", {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health", "REQUEST_ID": "abc-123"})
        self.assertEqual(headers["x-request-id"], "abc-123")
        _, _, headers, _, _ = cgi("calendar_get", {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health",
            "REQUEST_ID": "bad id\r\nX-Evil: 1"})
        self.assertRegex(headers["x-request-id"], r"^[0-9a-f]{32}$")
        self.assertNotIn("x-evil", headers)

    def test_head(self):
        _, status, headers, body, _ = cgi("calendar_get", {
            "REQUEST_METHOD": "HEAD", "REQUEST_URI": "/api/health"})
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertGreater(int(headers["content-length"]), 0)

    def test_errors(self):
        _, status, headers, body, _ = cgi("calendar_post", {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/calendar/holds"})
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "POST")
        _, status, _, body, _ = cgi("oauth_callback", {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/nowhere?x=1"})
        self.assertEqual(status, 404)
        self.assertIn(b'"code":"not_found"', body)
        _, status, _, body, _ = cgi("payment_hook", {"REQUEST_URI": "/api/payments/mercadopago"})
        self.assertEqual(status, 400)
        self.assertIn(b'"code":"bad_request"', body)
        _, status, _, _, _ = cgi("calendar_get", {
            "REQUEST_METHOD": "get", "REQUEST_URI": "/api/health"})
        self.assertEqual(status, 400)

    def test_oversized_body_refused_before_reading(self):
        # Content-Length says 70000 but only 10 bytes follow: a program that
        # read first would see a short body (400); it must say 413 at once.
        _, status, _, body, _ = cgi("payment_hook", {
            "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/payments/mercadopago",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "70000"}, b"0123456789")
        self.assertEqual(status, 413, body)
        self.assertIn(b'"code":"body_too_large"', body)

    def test_malformed_content_length(self):
        for cl in ("-1", "1e3", " 10", "0x10", "99999999999999999999999"):
            with self.subTest(cl=cl):
                _, status, _, body, _ = cgi("payment_hook", {
                    "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/payments/mercadopago",
                    "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": cl}, b"{}")
                self.assertEqual(status, 400, body)

    def test_database_url_wrong_password_is_503_not_a_crash(self):
        env_url = stack().env["DATABASE_URL"]
        bad = re.sub(r"^mysql://booking:[^@]*@", "mysql://booking:wrong@", env_url)
        rc, status, _, body, log = cgi("calendar_get", {
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health", "DATABASE_URL": bad})
        self.assertEqual(rc, 0)
        self.assertEqual(status, 503)
        self.assertIn(b'"database":"unreachable"', body)
        self.assertNotIn("wrong", log.replace("wrong password", ""))


if __name__ == "__main__":
    unittest.main()
