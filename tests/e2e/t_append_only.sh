#!/bin/sh
# Append-only: no command ever modifies or deletes a record file. Every commit of a repo
# written by every core write (and refused rewrites) is checked with git diff-tree: only A.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
C2=$(src_repo "$T/lib")
check "a history made by every kind of write"
bm project add app/server --source "file://$T/app" >/dev/null
bm project add app/cli >/dev/null
bm release add app/server --source "file://$T/app@$C1" --source "file://$T/lib@$C2" >/dev/null
bm release add app/server --source-dir "$T/app" --source-dir "$T/lib" --id v2 --version 2.0 >/dev/null
bm release add app/cli --source "file://$T/app@$C1" >/dev/null
echo a >"$T/a.bin"
echo b >"$T/b.bin"
bm binary add app/server "$C1" "$T/a.bin" --os linux --arch amd64 >/dev/null
bm binary add app/cli "$C1" "$T/b.bin" --os linux --arch arm64 --url s3://b/cli >/dev/null
for r in "$C1" v2 "$C1" v2; do bm channel promote app/server stable "$r" --reason "r $r" >/dev/null; done
bm channel promote app/server beta v2 >/dev/null
# refused rewrites must not show up as commits at all
bm project add app/server >/dev/null 2>&1 && fail "a project was added twice"
bm release add app/server --source "file://$T/app@$C1" >/dev/null 2>&1 && fail "a release was rewritten"
bm binary add app/server v2 "$T/a.bin" --os linux --arch amd64 >/dev/null 2>&1 && fail "a binary was rewritten"
# and a write through a clone
"$BM" --quiet clone "$R" "$T/clone" >/dev/null
"$BM" --quiet --repo "$T/clone" channel promote app/cli stable "$C1" >/dev/null

check "every commit of main only adds files"
n=0
for c in $(git --git-dir="$R" rev-list main); do
	git --git-dir="$R" diff-tree -r --root --no-commit-id --name-status "$c" >"$T/st"
	[ -s "$T/st" ] || fail "commit $c changes nothing"
	if grep -v '^A	' "$T/st"; then
		fail "commit $c modifies or deletes a file (above)"
	fi
	n=$((n + 1))
done
[ "$n" = 14 ] || fail "expected 14 commits (init + 13 writes), found $n"
echo "  ok: $n commits, every change an A"

check "git log -p --name-status agrees: no M, D, R or C anywhere"
if git --git-dir="$R" log -p --name-status --format= main | grep -E '^[MDRCTU][0-9]*	'; then
	fail "git log shows a non-add change"
fi
echo "t_append_only: ok"
