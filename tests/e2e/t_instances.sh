#!/bin/sh
# Instance reports from the CLI, the direct path an agent without serve writes through:
# `instance report` writes only on a change (never a heartbeat), `instances` lists who runs
# what and since when, `trace` of a release names the instances running it, bad input is
# refused by name with nothing written, and a damaged log is never extended.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
bm project add app >/dev/null
bm project add app/api >/dev/null
bm release add app --source "file://$T/app@$C1" --id r1 >/dev/null
bm release add app --source "file://$T/app@$C1" --id r2 >/dev/null
bm release add app/api --source "file://$T/app@$C1" --id r1 >/dev/null
bm env add prod >/dev/null
bm env add stage >/dev/null
ACTED=$(tip "$R")

check "a report is written, with its fields, in the instance's log for the project"
bm --json instance report prod web-1 --project app --release r1 --state downloading \
	--meta-commit "$ACTED" --os linux --arch amd64 --agent-version "agent 0.1" >"$T/r1.json"
eq "seq" "$(js 'd["seq"]' <"$T/r1.json")" 1
eq "state" "$(js 'd["state"]' <"$T/r1.json")" downloading
eq "actedOn" "$(js 'd["actedOn"]' <"$T/r1.json")" "$ACTED"
eq "metaCommit is the commit written" "$(js 'd["metaCommit"]' <"$T/r1.json")" "$(tip "$R")"
eq "unchanged" "$(js 'd["unchanged"]' <"$T/r1.json")" False
eq "actor" "$(js 'd["actor"]' <"$T/r1.json")" "E2E Tester <e2e@example.com>"
git --git-dir="$R" cat-file -e "main:envs/prod/instances/web-1/app/+reports/0000000/0000000001.pb" ||
	fail "no record at envs/prod/instances/web-1/app/+reports/0000000/0000000001.pb"
eq "record type by path" "$(bm --json show envs/prod/instances/web-1/app/+reports/0000000/0000000001.pb | js 'd["os"]')" linux

check "the same state, release and error again: unchanged, no commit (a new meta commit is no change)"
before=$(tip "$R")
out=$(bm instance report prod web-1 --project app --release r1 --state downloading \
	--meta-commit 0123456789abcdef0123456789abcdef01234567)
echo "$out" | grep -q "unchanged, downloading r1 since .*(#1); nothing written" || fail "report said: $out"
eq "main did not move" "$(tip "$R")" "$before"
bm --json instance report prod web-1 --project app --release r1 --state downloading >"$T/same.json"
eq "--json unchanged" "$(js 'd["unchanged"]' <"$T/same.json")" True
eq "--json metaCommit is the tip" "$(js 'd["metaCommit"]' <"$T/same.json")" "$before"

check "state changes are entries 2, 3 ...; another project of the same instance has its own log"
bm instance report prod web-1 --project app --release r1 --state installed >/dev/null
out=$(bm instance report prod web-1 --project app --release r1 --state healthy)
echo "$out" | grep -q "^prod/web-1 app #3: healthy r1 (meta commit " || fail "report said: $out"
bm instance report prod web-1 --project app/api --release r1 --state healthy >/dev/null
bm instance report prod web-2 --project app --release r2 --state failed --error "health check: 503
after 60 s" >/dev/null
bm instance report stage web-9 --project app --release r1 --state healthy >/dev/null
git --git-dir="$R" cat-file -e "main:envs/prod/instances/web-1/app/api/+reports/0000000/0000000001.pb" ||
	fail "app/api of web-1 is not in its own log"

check "instances: who runs what, since when, healthy or not"
bm instances prod >"$T/list"
cat "$T/list"
head -n 1 "$T/list" | grep -q "^INSTANCE  *PROJECT  *RELEASE  *STATE  *SINCE  *ERROR" || fail "no table header"
eq "rows" "$(tail -n +2 "$T/list" | wc -l)" 3
grep -q "^web-1  *app  *r1  *healthy  *20[0-9-]*T[0-9:]*Z" "$T/list" || fail "web-1 app row"
grep -q "^web-1  *app/api  *r1  *healthy" "$T/list" || fail "web-1 app/api row"
grep -q "^web-2  *app  *r2  *failed  .*health check: 503\$" "$T/list" || fail "web-2 row: error's first line"
grep -q "web-9" "$T/list" && fail "stage's instance listed under prod"
bm --json instances prod >"$T/list.json"
eq "--json rows" "$(js 'len(d)' <"$T/list.json")" 3
eq "--json error keeps its lines" "$(js 'repr(d[2]["error"])' <"$T/list.json")" "'health check: 503\\nafter 60 s'"
eq "--json sinceMs of healthy" "$(js 'd[0]["sinceMs"] == d[0]["timeMs"]' <"$T/list.json")" True
python3 "$BM_SRCDIR/tests/e2e/json_conventions.py" "$T/r1.json" "$T/same.json" "$T/list.json" || fail "JSON conventions"
eq "--project" "$(bm --json instances prod --project app/api | js 'len(d)')" 1
out=$(bm instances stage --project app/api)
eq "no instance yet" "$out" "no instance of stage runs app/api has reported yet (\`bootmeta instance report\`)"

