#!/usr/bin/env bash
# The test suite. With no argument: unit tests, the simulator's self-test,
# the end-to-end tests through nginx, then the unit and end-to-end tests
# again on the AddressSanitizer + UndefinedBehaviorSanitizer build, the proof
# that a leak in a program is caught and that zero tests is a failure, a
# clone with nothing beside it running make run, the unit tests under
# valgrind, each fuzz target for a short while, and the admin console in
# headless Chromium.
# "unit", "e2e" or "browser" runs just that part (release build). Every part ends with
# "N passed, N failed"; the last line adds them up.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
TOTAL_PASSED=0
TOTAL_FAILED=0
FUZZ_SECONDS=${FUZZ_SECONDS:-6}

# Runs a command, shows its output, adds its closing count to the totals.
# A part that ends without a count (it crashed) counts as one failure.
part() {
	local name=$1 out rc line p f
	shift
	printf '\n== %s\n' "$name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "$name: ended without a count (exit $rc)"
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	TOTAL_PASSED=$((TOTAL_PASSED + p))
	TOTAL_FAILED=$((TOTAL_FAILED + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exit status $rc"
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
	fi
}

# Every unit test binary of a build directory, as one part.
unit_tests() { # dir [wrapper...]
	local dir=$1 t passed=0 failed=0 line
	shift
	for t in "$dir"/tests/test_*; do
		[ -x "$t" ] || continue
		echo "-- $(basename "$t")"
		line=$("$@" "$t" 2>&1 | tee /dev/stderr | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
		local rc=${PIPESTATUS[0]}
		if [ -z "$line" ]; then
			echo "$(basename "$t"): crashed (exit $rc)"
			failed=$((failed + 1))
			continue
		fi
		passed=$((passed + ${line%% passed*}))
		local f=${line#*passed, }
		failed=$((failed + ${f%% failed*}))
		[ "$rc" -ne 0 ] && [ "${f%% failed*}" -eq 0 ] && failed=$((failed + 1))
	done
	if [ $((passed + failed)) -eq 0 ]; then
		echo "no unit test ran in $dir/tests"
		failed=1
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

e2e_tests() { # bin_dir
	python3 tests/e2e/run.py --bin "$1"
}

# The admin console in headless Chromium (Debian's chromium,
# chromium-driver and python3-selenium, for the system's python3);
# screenshots in build/browser/.
browser_test() { # bin_dir
	/usr/bin/python3 tests/browser/test_console.py --bin "$1" --out build/browser
}

valgrind_units() {
	unit_tests build/release valgrind -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite \
		--suppressions="$ROOT/tests/valgrind.supp"
}

# The runners themselves: no test run at all is red, never green.
runner_checks() {
	local passed=0 failed=0 out rc empty
	out=$(python3 tests/e2e/run.py --bin cgi-bin -k no_such_test_anywhere 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q '^not ok no test ran' <<<"$out" &&
		grep -q '^0 passed, 1 failed' <<<"$out"; then
		echo "ok the end-to-end runner fails when no test ran"
		passed=$((passed + 1))
	else
		echo "not ok the end-to-end runner fails when no test ran (exit $rc)"
		echo "$out" | tail -n 5
		failed=$((failed + 1))
	fi
	empty=$(mktemp -d)
	mkdir -p "$empty/tests"
	out=$(unit_tests "$empty" 2>&1)
	rc=$?
	rm -rf "$empty"
	if [ $rc -ne 0 ] && grep -q '^0 passed, 1 failed' <<<"$out"; then
		echo "ok the unit runner fails on a folder without tests"
		passed=$((passed + 1))
	else
		echo "not ok the unit runner fails on a folder without tests (exit $rc)"
		failed=$((failed + 1))
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

case ${1:-all} in
unit)
	part "unit tests" unit_tests build/release
	;;
e2e)
	part "end-to-end tests" e2e_tests cgi-bin
	;;
browser)
	part "browser test" browser_test cgi-bin
	;;
all)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	part "unit tests" unit_tests build/release
	part "simulator self-test" python3 tests/sim/test_simulator.py
	part "end-to-end tests" e2e_tests cgi-bin
	part "unit tests, ASan+UBSan" unit_tests build/asan
	part "end-to-end tests, ASan+UBSan" e2e_tests build/asan/cgi-bin
	part "a leak in a program is caught" python3 tests/leak/check.py build/asan
	part "the runners refuse zero tests" runner_checks
	part "a clone stands alone" scripts/standalone.sh
	part "unit tests, valgrind" valgrind_units
	part "fuzz targets (${FUZZ_SECONDS}s each)" scripts/fuzz.sh run "$FUZZ_SECONDS"
	part "browser test" browser_test cgi-bin
	;;
*)
	echo "usage: test.sh [unit|e2e|browser|all]" >&2
	exit 2
	;;
esac

printf '\n%s passed, %s failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
[ "$TOTAL_FAILED" -eq 0 ]
