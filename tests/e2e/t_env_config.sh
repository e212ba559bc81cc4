#!/bin/sh
# Environments and runtime config: typed values, one commit per call, tombstones, history,
# revert, diff, resolve through the parent chain with provenance, env-file output, dry runs,
# and bad input that changes nothing.
. "$BM_SRCDIR/tests/e2e/cfg_lib.sh"

add_project app/server
bm env add prod >/dev/null
bm env add stage --description "pre-production" >/dev/null
bm env add dev >/dev/null

# --- envs ---
bm env list --json > "$work/envs.json"
grep -q '"name":"prod"' "$work/envs.json" || fail "env list --json lacks prod"
bm env add prod/eu >/dev/null
[ "$(bm --json env show prod/eu | sed 's/.*"parent":"\([^"]*\)".*/\1/')" = prod ] || fail "prod/eu's parent is not prod"
refused 1 "already exists" bm env add prod
refused 1 "does not exist" bm env add qa --parent nope
refused 1 "does not exist" bm env add nope/child
refused 1 "own parent" bm env add loop --parent loop
refused 1 "reserved" bm env add dev/config
refused 1 "not allowed" bm env add 'bad name'
refused 1 "starts with" bm env add /abs
refused 1 "may not start with" bm env add ../up

# --- set: all keys of one call in one commit ---
before=$(tip)
bm config set app/server prod PORT=80 WORKERS=4 --type int64 >/dev/null
[ "$(git --git-dir="$work/meta" rev-list --count "$before..main")" = 1 ] || fail "two keys took more than one commit"
git --git-dir="$work/meta" show --stat main | grep -q "+keys/WORKERS/0000000001.pb" || fail "record path"
bm config set app/server prod 'DB_URL=postgres://db/prod' 'RATIO:double=0.25' 'DEBUG:bool=false' \
	'LIMITS:json={"rps": 100, "burst": [1,2]}' --reason "first cut" >/dev/null
[ "$(bm config get app/server prod PORT)" = 80 ] || fail "get PORT"
[ "$(bm config get app/server prod RATIO)" = 0.25 ] || fail "get RATIO"
bm config get app/server prod LIMITS --json | grep -q '"value":{"rps":100,"burst":\[1,2\]}' || fail "json value"
bm config get app/server prod PORT --json | grep -q '"value":"80","type":"int64","env":"prod","seq":"1"' || fail "typed get --json"

# the same value again: no record, no commit
before=$(tip)
bm config set app/server prod PORT=80 --type int > "$work/out"
[ "$(tip)" = "$before" ] || fail "an unchanged value made a commit"
grep -q unchanged "$work/out" || fail "unchanged not reported"

# --- dry run: prints the record and the diff, commits nothing ---
before=$(tip)
bm config set app/server prod PORT=8080 --type int --dry-run > "$work/out"
[ "$(tip)" = "$before" ] || fail "dry run committed"
grep -q "dry run" "$work/out" && grep -q "+keys/PORT/0000000002.pb" "$work/out" && grep -q -- "-PORT=80" "$work/out" &&
	grep -q "+PORT=8080" "$work/out" || { cat "$work/out"; fail "dry run output"; }
bm --json config set app/server prod PORT=8080 --type int --dry-run | grep -q '"dryRun":true,"metaCommit":null' || fail "dry run json"

# --- bad input: clear error, no commit ---
refused 1 "not an int64" bm config set app/server prod PORT=abc --type int
refused 1 "not a double" bm config set app/server prod 'X:double=1.5x'
refused 1 "not a bool" bm config set app/server prod 'X:bool=maybe'
refused 1 "object or a list" bm config set app/server prod 'X:json=42'
refused 1 "not valid JSON" bm config set app/server prod 'X:json={"a":'
refused 2 "unknown config type" bm config set app/server prod X=1 --type float128
refused 1 "may not contain '/'" bm config set app/server prod 'BAD/KEY=1'
refused 1 "not allowed" bm config set app/server prod 'BAD KEY=1'
refused 1 "environment name" bm config set app/server 'pr od' X=1
refused 1 "no environment \"nope\"; add it with \`bootmeta env add nope\`" bm config set app/server nope X=1
refused 1 "no project \"app/nope\"; add it with \`bootmeta project add app/nope\`" bm config set app/nope prod X=1
# reads refuse what the repo does not have (not an empty answer)
refused 1 "no project \"nosuch/proj\"; add it with \`bootmeta project add nosuch/proj\`" bm config resolve nosuch/proj prod
refused 1 "no project \"nosuch/proj\"" bm config resolve nosuch/proj prod --format env
refused 1 "no environment \"nosuchenv\"; add it with \`bootmeta env add nosuchenv\`" bm config resolve app/server nosuchenv
refused 1 "no project \"nosuch/proj\"" bm config history nosuch/proj prod
refused 1 "no project \"nosuch/proj\"" bm config history nosuch/proj prod X
refused 1 "no environment \"nosuchenv\"" bm config history app/server nosuchenv
refused 1 "no project \"nosuch/proj\"" bm config diff nosuch/proj prod stage
refused 1 "no project \"nosuch/proj\"" bm config diff nosuch/proj prod --at main
refused 1 "no environment \"nosuchenv\"" bm config diff app/server prod nosuchenv
refused 1 "no project \"nosuch/proj\"" bm config get nosuch/proj prod X
refused 1 '"code":"not found"' bm --json config resolve nosuch/proj prod
# a CLI error (not one of the library) carries its code too: {"error":...,"code":...}
refused 1 '"code":"not found"}' bm --json config get app/server prod NOSUCHKEY
refused 1 "given twice" bm config set app/server prod X=1 X=2
refused 2 "not KEY=VALUE" bm config set app/server prod JUSTKEY
head -c 70000 /dev/zero | tr '\0' x > "$work/big"
refused 1 "over the limit" bm config set app/server prod "BIG=$(cat "$work/big")"
refused 1 "nothing to unset" bm config unset app/server prod NEVER_SET
# one bad key spoils the whole call: the good one is not written either
refused 1 "not an int64" bm config set app/server prod GOOD=1 'BAD:int=x'
expect_rc 1 bm config get app/server prod GOOD

# --- layers: dev/alice over dev ---
bm config set app/server dev PORT=8080 HOST=localhost --type string >/dev/null
bm dev init alice >/dev/null
bm config set app/server dev/alice HOST=alice.local >/dev/null
bm config resolve app/server dev/alice --json > "$work/r.json"
grep -q '"chain":\["dev/alice","dev"\]' "$work/r.json" || fail "chain"
grep -q '"HOST":{"key":"HOST","value":"alice.local","type":"string","env":"dev/alice","seq":"1","metaCommit":"[0-9a-f]\{40\}"' "$work/r.json" ||
	{ cat "$work/r.json"; fail "HOST provenance"; }
grep -q '"PORT":{"key":"PORT","value":"8080","type":"string","env":"dev"' "$work/r.json" || fail "PORT from dev"
# the meta commit named is the one that added the record
c=$(sed 's/.*"HOST":{[^}]*"metaCommit":"\([0-9a-f]*\)".*/\1/' "$work/r.json")
git --git-dir="$work/meta" show --stat "$c" | grep -q "dev/alice/config/app/server/+keys/HOST/0000000001.pb" || fail "commit of HOST"
bm config resolve app/server dev/alice > "$work/table"
grep -q "^HOST .*alice.local .*string .*dev/alice" "$work/table" || { cat "$work/table"; fail "table"; }

# unset in the overlay: the parent's value shows through again; history keeps both
bm config unset app/server dev/alice HOST >/dev/null
[ "$(bm config get app/server dev/alice HOST)" = localhost ] || fail "tombstone should uncover dev's value"
expect_rc 1 bm config get app/server dev/alice HOST --layer
bm config history app/server dev/alice HOST > "$work/h"
grep -q "(unset)" "$work/h" && grep -q "alice.local" "$work/h" || fail "history"
[ "$(bm --json config history app/server dev/alice | grep -o '"seq":' | wc -l)" = 2 ] || fail "history --json"

# revert to a seq, and to a commit
bm config revert app/server dev/alice HOST --to 1 >/dev/null
[ "$(bm config get app/server dev/alice HOST)" = alice.local ] || fail "revert --to SEQ"
bm --json config get app/server dev/alice HOST | grep -q '"revertedFromSeq":"1"' || fail "revertedFromSeq"
at=$(tip)
bm config set app/server prod PORT=81 --type int >/dev/null
bm config set app/server prod PORT=82 --type int >/dev/null
bm config revert app/server prod PORT --to "$at" >/dev/null
[ "$(bm config get app/server prod PORT)" = 80 ] || fail "revert --to COMMIT"
refused 1 "has no record 99" bm config revert app/server prod PORT --to 99
refused 1 "" bm config revert app/server prod PORT --to deadbeefdeadbeef
refused 2 "" bm config revert app/server prod PORT

# diff between envs and across time
bm config diff app/server dev dev/alice > "$work/d"
grep -q -- "-HOST=localhost" "$work/d" && grep -q "+HOST=alice.local" "$work/d" || { cat "$work/d"; fail "env diff"; }
bm config diff app/server prod --at "$at" > "$work/d"
grep -q "no differences" "$work/d" || { cat "$work/d"; fail "diff --at after revert"; }
bm --json config diff app/server dev/alice dev | grep -q '"changed":{"HOST"' || fail "diff --json"

# every --json here: lowerCamelCase keys, 64-bit integers as strings (proto3 JSON)
bm --json config diff app/server dev/alice dev > "$work/j-diff.json"
bm --json config get app/server prod PORT > "$work/j-get.json"
bm --json config history app/server dev/alice > "$work/j-hist.json"
bm --json env list > "$work/j-envs.json"
bm --json env show dev/alice > "$work/j-env.json"
bm --json config set app/server prod PORT=83 --type int --dry-run > "$work/j-dry.json"
json_conventions "$work/r.json" "$work/j-diff.json" "$work/j-get.json" "$work/j-hist.json" "$work/j-envs.json" \
	"$work/j-env.json" "$work/j-dry.json"
python3 - "$work/j-get.json" "$work/j-env.json" <<'PY' || fail "config/env --json values"
import json, sys
g, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert g["value"] == "80" and g["type"] == "int64" and int(g["timeMs"]) > 0, g
assert e["createdMs"].isdigit() and e["chain"] == ["dev/alice", "dev"], e
PY

# --at reads the past
[ "$(bm config resolve app/server prod --at "$at" --format env | grep '^PORT=')" = PORT=80 ] || fail "resolve --at"

# env-file output: portable, systemd, docker
bm config set app/server stage 'PLAIN=hello world' 'Q="quoted"' 'BS=a\b' >/dev/null
bm config set app/server stage 'dotted.key=1' >/dev/null
expect_rc 1 bm config resolve app/server stage --format env
grep -q "dotted.key: not an environment variable name" "$work/err" || fail "bad env name not reported"
bm config unset app/server stage dotted.key >/dev/null
expect_rc 1 bm config resolve app/server stage --format env
grep -q "Q: a newline" "$work/err" || fail "non-portable value not refused"
bm config resolve app/server stage --format systemd > "$work/sd"
grep -qx 'PLAIN=hello world' "$work/sd" && grep -qx 'Q="\\"quoted\\""' "$work/sd" && grep -qx 'BS="a\\\\b"' "$work/sd" ||
	{ cat "$work/sd"; fail "systemd format"; }
bm config resolve app/server stage --format docker > "$work/dk"
grep -qx 'Q="quoted"' "$work/dk" && grep -qx 'BS=a\\b' "$work/dk" || { cat "$work/dk"; fail "docker format"; }
# sh reads the double-quoted systemd lines back to the same values (same escapes)
grep -v '^PLAIN=' "$work/sd" > "$work/sd.sh"
( . "$work/sd.sh"; [ "$Q" = '"quoted"' ] && [ "$BS" = 'a\b' ] ) || fail "systemd quoting"

# every commit only added files (append-only)
if git --git-dir="$work/meta" log --format= --name-status main | grep -qv '^A'; then
	fail "a commit modified or deleted a file"
fi
git --git-dir="$work/meta" fsck --strict >/dev/null 2>&1 || fail "fsck"
echo "ok t_env_config"
