#!/bin/sh
# Module imports: imports of a release, dependents through the modules/<m>/+by/ reverse index
# with the channels that run each release now, pin for builds (plain, go, json), and build
# stamps that trace reads back. Release, channel and index records are made with protoc here,
# as `release add --import` writes them.
. "$BM_SRCDIR/tests/e2e/cfg_lib.sh"
command -v protoc >/dev/null 2>&1 || { echo "FAIL: needs protoc (Debian package protobuf-compiler; make deps installs it)" >&2; exit 1; }

c1=1111111111111111111111111111111111111111
c2=2222222222222222222222222222222222222222
c3=3333333333333333333333333333333333333333
st="$work/stage"
add_project acme/api
add_project acme/web
rel() { # PROJECT ID COMMIT VERSION IMPORTS...
	p=$1 id=$2 c=$3 v=$4; shift 4
	{
		printf 'project: "%s" id: "%s" version: "%s" ' "$p" "$id" "$v"
		printf 'sources { url: "https://github.com/acme/%s.git" commit: "%s" } ' "${p%%/*}" "$c"
		printf 'sources { url: "https://github.com/acme/shared.git" commit: "%s" } ' "$c3"
		for imp in "$@"; do
			m=${imp%@*}; ver=${imp#*@}; ind=false
			case "$ver" in *+ind) ver=${ver%+ind}; ind=true ;; esac
			printf 'imports { module: "%s" version: "%s" indirect: %s } ' "$m" "$ver" "$ind"
			printf 'module: "%s" version: "%s" project: "%s" release: "%s" indirect: %s' "$m" "$ver" "$p" "$id" "$ind" |
				encode ModuleRef "$st/modules/$m/+by/$p/$id.pb"
		done
	} | encode Release "$st/projects/$p/releases/$id.pb"
}
chan() { # PROJECT CHANNEL SEQ RELEASE
	printf 'seq: %s project: "%s" channel: "%s" release: "%s"' "$3" "$1" "$2" "$4" |
		encode ChannelEntry "$st/projects/$1/channels/$2/0000000/$(printf %010d "$3").pb"
}
rel acme/api r1 "$c1" v1.0.0 github.com/acme/lib@v1.2.0 golang.org/x/text@v0.14.0+ind
rel acme/api r2 "$c2" v1.1.0 github.com/acme/lib@v1.3.0 github.com/acme/lib/v2@v2.0.1
rel acme/web w1 "$c2" v0.9.0 github.com/acme/lib@v1.3.0
chan acme/api stable 1 r1
chan acme/api stable 2 r2
chan acme/api beta 1 r2
chan acme/web stable 1 w1
git_add_tree "$st"

# imports
bm imports acme/api r1 > "$work/out"
grep -qx "github.com/acme/lib v1.2.0" "$work/out" && grep -qx "golang.org/x/text v0.14.0 // indirect" "$work/out" ||
	{ cat "$work/out"; fail "imports"; }
bm --json imports acme/api r2 | grep -q '"module":"github.com/acme/lib/v2","version":"v2.0.1","indirect":false' || fail "imports --json"
refused 1 "has no release" bm imports acme/api nope

# dependents: a tree lookup; the sub-module github.com/acme/lib/v2 does not leak into lib
bm --json dependents github.com/acme/lib > "$work/d.json"
[ "$(grep -o '"release":' "$work/d.json" | wc -l)" = 3 ] || { cat "$work/d.json"; fail "dependents count"; }
grep -q '"project":"acme/api","release":"r2","channels":\["beta","stable"\]' "$work/d.json" || { cat "$work/d.json"; fail "channels now"; }
grep -q '"project":"acme/api","release":"r1","channels":\[\]' "$work/d.json" || fail "r1 is on no channel now"
[ "$(bm --json dependents github.com/acme/lib --version v1.3.0 | grep -o '"release":' | wc -l)" = 2 ] || fail "--version"
[ "$(bm --json dependents github.com/acme/lib/v2 | grep -o '"release":' | wc -l)" = 1 ] || fail "sub-module"
bm dependents github.com/nobody/uses | grep -q "no release imports" || fail "unused module"
bm dependents github.com/acme/lib | grep -q "^acme/web .*w1 .*v1.3.0 .*stable" || fail "table"
refused 1 "module path" bm dependents '../etc'

