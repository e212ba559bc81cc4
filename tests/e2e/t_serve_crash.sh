#!/bin/sh
# serve under 64 concurrent writing clients, killed with SIGKILL at random moments
# (SERVE_CRASH_TRIALS, default 20; `make soak` runs more): after each kill every write that
# was acknowledged is in the repo at the seq it was answered with, no channel seq is
# duplicated or skipped, and `git fsck --strict` is clean. The clients' recorded histories
# are checked against the repo, not just counted.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

TRIALS=${SERVE_CRASH_TRIALS:-20}
R=$T/meta.git
C1=1111111111111111111111111111111111111111
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" >/dev/null
: >"$T/acked"
total=0
trial=1
while [ $trial -le "$TRIALS" ]; do
	serve_start s "$R" --open-writes
	U=$(serve_url s)
	python3 "$BM_SRCDIR/tests/e2e/serve_load.py" "$U" 5 64 4 "$C1" "$T/acked" 2>>"$T/load.err" &
	lpid=$!
	# a random moment up to 1.2 s after the first acknowledged write of this trial
	i=0
	while [ "$(wc -l <"$T/acked")" -le "$total" ] && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep "$(awk -v s="$trial$$" 'BEGIN { srand(s); printf "%.2f", rand() * 1.2 }')"
	serve_kill s
	wait $lpid
	total=$(wc -l <"$T/acked")
	trial=$((trial + 1))
done
n=$(wc -l <"$T/acked")
check "$TRIALS kills, $n acknowledged writes: every one is in the repo at its seq"
[ "$n" -gt 0 ] || fail "no write was acknowledged"
grep -q . "$T/load.err" && { head -5 "$T/load.err" >&2; fail "the clients saw unexpected answers"; }
git --git-dir="$R" fsck --strict >/dev/null 2>"$T/fsck" || { cat "$T/fsck" >&2; fail "git fsck --strict"; }
for k in 0 1 2 3; do
	"$BM" --repo "$R" --json channel history acme/server "load-$k" >"$T/h$k.json" 2>/dev/null || echo '[]' >"$T/h$k.json"
	# the history's seqs run 1..N with none twice
	jq -r '.[].seq' "$T/h$k.json" | sort -n >"$T/seqs"
	cnt=$(wc -l <"$T/seqs")
	[ "$cnt" = 0 ] || seq 1 "$cnt" | cmp -s - "$T/seqs" || fail "load-$k: seqs are not 1..$cnt: $(tr '\n' ' ' <"$T/seqs" | head -c 300)"
	jq -r '.[] | "\(.seq) \(.reason)"' "$T/h$k.json" | sort >"$T/repo$k"
	grep "^load-$k " "$T/acked" | awk '{ print $2, $3 }' | sort >"$T/ack$k"
	missing=$(comm -23 "$T/ack$k" "$T/repo$k" | head -3)
	[ -z "$missing" ] || fail "load-$k: acknowledged but not in the repo at that seq: $missing"
	echo "  load-$k: $cnt entries, $(wc -l <"$T/ack$k") acknowledged"
done
# an acknowledged commit is in main's history
awk '{ print $4 }' "$T/acked" | sort -u | head -50 | while read -r c; do
	git --git-dir="$R" merge-base --is-ancestor "$c" main || fail "acknowledged commit $c is not in main's history"
done
echo "PASS"
