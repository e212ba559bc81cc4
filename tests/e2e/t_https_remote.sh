#!/bin/sh
# A meta repo over https (git smart HTTP behind TLS, on 127.0.0.1): clone, a write that
# pushes, pull. CA certificates are loaded only when an https remote is used (the release
# CLI does not parse them at start), from SSL_CERT_FILE when set, else the system bundle;
# a server the bundle does not vouch for is refused (TLS fails closed).
set -eu
: "${BOOTMETA:?}" "${BM_SRCDIR:?}"
for t in openssl python3 git; do
	command -v $t >/dev/null 2>&1 || { echo "FAIL: needs $t (make deps installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
srv=""
cleanup() { [ -z "$srv" ] || kill "$srv" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.log" ] && tail -20 "$work/server.log" >&2; cat "$work/err" >&2; exit 1; }
export BOOTMETA_ACTOR="Https Test <https@example.com>"
unset BOOTMETA_REPO BOOTMETA_ENV SSL_CERT_FILE SSL_CERT_DIR || true
export LSAN_OPTIONS="${LSAN_OPTIONS:-}:print_suppressions=0"
bm() { "$BOOTMETA" "$@"; }

# a self-signed certificate for localhost, and another one nobody uses
for n in server other; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost \
		-keyout "$work/$n.key" -out "$work/$n.pem" 2>"$work/openssl.log" || { cat "$work/openssl.log"; fail "openssl"; }
done

mkdir "$work/srv"
bm init "$work/srv/meta.git" >/dev/null
git --git-dir="$work/srv/meta.git" config http.receivepack true
python3 "$BM_SRCDIR/tests/e2e/https_git_server.py" "$work/srv" "$work/server.pem" "$work/server.key" \
	"$work/port" 120 2>"$work/server.log" &
srv=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the https server did not start"
	sleep 0.1
done
url="https://localhost:$(cat "$work/port")/meta.git"

# the system bundle does not vouch for this server: refused, nothing cloned
if bm clone "$url" "$work/c0.git" >"$work/out" 2>"$work/err"; then fail "clone from an untrusted https server"; fi
grep -qi "certificate" "$work/err" || { cat "$work/err"; fail "the refusal does not name the certificate"; }
# nor does another certificate
if SSL_CERT_FILE="$work/other.pem" bm clone "$url" "$work/c1.git" >"$work/out" 2>"$work/err"; then
	fail "clone trusting another certificate"
fi

# SSL_CERT_FILE names the server's certificate: clone, write (pushes), read back on the server
export SSL_CERT_FILE="$work/server.pem"
bm clone "$url" "$work/c.git" >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "clone over https"; }
bm --repo "$work/c.git" project add demo/app --source https://example.com/demo/app.git >/dev/null 2>"$work/err" ||
	{ cat "$work/err"; fail "a write through the https clone"; }
git --git-dir="$work/srv/meta.git" cat-file -e main:projects/demo/app/project.pb || fail "the write did not reach the server"
[ "$(git --git-dir="$work/srv/meta.git" rev-parse main)" = "$(git --git-dir="$work/c.git" rev-parse main)" ] ||
	fail "clone and server disagree after the push"

# a second clone sees it; pull brings the first one's later write
bm clone "$url" "$work/d.git" >/dev/null 2>&1 || fail "second clone"
bm --repo "$work/d.git" project list | grep -q "^demo/app " || fail "second clone lacks the project"
bm --repo "$work/c.git" project add demo/lib --source https://example.com/demo/lib.git >/dev/null 2>&1 || fail "second write"
bm --repo "$work/d.git" pull >/dev/null 2>"$work/err" || { cat "$work/err"; fail "pull over https"; }
bm --repo "$work/d.git" project list | grep -q "^demo/lib " || fail "pull did not bring the new project"
# SSL_CERT_DIR works as well (a folder of hashed certificates)
unset SSL_CERT_FILE
mkdir "$work/certs"
cp "$work/server.pem" "$work/certs/$(openssl x509 -hash -noout -in "$work/server.pem").0"
SSL_CERT_DIR="$work/certs" bm --repo "$work/d.git" pull >/dev/null 2>"$work/err" || { cat "$work/err"; fail "pull with SSL_CERT_DIR"; }
echo "ok: https clone, push, pull; untrusted servers refused"
