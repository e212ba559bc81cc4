#!/bin/sh
# Input that forges or hangs: free text that would forge a commit header, rewrite a reader's
# screen or forge a table row is refused at the one check every write runs; a named pipe as
# FILE is refused, never waited on; a version accepted at write time stamps; after every
# kind of write (and every refused one) the meta repo passes `git fsck --strict`.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --repo "$R" "$@"; }
refused() {
	before=$(tip "$R")
	expect_fail "$@"
	[ "$(tip "$R")" = "$before" ] || fail "'$*' moved main"
}
ESC=$(printf '\033')
NL='
'

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")

check "one of every kind of write"
bm project add app/server --source "file://$T/app" --description "the API server" >/dev/null
bm release add app/server --source "file://$T/app@$C1" --id r1 --version '1.0 beta' \
	--note "caf$(printf '\303\251') r\"1\"" >/dev/null
echo payload >"$T/app.bin"
bm binary add app/server r1 "$T/app.bin" --os linux --arch amd64 --url "file://$T/app.bin" >/dev/null
bm channel promote app/server stable r1 --reason "first release" >/dev/null
bm env add prod --description "production" >/dev/null
bm config set app/server prod PORT=8080 "MOTD=line one${NL}line	two" --reason "launch" >/dev/null
bm flag set app/server prod checkout --variant on=true --variant off=false --default off >/dev/null
bm log add --kind codegen --project app/server --message "regenerated${NL}the client" --attr files=12 >/dev/null
(cd "$T" && "$BM" key gen --sign -o rel --no-password >/dev/null 2>&1)
bm key trust "$T/rel.pub" >/dev/null
bm binary sign "$T/app.bin" --key "$T/rel.key" >/dev/null
"$BM" key gen --age -o "$T/id.age" >/dev/null 2>&1
BOOTMETA_IDENTITY="$T/id.age" bm recipients add prod --me --comment "ci key" >/dev/null
printf 'hunter2' | BOOTMETA_IDENTITY="$T/id.age" bm secret set app/server prod DB_PASSWORD >/dev/null

check "an actor that would forge a commit header or hold escapes is refused"
refused 1 "the actor holds a new line" bm --actor "Eve${NL}parent 0000000000000000000000000000000000000000" \
	channel promote app/server beta r1
refused 1 "the actor holds an escape character (\\x1b)" bm --actor "Eve ${ESC}[31m" channel promote app/server beta r1
refused 1 "not \"Name <email>\"" bm --actor "Eve <eve@example.com> <x>" channel promote app/server beta r1
refused 1 "has an empty email" bm --actor "Eve <>" channel promote app/server beta r1
refused 1 "the actor holds a new line" env BOOTMETA_ACTOR="Eve${NL}committer x" "$BM" --repo "$R" env add stage
# a plain name is what git accepts too
bm --actor "Eve" channel promote app/server beta r1 >/dev/null

check "free text: one line, no control characters, where a field does not hold lines"
refused 1 "the reason holds a new line" bm channel promote app/server stable r1 --reason "ok${NL}#9 forged"
refused 1 "the reason holds an escape character" bm channel promote app/server stable r1 --reason "${ESC}[2J"
refused 1 "the note holds a tab" bm release add app/server --source "file://$T/app@$C1" --id r2 --note "a	b"
refused 1 "the version holds a new line" bm release add app/server --source "file://$T/app@$C1" --id r2 \
	--version "1${NL}2"
refused 1 "the description holds" bm env add stage --description "pre${ESC}]0;owned"
refused 1 "C1 control" bm project add app/other --description "x$(printf '\302\233')2J"
refused 1 "not valid UTF-8" bm project add app/other --description "$(printf 'caf\351')"
refused 1 "the reason holds a new line" bm config set app/server prod PORT=9 --reason "a${NL}b"
refused 1 "the value holds an escape character" bm config set app/server prod "MOTD=${ESC}[2J"
refused 1 "the message holds" bm log add --kind codegen --message "done${ESC}[2J"
refused 1 "attribute url: the value holds a new line" bm log add --kind codegen --message ok \
	--attr "url=a${NL}forged: b"
refused 1 "the recipient comment holds" env BOOTMETA_IDENTITY="$T/id.age" "$BM" --repo "$R" \
	recipients add prod --me --comment "x${ESC}[2J"
