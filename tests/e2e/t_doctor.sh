#!/bin/sh
# bootmeta doctor: a sound repo is clean; repos damaged with git plumbing (a record of
# garbage, a log with a gap, a missing branch, objects deleted under main as `git prune
# --expire=now` beside a writer does) are reported by path and kind; --repair moves main back
# along its reflog, says what is lost, keeps the old tip, and deletes nothing.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }
# doctor_rc WANT ARGS...: run doctor, keep stdout in $T/d.out, check the exit code
doctor_rc() {
	want=$1
	shift
	set +e
	"$BM" --repo "$R" doctor "$@" >"$T/d.out" 2>"$T/d.err"
	got=$?
	set -e
	[ "$got" = "$want" ] || { cat "$T/d.out" "$T/d.err" >&2; fail "doctor $* exited $got, want $want"; }
}
has() { grep -qF -- "$1" "$T/d.out" || { cat "$T/d.out" >&2; fail "doctor output lacks: $1"; }; }

"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")
bm project add app >/dev/null
bm release add app --source "file://$T/app@$C1" --id r1 >/dev/null
for i in 1 2 3; do bm channel promote app stable r1 >/dev/null; done
bm env add prod >/dev/null
bm config set app prod A=1 B=2 >/dev/null

check "a meta repo keeps a reflog for main (bare repos do not by default)"
[ "$(git --git-dir="$R" config core.logAllRefUpdates)" = always ] || fail "core.logAllRefUpdates is not always"
n=$(git --git-dir="$R" reflog show main | wc -l)
[ "$n" -ge 8 ] || fail "main's reflog has $n entries, want one per write"
git --git-dir="$R" reflog show main | head -n 1 | grep -q "config set" || fail "the newest reflog entry is not the last write"
"$BM" --quiet clone "$R" "$T/clone" >/dev/null
"$BM" --quiet --repo "$T/clone" channel promote app stable r1 >/dev/null
git --git-dir="$T/clone" reflog show main | head -n 1 | grep -q . || fail "a clone keeps no reflog for main"
git --git-dir="$R" reflog show main | head -n 1 | grep -q "channel promote" || fail "a push to a local remote wrote no reflog entry there"
echo "  ok: $n entries"

check "a sound repo is clean: exit 0"
doctor_rc 0
has "0 problems"
doctor_rc 0 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["clean"] and d["problems"]==[] and d["repair"] is None and int(d["records"])>=8 and int(d["logs"])>=3, d' "$T/d.out"
echo "  ok: $(head -c 120 "$T/d.out")"

check "git gc, repack -d, prune with the default grace period: the repo stays sound"
git --git-dir="$R" gc -q
git --git-dir="$R" repack -q -d
git --git-dir="$R" prune
doctor_rc 0

check "a record of garbage and a log with a gap: each problem by path and kind, exit 1"
head -c 40 /dev/urandom >"$T/garbage"
printf '\377\377\377\377' >>"$T/garbage"
plant "$R" projects/app/releases/r1.pb "$T/garbage"
git --git-dir="$R" cat-file blob "main:projects/app/channels/stable/0000000/0000000001.pb" >"$T/e1"
plant "$R" projects/app/channels/stable/0000000/0000000009.pb "$T/e1"
doctor_rc 1
has "problem: projects/app/releases/r1.pb: does not decode as a Release record"
has "problem: projects/app/channels/stable/0000000/0000000009.pb: holds entry 1"
has "problem: projects/app/channels/stable: projects/app/channels/stable/0000000/0000000005.pb is missing"
# a log problem is the library's error; the CLI adds its hint as every command does
has "shows the commit that changed it) or see \`bootmeta doctor\`"
doctor_rc 1 --json
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
k={(p["kind"],p["path"]) for p in d["problems"]}
assert ("badRecord","projects/app/releases/r1.pb") in k, k
assert ("logGap","projects/app/channels/stable") in k, k
assert not d["clean"] and d["repair"] is None
' "$T/d.out"
echo "  ok: $(grep -c problem "$T/d.out" || true) problems in the JSON"
doctor_rc 1 --repair
has "records and"

check "no main branch: told apart from a missing object"
R=$T/nomain
"$BM" init "$R" >/dev/null
git --git-dir="$R" update-ref -d refs/heads/main
doctor_rc 1
has "problem: refs/heads/main: the repo has no main branch"
doctor_rc 1 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["main"] is None and d["problems"][0]["kind"]=="noMain", d' "$T/d.out"

