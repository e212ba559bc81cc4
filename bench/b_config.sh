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
loop() { # the time per run of a command, in ms
	t0=$(date +%s.%N)
	i=0
	while [ $i -lt "$n" ]; do "$@" >/dev/null; i=$((i + 1)); done
	per_ms "$t0" "$(date +%s.%N)"
}
for state in loose packed; do
	[ $state = packed ] && git --git-dir="$work/meta" gc -q
	v=$(loop "$BM_BUILDDIR/bootmeta" --version)
	a=$(loop "$BM_BUILDDIR/bootmeta" --repo "$work/meta" config resolve bench/server base/team/alice --format env)
	b=$(loop git --git-dir="$work/meta" cat-file -p "main:$rec")
	echo "process ($state objects): bootmeta config resolve (500 keys, 3 layers) ${a} ms; git cat-file -p main:<one record> ${b} ms; bootmeta --version ${v} ms"
	awk -v a="$a" -v b="$b" -v s="$state" 'BEGIN { printf "ratio resolve-process / cat-file-process (%s): %.2fx\n", s, a / b }'
done
# dependents on a repo with 10,000 releases (target < 10 ms in-process)
"$BM_BUILDDIR/bench_dependents" --repo "$work/deps" --iters "${BM_DEPS_ITERS:-100}"