refused 1 "both ' and \"" bm release add app/server --source "file://$T/app@$C1" --id r2 --version "it's \"x\""

check "a refused name shows its non-ASCII bytes as \\xNN"
refused 1 "project name \"caf\\xc3\\xa9\\xff\" contains '\\xc3'" bm project add "$(printf 'caf\303\251\377')"
refused 1 "release id" bm release add app/server --source "file://$T/app@$C1" --id "$(printf 'r\377')"
grep -q "$(printf '\377')" "$T/err" && fail "a raw \\xff byte reached the message"
# a name git would refuse as a tree entry is refused before it becomes a path
refused 1 "git refuses it" bm release add app/server --source "file://$T/app@$C1" --id r2 \
	--import 'example.com/GIT~1@v1.0.0'

check "a named pipe as FILE is refused, not waited on"
mkfifo "$T/pipe"
refused 1 "is a named pipe (FIFO), not a regular file" timeout 20 "$BM" --repo "$R" \
	binary add app/server r1 "$T/pipe" --os linux --arch amd64
refused 1 "is a named pipe (FIFO), not a regular file" timeout 20 "$BM" --repo "$R" trace "$T/pipe"
refused 1 "is a named pipe (FIFO), not a regular file" timeout 20 "$BM" --repo "$R" \
	binary sign "$T/pipe" --key "$T/rel.key"
refused 1 "not a regular file" timeout 20 "$BM" --repo "$R" binary add app/server r1 /dev/null --os linux --arch amd64
# a stream where the command says it reads one: secret set --file takes a pipe (bounded)
printf 's3cret' | BOOTMETA_IDENTITY="$T/id.age" timeout 20 "$BM" --repo "$R" secret set app/server prod API_KEY \
	/dev/stdin >/dev/null
[ "$(BOOTMETA_IDENTITY="$T/id.age" bm secret get app/server prod API_KEY)" = s3cret ] || fail "secret from a pipe"

check "a free-text version stamps in every format, and a built binary traces back to it"
bm stamp app/server r1 --format c >"$T/bootmeta_stamp.h"
grep -qF '#define BOOTMETA_STAMP_VERSION "1.0 beta"' "$T/bootmeta_stamp.h" || fail "C header version"
cat >"$T/prog.c" <<'EOF'
#include <stdio.h>
#include "bootmeta_stamp.h"
int main(void) { printf("%s\n", BOOTMETA_STAMP_VERSION); return 0; }
EOF
gcc -Wall -Werror -O2 -I"$T" -o "$T/prog" "$T/prog.c"
[ "$("$T/prog")" = "1.0 beta" ] || fail "program prints $("$T/prog")"
bm trace "$T/prog" >"$T/trace" 2>&1 || { cat "$T/trace"; fail "trace of a stamped binary with a free-text version"; }
[ "$(bm stamp app/server r1 --format json | jq -r .version)" = "1.0 beta" ] || fail "json version"
bm stamp app/server r1 --format go-ldflags | grep -qF " -X 'main.bootmetaVersion=1.0 beta'" || fail "go-ldflags version"
bm release add app/server --source "file://$T/app@$C1" --id r3 --version "caf$(printf '\303\251') \"rc\" ??=1" >/dev/null
bm stamp app/server r3 --format c >"$T/bootmeta_stamp.h"
gcc -Wall -Werror -O2 -I"$T" -o "$T/prog3" "$T/prog.c"
[ "$("$T/prog3")" = "caf$(printf '\303\251') \"rc\" ??=1" ] || fail "program 3 prints $("$T/prog3")"
if command -v go >/dev/null 2>&1; then
	mkdir -p "$T/gomod"
	printf 'module example.com/stamped\n\ngo 1.19\n' >"$T/gomod/go.mod"
	cat >"$T/gomod/main.go" <<'EOF'
package main

import "fmt"

var bootmetaVersion, bootmetaStamp string

func main() { fmt.Println(bootmetaVersion, len(bootmetaStamp) > 0) }
EOF
	ldflags=$(bm stamp app/server r1 --format go-ldflags)
	(cd "$T/gomod" && GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local GOPROXY=off GOPATH="$T/gopath" \
		GOCACHE="$T/gocache" go build -ldflags "$ldflags" -o "$T/goprog" .)
	[ "$("$T/goprog")" = "1.0 beta true" ] || fail "go program prints $("$T/goprog")"