# pin: what another module builds against
[ "$(bm pin acme/api --channel stable)" = r2 ] || fail "pin plain"
[ "$(bm pin acme/api --channel stable --format go)" = "github.com/acme/acme/api@$c2" ] || fail "pin go: $(bm pin acme/api --channel stable --format go)"
[ "$(bm pin acme/api --channel stable --format go --module github.com/acme/api)" = "github.com/acme/api@$c2" ] || fail "pin --module"
bm --json pin acme/web --channel stable | grep -q '"release":"w1","seq":"1","version":"v0.9.0"' || fail "pin json"
refused 1 "nothing on channel" bm pin acme/api --channel canary
refused 1 "no project \"nosuch/proj\"; add it with \`bootmeta project add nosuch/proj\`" bm pin nosuch/proj --channel stable
refused 1 "no project \"nosuch/proj\"" bm imports nosuch/proj r2
refused 1 "no project \"nosuch/proj\"" bm stamp nosuch/proj r2 --format json
refused 2 "" bm pin acme/api

# stamp: every source and the meta commit; trace (when built in) reads it back
meta=$(tip)
bm stamp acme/api r2 --format json > "$work/s.json"
grep -q "\"metaCommit\":\"$meta\"" "$work/s.json" && grep -q "$c3" "$work/s.json" || { cat "$work/s.json"; fail "stamp json"; }
bm stamp acme/api r2 --format c > "$work/stamp.h"
grep -q "bootmeta_stamp" "$work/stamp.h" || fail "stamp c"
bm stamp acme/api r2 --format go-ldflags | grep -q -- "-X main.bootmetaStamp=BOOTMETA-STAMP-v1:" || fail "stamp go-ldflags"
# --json of pin, stamp, imports and dependents: compact, lowerCamelCase, 64-bit numbers as strings
[ "$(wc -l < "$work/s.json")" = 1 ] || fail "stamp --format json is not one line"
bm --json pin acme/web --channel stable > "$work/j-pin.json"
bm --json imports acme/api r2 > "$work/j-imports.json"
json_conventions "$work/s.json" "$work/j-pin.json" "$work/j-imports.json" "$work/d.json"
printf '#include "stamp.h"\nint main(void){return 0;}\n' > "$work/m.c"
cc -o "$work/m" -I"$work" "$work/m.c"
grep -q "p=acme/api;r=r2;v=v1.1.0;m=$meta" "$work/m" || fail "stamp not in the binary"
if bm trace "$work/m" > "$work/t" 2>/dev/null; then
	grep -q r2 "$work/t" || fail "trace of the stamped binary"
fi
refused 1 "has no release" bm stamp acme/api nope
refused 2 "" bm stamp acme/api r2 --format yaml
# through the real `release add` (when built in): --go-mod and --import, index in the same commit
if bm release add --help >/dev/null 2>&1; then
	printf 'module github.com/acme/web\n\ngo 1.21\n\nrequire (\n\tgithub.com/acme/lib v1.4.0\n\tgolang.org/x/net v0.20.0 // indirect\n)\n' > "$work/go.mod"
	bm release add acme/web --source "https://github.com/acme/web.git@$c1" --id w2 --go-mod "$work/go.mod" \
		--import example.com/extra@v0.1.0 >/dev/null
	git --git-dir="$work/meta" show --stat --format= main > "$work/stat"
	grep -q "projects/acme/web/releases/w2.pb" "$work/stat" && grep -q "modules/github.com/acme/lib/+by/acme/web/w2.pb" "$work/stat" &&
		grep -q "modules/golang.org/x/net/+by/acme/web/w2.pb" "$work/stat" || { cat "$work/stat"; fail "release and index in one commit"; }
	bm imports acme/web w2 | grep -qx "golang.org/x/net v0.20.0 // indirect" || fail "go.mod indirect"
	[ "$(bm --json dependents github.com/acme/lib --version v1.4.0 | grep -o '"release":"w2"' | wc -l)" = 1 ] || fail "dependents of a new release"
	printf 'module x\nrequire (\n' > "$work/bad.mod"
	refused 1 "go.mod line 2" bm release add acme/web --source "https://github.com/acme/web.git@$c2" --go-mod "$work/bad.mod"
	refused 1 "module path" bm release add acme/web --source "https://github.com/acme/web.git@$c2" --import 'bad mod@v1'
	refused 1 "imported twice" bm release add acme/web --source "https://github.com/acme/web.git@$c2" \
		--import a.example/x@v1 --import a.example/x@v2
fi
echo "ok t_imports"
