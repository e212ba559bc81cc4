#!/bin/sh
# Signature verification: `bootmeta key verify` vs `minisign -V` per process (same file,
# same signature, same run), and in-process verifications/s (bench_sign). Env: BOOTMETA,
# BM_BUILDDIR (release build), BM_SRCDIR; BENCH_N processes each (default 200).
set -eu
: "${BOOTMETA:?}" "${BM_BUILDDIR:?}"
command -v minisign >/dev/null || { echo "b_sign: minisign not installed; skipped"; exit 0; }
n=${BENCH_N:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
head -c 1048576 /dev/urandom > app.bin
"$BOOTMETA" -q key gen --sign -o k --no-password >/dev/null
"$BOOTMETA" key sign app.bin -k k.key
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

t0=$(now); i=0
while [ $i -lt "$n" ]; do "$BOOTMETA" key verify app.bin -p k.pub -q; i=$((i + 1)); done
t1=$(now); i=0
while [ $i -lt "$n" ]; do minisign -V -q -m app.bin -p k.pub; i=$((i + 1)); done
t2=$(now)
ours=$(rate "$n" "$t0" "$t1"); peer=$(rate "$n" "$t1" "$t2")
echo "per process, 1 MiB file, $n runs each:"
echo "  bootmeta key verify: $ours verifications/s"
echo "  minisign -V:         $peer verifications/s"
awk -v a="$ours" -v b="$peer" 'BEGIN { printf "  ratio bootmeta/minisign: %.2f\n", a / b }'
BM_SRCDIR=${BM_SRCDIR:-.} "$BM_BUILDDIR/bench_sign" 1024 1
BM_SRCDIR=${BM_SRCDIR:-.} "$BM_BUILDDIR/bench_sign" 1048576 1