check "since: a new error in the same state keeps it; a new release resets it"
since=$(bm --json instances prod --project app | js '[x for x in d if x["instance"]=="web-2"][0]["sinceMs"]')
sleep 0.01
bm instance report prod web-2 --project app --release r2 --state failed --error "connection refused" >/dev/null
eq "same run" "$(bm --json instances prod --project app | js '[x for x in d if x["instance"]=="web-2"][0]["sinceMs"]')" "$since"
bm instance report prod web-2 --project app --release r1 --state rolled-back --error "r2 failed its health check" >/dev/null
new=$(bm --json instances prod --project app | js '[x for x in d if x["instance"]=="web-2"][0]["sinceMs"]')
[ "$new" != "$since" ] || fail "since did not move with the new release"
echo "  ok: since $since, then $new"

check "history: newest first"
bm instance history prod web-2 --project app >"$T/hist"
cat "$T/hist"
eq "entries" "$(tail -n +2 "$T/hist" | wc -l)" 3
tail -n +2 "$T/hist" | head -n 1 | grep -q "^3  *rolled-back  *r1 " || fail "newest first"
eq "-n 1" "$(bm --json instance history prod web-2 --project app -n 1 | js 'd[0]["seq"]')" 3

check "trace of a release shows the instances whose newest report names it"
bm trace r1 --project app >"$T/trace"
cat "$T/trace"
grep -q "^instance  prod/web-1 healthy since " "$T/trace" || fail "trace lacks web-1"
grep -q "^instance  prod/web-2 rolled-back since " "$T/trace" || fail "trace lacks web-2 (rolled back to r1)"
grep -q "^instance  stage/web-9 healthy since " "$T/trace" || fail "trace lacks stage's web-9"
eq "--json" "$(bm --json trace r1 --project app | js '",".join(i["env"]+"/"+i["instance"] for i in d["releases"][0]["instances"])')" \
	"prod/web-1,prod/web-2,stage/web-9"
bm trace r2 --project app | grep -q "^instances (no instance reports this release)" || fail "r2 runs nowhere now"
eq "app/api's r1" "$(bm --json trace r1 --project app/api | js 'len(d["releases"][0]["instances"])')" 1

check "bad input: refused by name, nothing written"
refused 1 'instance id "Web-1" contains' bm instance report prod Web-1 --project app --release r1 --state healthy
refused 1 "starts with '-'" bm instance report prod --project app --release r1 --state healthy -- -web
refused 1 'instance id "a/b" may not contain' bm instance report prod a/b --project app --release r1 --state healthy
refused 1 'instance state "ok" is not one of downloading, installed, healthy, failed, rolled-back' \
	bm instance report prod web-1 --project app --release r1 --state ok
refused 1 'no environment "qa"' bm instance report qa web-1 --project app --release r1 --state healthy
refused 1 'no project "ghost"' bm instance report prod web-1 --project ghost --release r1 --state healthy
refused 1 'no release "r9"' bm instance report prod web-1 --project app --release r9 --state healthy
refused 1 "the meta commit acted on" bm instance report prod web-1 --project app --release r1 --state healthy --meta-commit abc
refused 1 "the error text holds an escape character" \
	bm instance report prod web-1 --project app --release r1 --state failed --error "$(printf 'bad \033[2J')"
refused 1 'os "Linux" may only hold' bm instance report prod web-1 --project app --release r1 --state failed --os Linux
refused 2 "needs --project, --release and --state" bm instance report prod web-1 --project app --state healthy
refused 2 "takes ENV and ID" bm instance report prod --project app --release r1 --state healthy
set +e
"$BM" --repo "$R" --json instance report qa web-1 --project app --release r1 --state healthy 2>"$T/err.json"
set -e
eq "--json error code" "$(js 'd["code"]' <"$T/err.json")" "not found"
expect_fail 1 'no environment "qa"' bm instances qa

check "doctor checks the instance logs"
bm doctor >/dev/null || fail "doctor is not clean"

check "a damaged log is never extended and is named by file; the listing goes on"
head -c 32 /dev/urandom >"$T/garbage"
printf '\377\377\377\377' >>"$T/garbage"
plant "$R" envs/prod/instances/web-1/app/+reports/0000000/0000000004.pb "$T/garbage"
refused 1 "envs/prod/instances/web-1/app/+reports/0000000/0000000004.pb" \
	bm instance report prod web-1 --project app --release r2 --state downloading
set +e
bm --json instances prod >"$T/bad.json" 2>"$T/bad.err"
rc=$?
set -e
eq "exit status" "$rc" 1
eq "the damaged log in its place" "$(js '[x.get("path","") for x in d if "error" in x and "seq" not in x][0]' <"$T/bad.json")" \
	"envs/prod/instances/web-1/app/+reports/0000000/0000000004.pb"
eq "the others still listed" "$(js 'len([x for x in d if "seq" in x])' <"$T/bad.json")" 2
expect_fail 1 "0000000004.pb" bm instances prod
set +e
bm doctor >"$T/doctor.out" 2>&1
rc=$?
set -e
eq "doctor finds it" "$rc:$(grep -c 'envs/prod/instances/web-1/app/+reports/0000000/0000000004.pb' "$T/doctor.out")" 1:1
git --git-dir="$R" fsck --strict >/dev/null 2>&1 || fail "git fsck --strict"
echo PASS
