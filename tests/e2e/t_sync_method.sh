#!/bin/sh
# The syncs a write makes (counted with strace): one fsync (of refs/heads/, after the pack,
# its index and the ref's lock were written out) only on a file system that journals its
# metadata in order (xfs, ext3/ext4 with a journal); on any other (ext4 without a journal,
# as on some VMs) every file and folder is synced, since the ref could otherwise reach the
# disk before the pack it names. `git config bootmeta.fsyncMethod batch|full|auto` decides;
# a value it does not know means full.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
command -v strace >/dev/null 2>&1 || fail "strace is not installed (scripts/deps.sh installs it)"

R=$T/meta
C1=$(src_repo "$T/app")
"$BM" init "$R" >/dev/null
"$BM" --quiet --repo "$R" project add app/server >/dev/null
"$BM" --quiet --repo "$R" release add app/server --source "file://$T/app@$C1" --id base >/dev/null

# syncs METHOD: the fsync and fdatasync calls of one promote with bootmeta.fsyncMethod METHOD
syncs() {
	if [ "$1" = unset ]; then
		git --git-dir="$R" config --unset bootmeta.fsyncMethod 2>/dev/null || true
	else
		git --git-dir="$R" config bootmeta.fsyncMethod "$1"
	fi
	# one pack before each counted write, so no merge of packs (which syncs too) runs in it
	git --git-dir="$R" repack -adq
	# LeakSanitizer cannot run under ptrace: leaks are checked by every other test
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=fsync,fdatasync -o "$T/strace.$1" "$BM" --quiet --repo "$R" channel promote app/server stable base >/dev/null ||
		fail "the promote failed under strace"
	grep -c -e 'fsync(' -e 'fdatasync(' "$T/strace.$1" || true
}

# what this machine's file system is, read the way a user would
fs=$(stat -f -c %T "$R")
dev=$(stat -c '%Hd:%Ld' "$R")
name=$(basename "$(readlink "/sys/dev/block/$dev" 2>/dev/null || echo none)")
journaled=no
case $fs in
xfs) journaled=yes ;;
ext2/ext3) ls /proc/fs/jbd2 2>/dev/null | grep -q "^$name-" && journaled=yes ;;
esac
echo "  file system: $fs on $name, journaled: $journaled"

check "batch: one fsync per write"
eq "syncs with batch" "$(syncs batch)" 1
check "full: the pack, its index, their folder and the ref's lock are synced too"
full=$(syncs full)
[ "$full" -ge 4 ] || fail "full made $full syncs (want 4 or more: $(cat "$T/strace.full"))"
echo "  ok: $full syncs"
check "auto (the default) follows the file system"
want=$([ $journaled = yes ] && echo 1 || echo "$full")
eq "syncs unset" "$(syncs unset)" "$want"
eq "syncs auto" "$(syncs auto)" "$want"
check "a value bootmeta does not know means full, not batch"
eq "syncs with a typo" "$(syncs bacth)" "$full"
check "every write stayed: the channel has all its entries and git fsck is clean"
eq "entries" "$("$BM" --repo "$R" --json channel history app/server stable | js 'len(d if isinstance(d,list) else d["entries"])')" 5
git --git-dir="$R" fsck --strict 2>&1 | grep -v "^Checking" && fail "git fsck found something" || true
echo "PASS"
