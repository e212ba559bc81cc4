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
# the same flags as `flag export --pretty` writes them (indented): flagd-core reads that file
# too, to the same answers (fewer keys: it is the file that is under test here)
mkdir "$work/pretty"
"$BM_BUILDDIR/bench_flags" --dump "$work/pretty" --keys 500 --pretty
[ "$(wc -l < "$work/pretty/flags.json")" -gt 100 ] || { echo "FAIL: the --pretty export is not indented" >&2; exit 1; }
[ "$(tail -c 2 "$work/pretty/flags.json" | od -An -c | tr -d ' ')" = '}\n' ] ||
	{ echo "FAIL: the --pretty export does not end with one newline" >&2; exit 1; }
NODE_PATH="$mods" node "$BM_SRCDIR/tests/e2e/flagd_compat.js" "$work/pretty"
