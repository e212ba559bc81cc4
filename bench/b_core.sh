#!/bin/sh
# The core store's speed, each figure next to a git peer measured in the same run:
#  (a) durable single-record writes/s through the library vs the git plumbing loop
#      (hash-object, update-index, write-tree, commit-tree, update-ref; core.fsync=all)
#  (b) channel get in-process at 1,000 and 100,000 records (target < 50 us), the write
#      cost at both sizes, the whole `bootmeta channel get` process (target < 5 ms) vs
#      `git cat-file -p main:<path>`, and the repo size per record before and after git gc.
set -eu
: "${BM_BUILDDIR:?}" "${BOOTMETA:?}"
B=$BM_BUILDDIR/bench_core
N=${BM_BENCH_WRITES:-300}
BIG=${BM_BENCH_RECORDS:-100000}
T=$(mktemp -d /tmp/bm-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
export BOOTMETA_ACTOR="bench <bench@example.com>" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
ms_now() { date +%s%N | cut -c1-13; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

echo "-- (a) durable single-record writes, $N each, same disk ($(df -PT "$T" | awk 'NR==2 { print $2 }'))"
"$B" writes "$T/lib.git" "$N" >"$T/w"
lib=$(awk '{ print $6 }' "$T/w")
git init -q --bare "$T/git.git"
git --git-dir="$T/git.git" config core.fsync all
git --git-dir="$T/git.git" config core.fsyncMethod fsync
export GIT_DIR="$T/git.git" GIT_INDEX_FILE="$T/git.idx"
i=0
t0=$(ms_now)
parent=""
while [ "$i" -lt "$N" ]; do
	printf 'record %d\n' "$i" >"$T/rec"
	blob=$(git hash-object -w "$T/rec")
	git update-index --add --cacheinfo "100644,$blob,projects/org/p01/releases/w$i.pb"
	tree=$(git write-tree)
	if [ -n "$parent" ]; then
		commit=$(echo "w$i" | git commit-tree "$tree" -p "$parent")
		git update-ref refs/heads/main "$commit" "$parent"
	else
		commit=$(echo "w$i" | git commit-tree "$tree")
		git update-ref refs/heads/main "$commit"
	fi
	parent=$commit
	i=$((i + 1))
done
t1=$(ms_now)
unset GIT_DIR GIT_INDEX_FILE
peer=$(awk -v n="$N" -v ms="$((t1 - t0))" 'BEGIN { printf "%.1f", n * 1000 / ms }')
echo "bootmeta release add (library, one commit + sync each): $lib writes/s"
echo "git plumbing loop (core.fsync=all, fsyncMethod=fsync):  $peer writes/s"
echo "ratio: $(ratio "$lib" "$peer")x (target >= 10x)"

echo "-- (b) reads and writes as the repo grows"
"$B" grow "$T/big.git" 1000 >"$T/g1"
"$B" grow "$T/big.git" "$BIG" >"$T/g2"
for f in g1 g2; do
	awk '{ printf "%7d records: channel get in-process %.2f us (fresh view each call; %.2f us on one view); durable write %.2f ms\n", $2, $4, $6, $8 }' "$T/$f"
done
echo "(target: channel get < 50 us at 100,000 records; writes near flat)"
last=$(awk '{ print $10 }' "$T/g2")

R=200
t0=$(ms_now)
i=0
while [ "$i" -lt "$R" ]; do "$BOOTMETA" --repo "$T/big.git" channel get org/p00 stable >/dev/null; i=$((i + 1)); done
t1=$(ms_now)
i=0
while [ "$i" -lt "$R" ]; do git --git-dir="$T/big.git" cat-file -p "main:$last" >/dev/null; i=$((i + 1)); done
t2=$(ms_now)
bmms=$(awk -v ms="$((t1 - t0))" -v n="$R" 'BEGIN { printf "%.2f", ms / n }')
gitms=$(awk -v ms="$((t2 - t1))" -v n="$R" 'BEGIN { printf "%.2f", ms / n }')
echo "process: bootmeta channel get $bmms ms mean over $R runs (target < 5 ms); git cat-file -p $gitms ms; ratio $(ratio "$bmms" "$gitms")x of git"

records=$(awk '{ print $2 }' "$T/g2")
before=$(du -sk "$T/big.git/objects" | cut -f1)
git --git-dir="$T/big.git" gc -q
after=$(du -sk "$T/big.git/objects" | cut -f1)
echo "size: $records records: $before KiB before git gc ($(awk -v k="$before" -v n="$records" 'BEGIN { printf "%.0f", k * 1024 / n }') B/record), $after KiB after ($(awk -v k="$after" -v n="$records" 'BEGIN { printf "%.0f", k * 1024 / n }') B/record)"
