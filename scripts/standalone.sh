#!/usr/bin/env bash
# A clone of the repository stands alone: cloned into a temporary folder
# with nothing beside it, the simulator's self-test passes,
# and `make run` brings the stack up (health 200 through nginx, on a port
# of its own) and `make stop` takes it down. Prints "ok" / "not ok" lines
# and ends with "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
check() { # name, then a command that succeeds when the check holds
	local name=$1
	shift
	if "$@"; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "not ok $name"
		failed=$((failed + 1))
	fi
}

tmp=$(mktemp -d /tmp/booking-alone-XXXXXX)
chmod 755 "$tmp" # the programs run as nobody under root
clone=$tmp/booking
cleanup() {
	[ -d "$clone" ] && (cd "$clone" && make -s stop >/dev/null 2>&1)
	rm -rf "$tmp"
}
trap cleanup EXIT

git clone -q "$ROOT" "$clone" || { echo "not ok clone"; echo "0 passed, 1 failed"; exit 1; }
cd "$clone" || exit 2
# A folder beside the clone that the project must never need.
beside=sha""red
check "nothing beside the clone" test ! -e "$tmp/$beside"
check "the clone reads nothing outside itself" \
	bash -c '! grep -rln "\.\./$1" Makefile scripts src tests nginx' _ "$beside"
sim=$(python3 tests/sim/test_simulator.py 2>&1 | tail -n 1)
check "the simulator's self-test passes in the clone ($sim)" \
	bash -c "grep -qE '^[1-9][0-9]* passed, 0 failed' <<<'$sim'"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(PORT=$port make -s run 2>&1)
rc=$?
check "make run starts the stack (port $port)" test "$rc" -eq 0
check "make run says it runs against the simulator" \
	bash -c 'grep -q "No real credentials in .env" <<<"$1"' _ "$out"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/health")
check "health answers 200 through nginx (got $status)" test "$status" = 200
make -s stop >/dev/null 2>&1
check "make stop stops it" \
	bash -c "! curl -s -o /dev/null --max-time 5 http://127.0.0.1:$port/api/health"
[ $failed -ne 0 ] && [ -n "$out" ] && printf '%s\n' "$out" | tail -n 20
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
