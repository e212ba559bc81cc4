#!/bin/sh
# bootmeta agent on one host, against a local clone (--repo) and against serve (--server):
# it installs what the channel says (verified against pinned keys), switches DIR/current
# atomically, runs the app (--exec), gates on health, commits or rolls back, and reports
# each state change as an instance record. Attacks are refused with nothing installed: an
# unsigned binary, one signed by an unpinned key, bytes that differ from the record, a
# channel entry older than one the agent verified. A switch cut short (kill -9) is undone
# at the next start.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta
cp_log() { cp "$T/agent.log" /tmp/agent-last.log 2>/dev/null || true; }
D=$T/host
bm() { "$BM" --quiet --repo "$R" "$@"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# last_report ID: state and release of the newest report of instance ID in prod
last_report() { bm --json instances prod --project app | js "' '.join([x['state']+':'+x['release'] for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='$1'])"; }
# wait_report ID WANT: until the newest report of ID is WANT (state:release), 30 s
wait_report() {
	i=0
	while [ "$(last_report "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || { cat "$T/agent.log" >&2 || true; fail "instance $1: newest report is '$(last_report "$1")', want '$2'"; }
		sleep 0.1
	done
	echo "  ok: $1 reports $2"
}

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/src")
bm project add app >/dev/null
bm env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null
"$BM" key gen --sign -o "$T/other" --no-password >/dev/null
bm key trust "$T/rel.pub" >/dev/null
bm key trust "$T/other.pub" >/dev/null
tail -n 1 "$T/rel.pub" >"$T/pinned"   # the host pins only rel: other is trusted by the repo, not here
mkdir -p "$T/art"
PORT=$(freeport)
# app NAME KIND: an app binary (a sh script) in the artifact folder; KIND good (serves the
# health URL), crash (exits at once), sick (serves 500)
app() {
	f=$T/art/$1/app
	mkdir -p "$T/art/$1"
	case $2 in
	good) printf '#!/bin/sh\n# %s\nexec python3 -c "import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s): s.send_response(200); s.end_headers(); s.wfile.write(b\\"%s\\")\n  def log_message(s,*a): pass\nh.HTTPServer((\\"127.0.0.1\\", %s), H).serve_forever()"\n' "$1" "$1" "$PORT" >"$f" ;;
	crash) printf '#!/bin/sh\n# %s\necho "%s: cannot start" >&2\nexit 3\n' "$1" "$1" >"$f" ;;
	sick) printf '#!/bin/sh\n# %s\nexec python3 -c "import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s): s.send_response(500); s.end_headers()\n  def log_message(s,*a): pass\nh.HTTPServer((\\"127.0.0.1\\", %s), H).serve_forever()"\n' "$1" "$PORT" >"$f" ;;
	esac
	chmod 755 "$f"
}
release() { # ID KIND [binary add options]: a release with its app binary recorded
	id=$1 kind=$2
	shift 2
	app "$id" "$kind"
	bm release add app --source "file://$T/src@$C1" --id "$id" >/dev/null
	bm binary add app "$id" "$T/art/$id/app" --os linux --arch amd64 --url "file://$T/art/$id/app" "$@" >/dev/null
}
release r1 good --sign "$T/rel.key"
release r2 good --sign "$T/rel.key"
release r3 crash --sign "$T/rel.key"
release r4 sick --sign "$T/rel.key"
release r5 good                       # unsigned
release r6 good --sign "$T/other.key" # signed by a key the repo trusts but the host does not pin
release r7 good --sign "$T/rel.key"
AGENT_ARGS="--project app --channel stable --env prod --install-dir $D --trusted-keys $T/pinned --os linux --arch amd64"

check "usage: the required options and the pinned keys are asked for by name"
expect_fail 2 "give --trusted-keys FILE" "$BM" --repo "$R" agent --project app --channel stable --env prod --install-dir "$D"
expect_fail 2 "give --project, --channel, --env and --install-dir" "$BM" --repo "$R" agent --trusted-keys "$T/pinned"
expect_fail 2 "--once with --exec" "$BM" --repo "$R" agent $AGENT_ARGS --once --exec ./app
expect_fail 2 "give a duration" "$BM" --repo "$R" agent $AGENT_ARGS --bake soon

check "an install dir that cannot be made: refused at start, by name"
: >"$T/afile"
expect_fail 1 "is not a folder this agent can write" "$BM" --repo "$R" agent --project app --channel stable --env prod \
	--install-dir "$T/afile/host" --trusted-keys "$T/pinned" --once

