#!/bin/sh
# b_age.sh: age encryption and decryption throughput of a 100 MiB file (BM_AGE_MIB to
# change), bootmeta (release build) next to the age program in the same run. Each figure is
# the best of BM_AGE_RUNS runs (default 2), file to file on the same disk: through stdout
# for both, and once with -o, where bootmeta also fsyncs before its rename.
set -eu
: "${BOOTMETA:?set BOOTMETA to a release bootmeta}"
command -v age >/dev/null 2>&1 || { echo "b_age: SKIP (the age program is not installed)"; exit 0; }
mib=${BM_AGE_MIB:-100}
runs=${BM_AGE_RUNS:-2}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/b_age.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
umask 077
head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/plain"
"$BOOTMETA" age keygen -o "$tmp/key" 2>/dev/null
rcpt=$(sed -n 's/^# public key: //p' "$tmp/key")

now() { date +%s.%N; }
# best wall time of $runs runs of the command in "$@"
best() {
	b=
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now)
		"$@"
		t1=$(now)
		b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { d = z - a; if (b == "" || d < b) print d; else print b }')
		i=$((i + 1))
	done
	echo "$b"
}

# stdout redirected to a file for both: the same I/O (no fsync) on each side
enc_bm=$(best sh -c '"$1" age encrypt -r "$2" "$3" >"$4"' - "$BOOTMETA" "$rcpt" "$tmp/plain" "$tmp/bm.age")
enc_age=$(best sh -c 'age -r "$1" "$2" >"$3"' - "$rcpt" "$tmp/plain" "$tmp/age.age")
# each decrypts the other's file, which also checks interoperability
dec_bm=$(best sh -c '"$1" age decrypt -i "$2" "$3" >"$4"' - "$BOOTMETA" "$tmp/key" "$tmp/age.age" "$tmp/out.bm")
dec_age=$(best sh -c 'age -d -i "$1" "$2" >"$3"' - "$tmp/key" "$tmp/bm.age" "$tmp/out.age")
cmp -s "$tmp/plain" "$tmp/out.bm" || { echo "b_age: bootmeta decrypted age's file wrongly"; exit 1; }
cmp -s "$tmp/plain" "$tmp/out.age" || { echo "b_age: age decrypted bootmeta's file wrongly"; exit 1; }
rm -f "$tmp/out.bm" "$tmp/out.age"
enc_bma=$(best sh -c '"$1" age encrypt -a -r "$2" "$3" >"$4"' - "$BOOTMETA" "$rcpt" "$tmp/plain" "$tmp/bm.asc")
enc_agea=$(best sh -c 'age -a -r "$1" "$2" >"$3"' - "$rcpt" "$tmp/plain" "$tmp/age.asc")
dec_bma=$(best sh -c '"$1" age decrypt -i "$2" "$3" >"$4"' - "$BOOTMETA" "$tmp/key" "$tmp/age.asc" "$tmp/out.bm")
dec_agea=$(best sh -c 'age -d -i "$1" "$2" >"$3"' - "$tmp/key" "$tmp/bm.asc" "$tmp/out.age")
rm -f "$tmp/out.bm" "$tmp/out.age"
# -o: bootmeta's atomic output (temp file, fsync, rename) against age -o (neither)
dec_bmo=$(best "$BOOTMETA" age decrypt -i "$tmp/key" -o "$tmp/out.bm" "$tmp/age.age")
dec_ageo=$(best age -d -i "$tmp/key" -o "$tmp/out.age" "$tmp/bm.age")

awk -v mib="$mib" -v runs="$runs" \
	-v eb="$enc_bm" -v ea="$enc_age" -v db="$dec_bm" -v da="$dec_age" \
	-v ebA="$enc_bma" -v eaA="$enc_agea" -v dbA="$dec_bma" -v daA="$dec_agea" \
	-v dbo="$dec_bmo" -v dao="$dec_ageo" 'BEGIN {
	printf "age, %d MiB file to file, best of %d (MiB/s; ratio > 1: bootmeta faster)\n", mib, runs
	printf "  %-18s %10s %10s %8s\n", "operation", "bootmeta", "age", "ratio"
	printf "  %-18s %10.0f %10.0f %8.2f\n", "encrypt", mib / eb, mib / ea, ea / eb
	printf "  %-18s %10.0f %10.0f %8.2f\n", "decrypt", mib / db, mib / da, da / db
	printf "  %-18s %10.0f %10.0f %8.2f\n", "encrypt --armor", mib / ebA, mib / eaA, eaA / ebA
	printf "  %-18s %10.0f %10.0f %8.2f\n", "decrypt armored", mib / dbA, mib / daA, daA / dbA
	printf "  %-18s %10.0f %10.0f %8.2f   (bootmeta: temp file + fsync + rename)\n", "decrypt -o OUT", mib / dbo, mib / dao, dao / dbo
}'
