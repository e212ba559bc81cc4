#!/bin/sh
# Run every libFuzzer target in build folder $1 for $2 seconds each, seeded from tests/fuzz/corpus/<target>.
set -eu
build=$1
secs=$2
src=$(cd "$(dirname "$0")/.." && pwd)
found=0
n=0
for f in "$build"/fuzz_*; do
	[ -x "$f" ] || continue
	found=1
	n=$((n + 1))
	name=$(basename "$f")
	work=$(mktemp -d)
	seeds="$src/tests/fuzz/corpus/$name"
	echo "fuzz: $name for ${secs}s"
	if [ -d "$seeds" ]; then
		"$f" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 "$work" "$seeds" >"$work.log" 2>&1 || { tail -50 "$work.log"; exit 1; }
	else
		"$f" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 "$work" >"$work.log" 2>&1 || { tail -50 "$work.log"; exit 1; }
	fi
	grep -E '^(#[0-9]+ *DONE|Done)' "$work.log" | tail -1 || true
	rm -rf "$work" "$work.log"
done
[ "$found" = 1 ] || { echo "fuzz: no targets built" >&2; exit 1; }
# make check's verdict line counts the targets run
[ -z "${FUZZ_REPORT:-}" ] || echo "$n" >"$FUZZ_REPORT"