check "--once with nothing promoted: exit 1, nothing installed"
expect_fail 1 "cannot read the channel" "$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once
[ ! -e "$D/current" ] || fail "current exists with nothing promoted"

check "--once installs r1 from its file:// URL, verifies it, switches current and reports"
bm channel promote app stable r1 >/dev/null
"$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once --health-cmd 'echo health-says; test -x "$BOOTMETA_CURRENT/app" || test -x current/app || true' >"$T/once.out" 2>"$T/once.log" ||
	{ cat "$T/once.log" >&2; fail "agent --once failed"; }
grep -q health-says "$T/once.out" "$T/once.log" && fail "the health command's output reached the agent's: $(cat "$T/once.out")"
eq "current -> releases/r1" "$(readlink "$D/current")" releases/r1
cmp -s "$D/releases/r1/app" "$T/art/r1/app" || fail "installed bytes differ"
eq "reported healthy r1" "$(last_report web-1)" healthy:r1
bm --json instance history prod web-1 --project app | js "' '.join(x['state'] for x in (d if isinstance(d,list) else d['reports']))" >"$T/hist"
grep -q "healthy installed downloading" "$T/hist" || fail "report history: $(cat "$T/hist")"
eq "state file" "$(js 'd["committed"]+" "+str(d["verifiedSeq"])' <"$D/.agent/state.json")" "r1 1"
check "--once again: nothing to do, exit 0, no new report"
before=$(tip "$R")
"$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once 2>/dev/null || fail "second --once failed"
eq "no commit" "$(tip "$R")" "$before"

check "attacks over --once: unsigned, unpinned key, changed bytes: refused, nothing installed, current stays"
for r in r5 r6; do
	bm channel promote app stable $r >/dev/null
	expect_fail 1 "" "$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once
	[ ! -e "$D/releases/$r/app" ] || fail "$r was left installed"
	eq "current still r1 after $r" "$(readlink "$D/current")" releases/r1
done
last=$(bm --json instances prod --project app | js "[x for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='web-1'][0]['error']")
echo "$last" | grep -q "signed only by keys you do not trust" || fail "r6 failure not said: $last"
bm --json instance history prod web-1 --project app | grep -q "is not signed" || fail "r5's failure (unsigned) not reported"
cp "$T/art/r7/app" "$T/r7.orig"
sed -i 's/^# r7$/# r8/' "$T/art/r7/app"   # same size, other bytes
bm channel promote app stable r7 >/dev/null
expect_fail 1 "" "$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once
[ ! -e "$D/releases/r7/app" ] || fail "tampered r7 was installed"
bm --json instance history prod web-1 --project app | grep -q "the record says" || fail "sha mismatch not reported"
cp "$T/r7.orig" "$T/art/r7/app"
printf '# and more\n' >>"$T/art/r7/app"
expect_fail 1 "" "$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once
bm --json instance history prod web-1 --project app >"$T/h.json"; grep -q "file has [0-9]* bytes, more than the [0-9]* bytes the record says" "$T/h.json" || fail "endless data not reported: $(head -c 800 "$T/h.json")"
[ ! -e "$D/releases/r7/app" ] && [ ! -e "$D/releases/r7/app.part" ] || fail "a partial r7 was left"
cp "$T/r7.orig" "$T/art/r7/app"

check "a channel entry older than one the agent verified is refused (a replayed view)"
python3 - "$D/.agent/state.json" <<'PY'
import json,sys
p=sys.argv[1]; d=json.load(open(p)); d["verifiedSeq"]=99; json.dump(d,open(p,"w"))
PY
expect_fail 1 "" "$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once
bm --json instance history prod web-1 --project app | grep -q "older than entry #99" || fail "replay not reported"
python3 - "$D/.agent/state.json" <<'PY'
import json,sys
p=sys.argv[1]; d=json.load(open(p)); d["verifiedSeq"]=1; json.dump(d,open(p,"w"))
PY

check "a health endpoint that hangs: the gate times out, the release is not committed"
python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", '"$PORT"')); s.listen(8); c=[s.accept() for _ in range(50)]; time.sleep(60)' &
HP=$!
sleep 0.3
bm channel promote app stable r2 >/dev/null
expect_fail 1 "" "$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once --health-url "http://127.0.0.1:$PORT/" --health-timeout 3s
kill $HP 2>/dev/null || true
wait $HP 2>/dev/null || true
bm --json instance history prod web-1 --project app | grep -q "not healthy within 3000 ms: http://127.0.0.1:$PORT/: timed out" ||
	fail "hanging health not reported: $(bm --json instance history prod web-1 --project app | head -c 600)"
