#!/usr/bin/env bash
# The local stack: a private MariaDB (unix socket only, data under $VAR_DIR),
# the four FastCGI programs under spawn-fcgi, nginx on 127.0.0.1:$PORT and,
# without real credentials, the simulator of Google and MercadoPago.
#
# The private MariaDB: root has a random password, kept with the client's
# settings in $VAR_DIR/mariadb-root.cnf (mode 600:
# mariadb --defaults-file=var/mariadb-root.cnf booking); its socket is in
# $VAR_DIR/mysqld/, which only the invoking user (and, as root, the
# programs' group) can enter. The programs' user "booking" may only read
# and write rows (SELECT, INSERT, UPDATE, DELETE on booking.*); the
# migrations run as "booking_migrate", which may change the schema, with
# MIGRATE_DATABASE_URL from $VAR_DIR/run/migrate.env (mode 600), which the
# programs never see.
#
#   stack.sh start | stop | status | migrate | stop-db | start-db
#
# Settings (environment): VAR_DIR (default ./var), PORT (8080), BIN_DIR
# (./cgi-bin), ENV_FILE (./.env; "none" for none), CHILDREN (processes per
# program, 2), SIM (auto: on when .env has no AUTH_GOOGLE_ID; on; off).
# What the programs were started with is in $VAR_DIR/run/stack.env (mode
# 600). With DATABASE_URL in .env (a database of your own) the migrations
# run with MIGRATE_DATABASE_URL from .env, or DATABASE_URL without it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR_DIR=${VAR_DIR:-$ROOT/var}
mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
PORT=${PORT:-8080}
BIN_DIR=${BIN_DIR:-$ROOT/cgi-bin}
BIN_DIR=$(cd "$BIN_DIR" && pwd)
ENV_FILE=${ENV_FILE:-$ROOT/.env}
CHILDREN=${CHILDREN:-2}
SIM=${SIM:-auto}
RUN=$VAR_DIR/run
LOG=$VAR_DIR/log
DATA=$VAR_DIR/mysql
DBRUN=$VAR_DIR/mysqld
ROOT_CNF=$VAR_DIR/mariadb-root.cnf
NGX=$VAR_DIR/nginx
PROGRAMS=(calendar_get calendar_post oauth_callback payment_hook)

NAME=stack
# shellcheck source=scripts/proc.sh
. "$ROOT/scripts/proc.sh"

as_root=0
[ "$(id -u)" -eq 0 ] && as_root=1
# As root, the programs and nginx's workers run as nobody.
RUN_USER=nobody
RUN_GROUP=nogroup
getent group nogroup >/dev/null || RUN_GROUP=nobody

# ---- configuration ----

load_env_file() {
	[ "$ENV_FILE" = none ] && return 0
	[ -f "$ENV_FILE" ] || return 0
	set -a
	# shellcheck disable=SC1090
	. "$ENV_FILE"
	set +a
}

# Local secrets made once: the database's passwords (the programs', the
# migrations', root's), the internal token, the token encryption key. Kept
# in $VAR_DIR (mode 600), never printed. A secret an older secrets.env
# lacks is added.
local_secrets() {
	local f=$VAR_DIR/secrets.env
	umask 077
	touch "$f"
	chmod 600 "$f"
	add_secret() { # name, command that prints a new value
		local name=$1
		shift
		grep -q "^$name=" "$f" || printf '%s=%s\n' "$name" "$("$@")" >>"$f"
	}
	add_secret LOCAL_DB_PASSWORD openssl rand -hex 16
	add_secret LOCAL_INTERNAL_API_TOKEN openssl rand -hex 24
	add_secret LOCAL_TOKEN_ENCRYPTION_KEY openssl rand -base64 32
	add_secret LOCAL_DB_MIGRATE_PASSWORD openssl rand -hex 16
	add_secret LOCAL_DB_ROOT_PASSWORD openssl rand -hex 24
	umask 022
	# shellcheck disable=SC1090
	. "$f"
}

sim_mode() {
	case $SIM in
	on) return 0 ;;
	off) return 1 ;;
	*) [ -z "${AUTH_GOOGLE_ID:-}" ] ;;
	esac
}

# ---- MariaDB ----

db_socket() { printf '%s/mysql.sock' "$DBRUN"; }

