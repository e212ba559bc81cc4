#!/bin/sh
# --require-signed for readers: `channel get`, `channel history` and trace's channel lines
# refuse an entry whose meta commit is not signed by an allowed signer, with real ssh-keygen
# keys; `git verify-commit` agrees with every answer.
. "$(dirname "$0")/lib_core.sh"
command -v ssh-keygen >/dev/null 2>&1 || { echo "FAIL: needs ssh-keygen (Debian package openssh-client; make deps installs it)" >&2; exit 1; }
cd "$T"

ssh-keygen -q -t ed25519 -N '' -C ci@example.com -f ci_key
ssh-keygen -q -t ed25519 -N '' -C mallory@example.com -f other_key
echo "ci@example.com $(cut -d' ' -f1,2 ci_key.pub)" >allowed_signers
verify_commit() { git --git-dir=meta -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/allowed_signers" verify-commit "$1" 2>/dev/null; }

"$BM" init meta >/dev/null
export BOOTMETA_REPO=$T/meta
A=$(src_repo app)
B=$(git -C app rev-parse HEAD~1)
"$BM" project add demo/server --source "file://$T/app" >/dev/null
"$BM" release add demo/server --source "file://$T/app@$A" >/dev/null
"$BM" release add demo/server --source "file://$T/app@$B" --id old >/dev/null
printf 'server\n' >server
"$BM" binary add demo/server "$A" server --os linux --arch amd64 >/dev/null

check "a promotion signed with BOOTMETA_SIGNING_KEY passes channel get --require-signed"
BOOTMETA_SIGNING_KEY=$T/ci_key "$BM" channel promote demo/server stable "$A" >/dev/null
verify_commit main || fail "git verify-commit refused the signed promotion"
export BOOTMETA_ALLOWED_SIGNERS=$T/allowed_signers
"$BM" channel get demo/server stable --require-signed >get.out || fail "signed promotion refused"
grep -q "^release   $A" get.out || fail "channel get output: $(cat get.out)"
"$BM" --require-signed --json channel get demo/server stable | grep -q "\"release\":\"$A\"" || fail "global flag / json"
BOOTMETA_REQUIRE_SIGNED=1 "$BM" channel history demo/server stable >/dev/null || fail "history, signed"
"$BM" trace server --require-signed | grep -q "^channel   stable (#1)" || fail "trace, signed"
signed_tip=$(tip meta)

check "a promotion made without a key is refused, by name, with how to configure signers"
"$BM" channel promote demo/server stable old >/dev/null
if verify_commit main; then fail "git verify-commit accepted an unsigned commit"; fi
expect_fail 1 "demo/server stable #2" "$BM" channel get demo/server stable --require-signed
grep -q "$(tip meta | cut -c1-12)" "$T/err" || fail "the error does not name the commit: $(cat "$T/err")"
grep -q "BOOTMETA_ALLOWED_SIGNERS" "$T/err" || fail "the error does not say how to configure signers"
"$BM" channel get demo/server stable >/dev/null || fail "without --require-signed the entry is read"
expect_fail 1 "#2" "$BM" channel history demo/server stable --require-signed
grep -q "^1 " "$T/out" || fail "history still shows the signed entry #1: $(cat "$T/out")"
grep -q "^2 " "$T/out" && fail "history showed the refused entry"
expect_fail 1 "demo/server stable #2" "$BM" --require-signed channel list demo/server
git --git-dir=meta config bootmeta.requireSigned true
expect_fail 1 "refusing channel entry" "$BM" channel get demo/server stable

check "a requirement set in git config holds whatever BOOTMETA_REQUIRE_SIGNED says"
for v in 0 yes false no off ""; do
	expect_fail 1 "refusing channel entry" env BOOTMETA_REQUIRE_SIGNED="$v" "$BM" channel get demo/server stable
	expect_fail 1 "#2" env BOOTMETA_REQUIRE_SIGNED="$v" "$BM" channel history demo/server stable
done
expect_fail 1 "refusing channel entry" "$BM" --require-signed channel get demo/server stable
git --git-dir=meta config --unset bootmeta.requireSigned

check "BOOTMETA_REQUIRE_SIGNED=1, true, yes or on turns the requirement on; other values change nothing"
for v in 1 true yes on; do
	expect_fail 1 "refusing channel entry" env BOOTMETA_REQUIRE_SIGNED="$v" "$BM" channel get demo/server stable
done
for v in 0 no ""; do
	env BOOTMETA_REQUIRE_SIGNED="$v" "$BM" channel get demo/server stable >/dev/null || fail "BOOTMETA_REQUIRE_SIGNED=$v required signing"
done
"$BM" channel get demo/server stable --require-signed --at "$signed_tip" >/dev/null || fail "--at a signed state"

check "signed by a key that is not an allowed signer: refused; so says git"
BOOTMETA_SIGNING_KEY=$T/other_key "$BM" channel promote demo/server beta "$A" >/dev/null
if verify_commit main; then fail "git verify-commit accepted a commit by a key that is not allowed"; fi
expect_fail 1 "demo/server beta #1" "$BM" channel get demo/server beta --require-signed
expect_fail 1 "refusing channel entry demo/server beta" "$BM" trace server --require-signed

check "a signed promotion later makes the channel readable again"
BOOTMETA_SIGNING_KEY=$T/ci_key "$BM" channel promote demo/server stable "$A" --reason "signed again" >/dev/null
verify_commit main || fail "git verify-commit refused"
"$BM" channel get demo/server stable --require-signed | grep -q "^seq       3" || fail "seq 3 refused"

check "no allowed signers configured: a clear error"
unset BOOTMETA_ALLOWED_SIGNERS
expect_fail 1 "no allowed signers are configured" "$BM" channel get demo/server stable --require-signed
echo "ok"
