#!/bin/sh
# Feature flags through the CLI: versions stored under +flags/, rules per channel (unknown
# channels refused), edits, the kill switch, eval, flagd export, dry runs, and bad input
# that changes nothing.
. "$BM_SRCDIR/tests/e2e/cfg_lib.sh"

add_project app/server
add_channel app/server beta
add_channel app/server stable
bm env add prod >/dev/null

# a new flag
before=$(tip)
bm flag set app/server prod new-ui --variant on=true --variant off=false --default off \
	--rule beta=on --rule stable=on:1,off:1 > "$work/out"
[ "$(git --git-dir="$work/meta" rev-list --count "$before..main")" = 1 ] || fail "one commit"
git --git-dir="$work/meta" cat-file -e main:envs/prod/config/app/server/+flags/new-ui/0000000001.pb || fail "record path"
grep -q "+rule stable=on:1,off:1" "$work/out" || fail "set output"

# eval: beta gets on; stable splits by key; unknown channel gets the default
[ "$(bm flag eval app/server prod new-ui --channel beta --key h1)" = "$(printf 'true\ton\tTARGETING_MATCH')" ] || fail "beta"
[ "$(bm flag eval app/server prod new-ui --channel canary --key h1)" = "$(printf 'false\toff\tDEFAULT')" ] || fail "unknown channel"
on=0; i=0
while [ $i -lt 40 ]; do
	v=$(bm flag eval app/server prod new-ui --channel stable --key "host-$i" | cut -f2)
	[ "$v" = on ] && on=$((on + 1))
	i=$((i + 1))
done
[ $on -gt 8 ] && [ $on -lt 32 ] || fail "a 50/50 rollout gave $on of 40"
bm flag eval app/server prod new-ui --channel stable --key host-1 --json | grep -q '"reason":"SPLIT"' || fail "eval --json"

# dry run: record and change printed, nothing committed
before=$(tip)
bm flag set app/server prod new-ui --rule stable=on:9,off:1 --dry-run > "$work/out"
[ "$(tip)" = "$before" ] || fail "dry run committed"
grep -q "+flags/new-ui/0000000002.pb" "$work/out" && grep -q -- "-rule stable=on:1,off:1" "$work/out" &&
	grep -q "+rule stable=on:9,off:1" "$work/out" || { cat "$work/out"; fail "dry run output"; }
bm --json flag set app/server prod new-ui --default on --dry-run | grep -q '"dryRun":true,"unchanged":false,"metaCommit":null' ||
	fail "dry run json"

# edits: a rule, remove a rule, the default
bm flag set app/server prod new-ui --rule stable=on:9,off:1 >/dev/null
bm flag set app/server prod new-ui --remove-rule beta --default on >/dev/null
[ "$(bm flag eval app/server prod new-ui --channel beta --key h1 | cut -f2,3)" = "$(printf 'on\tDEFAULT')" ] || fail "remove-rule"
# the same definition again: no commit
before=$(tip)
bm flag set app/server prod new-ui --default on > "$work/out"
[ "$(tip)" = "$before" ] && grep -q unchanged "$work/out" || fail "unchanged edit"

# kill switch
bm flag disable app/server prod new-ui >/dev/null
[ "$(bm flag eval app/server prod new-ui --channel stable --key h1 | cut -f2,3)" = "$(printf 'on\tDISABLED')" ] || fail "disabled"
bm flag list app/server prod | grep -q "^new-ui .*DISABLED" || fail "list shows disabled"
# redefining keeps it disabled unless --enabled
bm flag set app/server prod new-ui --variant on=true --variant off=false --default off >/dev/null
bm --json flag get app/server prod new-ui | grep -q '"disabled":true' || fail "redefinition re-enabled the flag"
bm flag enable app/server prod new-ui >/dev/null
bm --json flag get app/server prod new-ui | grep -q '"disabled"' && fail "enable" # proto3: false is left out

# history and provenance: every version, newest first, with the meta commit that added it
bm --json flag history app/server prod new-ui > "$work/h.json"
[ "$(grep -o '"seq":' "$work/h.json" | wc -l)" = 6 ] || fail "history has $(grep -o '"seq":' "$work/h.json" | wc -l) versions"
c=$(bm --json flag get app/server prod new-ui | sed 's/.*"metaCommit":"\([0-9a-f]*\)".*/\1/')
[ "$c" = "$(tip)" ] || fail "metaCommit of the current version"
bm --json flag get app/server prod new-ui --at HEAD~1 | grep -q '"disabled":true' || fail "--at"

# other types, and the flagd export
bm flag set app/server prod banner --variant a=hello --variant b='{"x":1}' --type string --rule beta=b >/dev/null
bm flag set app/server prod ratio --variant low=0.1 --variant high=0.9 --rule stable=low:1,high:3 >/dev/null
bm flag export app/server prod --format flagd --output "$work/flags.json" >/dev/null
for k in new-ui banner ratio; do grep -q "\"$k\":" "$work/flags.json" || fail "export lacks $k"; done
grep -q '"fractional":\[\["low",1\],\["high",3\]\]' "$work/flags.json" || fail "export rollout"
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$work/flags.json" || fail "export is not JSON"
bm flag export app/server prod --pretty > "$work/pretty.json"
[ "$(wc -l < "$work/pretty.json")" -gt 20 ] || fail "--pretty"
grep -q '^    "new-ui": {$' "$work/pretty.json" && grep -q '^      "state": "ENABLED",$' "$work/pretty.json" ||
	{ cat "$work/pretty.json"; fail "--pretty indents"; }