# mariadb-admin ping succeeds when the server answers, even if it refuses
# the login.
db_up() {
	[ -S "$(db_socket)" ] && alive "$RUN/mariadb.pid" &&
		mariadb-admin --no-defaults --protocol=socket \
			--socket="$(db_socket)" -uroot ping >/dev/null 2>&1
}

# The socket's directory: the invoking user's alone; as root, the programs'
# group (they run as $RUN_USER) may enter it too. No one else reaches the
# database, whatever its accounts allow. The data directory likewise.
prepare_db_dirs() {
	mkdir -p "$DBRUN/tmp" "$DATA"
	chmod 700 "$DBRUN/tmp" "$DATA"
	if [ $as_root -eq 1 ]; then
		chown "root:$RUN_GROUP" "$DBRUN"
		chmod 750 "$DBRUN"
	else
		chmod 700 "$DBRUN"
	fi
}

start_db() {
	local i
	prepare_db_dirs
	if db_up; then return 0; fi
	# A server of an older stack.sh, its socket elsewhere: restart it.
	alive "$RUN/mariadb.pid" && stop_db
	if [ ! -d "$DATA/mysql" ]; then
		say "stack: creating a private MariaDB data directory in $DATA"
		mariadb-install-db --no-defaults --datadir="$DATA" \
			--tmpdir="$DBRUN/tmp" \
			--user="$(id -un)" --auth-root-authentication-method=normal \
			--skip-test-db >"$LOG/mariadb-install.log" 2>&1 ||
			die "mariadb-install-db failed; see $LOG/mariadb-install.log"
	fi
	rm -f "$(db_socket)"
	mariadbd --no-defaults --datadir="$DATA" --socket="$(db_socket)" \
		--tmpdir="$DBRUN/tmp" \
		--skip-networking --pid-file="$RUN/mariadb.pid" \
		--log-error="$LOG/mariadb.log" --user="$(id -un)" \
		--innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--default-time-zone=+00:00 --max-connections=300 \
		</dev/null >/dev/null 2>&1 &
	for i in $(seq 1 300); do
		db_up && return 0
		sleep 0.1
	done
	die "MariaDB did not start; see $LOG/mariadb.log"
}

stop_db() {
	local pids
	pids=$(pids_of "$RUN/mariadb.pid")
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_gone $pids
}

# SQL as the database's root, with the password of $ROOT_CNF.
db_sql() {
	mariadb --defaults-file="$ROOT_CNF" "$@"
}

# root's client settings: the socket and the password (mode 600).
write_root_cnf() {
	umask 077
	printf '[client]\nuser=root\npassword=%s\nprotocol=socket\nsocket=%s\n' \
		"$LOCAL_DB_ROOT_PASSWORD" "$(db_socket)" >"$ROOT_CNF.tmp"
	chmod 600 "$ROOT_CNF.tmp"
	mv -f "$ROOT_CNF.tmp" "$ROOT_CNF"
	umask 022
}

# root gets its password: a new data directory's root has none (nor had a
# data directory of an older stack.sh). Then root is root@localhost only,
# and no anonymous account is left.
secure_root() {
	local nopw=(mariadb --no-defaults --protocol=socket --socket="$(db_socket)" -uroot)
	write_root_cnf
	if "${nopw[@]}" -e 'SELECT 1' >/dev/null 2>&1; then
		# The password is ours (hex), so it is safe in SQL.
		"${nopw[@]}" -e "ALTER USER 'root'@'localhost' IDENTIFIED BY '$LOCAL_DB_ROOT_PASSWORD'" ||
			die "could not set the database root's password"
	fi
	db_sql -e 'SELECT 1' >/dev/null 2>&1 ||
		die "cannot log in to the private MariaDB as root with the password in $VAR_DIR/secrets.env (was it replaced? remove $DATA to start over)"
	local drop
	drop=$(db_sql -N -B -e "SELECT CONCAT('DROP USER ', QUOTE(user), '@', QUOTE(host), ';') FROM mysql.user WHERE user = '' OR (user = 'root' AND host <> 'localhost')")
	[ -z "$drop" ] || db_sql -e "$drop"
}

# The grants an account has, one line each, sorted.
grants_of() {
	db_sql -N -B -e "SHOW GRANTS FOR $1" 2>/dev/null | sed 's/ IDENTIFIED BY PASSWORD .*//' | sort
}

