"""The end-to-end harness: a whole stack (MariaDB, the programs under
spawn-fcgi, nginx, the simulator) in a temporary directory on free ports,
and small helpers to talk to it, to the simulator and to the database.

Tests import `stack` (the running Stack) from here; tests/e2e/run.py
starts it before the first test and stops it after the last, also when a
test fails or the run is interrupted.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACK = os.path.join(ROOT, "scripts", "stack.sh")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:300])


# docs/openapi.yaml, loaded on the first reply from the stack.
_document = None


def check_documented(method, path, reply):
    """A JSON reply from the stack must be what docs/openapi.yaml says for
    its path, method and status; AssertionError otherwise."""
    global _document
    if _document is None:
        import openapi
        _document = openapi.Document()
    problems = _document.check(method, path.split("?", 1)[0], reply.status,
                               reply.header("Content-Type"), reply.body)
    if problems:
        raise AssertionError("the reply is not as docs/openapi.yaml says:\n  "
                             + "\n  ".join(problems[:10]))


def request(port, method, path, body=None, headers=None, timeout=30):
    """One HTTP/1.1 request to 127.0.0.1:port; a Reply. A reply from the
    stack's nginx is checked against docs/openapi.yaml."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        reply = Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()
    if stack is not None and port == stack.port:
        check_documented(method, path, reply)
    return reply


def read_env_file(path):
    """The variables a file of shell assignments (stack.sh's stack.env)
    sets, as bash reads them (values unquoted)."""
    p = subprocess.run(["bash", "-c", 'set -a; . "$1"; set +a; env -0', "_", path],
                       stdout=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"}, check=True)
    env = {}
    for item in p.stdout.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode()] = v.decode()
    return env


# The settings the tests' stack runs with (besides the simulator's): a
# short cache lifetime, so tests of freshness and staleness wait seconds.
TEST_ENV = {
    "CALENDAR_CACHE_TTL_S": "3",
    "CALENDAR_MAX_STALE_S": "12",
}


