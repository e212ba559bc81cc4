#!/bin/sh
# bootmeta key sign/verify against the real minisign (0.11): each accepts the other's keys
# and signatures, prehashed and legacy, plain and password-encrypted secret keys.
# BM_SLOW_TESTS=1 also runs the full-strength (1 GiB scrypt) encrypted key round trips.
set -eu
: "${BOOTMETA:?set BOOTMETA to the bootmeta program}" "${BM_SRCDIR:?set BM_SRCDIR}"
command -v minisign >/dev/null 2>&1 || { echo "FAIL: needs minisign (Debian package minisign; make deps installs it)" >&2; exit 1; }
data="$BM_SRCDIR/tests/data/sign"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_exit() { # expect_exit CODE CMD...
	want=$1; shift
	set +e; "$@" >out.txt 2>err.txt; got=$?; set -e
	[ "$got" = "$want" ] || { cat out.txt err.txt >&2; fail "exit $got, expected $want: $*"; }
}

printf 'a release binary\n' > app.bin

# A key pair we make; the secret key file is private.
"$BOOTMETA" key gen --sign -o ours --no-password > keyid.txt
[ "$(stat -c %a ours.key)" = 600 ] || fail "ours.key is not mode 600"
grep -q "^untrusted comment: minisign public key $(cat keyid.txt)\$" ours.pub || fail "public key comment"
[ "$("$BOOTMETA" key show-pub ours.pub | head -1)" = "$(cat keyid.txt)" ] || fail "show-pub key id"
expect_exit 1 "$BOOTMETA" key gen --sign -o ours --no-password   # never overwrites silently
grep -q 'already exists' err.txt || fail "overwrite message"

# minisign accepts our prehashed signature, with the trusted comment we chose.
"$BOOTMETA" key sign app.bin -k ours.key -t 'release 1.2.3'
minisign -Vm app.bin -p ours.pub > out.txt || fail "minisign rejected our signature"
grep -q 'Trusted comment: release 1.2.3' out.txt || fail "trusted comment through minisign"
minisign -V -H -m app.bin -p ours.pub -q || fail "minisign -H (prehashed only) rejected ours"
minisign -V -m app.bin -P "$(tail -1 ours.pub)" -q || fail "minisign -P"
"$BOOTMETA" key verify app.bin -p ours.pub -q

# ... and our legacy one, which -H refuses.
"$BOOTMETA" key sign app.bin -k ours.key -l -o app.legacy.minisig
minisign -V -m app.bin -p ours.pub -x app.legacy.minisig -q || fail "minisign rejected our legacy signature"
if minisign -V -H -m app.bin -p ours.pub -x app.legacy.minisig -q 2>/dev/null; then fail "minisign -H took legacy"; fi
expect_exit 1 "$BOOTMETA" key verify app.bin -p ours.pub -x app.legacy.minisig -H

# Both refuse a changed file.
cp app.bin app.orig; printf 'evil' >> app.bin
if minisign -V -m app.bin -p ours.pub -q 2>/dev/null; then fail "minisign took a tampered file"; fi
expect_exit 1 "$BOOTMETA" key verify app.bin -p ours.pub
grep -q 'does not verify' err.txt || fail "tamper message"
cp app.orig app.bin

# A key pair and signatures minisign makes (no password): we verify them and sign with it.
minisign -G -W -p theirs.pub -s theirs.key >/dev/null
minisign -S -s theirs.key -m app.bin -t 'from minisign' >/dev/null
"$BOOTMETA" key verify app.bin -p theirs.pub > out.txt
grep -q 'Trusted comment: from minisign' out.txt || fail "their trusted comment"
"$BOOTMETA" --json key verify app.bin -p theirs.pub | grep -q '"prehashed":true' || fail "prehashed flag"
minisign -S -l -s theirs.key -m app.bin -x app.l.minisig >/dev/null
"$BOOTMETA" --json key verify app.bin -p theirs.pub -x app.l.minisig | grep -q '"prehashed":false' || fail "legacy"
"$BOOTMETA" key verify app.bin -P "$(tail -1 theirs.pub)" -x app.l.minisig -q
[ "$("$BOOTMETA" key show-pub theirs.pub | head -1)" = "$(python3 -c 'import sys; print("%016X" % int(sys.argv[1], 16))' "$(head -1 theirs.pub | awk '{print $NF}')")" ] || fail "key id as minisign prints it (bootmeta pads to 16 digits)"
"$BOOTMETA" key sign app.bin -k theirs.key -o app.ours-with-theirs.minisig
minisign -V -m app.bin -p theirs.pub -x app.ours-with-theirs.minisig -q || fail "minisign rejected a signature by its own key through us"

