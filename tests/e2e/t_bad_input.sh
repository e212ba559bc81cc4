#!/bin/sh
# Every bad input of the core commands gets a clear error, a non-zero exit and no new commit.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --repo "$R" "$@"; }
# refused EXIT NEEDLE ARGS...: `bootmeta --repo R ARGS` fails that way and main does not move
refused() {
	before=$(tip "$R")
	expect_fail "$@"
	[ "$(tip "$R")" = "$before" ] || fail "'$*' moved main"
}

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
C2=$(src_repo "$T/lib")
bm project add app/server --source "file://$T/app" >/dev/null
bm release add app/server --source "file://$T/app@$C1" --source "file://$T/lib@$C2" >/dev/null
echo payload >"$T/app.bin"

check "names with '..', a leading '/', control characters, over-long names"
refused 1 "project name" bm project add 'a/../b'
refused 1 "starts with '/'" bm project add /abs/path
refused 1 "control character" bm project add "$(printf 'bad\001name')"
refused 1 "over the limit" bm project add "$(head -c 300 /dev/zero | tr '\0' a)"
refused 1 "reserved by the meta repo layout" bm project add app/releases
refused 1 "release id" bm release add app/server --source "file://$T/app@$C1" --id '../x'
refused 1 "release id" bm release add app/server --source "file://$T/app@$C1" --id "$(printf 'v\0011')"
refused 1 "channel name" bm channel promote app/server 'st/able' "$C1"
refused 1 "channel name" bm channel promote app/server '..' "$C1"
refused 1 "over the limit" bm channel promote app/server "$(head -c 80 /dev/zero | tr '\0' c)" "$C1"
refused 1 "control character" bm release add app/server --source "file://$T/app@$C1" --id v9 --note "$(printf 'a\033b')"

check "unknown project, release, channel"
refused 1 "no project \"ghost\"" bm release add ghost --source "file://$T/app@$C1"
refused 1 "no project \"ghost\"" bm binary add ghost "$C1" "$T/app.bin" --os linux --arch amd64
refused 1 "no release \"v404\"" bm binary add app/server v404 "$T/app.bin" --os linux --arch amd64
refused 1 "no release \"v404\"" bm channel promote app/server stable v404
refused 1 "no project \"ghost\"" bm channel promote ghost stable "$C1"
refused 1 "no release yet" bm channel get app/server nightly
refused 1 "has no entries" bm channel history app/server nightly
refused 1 "no project \"ghost\"" bm channel list ghost
refused 1 "no release \"v404\"" bm release show app/server v404
refused 1 "no project \"ghost\"" bm project show ghost
refused 1 "is not a file here, a recorded sha256, or a release id" bm trace v404

check "a missing or unreadable FILE"
refused 1 "no such file" bm binary add app/server "$C1" "$T/nope.bin" --os linux --arch amd64
refused 1 "not a regular file" bm binary add app/server "$C1" "$T" --os linux --arch amd64
if [ "$(id -u)" != 0 ]; then
	echo secret >"$T/locked.bin"
	chmod 000 "$T/locked.bin"
	refused 1 "cannot read" bm binary add app/server "$C1" "$T/locked.bin" --os linux --arch amd64
else
	echo "  (running as root: every file is readable; the folder case above stands for it)"
fi
refused 1 "no such file" bm trace "$T/nope.bin"
refused 1 "is not a binary recorded" bm trace "$T/app.bin"

check "--source without @COMMIT, with a non-hex or short commit, with a password"
refused 1 "URL@COMMIT" bm release add app/server --source "file://$T/app"
refused 1 "URL@COMMIT" bm release add app/server --source "git@github.com:org/app.git"
refused 1 "non-hex character" bm release add app/server --source "file://$T/app@$(echo "$C1" | sed 's/^./g/')"
refused 1 "full commit hash" bm release add app/server --source "file://$T/app@abc123"
refused 1 "password" bm release add app/server --source "https://u:pw@example.com/app.git@$C1"
refused 1 "given twice" bm release add app/server --source "file://$T/app@$C1" --source "file://$T/app@$C2" --id v3
refused 2 "needs --source" bm release add app/server
refused 2 "needs --os and --arch" bm binary add app/server "$C1" "$T/app.bin"
refused 1 "already exists" bm release add app/server --source "file://$T/app@$C1"

