#!/bin/sh
# Install the Debian packages bootmeta needs to build, test and demo.
# Asks for root (through sudo) only when something is missing.
set -eu
PKGS="build-essential cmake pkg-config git ca-certificates
libgit2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
libsodium-dev libcmocka-dev libjansson-dev zlib1g-dev
clang libclang-rt-14-dev
age minisign openssh-client golang-go nodejs npm
groff-base"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		# node/npm may come from outside Debian on some machines
		case "$p" in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: need root to install:$missing (run as root, or install sudo)" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
