#!/bin/sh
# Crash leftovers never need a human: every lock file a killed bootmeta leaves (main.lock,
# origin/main.lock on a clone, the remote's main.lock on a path remote) is removed by the
# next bootmeta command, at once, so plain git is not blocked either; a lock no bootmeta
# recorded is removed once it is stale; temporary object files of dead writers are removed
# once old; a lock that cannot be removed is named with what to do.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

SHIM=$BM_BUILDDIR/libbm_kill_at.so
[ -f "$SHIM" ] || fail "no $SHIM (built with the tests)"
R=$T/primary.git
C=$T/clone.git
"$BM" init "$R" >/dev/null
"$BM" --quiet clone "$R" "$C" >/dev/null
SRC=$(src_repo "$T/app")
"$BM" --quiet --repo "$C" project add app/server >/dev/null
"$BM" --quiet --repo "$C" release add app/server --source "file://$T/app@$SRC" --id base >/dev/null
n=0
# killed REPO STEP WHEN: one write on REPO, killed with SIGKILL before/after the rename of a
# path containing STEP
killed() {
	n=$((n + 1))
	set +e
	env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "BM_KILL_$3_RENAME=$2" \
		"$BM" --quiet --repo "$1" release add app/server --source "file://$T/app@$SRC" --id "k$n" >/dev/null 2>&1
	rc=$?
	set -e
	[ "$rc" = 137 ] || fail "the writer was not killed at $2 (exit $rc)"
}
locks() { find "$R/refs" "$C/refs" -name '*.lock' | sort; }

check "killed before renaming the clone's origin/main.lock: the next command removes it at once"
killed "$C" "$C/refs/remotes/origin/main.lock" BEFORE
[ -f "$C/refs/remotes/origin/main.lock" ] || fail "the kill left no origin/main.lock (test setup)"
"$BM" --repo "$C" ls >/dev/null
[ -z "$(locks)" ] || fail "lock files left after a read: $(locks)"
"$BM" --quiet --repo "$C" pull >/dev/null
"$BM" --quiet --repo "$C" channel promote app/server stable base >/dev/null

check "killed before renaming the clone's main.lock: plain git update-ref works right after one bootmeta command"
killed "$C" "$C/refs/heads/main.lock" BEFORE
[ -f "$C/refs/heads/main.lock" ] || fail "the kill left no main.lock (test setup)"
"$BM" --repo "$C" ls >/dev/null
git --git-dir="$C" update-ref refs/heads/main "$(tip "$C")" || fail "git update-ref blocked after the crash"
"$BM" --quiet --repo "$C" push >/dev/null

check "killed before renaming the remote's main.lock (path remote): the next write on the clone removes it"
killed "$C" "$R/refs/heads/main.lock" BEFORE
[ -f "$R/refs/heads/main.lock" ] || fail "the kill left no main.lock in the remote (test setup)"
"$BM" --quiet --repo "$C" release add app/server --source "file://$T/app@$SRC" --id after-remote >/dev/null
[ -z "$(locks)" ] || fail "lock files left: $(locks)"
git --git-dir="$R" update-ref refs/heads/main "$(tip "$R")" || fail "git update-ref blocked on the remote"

check "killed before renaming the primary's own main.lock: a read there removes it"
killed "$R" "$R/refs/heads/main.lock" BEFORE
[ -f "$R/refs/heads/main.lock" ] || fail "the kill left no main.lock (test setup)"
"$BM" --repo "$R" ls >/dev/null
[ -z "$(locks)" ] || fail "lock files left: $(locks)"
git --git-dir="$R" update-ref refs/heads/main "$(tip "$R")"

check "a lock file no bootmeta recorded (a killed git, say) is removed by the next write once stale"
echo junk >"$C/refs/remotes/origin/main.lock"
touch -d '10 seconds ago' "$C/refs/remotes/origin/main.lock"
echo junk >"$R/refs/heads/main.lock"
touch -d '10 seconds ago' "$R/refs/heads/main.lock"
"$BM" --quiet --repo "$C" pull >/dev/null
"$BM" --quiet --repo "$C" release add app/server --source "file://$T/app@$SRC" --id after-git >/dev/null
[ -z "$(locks)" ] || fail "lock files left: $(locks)"

