#!/bin/sh
# Signed meta commits: with BOOTMETA_SIGNING_KEY (or git config bootmeta.signingKey) every
# write is signed with an SSH key in the format `git verify-commit` accepts; an unsigned
# write is refused by git too.
set -eu
BM=${BOOTMETA:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { echo "check: $*"; }

ssh-keygen -q -t ed25519 -N '' -C ci@example.com -f ci_key
echo "ci@example.com $(cut -d' ' -f1,2 ci_key.pub)" > allowed_signers
"$BM" init meta >/dev/null
"$BM" key gen --sign --no-password -o signer >/dev/null 2>&1

check "a write with BOOTMETA_SIGNING_KEY makes a commit git verify-commit accepts"
BOOTMETA_SIGNING_KEY=$T/ci_key "$BM" --repo meta key trust signer.pub >/dev/null
git -C meta -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/allowed_signers" verify-commit main 2>verify.out ||
	{ cat verify.out; fail "git verify-commit refused bootmeta's signed commit"; }
grep -q 'Good "git" signature for ci@example.com' verify.out || fail "no good signature line: $(cat verify.out)"

check "the key can come from git config bootmeta.signingKey"
"$BM" key gen --sign --no-password -o signer2 >/dev/null 2>&1
git -C meta config bootmeta.signingKey "$T/ci_key"
"$BM" --repo meta key trust signer2.pub >/dev/null
git -C meta -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/allowed_signers" verify-commit main 2>/dev/null ||
	fail "commit signed via git config not accepted"
git -C meta config --unset bootmeta.signingKey

check "an unsigned write is refused by git verify-commit"
"$BM" key gen --sign --no-password -o signer3 >/dev/null 2>&1
"$BM" --repo meta key trust signer3.pub >/dev/null
if git -C meta -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/allowed_signers" verify-commit main 2>/dev/null; then
	fail "git accepted an unsigned commit"
fi

check "a missing signing key is a clear error and writes nothing"
before=$(git -C meta rev-parse main)
"$BM" key gen --sign --no-password -o signer4 >/dev/null 2>&1
if BOOTMETA_SIGNING_KEY=$T/nope "$BM" --repo meta key trust signer4.pub 2>err.out; then
	fail "write with a missing signing key succeeded"
fi
grep -q "signing key" err.out || fail "error does not name the signing key: $(cat err.out)"
[ "$(git -C meta rev-parse main)" = "$before" ] || fail "a failed write moved main"

check "git fsck --strict is clean"
git -C meta fsck --strict >/dev/null 2>&1 || fail "fsck"
echo "ok"
