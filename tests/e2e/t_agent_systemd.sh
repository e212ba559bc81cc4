#!/bin/sh
# bootmeta agent --systemd-unit: the agent installs, switches DIR/current, runs `systemctl
# restart UNIT` and gates on health; a sick release is rolled back (current back, the unit
# restarted on the old one) and not tried again until the channel moves; a unit systemctl
# cannot restart is reported with systemctl's status, the old release is put back, and since
# that fails too (the host is at fault, not the release) the release is tried again later, for
# --host-retries rounds in a row. systemd cannot run as init on the machines the tests run on (no systemd as PID 1 in a chroot or container), so `systemctl` here is a
# stand-in first on PATH that does what systemd does for a unit with
# ExecStart=DIR/current/app: stops the unit's process group, starts current/app, and says
# "Unit X not found" (status 5, as systemctl does) for any other unit. What is tested is the
# agent's side: when it calls systemctl, with what, and what it does with the answer.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
D=$T/host
bm() { "$BM" --quiet --repo "$R" "$@"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
last_report() { bm --json instances prod --project app | js "' '.join([x['state']+':'+x['release'] for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='$1'])"; }
last_error() { bm --json instances prod --project app | js "[x.get('error','') for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='$1'][0]"; }
unit_stop() { [ -s "$T/unit.pid" ] && kill -9 "-$(cat "$T/unit.pid")" 2>/dev/null || true; }
trap 'unit_stop; rm -rf "$T"' EXIT

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/src")
bm project add app >/dev/null
bm env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null
bm key trust "$T/rel.pub" >/dev/null
tail -n 1 "$T/rel.pub" >"$T/pinned"
PORT=$(freeport)

mkdir -p "$T/bin" "$T/art"
cat >"$T/bin/systemctl" <<EOS
#!/bin/sh
# stand-in for systemctl restart of app.service (ExecStart=$D/current/app)
echo "\$*" >>"$T/systemctl.calls"
[ "\$1" = restart ] || { echo "systemctl stand-in: only restart is known" >&2; exit 1; }
[ "\$2" = app.service ] || { echo "Failed to restart \$2: Unit \$2 not found." >&2; exit 5; }
if [ -s "$T/unit.pid" ]; then
	p=\$(cat "$T/unit.pid")
	kill -TERM "-\$p" 2>/dev/null || true
	i=0
	while kill -0 "\$p" 2>/dev/null && [ \$i -lt 100 ]; do i=\$((i + 1)); sleep 0.05; done
	kill -9 "-\$p" 2>/dev/null || true
fi
cd "$D/current" || exit 1
setsid ./app </dev/null >/dev/null 2>&1 &
echo \$! >"$T/unit.pid"
EOS
chmod 755 "$T/bin/systemctl"

# release ID good|sick: an app (python on $PORT) that answers ID with 200, or 500
release() {
	mkdir -p "$T/art/$1"
	code=$([ "$2" = good ] && echo 200 || echo 500)
	printf '#!/bin/sh\nexec python3 -c "import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s): s.send_response(%s); s.end_headers(); s.wfile.write(b\\"%s\\")\n  def log_message(s,*a): pass\nh.HTTPServer((\\"127.0.0.1\\", %s), H).serve_forever()"\n' "$code" "$1" "$PORT" >"$T/art/$1/app"
	chmod 755 "$T/art/$1/app"
	bm release add app --source "file://$T/src@$C1" --id "$1" >/dev/null
	bm binary add app "$1" "$T/art/$1/app" --os linux --arch amd64 --url "file://$T/art/$1/app" --sign "$T/rel.key" >/dev/null
}
release r1 good
release r2 sick
release r3 good
release r4 good
# once UNIT [OPTION...]: one round of the agent for web-1 with --systemd-unit UNIT
once() {
	u=$1
	shift
	PATH="$T/bin:$PATH" timeout -k 5 120 "$BM" --repo "$R" agent --project app --channel stable --env prod \
		--install-dir "$D" --id web-1 --trusted-keys "$T/pinned" --os linux --arch amd64 \
		--systemd-unit "$u" --health-url "http://127.0.0.1:$PORT/" --health-timeout 10s --bake 300ms --once "$@"
}
answers() { eq "the unit's app answers" "$(curl -fsS --max-time 5 "http://127.0.0.1:$PORT/" 2>/dev/null || curl -sS --max-time 5 -o /dev/null -w 'HTTP %{http_code}' "http://127.0.0.1:$PORT/")" "$1"; }
calls() { wc -l <"$T/systemctl.calls" | tr -d ' '; }

check "a release installed and the unit restarted on it: systemctl restart app.service, then the health gate"
bm channel promote app stable r1 >/dev/null
once app.service 2>>"$T/agent.log" || { cat "$T/agent.log" >&2; fail "--once r1 failed"; }
eq "current" "$(readlink "$D/current")" releases/r1
eq "systemctl was called" "$(cat "$T/systemctl.calls")" "restart app.service"
answers r1
eq "reported" "$(last_report web-1)" healthy:r1

check "a sick release: the unit restarted on it, health fails, current goes back and the unit is restarted on r1"
bm channel promote app stable r2 >/dev/null
expect_fail 1 "" once app.service
eq "current back" "$(readlink "$D/current")" releases/r1
eq "systemctl restarts: r2, then r1 again" "$(calls)" 3
answers r1
eq "reported (the release it runs after the roll back)" "$(last_report web-1)" rolled-back:r1
last_error web-1 | grep -q "answered 500" || fail "the report does not say r2 answered 500: $(last_error web-1)"

check "the sick release is not tried again until the channel moves, and --once says so"
expect_fail 1 "it is tried again when the channel moves" once app.service
eq "systemctl not called" "$(calls)" 3

check "a unit systemctl cannot restart: its status is reported, current stays on r1"
bm channel promote app stable r3 >/dev/null
expect_fail 1 "" once nope.service
e=$(last_error web-1)
echo "$e" | grep -q "systemctl restart exited with status 5" || fail "the report does not give systemctl's status: $e"
echo "  ok: $(echo "$e" | head -c 200)"
echo "$e" | grep -q "the host is at fault, not the release: it is tried again next round, 1 of --host-retries 5" ||
	fail "the report does not say r3 is tried again (r1 failed the same way): $e"
eq "current" "$(readlink "$D/current")" releases/r1
grep -q "Unit nope.service not found" "$T/err" || fail "systemctl's own message is not in the agent's output"
echo "  ok: systemctl's message is in the agent's output"

check "the right unit again: r3 (not counted against it: r1 failed the same way) installed, the unit restarted on it"
once app.service 2>>"$T/agent.log" || { cat "$T/agent.log" >&2; fail "--once r3 failed"; }
eq "current" "$(readlink "$D/current")" releases/r3
answers r3
eq "reported" "$(last_report web-1)" healthy:r3

check "a host at fault is tried --host-retries rounds in a row, then the entry waits for the channel to move"
bm channel promote app stable r4 >/dev/null
expect_fail 1 "" once nope.service --host-retries 2
last_error web-1 | grep -q "tried again next round, 1 of --host-retries 2" || fail "round 1: $(last_error web-1)"
expect_fail 1 "" once nope.service --host-retries 2
last_error web-1 | grep -q "tried again next round, 2 of --host-retries 2" || fail "round 2: $(last_error web-1)"
expect_fail 1 "" once nope.service --host-retries 2
last_error web-1 | grep -q "3 rounds in a row; not tried again until the channel moves" || fail "round 3: $(last_error web-1)"
n=$(calls)
expect_fail 1 "failed their health gates here 3 rounds in a row (--host-retries 2)" once app.service --host-retries 2
eq "systemctl not called once the retries are spent" "$(calls)" "$n"
eq "current" "$(readlink "$D/current")" releases/r3
bm channel promote app stable r4 >/dev/null
once app.service --host-retries 2 2>>"$T/agent.log" || { cat "$T/agent.log" >&2; fail "--once r4 after a promotion failed"; }
eq "current after the promotion" "$(readlink "$D/current")" releases/r4
answers r4
expect_fail 2 "give a count from 0 to 1000" once app.service --host-retries -1
echo "PASS"