check "a lock that cannot be removed: the error names the file and says what to do"
mkdir "$C/refs/remotes/origin/main.lock"
touch -d '10 seconds ago' "$C/refs/remotes/origin/main.lock"
"$BM" --quiet --repo "$R" project add app/moved >/dev/null # so the pull must move origin/main
expect_fail 1 "$C/refs/remotes/origin/main.lock" "$BM" --repo "$C" pull
grep -q "remove that file" "$T/err" || fail "the lock error does not say what to do: $(cat "$T/err")"
rmdir "$C/refs/remotes/origin/main.lock"

check "temporary object files of killed writers: removed by the next write once an hour old, never fresh ones"
# a write's objects go to objects/pack/tmp_bm_* first (one pack and its index)
killed "$C" "tmp_bm_" BEFORE
ls "$C"/objects/pack/tmp_bm_* >/dev/null 2>&1 || fail "the kill left no temporary pack (test setup)"
fresh=$(ls "$C"/objects/pack/tmp_bm_* | head -n 1)
: >"$C/objects/tmp_object_git2_old1"
: >"$R/objects/tmp_object_git2_old2"
mkdir -p "$C/objects/pack"
: >"$C/objects/pack/pack_git2_old3"
: >"$C/objects/pack/tmp_bm_old4.pack"
: >"$C/objects/tmp_obj_gits_own"
touch -d '2 hours ago' "$C/objects/tmp_object_git2_old1" "$R/objects/tmp_object_git2_old2" \
	"$C/objects/pack/pack_git2_old3" "$C/objects/pack/tmp_bm_old4.pack" "$C/objects/tmp_obj_gits_own"
"$BM" --quiet --repo "$C" release add app/server --source "file://$T/app@$SRC" --id after-tmp >/dev/null
for f in "$C/objects/tmp_object_git2_old1" "$R/objects/tmp_object_git2_old2" "$C/objects/pack/pack_git2_old3" \
	"$C/objects/pack/tmp_bm_old4.pack"; do
	[ ! -e "$f" ] || fail "$f (2 hours old) was not removed"
done
[ -e "$fresh" ] || fail "a fresh temporary object file was removed"
[ -e "$C/objects/tmp_obj_gits_own" ] || fail "git's own temporary file was removed"
rm -f "$fresh" "$C/objects/tmp_obj_gits_own"

check "20 writers, pulls and pushes on the clone killed with SIGKILL at random moments; then everything works"
rand_ms() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
i=1
kills=0
while [ "$i" -le 20 ]; do
	case $((i % 4)) in
	0) "$BM" --quiet --repo "$C" pull >/dev/null 2>&1 & ;;
	1) "$BM" --quiet --repo "$C" channel promote app/server stable base >/dev/null 2>&1 & ;;
	2) "$BM" --quiet --repo "$C" push >/dev/null 2>&1 & ;;
	3) "$BM" --quiet --repo "$C" release add app/server --source "file://$T/app@$SRC" --id "rnd-$i" >/dev/null 2>&1 & ;;
	esac
	pid=$!
	sleep "$(printf '0.%03d' $(( $(rand_ms) % 500 )))"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) || true
	wait "$pid" || true
	i=$((i + 1))
done
echo "  $kills of 20 killed"
# no human step: straight back to work
"$BM" --quiet --repo "$C" release add app/server --source "file://$T/app@$SRC" --id after-loop >/dev/null
"$BM" --quiet --repo "$C" channel promote app/server stable after-loop >/dev/null
"$BM" --quiet --repo "$C" pull >/dev/null
"$BM" --quiet --repo "$C" push >/dev/null
[ "$(tip "$C")" = "$(tip "$R")" ] || fail "clone and remote disagree after the loop"
"$BM" --repo "$R" channel get app/server stable | grep -q "release   after-loop" || fail "the promotion did not reach the remote"
[ -z "$(locks)" ] || fail "lock files left: $(locks)"
git --git-dir="$C" update-ref refs/heads/main "$(tip "$C")"
git --git-dir="$R" update-ref refs/heads/main "$(tip "$R")"
git --git-dir="$R" fsck --strict --no-progress
git --git-dir="$C" fsck --strict --no-progress
echo "t_stale_locks: ok"