eq "current back on r1" "$(readlink "$D/current")" releases/r1

check "a switch cut short (kill -9 between switch and commit) goes back at the next start"
bm channel promote app stable r1 --reason "back" >/dev/null
mkdir -p "$D/releases/r2" && cp "$T/art/r2/app" "$D/releases/r2/app"
ln -sfn releases/r2 "$D/current"
python3 - "$D/.agent/state.json" <<'PY'
import json,sys
p=sys.argv[1]; d=json.load(open(p)); d["attempt"]="r2"; json.dump(d,open(p,"w"))
PY
"$BM" --repo "$R" agent $AGENT_ARGS --id web-1 --once 2>"$T/resume.log" || { cat "$T/resume.log" >&2; fail "resume failed"; }
grep -q "resuming: the last switch was not committed" "$T/resume.log" || fail "no resume line: $(cat "$T/resume.log")"
eq "back on r1" "$(readlink "$D/current")" releases/r1

check "--exec: the agent runs the app, follows the channel, rolls back a crash and a sick release"
rm -rf "$D"
"$BM" --repo "$R" agent $AGENT_ARGS --id web-2 --exec ./app --health-url "http://127.0.0.1:$PORT/" \
	--health-timeout 10s --bake 500ms --poll 200ms --restart-max-delay 4s 2>"$T/agent.log" &
AP=$!
trap 'kill $AP 2>/dev/null || true; serve_cleanup' EXIT
wait_report web-2 healthy:r1
eq "the app answers as r1" "$(curl -fsS "http://127.0.0.1:$PORT/")" r1
bm channel promote app stable r2 >/dev/null
wait_report web-2 healthy:r2
eq "the app answers as r2" "$(curl -fsS "http://127.0.0.1:$PORT/")" r2
bm channel promote app stable r3 >/dev/null
wait_report web-2 rolled-back:r2
eq "current back on r2" "$(readlink "$D/current")" releases/r2
bm --json instances prod --project app | grep -q "r3: cannot start\|exited with status 3" || fail "the crash is not in the report"
eq "r2 answers again" "$(curl -fsS "http://127.0.0.1:$PORT/")" r2
bm channel promote app stable r4 >/dev/null
sleep 0.3
i=0
until bm --json instance history prod web-2 --project app | grep -q "answered 500"; do
	i=$((i + 1)); [ $i -le 300 ] || { cat "$T/agent.log" >&2; fail "r4's 500 not reported"; }; sleep 0.1
done
wait_report web-2 rolled-back:r2
eq "current on r2 after r4" "$(readlink "$D/current")" releases/r2
check "the app dies (its sh killed -9, the python it ran left holding the port): the agent stops what is left of its group and starts it again"
# this agent's app only (by the pid it logged): other tests' apps may run next to this one
apid=$(sed -n 's/.*msg=started release=r2 pid=\([0-9]*\).*/\1/p' "$T/agent.log" | tail -n 1)
[ -n "$apid" ] && kill -0 "$apid" || fail "no running app pid in the agent's log"
kill -9 "$apid"
i=0
until [ "$(sed -n 's/.*msg=started release=r2 pid=\([0-9]*\).*/\1/p' "$T/agent.log" | tail -n 1)" != "$apid" ] &&
	curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -le 100 ] || { cp_log; fail "the app was not restarted"; }; sleep 0.1
done
echo "  ok: restarted (pid $apid killed, a new one answers)"
check "a crash loop: an app that dies at start is started again after a pause that doubles, not at once"
bm channel promote app stable r2 >/dev/null # the channel names what runs: a crash loop is its failure
wait_report web-2 healthy:r2
cp "$D/releases/r2/app" "$T/app.r2"
printf '#!/bin/sh\nexit 3\n' >"$D/releases/r2/app"
apid=$(sed -n 's/.*msg=started release=r2 pid=\([0-9]*\).*/\1/p' "$T/agent.log" | tail -n 1)
n0=$(grep -c "msg=started release=r2" "$T/agent.log")
kill -9 "-$apid"
i=0
until grep -q 'how="exited with status 3" .*restart_in_ms=4000' "$T/agent.log"; do
	i=$((i + 1)); [ $i -le 150 ] || { cp_log; fail "no doubling pause after the app exited at start"; }; sleep 0.1
