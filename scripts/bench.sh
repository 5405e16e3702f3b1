#!/usr/bin/env bash
# Benchmarks, as ratios inside one run (the machines are shared and noisy):
# wrk through the same private nginx against a program's endpoint and
# against a minimal libfcgi responder that writes a fixed body of the same
# size; the ratio of their request rates is the figure. Also the peak RSS
# (VmHWM) of a program's process.
#   BENCH_SECONDS (10), BENCH_CONNECTIONS (16)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-16}
DIR=$(mktemp -d /tmp/booking-bench-XXXXXX)
chmod 755 "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export VAR_DIR=$DIR PORT BIN_DIR=$ROOT/cgi-bin ENV_FILE=none SIM=on CHILDREN=1

cleanup() {
	[ -f "$DIR/run/fixed.pid" ] && kill "$(cat "$DIR/run/fixed.pid")" 2>/dev/null
	scripts/stack.sh stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

mkdir -p build/bench
cc -O2 -o build/bench/fixed_responder tests/bench/fixed_responder.c -lfcgi
scripts/stack.sh start >/dev/null

# The real endpoint's body size, so the baseline writes as many bytes.
path=/api/health
size=$(curl -s "http://127.0.0.1:$PORT$path" | wc -c)
owner=()
[ "$(id -u)" -eq 0 ] && owner=(-u nobody -U nobody)
BODY_BYTES=$size spawn-fcgi -s "$DIR/run/fixed.sock" -M 0600 "${owner[@]}" \
	-P "$DIR/run/fixed.pid" -- "$ROOT/build/bench/fixed_responder" >/dev/null
cat >"$DIR/nginx/extra/bench.conf" <<NGX
location = /bench/fixed {
	include fastcgi_params;
	fastcgi_pass unix:$DIR/run/fixed.sock;
}
NGX
nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -s reload
sleep 0.5
[ "$(curl -s "http://127.0.0.1:$PORT/bench/fixed" | wc -c)" -eq "$size" ]

rate() { # path -> requests per second
	wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" "http://127.0.0.1:$PORT$1" |
		awk '/^Requests\/sec:/ {print $2}'
}

echo "bench: $path against a fixed $size-byte libfcgi responder, ${SECONDS_EACH}s each, $CONNS connections"
base=$(rate /bench/fixed)
real=$(rate "$path")
pid=$(head -n1 "$DIR/run/calendar_get.pid")
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
printf 'bench: fixed responder   %10.0f req/s\n' "$base"
printf 'bench: %-16s  %10.0f req/s\n' "$path" "$real"
awk -v a="$real" -v b="$base" 'BEGIN { printf "bench: ratio %.2f (%s / fixed)\n", a / b, "'"$path"'" }'
awk -v k="$rss" 'BEGIN { printf "bench: calendar_get peak RSS %.1f MiB\n", k / 1024 }'
