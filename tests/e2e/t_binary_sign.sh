#!/bin/sh
# Signed binaries against the real minisign: keys minisign made are trusted with `key trust`,
# signatures `minisign -S` made are attached with --signature, ours (--sign, `binary sign`)
# verify with `minisign -V` straight from `binary show --json`. `binary verify` says yes only
# for the recorded bytes with a signature by a trusted key, and a pinned keys file outside
# the repo overrides what the repo trusts. Every refused write leaves main where it was.
. "$(dirname "$0")/lib_core.sh"
command -v minisign >/dev/null 2>&1 || { echo "FAIL: needs minisign (Debian package minisign; make deps installs it)" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "FAIL: needs jq (Debian package jq; make deps installs it)" >&2; exit 1; }
: "${BM_SRCDIR:?set BM_SRCDIR}"
cd "$T"

# expect_ok CMD...: CMD exits 0 (its output in $T/out)
expect_ok() {
	"$@" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err" >&2; fail "'$*' failed"; }
}
# unchanged BEFORE: main did not move
unchanged() { [ "$(tip meta)" = "$1" ] || fail "a refused command moved main"; }

"$BM" init meta >/dev/null
export BOOTMETA_REPO=$T/meta
APP=$(src_repo app)
"$BM" project add demo/server --source "file://$T/app" >/dev/null
"$BM" release add demo/server --source "file://$T/app@$APP" --version 1.0.0 >/dev/null
for i in 1 2 3 4 5 6; do printf 'binary %s\n' "$i" >"app$i"; head -c 4096 /dev/urandom >>"app$i"; done
sha() { sha256sum "$1" | cut -c1-64; }
add() { "$BM" binary add demo/server "$APP" "$@" --os linux --arch amd64; }

check "a key minisign made is trusted; a signature minisign -S made is attached with --signature"
minisign -G -W -p mk.pub -s mk.key >/dev/null
# minisign prints a key id without leading zeros in its comment; bootmeta prints all 16 digits
keyid() { python3 -c 'import sys; print("%016X" % int(sys.argv[1], 16))' "$(head -1 "$1" | awk '{print $NF}')"; }
MK=$(keyid mk.pub)
"$BM" key trust mk.pub >/dev/null
minisign -S -s mk.key -m app1 -t "ci build 42" >/dev/null
expect_ok add app1 --signature app1.minisig
grep -q "signed by $MK" "$T/out" || fail "binary add does not say who signed: $(cat "$T/out")"
expect_ok "$BM" binary verify app1
grep -q "^verified  yes" "$T/out" || fail "verify output: $(cat "$T/out")"
"$BM" --json binary verify app1 >v.json
[ "$(jq -r .verified v.json)" = true ] || fail "json verified"
[ "$(jq -r '.signatures[0].keyId' v.json)" = "$MK" ] || fail "json key id"
[ "$(jq -r '.signatures[0].trustedComment' v.json)" = "ci build 42" ] || fail "json trusted comment"
[ "$(jq -r '.signatures[0].status' v.json)" = verified ] || fail "json status"

check "--sign KEYFILE signs in the same commit; minisign -V accepts the signature binary show --json gives"
"$BM" key gen --sign --no-password -o ours >/dev/null 2>&1
OURS=$(keyid ours.pub)
"$BM" key trust ours.pub >/dev/null
before=$(tip meta)
expect_ok add app2 --sign ours.key
[ "$(git --git-dir=meta rev-list --count "$before..main")" = 1 ] || fail "--sign took more than one commit"
"$BM" --json binary show "$(sha app2)" >show.json
jq -j .signature show.json >app2.minisig
minisign -Vm app2 -x app2.minisig -p ours.pub >mv.out || fail "minisign -V rejected the signature from binary show --json"
grep -q "Trusted comment: timestamp:[0-9]*	project:demo/server	release:$APP	sha256:$(sha app2)	size:$(stat -c %s app2)\$" mv.out ||
	fail "trusted comment: $(cat mv.out)"
minisign -V -H -m app2 -x app2.minisig -p ours.pub -q || fail "not prehashed"
[ "$(jq -r .signerKeyId show.json)" = "$OURS" ] || fail "signerKeyId"
[ "$(jq -r '.signatures[0].keyTrusted' show.json)" = true ] || fail "show: key trusted"
"$BM" binary show "$(sha app2)" | grep -q "^signed    $OURS  trusted key" || fail "binary show does not name the signer"
expect_ok "$BM" binary verify app2 --project demo/server

check "a password-encrypted key (BOOTMETA_PASSWORD) signs too"
cp "$BM_SRCDIR/tests/data/sign/encrypted_fast.key" enc.key
cp "$BM_SRCDIR/tests/data/sign/encrypted_fast.pub" enc.pub
"$BM" key trust enc.pub >/dev/null
BOOTMETA_PASSWORD=bootmeta-test expect_ok add app5 --sign enc.key
before=$(tip meta)
BOOTMETA_PASSWORD=nope expect_fail 1 "wrong password" add app6 --sign enc.key
unchanged "$before"

check "trace shows who signed"
"$BM" trace app1 >trace.out
grep -q "^signed    $MK  trusted key  \"ci build 42\"" trace.out || fail "trace: $(cat trace.out)"
"$BM" --json trace app2 | jq -e ".signers[0].keyId == \"$OURS\" and .signers[0].keyTrusted" >/dev/null ||
	fail "trace --json signers"