done
# the kill's own pause depends on how long that app had run (0, 1 or 2 s: the restart above
# came a moment ago); from there each exit at start doubles it, up to the 4 s one
grep 'msg=the app is not running' "$T/agent.log" | tail -n 2 >"$T/pauses"
grep -q 'restart_in_ms=2000$' "$T/pauses" || { cp_log; fail "the pause before the 4 s one was not 2 s: $(cat "$T/pauses")"; }
grep -q 'how="killed by signal 9"' "$T/agent.log" || { cp_log; fail "the kill is not said"; }
# --restart-max-delay 4s: the pause after the 4 s one is 4 s again, not 8
i=0
until [ "$(grep -c 'how="exited with status 3" .*restart_in_ms=4000' "$T/agent.log")" -ge 2 ]; do
	i=$((i + 1)); [ $i -le 150 ] || { cp_log; fail "no second pause after the 4 s one"; }; sleep 0.1
done
! grep -q 'restart_in_ms=8000' "$T/agent.log" || { cp_log; fail "the pause went past --restart-max-delay 4s"; }
echo "  ok: the pause stays at --restart-max-delay 4s"
starts=$(($(grep -c "msg=started release=r2" "$T/agent.log") - n0))
[ "$starts" -ge 2 ] && [ "$starts" -le 4 ] || { cp_log; fail "$starts starts before the second 4 s pause (want 2 to 4: one per pause)"; }
i=0
until [ "$(last_report web-2)" = failed:r2 ]; do
	i=$((i + 1)); [ $i -le 100 ] || { cp_log; fail "the crash loop is not reported: $(last_report web-2)"; }; sleep 0.1
done
cp "$T/app.r2" "$D/releases/r2/app"
i=0
until curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -le 150 ] || { cp_log; fail "the app did not come back after the pause"; }; sleep 0.1
done
wait_report web-2 healthy:r2
echo "  ok: back after the 4 s pause"
check "an agent killed -9 leaves its app; the next agent stops it before starting its own"
kill -9 $AP
wait $AP 2>/dev/null || true
curl -fsS "http://127.0.0.1:$PORT/" >/dev/null || fail "the app did not outlive its agent's kill -9"
read -r left _ <"$D/.agent/app.pid"
# web2 LOG: the agent of web-2 again, in the background (AP), until it has started r2's app
web2() {
	"$BM" --repo "$R" agent $AGENT_ARGS --id web-2 --exec ./app --health-url "http://127.0.0.1:$PORT/" \
		--health-timeout 10s --bake 500ms --poll 200ms 2>"$1" &
	AP=$!
	wait_line "$1" "msg=started release=r2"
}
web2 "$T/agent2.log"
grep -q "stopping the app a previous agent left pid=$left" "$T/agent2.log" || fail "the left app was not stopped: $(cat "$T/agent2.log")"
# a zombie waiting for init to reap it does not run
i=0
while [ -e "/proc/$left" ] && ! grep -q ') Z' "/proc/$left/stat" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 50 ] || fail "the left app ($left) still runs"; sleep 0.1
done
echo "  ok: the left app ($left) was stopped, a new one started"
check "a pid file naming a process that is not the app (a reboot, a reused pid) stops nothing"
kill -TERM $AP
wait $AP || fail "agent did not exit 0 on SIGTERM"
sleep 300 &
OTHER=$!
SERVE_PIDS="$SERVE_PIDS $OTHER"
echo "$OTHER 1 $(cat /proc/sys/kernel/random/boot_id)" >"$D/.agent/app.pid"
web2 "$T/agent3.log"
grep -q "its pid is another process's now pid=$OTHER" "$T/agent3.log" || fail "not said: $(cat "$T/agent3.log")"
kill -0 "$OTHER" 2>/dev/null || fail "the agent stopped a process that was not its app"
kill "$OTHER"
echo "  ok: pid $OTHER left alone"

check "SIGTERM: the app stops, the agent exits 0"
kill -TERM $AP
wait $AP || fail "agent did not exit 0 on SIGTERM"
trap serve_cleanup EXIT
sleep 0.2
curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && { cat "$T/agent.log" >&2; fail "the app still runs after the agent stopped"; }
echo "  ok: app stopped"

check "--server: the agent reads the channel and reports through serve (token with a report scope)"
"$BM" serve token add agent --scope 'report:prod' --tokens "$T/tokens" >"$T/token"
serve_start s "$R" --tokens "$T/tokens"
URL=$(serve_url s)
bm channel promote app stable r7 >/dev/null
rm -rf "$D"
"$BM" agent $AGENT_ARGS --id web-3 --server "$URL" --token-file "$T/token" --once 2>"$T/srv.log" ||
	{ cat "$T/srv.log" >&2; fail "agent --server --once failed"; }
