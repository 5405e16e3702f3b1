#!/usr/bin/env bash
# The fuzz targets (tests/fuzz/fuzz_*.c), built with libFuzzer, ASan and
# UBSan into build/fuzz/.
#   fuzz.sh build          build them
#   fuzz.sh run [SECONDS]  build, then run each for SECONDS (default 10),
#                          starting from tests/fuzz/corpus/NAME; a crash is a
#                          failure and its input is kept in build/fuzz/.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
OUT=build/fuzz
CC=${FUZZ_CC:-clang}
PKGS="libcurl json-c libmariadb libcrypto"
CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Isrc \
  $(pkg-config --cflags $PKGS) -fsanitize=fuzzer-no-link,address,undefined \
  -fno-sanitize-recover=undefined"
LIBS="-lfcgi $(pkg-config --libs $PKGS) -lm"

build() {
	local src obj objs=() t
	for src in src/core/*.c src/io/*.c src/upstream/*.c src/school/*.c src/web/*.c; do
		obj=$OUT/obj/${src#src/}
		obj=${obj%.c}.o
		mkdir -p "$(dirname "$obj")"
		if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
			[ -n "$(find src -name '*.h' -newer "$obj")" ]; then
			# shellcheck disable=SC2086
			$CC $CFLAGS -c -o "$obj" "$src" || return 1
		fi
		objs+=("$obj")
	done
	for t in tests/fuzz/fuzz_*.c; do
		# shellcheck disable=SC2086
		$CC $CFLAGS -fsanitize=fuzzer -o "$OUT/$(basename "${t%.c}")" "$t" \
			"${objs[@]}" $LIBS || return 1
	done
}

run() {
	local seconds=${1:-10} t name passed=0 failed=0 corpus
	if ! build; then
		echo "0 passed, 1 failed"
		return 1
	fi
	for t in "$OUT"/fuzz_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		corpus=$OUT/corpus/${name#fuzz_}
		mkdir -p "$corpus"
		cp -n tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null
		if (cd "$OUT" && "./$name" -max_total_time="$seconds" \
			-rss_limit_mb=2048 -max_len=70000 -print_final_stats=0 \
			"corpus/${name#fuzz_}" >"$name.log" 2>&1); then
			echo "ok $name ($(grep -oE '#[0-9]+' "$OUT/$name.log" | tail -n1 | tr -d '#') runs)"
			passed=$((passed + 1))
		else
			echo "not ok $name"
			tail -n 40 "$OUT/$name.log"
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

case ${1:-run} in
build) build ;;
run) run "${2:-10}" ;;
*) echo "usage: fuzz.sh build|run [SECONDS]" >&2; exit 2 ;;
esac
