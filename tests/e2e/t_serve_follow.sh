#!/bin/sh
# bootmeta follow: a clone kept current from serve's notices, with the periodic fetch as the
# fallback when the notices stop (serve down); --once catches up and exits; SIGTERM exits 0.
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

check "--once clones and catches up"
"$BM" follow --once --from "$R" "$T/f.git" >"$T/once"
[ "$(tip "$T/f.git")" = "$(tip "$R")" ] || fail "--once left the clone behind"

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
echo "PASS"