# An account with exactly these grants (REVOKE and GRANT only when they
# differ, so a second start does not take a running program's rights away).
ensure_account() { # user, password, privileges on booking.*
	local user=$1 password=$2 privileges=$3 want
	# Names and passwords are ours (hex), so they are safe in SQL.
	db_sql <<SQL
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$password';
ALTER USER '$user'@'localhost' IDENTIFIED BY '$password';
SQL
	want=$(printf '%s\n' "GRANT USAGE ON *.* TO \`$user\`@\`localhost\`" \
		"GRANT $privileges ON \`booking\`.* TO \`$user\`@\`localhost\`" | sort)
	if [ "$(grants_of "'$user'@'localhost'")" != "$want" ]; then
		db_sql <<SQL
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$user'@'localhost';
GRANT $privileges ON booking.* TO '$user'@'localhost';
SQL
	fi
}

ensure_database() {
	secure_root
	db_sql -e "CREATE DATABASE IF NOT EXISTS booking CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	# The programs: rows only, never the schema.
	ensure_account booking "$LOCAL_DB_PASSWORD" "SELECT, INSERT, UPDATE, DELETE"
	# The migrations: the schema of booking, nothing outside it.
	ensure_account booking_migrate "$LOCAL_DB_MIGRATE_PASSWORD" "ALL PRIVILEGES"
}

# ---- the simulator ----

start_sim() {
	local i
	if alive "$RUN/simulator.pid" && [ -s "$RUN/simulator.port" ]; then
		return 0
	fi
	rm -f "$RUN/simulator.port"
	python3 "$ROOT/tests/sim/simulator.py" --host 127.0.0.1 --port 0 \
		--port-file "$RUN/simulator.port" --log "$LOG/simulator.log" \
		</dev/null >>"$LOG/simulator.log" 2>&1 &
	echo $! >"$RUN/simulator.pid"
	for i in $(seq 1 100); do
		[ -s "$RUN/simulator.port" ] && return 0
		sleep 0.1
	done
	die "the simulator did not start; see $LOG/simulator.log"
}

# ---- the environment of the programs ----

compose_env() {
	load_env_file
	local_secrets
	local sim_port="" redirect
	redirect="http://127.0.0.1:$PORT/oauth/google/callback"
	if sim_mode; then
		start_sim
		sim_port=$(cat "$RUN/simulator.port")
		local s="http://127.0.0.1:$sim_port"
		GOOGLE_API_BASE=$s
		GOOGLE_OAUTH_AUTH_URL=$s/o/oauth2/v2/auth
		GOOGLE_OAUTH_TOKEN_URL=$s/token
		GOOGLE_OAUTH_USERINFO_URL=$s/v1/userinfo
		MP_API_BASE=$s/mp
		GOOGLE_CALENDAR_ID=school@group.calendar.google.com
		CALENDAR_API_KEY=sim-api-key
		AUTH_GOOGLE_ID=sim-client-id.apps.googleusercontent.com
		AUTH_GOOGLE_SECRET=sim-client-secret
		AUTH_GOOGLE_REDIRECT_URI=$redirect
		ADMIN_EMAIL=admin@school.test
		MP_ACCESS_TOKEN=sim-mp-access-token
		MP_WEBHOOK_SECRET=sim-mp-webhook-secret
	fi
	: "${AUTH_GOOGLE_REDIRECT_URI:=$redirect}"
	: "${INTERNAL_API_TOKEN:=$LOCAL_INTERNAL_API_TOKEN}"
	: "${TOKEN_ENCRYPTION_KEY:=$LOCAL_TOKEN_ENCRYPTION_KEY}"
	local private_db=0
	if [ -z "${DATABASE_URL:-}" ]; then
		private_db=1
		DATABASE_URL="mysql://booking:$LOCAL_DB_PASSWORD@localhost/booking?socket=$(db_socket)"
		MIGRATE_DATABASE_URL="mysql://booking_migrate:$LOCAL_DB_MIGRATE_PASSWORD@localhost/booking?socket=$(db_socket)"
	fi
	: "${MIGRATE_DATABASE_URL:=$DATABASE_URL}"
	umask 077
	# The migrations' account, which the programs must not have.
	printf 'MIGRATE_DATABASE_URL=%q\n' "$MIGRATE_DATABASE_URL" >"$RUN/migrate.env"
	chmod 600 "$RUN/migrate.env"
	{
		printf 'PRIVATE_DB=%s\n' "$private_db"
		printf 'SIMULATOR_PORT=%s\n' "$sim_port"
		printf 'PORT=%s\n' "$PORT"
		local v
		for v in DATABASE_URL GOOGLE_CALENDAR_ID CALENDAR_API_KEY \
			AUTH_GOOGLE_ID AUTH_GOOGLE_SECRET AUTH_GOOGLE_REDIRECT_URI \
			ADMIN_EMAIL TOKEN_ENCRYPTION_KEY INTERNAL_API_TOKEN \
			MP_ACCESS_TOKEN MP_WEBHOOK_SECRET TIME_ZONE BOOKING_HOURS \
			BOOKING_MIN_NOTICE_MIN BOOKING_HOLD_MIN BOOKING_SEND_UPDATES \
			CALENDAR_CACHE_TTL_S CALENDAR_PUSH_URL \
			CALENDAR_MAX_STALE_S MP_SIGNATURE_TOLERANCE_S GOOGLE_API_BASE \
			GOOGLE_OAUTH_AUTH_URL GOOGLE_OAUTH_TOKEN_URL \
			GOOGLE_OAUTH_USERINFO_URL MP_API_BASE; do
			[ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
		done
	} >"$RUN/stack.env"
	chmod 600 "$RUN/stack.env"
	umask 022
}

# The programs see exactly stack.env, nothing else of this shell.
program_env() {
	local line
	env -i PATH=/usr/bin:/bin bash -c 'set -a; . "$1"; set +a; env' _ "$RUN/stack.env" |
		while IFS= read -r line; do
			case $line in PATH=* | PWD=* | SHLVL=* | _=*) continue ;; esac
			printf '%s\n' "$line"
		done
}

