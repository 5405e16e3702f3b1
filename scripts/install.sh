#!/usr/bin/env bash
# make install: the programs, sql/, the nginx includes, the systemd units and
# an example environment file (never overwritten) under $DESTDIR.
#
# Settings (environment; the Makefile passes them): DESTDIR (empty), PREFIX
# (/opt/booking), SYSCONFDIR (/etc/booking), UNITDIR (/etc/systemd/system),
# SYSUSERSDIR (/etc/sysusers.d), NGINX_GROUP (www-data: the group nginx runs
# as, which may connect to the FastCGI sockets), BIN_DIR (cgi-bin),
# PROGRAMS (the programs to install).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/booking}
SYSCONFDIR=${SYSCONFDIR:-/etc/booking}
UNITDIR=${UNITDIR:-/etc/systemd/system}
SYSUSERSDIR=${SYSUSERSDIR:-/etc/sysusers.d}
NGINX_GROUP=${NGINX_GROUP:-www-data}
BIN_DIR=${BIN_DIR:-cgi-bin}
PROGRAMS=${PROGRAMS:-calendar_get calendar_post oauth_callback payment_hook reconcile migrate}
# The programs nginx talks to: each gets a .socket and a .service.
FASTCGI="calendar_get calendar_post oauth_callback payment_hook"

die() { printf 'install: %s\n' "$*" >&2; exit 1; }

case $PREFIX in /*) ;; *) die "PREFIX must be an absolute path: $PREFIX" ;; esac
case $SYSCONFDIR in /*) ;; *) die "SYSCONFDIR must be an absolute path" ;; esac
for p in $PROGRAMS; do
	[ -x "$BIN_DIR/$p" ] || die "$BIN_DIR/$p is not built (run make first)"
done

D=$DESTDIR
install -d -m 0755 "$D$PREFIX/bin" "$D$PREFIX/share/sql" "$D$PREFIX/share/nginx" \
	"$D$PREFIX/share/doc" "$D$UNITDIR" "$D$SYSUSERSDIR" "$D$SYSCONFDIR"

for p in $PROGRAMS; do
	install -m 0755 "$BIN_DIR/$p" "$D$PREFIX/bin/$p"
done
install -m 0644 sql/*.sql "$D$PREFIX/share/sql/"
install -m 0644 nginx/booking-http.conf nginx/booking-server.conf \
	nginx/fastcgi_params "$D$PREFIX/share/nginx/"
install -m 0644 README.md docs/API.md docs/ARCHITECTURE.md docs/openapi.yaml \
	"$D$PREFIX/share/doc/"

# The units: @NAMES@ filled in; the hardening block is shared by every
# service.
render() { # template output [program]
	local hardening
	hardening=$(sed -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" systemd/hardening.conf.in)
	awk -v h="$hardening" '{ if ($0 == "@HARDENING@") print h; else print }' "$1" |
		sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" \
			-e "s|@NGINX_GROUP@|$NGINX_GROUP|g" -e "s|@PROGRAM@|${3:-}|g" >"$2.tmp"
	chmod 0644 "$2.tmp"
	mv "$2.tmp" "$2"
}
for p in $FASTCGI; do
	render systemd/booking-program.socket.in "$D$UNITDIR/booking-$p.socket" "$p"
	render systemd/booking-program.service.in "$D$UNITDIR/booking-$p.service" "$p"
done
render systemd/booking-migrate.service.in "$D$UNITDIR/booking-migrate.service"
render systemd/booking-reconcile.service.in "$D$UNITDIR/booking-reconcile.service"
install -m 0644 systemd/booking-reconcile.timer "$D$UNITDIR/booking-reconcile.timer"
install -m 0644 systemd/sysusers.conf "$D$SYSUSERSDIR/booking.conf"

# The environment: the examples always, the real files only when there are
# none (they hold the school's secrets). booking.env is the programs'
# (group booking may read it), migrate.env root's alone.
for f in booking.env:0640 migrate.env:0600; do
	name=${f%:*}
	render "systemd/$name.example" "$D$SYSCONFDIR/$name.example"
	if [ ! -e "$D$SYSCONFDIR/$name" ]; then
		install -m "${f#*:}" "$D$SYSCONFDIR/$name.example" "$D$SYSCONFDIR/$name"
		echo "install: wrote $D$SYSCONFDIR/$name from the example: fill it in"
	else
		echo "install: kept $D$SYSCONFDIR/$name as it is"
	fi
done

# On the real system (no DESTDIR, as root): the user, the file's group, and
# systemd told about the new units.
if [ -z "$D" ] && [ "$(id -u)" -eq 0 ]; then
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "$SYSUSERSDIR/booking.conf"
	fi
	if getent group booking >/dev/null; then
		chgrp booking "$SYSCONFDIR/booking.env"
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload
	fi
fi
echo "install: done under ${D:-/} (PREFIX=$PREFIX); see README.md, \"Deploying on Debian\""