check "--source-dir of a dirty checkout, and of a folder that is no checkout"
echo dirty >>"$T/app/README"
refused 1 "uncommitted changes" bm release add app/server --source-dir "$T/app" --id dirty
mkdir "$T/plain"
refused 1 "not in a git checkout" bm release add app/server --source-dir "$T/plain" --id plain

check "a binary recorded twice"
bm binary add app/server "$C1" "$T/app.bin" --os linux --arch amd64 >/dev/null
refused 1 "is already recorded (project app/server" bm binary add app/server "$C1" "$T/app.bin" --os linux --arch arm64

check "usage errors exit 2"
refused 2 "unknown channel command" bm channel frobnicate
refused 2 "-n takes a positive count" bm channel history app/server stable -n zero
refused 2 "takes PROJECT and CHANNEL" bm channel get app/server

check "a path that is not a meta repo"
git init -q --bare "$T/plain.git"
expect_fail 1 "not a bootmeta meta repo" "$BM" --repo "$T/plain.git" project list
expect_fail 1 "no such meta repo" "$BM" --repo "$T/does-not-exist" project list
(cd "$T/plain" && expect_fail 1 "bootmeta init" "$BM" project list)

check "a repo whose .bootmeta/format is newer"
"$BM" init "$T/newer" >/dev/null
echo 99 >"$T/fmt"
blob=$(git --git-dir="$T/newer" hash-object -w "$T/fmt")
GIT_INDEX_FILE="$T/n.idx" git --git-dir="$T/newer" read-tree main
GIT_INDEX_FILE="$T/n.idx" git --git-dir="$T/newer" update-index --cacheinfo "100644,$blob,.bootmeta/format"
tree=$(GIT_INDEX_FILE="$T/n.idx" git --git-dir="$T/newer" write-tree)
git --git-dir="$T/newer" update-ref refs/heads/main "$(git --git-dir="$T/newer" commit-tree "$tree" -p main -m newer)"
before=$(tip "$T/newer")
expect_fail 1 "upgrade bootmeta" "$BM" --repo "$T/newer" project add x
expect_fail 1 "upgrade bootmeta" "$BM" --repo "$T/newer" project list
[ "$(tip "$T/newer")" = "$before" ] || fail "a newer repo was written"

check "a record file that does not decode: reported by path, the others still listed"
printf '\377\377\377\377garbage' >"$T/junk"
plant "$R" projects/app/server/releases/junk.pb "$T/junk"
bm channel promote app/server stable "$C1" >/dev/null
bm channel promote app/server stable "$C1" >/dev/null
# an older entry damaged (a damaged newest one is refused by promote: t_damaged_log)
plant "$R" projects/app/server/channels/stable/0000000/0000000001.pb "$T/junk"
set +e
bm release list app/server >"$T/list.out" 2>"$T/list.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "release list with a damaged record exited $rc, want 1"
grep -q "projects/app/server/releases/junk.pb" "$T/list.err" || fail "release list does not name the damaged file"
grep -q "$C1" "$T/list.out" || fail "release list did not keep going to the good release"
echo "  ok: $(head -n 1 "$T/list.err")"
refused 1 "junk.pb does not decode" bm release show app/server junk
set +e
bm channel history app/server stable >"$T/h.out" 2>"$T/h.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "channel history with a damaged entry exited $rc, want 1"
grep -q "0000000001.pb" "$T/h.err" || fail "channel history does not name the damaged entry"
grep -q "^2 " "$T/h.out" || fail "channel history did not keep going to entry 2"
echo "  ok: $(head -n 1 "$T/h.err")"
bm channel get app/server stable | grep -q "seq       2" || fail "channel get after a damaged entry"
if "$BM" show --help >/dev/null 2>&1 && bm show .bootmeta/format >/dev/null 2>&1; then
	set +e
	bm show projects/app/server/releases/junk.pb "projects/app/server/releases/$C1.pb" >"$T/s.out" 2>"$T/s.err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "show of a damaged record exited $rc, want 1"
	grep -q "junk.pb" "$T/s.err" || fail "show does not name the damaged file"
	grep -q "$C2" "$T/s.out" || fail "show did not keep going to the good record"
	echo "  ok: $(head -n 1 "$T/s.err")"
fi
echo "t_bad_input: all bad inputs refused"
