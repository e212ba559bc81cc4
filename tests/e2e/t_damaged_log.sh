#!/bin/sh
# Never build on a damaged log: every append-only log bootmeta keeps (channel entries,
# config values, flag versions, recipients, admins, secret versions) is damaged with stock
# git plumbing, as a foreign writer or a bad restore would, and the next write to that log
# must be refused with an error naming the damaged file, writing nothing.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --quiet --repo "$R" "$@"; }
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/app")

# unplant REPO PATH: remove a file with stock git plumbing
unplant() {
	GIT_INDEX_FILE="$T/plant.idx" git --git-dir="$1" read-tree main
	printf '0 0000000000000000000000000000000000000000\t%s\n' "$2" |
		GIT_INDEX_FILE="$T/plant.idx" git --git-dir="$1" update-index --index-info
	tree=$(GIT_INDEX_FILE="$T/plant.idx" git --git-dir="$1" write-tree)
	commit=$(git --git-dir="$1" commit-tree "$tree" -p main -m "unplant $2")
	git --git-dir="$1" update-ref refs/heads/main "$commit"
	rm -f "$T/plant.idx"
}
# copy REPO FROM TO: plant the bytes of FROM (at main) at TO
copy() {
	git --git-dir="$1" cat-file blob "main:$2" >"$T/copy.bin"
	plant "$1" "$3" "$T/copy.bin"
}
# refused NEEDLE CMD...: the write fails, says NEEDLE, and main does not move
refused() {
	before=$(tip "$R")
	expect_fail 1 "$@"
	[ "$(tip "$R")" = "$before" ] || fail "'$*' moved main although it was refused"
}
head -c 64 /dev/urandom >"$T/garbage"
printf '\377\377\377\377\377\377\377\377' >>"$T/garbage"

bm project add app >/dev/null
bm release add app --source "file://$T/app@$C1" --id r1 >/dev/null
bm release add app --source "file://$T/app@$C1" --id r2 >/dev/null
bm release add app --source "file://$T/app@$C1" --id r3 >/dev/null
CH=projects/app/channels

check "channel: an entry removed in the middle is a gap"
for r in r1 r2 r3; do bm channel promote app stable $r >/dev/null; done
unplant "$R" $CH/stable/0000000/0000000002.pb
refused "$CH/stable/0000000/0000000002.pb" bm channel promote app stable r1
# the library says what happened; the CLI adds its repair command (src/cli_hint.c)
grep -qF -- "shows the commit that changed it) or see \`bootmeta doctor\`" "$T/err" || fail "no doctor hint"

check "channel: garbage over the newest entry"
for r in r1 r2 r3; do bm channel promote app beta $r >/dev/null; done
plant "$R" $CH/beta/0000000/0000000003.pb "$T/garbage"
refused "$CH/beta/0000000/0000000003.pb" bm channel promote app beta r1

check "channel: a valid entry moved to another seq does not match its path"
for r in r1 r2; do bm channel promote app canary $r >/dev/null; done
copy "$R" $CH/canary/0000000/0000000001.pb $CH/canary/0000000/0000000003.pb
refused "$CH/canary/0000000/0000000003.pb" bm channel promote app canary r3

check "channel: a stray file in the log"
bm channel promote app edge r1 >/dev/null
plant "$R" $CH/edge/0000000/notes.pb "$T/garbage"
refused "$CH/edge/0000000/notes.pb" bm channel promote app edge r2

check "channel: a release record full of garbage is not promoted"
plant "$R" projects/app/releases/r2.pb "$T/garbage"
bm channel promote app fresh r1 >/dev/null
refused "projects/app/releases/r2.pb" bm channel promote app fresh r2

check "channel: a log crossing a bucket with the older bucket's tail removed"
# seq 999 is the last entry of bucket 0; 1000 starts bucket 1 (made with plumbing: 1000
# promotions would take too long here)
bm channel promote app big r1 >/dev/null
git --git-dir="$R" cat-file blob "main:$CH/big/0000000/0000000001.pb" >"$T/e1"
plant "$R" $CH/big/0000001/0000001000.pb "$T/e1"
refused "$CH/big/0000000/0000000999.pb" bm channel promote app big r1

bm env add prod >/dev/null
K=envs/prod/config/app/+keys
check "config: a value removed in the middle"
for v in 1 2 3; do bm config set app prod A=$v >/dev/null; done
unplant "$R" $K/A/0000000002.pb
refused "$K/A/0000000002.pb" bm config set app prod A=4