eq "current -> r7" "$(readlink "$D/current")" releases/r7
wait_report web-3 healthy:r7
eq "reported by the token's name" "$(bm --json instance history prod web-3 --project app | js "(d if isinstance(d,list) else d['reports'])[-1]['actor']")" agent
check "--server with --nats: a promotion reaches the agent by NATS notice (its poll is 60 s, no long poll)"
NPORT=$(freeport)
# first with NATS not there: the agent still acts (its poll), and SIGTERM ends it
"$BM" agent $AGENT_ARGS --install-dir "$T/host7" --id web-7 --server "$URL" --token-file "$T/token" \
	--nats "nats://127.0.0.1:$NPORT" --poll 300ms --bake 200ms 2>"$T/agent7.log" &
N7=$!
SERVE_PIDS="$SERVE_PIDS $N7"
wait_report web-7 healthy:r7
eq "web-7 installed r7 itself" "$(readlink "$T/host7/current")" releases/r7
wait_line "$T/agent7.log" "nats is down; polling" 100
kill -TERM $N7
wait_exit $N7 "the agent with NATS down"
echo "  ok: NATS down at the start: installed by polling, stopped by SIGTERM"
nats-server -a 127.0.0.1 -p "$NPORT" >"$T/nats.log" 2>&1 &
NP=$!
SERVE_PIDS="$SERVE_PIDS $NP"
i=0
until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' "$NPORT" 2>/dev/null; do
	i=$((i + 1)); [ $i -le 100 ] || fail "nats-server did not start"; sleep 0.1
done
serve_stop s
serve_start s "$R" --tokens "$T/tokens" --nats "nats://127.0.0.1:$NPORT"
URL=$(serve_url s)
rm -rf "$D"
bm channel promote app stable r1 >/dev/null
"$BM" agent $AGENT_ARGS --id web-6 --server "$URL" --token-file "$T/token" --nats "nats://127.0.0.1:$NPORT" \
	--poll 60s --bake 200ms 2>"$T/agent.log" &
NA=$!
SERVE_PIDS="$SERVE_PIDS $NA"
wait_report web-6 healthy:r1
i=0
until grep -q "msg=nats url=" "$T/agent.log"; do i=$((i + 1)); [ $i -le 100 ] || fail "the agent did not subscribe"; sleep 0.1; done
bm channel promote app stable r2 >/dev/null
wait_report web-6 healthy:r2
kill -TERM $NA
wait $NA || fail "the agent did not exit 0 on SIGTERM"
kill -TERM $NP; wait $NP 2>/dev/null || true

check "--server: a bad token: the report is refused and said, the install still happens"
rm -rf "$D"
echo "bm_wrong_token" >"$T/bad"
"$BM" agent $AGENT_ARGS --id web-4 --server "$URL" --token-file "$T/bad" --once 2>"$T/bad.log" || true
grep -q "report not delivered.*status=401" "$T/bad.log" || fail "401 not said: $(cat "$T/bad.log")"
serve_stop s

check "--timestamp-key: serve signs when it answered; a frozen (replayed) answer, one of another view, one signed by another key and an unsigned one are refused, nothing installed"
"$BM" key gen --sign -o "$T/ts" --no-password >/dev/null
TSARGS="--token-file $T/token --timestamp-key $T/ts.pub --once"
expect_fail 2 "--timestamp-key needs --server URL" "$BM" --repo "$R" agent $AGENT_ARGS $TSARGS
serve_start t "$R" --tokens "$T/tokens" --timestamp-key "$T/ts.key"
TURL=$(serve_url t)
BPATH="/v1/projects/app/channels/stable/binary?os=linux&arch=amd64"
curl -fsS "$TURL$BPATH" >"$T/fresh.json"
python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["timestamp"]["statement"])' <"$T/fresh.json" >"$T/statement"
grep -qx "meta $(git -C "$R" rev-parse main)" "$T/statement" || fail "the statement names another commit: $(cat "$T/statement")"
grep -qx "release r2" "$T/statement" || fail "the statement names another release: $(cat "$T/statement")"
grep -qx "sha256 $(js "d['binary']['sha256']" <"$T/fresh.json")" "$T/statement" || fail "the statement names another binary: $(cat "$T/statement")"
# an answer of the past is never signed: it would be an old view signed as of now
eq "no timestamp on ?at=" "$(curl -fsS "$TURL$BPATH&at=$(git -C "$R" rev-parse main~1)" | js "'timestamp' in d")" False
js "d['timestamp']['signature']" <"$T/fresh.json" >"$T/statement.minisig"
"$BM" key verify "$T/statement" -p "$T/ts.pub" -x "$T/statement.minisig" -q || fail "the timestamp does not verify with key verify"
rm -rf "$D"
"$BM" agent $AGENT_ARGS --id web-8 --server "$TURL" $TSARGS --max-meta-age 30s 2>"$T/ts.log" ||
	{ cat "$T/ts.log" >&2; fail "agent --timestamp-key on a fresh serve failed"; }
