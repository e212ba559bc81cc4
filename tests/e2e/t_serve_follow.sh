#!/bin/sh
# bootmeta follow: a clone kept current from serve's notices (its event stream, or its NATS
# feed with --nats, against a real nats-server), with the periodic fetch as the fallback when
# the notices stop (serve or NATS down); --once catches up and exits; a file:// clone links
# the objects; SIGTERM exits 0.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta.git
C1=1111111111111111111111111111111111111111
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/a.git@$C1" >/dev/null
serve_start s "$R" --open-writes
U=$(serve_url s)

# wait_same A B: A's main reaches B's within 15 s
wait_same() {
	i=0
	while [ "$(tip "$1" 2>/dev/null)" != "$(tip "$2")" ]; do
		i=$((i + 1))
		[ $i -lt 150 ] || fail "$1 is at $(tip "$1" 2>/dev/null), $2 at $(tip "$2") after 15 s"
		sleep 0.1
	done
}

check "usage"
expect_fail 2 "does not exist: give --from" "$BM" follow --server "$U" "$T/nope.git"
expect_fail 2 "give --server" "$BM" follow "$T/nope.git"
mkdir "$T/empty"
expect_fail 1 "exists and is not a clone of a meta repo" "$BM" follow --once --from "$R" "$T/empty"
expect_fail 1 "bootmeta serve does not serve git" "$BM" follow --once --from "$U" "$T/f404.git"

check "--once clones and catches up"
"$BM" follow --once --from "$R" "$T/f.git" >"$T/once"
[ "$(tip "$T/f.git")" = "$(tip "$R")" ] || fail "--once left the clone behind"
grep -q "^$(tip "$R" | cut -c1-12) (cloned from $R)\$" "$T/once" || fail "no line for the clone: $(cat "$T/once")"

check "--once from a file:// URL links the objects (no repack) and fetches through it"
"$BM" follow --once --from "file://$R" "$T/f2.git" >/dev/null
[ "$(tip "$T/f2.git")" = "$(tip "$R")" ] || fail "--once from file:// left the clone behind"
for p in "$R"/objects/pack/*.pack; do
	[ -f "$p" ] || fail "the meta repo has no pack to compare"
	[ "$(stat -c %i "$p")" = "$(stat -c %i "$T/f2.git/objects/pack/${p##*/}")" ] ||
		fail "${p##*/} was copied or repacked, not linked"
done
"$BM" --repo "$R" channel promote acme/server edge "$C1" >/dev/null
"$BM" follow --once "$T/f2.git" >"$T/once2"
[ "$(tip "$T/f2.git")" = "$(tip "$R")" ] || fail "a fetch through file:// left the clone behind"
grep -q "(catch up)" "$T/once2" || fail "no line for the fetch: $(cat "$T/once2")"
"$BM" --repo "$T/f2.git" channel get acme/server edge >/dev/null || fail "the file:// follower cannot read the channel"

check "a write over HTTP reaches the follower by notice"
"$BM" follow --server "$U" --fetch-interval 3600 "$T/f.git" >"$T/follow.out" 2>"$T/follow.err" &
fpid=$!
SERVE_PIDS="$SERVE_PIDS $fpid"
# the follower is connected when serve counts its stream
i=0
until curl -s "$U/metrics" | grep -q '^bootmeta_watchers{mode="sse"} 1'; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the follower never connected: $(cat "$T/follow.err")"
	sleep 0.1
done
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}"; want 200
wait_same "$T/f.git" "$R"
grep -q "(notice)" "$T/follow.out" || fail "no notice line: $(cat "$T/follow.out")"
"$BM" --repo "$T/f.git" channel get acme/server stable >/dev/null || fail "the follower cannot read the channel"
kill -TERM $fpid
wait $fpid || fail "follow exited $? on SIGTERM"