check "a tampered file is refused"
cp app2 app2.evil
printf 'x' >>app2.evil
expect_fail 1 "not a recorded binary" "$BM" binary verify app2.evil
expect_fail 1 "the file was changed" "$BM" binary verify app2.evil --sha256 "$(sha app2)"
if minisign -Vm app2.evil -x app2.minisig -p ours.pub -q 2>/dev/null; then fail "minisign took the tampered file"; fi

check "a signature by a key the repo does not trust is refused, and writes nothing"
minisign -G -W -p evil.pub -s evil.key >/dev/null
minisign -S -s evil.key -m app3 >/dev/null
before=$(tip meta)
expect_fail 1 "does not trust" add app3 --signature app3.minisig
unchanged "$before"
expect_fail 1 "not a recorded binary" "$BM" binary sign app3 --signature app3.minisig
unchanged "$before"

check "a signature that does not verify is refused: another file's, or a changed trusted comment"
expect_fail 1 "does not verify" add app3 --signature app1.minisig
sed 's/^trusted comment: ci build 42$/trusted comment: ci build 43/' app1.minisig >app1.bad.minisig
cp app1 app1.copy
expect_fail 1 "trusted comment" "$BM" binary sign app1 --signature app1.bad.minisig
unchanged "$before"

check "an unsigned binary: verify says so; binary sign adds a signature record"
expect_ok add app3
expect_fail 1 "is not signed" "$BM" binary verify app3
before=$(tip meta)
expect_fail 1 "does not trust" "$BM" binary sign app3 --signature app3.minisig
unchanged "$before"
expect_ok "$BM" binary sign app3 --key ours.key
sigpath="binaries/$(sha app3 | cut -c1-2)/$(sha app3).sig/$OURS.pb"
git --git-dir=meta cat-file -e "main:$sigpath" || fail "no $sigpath"
"$BM" --json show "$sigpath" | jq -e ".signerKeyId == \"$OURS\"" >/dev/null || fail "show does not decode the signature record"
expect_ok "$BM" binary verify app3
minisign -S -s mk.key -m app3 -x app3.mk.minisig >/dev/null
expect_ok "$BM" binary sign app3 --signature app3.mk.minisig
[ "$("$BM" --json binary verify app3 | jq '[.signatures[] | select(.status == "verified")] | length')" = 2 ] ||
	fail "two verified signatures expected"
before=$(tip meta)
expect_fail 1 "already signed" "$BM" binary sign app3 --key ours.key
expect_fail 1 "already signed" "$BM" binary sign app2 --key ours.key
unchanged "$before"
expect_fail 2 "not its sha256" "$BM" binary sign "$(sha app3)" --key ours.key

check "pinned keys: only they count, even though the repo trusts more"
tail -1 mk.pub >pinned_keys
expect_ok "$BM" binary verify app1 --trusted-keys pinned_keys
expect_fail 1 "pinned" "$BM" binary verify app2 --trusted-keys pinned_keys
BOOTMETA_TRUSTED_KEYS=$T/pinned_keys expect_fail 1 "do not trust" "$BM" binary verify app2
mkdir -p "$HOME/.config/bootmeta"
cat ours.pub >"$HOME/.config/bootmeta/trusted_keys"
expect_fail 1 "do not trust" "$BM" binary verify app1
expect_ok "$BM" binary verify app2
"$BM" binary show "$(sha app1)" | grep -q "^signed    $MK  untrusted key" || fail "show with pinned keys"
rm "$HOME/.config/bootmeta/trusted_keys"
cat mk.pub ours.pub >both_keys                   # .pub files concatenated
expect_ok "$BM" binary verify app1 --trusted-keys both_keys
expect_ok "$BM" binary verify app2 --trusted-keys both_keys
chmod g+w both_keys
expect_fail 1 "written by others" "$BM" binary verify app1 --trusted-keys both_keys
echo "not a key" >bad_keys
expect_fail 1 "line 1" "$BM" binary verify app1 --trusted-keys bad_keys
expect_fail 1 "does not exist" "$BM" binary verify app1 --trusted-keys nope
expect_fail 1 "not of other/project" "$BM" binary verify app1 --project other/project

check "a signature record copied from another binary, or changed in the repo by hand, is refused"
expect_ok add app4
sha4=$(sha app4)
git --git-dir=meta cat-file blob "main:$sigpath" >copied.pb
plant meta "binaries/$(echo "$sha4" | cut -c1-2)/$sha4.sig/$OURS.pb" copied.pb
expect_fail 1 "no trusted signature" "$BM" binary verify app4
# flip one character of the signature line inside app2's Binary record
rec="binaries/$(sha app2 | cut -c1-2)/$(sha app2).pb"
git --git-dir=meta cat-file blob "main:$rec" |
	protoc --proto_path="$BM_SRCDIR/proto" --decode=bootmeta.v1.Binary bootmeta/v1/core.proto >rec.txt
python3 - rec.txt <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r'\\n(R[A-Za-z0-9+/]{20})', t)  # the signature line starts "RU" (base64 of "ED")
i = m.start(1) + 40  # past "ED" and the key id: inside the signature
t = t[:i] + ('A' if t[i] != 'A' else 'B') + t[i + 1:]
open(sys.argv[1], 'w').write(t)
EOF
protoc --proto_path="$BM_SRCDIR/proto" --encode=bootmeta.v1.Binary bootmeta/v1/core.proto <rec.txt >rec.pb
plant meta "$rec" rec.pb
expect_fail 1 "does not verify" "$BM" binary verify app2

check "--help on every binary command"
for c in add show sign verify; do "$BM" binary "$c" --help | grep -q "binary verify FILE" || fail "$c --help"; done
echo "ok"
