#!/bin/sh
# `bootmeta serve token add|rm|list` (for now `bootmeta serve-token`): add prints a new token
# once and stores only its sha256 (mode 0600, comments kept), a bad name or scope changes
# nothing, rm revokes, list shows names and scopes (also --json), a file others may write is
# refused, and adds run at the same time all land (FILE.lock).
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

F=$T/tokens
ST="$BM serve-token"

check "--help and usage errors"
$ST --help | grep -q "usage: bootmeta serve-token add NAME --scope" || fail "no usage on --help"
expect_fail 2 "needs --tokens FILE" $ST add ci --scope 'promote:*'
expect_fail 2 "at least one --scope" $ST add ci --tokens "$F"
expect_fail 2 "unknown serve-token command 'frob'" $ST frob
[ ! -e "$F" ] || fail "a usage error made $F"

check "add prints the token once and stores only its sha256"
tok=$($ST add ci --scope 'promote:acme/*' --scope 'config:acme/*@stage' --tokens "$F" 2>"$T/err")
echo "$tok" | grep -Eqx 'bmt_[A-Za-z0-9_-]{43}' || fail "token '$tok' is not bmt_ + 43 base64url characters"
grep -q "shown only now" "$T/err" || fail "add does not say the token is shown once: $(cat "$T/err")"
hash=$(printf %s "$tok" | sha256sum | cut -d' ' -f1)
grep -qx "ci $hash promote:acme/\* config:acme/\*@stage" "$F" || { cat "$F"; fail "no line 'ci sha256(token) scopes' in the file"; }
grep -qF -- "$tok" "$F" && fail "the token itself is in the file"
[ "$(stat -c %a "$F")" = 600 ] || fail "token file mode is $(stat -c %a "$F"), want 600"
grep -q "^# bootmeta serve tokens" "$F" || fail "no header comment"
tok2=$($ST add agents --scope 'report:prod*' --tokens "$F" 2>/dev/null)
[ "$tok" != "$tok2" ] || fail "two adds gave the same token"

check "list, and list --json"
$ST list --tokens "$F" >"$T/out"
grep -Eq '^ci +promote:acme/\* config:acme/\*@stage$' "$T/out" || { cat "$T/out"; fail "list lacks ci"; }
grep -Eq '^agents +report:prod\*$' "$T/out" || { cat "$T/out"; fail "list lacks agents"; }
grep -qF -- "$tok" "$T/out" && fail "list shows a token"
$BM --json serve-token list --tokens "$F" >"$T/json"
jq -e --arg h "$hash" 'length == 2 and .[0].name == "ci" and .[0].sha256 == $h and
	.[0].scopes == ["promote:acme/*", "config:acme/*@stage"] and .[1].scopes == ["report:prod*"]' "$T/json" >/dev/null ||
	fail "list --json: $(cat "$T/json")"
$BM --json serve-token add j --scope 'log:*' --tokens "$F" >"$T/json" 2>"$T/err"
jq -e '.name == "j" and (.token | test("^bmt_")) and .scopes == ["log:*"]' "$T/json" >/dev/null || fail "add --json: $(cat "$T/json")"
[ ! -s "$T/err" ] || fail "add --json printed on stderr: $(cat "$T/err")"

check "bad names, scopes and duplicates change nothing"
cp "$F" "$T/before"
expect_fail 1 "token ci is in $F already; \`bootmeta serve-token rm ci\` first" $ST add ci --scope 'release:*' --tokens "$F"
expect_fail 1 "unknown verb" $ST add x --scope 'deploy:acme' --tokens "$F"
expect_fail 1 "only config and flag scopes name an env" $ST add x --scope 'promote:acme@prod' --tokens "$F"
expect_fail 1 "the verb * takes only the pattern *" $ST add x --scope '*:acme/*' --tokens "$F"
expect_fail 1 'may only hold letters, digits and . _ -' $ST add 'a b' --scope 'release:*' --tokens "$F"
expect_fail 1 '\x1b' $ST add "$(printf 'a\033[2J')" --scope 'release:*' --tokens "$F"
cmp -s "$F" "$T/before" || fail "a refused add changed the file"

check "rm revokes one token and keeps the other lines and comments"
printf '# hand-written note\n' >>"$F"
$ST rm ci --tokens "$F" 2>"$T/err"
grep -q "^ci " "$F" && fail "ci is still in the file"
grep -q "^agents " "$F" || fail "rm removed agents too"
grep -qx "# hand-written note" "$F" || fail "rm lost a comment"
grep -q "serve refuses it from its next request" "$T/err" || fail "rm does not say what it did: $(cat "$T/err")"
expect_fail 1 "no token ci in $F" $ST rm ci --tokens "$F"
expect_fail 1 "token file $T/nope" $ST rm ci --tokens "$T/nope"
expect_fail 1 "token file $T/nope" $ST list --tokens "$T/nope"
expect_fail 2 "--scope goes with add only" $ST rm agents --scope 'x:y' --tokens "$F"

check "a token file group or others may write is refused"
chmod 664 "$F"
expect_fail 1 "may be written by group or others" $ST add y --scope 'release:*' --tokens "$F"
expect_fail 1 "may be written by group or others" $ST list --tokens "$F"
chmod 600 "$F"

check "a damaged file is named by line, and not rewritten"
cp "$F" "$T/good"
printf 'broken line\n' >>"$F"
expect_fail 1 "$F:" $ST add z --scope 'release:*' --tokens "$F"
grep -q "^z " "$F" && fail "add wrote into a damaged file"
cp "$T/good" "$F"

check "eight adds at once all land (FILE.lock)"
pids=
for i in 1 2 3 4 5 6 7 8; do
	$ST add "p$i" --scope "release:p$i/*" --tokens "$F" >"$T/tok$i" 2>"$T/err$i" &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a concurrent add failed: $(cat "$T"/err*)"; done
for i in 1 2 3 4 5 6 7 8; do
	h=$(tr -d '\n' <"$T/tok$i" | sha256sum | cut -d' ' -f1)
	grep -qx "p$i $h release:p$i/\*" "$F" || { cat "$F"; fail "token p$i is not in the file"; }
done
[ "$($ST list --tokens "$F" | grep -c '^p[1-8] ')" = 8 ] || fail "not 8 tokens after 8 adds"
echo PASS
