#!/bin/sh
# bootmeta serve --nats, end to end against a real nats-server (JetStream on), with a client
# on the raw NATS protocol (tests/tools/nats_client.py, no code shared with serve's nats.c):
# a promote over HTTP reaches bootmeta.commit and its prefix subject; a write over
# request-reply commits and answers with the commit; a retry with the same Nats-Msg-Id is
# not committed twice; bad bodies and a bad token get the JSON errors HTTP gives; nats-server
# killed: HTTP writes go on, and after its restart the missed commits are published, one by
# one, into the stream; JetStream replay from a commit; serve started while NATS is down;
# /metrics; the latency from a write to its event.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

command -v nats-server >/dev/null 2>&1 || { echo "nats-server is not installed (scripts/deps.sh: nats-server)" >&2; exit 77; }
NC="python3 $BM_SRCDIR/tests/tools/nats_client.py"
NPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NU="nats://127.0.0.1:$NPORT"

nats_up() {
	nats-server -a 127.0.0.1 -p "$NPORT" -js -sd "$T/js" >>"$T/nats.log" 2>&1 &
	echo $! >"$T/nats.pid"
	SERVE_PIDS="$SERVE_PIDS $!"
	python3 - "$NPORT" <<'EOF' || { tail -5 "$T/nats.log" >&2; fail "nats-server did not start"; }
import socket, sys, time
end = time.time() + 20
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
        if s.recv(4096).startswith(b"INFO "):
            sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

nats_down() {
	pid=$(cat "$T/nats.pid")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
}

# wait_log NAME NEEDLE [COUNT]: until NAME's log has COUNT (default 1) lines with NEEDLE (20 s)
wait_log() {
	i=0
	while [ "$(grep -c -- "$2" "$T/$1.log" || true)" -lt "${3:-1}" ]; do
		i=$((i + 1))
		[ $i -le 400 ] || { tail -n 20 "$T/$1.log" >&2; fail "$1 never logged \"$2\""; }
		sleep 0.05
	done
}

wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -le 400 ] || fail "no $1 in 20 s"
		sleep 0.05
	done
}

