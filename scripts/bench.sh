#!/usr/bin/env bash
# make bench: a private stack (one process per program, the simulator for
# Google and MercadoPago) in a temporary directory, measured by
# tests/bench/bench.py: the public reads against nginx's and libfcgi's own
# speed on the same replies, in alternating rounds of wrk; the programs'
# PSS; payment notification to class scheduled; a full sync of 5,000
# events. It prints a table and writes var/bench/latest.json (README.md,
# "Benchmarks"). A missed goal is reported, never a failure; a broken reply
# (not 200, the wrong size) is.
#   BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (64)
# shellcheck disable=SC2317 # cleanup and its helpers run from the trap
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export BENCH_ROUNDS=${BENCH_ROUNDS:-3}
export BENCH_SECONDS=${BENCH_SECONDS:-5}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
for tool in wrk nginx spawn-fcgi mariadbd python3 cc; do
	command -v "$tool" >/dev/null ||
		{ echo "bench: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
DIR=$(mktemp -d /tmp/booking-bench-XXXXXX)
chmod 755 "$DIR" # the programs and nginx's workers run as nobody under root
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export VAR_DIR=$DIR PORT BIN_DIR=$ROOT/cgi-bin ENV_FILE=none SIM=on CHILDREN=1
export BENCH_RESPONDER=$ROOT/build/bench/fixed_responder
export BENCH_OUT=$ROOT/var/bench/latest.json

# Everything started here goes, whatever happens: the fixed responders,
# then the stack (nginx, the programs, the simulator, MariaDB).
# pids of the processes whose command line names $DIR.
ours() {
	local d
	for d in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -qF -- "$DIR/" && echo "${d#/proc/}"
	done
	return 0
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
}

# Everything started here goes, whatever happens: the driver (which stops
# its wrk), the fixed responders, then the stack (nginx, the programs, the
# simulator, MariaDB).
DRIVER=""
cleanup() {
	local f left
	trap - EXIT INT TERM HUP
	[ -z "$DRIVER" ] || stop_pid "$DRIVER"
	for f in "$DIR"/run/bench_*.pid; do
		[ -f "$f" ] && stop_pid "$(cat "$f")"
	done
	scripts/stack.sh stop >/dev/null 2>&1 || true
	left=$(ours)
	[ -z "$left" ] || echo "bench: still running after the stop: $left" >&2
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo "bench: interrupted; stopping everything" >&2; exit 130' INT
trap 'echo "bench: stopped; stopping everything" >&2; exit 143' TERM HUP

mkdir -p build/bench var/bench
cc -std=c17 -O2 -Wall -Wextra -Werror -o build/bench/fixed_responder \
	tests/bench/fixed_responder.c -lfcgi
echo "bench: starting a private stack on 127.0.0.1:$PORT (in $DIR)"
scripts/stack.sh start >"$DIR/stack-start.log" 2>&1 ||
	{ cat "$DIR/stack-start.log" >&2; exit 1; }
# In the background, so that a signal reaches the trap at once.
python3 tests/bench/bench.py &
DRIVER=$!
status=0
wait "$DRIVER" || status=$?
DRIVER=""
exit "$status"
