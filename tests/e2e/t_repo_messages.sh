#!/bin/sh
# Messages that point the right way: main pointing at a missing object says that (not "no
# main branch"); a repo another user owns says so and names the safe.directory command,
# also with safe.directory=* (which this libgit2 ignores), never a bare "libgit2 error".
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta.git
"$BM" init "$R" >/dev/null
"$BM" --quiet --repo "$R" project add app/server >/dev/null

check "main points at a commit whose object is gone"
M=$T/missing.git
cp -r "$R" "$M"
h=$(tip "$M")
rm -f "$M/objects/$(echo "$h" | cut -c1-2)/$(echo "$h" | cut -c3-)"
# bootmeta writes each commit's objects as one pack: that pack goes with the commit
for idx in "$M"/objects/pack/pack-*.idx; do
	[ -f "$idx" ] || continue
	if git show-index <"$idx" | awk '{print $2}' | grep -qx "$h"; then rm -f "$idx" "${idx%.idx}.pack"; fi
done
expect_fail 1 "main points at commit $(echo "$h" | cut -c1-12), which is missing" "$BM" --repo "$M" ls
grep -q "no main branch" "$T/err" && fail "a missing object is reported as a missing branch"
expect_fail 1 "which is missing" "$BM" --repo "$M" project add other
check "a repo with no main branch still says that"
git init -q --bare "$T/plain.git"
expect_fail 1 "no main branch" "$BM" --repo "$T/plain.git" ls

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the owner checks need root (to chown a repo to another user)"
	exit 77
fi
check "a repo owned by another user: says so and what to do"
O=$T/theirs.git
cp -r "$R" "$O"
chown -R 4321:4321 "$O"
expect_fail 1 "is owned by another user (uid 4321), not by you (uid 0)" "$BM" --repo "$O" ls
grep -qF "git config --global --add safe.directory $O" "$T/err" || fail "no safe.directory hint: $(cat "$T/err")"
(cd "$O/refs" && expect_fail 1 "is owned by" "$BM" ls)
check "with safe.directory=* (ignored by libgit2 1.5): the same clear message, no bare libgit2 error"
git config --global --add safe.directory '*'
set +e
"$BM" --repo "$O" ls >"$T/out" 2>"$T/err"
rc=$?
set -e
if [ "$rc" != 0 ]; then
	grep -q "is owned by" "$T/err" || fail "safe.directory=*: $(cat "$T/err")"
	grep -q "libgit2 error" "$T/err" && fail "a bare libgit2 error"
	echo "  ok: $(cat "$T/err")"
else
	echo "  ok: this libgit2 honours safe.directory=*"
fi
check "the command it suggests works"
git config --global --add safe.directory "$O"
"$BM" --repo "$O" ls >/dev/null
git config --global --unset-all safe.directory

check "run as another user on root's repo"
chmod 755 "$T"
mkdir -m 777 "$T/nobody-home"
set +e
HOME=$T/nobody-home setpriv --reuid=65534 --regid=65534 --clear-groups "$BM" --repo "$R" ls >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit $rc: $(cat "$T/err")"
grep -q "is owned by root (uid 0), not by you (uid 65534)" "$T/err" || fail "as uid 65534: $(cat "$T/err")"
echo "  ok: $(cat "$T/err")"
echo "t_repo_messages: ok"