# Wrong key: clearly "not trusted", not "bad signature".
expect_exit 1 "$BOOTMETA" key verify app.bin -p ours.pub
grep -q 'not one of the trusted keys' err.txt || fail "wrong key message"
"$BOOTMETA" key verify app.bin -p ours.pub -p theirs.pub -q   # any of several keys

# An encrypted secret key in our format (fast scrypt limits, read from the file): minisign
# takes the password on stdin and signs with it; we sign with it via BOOTMETA_PASSWORD.
cp "$data/encrypted_fast.key" enc.key; cp "$data/encrypted_fast.pub" enc.pub
echo bootmeta-test | minisign -S -s enc.key -m app.bin -x app.enc1.minisig >/dev/null 2>&1 || fail "minisign could not use our encrypted key"
"$BOOTMETA" key verify app.bin -p enc.pub -x app.enc1.minisig -q
BOOTMETA_PASSWORD=bootmeta-test "$BOOTMETA" key sign app.bin -k enc.key -o app.enc2.minisig </dev/null
minisign -V -m app.bin -p enc.pub -x app.enc2.minisig -q || fail "minisign rejected a signature by our encrypted key"
BOOTMETA_PASSWORD=nope expect_exit 1 "$BOOTMETA" key sign app.bin -k enc.key -o x.minisig
grep -q 'wrong password' err.txt || fail "wrong password message"
expect_exit 1 setsid "$BOOTMETA" key sign app.bin -k enc.key -o x.minisig </dev/null
grep -q 'BOOTMETA_PASSWORD' err.txt || fail "no-terminal password message"

if [ "${BM_SLOW_TESTS:-0}" = 1 ]; then
	# Full-strength keys (scrypt with 1 GiB, as minisign makes them): seconds each.
	BOOTMETA_PASSWORD=pw "$BOOTMETA" -q key gen --sign -o strong >/dev/null
	echo pw | minisign -S -s strong.key -m app.bin -x app.s1.minisig >/dev/null 2>&1 || fail "minisign with our strong key"
	"$BOOTMETA" key verify app.bin -p strong.pub -x app.s1.minisig -q
	BOOTMETA_PASSWORD=pw "$BOOTMETA" key sign app.bin -k "$data/minisign_encrypted.key" -o app.s2.minisig
	minisign -V -m app.bin -p "$data/minisign_encrypted.pub" -x app.s2.minisig -q || fail "minisign's encrypted key through us"
fi

# Usage errors exit 2; --help exits 0.
expect_exit 2 "$BOOTMETA" key sign
expect_exit 2 "$BOOTMETA" key verify app.bin
expect_exit 2 "$BOOTMETA" key gen
expect_exit 2 "$BOOTMETA" key nonsense
for sub in gen show-pub trust sign verify ssh-sign ssh-verify; do
	expect_exit 0 "$BOOTMETA" key "$sub" --help
	grep -q "usage: bootmeta key $sub" out.txt || fail "$sub --help"
done
expect_exit 0 "$BOOTMETA" key gen --age -o age.identity   # age identities: cmd_key_age.c, t_secrets.sh
grep -q '^age1' out.txt || fail "key gen --age prints the recipient"
expect_exit 1 "$BOOTMETA" key gen --age -o age.identity   # never overwrites silently
expect_exit 1 "$BOOTMETA" key show-pub ours.key
grep -q 'secret key' err.txt || fail "show-pub of a secret key"
echo "ok: minisign interop"
