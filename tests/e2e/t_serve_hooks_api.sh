#!/bin/sh
# Webhook subscriptions over HTTP: POST /v1/hooks and DELETE /v1/hooks/{id}, so a follower
# with no clone and no bootmeta subscribes itself. Against a real receiver on 127.0.0.1
# (tests/e2e/hook_receiver.py) and curl:
# - refused with a clear error and no commit: no token (401), a token of another verb or of
#   another prefix (403), a missing secret, a bad URL or prefix, an unknown field, a bad
#   recipient (400), a secret of one line only;
# - taken: the answer names the hook and its recipients (the body's and serve's own, from
#   --identity), the record holds the secret only age-encrypted, the actor is the token's
#   name, and the next promote under the prefix reaches the receiver signed with the secret;
# - removed: a token of another prefix cannot (403), the right one can; again is 409, an
#   unknown id 404, a bad one 400; no delivery after it; `hook list --all` shows both records;
# - a serve without --identity refuses a hook with no recipient (400).
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (scripts/deps.sh)"; exit 77; }
unset BOOTMETA_IDENTITY || true # serve s2 runs without one
CHK=$BM_SRCDIR/tests/e2e/hook_check.py

R=$T/meta.git
C1=1111111111111111111111111111111111111111
C2=2222222222222222222222222222222222222222
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C2" --version 1.1 >/dev/null
"$BM" age keygen -o "$T/serve.key" 2>/dev/null
PUB=$("$BM" age keygen -y "$T/serve.key")
"$BM" age keygen -o "$T/other.key" 2>/dev/null
OTHER=$("$BM" age keygen -y "$T/other.key")

hook_receiver rcv ok
RURL=$(cat "$T/rcv.rurl")

HOOKS=$("$BM" serve token add follower --scope 'hook:projects/acme/*' --tokens "$T/tokens")
OTHERS=$("$BM" serve token add others --scope 'hook:projects/other/*' --tokens "$T/tokens")
CI=$("$BM" serve token add ci --scope 'promote:acme/*' --tokens "$T/tokens")
serve_start s1 "$R" --tokens "$T/tokens" --identity "$T/serve.key" --hook-attempts 2 --hook-backoff-ms 200
U=$(serve_url s1)
t0=$(tip "$R")
SECRET=api-secret-$$-not-in-git
GOOD="{\"url\":\"$RURL\",\"secret\":\"$SECRET\",\"prefix\":\"projects/acme/server/\",\"description\":\"a follower\",\"recipients\":[\"$OTHER\"]}"

check "refused, with no commit: tokens"
http POST "$U/v1/hooks" "$GOOD"; want 401
http POST "$U/v1/hooks" "$GOOD" -H "Authorization: Bearer $CI"; want 403
grep -q 'hook' "$T/body" || fail "403 says: $(cat "$T/body")"
http POST "$U/v1/hooks" "$GOOD" -H "Authorization: Bearer $OTHERS"; want 403
http POST "$U/v1/hooks" "{\"url\":\"$RURL\",\"secret\":\"s\"}" -H "Authorization: Bearer $HOOKS"; want 403

check "refused, with no commit: bad bodies name the field"
bad() {
	http POST "$U/v1/hooks" "$1" -H "Authorization: Bearer $HOOKS"; want 400
	grep -q "$2" "$T/body" || fail "400 for $1 says: $(cat "$T/body"), want $2"
}
bad "{\"url\":\"$RURL\",\"prefix\":\"projects/acme/\"}" '"secret\\": missing'
bad "{\"url\":\"ftp://x.example/\",\"secret\":\"s\",\"prefix\":\"projects/acme/\"}" '"url\\"'
bad "{\"url\":\"$RURL\",\"secret\":\"s\",\"prefix\":\"projects/acme/../x\"}" '"prefix\\"'
bad "{\"url\":\"$RURL\",\"secret\":\"s\",\"prefix\":\"projects/acme/\",\"color\":1}" '"color\\": unknown field'
bad "{\"url\":\"$RURL\",\"secret\":\"s\",\"prefix\":\"projects/acme/\",\"recipients\":[\"age1nope\"]}" 'recipients\[0\]'
bad "{\"url\":\"$RURL\",\"secret\":\"a\\nb\",\"prefix\":\"projects/acme/\"}" '"secret\\"'
bad "{\"url\":\"$RURL\",\"secret\":\"s\",\"prefix\":\"projects/acme/\",\"id\":\"0123456789abcdef\"}" '"id\\"'
http DELETE "$U/v1/hooks/nothex" -H "Authorization: Bearer $HOOKS"; want 400
eq "main after the refusals" "$(tip "$R")" "$t0"

