#!/bin/sh
# The one option parser and the command table: --opt=value and --opt value, short options
# and clusters, "--", repeated options, --json before and after the command, one spelling
# for counts (-n / --limit / --max-count), clear usage errors (exit 2), --help everywhere,
# the table's properties, and the JSON error object's "code" from cli_error.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --repo "$R" "$@"; }
# js EXPR: evaluate a Python expression over the JSON document on stdin (as d)
js() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "  ok: $1 = $3"; }

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")

check "--opt=value and --opt value"
bm project add app/server --source="file://$T/app" --owner=team-a --owner team-b --description "two owners" >/dev/null
eq "--description value" "$(bm --json project show app/server | js 'd["description"]')" "two owners"
eq "--source=value" "$(bm --json project show app/server | js 'd["sources"][0]')" "file://$T/app"
eq "a repeated option adds up" "$(bm --json project show app/server | js '",".join(d["owners"])')" "team-a,team-b"
bm release add app/server --source "file://$T/app@$C1" --version=1.0 >/dev/null
"$BM" --repo="$R" channel promote app/server stable "$C1" --reason=first >/dev/null
eq "global --repo=value" "$(bm --json channel get app/server stable | js 'd["reason"]')" first
# a single-valued option given twice: the last one counts, as with getopt
bm channel promote app/server beta "$C1" --reason one --reason two >/dev/null
eq "a repeated single option: the last wins" "$(bm --json channel get app/server beta | js 'd["reason"]')" two
# options before, between and after the operands
bm channel promote --reason r3 app/server stable "$C1" >/dev/null
eq "options before the operands" "$(bm --json channel get app/server stable | js 'd["reason"]')" r3
bm channel promote app/server --reason=r4 stable "$C1" >/dev/null
eq "options between the operands" "$(bm --json channel get app/server stable | js 'd["seq"]')" 3

