#!/bin/sh
# A write that also goes to a remote says so: one stderr line "pushed to origin (URL)" (with
# --json a "pushedTo" field, and {"pushedTo":URL} on stderr), also for a meta repo made
# with `git clone --bare` of another; a primary copy's writes say nothing of the kind; init
# and clone say which of the two they made.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/primary.git
check "init says it made a primary copy"
"$BM" init "$R" >"$T/out"
grep -q "primary copy: no remote" "$T/out" || fail "init output: $(cat "$T/out")"
"$BM" --json init "$T/other.git" | grep -q '"remote":null' || fail "init --json has no remote: null"
"$BM" init --help | grep -q "primary copy" || fail "init --help does not say what it makes"
"$BM" clone --help | grep -q "pushed to URL" || fail "clone --help does not say writes are pushed"

check "a write on the primary copy says nothing about pushing"
"$BM" --repo "$R" project add app/a >/dev/null 2>"$T/err"
grep -q "pushed" "$T/err" && fail "a local write claims a push: $(cat "$T/err")"

check "clone says every write is pushed to the remote first"
"$BM" clone "$R" "$T/c.git" >"$T/out" 2>/dev/null
grep -q "is pushed to $R first" "$T/out" || fail "clone output: $(cat "$T/out")"
"$BM" --repo "$T/c.git" project add app/b >/dev/null 2>"$T/err"
grep -qx "bootmeta: pushed to origin ($R)" "$T/err" || fail "no push notice: $(cat "$T/err")"

check "a git clone --bare of a meta repo: its writes go to origin, and bootmeta says so"
git clone -q --bare "$R" "$T/g.git"
"$BM" --repo "$T/g.git" project add app/c >/dev/null 2>"$T/err"
grep -qx "bootmeta: pushed to origin ($R)" "$T/err" || fail "no push notice for a git clone --bare: $(cat "$T/err")"
"$BM" --repo "$R" project list | grep -q "app/c" || fail "the write did not reach origin"

check "--json: a pushedTo field in the written record, and a JSON notice on stderr"
"$BM" --json --repo "$T/c.git" project add app/d >"$T/out" 2>"$T/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pushedTo"]==sys.argv[2], d' "$T/out" "$R" ||
	fail "no pushedTo in $(cat "$T/out")"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); assert d=={"pushedTo":sys.argv[2]}, d' "$T/err" "$R" ||
	fail "stderr is not the JSON notice: $(cat "$T/err")"

check "--quiet: no notice"
"$BM" --quiet --repo "$T/c.git" project add app/e >/dev/null 2>"$T/err"
[ ! -s "$T/err" ] || fail "--quiet printed: $(cat "$T/err")"
echo "t_push_notice: ok"