bm flag export app/server prod > "$work/compact.json"
node -e 'const fs = require("fs"), [a, b] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
	if (JSON.stringify(a) !== JSON.stringify(b)) process.exit(1)' "$work/pretty.json" "$work/compact.json" ||
	fail "--pretty is not the same JSON"
# one newline at the end, not a blank line
for f in pretty compact flags; do
	[ "$(tail -c 2 "$work/$f.json" | od -An -c | tr -d ' ')" = '}\n' ] || fail "$f.json does not end in one newline"
done
# -o names the file asked for (not a temporary beside it); "1 flag", not "1 flags"
refused 1 "cannot write /nonexistent/dir/f.json: " bm flag export app/server prod -o /nonexistent/dir/f.json
grep -q "tmp" "$work/err" && fail "the error names the temporary file: $(cat "$work/err")"
bm env add solo >/dev/null
bm flag set app/server solo one --variant on=true --variant off=false >/dev/null
bm flag export app/server solo -o "$work/solo.json" 2> "$work/err" >/dev/null
grep -q "^wrote 1 flag to " "$work/err" || fail "grammar: $(cat "$work/err")"
[ "$(bm --json flag list app/server prod | grep -o '"key":' | wc -l)" = 3 ] || fail "list --json"

# --json is the Flag record (proto3 JSON: the same shape as the --dry-run record, variants a
# list, 64-bit numbers strings, lowerCamelCase) plus metaCommit and path
bm --json flag get app/server prod new-ui > "$work/j-get.json"
bm --json flag list app/server prod > "$work/j-list.json"
bm --json flag eval app/server prod ratio --channel stable --key h1 > "$work/j-eval.json"
bm --json flag set app/server prod ratio --default high --dry-run > "$work/j-dry.json"
json_conventions "$work/h.json" "$work/j-get.json" "$work/j-list.json" "$work/j-eval.json" "$work/j-dry.json"
python3 - "$work/h.json" "$work/j-dry.json" "$work/j-eval.json" <<'PY' || fail "flag --json shapes"
import json, sys
h = json.load(open(sys.argv[1]))
dry = json.load(open(sys.argv[2]))
ev = json.load(open(sys.argv[3]))
assert [v["seq"] for v in h] == ["6", "5", "4", "3", "2", "1"], h
assert h[0]["variants"] == [{"name": "on", "boolValue": True}, {"name": "off", "boolValue": False}], h[0]
assert dry["record"]["seq"] == "2" and isinstance(dry["record"]["variants"], list), dry
assert dry["after"] == dry["record"] and dry["before"]["seq"] == "1", dry
assert ev["flagVersion"] == "1", ev
PY

# bad input: a clear error and no commit
refused 1 "no channel canary" bm flag set app/server prod f1 --variant on=true --rule canary=on
refused 1 "add up to zero" bm flag set app/server prod f1 --variant a=1 --variant b=2 --rule stable=a:0,b:0
refused 1 "no variant 'zz'" bm flag set app/server prod f1 --variant a=1 --rule beta=zz
refused 1 "more than 2147483647" bm flag set app/server prod f1 --variant a=1 --variant b=2 --rule stable=a:2147483647,b:1
refused 1 "does not exist yet" bm flag set app/server prod f1 --default on
refused 1 "" bm flag set app/server prod 'bad key' --variant a=1
refused 1 "no environment \"nope\"; add it with \`bootmeta env add nope\`" bm flag set app/server nope f1 --variant a=1
refused 1 "no project \"app/nope\"; add it with \`bootmeta project add app/nope\`" bm flag set app/nope prod f1 --variant a=1
# reads refuse a project or env the repo does not have (not "no flags")
refused 1 "no project \"nosuch/proj\"; add it with \`bootmeta project add nosuch/proj\`" bm flag list nosuch/proj prod
refused 1 "no environment \"nosuchenv\"; add it with \`bootmeta env add nosuchenv\`" bm flag list app/server nosuchenv
refused 1 '"code":"not found"' bm --json flag list nosuch/proj prod
refused 1 "no project \"nosuch/proj\"" bm flag get nosuch/proj prod new-ui
refused 1 "no environment \"nosuchenv\"" bm flag history app/server nosuchenv new-ui
refused 1 "no project \"nosuch/proj\"" bm flag eval nosuch/proj prod new-ui --channel beta --key h1
refused 1 "no project \"nosuch/proj\"" bm flag export nosuch/proj prod
refused 1 "" bm flag set app/server prod f1 --variant on=maybe --type bool
refused 1 "" bm flag set app/server prod f1 --variant a=1 --variant a=2
refused 1 "does not exist" bm flag disable app/server prod f1
refused 2 "contradict" bm flag set app/server prod new-ui --enabled --disabled
refused 2 "--channel" bm flag eval app/server prod new-ui --key h1
expect_rc 1 bm flag get app/server prod f1
# allowed ahead of the first promotion when asked
bm flag set app/server prod f1 --variant on=true --variant off=false --rule canary=on --allow-unknown-channel >/dev/null
# and disabling it later does not trip over the not-yet-promoted channel
bm flag disable app/server prod f1 >/dev/null

if git --git-dir="$work/meta" log --format= --name-status main | grep -qv '^A'; then
	fail "a commit modified or deleted a file"
fi
echo "ok t_flags_cli"
