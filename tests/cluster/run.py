#!/usr/bin/env python3
"""The programs on a Galera cluster: three nodes on the loopback, two
application hosts (DATABASE_URL naming the nodes in another order, so two
nodes take writes), one nginx in front of both (scripts/cluster.sh).

Each scenario asserts that nothing was lost and nothing doubled, and
prints its figures (rounds, conflicts the cluster reported, 503s, time to
recover). The end-to-end suite's helpers (tests/e2e) plant holds and
payments here too: harness.stack is this cluster.

    python3 tests/cluster/run.py [-k NAME] [--rounds N] [--bin-dir DIR]

Everything the cluster started is stopped at the end (KEEP_CLUSTER=1
keeps its files for a look).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import harness  # noqa: E402
from test_availability import first_pages, list_calls  # noqa: E402
from test_booking_write import CAL, CREATE, HOLDS, at, klass, mins, sim_events  # noqa: E402
from test_oauth import clear_sim_log, connect, reset_all  # noqa: E402
from test_payments import HOOK, booking_rows, bookings_for, class_meta, make_due, \
    new_payment, notify, now_ms, payment_rows, run_reconcile, signature  # noqa: E402

CLUSTER = os.path.join(ROOT, "scripts", "cluster.sh")
NODES = (1, 2, 3)


class Cluster(harness.Stack):
    """harness.Stack's interface over scripts/cluster.sh: the programs'
    environment is host A's; SQL goes to the first node that answers."""

    def __init__(self, bin_dir):
        super().__init__(bin_dir)
        self.host_env = {}

    def script(self, *args, check=True):
        env = dict(os.environ)
        env.update({"VAR_DIR": self.dir, "BIN_DIR": self.bin_dir,
                    "ENV_FILE": self.env_file})
        p = subprocess.run([CLUSTER] + list(args), env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=300)
        if check and p.returncode != 0:
            raise RuntimeError("cluster.sh %s failed:\n%s" % (" ".join(args), p.stdout))
        return p

    def read(self, name):
        p = subprocess.run(
            ["bash", "-c", 'set -a; . "$1"; set +a; env -0', "_",
             os.path.join(self.dir, "run", name)],
            stdout=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"}, check=True)
        out = {}
        for item in p.stdout.split(b"\0"):
            if b"=" in item:
                k, v = item.split(b"=", 1)
                if k not in (b"PWD", b"SHLVL", b"_"):
                    out[k.decode()] = v.decode()
        return out

    def start(self):
        out = self.script("start").stdout
        ports = self.read("ports.env")
        self.port = int(ports["PORT"])
        self.env = self.read("stack.env")
        self.host_env = {h: self.read("host%s.env" % h) for h in "AB"}
        self.migrate_env = self.read("migrate.env")
        self.sim_port = int(self.env["SIMULATOR_PORT"])
        return out

    def stop(self, remove=True):
        self.script("stop", check=False)
        if remove and not os.environ.get("KEEP_CLUSTER"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def socket(self, node):
        return os.path.join(self.dir, "node%d" % node, "run", "mysql.sock")

    def db_client(self, program="mariadb", node=1):
        return [program, "--no-defaults", "--protocol=socket",
                "--socket=" + self.socket(node), "-uroot"]

    def sql(self, statement, node=None):
        last = None
        for n in ([node] if node else NODES):
            p = subprocess.run(self.db_client(node=n) + ["-N", "-B", "booking", "-e", statement],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            if p.returncode == 0:
                return [[None if c == "NULL" else c for c in line.split("\t")]
                        for line in p.stdout.splitlines()]
            last = p.stderr
        raise RuntimeError("SQL failed: %s" % last)

    def status(self, node, name):
        rows = self.sql("SHOW GLOBAL STATUS LIKE '%s'" % name, node=node)
        return rows[0][1] if rows else None

    def conflicts(self):
        """Certification failures and aborts of local transactions each
        node that answers has reported so far, by node."""
        out = {}
        for n in NODES:
            try:
                out[n] = int(self.status(n, "wsrep_local_cert_failures") or 0) + \
                    int(self.status(n, "wsrep_local_bf_aborts") or 0)
            except RuntimeError:
                pass
        return out

    def conflicts_since(self, before):
        """The conflicts reported since before (conflicts()); a node that
        restarted meanwhile counts from zero."""
        total = 0
        for n, v in self.conflicts().items():
            total += v - before.get(n, 0) if v >= before.get(n, 0) else v
        return total

    def log(self, name):
        text = ""
        for h in "AB":
            path = os.path.join(self.dir, "log", "host%s-%s" % (h, name))
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def program_pids(self):
        out = {}
        for h in "AB":
            for p in ("calendar_get", "calendar_post", "oauth_callback", "payment_hook"):
                path = os.path.join(self.dir, "run", "host" + h, p + ".pid")
                if os.path.exists(path):
                    with open(path) as f:
                        out[(h, p)] = sorted(int(x) for x in f.read().split())
        return out


def stack():
    return harness.stack


# ---- helpers ----

def cgi_post(host, path, body):
    """calendar_post as a plain CGI run with host's environment (its node
    order): the Popen, its body written."""
    e = {"PATH": "/usr/bin:/bin"}
    e.update(stack().host_env[host])
    e.update({"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
              "REQUEST_METHOD": "POST", "REQUEST_URI": path, "QUERY_STRING": "",
              "SCRIPT_NAME": path, "SERVER_NAME": "127.0.0.1",
              "SERVER_PORT": str(stack().port), "REMOTE_ADDR": "127.0.0.1",
              "HTTP_HOST": "127.0.0.1:%d" % stack().port,
              "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
              "HTTP_AUTHORIZATION": stack().internal()["Authorization"]})
    p = subprocess.Popen([os.path.join(stack().bin_dir, "calendar_post")], env=e,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.body = body
    return p


def cgi_go(procs):
    """Lets started runs go together: each waits for its body."""
    for p in procs:
        p.stdin.write(p.body)
        p.stdin.close()
    for p in procs:
        p.stdin = None


def cgi_status(p):
    if p.stdin is not None:
        cgi_go([p])
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        raise AssertionError("calendar_post exited %s: %r" % (p.returncode, err[-300:]))
    first = out.split(b"\r\n", 1)[0].decode(errors="replace")
    if not first.startswith("Status: "):
        raise AssertionError("no Status line: %r" % out[:200])
    return int(first[8:11]), out.partition(b"\r\n\r\n")[2]


def active_between(start, end):
    rows = stack().sql(
        "SELECT COUNT(*) FROM bookings WHERE status IN ('held', 'pending', 'scheduling', "
        "'scheduled') AND startAt < '%s' AND endAt > '%s'"
        % (end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
           start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")))
    return int(rows[0][0])


def distinct_slots(n, first_day):
    """n one-hour class starts on distinct weekdays' hours from first_day
    on (at() moves a weekend to the Monday: no slot twice)."""
    out, day = [], first_day
    while len(out) < n:
        for hour in range(9, 17):
            s = at(day, hour)
            if s not in out:
                out.append(s)
        day += 1
    return out[:n]


def fresh():
    """No bookings, payments or events; the admin connected to Google."""
    reset_all()
    stack().sql("DELETE FROM bookings; DELETE FROM booking_history; DELETE FROM payments")
    connect()
    clear_sim_log()


def hook_body(pid):
    rid = str(uuid.uuid4())
    sig = signature(pid, rid, now_ms())["header"]
    body = json.dumps({"action": "payment.updated", "api_version": "v1",
                       "data": {"id": str(pid)}, "type": "payment",
                       "live_mode": False, "id": "1", "user_id": 1}).encode()
    headers = {"Content-Type": "application/json", "x-request-id": rid,
               "x-signature": sig}
    path = HOOK + "?" + urllib.parse.urlencode([("data.id", str(pid)), ("type", "payment")])
    return path, body, headers


def deliver(pid, timeout=60):
    """One delivery of payment pid's notification through nginx: the
    status, or the exception's name when the connection failed."""
    path, body, headers = hook_body(pid)
    try:
        return stack().call("POST", path, body=body, headers=headers, timeout=timeout).status
    except Exception as exc:  # noqa: BLE001 - a status of its own
        return type(exc).__name__


def deliver_until_200(pid, tries=30):
    """MercadoPago's behaviour: a notification not answered 200 is sent
    again. The statuses seen."""
    seen = []
    for _ in range(tries):
        s = deliver(pid)
        seen.append(s)
        if s == 200:
            return seen
        time.sleep(0.5)
    raise AssertionError("payment %s never answered 200: %s" % (pid, seen))


def assert_one_scheduled(pid):
    found = bookings_for(pid)
    assert len(found) == 1, "payment %s: %d bookings %s" % (pid, len(found), found)
    b = found[0]
    assert b["status"] == "scheduled", b
    evs = [e for e in sim_events() if e.get("id") == "bk" + b["id"]]
    assert len(evs) == 1, (b, evs)
    return b


def programs_alive(before):
    dead = []
    for key, pids in before.items():
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                dead.append((key, pid))
    return dead


UTC = __import__("datetime").timezone.utc

# ---- scenarios ----


def scenario_migrations(args):
    """Two runners on two nodes at once on an empty database: each file is
    applied once, the other runner waits or finds nothing to do; every
    table is InnoDB with a primary key."""
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "sql")) if f.endswith(".sql"))
    procs = []
    t0 = time.time()
    for node in (1, 2):
        e = {"PATH": "/usr/bin:/bin",
             "DATABASE_URL": stack().migrate_env["MIGRATE_DATABASE_URL_%d" % node]}
        procs.append(subprocess.Popen([os.path.join(stack().bin_dir, "migrate"),
                                       os.path.join(ROOT, "sql")], env=e,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=240)
        outs.append(out)
        assert p.returncode == 0, "a runner failed:\n%s" % out
    applied = [ln.split()[-1] for out in outs for ln in out.splitlines()
               if ln.startswith("migrate: applied ")]
    assert sorted(applied) == files, (applied, outs)
    for n in NODES:
        rows = stack().sql("SELECT version FROM schema_migrations ORDER BY version", node=n)
        assert [r[0] for r in rows] == files, (n, rows)
    bad = stack().sql(
        "SELECT t.table_name, t.engine FROM information_schema.tables t WHERE "
        "t.table_schema = 'booking' AND (t.engine <> 'InnoDB' OR NOT EXISTS (SELECT 1 FROM "
        "information_schema.table_constraints c WHERE c.table_schema = t.table_schema AND "
        "c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY'))")
    assert bad == [], "tables Galera cannot replicate safely: %s" % bad
    waited = sum("waiting" in out for out in outs)
    return {"files": len(files), "applied": len(applied), "runners that waited": waited,
            "seconds": round(time.time() - t0, 1)}


def scenario_holds(args):
    """Two holds for one slot at once, one process writing to node 1 (host
    A's order) and one to node 2 (host B's), args.rounds times: one 201 and
    one 409 each round, never two, never a 503."""
    fresh()
    start = at(4, 15)
    c0 = stack().conflicts()
    statuses = {}
    worst = 0.0
    for i in range(args.rounds):
        procs = [cgi_post(h, HOLDS, json.dumps(klass(start, studentEmail="%s%d@example.com"
                                                     % (h.lower(), i))).encode())
                 for h in "AB"]
        t = time.time()
        cgi_go(procs)
        got = sorted(cgi_status(p)[0] for p in procs)
        worst = max(worst, time.time() - t)
        statuses[tuple(got)] = statuses.get(tuple(got), 0) + 1
        assert got == [201, 409], "round %d: %s" % (i, got)
        n = active_between(start, start + mins(60))
        assert n == 1, "round %d: %d active bookings on the slot" % (i, n)
        stack().sql("DELETE FROM booking_history; DELETE FROM bookings")
    return {"rounds": args.rounds, "double bookings": 0, "503s": 0,
            "conflicts the cluster reported": stack().conflicts_since(c0),
            "slowest round s": round(worst, 2)}


def scenario_payment_fifty(args):
    """50 concurrent deliveries of one payment over both hosts: one
    booking, one event."""
    fresh()
    start = at(6, 16)
    pid = new_payment("approved", class_meta(start))
    path, body, headers = hook_body(pid)
    n = 50
    barrier = threading.Barrier(n)
    replies = [None] * n
    c0 = stack().conflicts()

    def one(i):
        barrier.wait(30)
        try:
            replies[i] = stack().call("POST", path, body=body, headers=headers,
                                      timeout=120).status
        except Exception as exc:  # noqa: BLE001
            replies[i] = repr(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert replies == [200] * n, replies
    assert_one_scheduled(pid)
    assert len(booking_rows()) == 1
    assert [p["id"] for p in payment_rows()] == [str(pid)]
    assert len(sim_events()) == 1, sim_events()
    return {"deliveries": n, "bookings": 1, "events": 1, "503s": 0,
            "conflicts the cluster reported": stack().conflicts_since(c0)}


def scenario_creates_twenty(args):
    """20 overlapping creates at once, through nginx (both hosts) and as
    plain runs on both node orders: one booking, the rest 409."""
    fresh()
    start = at(9, 11)
    replies = []
    lock = threading.Lock()
    gate = threading.Barrier(13)

    def one(i):
        s = start + mins(30) if i % 4 == 0 else start
        b = klass(s, durationMinutes=60, studentEmail="s%02d@example.com" % i)
        gate.wait(30)
        r = stack().call("POST", CREATE, body=json.dumps(b).encode(),
                         headers=dict(stack().internal(), **{"Content-Type": "application/json"}),
                         timeout=120)
        with lock:
            replies.append(r.status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    gate.wait(30)
    procs = [cgi_post("AB"[i % 2], CREATE,
                      json.dumps(klass(start + mins(30 * (i % 2)), durationMinutes=60,
                                       studentEmail="c%02d@example.com" % i)).encode())
             for i in range(8)]
    cgi_go(procs)
    cgi = [cgi_status(p)[0] for p in procs]
    for t in threads:
        t.join(180)
    every = sorted(replies + cgi)
    assert every == [201] + [409] * 19, every
    live = [b for b in booking_rows() if b["status"] in ("held", "pending", "scheduling",
                                                          "scheduled")]
    assert len(live) == 1, live
    assert len(sim_events()) == 1, sim_events()
    return {"requests": 20, "bookings": 1, "409s": 19, "503s": 0}


def deliver_all(pids, event_at, event, workers=4):
    """Delivers each payment once through nginx from several threads,
    running event() when the event_at'th delivery starts. The first
    status of each payment, and the seconds from the event to the end of
    the first delivery started after it that was answered 200."""
    first = {}
    lock = threading.Lock()
    todo = list(enumerate(pids))
    mark = {}

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i, pid = todo.pop(0)
                if i == event_at:
                    event()
                    mark["t"] = time.time()
            started = time.time()
            s = deliver(pid)
            with lock:
                first[pid] = s
                if s == 200 and started >= mark.get("t", started + 1) and "ok" not in mark:
                    mark["ok"] = time.time() - mark["t"]

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return first, mark.get("ok")


def finish_payments(pids, first):
    """MercadoPago's redeliveries of what was not answered 200, then
    reconcile: each payment has exactly one scheduled class and event."""
    for pid in pids:
        if first[pid] != 200:
            deliver_until_200(pid)
    make_due()
    p = run_reconcile()
    assert p.returncode == 0, (p.stdout, p.stderr)
    for pid in pids:
        assert_one_scheduled(pid)
    assert len(sim_events()) == len(pids), len(sim_events())


def scenario_node_killed(args):
    """Payments delivered from four threads while node 1 (host A's first)
    is killed with kill -9, then rejoins: after MercadoPago's redeliveries
    and reconcile every payment has exactly one scheduled class; no
    program died; the cluster has three nodes again."""
    fresh()
    before = stack().program_pids()
    pids = [new_payment("approved", class_meta(s)) for s in distinct_slots(40, 12)]
    c0 = stack().conflicts()
    first, recovered = deliver_all(pids[:24], 6, lambda: stack().script("kill-node", "1"))
    t0 = time.time()
    stack().script("start-node", "1")
    rejoin = time.time() - t0
    more, _ = deliver_all(pids[24:], 0, lambda: None)
    first.update(more)
    finish_payments(pids, first)
    dead = programs_alive(before)
    assert dead == [], "programs died: %s" % dead
    sizes = [stack().status(n, "wsrep_cluster_size") for n in NODES]
    assert sizes == ["3"] * 3, sizes
    bad = [s for s in first.values() if s != 200]
    return {"payments": len(pids), "not 200 on first delivery": len(bad),
            "statuses": sorted(set(map(str, bad))),
            "first 200 after the kill s": round(recovered or 0, 2),
            "rejoin s": round(rejoin, 1), "programs died": 0,
            "conflicts the cluster reported": stack().conflicts_since(c0)}


def scenario_host_stopped(args):
    """Payments from four threads through nginx while application host A
    is stopped: nginx moves to host B; after MercadoPago's redeliveries
    each payment has exactly one class."""
    fresh()
    pids = [new_payment("approved", class_meta(s)) for s in distinct_slots(24, 20)]
    first, recovered = deliver_all(pids, 6, lambda: stack().script("stop-host", "A"))
    finish_payments(pids, first)
    stack().script("start-host", "A")
    bad = [s for s in first.values() if s != 200]
    # Only requests host A was serving when it stopped may fail.
    assert len(bad) <= 4, "nginx did not move the requests to host B: %s" % bad
    return {"payments": len(pids), "not 200 on first delivery": len(bad),
            "statuses": sorted(set(map(str, bad))),
            "first 200 after the stop s": round(recovered or 0, 2)}


def scenario_availability(args):
    """Availability read hard on both hosts (both nodes) for a while: at
    most one Google events.list round per TTL in total."""
    ttl = int(stack().env.get("CALENDAR_CACHE_TTL_S") or 3)
    reset_all()
    clear_sim_log()
    uri = "/api/calendar?from=%s&to=%s" % (at(3, 9).date().isoformat(),
                                           at(10, 9).date().isoformat())
    stop = time.time() + 3 * ttl + 1
    statuses = []
    lock = threading.Lock()

    def worker():
        while time.time() < stop:
            r = stack().get(uri)
            with lock:
                statuses.append(r.status)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    rounds = first_pages(list_calls())
    times = [c["time"] for c in rounds]
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
    assert rounds, "the cache was never filled"
    assert [g for g in gaps if g < ttl - 1] == [], "rounds closer than the TTL: %s" % gaps
    bad = [s for s in statuses if s != 200]
    assert bad == [], bad[:10]
    return {"requests": len(statuses), "Google rounds": len(rounds), "TTL s": ttl,
            "gaps s": gaps}


SCENARIOS = [
    ("migrations", scenario_migrations),
    ("holds", scenario_holds),
    ("payment_fifty", scenario_payment_fifty),
    ("creates_twenty", scenario_creates_twenty),
    ("availability", scenario_availability),
    ("host_stopped", scenario_host_stopped),
    ("node_killed", scenario_node_killed),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="",
                    help="run the scenarios whose name holds this (several: a,b)")
    ap.add_argument("--rounds", type=int, default=400, help="rounds of the holds scenario")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "cgi-bin"))
    args = ap.parse_args()
    cluster = Cluster(args.bin_dir)
    harness.stack = cluster
    failed = passed = 0
    try:
        print(cluster.start().strip(), flush=True)
        for name, fn in SCENARIOS:
            # The schema comes from the migration scenario.
            if args.k and name != "migrations" and \
                    not any(k in name for k in args.k.split(",")):
                continue
            t0 = time.time()
            try:
                figures = fn(args)
                passed += 1
                print("ok %s (%.1f s) %s" % (name, time.time() - t0, json.dumps(figures)),
                      flush=True)
            except Exception:  # noqa: BLE001 - reported, then the next one
                failed += 1
                print("not ok %s\n%s" % (name, traceback.format_exc()), flush=True)
    finally:
        cluster.stop(remove=False)
        # A sanitizer's report (BUILD=asan programs), leaks at exit too.
        found = [name for name, text in cluster.logs().items()
                 if "AddressSanitizer" in text or "runtime error:" in text
                 or "LeakSanitizer" in text]
        if found:
            failed += 1
            print("not ok sanitizers: reports in %s" % ", ".join(found), flush=True)
        if failed or os.environ.get("KEEP_CLUSTER"):
            print("the cluster's files are kept in %s" % cluster.dir)
        else:
            shutil.rmtree(cluster.dir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
