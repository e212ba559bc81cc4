#!/bin/sh
# Cross-check bootmeta's flag evaluation against OpenFeature's own evaluator: bench_flags
# exports the test set of flags as a flagd file and writes bootmeta's answer for every
# flag x channel x targeting key (10,000 keys); flagd-core (npm) evaluates the same file
# and every value, variant and reason must agree.
set -eu
: "${BM_BUILDDIR:?}" "${BM_SRCDIR:?}"
mods=$(sh "$BM_SRCDIR/tests/e2e/flagd_core_install.sh" "$BM_BUILDDIR")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
"$BM_BUILDDIR/bench_flags" --dump "$work" --keys 10000
NODE_PATH="$mods" node "$BM_SRCDIR/tests/e2e/flagd_compat.js" "$work"
