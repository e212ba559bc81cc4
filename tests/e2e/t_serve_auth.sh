#!/bin/sh
# serve --tokens: 401 without a token or with a bad one, 403 when its scope does not cover the
# write (both JSON errors that say which), 200 with the token's name as the actor, and a
# `serve token rm` revokes without a restart.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta.git
C1=1111111111111111111111111111111111111111
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server >/dev/null
"$BM" --repo "$R" project add other/app >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/a.git@$C1" >/dev/null
"$BM" --repo "$R" release add other/app --source "https://git.example.com/b.git@$C1" >/dev/null
"$BM" --repo "$R" env add prod >/dev/null
F=$T/tokens
ci=$("$BM" serve token add ci --scope 'promote:acme/*' --tokens "$F")
agent=$("$BM" serve token add agent --scope 'report:prod' --tokens "$F")
[ "$(stat -c %a "$F")" = 600 ] || fail "token file mode $(stat -c %a "$F")"
grep -q "$ci" "$F" && fail "the token itself is in the file"

serve_start s "$R" --tokens "$F"
U=$(serve_url s)
P=$U/v1/projects/acme/server/channels/stable/promote
body="{\"release\":\"$C1\"}"

check "no token: 401 saying so"
http POST "$P" "$body"; want 401
grep -q "no token" "$T/body" || fail "401 says: $(cat "$T/body")"
check "an unknown token: 401"
http POST "$P" "$body" -H "Authorization: Bearer bmt_nonsense"; want 401
grep -q "unknown token" "$T/body" || fail "401 says: $(cat "$T/body")"
check "a token whose scope does not cover the write: 403 naming the scopes"
http POST "$U/v1/projects/other/app/channels/stable/promote" "$body" -H "Authorization: Bearer $ci"; want 403
grep -q "promote:acme/\*" "$T/body" || fail "403 says: $(cat "$T/body")"
http POST "$P" "$body" -H "Authorization: Bearer $agent"; want 403
check "a token that covers it: committed, the token's name is the actor"
http POST "$P" "$body" -H "Authorization: Bearer $ci"; want 200
[ "$(jget .record.actor)" = ci ] || fail "actor: $(cat "$T/body")"
check "a report with the agent token"
http POST "$U/v1/envs/prod/instances/web-1/reports" "{\"project\":\"acme/server\",\"release\":\"$C1\",\"metaCommit\":\"$(tip "$R")\",\"state\":\"healthy\"}" \
	-H "Authorization: Bearer $agent"; want 200
check "serve token rm revokes at once, no restart"
"$BM" serve token rm ci --tokens "$F" >/dev/null
http POST "$P" "$body" -H "Authorization: Bearer $ci"; want 401
check "metrics count the refusals"
http GET "$U/metrics"; grep -q '^bootmeta_auth_refused_total{status="401"} [1-9]' "$T/body" || fail "metrics"
grep -q '^bootmeta_auth_refused_total{status="403"} [1-9]' "$T/body" || fail "metrics 403"
serve_stop s
check "a token file that does not load stops serve at start"
echo "garbage" >"$T/bad"; chmod 600 "$T/bad"
set +e
"$BM" --repo "$R" serve --listen 127.0.0.1:0 --tokens "$T/bad" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "serve with a bad token file exited $rc"
grep -q "msg=tokens" "$T/err" || fail "no tokens error: $(cat "$T/err")"
echo "PASS"
