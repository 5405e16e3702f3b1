#!/usr/bin/env bash
# Mechanical checks: formatting (clang-format, .clang-format), cppcheck, the
# functions the house style bans, and the architecture's rules (layers.sh).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
status=0
mapfile -t files < <(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 2>/dev/null ||
	find src tests -name '*.[ch]')

if ! clang-format --dry-run --Werror "${files[@]}"; then
	echo "lint: formatting differs; run clang-format -i on the files above"
	status=1
fi

if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -Isrc \
	src tests/unit tests/fuzz 2>&1; then
	echo "lint: cppcheck found problems"
	status=1
fi

if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' "${files[@]}"; then
	echo "lint: banned functions (see STYLE.md)"
	status=1
fi

if ! scripts/layers.sh; then
	echo "lint: the architecture's rules are broken (docs/ARCHITECTURE.md)"
	status=1
fi

[ $status -eq 0 ] && echo "lint: clean"
exit $status
