#!/bin/sh
# Crash safety: writers killed with SIGKILL at random points. Afterwards the repo opens,
# reads and git fsck --strict is clean, and every write a writer acknowledged (exit 0
# before the kill) is present; channel numbers stay gapless.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
"$BM" --quiet --repo "$R" project add app/server >/dev/null
"$BM" --quiet --repo "$R" release add app/server --source "file://$T/app@$C1" --id base >/dev/null

rand_ms() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
: >"$T/acked-releases"
: >"$T/acked-promotions"
kills=0
i=1
check "30 writers, each killed with SIGKILL after a random few ms"
while [ "$i" -le 30 ]; do
	if [ $((i % 2)) = 0 ]; then
		"$BM" --quiet --repo "$R" release add app/server --source "file://$T/app@$C1" --id "crash-$i" >/dev/null 2>&1 &
		kind=release
	else
		"$BM" --quiet --repo "$R" channel promote app/server stable base >/dev/null 2>&1 &
		kind=promotion
	fi
	pid=$!
	# 0..~600 ms: before, during and after the commit of an ASan build under load
	ms=$(( $(rand_ms) % 600 ))
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) || true
	set +e
	wait "$pid"
	rc=$?
	set -e
	if [ "$rc" = 0 ]; then
		[ "$kind" = release ] && echo "crash-$i" >>"$T/acked-releases" || echo "$i" >>"$T/acked-promotions"
	fi
	i=$((i + 1))
done
echo "  $kills writers killed; $(wc -l <"$T/acked-releases") releases and $(wc -l <"$T/acked-promotions") promotions acknowledged"

check "the repo opens, reads and git fsck --strict is clean"
git --git-dir="$R" fsck --strict --no-progress
"$BM" --repo "$R" release list app/server >"$T/rels"
"$BM" --repo "$R" ls -r >/dev/null

check "every acknowledged write is present"
while read -r id; do
	grep -q "^$id " "$T/rels" || fail "acknowledged release $id is missing"
done <"$T/acked-releases"
"$BM" --repo "$R" channel history app/server stable >"$T/hist" 2>/dev/null || true
n=$(awk 'NR > 1' "$T/hist" | wc -l)
[ "$n" -ge "$(wc -l <"$T/acked-promotions")" ] || fail "$n promotions present, fewer than acknowledged"
awk 'NR > 1 { print $1 }' "$T/hist" | sort -n >"$T/seqs"
if [ "$n" -gt 0 ]; then
	seq 1 "$n" | cmp -s - "$T/seqs" || fail "channel numbers have gaps or duplicates after crashes"
fi

check "writes work again after the crashes (no stale lock blocks them)"
"$BM" --quiet --repo "$R" release add app/server --source "file://$T/app@$C1" --id after >/dev/null
"$BM" --quiet --repo "$R" channel promote app/server stable after >/dev/null
"$BM" --repo "$R" channel get app/server stable | grep -q "release   after" || fail "promotion after the crashes"
git --git-dir="$R" fsck --strict --no-progress
echo "t_crash: ok"
