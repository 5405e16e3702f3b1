#!/usr/bin/env bash
# A test cluster on the loopback: three MariaDB Galera nodes (galera-4,
# private data directories under $VAR_DIR, their own ports, rsync state
# transfers, short failure-detection timeouts), two application "hosts"
# (each the four FastCGI programs under spawn-fcgi, with DATABASE_URL naming
# the nodes in another order, so two nodes take writes), one nginx with
# both hosts in every upstream, and the simulator of Google and MercadoPago.
# tests/cluster/run.py drives it (make test-cluster).
#
#   cluster.sh start | stop | status
#   cluster.sh kill-node N | start-node N      (kill -9, then rejoin)
#   cluster.sh stop-host A|B | start-host A|B  (an application host)
#
# Settings (environment): VAR_DIR (required: a directory of its own),
# BIN_DIR (./cgi-bin), ENV_FILE (settings for the programs, optional),
# CHILDREN (processes per program and host, 2). The schema is not applied:
# the caller runs migrate (with MIGRATE_DATABASE_URL_N of run/migrate.env).
# Everything started is stopped by its pid. Run as root, the nodes run as
# the mysql user and the programs as nobody.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${VAR_DIR:-}" ] || { echo "cluster: VAR_DIR is required" >&2; exit 2; }
mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
BIN_DIR=${BIN_DIR:-$ROOT/cgi-bin}
BIN_DIR=$(cd "$BIN_DIR" && pwd)
ENV_FILE=${ENV_FILE:-none}
CHILDREN=${CHILDREN:-2}
RUN=$VAR_DIR/run
LOG=$VAR_DIR/log
NGX=$VAR_DIR/nginx
PROGRAMS=(calendar_get calendar_post oauth_callback payment_hook)
HOSTS=(A B)
NODES=(1 2 3)
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}

NAME=cluster
# shellcheck source=scripts/proc.sh
. "$ROOT/scripts/proc.sh"

stop_pidfile() { # pid file
	local pids
	pids=$(pids_of "$1")
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null || true
		# shellcheck disable=SC2086
		wait_gone $pids
	fi
	rm -f "$1"
}

as_root=0
[ "$(id -u)" -eq 0 ] && as_root=1
DB_USER=$(id -un)
[ $as_root -eq 1 ] && DB_USER=mysql
RUN_USER=nobody
RUN_GROUP=nogroup
getent group nogroup >/dev/null || RUN_GROUP=nobody

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Ports and secrets, made once per VAR_DIR (run/ports.env, mode 600).
settings() {
	mkdir -p "$RUN" "$LOG"
	chmod 755 "$VAR_DIR" "$RUN" "$LOG"
	local f=$RUN/ports.env n
	if [ ! -f "$f" ]; then
		umask 077
		{
			for n in "${NODES[@]}"; do
				printf 'DB_PORT_%s=%s\n' "$n" "$(free_port)"
				printf 'GCOMM_PORT_%s=%s\n' "$n" "$(free_port)"
				printf 'IST_PORT_%s=%s\n' "$n" "$(free_port)"
				printf 'SST_PORT_%s=%s\n' "$n" "$(free_port)"
			done
			printf 'PORT=%s\n' "$(free_port)"
			printf 'DB_PASSWORD=%s\n' "$(openssl rand -hex 16)"
			printf 'DB_MIGRATE_PASSWORD=%s\n' "$(openssl rand -hex 16)"
			printf 'INTERNAL_TOKEN=%s\n' "$(openssl rand -hex 24)"
			printf 'ENCRYPTION_KEY=%s\n' "$(openssl rand -base64 32)"
		} >"$f"
		umask 022
	fi
	# shellcheck disable=SC1090
	. "$f"
}

port_of() { local v=$1_$2; printf '%s' "${!v}"; }

# ---- the Galera nodes ----

node_dir() { printf '%s/node%s' "$VAR_DIR" "$1"; }
node_sock() { printf '%s/node%s/run/mysql.sock' "$VAR_DIR" "$1"; }

node_sql() { # node, mariadb arguments...
	local n=$1
	shift
	mariadb --no-defaults --protocol=socket --socket="$(node_sock "$n")" \
		-uroot "$@"
}

# wsrep_local_state_comment of a node ("Synced" when it takes work), or
# nothing when it does not answer.
node_state() {
	node_sql "$1" -N -B -e \
		"SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null |
		cut -f2
}

