#!/bin/sh
# A new server from nothing: `curl $SERVE/v1/bootstrap.sh | dash -s -- ...` in a throw-away
# root (a folder as the host's /): the script asks serve for the agent's binary, checks its
# size, sha256 and signature against the key given on its command line, installs it, writes
# the agent's command line and starts it under a supervisor loop (no systemd here); the agent
# installs the app (verified against the same key), runs it, and reports healthy through
# serve. A wrong key or changed bytes: refused, nothing installed.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"
command -v dash >/dev/null || fail "needs dash (Debian package dash)"
command -v minisign >/dev/null || fail "needs minisign (Debian package minisign)"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/src")
bm project add app >/dev/null
bm project add bootmeta/agent >/dev/null
bm env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null
"$BM" key gen --sign -o "$T/other" --no-password >/dev/null
bm key trust "$T/rel.pub" >/dev/null
PUB=$(tail -n 1 "$T/rel.pub")
mkdir -p "$T/art"
# the agent, as a host gets it: bootmeta, bootmeta-agent and bootmeta-live in one archive
tar -czf "$T/art/agent.tgz" -C "$(dirname "$BM")" bootmeta bootmeta-agent bootmeta-live
bm release add bootmeta/agent --source "file://$T/src@$C1" --id a1 >/dev/null
bm binary add bootmeta/agent a1 "$T/art/agent.tgz" --os linux --arch amd64 --url "file://$T/art/agent.tgz" --sign "$T/rel.key" >/dev/null
bm channel promote bootmeta/agent stable a1 >/dev/null
# the app: serves its release name
cat >"$T/art/app" <<APP
#!/bin/sh
exec python3 -c "import http.server as h
class H(h.BaseHTTPRequestHandler):
  def do_GET(s): s.send_response(200); s.end_headers(); s.wfile.write(b'r1')
  def log_message(s,*a): pass
h.HTTPServer(('127.0.0.1', $PORT), H).serve_forever()"
APP
chmod 755 "$T/art/app"
bm release add app --source "file://$T/src@$C1" --id r1 >/dev/null
bm binary add app r1 "$T/art/app" --os linux --arch amd64 --url "file://$T/art/app" --sign "$T/rel.key" >/dev/null
bm channel promote app stable r1 >/dev/null
"$BM" serve token add host --scope 'report:prod' --tokens "$T/tokens" >"$T/token"
"$BM" key gen --sign -o "$T/ts" --no-password >/dev/null
serve_start s "$R" --tokens "$T/tokens" --timestamp-key "$T/ts.key"
URL=$(serve_url s)

check "GET /v1/bootstrap.sh is a POSIX sh script that names this serve as its default"
curl -fsS -D "$T/h" "$URL/v1/bootstrap.sh" >"$T/bootstrap.sh"
grep -qi "^content-type: text/x-shellscript" "$T/h" || fail "content type: $(cat "$T/h")"
grep -q "SERVER=\${BOOTMETA_BOOTSTRAP_SERVER:-$URL}" "$T/bootstrap.sh" || fail "the script does not default to $URL"
dash -n "$T/bootstrap.sh" || fail "dash -n refuses the script"
curl -fsS "$URL/v1/bootstrap/bootmeta-agent@.service" | grep -q "^ExecStart=/bin/sh /etc/bootmeta/%i.sh" || fail "unit"
curl -fsS "$URL/v1/projects/bootmeta/agent/channels/stable/binary?os=linux&arch=amd64&format=env" >"$T/env"
grep -q "^BM_SHA256='$(sha256sum "$T/art/agent.tgz" | cut -c1-64)'$" "$T/env" || fail "format=env: $(cat "$T/env")"
echo "  ok: script, unit, format=env"

check "a key other than the signer's: refused, nothing installed"
set +e
curl -fsS "$URL/v1/bootstrap.sh" | dash -s -- --project app --channel stable --env prod --id web-1 \
	--pubkey "$(tail -n 1 "$T/other.pub")" --root "$T/bad" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc = 1 ] || fail "wrong key: exit $rc: $(cat "$T/err")"
