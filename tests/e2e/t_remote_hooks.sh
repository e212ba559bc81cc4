#!/bin/sh
# The remote's rules hold: a write on a clone of a path (or file://) remote runs the
# remote's receive hooks as git push would; a refusing pre-receive or update hook refuses
# the write, says so with the hook's output, and leaves both mains as they were; an
# accepting hook sees the push and the compare-and-swap still holds.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/primary.git
"$BM" init "$R" >/dev/null
"$BM" --quiet clone "$R" "$T/c1.git" >/dev/null
"$BM" --quiet clone "file://$R" "$T/c2.git" >/dev/null
SRC=$(src_repo "$T/app")
"$BM" --quiet --repo "$T/c1.git" project add app/server >/dev/null
"$BM" --quiet --repo "$T/c2.git" pull >/dev/null
add() { "$BM" --quiet --repo "$1" release add app/server --source "file://$T/app@$SRC" --id "$2"; }

hook() { # hook NAME BODY: an executable hook in the remote
	printf '#!/bin/sh\n%s\n' "$2" >"$R/hooks/$1"
	chmod +x "$R/hooks/$1"
}

for clone in c1 c2; do
	C=$T/$clone.git
	check "$clone: a pre-receive hook that refuses: the write is refused with its output"
	hook pre-receive 'cat >/dev/null; echo "policy: no writes to $(basename $PWD) today" >&2; exit 1'
	before_r=$(tip "$R") before_c=$(tip "$C")
	expect_fail 1 "refused the write" add "$C" "no-$clone"
	grep -q "policy: no writes to primary.git today" "$T/err" || fail "the hook's output is not shown: $(cat "$T/err")"
	grep -q "pre-receive hook declined" "$T/err" || fail "the refusal does not say which hook: $(cat "$T/err")"
	[ "$(tip "$R")" = "$before_r" ] || fail "the remote moved although its hook refused"
	[ "$(tip "$C")" = "$before_c" ] || fail "local main moved although the remote refused"
	"$BM" --repo "$C" release list app/server | grep -q "no-$clone" && fail "the refused release is listed"
	rm "$R/hooks/pre-receive"

	check "$clone: an update hook that refuses refs/heads/main"
	hook update '[ "$1" = refs/heads/main ] && { echo "update: main is frozen" >&2; exit 1; }; exit 0'
	expect_fail 1 "refused the write" add "$C" "no2-$clone"
	grep -q "update: main is frozen" "$T/err" || fail "the update hook's output is not shown"
	[ "$(tip "$R")" = "$before_r" ] || fail "the remote moved although its update hook refused"
	[ "$(tip "$C")" = "$before_c" ] || fail "local main moved although the remote refused"
	rm "$R/hooks/update"
done

check "bootmeta push of a local commit is refused by the hook too"
C=$T/c1.git
"$BM" --quiet --repo "$C" pull >/dev/null
hook pre-receive 'cat >/dev/null; echo "closed" >&2; exit 1'
GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" git --git-dir="$C" update-ref refs/heads/main \
	"$(git --git-dir="$C" commit-tree -p main -m local "$(git --git-dir="$C" rev-parse 'main^{tree}')")"
expect_fail 1 "refused the write" "$BM" --repo "$C" push
[ "$(tip "$R")" != "$(tip "$C")" ] || fail "the refused push landed"
git --git-dir="$C" update-ref refs/heads/main "$(tip "$R")"

check "core.hooksPath in the remote's config is honoured"
rm "$R/hooks/pre-receive"
mkdir "$T/policy"
printf '#!/bin/sh\ncat >/dev/null\necho "from hooksPath" >&2\nexit 1\n' >"$T/policy/pre-receive"
chmod +x "$T/policy/pre-receive"
git --git-dir="$R" config core.hooksPath "$T/policy"
expect_fail 1 "from hooksPath" add "$C" no-hookspath
git --git-dir="$R" config --unset core.hooksPath

check "an accepting hook sees each push; concurrent writers on two clones lose nothing"
hook pre-receive 'while read old new ref; do echo "$old $new $ref" >>"$PWD/pushes.log"; done; exit 0'
hook post-receive 'cat >/dev/null; echo post >>"$PWD/post.log"'
i=1
for i in 1 2 3 4; do
	add "$T/c1.git" "ok1-$i" >/dev/null &
	add "$T/c2.git" "ok2-$i" >/dev/null &
done
wait
"$BM" --repo "$R" release list app/server >"$T/rels"
for i in 1 2 3 4; do
	grep -q "^ok1-$i " "$T/rels" || fail "ok1-$i is missing on the remote"
	grep -q "^ok2-$i " "$T/rels" || fail "ok2-$i is missing on the remote"
done
[ "$(grep -c ' refs/heads/main$' "$R/pushes.log")" -ge 8 ] || fail "the pre-receive hook did not see every push"
[ "$(wc -l <"$R/post.log")" -ge 8 ] || fail "the post-receive hook did not run for every push"
git --git-dir="$R" fsck --strict --no-progress

check "a stale main.lock in a remote with hooks (a killed receive-pack) does not block the next write"
echo junk >"$R/refs/heads/main.lock"
touch -d '10 seconds ago' "$R/refs/heads/main.lock"
add "$T/c1.git" after-stale-lock >/dev/null
[ ! -e "$R/refs/heads/main.lock" ] || fail "the stale lock is still there"

check "a remote with hooks and no git to run them: refused, saying so"
hook pre-receive 'cat >/dev/null; exit 0'
expect_fail 1 "only git can run" env PATH=/nonexistent "$BM" --repo "$T/c1.git" release add app/server \
	--source "file://$T/app@$SRC" --id no-git
grep -q "pre-receive" "$T/err" || fail "the refusal does not name the hooks"
echo "t_remote_hooks: ok"
