#!/bin/sh
# t_secrets.sh: secrets end to end with the real bootmeta binary, git and age.
# Alice sets a secret in prod; Bob, not a recipient, gets a clear error; after Alice adds
# him and rekeys, he reads it. dev/<user> overlays are private to their developer (and the
# admin). rm leaves the ciphertext in history; what bootmeta stores is a plain age file
# that the `age` program decrypts; no plaintext is ever in a git object or in argv.
set -eu
: "${BOOTMETA:?set BOOTMETA to the bootmeta binary}"
command -v age >/dev/null && command -v age-keygen >/dev/null || { echo "t_secrets: needs age and age-keygen (Debian package age)"; exit 1; }

T=$(mktemp -d /tmp/bm-e2e-secrets-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
export BOOTMETA_REPO="$T/meta.git" BOOTMETA_ACTOR="Alice <alice@example.com>" HOME="$T/home"
unset BOOTMETA_IDENTITY XDG_CONFIG_HOME || true
mkdir -p "$HOME"
bm() { "$BOOTMETA" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
# expect_fail EXIT_CODE GREP_PATTERN CMD...: the command fails with that code and says that
expect_fail() {
	want=$1 pat=$2
	shift 2
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || { cat "$T/err" >&2; fail "$* exited $rc, expected $want"; }
	grep -q -- "$pat" "$T/err" || { cat "$T/err" >&2; fail "$*: stderr lacks '$pat'"; }
}

# An environment exists iff envs/<env>/env.pb exists. Use `bootmeta env add` when it is
# built in; else add the (empty: every field default) record with git itself.
add_env() {
	if bm env add "$1" >/dev/null 2>&1; then
		return
	fi
	rm -rf "$T/w"
	git clone -q "$BOOTMETA_REPO" "$T/w" 2>/dev/null
	mkdir -p "$T/w/envs/$1"
	: >"$T/w/envs/$1/env.pb"
	git -C "$T/w" add .
	git -C "$T/w" -c user.name=t -c user.email=t@t commit -qm "env $1"
	git -C "$T/w" push -q origin HEAD:main
}

step "init, keys, envs"
bm init "$BOOTMETA_REPO" >/dev/null
for u in alice bob admin; do
	age-keygen -o "$T/$u.key" 2>/dev/null
	chmod 600 "$T/$u.key"
done
ALICE=$(age-keygen -y "$T/alice.key")
BOB=$(age-keygen -y "$T/bob.key")
ADMIN=$(age-keygen -y "$T/admin.key")
for e in prod dev dev/alice dev/bob; do add_env "$e"; done
# a secret belongs to a project the meta repo has
before=$(git --git-dir="$BOOTMETA_REPO" rev-parse main)
expect_fail 1 "no project \"app/server\"; add it with \`bootmeta project add app/server\`" \
	sh -c "printf x | '$BOOTMETA' secret set app/server prod DB"
[ "$(git --git-dir="$BOOTMETA_REPO" rev-parse main)" = "$before" ] || fail "a refused secret set made a commit"
bm project add app/server >/dev/null

step "usage and validation"
expect_fail 2 "usage" bm secret set app/server prod
expect_fail 2 "usage" bm recipients add prod
last=${ALICE#"${ALICE%?}"}
if [ "$last" = q ]; then BAD="${ALICE%?}p"; else BAD="${ALICE%?}q"; fi
expect_fail 1 "bad checksum" bm recipients add prod "$BAD"
expect_fail 1 "not a recipient" bm recipients add prod "$(grep AGE-SECRET "$T/alice.key")"
expect_fail 1 "no environment" bm recipients add nope "$ALICE"
expect_fail 1 "no recipients" sh -c "printf x | '$BOOTMETA' secret set app/server prod DB"
bm secret --help | grep -q "history keeps\|STAY in git history" || fail "secret --help must say history keeps old ciphertexts"

step "alice sets a secret in prod (stdin and FILE), reads it back"
bm -q recipients add prod "$ALICE" --comment "alice laptop"
bm -q recipients add --admin "$ADMIN" --comment ops
MARK="PLAINTEXT-MARKER-$$-7f3a"
printf '%s' "db-password-$MARK" | bm -q secret set app/server prod DB_PASSWORD
printf 'line1-%s\nline2\n' "$MARK" >"$T/value.txt"
bm -q secret set app/server prod CERT "$T/value.txt"
rm "$T/value.txt"
[ "$(bm --identity "$T/alice.key" secret get app/server prod DB_PASSWORD)" = "db-password-$MARK" ] || fail "round trip"
bm secret get -i "$T/alice.key" app/server prod CERT -o "$T/cert.out"
[ "$(stat -c %a "$T/cert.out")" = 600 ] || fail "-o file must be mode 600"
printf 'line1-%s\nline2\n' "$MARK" | cmp -s - "$T/cert.out" || fail "FILE round trip is not byte for byte"
rm "$T/cert.out"
bm secret list app/server prod >"$T/list"
grep -q "DB_PASSWORD" "$T/list" && grep -q CERT "$T/list" || fail "secret list"
grep -q "$MARK" "$T/list" && fail "secret list shows plaintext"
bm --json secret list app/server prod | grep -q '"name":"DB_PASSWORD","seq":"1"' || fail "secret list --json"
bm --json secret list app/server prod | python3 -m json.tool >/dev/null || fail "list --json is not JSON"
bm --json --identity "$T/alice.key" secret get app/server prod DB_PASSWORD | python3 -m json.tool >/dev/null ||
	fail "get --json is not JSON"
bm --json recipients list prod | python3 -m json.tool >/dev/null || fail "recipients list --json is not JSON"
# lowerCamelCase keys, 64-bit integers (seq, timeMs) as strings: proto3 JSON, as every --json
bm --json secret list app/server prod > "$T/j-list.json"
bm --json --identity "$T/alice.key" secret get app/server prod DB_PASSWORD > "$T/j-get.json"
bm --json secret history app/server prod DB_PASSWORD > "$T/j-hist.json"
bm --json recipients list prod > "$T/j-rcpt.json"
python3 "$BM_SRCDIR/tests/e2e/json_conventions.py" "$T/j-list.json" "$T/j-get.json" "$T/j-hist.json" \
	"$T/j-rcpt.json" || fail "secret --json conventions"

step "bob is not a recipient: a clear error, no plaintext"
expect_fail 1 "not a recipient of prod" bm --identity "$T/bob.key" secret get app/server prod DB_PASSWORD
[ -s "$T/out" ] && fail "plaintext or garbage on stdout for a non-recipient"
grep -q "$BOB" "$T/err" || fail "the error should name bob's recipient so he can ask for it"
expect_fail 1 "cannot rekey prod" bm --identity "$T/bob.key" secret rekey prod

step "recipients add bob + rekey: bob reads"
bm -q recipients add prod "$BOB" --comment bob
bm secret list app/server prod | grep -q stale || fail "list should flag stale secrets"
bm -q --identity "$T/alice.key" secret rekey prod
[ "$(bm --identity "$T/bob.key" secret get app/server prod DB_PASSWORD)" = "db-password-$MARK" ] || fail "bob after rekey"
git --git-dir="$BOOTMETA_REPO" log -1 --format=%s | grep -q "secret rekey prod: 2 secrets" || fail "rekey is one commit"

step "dev/<user> isolation"
bm -q recipients add dev/alice "$ALICE"
bm -q recipients add dev/bob "$BOB"
printf 'alice-dev-%s' "$MARK" | bm -q secret set app/server dev/alice TOKEN
printf 'bob-dev-%s' "$MARK" | bm -q secret set app/server dev/bob TOKEN
[ "$(bm --identity "$T/alice.key" secret get app/server dev/alice TOKEN)" = "alice-dev-$MARK" ] || fail "alice dev"
expect_fail 1 "not a recipient of dev/bob" bm --identity "$T/alice.key" secret get app/server dev/bob TOKEN
expect_fail 1 "not a recipient of dev/alice" bm --identity "$T/bob.key" secret get app/server dev/alice TOKEN
[ "$(bm --identity "$T/admin.key" secret get app/server dev/bob TOKEN)" = "bob-dev-$MARK" ] || fail "admin reads dev/bob"
[ "$(bm --identity "$T/admin.key" secret get app/server dev/alice TOKEN)" = "alice-dev-$MARK" ] || fail "admin reads dev/alice"

step "identity file readable by others: refused"
cp "$T/alice.key" "$T/loose.key"
chmod 644 "$T/loose.key"
expect_fail 1 "too open" bm --identity "$T/loose.key" secret get app/server prod DB_PASSWORD
[ -s "$T/out" ] && fail "output with a refused identity"
expect_fail 1 "too open" env BOOTMETA_IDENTITY="$T/loose.key" "$BOOTMETA" secret get app/server prod DB_PASSWORD
expect_fail 1 "bootmeta key gen --age" bm secret get app/server prod DB_PASSWORD

step "the default identity ~/.config/bootmeta/identity"
mkdir -p "$HOME/.config/bootmeta"
cp "$T/bob.key" "$HOME/.config/bootmeta/identity"
chmod 600 "$HOME/.config/bootmeta/identity"
[ "$(bm secret get app/server prod DB_PASSWORD)" = "db-password-$MARK" ] || fail "default identity"
if bm key gen --help >/dev/null 2>&1; then
	bm key gen --age -o "$T/new.key" >"$T/new.rcpt" 2>/dev/null
	[ "$(stat -c %a "$T/new.key")" = 600 ] || fail "key gen --age must write mode 600"
	[ "$(age-keygen -y "$T/new.key")" = "$(cat "$T/new.rcpt")" ] || fail "key gen --age: age-keygen -y disagrees"
fi

step "interop: the stored file is an age file the age program opens"
AGEPATH=$(bm --json secret list app/server prod | sed 's/.*"name":"DB_PASSWORD"[^}]*"path":"\([^"]*\)".*/\1/')
case "$AGEPATH" in envs/prod/secrets/app/server/DB_PASSWORD/*.age) ;; *) fail "path: $AGEPATH" ;; esac
git --git-dir="$BOOTMETA_REPO" show "main:$AGEPATH" >"$T/ct.age"
head -1 "$T/ct.age" | grep -q -- "-----BEGIN AGE ENCRYPTED FILE-----" || fail "stored file is not armored age"
[ "$(age -d -i "$T/alice.key" "$T/ct.age")" = "db-password-$MARK" ] || fail "age -d (alice)"
[ "$(age -d -i "$T/admin.key" "$T/ct.age")" = "db-password-$MARK" ] || fail "age -d (admin)"
[ "$(age -d -i "$T/bob.key" "$T/ct.age")" = "db-password-$MARK" ] || fail "age -d (bob)"
# and the other way: a file the age program encrypted to the env's recipients, had it been
# committed by hand, is refused (its sha256 is not in a record), never decrypted blindly

step "rm: not found after, history keeps the ciphertext"
bm -q secret rm app/server prod DB_PASSWORD
expect_fail 1 "was removed" bm --identity "$T/alice.key" secret get app/server prod DB_PASSWORD
bm --json secret history app/server prod DB_PASSWORD | grep -q '"op":"rm"' || fail "history shows the tombstone"
git --git-dir="$BOOTMETA_REPO" log -p -- "envs/prod/secrets/app/server/DB_PASSWORD/0000000001.age" >"$T/log"
grep -q "^+" "$T/log" || fail "git log -p has no ciphertext for the removed secret"
grep -q "^+-----BEGIN AGE ENCRYPTED FILE-----" "$T/log" || fail "git log -p does not show the armored ciphertext"
git --git-dir="$BOOTMETA_REPO" ls-tree -r --name-only main | grep -q "DB_PASSWORD/0000000001.age" || fail "rm deleted a file"

step "a ciphertext changed by hand in the repo: a clear error, no plaintext"
rm -rf "$T/w"
git clone -q "$BOOTMETA_REPO" "$T/w" 2>/dev/null
f="$T/w/envs/prod/secrets/app/server/CERT/0000000002.age"
[ -f "$f" ] || fail "expected $f"
sed -i '2s/^./X/' "$f"
git -C "$T/w" -c user.name=mallory -c user.email=m@m commit -qam "tamper"
git -C "$T/w" push -q origin HEAD:main
expect_fail 1 "changed outside bootmeta" bm --identity "$T/alice.key" secret get app/server prod CERT
[ -s "$T/out" ] && fail "plaintext on stdout for a tampered secret"

step "no plaintext in any git object, nor in argv"
git --git-dir="$BOOTMETA_REPO" cat-file --batch-all-objects --batch >"$T/objects"
[ -s "$T/objects" ] || fail "no objects?"
grep -a -q "$MARK" "$T/objects" && fail "plaintext marker found in a git object"
mkfifo "$T/fifo"
bm -q secret set app/server prod ARGV_CHECK <"$T/fifo" &
pid=$!
exec 3>"$T/fifo"
sleep 0.3
tr '\0' ' ' </proc/$pid/cmdline | grep -q "$MARK" && fail "plaintext in argv"
printf 'argv-%s' "$MARK" >&3
exec 3>&-
wait $pid || fail "secret set from a pipe"
git --git-dir="$BOOTMETA_REPO" cat-file --batch-all-objects --batch | grep -a -q "$MARK" && fail "plaintext in a git object"

step "concurrent writers: every version lands, sequence numbers without gaps"
for i in 1 2 3 4; do
	printf 'v%s' "$i" | bm -q secret set app/server prod RACE &
done
wait
bm --json secret history app/server prod RACE | tr '{' '\n' | grep -c '"seq":' | grep -qx 4 || fail "4 versions"
for i in 1 2 3 4; do
	bm --json secret history app/server prod RACE | grep -q "\"seq\":\"$i\"," || fail "seq $i missing"
done

step "--require-signed: only secrets added in signed meta commits are decrypted"
ssh-keygen -q -t ed25519 -N "" -C ci -f "$T/ci_key"
echo "ci@example.com $(cut -d' ' -f1,2 "$T/ci_key.pub")" >"$T/allowed_signers"
printf 'signed-%s' "$MARK" | BOOTMETA_SIGNING_KEY="$T/ci_key" bm -q secret set app/server prod SIGNED
export BOOTMETA_ALLOWED_SIGNERS="$T/allowed_signers"
[ "$(bm --require-signed secret get -i "$T/alice.key" app/server prod SIGNED)" = "signed-$MARK" ] ||
	fail "signed secret with --require-signed"
expect_fail 1 "require-signed" bm --require-signed secret get -i "$T/alice.key" app/server prod ARGV_CHECK
[ -s "$T/out" ] && fail "plaintext of an unsigned secret with --require-signed"
unset BOOTMETA_ALLOWED_SIGNERS

step "the meta repo is clean for git"
git --git-dir="$BOOTMETA_REPO" fsck --strict --no-progress >/dev/null 2>&1 || fail "git fsck --strict"
echo "t_secrets: ok"