# The doctor's checks (cgi-bin/doctor), once, indented: what is not ready
# yet and what to do. Its exit status (1 warnings, 2 a failure) does not stop
# the stack: a first run has no Google connection, and says so.
run_doctor() {
	local env_lines=() line
	[ -x "$BIN_DIR/doctor" ] || return 0
	while IFS= read -r line; do env_lines+=("$line"); done < <(program_env)
	say ""
	say "The doctor (cgi-bin/doctor; README.md, \"The doctor\"):"
	env -i PATH=/usr/bin:/bin "${env_lines[@]}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$BIN_DIR/doctor" --sql "$ROOT/sql" 2>>"$LOG/doctor.log" | sed 's/^/  /' || true
}

# ---- the programs ----

start_programs() {
	local p sock mapfile_env=() line
	while IFS= read -r line; do mapfile_env+=("$line"); done < <(program_env)
	for p in "${PROGRAMS[@]}"; do
		[ -n "$(pids_of "$RUN/$p.pid")" ] && continue
		sock=$RUN/$p.sock
		rm -f "$sock"
		: >>"$LOG/$p.log"
		local owner=()
		if [ $as_root -eq 1 ]; then
			chown "$RUN_USER:$RUN_GROUP" "$LOG/$p.log"
			owner=(-u "$RUN_USER" -g "$RUN_GROUP" -U "$RUN_USER" -G "$RUN_GROUP")
		fi
		env -i PATH=/usr/bin:/bin "${mapfile_env[@]}" \
			ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
			spawn-fcgi -s "$sock" -M 0600 "${owner[@]}" -F "$CHILDREN" \
			-P "$RUN/$p.pid" -- /bin/sh -c "exec \"\$0\" 2>>\"\$1\"" \
			"$BIN_DIR/$p" "$LOG/$p.log" >/dev/null ||
			die "spawn-fcgi could not start $p; see $LOG/$p.log"
	done
	sleep 0.2
	for p in "${PROGRAMS[@]}"; do
		[ -n "$(pids_of "$RUN/$p.pid")" ] ||
			die "$p stopped at start-up: $(tail -n 3 "$LOG/$p.log")"
	done
}

stop_programs() {
	local p pids
	for p in "${PROGRAMS[@]}"; do
		pids=$(pids_of "$RUN/$p.pid")
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill -TERM $pids 2>/dev/null || true
			# shellcheck disable=SC2086
			wait_gone $pids
		fi
		rm -f "$RUN/$p.pid" "$RUN/$p.sock"
	done
}

# ---- nginx ----

render_nginx() {
	local user=""
	mkdir -p "$NGX/tmp" "$NGX/extra"
	[ $as_root -eq 1 ] && user="user $RUN_USER $RUN_GROUP;"
	[ $as_root -eq 1 ] && chown "$RUN_USER:$RUN_GROUP" "$NGX/tmp"
	render_nginx_files "s|/run/booking/|$RUN/|g" "$user"
}

