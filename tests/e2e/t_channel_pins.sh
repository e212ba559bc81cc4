#!/bin/sh
# Pins: `channel rollback` writes a pinned entry (followers go to that release), `channel
# promote` refuses while the channel is pinned unless --force (recorded), `channel unpin`
# releases the pin; every refusal names the pin and moves nothing. serve's promote refuses a
# pinned channel with 409 the same way.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
bm project add app >/dev/null
for r in r1 r2 r3; do bm release add app --source "file://$T/app@$C1" --id $r >/dev/null; done

check "rollback needs an entry, a reason, and a release other than the current one"
refused 1 "has no entry to rollback" bm channel rollback app stable --reason "bad"
bm channel promote app stable r1 >/dev/null
bm channel promote app stable r2 >/dev/null
bm channel promote app stable r3 >/dev/null
refused 2 "needs --reason" bm channel rollback app stable
refused 2 "needs --reason" bm channel rollback app stable --reason ""
refused 1 "points at r3 already" bm channel rollback app stable --to r3 --reason "x"
refused 1 "no release" bm channel rollback app stable --to r9 --reason "x"
refused 2 "--to is an option of channel rollback" bm channel promote app stable r1 --to r2

check "rollback without --to goes to the release before, pinned; get and history show the pin"
out=$(bm channel rollback app stable --reason "r3 leaks memory")
echo "$out" | grep -q "^app stable #4: r2, was r3; pinned by this rollback (meta commit " || fail "rollback said: $out"
bm channel get app stable >"$T/get"
grep -q "^release   r2$" "$T/get" || fail "get: $(cat "$T/get")"
grep -q "^pinned    yes, by this rollback" "$T/get" || fail "get shows no pin: $(cat "$T/get")"
bm --json channel get app stable >"$T/get.json"
eq "json pinned" "$(js 'd["pinned"]' <"$T/get.json")" True
eq "json action" "$(js 'd["action"]' <"$T/get.json")" CHANNEL_ACTION_ROLLBACK
bm channel history app stable | grep -q "^4 .*r2 .*\[rollback, pinned\]  r3 leaks memory" ||
	fail "history: $(bm channel history app stable)"
git --git-dir="$R" log -1 --format=%s main | grep -q "^channel rollback app stable #4: r2$" ||
	fail "commit message: $(git --git-dir="$R" log -1 --format=%s main)"

check "a second rollback without --to is refused (name the release); with --to it moves the pin"
refused 1 "last entry is a rollback already" bm channel rollback app stable --reason "again"
bm channel rollback app stable --to r1 --reason "r2 too" >/dev/null
eq "pinned at r1" "$(bm --json channel get app stable | js 'd["release"]')" r1

check "promote refuses while pinned, names the pin and says how to release it"
refused 1 "pinned at r1 by a rollback (#5 by E2E Tester <e2e@example.com>: r2 too)" bm channel promote app stable r3
grep -q "bootmeta channel unpin app stable --reason TEXT" "$T/err" || fail "no unpin hint: $(cat "$T/err")"
grep -q "\-\-force" "$T/err" || fail "no --force hint: $(cat "$T/err")"
bm --json channel promote app stable r3 >"$T/o" 2>"$T/e" && fail "json promote over a pin succeeded"
grep -q '"code"' "$T/e" || grep -q '"code"' "$T/o" || fail "json error has no code: $(cat "$T/e" "$T/o")"

check "unpin: same release, pin gone, reason required; unpin of an unpinned channel refused"
refused 2 "needs --reason" bm channel unpin app stable
out=$(bm channel unpin app stable --reason "fixed in r3")
echo "$out" | grep -q "^app stable #6: unpinned at r1 (meta commit " || fail "unpin said: $out"
eq "unpinned" "$(bm --json channel get app stable | js 'd.get("pinned", False)')" False
eq "still r1" "$(bm --json channel get app stable | js 'd["release"]')" r1
refused 1 "is not pinned" bm channel unpin app stable --reason "again"
bm channel promote app stable r3 >/dev/null
eq "promote works again" "$(bm --json channel get app stable | js 'd["release"]')" r3

check "promote --force over a pin is recorded and releases the pin"
bm channel rollback app stable --reason "hotfix pending" >/dev/null
out=$(bm channel promote app stable r2 --force --reason "hotfix is r2")
echo "$out" | grep -q "forced over a pin" || fail "forced promote said: $out"
bm --json channel get app stable >"$T/f.json"
eq "forced" "$(js 'd["forced"]' <"$T/f.json")" True
eq "no pin after force" "$(js 'd.get("pinned", False)' <"$T/f.json")" False
git --git-dir="$R" log -1 --format=%s main | grep -q "(forced over a pin)$" || fail "commit message lacks the force"

check "serve: promote over a pin is 409 with the pin named; with \"force\": true it commits"
bm channel rollback app stable --reason "serve test" >/dev/null
serve_start s "$R" --open-writes
URL=$(serve_url s)
before=$(tip "$R")
code=$(curl -s -o "$T/h.json" -w '%{http_code}' -X POST "$URL/v1/projects/app/channels/stable/promote" \
	-H 'Content-Type: application/json' -d '{"release":"r3"}')
eq "409" "$code" 409
grep -q "pinned at r1 by a rollback (#10 by .*: serve test)" "$T/h.json" || fail "409 body: $(cat "$T/h.json")"
eq "main did not move" "$(tip "$R")" "$before"
code=$(curl -s -o "$T/h.json" -w '%{http_code}' -X POST "$URL/v1/projects/app/channels/stable/promote" \
	-H 'Content-Type: application/json' -d '{"release":"r3","force":true,"reason":"over http"}')
eq "200 with force" "$code" 200
eq "forced over http" "$(bm --json channel get app stable | js 'd["forced"]')" True
code=$(curl -s -o "$T/h.json" -w '%{http_code}' -X POST "$URL/v1/projects/app/channels/stable/promote" \
	-H 'Content-Type: application/json' -d '{"release":"r3","force":"yes"}')
eq "force must be a boolean" "$code" 400
serve_stop s
echo "PASS"
