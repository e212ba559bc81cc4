# lib_core.sh: shared by the core e2e tests (sourced, not run): a temp folder cleaned up on
# exit, the bootmeta under test, and helpers that fail loudly with what was expected.
set -eu
: "${BOOTMETA:?set BOOTMETA to the bootmeta program under test}"
BM=$BOOTMETA
T=$(mktemp -d /tmp/bm-e2e-XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
export LSAN_OPTIONS="${LSAN_OPTIONS:-}:print_suppressions=0"
export BOOTMETA_ACTOR="E2E Tester <e2e@example.com>"
unset BOOTMETA_REPO BOOTMETA_ENV || true
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$T/home"
mkdir -p "$HOME"
git config --global init.defaultBranch main
git config --global protocol.file.allow always

fail() { echo "FAIL: $*" >&2; exit 1; }
check() { echo "check: $*"; }

# tip REPO: the commit main points at
tip() { git --git-dir="$1" rev-parse refs/heads/main; }

# expect_fail EXIT NEEDLE CMD...: CMD exits with EXIT and says NEEDLE on stderr
expect_fail() {
	want=$1 needle=$2
	shift 2
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || { cat "$T/err" >&2; fail "'$*' exited $got, want $want"; }
	grep -qF -- "$needle" "$T/err" || { cat "$T/err" >&2; fail "'$*': stderr does not say \"$needle\""; }
	echo "  ok: $(head -c 160 "$T/err" | head -n 1)"
}

# wait_line FILE TEXT [TENTHS]: TEXT (a grep pattern) is in FILE within TENTHS tenths of a
# second (150: 15 s)
wait_line() {
	_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -le "${3:-150}" ] || fail "no '$2' in $1 after $((${3:-150} / 10)) s: $(cat "$1" 2>/dev/null)"; sleep 0.1
	done
}
# wait_exit PID WHAT: process PID is gone within 5 s (after a SIGTERM), then it exited 0
wait_exit() {
	_i=0
	while kill -0 "$1" 2>/dev/null; do
		_i=$((_i + 1)); [ $_i -le 50 ] || fail "$2 did not exit within 5 s of SIGTERM"; sleep 0.1
	done
	wait "$1" || fail "$2 exited $? on SIGTERM"
}

# js EXPR: print the python expression EXPR of the JSON on stdin (bound to d)
js() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# eq WHAT GOT WANT: GOT is WANT, else fail naming WHAT (tests may define their own)
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "  ok: $1"; }
# refused EXIT NEEDLE CMD...: expect_fail, and main of the meta repo $R did not move
refused() {
	before=$(tip "$R")
	expect_fail "$@"
	[ "$(tip "$R")" = "$before" ] || fail "'$*' moved main although it was refused"
}

# src_repo DIR: a small real git repo with two commits; prints the HEAD commit
src_repo() {
	git init -q "$1"
	echo "one $1" >"$1/README"
	git -C "$1" add README
	git -C "$1" commit -qm one
	echo "two $1" >>"$1/README"
	git -C "$1" commit -qam two
	git -C "$1" rev-parse HEAD
}

# plant REPO PATH DATAFILE: commit a file with stock git plumbing, as a foreign writer would
plant() {
	blob=$(git --git-dir="$1" hash-object -w "$3")
	GIT_INDEX_FILE="$T/plant.idx" git --git-dir="$1" read-tree main
	GIT_INDEX_FILE="$T/plant.idx" git --git-dir="$1" update-index --add --cacheinfo "100644,$blob,$2"
	tree=$(GIT_INDEX_FILE="$T/plant.idx" git --git-dir="$1" write-tree)
	commit=$(git --git-dir="$1" commit-tree "$tree" -p main -m "plant $2")
	git --git-dir="$1" update-ref refs/heads/main "$commit"
	rm -f "$T/plant.idx"
}

# drop REPO OID: delete the object OID as `git prune --expire=now` (or a `git repack -a -d`)
# beside a writer can: its loose file, or out of the pack that holds it (bootmeta writes
# each commit's objects as one pack: the pack is rewritten without it)
drop() {
	o=$2
	f=$1/objects/$(echo "$o" | cut -c1-2)/$(echo "$o" | cut -c3-)
	if [ -f "$f" ]; then rm -f "$f"; return; fi
	for idx in "$1"/objects/pack/pack-*.idx; do
		git show-index <"$idx" | awk '{print $2}' >"$T/pack.list"
		grep -qx "$o" "$T/pack.list" || continue
		grep -vx "$o" "$T/pack.list" >"$T/keep.list" || true
		[ ! -s "$T/keep.list" ] || git --git-dir="$1" pack-objects -q "$1/objects/pack/pack" <"$T/keep.list" >/dev/null
		rm -f "$idx" "${idx%.idx}.pack"
	done
}
# present REPO OID: the object is in the repo
present() { git --git-dir="$1" cat-file -e "$2" 2>/dev/null; }
