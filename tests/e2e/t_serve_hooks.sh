#!/bin/sh
# bootmeta serve's webhooks, against real receivers on 127.0.0.1 (tests/e2e/hook_receiver.py,
# python's http.server) and curl:
# - out: `bootmeta hook add` subscriptions (the secret age-encrypted in the repo, never plain);
#   a promote under the prefix reaches the receiver as the watcher's event, signed (the HMAC
#   is checked here in python) with a delivery id; a change outside the prefix does not; a
#   receiver answering 500 gets retries with growing pauses, then a stop, all visible in
#   GET /v1/hooks/{id}/deliveries and /metrics; a receiver that hangs does not hold up
#   writes; `hook rm` stops deliveries without a restart; a delivery cut short by a stop
#   of serve is made after the restart, with the same delivery id (the cursor in
#   --state-dir), and a restart with nothing missed delivers nothing;
# - in: POST /v1/hooks/git with a GitHub-signed push (HMAC computed here) is taken and makes
#   serve look at main at once; unsigned, forged and replayed deliveries are refused (401,
#   403, 409) and counted; GitLab's X-Gitlab-Token likewise.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (scripts/deps.sh)"; exit 77; }
CHK=$BM_SRCDIR/tests/e2e/hook_check.py

receiver() { hook_receiver "$@"; }

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

R=$T/meta.git
C1=1111111111111111111111111111111111111111
C2=2222222222222222222222222222222222222222
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C2" --version 1.1 >/dev/null

"$BM" age keygen -o "$T/serve.key" 2>/dev/null
PUB=$("$BM" age keygen -y "$T/serve.key")
SECRET=hook-secret-$$-not-in-git
printf '%s\n' "$SECRET" >"$T/secret"
chmod 600 "$T/secret"
printf 'github-in-secret\n' >"$T/in.secret"
chmod 600 "$T/in.secret"

receiver ok ok
receiver bad fail
receiver dead hang

check "hook add: bad input is refused and writes nothing"
t0=$(tip "$R")
expect_fail 2 "--recipient" "$BM" --repo "$R" hook add "$(cat "$T/ok.rurl")" --secret-file "$T/secret"
expect_fail 1 "not http:// or https://" "$BM" --repo "$R" hook add ftp://x.example/ --secret-file "$T/secret" --recipient "$PUB"
expect_fail 1 "prefix" "$BM" --repo "$R" hook add http://x.example/ --prefix ../x --secret-file "$T/secret" --recipient "$PUB"
expect_fail 1 "recipient" "$BM" --repo "$R" hook add http://x.example/ --secret-file "$T/secret" --recipient age1nope
chmod 644 "$T/secret"
expect_fail 1 "chmod 600" "$BM" --repo "$R" hook add http://x.example/ --secret-file "$T/secret" --recipient "$PUB"
chmod 600 "$T/secret"
expect_fail 1 "webhook id" "$BM" --repo "$R" hook rm nothex
[ "$(tip "$R")" = "$t0" ] || fail "a refused hook add moved main"

check "hook add: three subscriptions; the secret is in the repo only age-encrypted"
"$BM" --repo "$R" --json hook add "$(cat "$T/ok.rurl")" --prefix projects/acme/server/ --secret-file "$T/secret" \
	--recipient "$PUB" --description "the good receiver" >"$T/h1.json"
H1=$(jq -r .id "$T/h1.json")
H2=$("$BM" --repo "$R" --json hook add "$(cat "$T/bad.rurl")" --prefix projects/acme/server/ --secret-file "$T/secret" \
	--recipient "$PUB" | jq -r .id)
H3=$("$BM" --repo "$R" --json hook add "$(cat "$T/dead.rurl")" --prefix projects/acme/server/ --secret-file "$T/secret" \
	--recipient "$PUB" | jq -r .id)
