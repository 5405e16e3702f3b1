#!/usr/bin/env bash
# Installs the Debian packages the build, the stack and the tests need, when
# they are missing. As root it runs apt-get; otherwise it prints the command.
set -euo pipefail

packages=(
	build-essential pkg-config
	libfcgi-dev libcurl4-openssl-dev libjson-c-dev libmariadb-dev libssl-dev
	mariadb-server mariadb-client galera-4 rsync nginx spawn-fcgi python3 tzdata
	clang libclang-rt-14-dev valgrind clang-format cppcheck wrk curl openssl
	php-cli php-curl
	chromium chromium-driver python3-selenium
	systemd
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: install them with: sudo apt-get update && sudo $cmd" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The packages' own services are not wanted: the stack runs private ones.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
$cmd >/dev/null
