# cfg_lib.sh: helpers for the env/config/flag/log end-to-end tests (sourced, not a test).
# Needs BOOTMETA (the CLI). Sets up $work with a fresh meta repo at $work/meta.
set -eu
: "${BOOTMETA:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
export BOOTMETA_REPO="$work/meta" BOOTMETA_ACTOR="Test <test@example.com>"
unset BOOTMETA_ENV || true
bm() { "$BOOTMETA" "$@"; }
"$BOOTMETA" init "$work/meta" >/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }
tip() { git --git-dir="$work/meta" rev-parse main; }
# expect_rc RC CMD...: run CMD, check its exit code, keep its stdout/stderr in $work/out, $work/err
expect_rc() {
	want=$1; shift
	set +e
	"$@" >"$work/out" 2>"$work/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || { cat "$work/out" "$work/err" >&2; fail "exit $got, wanted $want: $*"; }
}
# refused RC PATTERN CMD...: the command fails with RC, says PATTERN, and makes no commit
refused() {
	want=$1; pat=$2; shift 2
	before=$(tip)
	expect_rc "$want" "$@"
	grep -q -- "$pat" "$work/err" || { cat "$work/err" >&2; fail "no '$pat' in the error of: $*"; }
	[ "$(tip)" = "$before" ] || fail "a refused command made a commit: $*"
}
# json_conventions FILE...: every key lowerCamelCase, every 64-bit integer a string (proto3 JSON)
json_conventions() { python3 "$BM_SRCDIR/tests/e2e/json_conventions.py" "$@" || fail "JSON conventions: $*"; }
# add_project NAME: through `bootmeta project add` when it is built in, else with git itself
add_project() {
	if "$BOOTMETA" project add "$1" --source "https://example.com/$1.git" >/dev/null 2>&1; then
		return 0
	fi
	d=$(mktemp -d)
	git clone -q "$work/meta" "$d/w" 2>/dev/null
	mkdir -p "$d/w/projects/$1"
	: > "$d/w/projects/$1/project.pb"
	(cd "$d/w" && git add -A && git -c user.name=t -c user.email=t@t commit -qm "project $1" && git push -q origin HEAD:main)
	rm -rf "$d"
}
# git_add FILE [CONTENT]: commit a file into the meta repo with git itself (for records made
# by other modules' commands, or by hand)
git_add() {
	d=$(mktemp -d)
	git clone -q "$work/meta" "$d/w" 2>/dev/null
	mkdir -p "$(dirname "$d/w/$1")"
	printf '%s' "${2:-}" > "$d/w/$1"
	(cd "$d/w" && git add -A && git -c user.name=t -c user.email=t@t commit -qm "add $1" && git push -q origin HEAD:main)
	rm -rf "$d"
}
# add_channel PROJECT CHANNEL: a channel with one (empty) entry, as a promotion leaves it
add_channel() { git_add "projects/$1/channels/$2/0000000/0000000001.pb"; }
# git_add_tree DIR: commit every file under DIR into the meta repo (same relative paths)
git_add_tree() {
	d=$(mktemp -d)
	git clone -q "$work/meta" "$d/w" 2>/dev/null
	cp -r "$1"/. "$d/w/"
	(cd "$d/w" && git add -A && git -c user.name=t -c user.email=t@t commit -qm "add records" && git push -q origin HEAD:main)
	rm -rf "$d"
}
# encode TYPE OUT: a record from protobuf text format on stdin (needs protoc)
encode() {
	mkdir -p "$(dirname "$2")"
	protoc --proto_path="$BM_SRCDIR/proto" --encode="bootmeta.v1.$1" bootmeta/v1/core.proto > "$2"
}