start_nginx() {
	local i
	render_nginx
	nginx -p "$NGX" -c "$NGX/nginx.conf" -t >"$LOG/nginx-test.log" 2>&1 ||
		die "nginx refused its configuration: $(cat "$LOG/nginx-test.log")"
	if alive "$RUN/nginx.pid"; then
		nginx -p "$NGX" -c "$NGX/nginx.conf" -s reload 2>>"$LOG/nginx-error.log"
		return 0
	fi
	nginx -p "$NGX" -c "$NGX/nginx.conf" 2>>"$LOG/nginx-error.log" ||
		die "nginx did not start (is port $PORT taken?); see $LOG/nginx-error.log"
	for i in $(seq 1 50); do
		alive "$RUN/nginx.pid" && return 0
		sleep 0.1
	done
	die "nginx did not start; see $LOG/nginx-error.log"
}

stop_nginx() {
	local pids
	pids=$(pids_of "$RUN/nginx.pid")
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_gone $pids
}

stop_sim() {
	local pids
	pids=$(pids_of "$RUN/simulator.pid")
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null || true
		# shellcheck disable=SC2086
		wait_gone $pids
	fi
	rm -f "$RUN/simulator.pid" "$RUN/simulator.port"
}

# ---- commands ----

# The migrations run with the schema's account (MIGRATE_DATABASE_URL), the
# programs' environment otherwise.
migrate() {
	# shellcheck disable=SC1091
	(set -a && . "$RUN/stack.env" && . "$RUN/migrate.env" && set +a &&
		DATABASE_URL=$MIGRATE_DATABASE_URL "$BIN_DIR/migrate" "$ROOT/sql") ||
		die "migrations failed"
}

prepare_dirs() {
	mkdir -p "$RUN" "$LOG"
	# Others (nobody) must reach the sockets and logs inside.
	chmod 755 "$VAR_DIR" "$RUN" "$LOG"
}

start() {
	local before=""
	prepare_dirs
	[ -f "$RUN/stack.env" ] && before=$(cat "$RUN/stack.env")
	compose_env
	# shellcheck disable=SC1091
	. "$RUN/stack.env"
	if [ "$PRIVATE_DB" = 1 ]; then
		start_db
		ensure_database
	fi
	migrate >"$LOG/migrate.log" 2>&1 || die "migrations failed: $(cat "$LOG/migrate.log")"
	# Programs running with another environment (.env changed, or an
	# older stack.sh's database socket) start again with this one.
	[ "$before" = "$(cat "$RUN/stack.env")" ] || stop_programs
	start_programs
	start_nginx
	say "The booking endpoints are up on http://127.0.0.1:$PORT"
	say "  health:        curl http://127.0.0.1:$PORT/api/health"
	say "  availability:  http://127.0.0.1:$PORT/api/calendar"
	say "  connect Google: http://127.0.0.1:$PORT/oauth/google/start"
	say "  admin console: http://127.0.0.1:$PORT/admin"
	if [ -n "$SIMULATOR_PORT" ]; then
		say "No real credentials in .env: Google and MercadoPago are the local"
		say "simulator on http://127.0.0.1:$SIMULATOR_PORT (see tests/sim/README.md)."
	fi
	say "Internal endpoints take the token in $RUN/stack.env (INTERNAL_API_TOKEN)."
	say "Logs: $LOG/    Stop: make stop"
	run_doctor
}

stop() {
	[ -d "$RUN" ] || return 0
	stop_nginx
	stop_programs
	stop_sim
	stop_db
	say "stack: stopped"
}

status() {
	local p
	alive "$RUN/nginx.pid" && say "nginx: up on $PORT" || say "nginx: down"
	for p in "${PROGRAMS[@]}"; do
		[ -n "$(pids_of "$RUN/$p.pid")" ] && say "$p: up" || say "$p: down"
	done
	db_up && say "mariadb: up" || say "mariadb: down"
	alive "$RUN/simulator.pid" && say "simulator: up" || say "simulator: down"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
migrate)
	prepare_dirs
	if [ ! -f "$RUN/stack.env" ] || [ ! -f "$RUN/migrate.env" ]; then
		compose_env
	fi
	migrate
	;;
stop-db) stop_db ;;
start-db) prepare_dirs && start_db ;;
*) die "usage: stack.sh start|stop|status|migrate|stop-db|start-db" ;;
esac