eq "a fresh signed view is acted on: current -> r2" "$(readlink "$D/current")" releases/r2
# a serve that stands still: the answer for r7, replayed as it was, 3 s later
bm channel promote app stable r7 >/dev/null
curl -fsS "$TURL$BPATH" >"$T/frozen.json"
FPORT=$(freeport)
cat >"$T/frozen.py" <<'PY'
import http.server, sys
body = open(sys.argv[2], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(s):
        s.send_response(200); s.send_header("Content-Type", "application/json")
        s.send_header("Content-Length", str(len(body))); s.end_headers(); s.wfile.write(body)
    def do_POST(s):
        s.send_response(503); s.send_header("Content-Length", "0"); s.end_headers()
    def log_message(s, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
wait_port() { i=0; until curl -fsS "http://127.0.0.1:$1/" >/dev/null 2>&1; do i=$((i + 1)); [ $i -le 100 ] || fail "port $1 not up"; sleep 0.1; done; }
# frozen_start: the stand-in answers $T/frozen.json to every GET, on $FPORT (pid in $FP)
frozen_start() {
	python3 "$T/frozen.py" "$FPORT" "$T/frozen.json" &
	FP=$!
	SERVE_PIDS="$SERVE_PIDS $FP"
	wait_port "$FPORT"
}
frozen_start
FURL=http://127.0.0.1:$FPORT
sleep 3
expect_fail 1 "the meta view is stale: serve's signed timestamp is older than --max-meta-age 2s allows" \
	"$BM" agent $AGENT_ARGS --id web-8 --server "$FURL" $TSARGS --max-meta-age 2s
grep -Eq "msg=stale timestamp .*age_s=([3-9]|[1-9][0-9]+) " "$T/err" || fail "the age is not logged: $(cat "$T/err")"
eq "frozen: nothing installed, current stays r2" "$(readlink "$D/current")" releases/r2
[ ! -e "$D/releases/r7" ] || fail "r7 was downloaded from a frozen view"
# a view of another entry than the statement names (the seq changed in the answer)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["seq"]="99"; open(sys.argv[1],"w").write(json.dumps(d))' "$T/frozen.json"
kill $FP; wait $FP 2>/dev/null || true
frozen_start
expect_fail 1 "serve's signed timestamp is of another view than the answer it came with (meta" \
	"$BM" agent $AGENT_ARGS --id web-8 --server "$FURL" $TSARGS --max-meta-age 1h
eq "mixed: current stays r2" "$(readlink "$D/current")" releases/r2
kill $FP; wait $FP 2>/dev/null || true
# signed by a key this host does not pin; a serve that signs nothing
expect_fail 1 "serve's timestamp is not signed by --timestamp-key" \
	"$BM" agent $AGENT_ARGS --id web-8 --server "$TURL" --token-file "$T/token" --timestamp-key "$T/other.pub" --once
serve_stop t
serve_start s "$R" --tokens "$T/tokens"
expect_fail 1 "serve's answer carries no signed timestamp" \
	"$BM" agent $AGENT_ARGS --id web-8 --server "$(serve_url s)" $TSARGS
eq "unsigned, other key: current stays r2" "$(readlink "$D/current")" releases/r2
serve_stop s
expect_fail 1 "--timestamp-key: $T/rel.key is a secret key; give the public key" "$BM" agent $AGENT_ARGS --server "$TURL" --token-file "$T/token" --timestamp-key "$T/rel.key" --once
serve_start t "$R" --tokens "$T/tokens" --timestamp-key "$T/ts.key"
"$BM" agent $AGENT_ARGS --id web-8 --server "$(serve_url t)" $TSARGS 2>"$T/ts.log" ||
	{ cat "$T/ts.log" >&2; fail "agent --timestamp-key on a fresh serve failed"; }
eq "fresh again: r7 installed" "$(readlink "$D/current")" releases/r7
serve_stop t
bm channel promote app stable r2 >/dev/null

check "--server https://NAME: the agent's own TLS (no helper) installs, reports and long-polls; an untrusted certificate is refused, nothing installed; https://IP goes through the helper"
# tls: localhost's; tls2: another CA's; tls3: trusted, but of another host name
for n in tls:localhost tls2:localhost tls3:other.example; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=${n#*:}" \
		-addext "subjectAltName=DNS:${n#*:},IP:127.0.0.1" -keyout "$T/${n%:*}.key" -out "$T/${n%:*}.pem" \
		2>"$T/openssl.log" || { cat "$T/openssl.log" >&2; fail "openssl"; }
done
serve_start h "$R" --tokens "$T/tokens" --tls-cert "$T/tls.pem" --tls-key "$T/tls.key"
IPURL=$(serve_url h)
HURL=$(echo "$IPURL" | sed 's|^https://127.0.0.1:|https://localhost:|')
case $HURL in https://localhost:*) ;; *) fail "serve's TLS URL is $IPURL" ;; esac
rm -rf "$D"
expect_fail 1 "TLS: the certificate of localhost is not trusted: The certificate is not correctly signed by the trusted CA" \
	env SSL_CERT_FILE="$T/tls2.pem" "$BM" agent $AGENT_ARGS --id web-9 --server "$HURL" --token-file "$T/token" --once
[ ! -e "$D/current" ] || fail "installed from a serve whose certificate is not trusted"
serve_start h3 "$R" --tokens "$T/tokens" --tls-cert "$T/tls3.pem" --tls-key "$T/tls3.key"
expect_fail 1 "TLS: the certificate of localhost is not trusted: The certificate Common Name (CN) does not match with the expected CN" \
	env SSL_CERT_FILE="$T/tls3.pem" "$BM" agent $AGENT_ARGS --id web-9 --server "$(serve_url h3 | sed 's|127.0.0.1|localhost|')" \
	--token-file "$T/token" --once
serve_stop h3
[ ! -e "$D/current" ] || fail "installed from a serve whose certificate names another host"
mkdir -p "$T/cadir"
cp "$T/tls.pem" "$T/cadir/"
env -u SSL_CERT_FILE SSL_CERT_DIR="$T/cadir" "$BM" agent $AGENT_ARGS --id web-9 --server "$HURL" --token-file "$T/token" \
	--once 2>"$T/tls.log" || { cat "$T/tls.log" >&2; fail "agent over https with SSL_CERT_DIR failed"; }
eq "SSL_CERT_DIR: current -> r2" "$(readlink "$D/current")" releases/r2
rm -rf "$D"
SSL_CERT_FILE=$T/tls.pem "$BM" agent $AGENT_ARGS --id web-9 --server "$HURL" --token-file "$T/token" --once 2>"$T/tls.log" ||
	{ cat "$T/tls.log" >&2; fail "agent over https failed"; }
eq "over https: current -> r2" "$(readlink "$D/current")" releases/r2
wait_report web-9 healthy:r2
# the long poll over TLS: a promotion reaches an agent whose poll is 60 s, and no helper runs meanwhile
SSL_CERT_FILE=$T/tls.pem "$BM" agent $AGENT_ARGS --install-dir "$T/host10" --id web-10 --server "$HURL" \
	--token-file "$T/token" --poll 60s --bake 200ms 2>"$T/agent10.log" &
A10=$!
SERVE_PIDS="$SERVE_PIDS $A10"
wait_report web-10 healthy:r2
sleep 1
# the agent's children that are helpers (bootmeta-live agent-io)
helpers() { for k in $(cat /proc/"$1"/task/*/children 2>/dev/null); do grep -a "agent-io" /proc/"$k"/cmdline 2>/dev/null; done | wc -l; }
eq "no bootmeta-live helper while the agent waits on https" "$(helpers $A10)" 0
bm channel promote app stable r7 >/dev/null
wait_report web-10 healthy:r7
eq "the long poll over TLS brought r7" "$(readlink "$T/host10/current")" releases/r7
kill -TERM $A10
wait_exit $A10 "the agent over https"
bm channel promote app stable r2 >/dev/null
# an IP address: the helper's libcurl checks the certificate's IP address (and the long poll
# keeps a helper: the count above can see one)
SSL_CERT_FILE=$T/tls.pem "$BM" agent $AGENT_ARGS --install-dir "$T/host11" --id web-11 --server "$IPURL" \
	--token-file "$T/token" --poll 60s --bake 200ms 2>"$T/tls.log" &
A9=$!
SERVE_PIDS="$SERVE_PIDS $A9"
wait_report web-11 healthy:r2
eq "over https://IP: current -> r2" "$(readlink "$T/host11/current")" releases/r2
sleep 1
eq "a helper holds the long poll to https://IP" "$(helpers $A9)" 1
kill -TERM $A9
wait_exit $A9 "the agent over https://IP"
serve_stop h

check "--max-meta-age: a clone whose remote stopped answering is reported stale, the host keeps its release"
"$BM" clone "$R" "$T/clone" >/dev/null 2>&1
rm -rf "$D"
"$BM" --repo "$T/clone" agent $AGENT_ARGS --id web-5 --once 2>/dev/null || fail "agent on the clone failed"
eq "web-5 runs r2" "$(readlink "$D/current")" releases/r2
mv "$R" "$R.gone"
expect_fail 1 "" "$BM" --repo "$T/clone" agent $AGENT_ARGS --id web-5 --once --max-meta-age 1ms
# said in the log (the report cannot be pushed to a remote that is gone: the write says so)
grep -q "state=failed release=r2 meta=[0-9a-f]\{12\} error=\"the meta view is stale: no answer from the clone's remote" "$T/err" ||
	fail "stale view not reported: $(cat "$T/err")"
grep -q "report not written" "$T/err" || fail "the failed push of the report is not said"
eq "still r2" "$(readlink "$D/current")" releases/r2
mv "$R.gone" "$R"

check "file:// URLs are copied by the agent itself; one that is gone or is a folder falls through to the next URL (http, by the helper)"
app r9 good
mkdir -p "$T/art/r9/adir"
bm release add app --source "file://$T/src@$C1" --id r9 >/dev/null
HPORT=$(freeport)
python3 -m http.server --bind 127.0.0.1 --directory "$T/art" "$HPORT" >/dev/null 2>&1 &
HSP=$!
SERVE_PIDS="${SERVE_PIDS:-} $HSP"
bm binary add app r9 "$T/art/r9/app" --os linux --arch amd64 --url "file://$T/art/r9/gone" --url "file://$T/art/r9/adir" \
	--url "http://127.0.0.1:$HPORT/r9/app" --sign "$T/rel.key" >/dev/null
i=0
while ! curl -fso /dev/null "http://127.0.0.1:$HPORT/r9/app"; do i=$((i + 1)); [ $i -le 100 ] || fail "http.server did not start"; sleep 0.1; done
bm channel promote app stable r9 >/dev/null
"$BM" --repo "$R" agent $AGENT_ARGS --id web-6 --once --health-cmd true 2>"$T/r9.log" || { cat "$T/r9.log" >&2; fail "r9 not installed"; }
eq "web-6 runs r9" "$(readlink "$D/current")" releases/r9
cmp -s "$D/releases/r9/gone" "$T/art/r9/app" || fail "installed r9 bytes differ (named after the first URL)"
grep -q "copy failed.*r9/gone.*No such file" "$T/r9.log" || fail "the gone file:// URL is not said: $(cat "$T/r9.log")"
grep -q "copy failed.*r9/adir.*not a regular file" "$T/r9.log" || fail "the folder is not said: $(cat "$T/r9.log")"
grep -q "downloaded.*url=http://127.0.0.1:$HPORT/r9/app" "$T/r9.log" || fail "not downloaded by http: $(cat "$T/r9.log")"
check "a file:// URL shorter than the record: refused by the copy, said, nothing installed"
app r10 good
bm release add app --source "file://$T/src@$C1" --id r10 >/dev/null
bm binary add app r10 "$T/art/r10/app" --os linux --arch amd64 --url "file://$T/art/r10/app" --sign "$T/rel.key" >/dev/null
head -c 20 "$T/art/r10/app" >"$T/art/r10/short" && mv "$T/art/r10/short" "$T/art/r10/app"
bm channel promote app stable r10 >/dev/null
expect_fail 1 "" "$BM" --repo "$R" agent $AGENT_ARGS --id web-6 --once --health-cmd true
grep -q "file has 20 bytes, fewer than the [0-9]* bytes the record says" "$T/err" || fail "short file not said: $(cat "$T/err")"
[ ! -e "$D/releases/r10/app" ] || fail "a short r10 was installed"
eq "web-6 still runs r9" "$(readlink "$D/current")" releases/r9
kill "$HSP" 2>/dev/null || true
echo "PASS"
