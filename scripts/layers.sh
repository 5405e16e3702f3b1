#!/usr/bin/env bash
# The architecture's two mechanical rules (docs/ARCHITECTURE.md):
#  1. a file of the library includes headers of its own layer or of the
#     layers below it, never above: core < io < upstream < school < web;
#  2. SQL on bookings, payments, booking_locks and booking_history is
#     written only in their owner, src/school/ledger.c.
# Prints each breach and exits 1 when there is one.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

LAYERS=(core io upstream school web)
rank() {
	local i
	for i in "${!LAYERS[@]}"; do
		[ "${LAYERS[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}

status=0
for layer in "${LAYERS[@]}"; do
	mine=$(rank "$layer")
	for f in src/"$layer"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r line; do
			inc=${line#*\"}
			inc=${inc%%\"*}
			dir=${inc%%/*}
			theirs=$(rank "$dir")
			if [ "$inc" = "$dir" ] || [ "$theirs" -lt 0 ]; then
				echo "$f: includes \"$inc\", which is in no layer (write \"<layer>/<name>.h\")"
				status=1
			elif [ "$theirs" -gt "$mine" ]; then
				echo "$f: includes \"$inc\": $layer must not use $dir (a higher layer)"
				status=1
			fi
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f")
	done
done

# SQL naming a table of the booking lifecycle outside its owner. A
# statement is a string literal; the table names are words of SQL after
# FROM, INTO, UPDATE, JOIN or TABLE.
owner=src/school/ledger.c
tables='bookings|payments|booking_locks|booking_history'
while IFS= read -r hit; do
	echo "$hit: SQL on a booking lifecycle table belongs in $owner"
	status=1
done < <(grep -rnE "\"[^\"]*\\b(FROM|INTO|UPDATE|JOIN|TABLE)[[:space:]]+($tables)\\b" \
	--include='*.c' --include='*.h' src | grep -v "^$owner:")

[ $status -eq 0 ] && echo "layers: clean"
exit $status