check "taken: the answer, the record, the actor"
http POST "$U/v1/hooks" "$GOOD" -H "Authorization: Bearer $HOOKS"; want 200
H=$(jget .record.id)
echo "$H" | grep -Eqx '[0-9a-f]{16}' || fail "hook id: $(cat "$T/body")"
eq "path" "$(jget .path)" "hooks/$H/hook.pb"
eq "prefix" "$(jget .record.prefix)" "projects/acme/server/"
eq "recipients: the body's, then serve's" "$(jget '.record.recipients | join(" ")')" "$OTHER $PUB"
if grep -q "$SECRET" "$T/body"; then fail "the answer holds the secret"; fi
eq "no secretAge in the answer" "$(jget '.record | has("secretAge")')" false
http GET "$U/v1/records/hooks/$H/hook.pb"; want 200
eq "a read of the record: its url, no secretAge" "$(jget '.url, has("secretAge")' | tr '\n' ' ')" "$RURL false "
git --git-dir="$R" cat-file -p "main:hooks/$H/hook.pb" >"$T/blob"
if grep -q "$SECRET" "$T/blob"; then fail "the secret is in git in plain"; fi
grep -q "age-encryption.org/v1" "$T/blob" || fail "no age file in the record"
"$BM" --repo "$R" --json hook list >"$T/list.json"
eq "hook list: the actor" "$(jq -r '.[0].actor' "$T/list.json")" "follower"
eq "hook list: the description" "$(jq -r '.[0].description' "$T/list.json")" "a follower"
if git --git-dir="$R" log --format=%B | grep -q "$SECRET"; then fail "the secret is in a commit message"; fi
if grep -q "$SECRET" "$T/s1.log"; then fail "the secret is in serve's log"; fi

check "a retried add with the same Idempotency-Key gets the first answer, without the secret"
http POST "$U/v1/hooks" "$GOOD" -H "Authorization: Bearer $HOOKS" -H "Idempotency-Key: add-1"; want 200
HI=$(jget .record.id)
t1=$(tip "$R")
http POST "$U/v1/hooks" "$GOOD" -H "Authorization: Bearer $HOOKS" -H "Idempotency-Key: add-1"; want 200
eq "replayed" "$(jget .replayed)" true
eq "the same hook" "$(jget .record.id)" "$HI"
eq "no secretAge in the replay" "$(jget '.record | has("secretAge")')" false
eq "main after the replay" "$(tip "$R")" "$t1"
http DELETE "$U/v1/hooks/$HI" -H "Authorization: Bearer $HOOKS"; want 200

check "a promote under the prefix reaches the receiver, signed with the secret"
printf '%s\n' "$SECRET" >"$T/secret"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C2\"}" -H "Authorization: Bearer $CI"
want 200
P1=$(jget .metaCommit)
got() { python3 "$CHK" "$T/rcv.jsonl" "$T/secret" | jq -e --arg c "$1" 'map(select(.commit == $c and .sigok)) | length == 1'; }
i=0
until got "$P1" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -le 200 ] || fail "no signed delivery of $P1: $(python3 "$CHK" "$T/rcv.jsonl" "$T/secret")"
	sleep 0.1