echo "$H1" | grep -Eqx '[0-9a-f]{16}' || fail "hook id: $(cat "$T/h1.json")"
[ "$(jq -r .prefix "$T/h1.json")" = projects/acme/server/ ] || fail "hook add json: $(cat "$T/h1.json")"
"$BM" --repo "$R" --json hook list >"$T/list.json"
[ "$(jq length "$T/list.json")" = 3 ] || fail "hook list: $(cat "$T/list.json")"
"$BM" --repo "$R" hook list | grep -q "$H1" || fail "hook list text: $("$BM" --repo "$R" hook list)"
"$BM" --repo "$R" --json show "hooks/$H1/hook.pb" >"$T/show.json" || fail "bootmeta show does not know the record"
[ "$(jq -r .url "$T/show.json")" = "$(cat "$T/ok.rurl")" ] || fail "show: $(cat "$T/show.json")"
git --git-dir="$R" cat-file -p "main:hooks/$H1/hook.pb" >"$T/blob"
if grep -q "$SECRET" "$T/blob"; then fail "the secret is in git in plain"; fi
grep -q "age-encryption.org/v1" "$T/blob" || fail "no age file in the record"
if git --git-dir="$R" log -p --all | grep -q "$SECRET"; then fail "the secret is in the history in plain"; fi
"$BM" --repo "$R" doctor >/dev/null || fail "doctor after hook add: $("$BM" --repo "$R" doctor 2>&1)"

serve_start s1 "$R" --open-writes --identity "$T/serve.key" --webhook-secret-file "$T/in.secret" \
	--hook-attempts 4 --hook-backoff-ms 300 --hook-timeout-ms 2000 --poll-ms 3600000
U=$(serve_url s1)