check "config: garbage over the newest value"
for v in 1 2; do bm config set app prod B=$v >/dev/null; done
plant "$R" $K/B/0000000002.pb "$T/garbage"
refused "$K/B/0000000002.pb" bm config set app prod B=3

check "config: the oldest value removed"
for v in 1 2; do bm config set app prod C=$v >/dev/null; done
unplant "$R" $K/C/0000000001.pb
refused "$K/C/0000000001.pb" bm config set app prod C=3

F=envs/prod/config/app/+flags
check "flags: a version removed in the middle"
for d in on off on; do bm flag set app prod f1 --variant on=true --variant off=false --default $d >/dev/null; done
unplant "$R" $F/f1/0000000002.pb
refused "$F/f1/0000000002.pb" bm flag set app prod f1 --default off

check "flags: garbage over the newest version"
for d in on off; do bm flag set app prod f2 --variant on=true --variant off=false --default $d >/dev/null; done
plant "$R" $F/f2/0000000002.pb "$T/garbage"
refused "$F/f2/0000000002.pb" bm flag set app prod f2 --default on

# age keys for recipients and secrets
for i in 1 2 3 4; do "$BM" age keygen -o "$T/id$i" 2>/dev/null; done
P1=$(grep -o 'age1[0-9a-z]*' "$T/id1" | head -n 1)
P2=$(grep -o 'age1[0-9a-z]*' "$T/id2" | head -n 1)
P3=$(grep -o 'age1[0-9a-z]*' "$T/id3" | head -n 1)
P4=$(grep -o 'age1[0-9a-z]*' "$T/id4" | head -n 1)
[ -n "$P1" ] && [ -n "$P4" ] || fail "no age recipients made"

check "recipients: a change removed in the middle"
bm env add stage >/dev/null
bm recipients add stage "$P1" >/dev/null
bm recipients add stage "$P2" >/dev/null
bm recipients add stage "$P3" >/dev/null
unplant "$R" envs/stage/recipients/0000000002.pb
refused "envs/stage/recipients/0000000002.pb" bm recipients add stage "$P4"

check "recipients: garbage over the newest change"
bm env add qa >/dev/null
bm recipients add qa "$P1" >/dev/null
bm recipients add qa "$P2" >/dev/null
plant "$R" envs/qa/recipients/0000000002.pb "$T/garbage"
refused "envs/qa/recipients/0000000002.pb" bm recipients add qa "$P3"

check "recipients: another env's change copied in does not match its path"
copy "$R" envs/stage/recipients/0000000003.pb envs/prod/recipients/0000000001.pb
refused "envs/prod/recipients/0000000001.pb" bm recipients add prod "$P4"

check "admins: a change removed"
bm recipients add --admin "$P1" >/dev/null
bm recipients add --admin "$P2" >/dev/null
bm recipients add --admin "$P3" >/dev/null
unplant "$R" keys/admins/0000000001.pb
refused "keys/admins/0000000001.pb" bm recipients add --admin "$P4"

# secrets need a readable admin log: start a second repo
R=$T/meta2
"$BM" init "$R" >/dev/null
bm project add app >/dev/null
bm env add prod >/dev/null
bm recipients add prod "$P1" >/dev/null
S=envs/prod/secrets/app
check "secrets: a version removed in the middle"
for v in one two three; do printf %s $v | bm secret set app prod db >/dev/null; done
unplant "$R" $S/db/0000000002.pb
printf four >"$T/v4"
refused "$S/db/0000000002.pb" bm secret set app prod db "$T/v4"

check "secrets: garbage over the newest version record"
for v in one two; do printf %s $v | bm secret set app prod api >/dev/null; done
plant "$R" $S/api/0000000002.pb "$T/garbage"
refused "$S/api/0000000002.pb" bm secret set app prod api "$T/v4"

check "an intact log still takes writes"
bm project add app2 >/dev/null
bm release add app2 --source "file://$T/app@$C1" --id r1 >/dev/null
bm channel promote app2 stable r1 >/dev/null
bm channel promote app2 stable r1 >/dev/null
printf five | bm secret set app prod ok >/dev/null
printf six | bm secret set app prod ok >/dev/null
echo "t_damaged_log: ok"
