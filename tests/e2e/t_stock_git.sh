#!/bin/sh
# The meta repo works with stock git and protoc: git clone, git log, git fsck --strict, and
# `protoc --decode` reads the record files taken with `git show`.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
C2=$(src_repo "$T/lib")
bm project add app/server --source "file://$T/app" >/dev/null
bm release add app/server --source "file://$T/app@$C1" --source "file://$T/lib@$C2" --version 1.0 --note "first" >/dev/null
echo bin >"$T/app.bin"
bm binary add app/server "$C1" "$T/app.bin" --os linux --arch amd64 >/dev/null
bm channel promote app/server stable "$C1" --reason "ship it" >/dev/null
SHA=$(sha256sum "$T/app.bin" | cut -c1-64)

check "git clone of the meta repo checks out the record files"
git clone -q "$R" "$T/work"
[ -f "$T/work/.bootmeta/format" ] || fail "no .bootmeta/format in the clone"
[ -f "$T/work/projects/app/server/releases/$C1.pb" ] || fail "no release file in the clone"
[ -f "$T/work/binaries/$(echo "$SHA" | cut -c1-2)/$SHA.pb" ] || fail "no binary file in the clone"
[ -f "$T/work/projects/app/server/channels/stable/0000000/0000000001.pb" ] || fail "no channel entry in the clone"

check "git log lists every write with its author"
git -C "$T/work" log --format='%an <%ae> %s' >"$T/log"
cat "$T/log"
[ "$(wc -l <"$T/log")" = 5 ] || fail "expected 5 commits"
grep -q "^E2E Tester <e2e@example.com> release add app/server $C1" "$T/log" || fail "release commit not in git log"
git -C "$T/work" log --format=%s -- projects/app/server/channels | grep -q "channel promote" || fail "git log -- PATH"

check "git fsck --strict is clean, on the bare repo and the clone"
git --git-dir="$R" fsck --strict --no-progress
git -C "$T/work" fsck --strict --no-progress

check "protoc --decode reads records taken with git show"
decode() { protoc --decode="bootmeta.v1.$1" --proto_path="$BM_SRCDIR/proto" bootmeta/v1/core.proto; }
git --git-dir="$R" show "main:projects/app/server/releases/$C1.pb" | decode Release >"$T/rel.txt"
cat "$T/rel.txt"
grep -q "commit: \"$C1\"" "$T/rel.txt" || fail "release: first source commit"
grep -q "commit: \"$C2\"" "$T/rel.txt" || fail "release: second source commit"
grep -q "url: \"file://$T/lib\"" "$T/rel.txt" || fail "release: second source url"
grep -q 'version: "1.0"' "$T/rel.txt" || fail "release: version"
git --git-dir="$R" show "main:binaries/$(echo "$SHA" | cut -c1-2)/$SHA.pb" | decode Binary >"$T/bin.txt"
grep -q "sha256: \"$SHA\"" "$T/bin.txt" || fail "binary: sha256"
grep -q "size: 4" "$T/bin.txt" || fail "binary: size"
git --git-dir="$R" show main:projects/app/server/channels/stable/0000000/0000000001.pb | decode ChannelEntry >"$T/ch.txt"
grep -q "seq: 1" "$T/ch.txt" || fail "channel entry: seq"
grep -q 'reason: "ship it"' "$T/ch.txt" || fail "channel entry: reason"
git --git-dir="$R" show main:projects/app/server/project.pb | decode Project | grep -q 'name: "app/server"' || fail "project"

check "bootmeta reads a repo that stock git cloned (bare) and wrote to"
git clone -q --bare "$R" "$T/bare.git"
"$BM" --repo "$T/bare.git" channel get app/server stable | grep -q "release   $C1" || fail "channel get on a git clone"
echo "t_stock_git: ok"