done
http GET "$U/v1/hooks"; want 200
eq "GET /v1/hooks: the new hook delivers" "$(jget "[.hooks[] | select(.id == \"$H\" and .state == \"delivering\")] | length")" 1

check "removed: only with a token of its prefix; twice is 409, unknown 404"
t1=$(tip "$R")
http DELETE "$U/v1/hooks/$H" -H "Authorization: Bearer $OTHERS"; want 403
http DELETE "$U/v1/hooks/$H" -H "Authorization: Bearer $CI"; want 403
http DELETE "$U/v1/hooks/0123456789abcdef" -H "Authorization: Bearer $OTHERS"; want 403
eq "main after the refused removals" "$(tip "$R")" "$t1"
http DELETE "$U/v1/hooks/$H" -H "Authorization: Bearer $HOOKS"; want 200
eq "removal path" "$(jget .path)" "hooks/$H/removed.pb"
eq "removed" "$(jget .record.removed)" true
http DELETE "$U/v1/hooks/$H" -H "Authorization: Bearer $HOOKS"; want 409
"$BM" serve token add root --scope '*:*' --tokens "$T/tokens" >"$T/root"
http DELETE "$U/v1/hooks/0123456789abcdef" -H "Authorization: Bearer $(cat "$T/root")"; want 404
http POST "$U/v1/hooks/$H" "{}" -H "Authorization: Bearer $HOOKS"; want 405
"$BM" --repo "$R" --json hook list --all >"$T/list.json"
eq "hook list --all: removed, by" "$(jq -r --arg h "$H" '.[] | select(.id == $h) | .removed, .removedBy' "$T/list.json" | tr '\n' ' ')" "true follower "

check "no delivery after the removal (another hook, live, gets the same commit)"
http POST "$U/v1/hooks" "{\"url\":\"${RURL}2\",\"secret\":\"s\",\"prefix\":\"projects/acme/server/\"}" \
	-H "Authorization: Bearer $HOOKS"; want 200
H2=$(jget .record.id)
i=0
until [ "$(curl -sS "$U/v1/hooks" | jq -r '[.hooks[].id] | join(" ")')" = "$H2" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "want only $H2 live: $(curl -sS "$U/v1/hooks")"
	sleep 0.1
done
n=$(jq -s 'map(select(.path == "/hook")) | length' "$T/rcv.jsonl")
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}" -H "Authorization: Bearer $CI"
want 200
i=0
until [ "$(jq -s 'map(select(.path == "/hook2")) | length' "$T/rcv.jsonl")" -ge 1 ]; do
	i=$((i + 1))
	[ $i -le 200 ] || fail "the live hook got nothing: $(cat "$T/rcv.jsonl")"
	sleep 0.1
done
eq "deliveries to the removed hook after its removal" "$(jq -s 'map(select(.path == "/hook")) | length' "$T/rcv.jsonl")" "$n"
serve_stop s1

check "a serve without --identity needs the recipients; --hooks-max bounds the live ones"
serve_start s2 "$R" --open-writes --hooks-max 2
U=$(serve_url s2)
t2=$(tip "$R")
http POST "$U/v1/hooks" "{\"url\":\"$RURL\",\"secret\":\"s\"}"; want 400
grep -q -- '--identity' "$T/body" || fail "400 says: $(cat "$T/body")"
eq "main after the refusal" "$(tip "$R")" "$t2"
http POST "$U/v1/hooks" "{\"url\":\"$RURL\",\"secret\":\"s\",\"recipients\":[\"$PUB\"]}"; want 200
eq "recipients: the body's only" "$(jget '.record.recipients | join(" ")')" "$PUB"
t3=$(tip "$R")
http POST "$U/v1/hooks" "{\"url\":\"$RURL\",\"secret\":\"s\",\"recipients\":[\"$PUB\"]}"; want 409
grep -q -- '--hooks-max 2' "$T/body" || fail "409 says: $(cat "$T/body")"
eq "main after the refusal" "$(tip "$R")" "$t3"
http DELETE "$U/v1/hooks"; want 405
eq "Allow of /v1/hooks" "$(curl -sS -o /dev/null -D - -X DELETE "$U/v1/hooks" | tr -d '\r' | awk -F': ' 'tolower($1) == "allow" { print $2 }')" "GET, HEAD, POST"
serve_stop s2
"$BM" --repo "$R" doctor >/dev/null || fail "doctor: $("$BM" --repo "$R" doctor 2>&1)"
echo "PASS"
