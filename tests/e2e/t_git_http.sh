#!/bin/sh
# A meta repo on git's own smart-HTTP server (git http-backend behind nginx and fcgiwrap, on
# 127.0.0.1): clone, a write that pushes (read back on the server with git), pull of another
# clone's write, two clones racing to write (compare-and-swap and replay: every write lands,
# channel seqs unique and gapless), and a server that refuses pushes (a clear error, nothing
# written on either side). git fsck --strict on the server at the end.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_gitsrv.sh"

SRV=$T/srv/meta.git
mkdir -p "$T/srv"
"$BM" --quiet init "$SRV" >/dev/null
gitsrv_receivepack "$SRV" true
gitsrv_http_start "$T/http" "$T/srv"
URL=$GITSRV_HTTP/meta.git
C1=$(src_repo "$T/app")

check "clone over http"
"$BM" clone "$URL" "$T/a.git" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "clone of $URL"; }
grep -q "pushed to $URL first" "$T/out" || { cat "$T/out"; fail "clone does not say writes go to $URL"; }
[ "$(tip "$T/a.git")" = "$(tip "$SRV")" ] || fail "the clone's main is not the server's"

check "a write on the clone is pushed; the server's repo has it"
"$BM" --repo "$T/a.git" project add demo/app --source "file://$T/app" >/dev/null 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "project add through the http clone"; }
grep -q "pushed to origin ($URL)" "$T/err" || { cat "$T/err"; fail "the write does not say it was pushed"; }
git --git-dir="$SRV" cat-file -e main:projects/demo/app/project.pb || fail "the write did not reach the server"
"$BM" --quiet --repo "$T/a.git" release add demo/app --source "file://$T/app@$C1" --id r0 >/dev/null
"$BM" --quiet --repo "$T/a.git" channel promote demo/app stable r0 >/dev/null
[ "$(tip "$T/a.git")" = "$(tip "$SRV")" ] || fail "clone and server disagree after the pushes"
"$BM" --repo "$SRV" channel get demo/app stable | grep -q r0 || fail "the server's channel is not at r0"

check "pull brings another clone's write"
"$BM" --quiet clone "$URL" "$T/b.git" >/dev/null 2>&1 || fail "second clone"
"$BM" --quiet --repo "$T/a.git" project add demo/lib --source "file://$T/app" >/dev/null 2>&1 || fail "write on a"
"$BM" --repo "$T/b.git" pull >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "pull over http"; }
"$BM" --repo "$T/b.git" project list | grep -q "^demo/lib " || fail "pull did not bring demo/lib"
[ "$(tip "$T/b.git")" = "$(tip "$SRV")" ] || fail "b is not at the server's tip after pull"

check "two clones write at once: both land, seqs unique and gapless"
gitsrv_race "$SRV" "$T/a.git" "$T/b.git" 6 "$C1"
"$BM" --quiet --repo "$T/a.git" pull >/dev/null
"$BM" --quiet --repo "$T/b.git" pull >/dev/null
[ "$(tip "$T/a.git")" = "$(tip "$SRV")" ] && [ "$(tip "$T/b.git")" = "$(tip "$SRV")" ] || fail "clones differ from the server"

check "a server that refuses pushes: clear error, nothing written"
gitsrv_receivepack "$SRV" false
before=$(tip "$SRV")
local_before=$(tip "$T/a.git")
expect_fail 1 "403" "$BM" --repo "$T/a.git" project add demo/refused --source "file://$T/app"
grep -qi "refused the push\|receive-pack" "$T/err" || fail "the error does not say the server refuses pushes"
[ "$(tip "$SRV")" = "$before" ] || fail "the server moved"
[ "$(tip "$T/a.git")" = "$local_before" ] || fail "the clone's main moved without the push"
"$BM" --repo "$T/a.git" project list | grep -q "^demo/refused " && fail "the refused write is readable on the clone"
# reads and pulls still work
"$BM" --repo "$T/a.git" pull >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "pull from a read-only server"; }
gitsrv_receivepack "$SRV" true
"$BM" --quiet --repo "$T/a.git" project add demo/late --source "file://$T/app" >/dev/null 2>&1 ||
	fail "a write once pushes are allowed again"

check "git fsck --strict on the server"
git --git-dir="$SRV" fsck --strict --no-progress || fail "fsck on the server repo"
echo "ok: http clone, push, pull, racing clones, refused push"
