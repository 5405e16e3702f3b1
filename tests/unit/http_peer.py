#!/usr/bin/env python3
"""http_peer.py - a scripted HTTP/1.1 peer for tests/unit/test_http.c.

Started by the test: http_peer.py --port-file FILE. Listens on 127.0.0.1 on
a free port, writes the port to FILE (atomically), and exits when killed or
when its parent goes away (so a crashed test leaves nothing behind).

Control endpoints (not logged):
  POST /_script  a JSON list of steps, one consumed per request; it also
                 empties the log. A step: {"status":503, "headers":{...},
                 "body":"...", "size":N (a body of N bytes), "delay_ms":N,
                 "drop":true (close the connection without answering)}.
                 With no step left the answer is 200 {"ok":true}.
  GET /_log      the requests received, a JSON list with one entry a line:
                 {"body","conn","headers","method","path","port","query",
                 "time"}, keys sorted, no spaces; conn numbers connections.
Any other path answers from the script; /echo answers with the request's
{"method","body","headers"} unless the step gives a body.
Every answer carries Content-Length; connections are kept alive.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
SCRIPT = []
LOG = []
CONNS = [0]


def dumps(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


class Peer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            CONNS[0] += 1
            self.conn_id = CONNS[0]

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=None):
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (a timeout test)
            self.close_connection = True

    def handle_any(self):
        url = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if url.path == "/_script":
            with LOCK:
                SCRIPT[:] = json.loads(raw)
                LOG.clear()
            return self.answer(200, b'{"ok":true}')
        if url.path == "/_log":
            with LOCK:
                lines = [dumps(e) for e in LOG]
            body = "[\n" + ",\n".join(lines) + "\n]\n"
            return self.answer(200, body.encode())
        text = raw.decode("utf-8", "replace")
        entry = {"method": self.command, "path": url.path,
                 "query": url.query, "headers": dict(self.headers),
                 "body": text, "time": time.time(),
                 "conn": self.conn_id, "port": self.client_address[1]}
        with LOCK:
            LOG.append(entry)
            step = SCRIPT.pop(0) if SCRIPT else {}
        if step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000.0)
        if step.get("drop"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        if "size" in step:
            body = b"x" * int(step["size"])
        elif "body" in step:
            body = step["body"].encode()
        elif url.path == "/echo":
            body = dumps({"method": self.command, "body": text,
                          "headers": dict(self.headers)}).encode()
        else:
            body = b'{"ok":true}'
        return self.answer(int(step.get("status", 200)), body,
                           step.get("headers"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # not a hang-up
            super().handle_error(request, client_address)


def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Peer)
    threading.Thread(target=watch_parent, args=(os.getppid(),),
                     daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
