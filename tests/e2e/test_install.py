"""make install and the systemd units, with no running systemd needed.

- `make install DESTDIR=...` gives the expected tree, renders every unit,
  and never overwrites an environment file that is already there.
- `systemd-analyze verify` accepts every unit (against a copy of this
  machine's own system units, under the install root), and
  `systemd-analyze security --offline=true` scores every service "OK" or
  better (the scores are printed).
- A program handed its listening socket as systemd hands it (the
  LISTEN_FDS protocol, and StandardInput=socket) answers through nginx.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

import harness

ROOT = harness.ROOT
FASTCGI = ["calendar_get", "calendar_post", "oauth_callback", "payment_hook"]
PREFIX = "/opt/booking"


def stack():
    return harness.stack


def install(dest, *extra):
    return subprocess.run(["make", "-s", "BUILD=release", "install", "DESTDIR=" + dest]
                          + list(extra), cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def units(dest):
    d = os.path.join(dest, "etc/systemd/system")
    return sorted(os.path.join(d, n) for n in os.listdir(d))


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="booking-install-")
        p = install(cls.dest)
        if p.returncode != 0:
            raise AssertionError("make install failed:\n" + p.stdout + p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dest, *[p.lstrip("/") for p in parts])

    def test_install_gives_the_expected_tree(self):
        for p in FASTCGI + ["reconcile", "migrate", "doctor"]:
            exe = self.path(PREFIX, "bin", p)
            self.assertTrue(os.access(exe, os.X_OK), exe)
        sql = sorted(os.listdir(self.path(PREFIX, "share/sql")))
        self.assertEqual(sql, sorted(n for n in os.listdir(os.path.join(ROOT, "sql"))
                                     if n.endswith(".sql")))
        for n in ("booking-http.conf", "booking-server.conf", "fastcgi_params"):
            self.assertTrue(os.path.isfile(self.path(PREFIX, "share/nginx", n)), n)
        names = [os.path.basename(u) for u in units(self.dest)]
        expected = ["booking-%s.%s" % (p, k) for p in FASTCGI for k in ("service", "socket")]
        expected += ["booking-migrate.service", "booking-reconcile.service",
                     "booking-reconcile.timer"]
        self.assertEqual(names, sorted(expected))
        for u in units(self.dest):
            with open(u) as f:
                text = f.read()
            self.assertNotIn("@", text.replace("@system-service", "")
                             .replace("@privileged", "").replace("@resources", ""), u)
        with open(self.path("/etc/systemd/system/booking-calendar_get.socket")) as f:
            sock = f.read()
        self.assertIn("ListenStream=/run/booking/calendar_get.sock", sock)
        self.assertIn("Accept=no", sock)
        with open(self.path("/etc/systemd/system/booking-calendar_get.service")) as f:
            svc = f.read()
        for line in ("ExecStart=/opt/booking/bin/calendar_get", "StandardInput=socket",
                     "User=booking", "EnvironmentFile=/etc/booking/booking.env",
                     "Restart=on-failure", "ProtectSystem=strict", "ProtectHome=yes",
                     "PrivateTmp=yes", "PrivateDevices=yes", "NoNewPrivileges=yes",
                     "CapabilityBoundingSet=",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                     "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"):
            self.assertIn("\n" + line + "\n", svc)
        # The nginx include points at the sockets systemd listens on.
        with open(self.path(PREFIX, "share/nginx/booking-http.conf")) as f:
            self.assertIn("unix:/run/booking/calendar_get.sock", f.read())
        with open(self.path("/etc/sysusers.d/booking.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^u booking ")

    def test_the_installed_doctor_finds_the_installed_sql(self):
        # It runs with the stack's environment: the installed sql/ is the
        # one the stack's database was migrated with.
        p = subprocess.run([self.path(PREFIX, "bin/doctor"), "--json"],
                           env=stack().program_env(), capture_output=True, text=True,
                           timeout=120)
        checks = {c["name"]: c for c in __import__("json").loads(p.stdout)["checks"]}
        self.assertEqual(checks["migrations"]["status"], "ok", checks["migrations"])

    def test_the_environment_file_is_never_overwritten(self):
        env = self.path("/etc/booking/booking.env")
        self.assertEqual(os.stat(env).st_mode & 0o777, 0o640)
        with open(env) as f:
            text = f.read()
        for var in ("DATABASE_URL", "GOOGLE_CALENDAR_ID", "AUTH_GOOGLE_ID", "ADMIN_EMAIL",
                    "MP_ACCESS_TOKEN", "TOKEN_ENCRYPTION_KEY", "INTERNAL_API_TOKEN"):
            self.assertRegex(text, r"(?m)^%s=" % var)
        self.assertEqual(os.stat(self.path("/etc/booking/migrate.env")).st_mode & 0o777, 0o600)
        with open(self.path("/etc/booking/migrate.env")) as f:
            self.assertRegex(f.read(), r"(?m)^MIGRATE_DATABASE_URL=")
        self.assertNotIn("MIGRATE_DATABASE_URL", text)
        with open(self.path("/etc/systemd/system/booking-migrate.service")) as f:
            self.assertIn("\nEnvironmentFile=-/etc/booking/migrate.env\n", f.read())
        # systemd does not strip a comment after a value.
        self.assertEqual([l for l in text.splitlines()
                          if re.match(r"^[A-Z_]+=.*\s#", l)], [])
        with open(env, "w") as f:
            f.write("ADMIN_EMAIL=head@school.example\n")
        p = install(self.dest)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("kept", p.stdout)
        with open(env) as f:
            self.assertEqual(f.read(), "ADMIN_EMAIL=head@school.example\n")

    def test_systemd_accepts_every_unit(self):
        # verify resolves dependencies such as sysinit.target: give it this
        # machine's own units under the install root.
        for d in ("/usr/lib/systemd/system", "/lib/systemd/system"):
            if os.path.isdir(d):
                shutil.copytree(d, self.path("/usr/lib/systemd/system"), symlinks=True,
                                dirs_exist_ok=True)
                break
        p = subprocess.run(["systemd-analyze", "verify", "--root=" + self.dest]
                           + units(self.dest), capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual((p.stdout + p.stderr).strip(), "", "verify had something to say")
        # And it would say something: a unit whose program is missing.
        exe = self.path(PREFIX, "bin/reconcile")
        os.rename(exe, exe + ".away")
        try:
            p = subprocess.run(["systemd-analyze", "verify", "--root=" + self.dest,
                                self.path("/etc/systemd/system/booking-reconcile.service")],
                               capture_output=True, text=True)
        finally:
            os.rename(exe + ".away", exe)
        self.assertNotEqual(p.returncode, 0)

    def test_every_service_is_sandboxed(self):
        scores = {}
        for u in units(self.dest):
            if not u.endswith(".service"):
                continue
            p = subprocess.run(["systemd-analyze", "security", "--offline=true",
                                "--root=" + self.dest, u], capture_output=True, text=True)
            m = re.search(r"Overall exposure level for (\S+): ([0-9.]+) (\w+)", p.stdout)
            self.assertIsNotNone(m, p.stdout + p.stderr)
            scores[m.group(1)] = (float(m.group(2)), m.group(3))
        for name, (score, word) in sorted(scores.items()):
            print("  systemd-analyze security: %-34s %.1f %s" % (name, score, word))
        self.assertEqual(len(scores), 6)
        for name, (score, word) in scores.items():
            self.assertIn(word, ("OK", "SAFE"), name)
            self.assertLess(score, 2.0, name)


class SocketActivation(unittest.TestCase):
    """calendar_get taken out of spawn-fcgi's hands and started as systemd
    starts it; put back afterwards."""

    def setUp(self):
        self.sock_path = os.path.join(stack().dir, "run", "calendar_get.sock")
        for pid in stack().pids("calendar_get"):
            os.kill(pid, signal.SIGTERM)
        stack().wait_for(lambda: not stack().alive("calendar_get"), timeout=15)
        os.unlink(self.sock_path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.sock_path)
        os.chmod(self.sock_path, 0o666)  # nginx's workers connect to it
        self.listener.listen(16)
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.listener.close()
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        stack().script("start")
        self.assertTrue(stack().wait_for(
            lambda: stack().get("/api/health").status == 200, timeout=15))

    def serve_and_stop(self):
        r = stack().get("/api/health")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"] in ("ok", "degraded"), True, r)
        r = stack().get("/api/calendar/slots?date=soon")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["code"], "invalid_parameter")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=15), 0)

    def test_listen_fds_protocol(self):
        # As systemd and systemd-socket-activate do: the socket as fd 3,
        # LISTEN_FDS=1 and LISTEN_PID naming the program's own pid.
        env = stack().program_env()
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec 3<&0 0</dev/null; LISTEN_PID=$$ LISTEN_FDS=1 '
             'LISTEN_FDNAMES=calendar_get exec "$0"',
             os.path.join(stack().bin_dir, "calendar_get")],
            stdin=self.listener.fileno(), env=env,
            stderr=open(os.path.join(stack().dir, "log", "calendar_get.log"), "a"))
        self.serve_and_stop()

    def test_standard_input_socket(self):
        # StandardInput=socket: the listening socket on fd 0.
        self.proc = subprocess.Popen(
            [os.path.join(stack().bin_dir, "calendar_get")],
            stdin=self.listener.fileno(), env=stack().program_env(),
            stderr=open(os.path.join(stack().dir, "log", "calendar_get.log"), "a"))
        self.serve_and_stop()

    def test_listen_fds_for_another_process_are_left_alone(self):
        # A LISTEN_PID that is not ours (inherited): fd 0 is still used.
        env = stack().program_env()
        env.update({"LISTEN_PID": "1", "LISTEN_FDS": "1"})
        self.proc = subprocess.Popen(
            [os.path.join(stack().bin_dir, "calendar_get")],
            stdin=self.listener.fileno(), env=env,
            stderr=open(os.path.join(stack().dir, "log", "calendar_get.log"), "a"))
        self.serve_and_stop()


if __name__ == "__main__":
    unittest.main()