http GET "$U/v1/hooks"; want 200
[ "$(jget '.hooks | length')" = 3 ] || fail "GET /v1/hooks: $(cat "$T/body")"
[ "$(jget "[.hooks[] | select(.state == \"delivering\")] | length")" = 3 ] || fail "hooks not delivering: $(cat "$T/body")"

check "writes are answered while one receiver hangs and another fails"
: >"$T/promotes"
for rel in "$C2" "$C1" "$C2"; do
	curl -sS --max-time 5 -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "{\"release\":\"$rel\"}" "$U/v1/projects/acme/server/channels/stable/promote" >"$T/status" ||
		fail "a promote was not answered in 5 s while a receiver hangs"
	want 200
	jget .metaCommit >>"$T/promotes"
done
wait_for 10 test -s "$T/dead.jsonl" || fail "the hanging receiver got nothing"

check "a change outside the prefix is no delivery"
http POST "$U/v1/log" '{"kind":"deploy","message":"outside the prefix"}'; want 200
OUT=$(jget .metaCommit)
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}"; want 200
LAST=$(jget .metaCommit)
echo "$LAST" >>"$T/promotes"
got_last() { python3 "$CHK" "$T/ok.jsonl" "$T/secret" | jq -e --arg c "$LAST" 'map(select(.commit == $c)) | length == 1'; }
wait_for 20 got_last || fail "the good receiver did not get the last promote: $(python3 "$CHK" "$T/ok.jsonl" "$T/secret")"
python3 "$CHK" "$T/ok.jsonl" "$T/secret" >"$T/ok.json"
[ "$(jq length "$T/ok.json")" = 4 ] || fail "want 4 deliveries (the promotes), got: $(cat "$T/ok.json")"
jq -e --arg c "$OUT" 'map(select(.commit == $c)) | length == 0' "$T/ok.json" >/dev/null ||
	fail "the commit outside the prefix was delivered"

check "each delivery: signed with the secret (HMAC checked here), its own id, the watcher's event"
jq -e 'all(.sigok)' "$T/ok.json" >/dev/null || fail "a signature does not check: $(cat "$T/ok.json")"
jq -e 'all(.event == "commit") and all(.contentType == "application/json")' "$T/ok.json" >/dev/null ||
	fail "headers: $(cat "$T/ok.json")"
[ "$(jq '[.[].delivery] | unique | length' "$T/ok.json")" = 4 ] || fail "delivery ids not unique: $(cat "$T/ok.json")"
jq -e 'all(.delivery | test("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))' "$T/ok.json" >/dev/null ||
	fail "delivery id format: $(cat "$T/ok.json")"
jq -r '.[].commit' "$T/ok.json" >"$T/ok.commits"
cmp -s "$T/ok.commits" "$T/promotes" || fail "deliveries, in order, are not the promotes: $(cat "$T/ok.commits") vs $(cat "$T/promotes")"
jq -e 'all(.prefix == "projects/acme/server/") and all(.paths | length > 0) and
	all(.paths[] | startswith("projects/acme/server/channels/stable/")) and all(.records | length > 0)' "$T/ok.json" >/dev/null ||
	fail "event body: $(cat "$T/ok.json")"
# the same event a watcher of the prefix gets
P1=$(git --git-dir="$R" rev-parse "$LAST^")
curl -sS "$U/v1/watch?prefix=projects/acme/server/&since=$P1&wait=1s" | jq -c '.events[0] | {commit, previous, prefix, paths}' >"$T/w"
python3 "$CHK" "$T/ok.jsonl" "$T/secret" | jq -c --arg c "$LAST" '.[] | select(.commit == $c) | {commit, previous, prefix, paths}' >"$T/d"
cmp -s "$T/w" "$T/d" || fail "delivery differs from the watch event: $(cat "$T/d") vs $(cat "$T/w")"

check "a receiver answering 500: retries with growing pauses, then a stop, shown in /deliveries"
failed_one() {
	curl -sS "$U/v1/hooks/$H2/deliveries" | jq -e '[.attempts[] | select(.result == "failed")] | length >= 1'
}
wait_for 30 failed_one || fail "no delivery given up: $(curl -sS "$U/v1/hooks/$H2/deliveries")"
curl -sS "$U/v1/hooks/$H2/deliveries" >"$T/del.json"
D1=$(jq -r '[.attempts[] | select(.result == "failed")][0].delivery' "$T/del.json")
jq -c --arg d "$D1" '[.attempts[] | select(.delivery == $d) | [.attempt, .result, .status]]' "$T/del.json" >"$T/tries"
[ "$(cat "$T/tries")" = '[[1,"retry",500],[2,"retry",500],[3,"retry",500],[4,"failed",500]]' ] ||
	fail "attempts of $D1: $(cat "$T/tries")"
jq -e --arg d "$D1" '[.attempts[] | select(.delivery == $d and .result == "retry") | has("nextAttemptMs")] | all' "$T/del.json" >/dev/null ||
	fail "a retry without its next time: $(cat "$T/del.json")"
# the receiver's own clock: 4 requests with the one id, the pauses growing
python3 "$CHK" "$T/bad.jsonl" "$T/secret" | jq -c --arg d "$D1" '[.[] | select(.delivery == $d) | .t]' >"$T/times"
python3 - "$T/times" <<'EOF' || fail "pauses between attempts: $(cat "$T/times")"
import json, sys
t = json.load(open(sys.argv[1]))
assert len(t) == 4, t
g = [b - a for a, b in zip(t, t[1:])]
print("  pauses (s):", ["%.3f" % x for x in g])
assert g[0] >= 0.25 and g[1] > g[0] * 1.5 and g[2] > g[1] * 1.5, g
EOF
grep -q "msg=webhook-failed hook=$H2 delivery=$D1" "$T/s1.log" || fail "no log line for the given-up delivery"
http GET "$U/metrics"; want 200
grep -Eq '^bootmeta_webhook_deliveries_total\{result="failed"\} [1-9]' "$T/body" || fail "metrics: $(grep webhook "$T/body")"
grep -Eq '^bootmeta_webhook_deliveries_total\{result="retry"\} [1-9]' "$T/body" || fail "metrics: $(grep webhook "$T/body")"
grep -Eq '^bootmeta_webhook_deliveries_total\{result="ok"\} [4-9]' "$T/body" || fail "metrics: $(grep webhook "$T/body")"
grep -Eq '^bootmeta_webhooks 3$' "$T/body" || fail "metrics: $(grep webhook "$T/body")"
http GET "$U/v1/hooks/$H1/deliveries"; want 200
[ "$(jget '[.attempts[] | select(.result == "ok" and .status == 200)] | length')" = 4 ] || fail "deliveries of $H1: $(cat "$T/body")"
http GET "$U/v1/hooks/0123456789abcdef/deliveries"; want 404
http GET "$U/v1/hooks/nothex/deliveries"; want 404
http POST "$U/v1/hooks/$H1/deliveries" '{}'; want 405

check "hook rm: serve re-reads the subscriptions and stops delivering"
"$BM" --repo "$R" hook rm "$H1" >/dev/null
expect_fail 1 "removed already" "$BM" --repo "$R" hook rm "$H1"
[ "$("$BM" --repo "$R" --json hook list | jq length)" = 2 ] || fail "hook list after rm"
[ "$("$BM" --repo "$R" --json hook list --all | jq "[.[] | select(.removed)] | length")" = 1 ] || fail "hook list --all"
git --git-dir="$R" cat-file -e "main:hooks/$H1/hook.pb" || fail "hook rm rewrote the record"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C2\"}"; want 200
gone() { curl -sS -o /dev/null -w '%{http_code}' "$U/v1/hooks/$H1/deliveries" | grep -qx 404; }
wait_for 10 gone || fail "the removed hook is still live in serve"
sleep 0.5
[ "$(python3 "$CHK" "$T/ok.jsonl" "$T/secret" | jq length)" = 4 ] || fail "a removed hook got a delivery"

check "in: a GitHub-signed push is taken and serve looks at main at once"
before=$(tip "$R")
"$BM" --repo "$R" channel promote acme/server stable "$C1" --reason "pushed by someone else" >/dev/null
after=$(tip "$R")
curl -sS "$U/v1/watch?since=$before&wait=1s" >"$T/w0"
[ "$(jq '.events | length' "$T/w0")" = 0 ] || fail "serve saw the commit without a notice (poll is 1 h): $(cat "$T/w0")"
printf '{"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"full_name":"acme/meta","clone_url":"https://github.example/acme/meta.git"}}' \
	"$before" "$after" >"$T/push.json"
SIG=$(python3 "$CHK" sign "$T/in.secret" "$T/push.json")
hook_in() { curl -sS -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$T/push.json" "$@" "$U/v1/hooks/git" >"$T/status"; }
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958" -H "X-Hub-Signature-256: $SIG"
want 202
[ "$(jget .accepted)" = true ] && [ "$(jget .after)" = "$after" ] || fail "push answer: $(cat "$T/body")"
curl -sS "$U/v1/watch?since=$before&wait=5s" >"$T/w1"
[ "$(jq -r '.events[0].commit' "$T/w1")" = "$after" ] || fail "after the push notice no event: $(cat "$T/w1")"

check "in: replayed, forged and unsigned deliveries are refused and counted"
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958" -H "X-Hub-Signature-256: $SIG"
want 409; grep -q "replay" "$T/body" || fail "409 says: $(cat "$T/body")"
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: forged-1" \
	-H "X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000"
want 403; [ "$(jget .code)" = verify ] || fail "403 code: $(cat "$T/body")"
printf 'wrong-secret\n' >"$T/wrong.secret"
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: forged-2" -H "X-Hub-Signature-256: $(python3 "$CHK" sign "$T/wrong.secret" "$T/push.json")"
want 403
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: unsigned-1"
want 401; grep -q "unsigned" "$T/body" || fail "401 says: $(cat "$T/body")"
hook_in
want 401
hook_in -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: $SIG"
want 400; grep -q "X-GitHub-Delivery" "$T/body" || fail "400 says: $(cat "$T/body")"
# a forged delivery took no room: its id is still new
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: forged-1" -H "X-Hub-Signature-256: $SIG"
want 202
hook_in -H "X-GitHub-Event: ping" -H "X-GitHub-Delivery: ping-1" -H "X-Hub-Signature-256: $SIG"
want 200; [ "$(jget .event)" = ping ] || fail "ping: $(cat "$T/body")"
hook_in -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Event-UUID: gl-1" -H "X-Gitlab-Token: github-in-secret"
want 202
hook_in -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Event-UUID: gl-2" -H "X-Gitlab-Token: not-the-secret"
want 403
hook_in -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Event-UUID: gl-1" -H "X-Gitlab-Token: github-in-secret"
want 409
printf 'not json' >"$T/push.json"
hook_in -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: bad-1" -H "X-Hub-Signature-256: $(python3 "$CHK" sign "$T/in.secret" "$T/push.json")"
want 400
http GET "$U/v1/hooks/git"; want 405
http GET "$U/metrics"; want 200
for kv in accepted=3 replayed=2 forged=3 unsigned=2 bad=2 ignored=1; do
	grep -qx "bootmeta_webhook_in_total{result=\"${kv%=*}\"} ${kv#*=}" "$T/body" ||
		fail "metrics want ${kv}: $(grep webhook_in "$T/body")"
done
grep -q 'msg=webhook-in source=github result=forged' "$T/s1.log" || fail "no log line for a forged delivery"

check "serve stops cleanly with a receiver hanging"
serve_stop s1
[ "$(git --git-dir="$R" fsck --strict 2>&1 | grep -c error || true)" = 0 ] || fail "fsck"

check "without --identity a subscription delivers nothing and says why"
serve_start s2 "$R" --open-writes
U=$(serve_url s2)
http GET "$U/v1/hooks"; want 200
[ "$(jget '[.hooks[] | select(.state == "error" and (.error | test("identity")))] | length')" = 2 ] || fail "no identity: $(cat "$T/body")"
http POST "$U/v1/hooks/git" '{}' -H "X-GitHub-Event: push"; want 404
grep -q "webhook-secret-file" "$T/body" || fail "404 says: $(cat "$T/body")"
serve_stop s2

check "a restart delivers what a receiver missed, with the same delivery id"
receiver late ctl
H4=$("$BM" --repo "$R" --json hook add "$(cat "$T/late.rurl")" --prefix projects/acme/server/channels/ \
	--secret-file "$T/secret" --recipient "$PUB" | jq -r .id)
ST=$T/state
expect_fail 1 "state folder" "$BM" --repo "$R" serve --listen 127.0.0.1:0 --open-writes --identity "$T/serve.key" --state-dir /dev/null/x
HARGS="--open-writes --identity $T/serve.key --hook-attempts 10 --hook-timeout-ms 2000 --state-dir $ST"
serve_start s3 "$R" $HARGS --hook-backoff-ms 600000
U=$(serve_url s3)
wait_for 10 test -s "$ST/hooks/$H4" || fail "no cursor for $H4 in $ST/hooks: $(ls -la "$ST/hooks" 2>&1)"
[ "$(cat "$ST/hooks/$H4")" = "$(tip "$R")" ] || fail "a new subscription's cursor is not main"
[ "$(stat -c %a "$ST")" = 700 ] || fail "the state folder is not private: $(stat -c %a "$ST")"
BEFORE=$(tip "$R")
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C2\"}"; want 200
MISSED=$(jget .metaCommit)
wait_for 10 test -s "$T/late.jsonl" || fail "the late receiver got no first attempt"
D4=$(python3 "$CHK" "$T/late.jsonl" "$T/secret" | jq -r '.[0].delivery')
serve_stop s3 # in the pause before the second attempt
[ "$(cat "$ST/hooks/$H4")" = "$BEFORE" ] || fail "the cursor moved past a delivery that was not made"
echo ok >"$T/late.jsonl.mode"
serve_start s4 "$R" $HARGS --hook-backoff-ms 300
late_ok() { [ "$(cat "$ST/hooks/$H4")" = "$MISSED" ]; }
wait_for 20 late_ok || fail "after the restart the missed delivery was not made: $(grep "hook=$H4" "$T/s4.log")"
python3 "$CHK" "$T/late.jsonl" "$T/secret" >"$T/late.json"
[ "$(jq length "$T/late.json")" = 2 ] || fail "want 2 requests (500, then 200 after the restart): $(cat "$T/late.json")"
jq -e --arg d "$D4" --arg c "$MISSED" --arg p "$BEFORE" '.[1] | .delivery == $d and .commit == $c and .previous == $p and .sigok' \
	"$T/late.json" >/dev/null || fail "the re-delivery is not the one cut short ($D4): $(jq -c '.[1]' "$T/late.json")"
grep -q "hook=$H4 .*what=\"catching up" "$T/s4.log" || fail "no log line for the catch-up"
check "the attempts outlive a restart (GET /v1/hooks/{id}/deliveries)"
curl -sS "$(serve_url s4)/v1/hooks/$H4/deliveries" >"$T/del4.json"
jq -e --arg d "$D4" '[.attempts[] | select(.delivery == $d) | .result] == ["retry", "ok"]' "$T/del4.json" >/dev/null ||
	fail "after the restart, want the retry of s3 and the delivery of s4: $(cat "$T/del4.json")"
[ "$(stat -c %a "$ST/hooks/$H4.attempts")" = 600 ] || fail "the attempts file is not private"
serve_stop s4
# away while two more commits land: one delivery from the cursor to main, then nothing more
"$BM" --repo "$R" channel promote acme/server stable "$C1" >/dev/null
"$BM" --repo "$R" channel promote acme/server beta "$C1" >/dev/null
NOW=$(tip "$R")
# 400 lines: the next attempt (s5's catch-up) writes the file again from the last 100
i=0
while [ $i -lt 398 ]; do
	printf 'a1\t%08d-0000-8000-8000-000000000000\t%s\t1\t%d\t200\t1.000\tok\t0\t\n' $((1000 + i)) "$MISSED" $i
	i=$((i + 1))
done >>"$ST/hooks/$H4.attempts"
[ "$(wc -l <"$ST/hooks/$H4.attempts")" = 400 ] || fail "want 400 lines before s5: $(wc -l <"$ST/hooks/$H4.attempts")"
serve_start s5 "$R" $HARGS --hook-backoff-ms 300
U=$(serve_url s5)
late_now() { [ "$(cat "$ST/hooks/$H4")" = "$NOW" ]; }
wait_for 20 late_now || fail "the two commits made while serve was away were not delivered"
python3 "$CHK" "$T/late.jsonl" "$T/secret" >"$T/late.json"
[ "$(jq length "$T/late.json")" = 3 ] || fail "want one catch-up delivery: $(cat "$T/late.json")"
jq -e --arg c "$NOW" --arg p "$MISSED" '.[2] | .commit == $c and .previous == $p and
	(.paths | map(select(startswith("projects/acme/server/channels/beta/"))) | length > 0) and
	(.paths | map(select(startswith("projects/acme/server/channels/stable/"))) | length > 0)' "$T/late.json" >/dev/null ||
	fail "the catch-up event: $(jq -c '.[2]' "$T/late.json")"
serve_stop s5
[ "$(wc -l <"$ST/hooks/$H4.attempts")" = 100 ] && tail -n 1 "$ST/hooks/$H4.attempts" | grep -q "	$NOW	1	.*	ok	" ||
	fail "past 400 lines, want the last 100 with s5's delivery last: $(wc -l <"$ST/hooks/$H4.attempts"); $(tail -n 1 "$ST/hooks/$H4.attempts")"
# lines that do not parse (another version, junk), and a last one cut short (no new line)
printf 'a1\tjunk\nnot a line at all\na1\tcut short' >>"$ST/hooks/$H4.attempts"
serve_start s6 "$R" $HARGS --hook-backoff-ms 300
sleep 1
[ "$(python3 "$CHK" "$T/late.jsonl" "$T/secret" | jq length)" = 3 ] || fail "a restart with nothing missed delivered again"
curl -sS "$(serve_url s6)/v1/hooks/$H4/deliveries" >"$T/del6.json"
jq -e --arg c "$NOW" '(.attempts | length) == 100 and .attempts[-1].commit == $c and .attempts[-1].result == "ok" and
	.attempts[-2].delivery == "00001397-0000-8000-8000-000000000000"' "$T/del6.json" >/dev/null ||
	fail "the attempts after the restart (the lines that do not parse skipped): $(jq -c '.attempts[-2:]' "$T/del6.json")"
[ "$(wc -l <"$ST/hooks/$H4.attempts")" = 100 ] && [ "$(tail -c 1 "$ST/hooks/$H4.attempts" | od -An -c | tr -d ' ')" = '\n' ] ||
	fail "a file whose last line was cut short is written again: $(tail -n 2 "$ST/hooks/$H4.attempts")"
serve_stop s6
echo "junk" >"$ST/hooks/$H4"
# a file past its bound (400 lines) is cut to the last 100 attempts when read
i=0
while [ $i -lt 450 ]; do
	printf 'a1\t%08d-0000-8000-8000-000000000000\t%s\t1\t%d\t200\t1.000\tok\t0\t\n' $i "$NOW" $i
	i=$((i + 1))
done >>"$ST/hooks/$H4.attempts"
serve_start s7 "$R" $HARGS --hook-backoff-ms 300
wait_for 10 late_now || fail "a cursor that does not parse is not set to main again"
grep -q "hook=$H4 .*the cursor does not parse" "$T/s7.log" || fail "the bad cursor is not said"
[ "$(wc -l <"$ST/hooks/$H4.attempts")" = 100 ] || fail "the attempts file was not cut to 100 lines: $(wc -l <"$ST/hooks/$H4.attempts")"
curl -sS "$(serve_url s7)/v1/hooks/$H4/deliveries" >"$T/del7.json"
jq -e '(.attempts | length) == 100 and .attempts[-1].delivery == "00000449-0000-8000-8000-000000000000"' "$T/del7.json" >/dev/null ||
	fail "after the cut: $(jq -c '.attempts[-1], (.attempts | length)' "$T/del7.json")"
serve_stop s7
echo PASS