grep -q "not signed by --pubkey: refusing it" "$T/err" || fail "wrong key said: $(cat "$T/err")"
[ ! -e "$T/bad/opt/bootmeta/bin" ] || fail "installed with a wrong key"
echo "  ok: $(tail -n 1 "$T/err")"

check "changed bytes at the artifact URL: refused"
cp "$T/art/agent.tgz" "$T/agent.orig"
printf 'x' | dd of="$T/art/agent.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
set +e
curl -fsS "$URL/v1/bootstrap.sh" | dash -s -- --project app --channel stable --env prod --id web-1 \
	--pubkey "$PUB" --root "$T/bad" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "the record says .*: refusing it" "$T/err" || fail "changed bytes: exit $rc: $(cat "$T/err")"
[ ! -e "$T/bad/opt/bootmeta/bin" ] || fail "installed changed bytes"
echo "  ok: $(tail -n 1 "$T/err")"
cp "$T/agent.orig" "$T/art/agent.tgz"

check "the real run: agent installed and started (with serve's timestamp key pinned), the app installed, running and reported healthy"
HOSTROOT=$T/root
curl -fsS "$URL/v1/bootstrap.sh" | dash -s -- --project app --channel stable --env prod --id web-1 \
	--pubkey "$PUB" --timestamp-pubkey "$(tail -n 1 "$T/ts.pub")" --root "$HOSTROOT" --token-file "$T/token" --exec ./app \
	--health-url "http://127.0.0.1:$PORT/" --bake 500ms 2>"$T/boot.err" || { cat "$T/boot.err" >&2; fail "bootstrap failed"; }
SUP=$(cat "$HOSTROOT/etc/bootmeta/app.pid")
cleanup_host() { kill "$SUP" 2>/dev/null || true; pkill -TERM -f "$HOSTROOT/opt/bootmeta" 2>/dev/null || true; }
trap 'cleanup_host; serve_cleanup' EXIT
[ -x "$HOSTROOT/opt/bootmeta/bin/bootmeta" ] || fail "no agent at opt/bootmeta/bin"
eq "opt/bootmeta/bin -> releases/a1" "$(readlink "$HOSTROOT/opt/bootmeta/bin")" releases/a1
grep -q "^$PUB\$" "$HOSTROOT/etc/bootmeta/trusted_keys" || fail "the key is not pinned"
grep -qx "$(tail -n 1 "$T/ts.pub")" "$HOSTROOT/etc/bootmeta/timestamp.pub" || fail "the timestamp key is not pinned"
grep -q "'--timestamp-key' '$HOSTROOT/etc/bootmeta/timestamp.pub'" "$HOSTROOT/etc/bootmeta/app.sh" ||
	fail "the agent does not check serve's timestamps: $(cat "$HOSTROOT/etc/bootmeta/app.sh")"
i=0
until [ "$(bm --json instances prod --project app | js "' '.join(x['state']+':'+x['release'] for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='web-1')")" = healthy:r1 ]; do
	i=$((i + 1)); [ $i -le 300 ] || { cat "$HOSTROOT/etc/bootmeta/app.log" >&2; fail "web-1 did not report healthy r1"; }; sleep 0.1
done
echo "  ok: web-1 reports healthy r1"
eq "the app answers" "$(curl -fsS "http://127.0.0.1:$PORT/")" r1
eq "srv/app/current -> releases/r1" "$(readlink "$HOSTROOT/srv/app/current")" releases/r1
kill "$SUP"
pkill -TERM -f "$HOSTROOT/opt/bootmeta" || true
i=0
while curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -le 100 ] || fail "the app still runs after the agent was stopped"; sleep 0.1
done
trap serve_cleanup EXIT
serve_stop s
echo "PASS"