check "--json before the command, between command and subcommand, and after"
a=$(bm --json channel get app/server stable)
b=$(bm channel --json get app/server stable)
c=$(bm channel get app/server stable --json)
d=$(bm channel get --json app/server stable)
[ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$a" = "$d" ] || fail "--json placement changes the output"
echo "$a" | js 'd["release"]' | grep -qx "$C1" || fail "--json output"
echo "  ok: the same JSON wherever --json stands"
# after "--", --json is an operand, not the option
expect_fail 1 'no project "--json"' bm project show -- --json
[ -s "$T/out" ] && fail "project show -- --json printed output"
echo "  ok: -- ends the options"

check "--repo PATH after the command, as before it; refused by a command that reads no meta repo"
e=$("$BM" --repo "$R" --json channel get app/server stable)
f=$("$BM" --json channel get app/server stable --repo "$R")
g=$("$BM" channel get --repo "$R" app/server stable --json)
[ "$e" = "$f" ] && [ "$e" = "$g" ] || fail "--repo placement changes the output"
expect_fail 2 "follow: --repo: this command does not read a meta repo" "$BM" follow --repo "$R" "$T/f"
echo "  ok: the same answer wherever --repo stands"

check "short options: -n N, -nN, clusters"
eq "-n 1" "$(bm channel history app/server stable -n 1 | wc -l)" 2
eq "-n1" "$(bm channel history app/server stable -n1 | wc -l)" 2
echo hello >"$T/plain"
"$BM" age keygen -o "$T/id" 2>/dev/null
rcpt=$(grep -o 'age1[a-z0-9]*' "$T/id" | head -1)
"$BM" age encrypt -ao "$T/enc.age" -r "$rcpt" "$T/plain"
head -1 "$T/enc.age" | grep -q "BEGIN AGE ENCRYPTED FILE" || fail "-ao FILE: armored output to FILE"
[ "$("$BM" age decrypt -i "$T/id" "$T/enc.age")" = hello ] || fail "decrypt of -ao output"
echo "  ok: -ao FILE"
# a lone "-" is an operand (stdin)
[ "$(printf hello | "$BM" age encrypt -r "$rcpt" -a - | "$BM" age decrypt -i "$T/id" -)" = hello ] ||
	fail "- as stdin"
echo "  ok: - is stdin"

check "one spelling for counts: -n N, --limit N, --max-count N (git's name) on every listing"
for cmd in "log" "log entries" "channel history app/server stable" "config history app/server prod"; do
	# shellcheck disable=SC2086
	bm $cmd --help | grep -q -- "-n|--limit N" || fail "$cmd --help shows -n|--limit N"
done
bm env add prod >/dev/null
bm config set app/server prod A=1 >/dev/null
bm config set app/server prod A=2 >/dev/null
bm config set app/server prod A=3 >/dev/null
bm log add --kind deploy --message one >/dev/null
bm log add --kind deploy --message two >/dev/null
bm log add --kind deploy -m three >/dev/null
for opt in "-n 2" "-n2" "--limit 2" "--limit=2" "--max-count 2" "--max-count=2"; do
	# shellcheck disable=SC2086
	{
		eq "log $opt" "$(bm --json log $opt | js 'len(d)')" 2
		eq "log entries $opt" "$(bm --json log entries $opt | js 'len(d)')" 2
		eq "channel history $opt" "$(bm --json channel history app/server stable $opt | js 'len(d)')" 2
		eq "config history $opt" "$(bm --json config history app/server prod A $opt | js 'len(d)')" 2
	}
done
eq "--limit 0 is every entry" "$(bm --json log entries --limit 0 | js 'len(d)')" 3
eq "-n 0 is every entry" "$(bm --json channel history app/server stable -n 0 | js 'len(d)')" 3
expect_fail 2 "-n takes a positive count" bm log -n x
expect_fail 2 "--limit takes a positive count" bm config history app/server prod --limit -1
expect_fail 2 "--max-count takes a positive count" bm channel history app/server stable --max-count 1x

check "usage errors: exit 2, what is wrong, and the usage"
expect_fail 2 "channel get: unknown option '--bogus'" bm channel get app/server stable --bogus
grep -q "^usage: bootmeta channel" "$T/err" || fail "the usage follows a usage error"
[ -s "$T/out" ] && fail "a usage error printed on stdout"
expect_fail 2 "unknown option '-Z'" bm channel get app/server stable -Z
expect_fail 2 "option '--at' needs a value" bm channel get app/server stable --at
expect_fail 2 "option '-n' needs a value" bm channel history app/server stable -n
expect_fail 2 "option '--json' takes no value" bm project list --json=yes
expect_fail 2 "config get does not take --type" bm config get app/server prod A --type int64
expect_fail 2 "log entries does not take --message" bm log entries --message x
expect_fail 2 "option '--s' is ambiguous" bm config resolve app/server prod --s
expect_fail 2 "unknown option '--bogus'" "$BM" --bogus project list
grep -q "^usage: bootmeta \[--repo" "$T/err" || fail "global usage after a bad global option"
expect_fail 2 "unknown option '--bogus'" bm project list --bogus
expect_fail 2 "project needs a subcommand" bm project
expect_fail 2 "unknown project command 'frob'" bm project frob
expect_fail 2 "--json: age has no JSON output" "$BM" --json age keygen
expect_fail 2 "age keygen: --json: this command has no JSON output" "$BM" age keygen --json
# a unique prefix of a long option still works, as getopt allowed
bm channel promote app/server stable "$C1" --rea=abbrev >/dev/null 2>&1
eq "--rea is --reason" "$(bm --json channel get app/server stable | js 'd["reason"]')" abbrev

check "--help on every command and subcommand, anywhere, exits 0 with the usage on stdout"
for c in init project "project add" "project list" "project show" release "release add" "release list" \
	"release show" binary "binary add" "binary show" "binary sign" "binary verify" channel "channel promote" \
	"channel get" "channel history" "channel list" trace show ls log "log add" "log entries" clone pull push \
	age "age keygen" "age encrypt" "age decrypt" key "key gen" "key show-pub" "key trust" "key sign" \
	"key verify" "key ssh-sign" "key ssh-verify" secret "secret set" "secret get" "secret list" \
	"secret history" "secret rm" "secret rekey" recipients "recipients add" "recipients list" \
	"recipients rm" env "env add" "env list" "env show" dev "dev init" "dev use" "dev current" config \
	"config set" "config unset" "config get" "config history" "config revert" "config diff" \
	"config resolve" flag "flag set" "flag disable" "flag enable" "flag get" "flag history" "flag list" \
	"flag eval" "flag export" imports dependents pin stamp; do
	# shellcheck disable=SC2086
	"$BM" $c --help >"$T/h" 2>"$T/herr" || fail "$c --help exits $?"
	grep -q "^usage: bootmeta" "$T/h" || fail "$c --help: no usage on stdout"
	[ -s "$T/herr" ] && fail "$c --help wrote on stderr"
	# shellcheck disable=SC2086
	"$BM" $c -h >/dev/null || fail "$c -h"
done
bm channel get app/server stable --help | grep -q "^usage: bootmeta channel" || fail "--help after operands"
echo "  ok"

check "cli_error's JSON carries the code"
expect_fail 1 '"code":"not found"' bm --json config get app/server prod MISSING
grep -q '^{"error":"config get: MISSING is not set' "$T/err" || fail "cli_error JSON message"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert set(d) == {"error", "code"}, d' "$T/err" ||
	fail "cli_error JSON is one object with error and code"
expect_fail 1 "bootmeta: config get: MISSING is not set" bm config get app/server prod MISSING
grep -q '"code"' "$T/err" && fail "text errors have no JSON"
# a library error (cli_fail) and a CLI error (cli_error) have the same shape
expect_fail 1 '"code":"not found"' bm --json project show ghost
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert set(d) == {"error", "code"}, d' "$T/err" ||
	fail "cli_fail JSON is one object with error and code"
echo "t_cli_options: ok"
