#!/bin/sh
# trace FILE on binaries that were never added: a bootmeta build stamp compiled into a C
# program leads back to the release and its sources (and to the channels, when the meta repo
# has the release); Go's embedded build info is read and agrees with `go version -m`; a
# forged stamp is an error.
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
cd "$T"
STAMP_TOOL=$BM_BUILDDIR/stamp_tool

$BM init meta >/dev/null
export BOOTMETA_REPO=$T/meta
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
$BM project add demo/server --source https://git.example.com/demo.git >/dev/null
$BM release add demo/server --source https://git.example.com/demo.git@$A --source https://git.example.com/lib.git@$B >/dev/null
$BM channel promote demo/server stable $A >/dev/null
META=$(tip meta)

check "a C program with a compiled-in stamp traces back to its release, sources and channel"
"$STAMP_TOOL" emit c demo/server $A "$META" https://git.example.com/demo.git@$A https://git.example.com/lib.git@$B > stamp.h
cat > prog.c <<'C'
#include <stdio.h>
#include "stamp.h"
int main(void) { puts("hello"); return 0; }
C
gcc -O2 -o prog prog.c
$BM trace prog > out.txt || fail "trace of a stamped binary failed: $(cat out.txt)"
grep -q "^project   demo/server" out.txt || fail "no project line: $(cat out.txt)"
grep -q "^source    https://git.example.com/lib.git @ $B" out.txt || fail "second source missing: $(cat out.txt)"
grep -q "^built at  meta commit $META" out.txt || fail "meta commit missing"
grep -q "^channel   stable" out.txt || fail "the meta repo's channel is not shown: $(cat out.txt)"
$BM --json trace prog > out.json
python3 - out.json "$A" "$B" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["recorded"] is False, d
assert d["stamp"]["project"] == "demo/server", d
assert [s["commit"] for s in d["stamp"]["sources"]] == [sys.argv[2], sys.argv[3]], d
assert d["metaRepo"]["releases"][0]["channels"][0]["channel"] == "stable", d
assert d["stamp"]["metaCommit"] and "meta_commit" not in d["stamp"], d
PY
[ "$(wc -l < out.json)" = 1 ] || fail "trace --json is not one line (a pretty stamp inside?)"
python3 "$BM_SRCDIR/tests/e2e/json_conventions.py" out.json || fail "trace --json conventions"

check "a forged stamp (one byte changed) is an error"
python3 - prog <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"p=demo/server")
assert i > 0
b[i + 2] = ord("x")
open(p + ".forged", "wb").write(bytes(b))
PY
chmod +x prog.forged
expect_fail 1 "does not verify" $BM trace prog.forged

check "Go build info of Debian's /usr/bin/age agrees with go version -m"
$BM --json trace /usr/bin/age > age.json || fail "trace /usr/bin/age failed"
go version -m /usr/bin/age > gov.txt
python3 - age.json gov.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["goBuildInfo"]
lines = open(sys.argv[2]).read().splitlines()
assert lines[0].split(": ", 1)[1] == d["goVersion"], (lines[0], d["goVersion"])
want_settings = {}
for l in lines[1:]:
    f = l.strip().split("\t")
    if f[0] == "path":
        assert d["path"] == f[1], (d["path"], f)
    elif f[0] == "mod":
        assert d["main"]["path"] == f[1] and d["main"]["version"] == f[2], (d["main"], f)
    elif f[0] == "dep":
        assert any(x["path"] == f[1] and x["version"] == f[2] for x in d["deps"]), f
    elif f[0] == "build":
        k, v = f[1].split("=", 1)
        want_settings[k] = v
assert want_settings == d["settings"], (want_settings, d["settings"])
print("go version -m and bootmeta agree on", len(lines) - 1, "lines")
PY

check "a file with neither a record, a stamp nor Go build info is a clear not-found"
printf 'plain data\n' > plain.bin
expect_fail 1 "carries no bootmeta stamp and no Go build information" $BM trace plain.bin
echo ok
