#!/bin/sh
# A commit of more paths than one event lists (SERVE_CHANGED_MAX, 10,000): a watcher or a
# webhook of a prefix whose paths come after the first 10,000 still gets the event, with
# its own paths. The commit is made with git (fast-import), as an import or a script would:
# 10,001 files under binaries/ (listed first) and one channel entry under projects/.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (scripts/deps.sh)"; exit 77; }
CHK=$BM_SRCDIR/tests/e2e/hook_check.py

R=$T/meta.git
C1=1111111111111111111111111111111111111111
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null
"$BM" age keygen -o "$T/serve.key" 2>/dev/null
printf 'big-secret\n' >"$T/secret"
chmod 600 "$T/secret"
hook_receiver rcv ok
"$BM" --repo "$R" hook add "$(cat "$T/rcv.rurl")" --prefix projects/acme/server/ \
	--secret-file "$T/secret" --recipient "$("$BM" age keygen -y "$T/serve.key")" >/dev/null
BASE=$(tip "$R")
# the channel entry a promote writes, then main back before it: the big commit carries it
"$BM" --repo "$R" channel promote acme/server stable "$C1" >/dev/null
ENTRY=$(git --git-dir="$R" ls-tree -r --name-only main projects/acme/server/channels/stable/)
[ -n "$ENTRY" ] || fail "no channel entry"
EBLOB=$(git --git-dir="$R" rev-parse "main:$ENTRY")
git --git-dir="$R" update-ref refs/heads/main "$BASE"

serve_start s1 "$R" --identity "$T/serve.key" --poll-ms 100
U=$(serve_url s1)
# one commit serve announces (its event is in the ring), then the big one after it
"$BM" --repo "$R" log add --kind test --message "before the big one" >/dev/null
A=$(tip "$R")
i=0
until curl -sS "$U/v1/watch?since=$BASE&wait=1s" | jq -e --arg a "$A" '.metaCommit == $a' >/dev/null; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "serve did not announce $A"
done
curl -sS "$U/v1/watch?since=$A&prefix=projects/acme/ser&wait=30s" >"$T/poll.json" &
POLL=$!
i=0
until curl -sS "$U/metrics" | grep -q '^bootmeta_watchers{mode="poll"} 1'; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the long poll is not waiting: $(curl -sS "$U/metrics" | grep watchers)"
	sleep 0.05
done

check "a commit of 10,002 paths, made with git"
python3 - "$A" "$ENTRY" "$EBLOB" >"$T/fi" <<'PY'
import sys
base, entry, eblob = sys.argv[1:4]
out = sys.stdout
out.write("commit refs/heads/main\ncommitter t <t@example.com> 1700000000 +0000\ndata 9\nbig test\n")
out.write("from %s\n" % base)
for i in range(10001):
    out.write("M 100644 inline binaries/00/%06d.txt\ndata 2\n%d\n" % (i, i % 10))
out.write("M 100644 %s %s\n\n" % (eblob, entry))
PY
git --git-dir="$R" fast-import --quiet <"$T/fi"
BIG=$(tip "$R")
eq "paths of the commit" "$(git --git-dir="$R" diff --name-only "$A" "$BIG" | wc -l)" 10002

check "the long poll of projects/acme/ser (a prefix, not a folder) gets it, with the channel's path"
wait "$POLL" || fail "the long poll failed"
jq -e --arg b "$BIG" --arg p "$ENTRY" '.metaCommit == $b and (.events | length) == 1 and .events[0].commit == $b and
	.events[0].paths == [$p] and .events[0].records[$p].release == "'"$C1"'"' "$T/poll.json" >/dev/null ||
	fail "the event of the prefix: $(head -c 600 "$T/poll.json")"
curl -sS "$U/v1/watch?since=$A&prefix=projects/acme/server/&wait=1s" >"$T/poll2.json"
jq -e --arg p "$ENTRY" '(.events | length) == 1 and .events[0].paths == [$p]' "$T/poll2.json" >/dev/null ||
	fail "from the ring: $(head -c 600 "$T/poll2.json")"

check "the webhook of projects/acme/server/ gets it too"
i=0
until python3 "$CHK" "$T/rcv.jsonl" "$T/secret" 2>/dev/null | jq -e --arg b "$BIG" 'map(select(.commit == $b)) | length == 1' >/dev/null; do
	i=$((i + 1))
	[ $i -le 200 ] || fail "no delivery of $BIG: $(grep -v level=info "$T/s1.log" | tail -5)"
	sleep 0.1
done
python3 "$CHK" "$T/rcv.jsonl" "$T/secret" | jq -e --arg b "$BIG" --arg p "$ENTRY" \
	'map(select(.commit == $b))[0] | .paths == [$p] and .sigok' >/dev/null ||
	fail "the delivery: $(python3 "$CHK" "$T/rcv.jsonl" "$T/secret" | head -c 600)"
serve_stop s1
echo PASS
