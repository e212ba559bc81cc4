#!/bin/sh
# Generator logs: entries appended under log/<yyyy>/<mm>/<dd>/, one commit each, listed newest
# first with kind/project/env/time filters; bounds and bad input change nothing; a record
# that does not decode is reported and skipped.
. "$BM_SRCDIR/tests/e2e/cfg_lib.sh"

bm log add --kind codegen --project app/server --message "regenerated the API client" \
	--attr generator=protoc --attr files=12 >/dev/null
bm log add --kind deploy --env prod --message "rolled out v1.2" >/dev/null
bm --json log add --kind codegen --project app/cli -m "regenerated flags" > "$work/third.json"
path=$(sed 's/.*"path":"\([^"]*\)".*/\1/' "$work/third.json")
case "$path" in log/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/[0-9]*-[0-9a-f]*.pb) ;; *) fail "path $path" ;; esac
git --git-dir="$work/meta" cat-file -e "main:$path" || fail "record not in the tree"
# the day folder is the UTC day of the entry's time
ms=$(sed 's/.*"timeMs":"\([0-9]*\)".*/\1/' "$work/third.json")   # int64: a string (proto3 JSON)
day=$(date -u -d "@$((ms / 1000))" +%Y/%m/%d)
case "$path" in "log/$day/"*) ;; *) fail "$path is not under log/$day" ;; esac
[ "$(git --git-dir="$work/meta" log --format=%s -1 main)" = "log codegen: regenerated flags" ] || fail "commit message"

# listing: newest first, filters
bm --json log --kind codegen > "$work/l.json"
[ "$(grep -o '"kind":"codegen"' "$work/l.json" | wc -l)" = 2 ] || fail "--kind"
grep -q '"kind":"deploy"' "$work/l.json" && fail "--kind let deploy through"
first=$(grep -o '"message":"[^"]*"' "$work/l.json" | head -1)
[ "$first" = '"message":"regenerated flags"' ] || fail "not newest first: $first"
grep -q '"attrs":\[{"key":"generator","value":"protoc"},{"key":"files","value":"12"}\]' "$work/l.json" || fail "attrs"
[ "$(bm --json log --project app/server | grep -o '"id":' | wc -l)" = 1 ] || fail "--project"
[ "$(bm --json log --env prod | grep -o '"id":' | wc -l)" = 1 ] || fail "--env"
[ "$(bm --json log entries | grep -o '"id":' | wc -l)" = 3 ] || fail "entries"
[ "$(bm --json log entries --limit 2 | grep -o '"id":' | wc -l)" = 2 ] || fail "--limit"
bm log --kind deploy | grep -q "rolled out v1.2" || fail "text listing"
# lowerCamelCase keys, int64 timeMs as a string (proto3 JSON), as every --json
bm --json log entries > "$work/j-entries.json"
json_conventions "$work/l.json" "$work/third.json" "$work/j-entries.json"
# time range: --since inclusive, --until exclusive, relative durations
[ "$(bm --json log --since "$ms" | grep -o '"id":' | wc -l)" = 1 ] || fail "--since inclusive"
[ "$(bm --json log --since "$((ms + 1))" | grep -o '"id":' | wc -l)" = 0 ] || fail "--since"
[ "$(bm --json log --until "$ms" | grep -o '"id":' | wc -l)" = 2 ] || fail "--until exclusive"
[ "$(bm --json log --since 1h | grep -o '"id":' | wc -l)" = 3 ] || fail "--since 1h"
[ "$(bm --json log --since 2000-01-01 --until 2000-01-02 | grep -o '"id":' | wc -l)" = 0 ] || fail "old range"
bm log --kind nothing-like-this | grep -q "no log entries match" || fail "empty listing"

# bad input: clear error, no commit
refused 1 "log kind" bm log add --kind Deploy -m x
refused 1 "needs a message" bm log add --kind deploy -m ""
refused 2 "needs --kind" bm log add -m "no kind"
refused 1 "project name" bm log add --kind deploy --project ../x -m x
refused 1 "environment name" bm log add --kind deploy --env 'a b' -m x
refused 1 "given twice" bm log add --kind deploy -m x --attr a=1 --attr a=2
refused 2 "KEY=VALUE" bm log add --kind deploy -m x --attr novalue
refused 1 "attribute" bm log add --kind deploy -m x --attr 'bad key=1'
head -c 17000 /dev/zero | tr '\0' m > "$work/big"
refused 1 "over the limit of 16384" bm log add --kind deploy -m "$(cat "$work/big")"
head -c 5000 /dev/zero | tr '\0' v > "$work/v"
refused 1 "over the limit of 4096" bm log add --kind deploy -m x --attr "a=$(cat "$work/v")"
set --
i=0
while [ $i -lt 65 ]; do set -- "$@" --attr "k$i=v"; i=$((i + 1)); done
refused 1 "over the limit of 64" bm log add --kind deploy -m x "$@"
refused 2 "" bm log --since nonsense
refused 2 "before --until" bm log --since 2h --until 3h
printf '\377\376' > "$work/bad.txt"
refused 1 "UTF-8" bm log add --kind deploy -m "$(cat "$work/bad.txt")"

# a record that does not decode is named and skipped; the others still list
d=$(mktemp -d)
git clone -q "$work/meta" "$d/w" 2>/dev/null
mkdir -p "$d/w/log/2001/01/01"
printf '\377\377\377' > "$d/w/log/2001/01/01/0978307200000-broken.pb"
(cd "$d/w" && git add -A && git -c user.name=t -c user.email=t@t commit -qm broken && git push -q origin HEAD:main)
rm -rf "$d"
expect_rc 0 bm --json log entries
grep -q "skipping log/2001/01/01/0978307200000-broken.pb" "$work/err" || fail "broken record not reported"
[ "$(grep -o '"id":' "$work/out" | wc -l)" = 3 ] || fail "listing stopped at a broken record"
echo "ok t_genlog"
