#!/bin/sh
# A command writing a temporary file beside its output removes it when SIGTERM or SIGINT
# ends it: `age encrypt -o` and `age decrypt -o` killed in the middle of a large input leave
# neither the hidden temp file nor OUT.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
cd "$T"
"$BM" age keygen -o id.key 2>pub.txt
recip=$(sed -n 's/^Public key: //p' pub.txt)
[ -n "$recip" ] || fail "age keygen printed no public key"
truncate -s 8G big.in
printf 'small\n' | "$BM" age encrypt -r "$recip" -o small.age
head -c 64M /dev/zero | "$BM" age encrypt -r "$recip" -o big.age

# run_killed SIG CMD...: start CMD with SIG at its default action (a shell's background job
# ignores SIGINT), wait until its temp file has data, send SIG, expect it gone
run_killed() {
	sig=$1
	shift
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@" &
	pid=$!
	n=0
	until [ -n "$(find . -maxdepth 1 -name '.out.bootmeta-*' -size +0 2>/dev/null)" ]; do
		n=$((n + 1))
		[ "$n" -lt 600 ] || { kill -9 "$pid"; fail "no temp file appeared for $*"; }
		kill -0 "$pid" 2>/dev/null || fail "$* ended before it was killed"
		sleep 0.05
	done
	kill -s "$sig" "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	[ "$rc" -gt 128 ] || fail "$* was not ended by SIG$sig (exit $rc)"
	left=$(find . -maxdepth 1 -name '.out.bootmeta-*')
	[ -z "$left" ] || fail "SIG$sig left the temp file $left"
	[ ! -e out ] || fail "SIG$sig left a partial out"
	echo "  ok: SIG$sig ended $1 $2 $3 (exit $rc), no temp file left"
}

check "age encrypt -o killed with SIGTERM / SIGINT mid-write"
run_killed TERM "$BM" age encrypt -r "$recip" -o out big.in
run_killed INT "$BM" age encrypt -r "$recip" -o out big.in
check "age decrypt -o killed with SIGTERM mid-write"
run_killed TERM "$BM" age decrypt -i id.key -o out big.age
check "a finished -o still lands"
"$BM" age decrypt -i id.key -o out small.age
[ "$(cat out)" = small ] || fail "decrypt -o"
echo "t_tmp_signals: ok"