# metric NAME: its value in serve s1's /metrics
metric() { curl -sS "$U/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# published_to N WHAT: until s1 has published N commits (20 s), else fail saying WHAT
published_to() {
	i=0
	while [ "$(metric bootmeta_nats_commits_published_total)" -lt "$1" ] 2>/dev/null ||
		[ -z "$(metric bootmeta_nats_commits_published_total)" ]; do
		i=$((i + 1))
		[ $i -le 400 ] || fail "$2: $(curl -sS "$U/metrics" | grep nats_)"
		sleep 0.05
	done
}

# nreq SUBJECT BODY [HEADER]: a request; the reply (JSON: headers, data) in $T/reply
nreq() {
	if [ $# -ge 3 ]; then
		$NC req --url "$NU" -H "$3" "$1" "$2" >"$T/reply" || fail "no reply on $1: $(cat "$T/reply")"
	else
		$NC req --url "$NU" "$1" "$2" >"$T/reply" || fail "no reply on $1: $(cat "$T/reply")"
	fi
}
rget() { jq -r "$1" "$T/reply"; }
rdata() { jq -r '.data' "$T/reply" | jq -r "$1"; }

R=$T/meta.git
C1=1111111111111111111111111111111111111111
C2=2222222222222222222222222222222222222222
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C2" --version 1.1 >/dev/null

nats_up
serve_start s1 "$R" --open-writes --nats "$NU"
U=$(serve_url s1)
S1_BASE=$(tip "$R") # s1 publishes each commit after it
wait_log s1 "msg=nats-jetstream stream=BOOTMETA created=yes"

check "a promote over HTTP is published on bootmeta.commit and bootmeta.change.acme.server.channels.stable"
$NC sub --url "$NU" --ready "$T/sub1.ready" --count 2 --timeout 30 bootmeta.commit 'bootmeta.change.acme.server.channels.>' >"$T/sub1" &
sub=$!
wait_file "$T/sub1.ready"
c0=$(tip "$R")
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C2\"}"; want 200
c1=$(jget .metaCommit)
path=$(jget .path)
wait $sub || fail "the subscriber got $(wc -l <"$T/sub1") of 2 messages: $(cat "$T/sub1")"
jq -c 'select(.subject == "bootmeta.commit")' "$T/sub1" >"$T/m.commit"
jq -c 'select(.subject == "bootmeta.change.acme.server.channels.stable")' "$T/sub1" >"$T/m.change"
jq -e --arg c "$c1" --arg p "$c0" --arg path "$path" --arg rel "$C2" '
	(.data | fromjson) as $e | $e.commit == $c and $e.previous == $p and $e.prefix == "" and
	$e.paths == [$path] and $e.records[$path].release == $rel and .headers["Nats-Msg-Id"] == $c and
	.headers["Bootmeta-Commit"] == $c and .headers["Bootmeta-Previous"] == $p' "$T/m.commit" >/dev/null ||
	fail "bootmeta.commit: $(cat "$T/sub1")"
jq -e --arg c "$c1" --arg path "$path" '
	(.data | fromjson) as $e | $e.commit == $c and $e.prefix == "projects/acme/server/channels/stable/" and
	$e.paths == [$path] and .headers["Nats-Msg-Id"] == ($c + ":acme.server.channels.stable")' "$T/m.change" >/dev/null ||
	fail "per-prefix subject: $(cat "$T/sub1")"
echo "  the event is the one a watcher gets:"
http GET "$U/v1/watch?since=$c0&wait=1s"; want 200
jq -c '.events[0] | del(.prefix)' "$T/body" >"$T/watch.ev"
jq -c '.data | fromjson | del(.prefix)' "$T/m.commit" >"$T/nats.ev"
cmp -s "$T/watch.ev" "$T/nats.ev" || fail "NATS event $(cat "$T/nats.ev") differs from the watch event $(cat "$T/watch.ev")"

check "write-back: a promote on bootmeta.write.promote commits and the reply names the commit"
nreq bootmeta.write.promote "{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"$C1\",\"reason\":\"over nats\"}" \
	"Nats-Msg-Id: nats-w-1"
[ "$(rget '.headers["Bootmeta-Status"]')" = 200 ] || fail "reply: $(cat "$T/reply")"
w1=$(rdata .metaCommit)
[ "$w1" = "$(tip "$R")" ] || fail "the reply names $w1, main is $(tip "$R")"
[ "$(rget '.headers["Bootmeta-Commit"]')" = "$w1" ] || fail "Bootmeta-Commit header: $(cat "$T/reply")"
[ "$(rdata .seq)" = 1 ] && [ "$(rdata .record.release)" = "$C1" ] || fail "reply body: $(rget .data)"
"$BM" --repo "$R" --json channel get acme/server beta | jq -e ".release == \"$C1\" and .reason == \"over nats\"" >/dev/null ||
	fail "channel get beta: $("$BM" --repo "$R" --json channel get acme/server beta)"
grep -q "msg=nats-write kind=promote status=200 commit=$w1" "$T/s1.log" || fail "no nats-write log line"

check "a retried request with the same Nats-Msg-Id gets the first answer and commits nothing"
nreq bootmeta.write.promote "{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"$C1\",\"reason\":\"over nats\"}" \
	"Nats-Msg-Id: nats-w-1"
[ "$(rdata .metaCommit)" = "$w1" ] && [ "$(rdata .replayed)" = true ] && [ "$(rdata .seq)" = 1 ] ||
	fail "retry: $(rget .data)"
[ "$(tip "$R")" = "$w1" ] || fail "the retry committed"
[ "$("$BM" --repo "$R" --json channel history acme/server beta | jq length)" = 1 ] || fail "beta has more than one entry"

check "bad requests get the JSON error HTTP gives, and nothing is committed"
before=$(tip "$R")
body="{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"$C1\",\"bogus\":1}"
nreq bootmeta.write.promote "$body"
[ "$(rget '.headers["Bootmeta-Status"]')" = 400 ] || fail "unknown field: $(cat "$T/reply")"
http POST "$U/v1/projects/acme/server/channels/beta/promote" "$body"; want 400
[ "$(rget .data | jq -cS .)" = "$(jq -cS . "$T/body")" ] || fail "NATS error $(rget .data) differs from HTTP's $(cat "$T/body")"
nreq bootmeta.write.promote "{\"channel\":\"beta\",\"release\":\"$C1\"}"
[ "$(rdata .status)" = 400 ] && rdata .error | grep -q 'field "project": required' || fail "no project: $(rget .data)"
nreq bootmeta.write.promote "{\"project\":\"acme/../x\",\"channel\":\"beta\",\"release\":\"$C1\"}"
[ "$(rdata .status)" = 400 ] && rdata .error | grep -q 'field "project"' || fail "bad project: $(rget .data)"
nreq bootmeta.write.promote '{"project":'
[ "$(rdata .status)" = 400 ] && rdata .error | grep -q "not JSON" || fail "not JSON: $(rget .data)"
nreq bootmeta.write.promote "{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"nope\"}"
[ "$(rdata .status)" = 404 ] && [ "$(rdata .code)" = not-found ] || fail "unknown release: $(rget .data)"
nreq bootmeta.write.nothing '{}'
[ "$(rdata .status)" = 404 ] && rdata .error | grep -q 'no write kind "nothing"' || fail "unknown kind: $(rget .data)"
[ "$(tip "$R")" = "$before" ] || fail "a bad request committed"

check "webhook subscriptions over NATS: bootmeta.write.hook adds, bootmeta.write.hook-rm ends"
"$BM" age keygen -o "$T/hook.key" 2>/dev/null
nreq bootmeta.write.hook "{\"url\":\"http://127.0.0.1:9/h\",\"secret\":\"s3cret\",\"prefix\":\"projects/acme/\",\"recipients\":[\"$("$BM" age keygen -y "$T/hook.key")\"]}"
[ "$(rdata .status)" = null ] && hid=$(rdata .record.id) && [ "$(rdata .path)" = "hooks/$hid/hook.pb" ] ||
	fail "hook over NATS: $(rget .data)"
[ "$(rdata .metaCommit)" = "$(tip "$R")" ] || fail "hook over NATS: the reply names $(rdata .metaCommit), main is $(tip "$R")"
nreq bootmeta.write.hook-rm "{\"id\":\"nothex\"}"
[ "$(rdata .status)" = 400 ] && rdata .error | grep -q 'field "id"' || fail "hook-rm, a bad id: $(rget .data)"
nreq bootmeta.write.hook-rm "{\"id\":\"$hid\"}"
[ "$(rdata .path)" = "hooks/$hid/removed.pb" ] && [ "$(rdata .record.removed)" = true ] || fail "hook-rm over NATS: $(rget .data)"
[ "$("$BM" --repo "$R" --json hook list | jq length)" = 0 ] || fail "hook list after hook-rm: $("$BM" --repo "$R" --json hook list)"
# every commit so far published before NATS goes down: the gap below starts after them
published_to "$(git --git-dir="$R" rev-list --count "$S1_BASE..main")" "the hook commits were not published"
w1=$(tip "$R")

check "nats-server killed: serve keeps serving HTTP writes"
http GET "$U/metrics"; want 200
grep -q '^bootmeta_nats_connected 1' "$T/body" || fail "not connected: $(grep nats_connected "$T/body")"
pub0=$(metric bootmeta_nats_commits_published_total)
nats_down
wait_log s1 "msg=nats-disconnected"
[ "$(metric bootmeta_nats_connected)" = 0 ] || fail "metrics say connected while nats-server is down"
missed=""
for i in 1 2 3; do
	http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\",\"reason\":\"away $i\"}"; want 200
	missed="$missed $(jget .metaCommit)"
done
echo "  3 writes while NATS was down:$missed"
last_missed=$(jget .metaCommit)

check "nats-server back: serve reconnects and publishes the missed commits, one by one"
nats_up
wait_log s1 "msg=nats-reconnected"
published_to $((pub0 + 3)) "the missed commits were not published"
grep -q "msg=nats-gap from=$w1 to=$last_missed commits=3" "$T/s1.log" || fail "no gap line: $(grep nats- "$T/s1.log" | tail -5)"

check "JetStream: replay from a commit gives every commit after it, in order, chained by previous"
$NC replay --url "$NU" --stream BOOTMETA --subject bootmeta.commit --from "$c1" >"$T/replay" || fail "replay: $(cat "$T/replay")"
jq -r '.data | fromjson | .commit' "$T/replay" | tr '\n' ' ' >"$T/replayed"
want_list="$(git --git-dir="$R" rev-list --reverse "$c1..main" | tr '\n' ' ')"
[ "$(cat "$T/replayed")" = "$want_list" ] || fail "replay from $c1: $(cat "$T/replayed"), want $want_list"
jq -r '.data | fromjson | .previous' "$T/replay" | tr '\n' ' ' >"$T/prevs"
want_prev="$c1 $(git --git-dir="$R" rev-list --reverse "$c1..main" | sed '$d' | tr '\n' ' ')"
[ "$(cat "$T/prevs")" = "$want_prev" ] || fail "previous chain: $(cat "$T/prevs"), want $want_prev"
for c in $missed; do
	grep -q "$c" "$T/replayed" || fail "missed commit $c not in the stream"
done

check "metrics: NATS state, publishes, write requests"
http GET "$U/metrics"; want 200
grep -q '^bootmeta_nats_connected 1' "$T/body" || fail "metrics connected"
grep -q '^bootmeta_nats_jetstream 1' "$T/body" || fail "metrics jetstream"
grep -q '^bootmeta_nats_published_total [1-9]' "$T/body" || fail "metrics published"
grep -q '^bootmeta_nats_write_requests_total [1-9]' "$T/body" || fail "metrics write requests"
grep -q '^bootmeta_nats_reconnects_total [1-9]' "$T/body" || fail "metrics reconnects"
grep -q '^bootmeta_nats_gaps_total [1-9]' "$T/body" || fail "metrics gaps"

check "latency: from just before an HTTP promote to its bootmeta.commit event"
$NC latency --url "$NU" --http "$U" --project acme/server --channel lat --release "$C2" --n 40 >"$T/lat" ||
	fail "latency run failed"
echo "  $(cat "$T/lat")"
jq -e '.n == 40 and .event_p50_ms < 2000' "$T/lat" >/dev/null || fail "latency: $(cat "$T/lat")"

check "SIGTERM with NATS up: a clean stop"
serve_stop s1
grep -q "msg=nats-closed" "$T/s1.log" || fail "no nats-closed line"

check "serve started while NATS is down: serves HTTP, connects when NATS comes, and publishes what it missed"
echo "  (a commit while serve is stopped, one while NATS is down; with JetStream both are published)"
nats_down
before=$(tip "$R")
"$BM" --repo "$R" channel promote acme/server stable "$C1" >/dev/null
while_stopped=$(tip "$R")
"$BM" serve token add ci --scope 'promote:acme/*' --tokens "$T/tokens" >"$T/tok.ci" 2>/dev/null
"$BM" serve token add other --scope 'promote:other/*' --tokens "$T/tokens" >"$T/tok.other" 2>/dev/null
serve_start s2 "$R" --nats "$NU" --tokens "$T/tokens"
U=$(serve_url s2)
http GET "$U/healthz"; want 200
wait_log s2 "msg=nats-connecting"
"$BM" --repo "$R" channel promote acme/server stable "$C2" >/dev/null
while_down=$(tip "$R")
nats_up
wait_log s2 "msg=nats-connected"
i=0
while [ "$(metric bootmeta_nats_commits_published_total)" != 2 ]; do
	i=$((i + 1))
	[ $i -le 400 ] || fail "2 commits were missed, published: $(curl -sS "$U/metrics" | grep nats_commits)"
	sleep 0.05
done
grep -q "msg=nats-resume stream=BOOTMETA last_published=$before" "$T/s2.log" || fail "no resume line: $(grep nats- "$T/s2.log")"
$NC replay --url "$NU" --stream BOOTMETA --subject bootmeta.commit --from "$before" >"$T/replay2" || fail "replay2"
[ "$(jq -r '.data | fromjson | .commit' "$T/replay2" | tr '\n' ' ')" = "$while_stopped $while_down " ] ||
	fail "replay after $before: $(cat "$T/replay2")"

check "tokens over NATS: a bad or missing token 401, a token out of scope 403 (the JSON HTTP gives), a good one commits"
before=$(tip "$R")
body="{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"$C2\"}"
for tok in not-a-token "$(cat "$T/tok.other")"; do
	nreq bootmeta.write.promote "$body" "Authorization: Bearer $tok"
	http POST "$U/v1/projects/acme/server/channels/beta/promote" "$body" -H "Authorization: Bearer $tok"
	[ "$(rget '.headers["Bootmeta-Status"]')" = "$(cat "$T/status")" ] || fail "NATS status $(cat "$T/reply"), HTTP $(cat "$T/status")"
	[ "$(rget .data | jq -cS .)" = "$(jq -cS . "$T/body")" ] || fail "NATS error $(rget .data) differs from HTTP's $(cat "$T/body")"
	echo "  $(rget '.headers["Bootmeta-Status"]'): $(rdata .error)"
done
[ "$(rget '.headers["Bootmeta-Status"]')" = 403 ] || fail "out of scope: $(cat "$T/reply")"
nreq bootmeta.write.promote "$body"
[ "$(rget '.headers["Bootmeta-Status"]')" = 401 ] || fail "no token: $(cat "$T/reply")"
nreq bootmeta.write.promote "$body" "Authorization: Bearer not-a-token"
[ "$(rget '.headers["Bootmeta-Status"]')" = 401 ] || fail "bad token: $(cat "$T/reply")"
[ "$(tip "$R")" = "$before" ] || fail "a refused write committed"
nreq bootmeta.write.promote "$body" "Authorization: Bearer $(cat "$T/tok.ci")"
[ "$(rget '.headers["Bootmeta-Status"]')" = 200 ] && [ "$(rdata .metaCommit)" = "$(tip "$R")" ] || fail "good token: $(cat "$T/reply")"
"$BM" --repo "$R" --json channel get acme/server beta | jq -e '.actor | startswith("ci")' >/dev/null ||
	fail "actor: $("$BM" --repo "$R" --json channel get acme/server beta)"
serve_stop s2

check "two serves on one upstream: a commit one publishes makes the other fetch at once (no poll)"
UP=$T/upstream.git
"$BM" init "$UP" >/dev/null
"$BM" --repo "$UP" project add acme/server >/dev/null
"$BM" --repo "$UP" release add acme/server --source "https://git.example.com/a.git@$C1" >/dev/null
serve_start ua "$T/ua.git" --upstream "$UP" --upstream-poll 3600 --open-writes --nats "$NU" --nats-stream off
serve_start ub "$T/ub.git" --upstream "$UP" --upstream-poll 3600 --open-writes --nats "$NU" --nats-stream off
wait_log ua "msg=nats-notices"
wait_log ub "msg=nats-notices"
UA=$(serve_url ua)
UB=$(serve_url ub)
since=$(tip "$T/ub.git")
http POST "$UA/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}"; want 200
c=$(jget .metaCommit)
http GET "$UB/v1/watch?prefix=projects/acme/server/channels/stable/&since=$since&wait=20s"; want 200
[ "$(jget '.events[0].commit')" = "$c" ] || fail "serve ub did not get serve ua's commit on its notice: $(cat "$T/body")"
grep -q "msg=nats-jetstream" "$T/ua.log" && fail "--nats-stream off still set up JetStream"
serve_stop ua
serve_stop ub
nats_down
echo "PASS"