check "serve down: the periodic fetch keeps the clone current"
# the first follower's stream may still be counted for a while (else the new follower's
# catch-up can run after the promote: a "catch up" line, not a periodic fetch): wait for
# the new one's own stream in serve's log (one "watch" line per stream)
streams=$(grep -c 'msg=watch\|watch path=' "$T/s.log" || true)
"$BM" follow --server "$U" --fetch-interval 1 "$T/f.git" >"$T/follow2.out" 2>"$T/follow2.err" &
fpid=$!
SERVE_PIDS="$SERVE_PIDS $fpid"
i=0
until [ "$(grep -c 'msg=watch\|watch path=' "$T/s.log" || true)" -gt "$streams" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the follower never connected: $(cat "$T/follow2.err")"
	sleep 0.1
done
serve_stop s
"$BM" --repo "$R" channel promote acme/server beta "$C1" >/dev/null
wait_same "$T/f.git" "$R"
grep -q "(periodic fetch)" "$T/follow2.out" || fail "no periodic fetch line: $(cat "$T/follow2.out")"
grep -q "reconnecting" "$T/follow2.err" || fail "follow does not say it reconnects: $(cat "$T/follow2.err")"
kill -TERM $fpid
wait $fpid || fail "follow exited $? on SIGTERM"

check "--nats: bad uses are refused"
expect_fail 2 "not both" "$BM" follow --server "$U" --nats nats://127.0.0.1:1 "$T/f.git"
expect_fail 2 "give a nats:// (or tls://) URL" "$BM" follow --nats "http://127.0.0.1:1" "$T/f.git"

check "--nats: a write reaches the follower by NATS notice; NATS down: the periodic fetch; back: a fetch at once"
NPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NU="nats://127.0.0.1:$NPORT"
nats_up() {
	nats-server -a 127.0.0.1 -p "$NPORT" >>"$T/nats.log" 2>&1 &
	NP=$!
	SERVE_PIDS="$SERVE_PIDS $NP"
	i=0
	until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' "$NPORT" 2>/dev/null; do
		i=$((i + 1)); [ $i -le 100 ] || fail "nats-server did not start: $(tail -3 "$T/nats.log")"; sleep 0.1
	done
}
check "--nats with NATS down at the start: said at once, the periodic fetch goes on, SIGTERM ends it"
"$BM" follow --nats "$NU" --fetch-interval 1 "$T/f.git" >"$T/follow4.out" 2>"$T/follow4.err" &
fpid=$!
SERVE_PIDS="$SERVE_PIDS $fpid"
wait_line "$T/follow4.err" "NATS at $NU is down; fetching every 1 s"
"$BM" --repo "$R" channel promote acme/server delta "$C1" >/dev/null
wait_same "$T/f.git" "$R"
grep -q "(periodic fetch)" "$T/follow4.out" || fail "no periodic fetch with NATS down: $(cat "$T/follow4.out")"
kill -TERM $fpid
wait_exit $fpid "follow --nats with NATS down"

nats_up
serve_start s "$R" --open-writes --nats "$NU"
U=$(serve_url s)
"$BM" follow --nats "$NU" --fetch-interval 3600 "$T/f.git" >"$T/follow3.out" 2>"$T/follow3.err" &
fpid=$!
SERVE_PIDS="$SERVE_PIDS $fpid"
wait_line "$T/follow3.err" "notices from $NU (bootmeta.commit)"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}"; want 200
wait_same "$T/f.git" "$R"
grep -q "(notice)" "$T/follow3.out" || fail "no notice line: $(cat "$T/follow3.out")"
kill -TERM $NP; wait $NP 2>/dev/null || true
wait_line "$T/follow3.err" "NATS at $NU is down; fetching every 3600 s"
"$BM" --repo "$R" channel promote acme/server gamma "$C1" >/dev/null
[ "$(tip "$T/f.git")" != "$(tip "$R")" ] || fail "the follower moved with NATS down and no fetch due"
nats_up
wait_same "$T/f.git" "$R"
grep -q "(nats reconnected)" "$T/follow3.out" || fail "no fetch on reconnect: $(cat "$T/follow3.out")"
kill -TERM $fpid
wait $fpid || fail "follow --nats exited $? on SIGTERM"
echo "PASS"