else
	fail "go is not installed (scripts/deps.sh installs golang-go)"
fi

check "the meta repo passes git fsck --strict after all of it"
git --git-dir="$R" fsck --strict --no-progress || fail "git fsck --strict"

check "records planted by another tool with escapes and new lines are shown escaped"
# protobuf by hand, as a foreign writer would: ChannelEntry seq 2 and a Release r9
python3 - "$T" <<'PY'
import sys
def varint(n):
    out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def s(f, v): v = v.encode() if isinstance(v, str) else v; return varint(f << 3 | 2) + varint(len(v)) + v
def u(f, n): return varint(f << 3) + varint(n)
open(sys.argv[1] + '/e2.pb', 'wb').write(u(1, 2) + s(2, 'app/server') + s(3, 'stable') + s(4, 'r1') +
    s(6, 'ok\x1b[2J\x1b]0;owned\x07\n3      r1  forged row') + u(7, 1764547200000) + s(8, 'Eve \x1b[31m<eve@x>'))
open(sys.argv[1] + '/r9.pb', 'wb').write(s(1, 'app/server') + s(2, 'r9') + s(3, s(1, 'https://x/y\x1b[2J') + s(2, 'a' * 40)) +
    s(4, '1.0\u009b31m') + s(5, 'note\x1b[2J') + u(6, 1764547200000) + s(7, 'Eve\x1b[31m'))
PY
plant "$R" projects/app/server/channels/stable/0000000/0000000002.pb "$T/e2.pb"
plant "$R" projects/app/server/releases/r9.pb "$T/r9.pb"
printf 'garbage\377\001' >"$T/bad.pb"
plant "$R" projects/app/server/releases/r8.pb "$T/bad.pb"
for cmd in "channel history app/server stable" "channel get app/server stable" "release list app/server" \
	"release show app/server r9" "trace r9"; do
	# shellcheck disable=SC2086
	bm $cmd >"$T/out" 2>"$T/err" || true
	if grep -q "$ESC" "$T/out" "$T/err" || grep -q "$(printf '\302\233')" "$T/out" "$T/err"; then
		fail "$cmd printed a raw escape"
	fi
done
bm channel history app/server stable >"$T/out"
grep -qF 'Eve \x1b[31m<eve@x>  ok\x1b[2J\x1b]0;owned\x07\n3      r1  forged row' "$T/out" || { cat "$T/out"; fail "history not escaped"; }
[ "$(wc -l <"$T/out")" = 3 ] || { cat "$T/out"; fail "a new line in a reason forged a row"; }
bm release show app/server r9 | grep -qF 'version   1.0\xc2\x9b31m' || fail "release show: version not escaped"

check "--json listings stay one document and name the record that does not decode"
set +e
bm --json release list app/server >"$T/list.json" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "release list with a damaged record exited $rc, want 1"
[ "$(jq -r 'map(.id // empty) | join(",")' "$T/list.json")" = "r1,r3,r9" ] || { cat "$T/list.json"; fail "release list ids"; }
[ "$(jq -r 'map(select(.error)) | .[0].path' "$T/list.json")" = projects/app/server/releases/r8.pb ] ||
	{ cat "$T/list.json"; fail "release list does not name the damaged record"; }
[ "$(jq -r 'map(select(.error)) | .[0].code' "$T/list.json")" = corrupt ] || fail "error code"
set +e
bm --json show projects/app/server/releases/r1.pb projects/app/server/releases/r8.pb \
	projects/app/server/project.pb >"$T/show.json"
rc=$?
set -e
[ "$rc" = 1 ] || fail "show with a damaged record exited $rc"
[ "$(jq -r 'length' "$T/show.json")" = 3 ] || { cat "$T/show.json"; fail "show A B C --json is not one array of 3"; }
[ "$(jq -r '.[0].id, .[1].path, .[2].name' "$T/show.json" | tr '\n' ' ')" = "r1 projects/app/server/releases/r8.pb app/server " ] ||
	{ cat "$T/show.json"; fail "show array order"; }
[ "$(bm --json show projects/app/server/releases/r1.pb | jq -r .id)" = r1 ] || fail "show one PATH --json is the record"
echo "ok"
