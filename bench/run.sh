#!/bin/sh
# Run every benchmark script bench/b_*.sh against the release build in $1. Each prints its
# figures next to a peer measured in the same run, as ratios.
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export BM_BUILDDIR="$build" BOOTMETA="$build/bootmeta" BM_SRCDIR="$(dirname "$here")"
found=0
for b in "$here"/b_*.sh; do
	[ -f "$b" ] || continue
	found=1
	echo "== $(basename "$b" .sh)"
	sh "$b"
done
[ "$found" = 1 ] || echo "bench: no benchmarks"
