#!/bin/sh
# serve --upstream: the meta repo on a git server (here a bare repo by path; the git smart
# HTTP and ssh servers are in t_git_http.sh / t_git_ssh.sh). serve clones it on the first
# start, pushes its writes there, and fetches what others pushed (by poll and on notice).
# Two serves in front of one upstream take writes at once: nothing lost, every channel seq
# unique and gapless, every acknowledged write in the upstream at the seq it was answered.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

UP=$T/upstream.git
C1=1111111111111111111111111111111111111111
"$BM" init "$UP" >/dev/null
"$BM" --repo "$UP" project add acme/server >/dev/null
"$BM" --repo "$UP" release add acme/server --source "https://git.example.com/a.git@$C1" >/dev/null

check "usage: --upstream needs --repo"
expect_fail 2 "needs --repo" "$BM" serve --upstream "$UP"

check "two serves, each with its own clone of one upstream"
serve_start a "$T/a.git" --upstream "$UP" --upstream-poll 1 --open-writes
serve_start b "$T/b.git" --upstream "$UP" --upstream-poll 1 --open-writes
UA=$(serve_url a)
UB=$(serve_url b)
grep -q "msg=clone" "$T/a.log" || fail "serve a did not say it cloned"

check "a write on one serve is in the upstream when it is answered, and the other serve sees it"
http POST "$UA/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}"; want 200
c=$(jget .metaCommit)
[ "$(tip "$UP")" = "$c" ] || fail "upstream main is $(tip "$UP"), the answer named $c"
i=0
while :; do
	http GET "$UB/v1/projects/acme/server/channels/stable"
	[ "$(cat "$T/status")" = 200 ] && break
	i=$((i + 1))
	[ $i -lt 100 ] || fail "serve b never saw the write of serve a: $(cat "$T/body")"
	sleep 0.1
done

check "a push to the upstream by someone else reaches serve a's watchers"
since=$(tip "$UP")
( sleep 0.3; "$BM" --repo "$UP" channel promote acme/server other "$C1" >/dev/null ) &
bg=$!
http GET "$UA/v1/watch?prefix=projects/acme/server/channels/other/&since=$since&wait=20s"; want 200
wait $bg
[ "$(jget '.events | length')" -ge 1 ] || fail "no event for the outside push: $(cat "$T/body")"

check "both serves take writes at once on one channel: nothing lost, seqs gapless"
: >"$T/acked"
python3 "$BM_SRCDIR/tests/e2e/serve_load.py" "$UA" 3 16 1 "$C1" "$T/acked" 2>>"$T/load.err" &
l1=$!
python3 "$BM_SRCDIR/tests/e2e/serve_load.py" "$UB" 3 16 1 "$C1" "$T/acked" 2>>"$T/load.err" &
l2=$!
wait $l1 $l2
grep -q . "$T/load.err" && { head -5 "$T/load.err" >&2; fail "the clients saw unexpected answers"; }
n=$(wc -l <"$T/acked")
[ "$n" -gt 0 ] || fail "no write was acknowledged"
"$BM" --repo "$UP" --json channel history acme/server load-0 >"$T/h.json"
jq -r '.[].seq' "$T/h.json" | sort -n >"$T/seqs"
cnt=$(wc -l <"$T/seqs")
seq 1 "$cnt" | cmp -s - "$T/seqs" || fail "seqs are not 1..$cnt"
jq -r '.[] | "\(.seq) \(.reason)"' "$T/h.json" | sort >"$T/repo"
awk '{ print $2, $3 }' "$T/acked" | sort >"$T/ack"
missing=$(comm -23 "$T/ack" "$T/repo" | head -3)
[ -z "$missing" ] || fail "acknowledged but not in the upstream at that seq: $missing"
echo "  $n writes through two serves, $cnt entries"
git --git-dir="$UP" fsck --strict >/dev/null 2>&1 || fail "git fsck --strict of the upstream"
serve_stop a
serve_stop b

check "a repo that is not a clone of the upstream is refused"
set +e
"$BM" --repo "$UP" serve --listen 127.0.0.1:0 --upstream "$T/a.git" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit $rc"
grep -q "not a clone of the upstream" "$T/err" || fail "says: $(cat "$T/err")"
echo "PASS"
