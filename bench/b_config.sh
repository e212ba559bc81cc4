#!/bin/sh
# config resolve: in-process (bench_config: 3 layers, 500 keys; target < 1 ms) and as a whole
# `bootmeta config resolve` process next to `git cat-file -p` of one record of the same repo,
# in the same run.
set -eu
: "${BM_BUILDDIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
"$BM_BUILDDIR/bench_config" --repo "$work/meta" --keys 500 --iters "${BM_CONFIG_ITERS:-2000}"
n=${BM_CONFIG_PROCS:-200}
rec=envs/base/team/alice/config/bench/server/+keys/KEY_0000/0000000001.pb
per_ms() { awk -v s="$1" -v e="$2" -v n="$n" 'BEGIN { printf "%.2f", (e - s) * 1000 / n }'; }
t0=$(date +%s.%N)
i=0
while [ $i -lt "$n" ]; do
	"$BM_BUILDDIR/bootmeta" --repo "$work/meta" config resolve bench/server base/team/alice --format env >/dev/null
	i=$((i + 1))
done
t1=$(date +%s.%N)
i=0
while [ $i -lt "$n" ]; do
	git --git-dir="$work/meta" cat-file -p "main:$rec" >/dev/null
	i=$((i + 1))
done
t2=$(date +%s.%N)
a=$(per_ms "$t0" "$t1")
b=$(per_ms "$t1" "$t2")
echo "process: bootmeta config resolve (500 keys, 3 layers) ${a} ms"
echo "process: git cat-file -p main:<one record> ${b} ms"
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio resolve-process / cat-file-process: %.2fx\n", a / b }'
# dependents on a repo with 10,000 releases (target < 10 ms in-process)
"$BM_BUILDDIR/bench_dependents" --repo "$work/deps" --iters "${BM_DEPS_ITERS:-100}"
