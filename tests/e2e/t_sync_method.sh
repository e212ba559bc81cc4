#!/bin/sh
# The syncs a write makes (counted with strace): one fsync (of refs/heads/, after the pack,
# its index and the ref's lock were written out) only on a file system that journals its
# metadata in order (xfs, ext3/ext4 with a journal); on any other (ext4 without a journal,
# as on some VMs) every file and folder is synced, since the ref could otherwise reach the
# disk before the pack it names. `git config bootmeta.fsyncMethod batch|full|auto` decides;
# a value it does not know means full. Run on the folder the tests run in, then (as root:
# loop devices) on a fresh ext4 with a journal, one without, and xfs, so each branch of the
# choice is taken whatever this machine's disk is.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
command -v strace >/dev/null 2>&1 || fail "strace is not installed (scripts/deps.sh installs it)"
command -v mkfs.xfs >/dev/null 2>&1 || fail "mkfs.xfs is not installed (scripts/deps.sh installs xfsprogs)"
[ "$(id -u)" = 0 ] || fail "this test mounts file systems on loop devices: run make check as root (scripts/deps.sh needs root too)"
MOUNTS=""
unmount_all() { for m in $MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done; }
trap 'unmount_all; rm -rf "$T"' EXIT
C1=$(src_repo "$T/app")

# syncs R METHOD: the fsync and fdatasync calls of one promote in R with bootmeta.fsyncMethod METHOD
syncs() {
	if [ "$2" = unset ]; then
		git --git-dir="$1" config --unset bootmeta.fsyncMethod 2>/dev/null || true
	else
		git --git-dir="$1" config bootmeta.fsyncMethod "$2"
	fi
	# one pack before each counted write, so no merge of packs (which syncs too) runs in it
	git --git-dir="$1" repack -adq
	# LeakSanitizer cannot run under ptrace: leaks are checked by every other test
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=fsync,fdatasync -o "$T/strace.$2" "$BM" --quiet --repo "$1" channel promote app/server stable base >/dev/null ||
		fail "the promote failed under strace"
	grep -c -e 'fsync(' -e 'fdatasync(' "$T/strace.$2" || true
}

# journaled DIR: yes when DIR's file system journals its metadata, read the way a user would
journaled() {
	fs=$(stat -f -c %T "$1")
	dev=$(stat -c '%Hd:%Ld' "$1")
	name=$(basename "$(readlink "/sys/dev/block/$dev" 2>/dev/null || echo none)")
	j=no
	case $fs in
	xfs) j=yes ;;
	ext2/ext3) ls /proc/fs/jbd2 2>/dev/null | grep -q "^$name-" && j=yes ;;
	esac
	echo "$j"
}

# suite DIR LABEL: a meta repo in DIR and every check on it
suite() {
	R=$1/meta
	"$BM" init "$R" >/dev/null
	"$BM" --quiet --repo "$R" project add app/server >/dev/null
	"$BM" --quiet --repo "$R" release add app/server --source "file://$T/app@$C1" --id base >/dev/null
	j=$(journaled "$R")
	echo "  $2: $(stat -f -c %T "$R"), journaled: $j"
	check "$2: batch: one fsync per write"
	eq "syncs with batch" "$(syncs "$R" batch)" 1
	check "$2: full: the pack, its index, their folder and the ref's lock are synced too"
	full=$(syncs "$R" full)
	[ "$full" -ge 4 ] || fail "full made $full syncs (want 4 or more: $(cat "$T/strace.full"))"
	echo "  ok: $full syncs"
	check "$2: auto (the default) follows the file system"
	want=$([ "$j" = yes ] && echo 1 || echo "$full")
	eq "syncs unset" "$(syncs "$R" unset)" "$want"
	eq "syncs auto" "$(syncs "$R" auto)" "$want"
	check "$2: a value bootmeta does not know means full, not batch"
	eq "syncs with a typo" "$(syncs "$R" bacth)" "$full"
	check "$2: every write stayed: the channel has all its entries and git fsck is clean"
	eq "entries" "$("$BM" --repo "$R" --json channel history app/server stable | js 'len(d if isinstance(d,list) else d["entries"])')" 5
	git --git-dir="$R" fsck --strict 2>&1 | grep -v "^Checking" && fail "git fsck found something" || true
}

# loopfs NAME MKFS...: a fresh file system made by MKFS on a loop device, mounted at $T/NAME
loopfs() {
	n=$1
	shift
	truncate -s 320M "$T/$n.img"
	"$@" "$T/$n.img" >"$T/$n.mkfs" 2>&1 || fail "$* failed: $(tail -3 "$T/$n.mkfs")"
	mkdir "$T/$n"
	mount -o loop "$T/$n.img" "$T/$n" || fail "cannot mount $T/$n.img on a loop device"
	MOUNTS="$T/$n $MOUNTS"
}

suite "$T" "this machine's test folder"
loopfs ext4j mkfs.ext4 -q -F -O has_journal
eq "an ext4 made with a journal is seen as journaled" "$(journaled "$T/ext4j")" yes
suite "$T/ext4j" "ext4 with a journal"
loopfs ext4n mkfs.ext4 -q -F -O ^has_journal
eq "an ext4 made without a journal is not" "$(journaled "$T/ext4n")" no
suite "$T/ext4n" "ext4 without a journal"
loopfs xfs mkfs.xfs -q -f
suite "$T/xfs" "xfs"
echo "PASS"
