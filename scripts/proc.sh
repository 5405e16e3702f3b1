# Sourced by stack.sh and cluster.sh: messages and the processes behind pid
# files. Set NAME (the prefix of die's message) before sourcing.

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$NAME" "$*" >&2; exit 1; }

# Whether the first process of a pid file is alive.
alive() { [ -f "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

# Processes of a pid file that are still there.
pids_of() {
	local p
	[ -f "$1" ] || return 0
	while read -r p || [ -n "$p" ]; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null && printf '%s\n' "$p"
	done <"$1"
	return 0
}

# Waits up to 15 s for the processes to end, then kills what is left.
wait_gone() { # pid...
	local _i p left
	for _i in $(seq 1 150); do
		left=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && left=1; done
		[ $left -eq 0 ] && return 0
		sleep 0.1
	done
	for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

# Renders a private nginx into $NGX from nginx/: the production files with
# the local stack's paths (the programs' sockets by $1, a sed expression on
# booking-http.conf's "server unix:/run/booking/..." lines; the error log
# under $LOG; the cache under $NGX/cache) and nginx.conf from nginx.conf.in.
# Uses ROOT, NGX, LOG, RUN, PORT and $2, the "user ...;" line or "".
render_nginx_files() {
	sed -E -e "$1" -e "s|/var/lib/nginx/booking-cache|$NGX/cache|" \
		"$ROOT/nginx/booking-http.conf" >"$NGX/booking-http.conf"
	sed -e "s|/var/log/nginx/error.log|$LOG/nginx-error.log|g" \
		"$ROOT/nginx/booking-server.conf" >"$NGX/booking-server.conf"
	cp "$ROOT/nginx/fastcgi_params" "$NGX/"
	sed -e "s|@USER@|$2|" -e "s|@RUN@|$RUN|g" -e "s|@LOG@|$LOG|g" \
		-e "s|@NGINX@|$NGX|g" -e "s|@PORT@|$PORT|g" \
		"$ROOT/nginx/nginx.conf.in" >"$NGX/nginx.conf"
}
