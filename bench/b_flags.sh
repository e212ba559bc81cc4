#!/bin/sh
# Feature-flag evaluation: bootmeta in-process (bench_flags, release build) against
# OpenFeature's flagd-core under node, on the same exported flags, keys and mix
# (10 flags x 5 channels x 10,000 keys), in the same run. Prints both and the ratio.
set -eu
: "${BM_BUILDDIR:?}" "${BM_SRCDIR:?}"
mods=$(sh "$BM_SRCDIR/tests/e2e/flagd_core_install.sh" "$BM_BUILDDIR")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
"$BM_BUILDDIR/bench_flags" --dump "$work" --keys 10000 >/dev/null
bm=$("$BM_BUILDDIR/bench_flags" --bench --keys 10000 --evals "${BM_FLAG_EVALS:-20000000}")
fd=$(NODE_PATH="$mods" node "$BM_SRCDIR/bench/flagd_bench.js" "$work" "${BM_FLAGD_EVALS:-1000000}")
echo "$bm"
echo "$fd"
ratio() {
	a=$(echo "$bm" | awk -v k="$1" '$1 == k {print $2}')
	b=$(echo "$fd" | awk -v k="$2" '$1 == k {print $2}')
	awk -v a="$a" -v b="$b" -v what="$3" 'BEGIN { printf "ratio bootmeta/flagd-core %s: %.1fx (target >= 2x)\n", what, a / b }'
}
ratio bootmeta flagd-core "mix of 10 flags x 5 channels"
ratio bootmeta-rollout flagd-core-rollout "50/50 rollout, every eval hashes"