start_node() { # node, bootstrap (1: a new cluster)
	local n=$1 new=${2:-0} d addr=() _i peers="" m
	d=$(node_dir "$n")
	alive "$d/run/mariadb.pid" && return 0
	mkdir -p "$d/data" "$d/run/tmp"
	chmod 700 "$d/data" "$d/run/tmp"
	[ $as_root -eq 1 ] && chown -R mysql:mysql "$d"
	: >>"$LOG/node$n.log"
	[ $as_root -eq 1 ] && chown mysql:mysql "$LOG/node$n.log"
	# A joiner's data comes from a donor (state transfer).
	if [ "$new" = 1 ] && [ ! -d "$d/data/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$d/data" \
			--tmpdir="$d/run/tmp" --user="$DB_USER" \
			--auth-root-authentication-method=normal --skip-test-db \
			>"$LOG/node$n-install.log" 2>&1 ||
			die "mariadb-install-db failed; see $LOG/node$n-install.log"
	fi
	[ $as_root -eq 1 ] && chown -R mysql:mysql "$d"
	for m in "${NODES[@]}"; do
		peers+="${peers:+,}127.0.0.1:$(port_of GCOMM_PORT "$m")"
	done
	[ "$new" = 1 ] && addr=(--wsrep-new-cluster)
	rm -f "$(node_sock "$n")"
	# Failure detection in seconds, not the default half a minute: a node
	# killed is out of the cluster quickly, and the rest keeps a quorum.
	mariadbd --no-defaults --datadir="$d/data" --socket="$(node_sock "$n")" \
		--tmpdir="$d/run/tmp" --port="$(port_of DB_PORT "$n")" \
		--bind-address=127.0.0.1 --pid-file="$d/run/mariadb.pid" \
		--log-error="$LOG/node$n.log" --user="$DB_USER" \
		--innodb-buffer-pool-size=48M --innodb-log-file-size=16M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--default-time-zone=+00:00 --max-connections=300 \
		--skip-name-resolve --default-storage-engine=InnoDB \
		--binlog-format=ROW --innodb-autoinc-lock-mode=2 \
		--innodb-flush-log-at-trx-commit=2 \
		--wsrep-on=ON --wsrep-provider="$PROVIDER" \
		--wsrep-cluster-name=booking-test --wsrep-node-name="node$n" \
		--wsrep-cluster-address="gcomm://$peers" \
		--wsrep-node-address="127.0.0.1:$(port_of GCOMM_PORT "$n")" \
		--wsrep-sst-method=rsync \
		--wsrep-sst-receive-address="127.0.0.1:$(port_of SST_PORT "$n")" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(port_of GCOMM_PORT "$n");ist.recv_addr=127.0.0.1:$(port_of IST_PORT "$n");evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.inactive_check_period=PT0.5S;evs.install_timeout=PT4S;gcache.size=64M" \
		"${addr[@]}" </dev/null >/dev/null 2>&1 &
	echo $! >"$d/run/mysqld_launch.pid"
	for _i in $(seq 1 600); do
		[ "$(node_state "$n")" = Synced ] && return 0
		kill -0 "$(cat "$d/run/mysqld_launch.pid")" 2>/dev/null ||
			die "node $n stopped; see $LOG/node$n.log"
		sleep 0.1
	done
	die "node $n did not become Synced; see $LOG/node$n.log"
}

kill_node() {
	local d
	d=$(node_dir "$1")
	local pids
	pids=$(pids_of "$d/run/mariadb.pid")
	[ -n "$pids" ] || pids=$(pids_of "$d/run/mysqld_launch.pid")
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	# shellcheck disable=SC2086
	[ -n "$pids" ] && wait_gone $pids
	rm -f "$d/run/mariadb.pid"
}

stop_node() {
	local d
	d=$(node_dir "$1")
	stop_pidfile "$d/run/mariadb.pid"
	stop_pidfile "$d/run/mysqld_launch.pid"
}

# The database and its two accounts, made on node 1 (Galera replicates
# them): the programs' (rows only) and the migrations' (the schema).
make_accounts() {
	node_sql 1 <<SQL
CREATE DATABASE IF NOT EXISTS booking CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'booking'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT SELECT, INSERT, UPDATE, DELETE ON booking.* TO 'booking'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'booking_migrate'@'127.0.0.1' IDENTIFIED BY '$DB_MIGRATE_PASSWORD';
GRANT ALL PRIVILEGES ON booking.* TO 'booking_migrate'@'127.0.0.1';
SQL
}

# "127.0.0.1:p1,127.0.0.1:p2,..." for the nodes in the order given.
node_list() {
	local n out=""
	for n in "$@"; do out+="${out:+,}127.0.0.1:$(port_of DB_PORT "$n")"; done
	printf '%s' "$out"
}

# ---- the simulator ----

start_sim() {
	local _i
	alive "$RUN/simulator.pid" && [ -s "$RUN/simulator.port" ] && return 0
	rm -f "$RUN/simulator.port"
	python3 "$ROOT/tests/sim/simulator.py" --host 127.0.0.1 --port 0 \
		--port-file "$RUN/simulator.port" --log "$LOG/simulator.log" \
		</dev/null >>"$LOG/simulator.log" 2>&1 &
	echo $! >"$RUN/simulator.pid"
	for _i in $(seq 1 100); do
		[ -s "$RUN/simulator.port" ] && return 0
		sleep 0.1
	done
	die "the simulator did not start; see $LOG/simulator.log"
}

# ---- the programs' environment, per host ----

host_order() { # host: the nodes in the order it names them
	case $1 in
	A) printf '1 2 3' ;;
	B) printf '2 3 1' ;;
	esac
}

