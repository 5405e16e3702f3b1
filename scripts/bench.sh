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
SECONDS_EACH=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
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

# A calendar with some events, and the availability cache warmed.
sim=$(cat "$DIR/run/simulator.port")
python3 - "$sim" <<'PY'
import datetime, json, sys, urllib.request
port = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
events = []
for i in range(40):
    s = now + datetime.timedelta(days=1 + i // 2, hours=3 * (i % 2))
    events.append({"summary": "Clase", "start": {"dateTime": s.isoformat()},
                   "end": {"dateTime": (s + datetime.timedelta(hours=1)).isoformat()}})
req = urllib.request.Request(
    "http://127.0.0.1:%s/_sim/calendars/school@group.calendar.google.com/events" % port,
    data=json.dumps(events).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
PY
from=$(date -u +%Y-%m-%d)
to=$(date -u -d '+30 days' +%Y-%m-%d)
path="/api/calendar?from=$from&to=$to"
curl -sf "http://127.0.0.1:$PORT$path" >/dev/null
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

echo "bench: /api/calendar (warm cache, $size-byte reply) against a fixed $size-byte libfcgi responder"
echo "bench: $ROUNDS rounds of ${SECONDS_EACH}s each, alternating, $CONNS connections, one process each, same nginx"
# Alternating rounds, so a change in the machine's load hits both alike.
base=0
real=0
for i in $(seq 1 "$ROUNDS"); do
	b=$(rate /bench/fixed)
	r=$(rate "$path")
	printf 'bench: round %d: fixed %8.0f req/s, /api/calendar %8.0f req/s\n' "$i" "$b" "$r"
	base=$(awk -v a="$base" -v b="$b" 'BEGIN { print a + b }')
	real=$(awk -v a="$real" -v b="$r" 'BEGIN { print a + b }')
done
base=$(awk -v a="$base" -v n="$ROUNDS" 'BEGIN { print a / n }')
real=$(awk -v a="$real" -v n="$ROUNDS" 'BEGIN { print a / n }')
pid=$(head -n1 "$DIR/run/calendar_get.pid")
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
printf 'bench: fixed responder   %10.0f req/s\n' "$base"
printf 'bench: /api/calendar     %10.0f req/s\n' "$real"
awk -v a="$real" -v b="$base" 'BEGIN { printf "bench: ratio %.2f (goal 0.9 or better)\n", a / b }'
awk -v k="$rss" -v a="$anon" 'BEGIN { printf "bench: calendar_get peak RSS %.1f MiB (goal under 8 MiB), of which %.1f MiB private; the rest is shared library pages\n", k / 1024, a / 1024 }'
