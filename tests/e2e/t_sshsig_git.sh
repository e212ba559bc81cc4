#!/bin/sh
# SSH signatures as git makes them (gpg.format=ssh): a commit signed by bootmeta passes
# `git verify-commit`; a commit signed by git passes bootmeta's verifier; tampering fails
# both; file signatures interoperate with `ssh-keygen -Y sign/verify`.
set -eu
: "${BOOTMETA:?set BOOTMETA to the bootmeta program}" "${BM_SRCDIR:?set BM_SRCDIR}"
command -v ssh-keygen >/dev/null 2>&1 || { echo "FAIL: needs ssh-keygen (Debian package openssh-client; make deps installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" GIT_AUTHOR_NAME=Signer GIT_AUTHOR_EMAIL=signer@example.com \
	GIT_COMMITTER_NAME=Signer GIT_COMMITTER_EMAIL=signer@example.com

ssh-keygen -q -t ed25519 -N '' -C signer@example.com -f id
echo "signer@example.com $(cut -d' ' -f1,2 id.pub)" > allowed
git init -q repo
cd repo
vc() { git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$work/allowed" verify-commit "$@"; }

# Sign a commit object with bootmeta and write it with the gpgsig header, as libgit2's
# git_commit_create_with_signature does (the unit test does it through libgit2 itself).
git commit -q --allow-empty -m 'meta: trust key 0123'
git cat-file commit HEAD > raw
"$BOOTMETA" key ssh-sign raw -k ../id -o raw.sig
awk -v sigfile=raw.sig '
	!done && $0 == "" {
		first = 1
		while ((getline line < sigfile) > 0) { print (first ? "gpgsig " : " ") line; first = 0 }
		done = 1
	}
	{ print }' raw > signed
signed_id=$(git hash-object -t commit -w signed)
vc "$signed_id" 2>vc.err || { cat vc.err; fail "git verify-commit rejected bootmeta's signature"; }
grep -q 'Good "git" signature for signer@example.com' vc.err || fail "git's message"
git cat-file commit "$signed_id" | "$BOOTMETA" key ssh-verify - --commit -a ../allowed | grep -q 'Good signature from signer@example.com'

# Tampered: same signature, changed message. Both refuse.
sed 's/trust key 0123/trust key 9999/' signed > bad
bad_id=$(git hash-object -t commit -w bad)
if vc "$bad_id" 2>/dev/null; then fail "git accepted a tampered commit"; fi
if git cat-file commit "$bad_id" | "$BOOTMETA" key ssh-verify - --commit -a ../allowed 2>err; then fail "bootmeta accepted a tampered commit"; fi
grep -q 'does not verify' err || fail "tamper message"

# Not an allowed signer: both refuse.
: > ../nobody
if git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$work/nobody" verify-commit "$signed_id" 2>/dev/null; then fail "git: empty allowed signers"; fi
if git cat-file commit "$signed_id" | "$BOOTMETA" key ssh-verify - --commit -a ../nobody 2>err; then fail "bootmeta: empty allowed signers"; fi
grep -q 'not in the allowed signers' err || fail "not-allowed message"

# A commit git signs itself: bootmeta verifies it.
git -c gpg.format=ssh -c user.signingkey="$work/id" commit -q -S --allow-empty -m 'signed by git'
vc HEAD 2>/dev/null || fail "git cannot verify its own commit"
git cat-file commit HEAD | "$BOOTMETA" key ssh-verify - --commit -a ../allowed >/dev/null || fail "bootmeta rejected git's signed commit"
# An unsigned commit is "not signed", exit 1.
git commit -q --allow-empty -m unsigned
if git cat-file commit HEAD | "$BOOTMETA" key ssh-verify - --commit -a ../allowed 2>err; then fail "unsigned accepted"; fi
grep -q 'not signed' err || fail "unsigned message"

# File signatures both ways with ssh-keygen -Y.
printf 'payload\n' > f
"$BOOTMETA" key ssh-sign f -k ../id -n file
ssh-keygen -q -Y verify -f ../allowed -I signer@example.com -n file -s f.sig < f >/dev/null || fail "ssh-keygen rejected ours"
mv f.sig ours.sig
ssh-keygen -q -Y sign -n file -f ../id f
cmp -s f.sig ours.sig || fail "not byte-identical to ssh-keygen's (Ed25519 is deterministic)"
"$BOOTMETA" key ssh-verify f -n file -a ../allowed >/dev/null
if "$BOOTMETA" key ssh-verify f -a ../allowed 2>err; then fail "namespace git took a file signature"; fi
grep -q 'namespace' err || fail "namespace message"

# Keys bootmeta refuses, clearly.
ssh-keygen -q -t ed25519 -N secret -f ../enc
if "$BOOTMETA" key ssh-sign f -k ../enc 2>err; then fail "encrypted key accepted"; fi
grep -q 'encrypted' err || fail "encrypted-key message"
echo "ok: sshsig git"
