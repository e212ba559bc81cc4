#!/bin/sh
# Install the Debian packages bootmeta needs to build, test and demo.
# Asks for root (through sudo) only when something is missing.
set -eu
# Every tool a test or benchmark calls is listed here (no test skips a missing tool: it fails).
# Also used and always present (Debian Essential): coreutils, grep, sed, awk (mawk), findutils,
# diffutils, util-linux (setsid), bsdutils (script).
PKGS="build-essential cmake pkg-config git ca-certificates
libgit2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
libsodium-dev libcmocka-dev libjansson-dev zlib1g-dev
libssh2-1-dev libmbedtls-dev libhttp-parser-dev libpcre2-dev libssl-dev
clang libclang-rt-14-dev
age minisign openssh-client openssl golang-go nodejs npm jq python3
groff-base nginx fcgiwrap openssh-server
libmicrohttpd-dev libnats-dev libcurl4-openssl-dev curl systemd nats-server strace xfsprogs"
# libssh2-1-dev ... libssl-dev: the static archives (libgit2.a, libssh2.a, libmbed*.a,
# libhttp_parser.a, libpcre2-8.a, libcrypto.a, libz.a) the release CLI links for a fast start.
# groff-base: the man pages are rendered at build time.
# libmicrohttpd-dev, libnats-dev, libcurl4-openssl-dev: bootmeta-live (serve, watch); curl:
# the serve tests talk to it as any client would. systemd: systemd-analyze verify checks the
# units in contrib/systemd.
# nats-server (JetStream with -js): the NATS side of serve is tested against it (t_serve_nats).
# strace: t_sync_method counts the syncs a write makes; xfsprogs: it also runs on an xfs
# (and on ext4 with and without a journal) on loop devices, as root. openssl: the https remote test
# makes its certificates with it. jq, python3: e2e tests.
# nginx, fcgiwrap: t_git_http serves meta repos with git http-backend behind them;
# openssh-server: t_git_ssh runs its own sshd (tests/e2e/lib_gitsrv.sh starts both on
# 127.0.0.1, as the test's user, and stops them).
# `deps.sh bench` (make bench) also installs what only the benchmarks use: etcd-server (etcd
# 3.4, the peer of bench/b_serve.sh; on a machine with systemd, Debian's package also starts an
# etcd service on 127.0.0.1:2379, which the bench does not use) and wrk (its load tool).
[ "${1:-}" = bench ] && PKGS="$PKGS etcd-server wrk"
# nginx (Debian's nginx 1.22 has the core dav module built in: PUT with create_full_put_path)
# serves and takes artifacts in t_artifacts; s3rver (npm, below) is its S3.

# s3rver, the S3 emulator of t_artifacts (npm; pinned), goes into the project's build/npm,
# never globally. Run after the Debian packages (it needs npm).
npm_tools() {
	src=$(cd "$(dirname "$0")/.." && pwd)
	[ -x "$src/build/npm/node_modules/.bin/s3rver" ] && return 0
	echo "deps: installing s3rver@3.7.1 into $src/build/npm"
	mkdir -p "$src/build/npm"
	npm install --prefix "$src/build/npm" --no-audit --no-fund --loglevel=error s3rver@3.7.1 >/dev/null
}

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
if [ -z "$missing" ]; then
	npm_tools
	exit 0
fi

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
npm_tools
