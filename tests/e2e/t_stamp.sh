#!/bin/sh
# Build stamps end to end: emit a C header, compile it into a program with gcc, find the
# stamp in the binary (also stripped, and with --gc-sections); emit Go -ldflags, build a Go
# program with them and find it there; forged and truncated copies are refused.
set -eu
tool="$BM_BUILDDIR/stamp_tool"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

meta=0123456789abcdef0123456789abcdef01234567
c1=89abcdef0123456789abcdef0123456789abcdef
c2=fedcba9876543210fedcba9876543210fedcba98
src1="https://github.com/acme/server.git"
src2="git@github.com:acme/lib.git"   # '@' and ':' must survive the encoding

echo "--- emit a C header and compile it in"
"$tool" emit c acme/server r-42 "$meta" -v 1.2.3 "$src1@$c1" "$src2@$c2" > "$tmp/bootmeta_stamp.h"
grep -q 'BOOTMETA-STAMP-v1:' "$tmp/bootmeta_stamp.h" || fail "no stamp in the header"
cat > "$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include "bootmeta_stamp.h"
int main(void) { printf("release %s\n", BOOTMETA_STAMP_RELEASE); return 0; }
EOF
gcc -Wall -Wextra -Werror -O2 -I"$tmp" -o "$tmp/prog" "$tmp/prog.c"
[ "$("$tmp/prog")" = "release r-42" ] || fail "program output"
"$tool" find "$tmp/prog" > "$tmp/found"
grep -qx 'project: acme/server' "$tmp/found" || fail "project"
grep -qx 'release: r-42' "$tmp/found" || fail "release"
grep -qx 'version: 1.2.3' "$tmp/found" || fail "version"
grep -qx "meta_commit: $meta" "$tmp/found" || fail "meta commit"
grep -qx "source: $src1 $c1" "$tmp/found" || fail "source 1"
grep -qx "source: $src2 $c2" "$tmp/found" || fail "source 2"

echo "--- kept through --gc-sections and strip"
gcc -O2 -ffunction-sections -fdata-sections -Wl,--gc-sections -I"$tmp" -o "$tmp/prog_gc" "$tmp/prog.c"
strip "$tmp/prog_gc"
"$tool" find "$tmp/prog_gc" | grep -qx 'release: r-42' || fail "stamp lost with --gc-sections + strip"

echo "--- forged and truncated stamps are refused"
off=$("$tool" find "$tmp/prog" | sed -n 's/^offset: //p')
cp "$tmp/prog" "$tmp/forged"
# Turn "r-42" into "r-43" in the payload: the SHA-256 check no longer matches.
pos=$(grep -obUa 'r=r-42' "$tmp/forged" | head -1 | cut -d: -f1)
printf '3' | dd of="$tmp/forged" bs=1 seek=$((pos + 5)) conv=notrunc 2>/dev/null
if "$tool" find "$tmp/forged" 2> "$tmp/err"; then fail "forged stamp accepted"; fi
grep -q 'corrupt' "$tmp/err" && grep -q 'check does not match' "$tmp/err" || fail "forged: $(cat "$tmp/err")"
head -c $((off + 60)) "$tmp/prog" > "$tmp/trunc"
if "$tool" find "$tmp/trunc" 2> "$tmp/err"; then fail "truncated stamp accepted"; fi
grep -q 'truncated' "$tmp/err" || fail "truncated: $(cat "$tmp/err")"

echo "--- a binary without a stamp"
if "$tool" find /bin/true 2> "$tmp/err"; then fail "stamp found in /bin/true"; fi
grep -q 'not found' "$tmp/err" || fail "no stamp: $(cat "$tmp/err")"
# The stamp tool itself holds the magic as a string constant: that is not a stamp.
if "$tool" find "$tool" 2> "$tmp/err"; then fail "stamp found in stamp_tool"; fi
grep -q 'not found' "$tmp/err" || fail "stamp_tool: $(cat "$tmp/err")"

echo "--- json"
"$tool" emit json acme/server r-42 "$meta" "$src1@$c1" > "$tmp/stamp.json"
[ "$(jq -r .release "$tmp/stamp.json")" = r-42 ] || fail "json release"
[ "$(jq -r '.sources[0].commit' "$tmp/stamp.json")" = "$c1" ] || fail "json source"
jq -r .stamp "$tmp/stamp.json" | grep -q '^BOOTMETA-STAMP-v1:' || fail "json stamp"

echo "--- bad input is refused"
if "$tool" emit c acme/server r-42 nothex "$src1@$c1" 2> "$tmp/err"; then fail "bad meta commit"; fi
grep -q 'meta commit' "$tmp/err" || fail "bad meta commit message"
if "$tool" emit c ../x r-42 "$meta" 2> "$tmp/err"; then fail "bad project"; fi

echo "--- go -ldflags"
command -v go >/dev/null 2>&1 || { echo "FAIL: needs go (Debian package golang-go; make deps installs it)" >&2; exit 1; }
mkdir -p "$tmp/gomod"
cat > "$tmp/gomod/go.mod" <<'EOF'
module example.com/stamped

go 1.19
EOF
cat > "$tmp/gomod/main.go" <<'EOF'
package main

import "fmt"

// Set by `bootmeta stamp ... --format go-ldflags`.
var (
	bootmetaStamp   string
	bootmetaRelease string
)

func main() { fmt.Println(bootmetaRelease, len(bootmetaStamp) > 0) }
EOF
ldflags=$("$tool" emit go-ldflags acme/server r-42 "$meta" -v 1.2.3 "$src1@$c1" "$src2@$c2")
(cd "$tmp/gomod" && GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local GOPROXY=off GOPATH="$tmp/gopath" \
	go build -ldflags "$ldflags" -o "$tmp/goprog" .)
[ "$("$tmp/goprog")" = "r-42 true" ] || fail "go program output: $("$tmp/goprog")"
"$tool" find "$tmp/goprog" > "$tmp/found"
grep -qx 'release: r-42' "$tmp/found" || fail "go: release"
grep -qx "source: $src2 $c2" "$tmp/found" || fail "go: source 2"
# The Go build info of the same binary records the -ldflags with the stamp in it.
"$tool" gobuildinfo "$tmp/goprog" | grep -q 'build	-ldflags=".*BOOTMETA-STAMP-v1:' || fail "go build info lacks -ldflags"
echo "ok"