# The variables are read back by name (${!v}).
# shellcheck disable=SC2034
compose_env() {
	local s v h
	s="http://127.0.0.1:$(cat "$RUN/simulator.port")"
	if [ "$ENV_FILE" != none ] && [ -f "$ENV_FILE" ]; then
		set -a
		# shellcheck disable=SC1090
		. "$ENV_FILE"
		set +a
	fi
	GOOGLE_API_BASE=$s
	GOOGLE_OAUTH_AUTH_URL=$s/o/oauth2/v2/auth
	GOOGLE_OAUTH_TOKEN_URL=$s/token
	GOOGLE_OAUTH_USERINFO_URL=$s/v1/userinfo
	MP_API_BASE=$s/mp
	GOOGLE_CALENDAR_ID=school@group.calendar.google.com
	CALENDAR_API_KEY=sim-api-key
	AUTH_GOOGLE_ID=sim-client-id.apps.googleusercontent.com
	AUTH_GOOGLE_SECRET=sim-client-secret
	AUTH_GOOGLE_REDIRECT_URI=http://127.0.0.1:$PORT/oauth/google/callback
	ADMIN_EMAIL=admin@school.test
	MP_ACCESS_TOKEN=sim-mp-access-token
	MP_WEBHOOK_SECRET=sim-mp-webhook-secret
	INTERNAL_API_TOKEN=$INTERNAL_TOKEN
	TOKEN_ENCRYPTION_KEY=$ENCRYPTION_KEY
	umask 077
	for h in "${HOSTS[@]}"; do
		# shellcheck disable=SC2046
		DATABASE_URL="mysql://booking:$DB_PASSWORD@$(node_list $(host_order "$h"))/booking"
		{
			printf 'SIMULATOR_PORT=%s\n' "$(cat "$RUN/simulator.port")"
			printf 'PORT=%s\n' "$PORT"
			printf 'PRIVATE_DB=0\n'
			for v in DATABASE_URL GOOGLE_CALENDAR_ID CALENDAR_API_KEY \
				AUTH_GOOGLE_ID AUTH_GOOGLE_SECRET AUTH_GOOGLE_REDIRECT_URI \
				ADMIN_EMAIL TOKEN_ENCRYPTION_KEY INTERNAL_API_TOKEN \
				MP_ACCESS_TOKEN MP_WEBHOOK_SECRET TIME_ZONE BOOKING_HOURS \
				BOOKING_MIN_NOTICE_MIN BOOKING_HOLD_MIN \
				CALENDAR_CACHE_TTL_S CALENDAR_MAX_STALE_S CALENDAR_PUSH_URL GOOGLE_API_BASE \
				GOOGLE_OAUTH_AUTH_URL GOOGLE_OAUTH_TOKEN_URL \
				GOOGLE_OAUTH_USERINFO_URL MP_API_BASE; do
				[ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
			done
		} >"$RUN/host$h.env"
	done
	cp "$RUN/hostA.env" "$RUN/stack.env"
	{
		for h in 1 2 3; do
			printf 'MIGRATE_DATABASE_URL_%s=%q\n' "$h" \
				"mysql://booking_migrate:$DB_MIGRATE_PASSWORD@$(node_list "$h")/booking"
		done
	} >"$RUN/migrate.env"
	chmod 600 "$RUN"/*.env
	umask 022
}

program_env() { # env file
	local line
	env -i PATH=/usr/bin:/bin bash -c 'set -a; . "$1"; set +a; env' _ "$1" |
		while IFS= read -r line; do
			case $line in PATH=* | PWD=* | SHLVL=* | _=*) continue ;; esac
			printf '%s\n' "$line"
		done
}

start_host() { # A or B
	local h=$1 p sock env_lines=() line owner=()
	mkdir -p "$RUN/host$h"
	chmod 755 "$RUN/host$h"
	while IFS= read -r line; do env_lines+=("$line"); done < <(program_env "$RUN/host$h.env")
	for p in "${PROGRAMS[@]}"; do
		[ -n "$(pids_of "$RUN/host$h/$p.pid")" ] && continue
		sock=$RUN/host$h/$p.sock
		rm -f "$sock"
		: >>"$LOG/host$h-$p.log"
		owner=()
		if [ $as_root -eq 1 ]; then
			chown "$RUN_USER:$RUN_GROUP" "$LOG/host$h-$p.log"
			owner=(-u "$RUN_USER" -g "$RUN_GROUP" -U "$RUN_USER" -G "$RUN_GROUP")
		fi
		env -i PATH=/usr/bin:/bin "${env_lines[@]}" \
			spawn-fcgi -s "$sock" -M 0600 "${owner[@]}" -F "$CHILDREN" \
			-P "$RUN/host$h/$p.pid" -- /bin/sh -c "exec \"\$0\" 2>>\"\$1\"" \
			"$BIN_DIR/$p" "$LOG/host$h-$p.log" >/dev/null ||
			die "spawn-fcgi could not start $p on host $h"
	done
}

stop_host() {
	local p
	for p in "${PROGRAMS[@]}"; do
		stop_pidfile "$RUN/host$1/$p.pid"
		rm -f "$RUN/host$1/$p.sock"
	done
}

# ---- nginx: both hosts in every upstream ----

start_nginx() {
	local user="" _i
	mkdir -p "$NGX/tmp" "$NGX/extra"
	[ $as_root -eq 1 ] && user="user $RUN_USER $RUN_GROUP;"
	[ $as_root -eq 1 ] && chown "$RUN_USER:$RUN_GROUP" "$NGX/tmp"
	render_nginx_files "s|^([[:space:]]*)server unix:/run/booking/([a-z_]+)\.sock;|\1server unix:$RUN/hostA/\2.sock;\n\1server unix:$RUN/hostB/\2.sock;|" "$user"
	nginx -p "$NGX" -c "$NGX/nginx.conf" 2>>"$LOG/nginx-error.log" ||
		die "nginx did not start; see $LOG/nginx-error.log"
	for _i in $(seq 1 50); do
		alive "$RUN/nginx.pid" && return 0
		sleep 0.1
	done
	die "nginx did not start; see $LOG/nginx-error.log"
}

# ---- commands ----

start() {
	local t0 n
	t0=$(date +%s.%N)
	settings
	[ $as_root -eq 1 ] && chmod 755 "$VAR_DIR"
	start_node 1 1
	make_accounts
	# The others join (a state transfer from node 1), together.
	(start_node 2) &
	local j2=$!
	(start_node 3) &
	local j3=$!
	wait $j2 || die "node 2 did not join"
	wait $j3 || die "node 3 did not join"
	for n in "${NODES[@]}"; do
		[ "$(node_sql "$n" -N -B -e "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2)" = 3 ] ||
			die "node $n does not see three nodes"
	done
	start_sim
	compose_env
	start_host A
	start_host B
	start_nginx
	say "cluster: up in $(python3 -c "import time; print('%.1f' % (time.time() - $t0))") s on http://127.0.0.1:$PORT"
}

stop() {
	local n
	[ -d "$RUN" ] || return 0
	stop_pidfile "$RUN/nginx.pid"
	stop_host A
	stop_host B
	stop_pidfile "$RUN/simulator.pid"
	for n in 3 2 1; do stop_node "$n"; done
	say "cluster: stopped"
}

status() {
	local n h
	settings
	for n in "${NODES[@]}"; do say "node $n: $(node_state "$n" || true)"; done
	for h in "${HOSTS[@]}"; do
		if [ -n "$(pids_of "$RUN/host$h/calendar_post.pid")" ]; then
			say "host $h: up"
		else
			say "host $h: down"
		fi
	done
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
kill-node) settings && kill_node "$2" ;;
start-node) settings && start_node "$2" 0 ;;
stop-host) settings && stop_host "$2" ;;
start-host) settings && start_host "$2" ;;
*) die "usage: cluster.sh start|stop|status|kill-node N|start-node N|stop-host H|start-host H" ;;
esac
