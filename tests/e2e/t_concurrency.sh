#!/bin/sh
# Nothing lost under concurrency: 8 processes write at once into one repo (releases,
# binaries, promotions mixed), then 4 clones of a shared bare remote write at once. Every
# write succeeds and is present, channel sequence numbers have no gaps or duplicates, and
# git fsck --strict is clean.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
"$BM" --quiet --repo "$R" project add app/server >/dev/null
"$BM" --quiet --repo "$R" release add app/server --source "file://$T/app@$C1" >/dev/null

# writer REPO TAG ROUNDS: each round adds a release, a binary of it, and promotes it
writer() {
	repo=$1 tag=$2 rounds=$3 k=1
	while [ "$k" -le "$rounds" ]; do
		id="r-$tag-$k"
		"$BM" --quiet --repo "$repo" release add app/server --source "file://$T/app@$C1" --id "$id" >/dev/null || return 1
		echo "$id" >"$T/bin-$id"
		"$BM" --quiet --repo "$repo" binary add app/server "$id" "$T/bin-$id" --os linux --arch amd64 >/dev/null || return 1
		"$BM" --quiet --repo "$repo" channel promote app/server stable "$id" >/dev/null || return 1
		echo "$id" >>"$T/done-$tag"
		k=$((k + 1))
	done
}

# verify REPO WRITERS ROUNDS BASE: every write present, seqs 1..N, fsck clean
verify() {
	repo=$1 nw=$2 rounds=$3 base=$4
	want=$((nw * rounds))
	"$BM" --repo "$repo" release list app/server >"$T/rels"
	got=$(grep -c '^r-' "$T/rels" || true)
	[ "$got" = "$((want + base))" ] || fail "$got releases r-*, want $((want + base))"
	"$BM" --repo "$repo" ls -r binaries >"$T/bins"
	for f in "$T"/done-*; do
		while read -r id; do
			grep -q "^$id " "$T/rels" || fail "release $id acknowledged but missing"
			sha=$(sha256sum "$T/bin-$id" | cut -c1-64)
			grep -q "/$sha.pb\$" "$T/bins" || fail "binary of $id missing"
		done <"$f"
	done
	"$BM" --repo "$repo" channel history app/server stable | awk 'NR > 1 { print $1 }' | sort -n >"$T/seqs"
	seq 1 "$((want + base))" >"$T/want-seqs"
	cmp -s "$T/seqs" "$T/want-seqs" || { diff "$T/want-seqs" "$T/seqs" | head; fail "channel sequence numbers have gaps or duplicates"; }
	git --git-dir="$repo" fsck --strict --no-progress
	echo "  ok: $want releases, $want binaries, $((want + base)) promotions numbered 1..$((want + base)), fsck clean"
}

t0=$(date +%s)
check "8 processes writing at once into one repo"
pids=""
for w in 1 2 3 4 5 6 7 8; do
	writer "$R" "p$w" 2 &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a writer failed"; done
verify "$R" 8 2 0
echo "  ($(( $(date +%s) - t0 )) s)"
t0=$(date +%s)
rm -f "$T"/done-*

check "4 clones of a shared bare remote writing at once (push with compare-and-swap)"
git clone -q --bare "$R" "$T/remote.git"
for c in 1 2 3 4; do "$BM" --quiet clone "$T/remote.git" "$T/clone$c" >/dev/null; done
pids=""
for c in 1 2 3 4; do
	writer "$T/clone$c" "c$c" 2 &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a clone writer failed"; done
verify "$T/remote.git" 4 2 16
"$BM" --quiet --repo "$T/clone1" pull >/dev/null
[ "$(tip "$T/clone1")" = "$(tip "$T/remote.git")" ] || fail "clone1 did not catch up with pull"
echo "  ($(( $(date +%s) - t0 )) s)"
echo "t_concurrency: ok"