class Stack:
    def __init__(self, bin_dir):
        self.bin_dir = os.path.abspath(bin_dir)
        self.dir = tempfile.mkdtemp(prefix="booking-e2e-")
        os.chmod(self.dir, 0o755)  # the programs run as nobody under root
        self.port = free_port()
        self.env = {}
        self.cache_mark = None  # see forget_cache()
        self._reads = {}  # path: when get() last read it
        self._forgot_at = 0.0  # see forget_cache()
        self.env_file = os.path.join(self.dir, "test.env")
        with open(self.env_file, "w") as f:
            for k, v in TEST_ENV.items():
                f.write("%s=%s\n" % (k, v))

    def script(self, *args, check=True):
        env = dict(os.environ)
        env.update({"VAR_DIR": self.dir, "PORT": str(self.port),
                    "BIN_DIR": self.bin_dir, "ENV_FILE": self.env_file, "SIM": "on"})
        p = subprocess.run([STACK] + list(args), env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=180)
        if check and p.returncode != 0:
            raise RuntimeError("stack.sh %s failed:\n%s" % (" ".join(args), p.stdout))
        return p

    def start(self):
        out = self.script("start").stdout
        self.env = self.read_env()
        self.sim_port = int(self.env["SIMULATOR_PORT"])
        return out

    def stop(self, remove=True):
        self.script("stop", check=False)
        if remove and not os.environ.get("KEEP_E2E"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def read_env(self):
        """stack.env as the programs see it (values unquoted by bash)."""
        return read_env_file(os.path.join(self.dir, "run", "stack.env"))

    def program_env(self):
        """The environment the programs were started with. A sanitizer's
        report from a program a test runs itself (plain CGI, reconcile,
        migrate) goes to the stack's log folder, which the runner scans
        like the FastCGI programs' logs."""
        env = {"PATH": "/usr/bin:/bin"}
        for k, v in self.env.items():
            if k not in ("PWD", "SHLVL", "_"):
                env[k] = v
        to = os.path.join(self.dir, "log", "sanitizer")
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            given = os.environ.get(var, "")
            env[var] = (given + ":" if given else "") + "log_path=" + to
        return env

    # ---- HTTP ----

    def get(self, path, fresh=False, **kw):
        """A GET through nginx. nginx's cache of the public reads may
        answer it with a copy made up to two seconds ago (a copy lasts to
        the end of its second, and one more while it is refreshed), and
        calendar_get its own slots reply to the end of its second. With
        fresh, and after forget_cache() (reset), neither is left: nginx's
        copies are purged (purge_nginx_cache()) and, when this path was
        read in the current second, the read waits for the next one."""
        last = self._reads.get(path)
        if fresh or (last is not None and last < self._forgot_at):
            self.purge_nginx_cache()
            # calendar_get keeps a slots reply to the end of its second.
            if last is not None and int(last) == int(time.time()):
                time.sleep(int(last) + 1.01 - time.time())
        r = request(self.port, "GET", path, **kw)
        self._reads[path] = time.time()
        return r

    def get_fresh(self, path, **kw):
        return self.get(path, fresh=True, **kw)

    def purge_nginx_cache(self):
        """Empties nginx's cache of the public reads (the stack's
        nginx/cache folder): nginx takes a copy whose file is gone for a
        miss. Tests that change what a read says, then read it, purge
        rather than wait out the copies' second."""
        root = os.path.join(self.dir, "nginx", "cache")
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    os.unlink(os.path.join(dirpath, name))
                except FileNotFoundError:
                    pass

    def call(self, method, path, **kw):
        return request(self.port, method, path, **kw)

    def internal(self):
        return {"Authorization": "Bearer " + self.env["INTERNAL_API_TOKEN"]}

    # ---- the simulator ----

    def sim(self, method, path, body=None):
        r = request(self.sim_port, method, path, body=body)
        if r.status >= 400:
            raise RuntimeError("simulator %s %s: %r" % (method, path, r))
        return r.json() if r.body else None

    # ---- the database ----

    def db_client(self, program="mariadb"):
        """The command line of a MariaDB client (mariadb, mariadb-dump)
        logged in as the stack's database root: its socket and password
        are in the client settings stack.sh writes (mode 600)."""
        return [program, "--defaults-file=" + os.path.join(self.dir, "mariadb-root.cnf")]

    def sql(self, statement):
        """Runs SQL as the database's root; rows as lists of strings
        (None for NULL). Tests pass only literals they wrote."""
        p = subprocess.run(
            self.db_client() + ["-N", "-B", "booking", "-e", statement],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("SQL failed: %s" % p.stderr)
        rows = []
        for line in p.stdout.splitlines():
            rows.append([None if c == "NULL" else c for c in line.split("\t")])
        return rows

    def forget_cache(self, also=None):
        """Empties the availability cache (then runs the SQL in also, if
        any). The latest success the cache held is remembered in
        cache_mark: until a TTL after it a program may still serve the
        copy it keeps in memory, whatever the tables say."""
        row = self.sql("SELECT MAX(lastSuccessAt) FROM calendar_sync")
        last = row[0][0] if row else None
        if last is not None and (self.cache_mark is None or last > self.cache_mark):
            self.cache_mark = last
        self.sql("DELETE FROM calendar_events; DELETE FROM calendar_sync"
                 + ("; " + also if also else ""))
        self.purge_nginx_cache()
        self._forgot_at = time.time()

    def stop_db(self):
        self.script("stop-db")

    def start_db(self):
        self.script("start-db")

    # ---- processes and logs ----

    def pids(self, program):
        path = os.path.join(self.dir, "run", program + ".pid")
        with open(path) as f:
            return sorted(int(x) for x in f.read().split())

    def alive(self, program):
        for pid in self.pids(program):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
        return True

    def log(self, name):
        path = os.path.join(self.dir, "log", name)
        with open(path, errors="replace") as f:
            return f.read()

    def logs(self):
        """Every log file's text, by name."""
        out = {}
        logdir = os.path.join(self.dir, "log")
        if not os.path.isdir(logdir):
            return out
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), errors="replace") as f:
                out[name] = f.read()
        return out

    def wait_for(self, predicate, timeout=10.0, interval=0.05):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()


stack = None  # the running Stack, set by run.py