check "objects of the newest commit deleted (as git prune --expire=now beside a writer): repaired"
R=$T/pruned
"$BM" init "$R" >/dev/null
bm project add app >/dev/null
bm release add app --source "file://$T/app@$C1" --id r1 >/dev/null
GOOD=$(tip "$R")
bm channel promote app stable r1 >/dev/null
BAD=$(tip "$R")
drop "$R" "$BAD"
expect_fail 1 "" "$BM" --repo "$R" channel get app stable
doctor_rc 1
has "problem: refs/heads/main: main points at commit $BAD, which is missing from the object store"
has "repair: would move main to main@{1} $(echo "$GOOD" | cut -c1-12)"
has "lost commit $(echo "$BAD" | cut -c1-12) (the commit object is missing)"
[ "$(tip "$R")" = "$BAD" ] || fail "doctor without --repair moved main"
doctor_rc 0 --repair
has "repaired: moved main to main@{1}"
[ "$(tip "$R")" = "$GOOD" ] || fail "repair did not move main back to $GOOD"
git --git-dir="$R" reflog show main | head -n 1 | grep -q "doctor --repair" || fail "the repair left no reflog entry"
git --git-dir="$R" fsck --no-dangling --no-progress main >/dev/null 2>&1 || fail "git fsck fails on the repaired main"
bm channel promote app stable r1 >/dev/null
bm channel get app stable | grep -q r1 || fail "the repaired repo does not take writes"
doctor_rc 0
echo "  ok: main is back at $GOOD and takes writes"

check "a record blob of the newest commit deleted: the lost commit, its records, the old tip kept"
R=$T/pruned2
"$BM" init "$R" >/dev/null
bm project add app >/dev/null
GOOD=$(tip "$R")
bm release add app --source "file://$T/app@$C1" --id r9 >/dev/null
BAD=$(tip "$R")
blob=$(git --git-dir="$R" rev-parse "main:projects/app/releases/r9.pb")
drop "$R" "$blob"
doctor_rc 1 --json
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["problems"][0]["kind"]=="missingObject" and d["problems"][0]["path"]=="projects/app/releases/r9.pb", d
r=d["repair"]
assert r and not r["applied"] and r["to"]==sys.argv[2] and r["reflogEntry"]=="main@{1}", r
assert len(r["lost"])==1 and r["lost"][0]["commit"]==sys.argv[3] and not r["lost"][0]["missing"], r
assert "projects/app/releases/r9.pb" in r["lost"][0]["added"], r
' "$T/d.out" "$GOOD" "$BAD"
doctor_rc 0 --repair
has "adds projects/app/releases/r9.pb"
has "the old main is kept as refs/bootmeta/lost/"
lost=$(git --git-dir="$R" for-each-ref --format='%(refname)' refs/bootmeta/lost/)
[ -n "$lost" ] && [ "$(git --git-dir="$R" rev-parse "$lost")" = "$BAD" ] || fail "the old tip is not kept under refs/bootmeta/lost/"
present "$R" "$BAD" || fail "the repair deleted the old commit"
[ "$(tip "$R")" = "$GOOD" ] || fail "repair did not move main back"
bm release add app --source "file://$T/app@$C1" --id r9 >/dev/null
echo "  ok: old tip $BAD kept as $lost"

check "paths and summaries from the repo are shown through the display escape"
R=$T/hostile
"$BM" init "$R" >/dev/null
bm project add app >/dev/null
rlo=$(printf '\342\200\256') # U+202E RIGHT-TO-LEFT OVERRIDE: reorders the rest of the line
printf 'garbage' >"$T/g"
plant "$R" "projects/app/releases/r${rlo}9.pb" "$T/g"
blob=$(git --git-dir="$R" rev-parse "main:projects/app/releases/r${rlo}9.pb")
rm -f "$(loose "$R" "$blob")"
doctor_rc 1
if grep -q "$rlo" "$T/d.out"; then cat -v "$T/d.out" >&2; fail "doctor printed the repo's U+202E as it is"; fi
has 'projects/app/releases/r\xe2\x80\xae9.pb'
R=$T/pruned2

check "a repair does not run when main moved under it, and an intact repo needs none"
doctor_rc 0 --repair
has "0 problems"
echo "t_doctor: ok"
