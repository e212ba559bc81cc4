#!/bin/sh
# bootmeta agent under the faults and attacks of issue 10 that t_agent.sh does not play, each
# with a meta repo and an artifact server (127.0.0.1) this test controls:
# - slow retrieval: an artifact server that sends a byte a second; --download-timeout cuts
#   it, the failure is reported, the old release keeps running, a later round installs;
# - the artifact server down for a while, then back: the same, without restarting the agent;
# - the switch of DIR/current blocked (a folder in the way of its temp name): reported, not
#   counted against the release, tried again once the way is clear;
# - disk full during the download (its .part is /dev/full: writes give ENOSPC): reported
#   with its cause, nothing half-installed left, the next round installs; and a real full
#   disk (a 1 MiB tmpfs, filled; root): the same, the space given back, the state file kept;
# - an install dir that cannot be written (a file where the release folder should be, the
#   state file's temp name taken by a folder; as non-root also chmod 555 on releases/);
# - mix-and-match: another binary's signature record put on an unsigned binary; a record
#   whose release was rewritten (the signature names the real one); a serve that answers a
#   release with another release's (genuinely signed) binary, or another platform's.
# Each is refused or reported, nothing is installed, `current` stays where it was. Every
# wait has a cap.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta
S=$T/srv # the artifact server's folder
D=$T/host
bm() { "$BM" --quiet --repo "$R" "$@"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hist() { bm --json instance history prod "$1" --project app; }
# last_report ID: state:release of the newest report of instance ID
last_report() { bm --json instances prod --project app | js "' '.join([x['state']+':'+x['release'] for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='$1'])"; }
last_error() { bm --json instances prod --project app | js "[x.get('error','') for x in (d if isinstance(d,list) else d['instances']) if x['instance']=='$1'][0]"; }
# wait_report ID WANT: until the newest report of ID is WANT (state:release), 60 s by the clock
wait_report() {
	end=$(($(date +%s) + 60))
	while [ "$(last_report "$1")" != "$2" ]; do
		[ "$(date +%s)" -le "$end" ] || { tail -n 30 "$T/agent.log" >&2 || true; fail "instance $1: newest report is '$(last_report "$1")', want '$2'"; }
		sleep 0.1
	done
	echo "  ok: $1 reports $2"
}
# answers WANT: the app the agent runs answers WANT on its health port
answers() { eq "the app answers $1" "$(curl -fsS --max-time 5 "http://127.0.0.1:$PORT/" || true)" "$1"; }
alive() { kill -0 "$AP" 2>/dev/null || { tail -n 30 "$T/agent.log" >&2; fail "the agent exited"; }; echo "  ok: the same agent process ($AP) runs"; }
no_file() { [ ! -e "$1" ] && [ ! -L "$1" ] || fail "$1 exists: $2"; }

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/src")
bm project add app >/dev/null
bm env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null 2>&1
bm key trust "$T/rel.pub" >/dev/null
tail -n 1 "$T/rel.pub" >"$T/pinned"
mkdir -p "$S"
PORT=$(freeport)
# artifact server: artifact_server.py on $APORT; GET /as/NAME follows the mode in $S/.mode
art_start() {
	rm -f "$T/aport"
	python3 "$BM_SRCDIR/tests/e2e/artifact_server.py" "$S" "$T/aport" --port "${APORT:-0}" --seconds 600 >>"$T/art.log" 2>&1 &
	ASP=$!
	SERVE_PIDS="$SERVE_PIDS $ASP"
	i=0
	while [ ! -s "$T/aport" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "the artifact server did not start"; sleep 0.1; done
	APORT=$(cat "$T/aport")
}
art_stop() { kill -TERM "$ASP"; wait "$ASP" 2>/dev/null || true; }
art_start

# app ID: the app of release ID (a sh script that serves its release name on $PORT), as $S/ID
app() {
	printf '#!/bin/sh\n# %s\nexec python3 -c "import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s): s.send_response(200); s.end_headers(); s.wfile.write(b\\"%s\\")\n  def log_message(s,*a): pass\nh.HTTPServer((\\"127.0.0.1\\", %s), H).serve_forever()"\n' "$1" "$1" "$PORT" >"$S/$1"
	chmod 755 "$S/$1"
}
# release ID URL [binary add options]: release ID of app with its binary recorded at URL
release() {
	id=$1 url=$2
	shift 2
	app "$id"
	bm release add app --source "file://$T/src@$C1" --id "$id" >/dev/null
	bm binary add app "$id" "$S/$id" --os linux --arch amd64 --url "$url" "$@" >/dev/null
}
HTTP="http://127.0.0.1:$APORT/as"
release r1 "file://$S/r1" --sign "$T/rel.key"
for r in r2 r3 r4 r5 r6 r7 r8 r9; do release $r "$HTTP/$r" --sign "$T/rel.key"; done
COMMON="--project app --channel stable --env prod --trusted-keys $T/pinned --os linux --arch amd64"

# ---- one agent that runs the app (--exec), following the channel of the clone ----
check "the agent runs r1 (the baseline every fault below must keep running)"
bm channel promote app stable r1 >/dev/null
"$BM" --repo "$R" agent $COMMON --install-dir "$D" --id web-1 --exec 'exec ./"$BOOTMETA_RELEASE"' \
	--health-url "http://127.0.0.1:$PORT/" --health-timeout 10s --bake 300ms --poll 200ms --download-timeout 3s \
	2>"$T/agent.log" &
AP=$!
SERVE_PIDS="$SERVE_PIDS $AP"
wait_report web-1 healthy:r1
answers r1

check "slow retrieval: a byte a second; --download-timeout 3s cuts it, reported; a later round installs"
echo slow >"$S/.mode"
t0=$(date +%s)
bm channel promote app stable r2 >/dev/null
wait_report web-1 failed:r2
t1=$(date +%s)
[ $((t1 - t0)) -le 20 ] || fail "the slow download took $((t1 - t0)) s to be reported (deadline 3 s)"
err=$(last_error web-1)
echo "$err" | grep -q "http://127.0.0.1:$APORT/as/r2.*\(Timeout\|timed out\|deadline\)" || fail "the cause is not said: $err; $(hist web-1 | tail -c 1500)"
echo "  ok: reported after $((t1 - t0)) s: $(echo "$err" | head -c 200)"
eq "current still r1" "$(readlink "$D/current")" releases/r1
no_file "$D/releases/r2/r2" "a slow download got its name"
answers r1
sleep 2 # still slow on the rounds that follow: the failure stays the state, nothing is installed
eq "still failed:r2" "$(last_report web-1)" failed:r2
no_file "$D/releases/r2/r2" "a slow download got its name"
alive
echo ok >"$S/.mode" # the server is fast again: a later round of the same agent installs r2
wait_report web-1 healthy:r2
answers r2
alive

check "--stall-timeout 2s: a transfer at a byte a second is cut after 2 s (and retried), long before --download-timeout 60s"
app s1
bm release add app --source "file://$T/src@$C1" --id s1 >/dev/null
bm binary add app s1 "$S/s1" --os linux --arch amd64 --url "http://127.0.0.1:$APORT/slow/s1" --sign "$T/rel.key" >/dev/null
bm channel promote app stall s1 >/dev/null
t0=$(date +%s)
expect_fail 1 "" timeout -k 5 120 "$BM" --repo "$R" agent --project app --channel stall --env prod --trusted-keys "$T/pinned" \
	--os linux --arch amd64 --install-dir "$T/host-stall" --id web-stall --once --download-timeout 60s --stall-timeout 2s
t1=$(date +%s)
grep -q "slow/s1: slower than 1024 bytes/s for 2 s" "$T/err" || fail "the stall is not said: $(tail -c 1500 "$T/err")"
[ $((t1 - t0)) -lt 50 ] || fail "the stalled download took $((t1 - t0)) s (stall timeout 2 s, deadline 60 s)"
echo "  ok: cut and given up after $((t1 - t0)) s"
no_file "$T/host-stall/releases/s1/s1" "a stalled download got its name"

check "the artifact server down: reported, r2 keeps running; back: installed, the agent not restarted"
art_stop
bm channel promote app stable r3 >/dev/null
wait_report web-1 failed:r3
err=$(last_error web-1)
echo "$err" | grep -q "127.0.0.1:$APORT.*\(connect\|refused\)" || fail "the cause is not said: $err; $(hist web-1 | tail -c 1500)"
echo "  ok: $(echo "$err" | head -c 200)"
sleep 2 # a few rounds with the server down
eq "still failed:r3" "$(last_report web-1)" failed:r3
eq "current still r2" "$(readlink "$D/current")" releases/r2
no_file "$D/releases/r3/r3" "r3 appeared with the server down"
answers r2
alive
art_start
wait_report web-1 healthy:r3
answers r3
alive

check "the switch of current is blocked (a folder where its temp name goes): reported, retried once clear"
mkdir "$D/.current.$AP"
bm channel promote app stable r4 >/dev/null
wait_report web-1 failed:r4
err=$(last_error web-1)
echo "$err" | grep -q "$D/.current.$AP" || fail "the cause is not said: $err; $(hist web-1 | tail -c 1500)"
echo "  ok: $(echo "$err" | head -c 200)"
eq "current still r3" "$(readlink "$D/current")" releases/r3
answers r3
sleep 1
answers r3
rmdir "$D/.current.$AP"
wait_report web-1 healthy:r4
answers r4
alive
kill -TERM "$AP"
wait "$AP" || fail "the agent did not exit 0 on SIGTERM"

# ---- --once on a second host (no app runner): the state can be looked at between rounds ----
D2=$T/host2
once2() { timeout -k 5 120 "$BM" --repo "$R" agent $COMMON --install-dir "$D2" --id web-2 --once "$@"; }
# fails2 NEEDLE: a round exits 1 and reports failed with NEEDLE in the error; current unmoved
fails2() {
	cur=$(readlink "$D2/current")
	expect_fail 1 "" once2
	eq "reported failed" "$(last_report web-2 | cut -d: -f1)" failed
	e=$(last_error web-2)
	echo "$e" | grep -q "$1" || fail "the report does not say '$1': $e"
	echo "  ok: $(echo "$e" | head -c 200)"
	eq "current unmoved" "$(readlink "$D2/current")" "$cur"
}
check "a second host, --once: r4"
once2 2>/dev/null || fail "--once r4 failed"
eq "current -> r4" "$(readlink "$D2/current")" releases/r4

check "disk full during the download (the .part is /dev/full): the cause said, nothing left, next round installs"
[ -c /dev/full ] || fail "this test needs /dev/full (a character device whose writes fail with ENOSPC)"
if (printf x >/dev/full) 2>/dev/null; then fail "a write to /dev/full succeeded"; fi
bm channel promote app stable r5 >/dev/null
mkdir -p "$D2/releases/r5"
# the download's temporary name (bootmeta-live agent-io fetch writes .r5.fetched, through its .part)
ln -s /dev/full "$D2/releases/r5/.r5.fetched.part"
fails2 "No space left on device"
no_file "$D2/releases/r5/r5" "a download that hit a full disk got its name"
no_file "$D2/releases/r5/.r5.fetched.part" "the partial download was left behind (it holds the space the next try needs)"
no_file "$D2/releases/r5/.r5.fetched" "the download's temporary file was left behind"
once2 2>/dev/null || fail "the round after the space came back failed"
eq "current -> r5" "$(readlink "$D2/current")" releases/r5

check "install dir not writable: a file where the release's folder should be"
bm channel promote app stable r6 >/dev/null
: >"$D2/releases/r6"
fails2 "Not a directory"
rm "$D2/releases/r6"
once2 2>/dev/null || fail "the round after the file was moved failed"
eq "current -> r6" "$(readlink "$D2/current")" releases/r6

check "install dir not writable: the state file cannot be written (a folder at its temp name)"
bm channel promote app stable r7 >/dev/null
mkdir "$D2/.agent/state.json.tmp"
fails2 "state.json.tmp"
rmdir "$D2/.agent/state.json.tmp"
once2 2>/dev/null || fail "the round after the state file could be written again failed"
eq "current -> r7" "$(readlink "$D2/current")" releases/r7

check "a real full disk (a 1 MiB tmpfs, filled): the download fails with the cause, nothing of it stays, current and the state file are kept; space freed: the next round installs"
[ "$(id -u)" = 0 ] || fail "this check mounts a tmpfs: run make check as root"
mkdir "$T/small"
mount -t tmpfs -o size=1m tmpfs "$T/small" || fail "cannot mount a tmpfs on $T/small"
SMALL=$T/small
# processes first (an app left running from the tmpfs keeps it busy), then the mount, then $T
trap 'serve_kill_all; umount "$SMALL" 2>/dev/null || umount -l "$SMALL" 2>/dev/null || true; rm -rf "$T"' EXIT
D4=$SMALL/host
once4() { timeout -k 5 120 "$BM" --repo "$R" agent $COMMON --install-dir "$D4" --id web-4 --once "$@"; }
once4 2>/dev/null || fail "host 4 could not install r7 on the tmpfs"
eq "host 4: current -> r7" "$(readlink "$D4/current")" releases/r7
# rbig: an app of 384 KiB (a comment pads it), more than the disk will have free
app rbig
{ printf '# '; head -c 393216 /dev/zero | tr '\0' x; echo; } >>"$S/rbig"
bm release add app --source "file://$T/src@$C1" --id rbig >/dev/null
bm binary add app rbig "$S/rbig" --os linux --arch amd64 --url "$HTTP/rbig" --sign "$T/rel.key" >/dev/null
bm channel promote app stable rbig >/dev/null
# the disk full, then 64 KiB of it freed
dd if=/dev/zero of="$SMALL/filler" bs=4096 2>/dev/null || true
truncate -s "$(($(stat -c %s "$SMALL/filler") - 65536))" "$SMALL/filler"
free0=$(df -B1 --output=avail "$SMALL" | tail -1)
state0=$(cat "$D4/.agent/state.json")
expect_fail 1 "" once4
eq "host 4 reported failed" "$(last_report web-4 | cut -d: -f1)" failed
e=$(last_error web-4)
echo "$e" | grep -q "No space left on device" || fail "the report does not say the disk is full: $e"
echo "  ok: $(echo "$e" | head -c 200)"
eq "host 4: current still -> r7" "$(readlink "$D4/current")" releases/r7
no_file "$D4/releases/rbig/rbig" "a download that hit a full disk got its name"
no_file "$D4/releases/rbig/.rbig.fetched.part" "the partial download was left behind (it holds the space the next try needs)"
no_file "$D4/releases/rbig/.rbig.fetched" "the download's temporary file was left behind"
eq "the space the download took is free again" "$(df -B1 --output=avail "$SMALL" | tail -1)" "$free0"
eq "the state file is whole and unchanged" "$(cat "$D4/.agent/state.json")" "$state0"
rm "$SMALL/filler"
once4 2>/dev/null || fail "the round after space was freed failed"
eq "host 4: current -> rbig" "$(readlink "$D4/current")" releases/rbig
cmp -s "$S/rbig" "$D4/releases/rbig/rbig" || fail "the installed rbig differs from the artifact"
echo "  ok: rbig installed whole"

check "install dir not writable: chmod 555 on releases/ (as root, chmod does not stop root: the cases above stand for it)"
bm channel promote app stable r8 >/dev/null
if [ "$(id -u)" != 0 ]; then
	chmod 555 "$D2/releases"
	fails2 "Permission denied"
	chmod 755 "$D2/releases"
	no_file "$D2/releases/r8" "made in a read-only folder"
else
	echo "  (root: chmod 555 does not keep root out; covered by the file and folder cases above)"
fi
once2 2>/dev/null || fail "the round after releases/ was writable again failed"
eq "current -> r8" "$(readlink "$D2/current")" releases/r8

# ---- mix-and-match ----
D3=$T/host3
once3() { timeout -k 5 120 "$BM" --repo "$R" agent $COMMON --install-dir "$D3" --id web-3 --once "$@"; }
check "mix-and-match setup: genuine serve answers for m1 (amd64) and m3 (arm64), then r8 is installed on host 3"
release m1 "file://$S/m1" --sign "$T/rel.key"
bm release add app --source "file://$T/src@$C1" --id m2 >/dev/null # a release without a binary of its own
app m3
bm release add app --source "file://$T/src@$C1" --id m3 >/dev/null
bm binary add app m3 "$S/m3" --os linux --arch arm64 --url "file://$S/m3" --sign "$T/rel.key" >/dev/null
serve_start s "$R"
URL=$(serve_url s)
bm channel promote app stable m1 >/dev/null
curl -fsS "$URL/v1/projects/app/channels/stable/binary?os=linux&arch=amd64" >"$T/m1.json"
bm channel promote app stable m3 >/dev/null
curl -fsS "$URL/v1/projects/app/channels/stable/binary?os=linux&arch=arm64" >"$T/m3.json"
serve_stop s
bm channel promote app stable r8 >/dev/null
once3 2>/dev/null || fail "--once r8 on host 3 failed"
eq "host 3 runs r8" "$(readlink "$D3/current")" releases/r8

check "mix-and-match: another binary's signature record planted on an unsigned binary"
release u1 "file://$S/u1"
app u2
bm release add app --source "file://$T/src@$C1" --id u2 >/dev/null
bm binary add app u2 "$S/u2" --os linux --arch amd64 --url "file://$S/u2" >/dev/null
bm binary sign "$S/u2" --key "$T/rel.key" >/dev/null
sha() { sha256sum "$1" | cut -c1-64; }
SU1=$(sha "$S/u1") SU2=$(sha "$S/u2")
sigpath=$(git --git-dir="$R" ls-tree -r --name-only main "binaries/$(echo "$SU2" | cut -c1-2)/" | grep "/$SU2.sig/")
git --git-dir="$R" cat-file blob "main:$sigpath" >"$T/u2.sig.pb"
plant "$R" "binaries/$(echo "$SU1" | cut -c1-2)/$SU1.sig/${sigpath##*/}" "$T/u2.sig.pb"
bm channel promote app stable u1 >/dev/null
expect_fail 1 "" once3
eq "reported failed" "$(last_report web-3)" failed:u1
e=$(last_error web-3)
echo "$e" | grep -q "no trusted signature.*$SU1" || fail "the refusal does not name the binary: $e"
echo "  ok: $(echo "$e" | head -c 240)"
no_file "$D3/releases/u1" "installed with another binary's signature"
eq "current still r8" "$(readlink "$D3/current")" releases/r8

check "mix-and-match: m1's record rewritten to say release m2 (its signature names m1)"
SM1=$(sha "$S/m1")
rec="binaries/$(echo "$SM1" | cut -c1-2)/$SM1.pb"
git --git-dir="$R" cat-file blob "main:$rec" >"$T/m1.pb"
python3 - "$T/m1.pb" <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
old = b"\x32\x02m1"  # field 6 (release), length 2, "m1"
assert b.count(old) == 1, b
open(p, "wb").write(b.replace(old, b"\x32\x02m2"))
PY
plant "$R" "$rec" "$T/m1.pb"
bm channel promote app stable m2 >/dev/null
expect_fail 1 "" once3
e=$(last_error web-3)
echo "$e" | grep -q "release:m1.*record says release:m2" || fail "the mismatch is not said: $e"
echo "  ok: $(echo "$e" | head -c 240)"
no_file "$D3/releases/m2" "m1's bytes installed as m2"
eq "current still r8" "$(readlink "$D3/current")" releases/r8

# a serve the test writes: GET .../binary answers the file $T/answer.json, POSTed reports go
# to $T/fake.reports (one a line)
cat >"$T/fake_serve.py" <<'PY'
import http.server, os, sys
answer, reports, portfile = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if "/binary?" in self.path:
            self.reply(200, open(answer, "rb").read())
        else:
            self.reply(404, b'{"error":"not here"}')
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(reports, "ab") as f:
            f.write(body + b"\n")
        self.reply(200, b"{}")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
cp "$T/m1.json" "$T/answer.json"
: >"$T/fake.reports"
python3 "$T/fake_serve.py" "$T/answer.json" "$T/fake.reports" "$T/fport" &
SERVE_PIDS="$SERVE_PIDS $!"
i=0
while [ ! -s "$T/fport" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "the test's serve did not start"; sleep 0.1; done
FAKE="http://127.0.0.1:$(cat "$T/fport")"
D4=$T/host4
once4() { timeout -k 5 120 "$BM" agent $COMMON --install-dir "$D4" --id web-4 --server "$FAKE" --once "$@"; }
lastfake() { tail -n 1 "$T/fake.reports" | js "d['state']+':'+d['release']+' '+d.get('error','')"; }
check "mix-and-match over --server: the genuine answer for m1 installs (the test's serve works)"
once4 2>"$T/once4.log" || { cat "$T/once4.log" >&2; fail "--once m1 from the test's serve failed"; }
eq "host 4 runs m1" "$(readlink "$D4/current")" releases/m1
check "mix-and-match over --server: release m2 answered with m1's genuinely signed binary: refused"
python3 - "$T/m1.json" "$T/answer.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["release"] = "m2"
d["seq"] = str(int(d["seq"]) + 10)
json.dump(d, open(sys.argv[2], "w"))
PY
expect_fail 1 "" once4
e=$(lastfake)
echo "$e" | grep -q "^failed:m2 .*release m1" || fail "not refused as another release's binary: $e"
echo "  ok: $(echo "$e" | head -c 240)"
no_file "$D4/releases/m2" "another release's binary installed as m2"
eq "current still m1" "$(readlink "$D4/current")" releases/m1
check "mix-and-match over --server: an amd64 host answered with m3's arm64 binary: refused"
python3 - "$T/m3.json" "$T/answer.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["seq"] = str(int(d["seq"]) + 20)
json.dump(d, open(sys.argv[2], "w"))
PY
expect_fail 1 "" once4
e=$(lastfake)
echo "$e" | grep -q "^failed:m3 .*linux/arm64" || fail "not refused as another platform's binary: $e"
echo "  ok: $(echo "$e" | head -c 240)"
no_file "$D4/releases/m3" "an arm64 binary installed on an amd64 host"
eq "current still m1" "$(readlink "$D4/current")" releases/m1

check "the app dies while a long download runs: started again during the download, not after it"
release w1 "file://$S/w1" --sign "$T/rel.key"
release w2 "http://127.0.0.1:$APORT/slow/w2" --sign "$T/rel.key"
bm channel promote app sup w1 >/dev/null
"$BM" --repo "$R" agent --project app --channel sup --env prod --trusted-keys "$T/pinned" --os linux --arch amd64 \
	--install-dir "$T/host-sup" --id web-sup --exec 'exec ./"$BOOTMETA_RELEASE"' --health-url "http://127.0.0.1:$PORT/" \
	--health-timeout 10s --bake 300ms --poll 200ms --download-timeout 120s 2>"$T/sup.log" &
SP=$!
SERVE_PIDS="$SERVE_PIDS $SP"
wait_report web-sup healthy:w1
bm channel promote app sup w2 >/dev/null # a byte a second: cut only by the 30 s stall timeout
wait_report web-sup downloading:w2
apid=$(sed -n 's/.*msg=started release=w1 pid=\([0-9]*\).*/\1/p' "$T/sup.log" | tail -n 1)
[ -n "$apid" ] || fail "no app pid in the agent's log: $(tail -5 "$T/sup.log")"
kill -9 "-$apid"
i=0
until [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null)" = w1 ]; do
	i=$((i + 1)); [ $i -le 150 ] || { tail -n 20 "$T/sup.log" >&2; fail "the app was not started again within 15 s"; }; sleep 0.1
done
eq "the download still runs" "$(last_report web-sup)" downloading:w2
grep -q 'the app is not running; starting it release=w1 how="killed by signal 9"' "$T/sup.log" ||
	fail "the restart is not said: $(grep 'not running' "$T/sup.log")"
echo "  ok: w1 answers again while w2 downloads"
kill -TERM "$SP"
wait "$SP" || fail "the agent did not exit 0 on SIGTERM during a download"
eq "current still w1" "$(readlink "$T/host-sup/current")" releases/w1
echo "PASS"
