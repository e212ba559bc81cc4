#!/bin/sh
# t_resolve_secrets.sh: `config resolve --secrets` end to end. dev has config and secrets,
# dev/alice overlays its own secret over dev's config key (and its own key over a dev
# secret). Alice gets everything; bob (a recipient of dev only) and carol (of nothing) get
# config plus a warning per secret they cannot open. json and the env formats carry values,
# the table masks them; --format systemd output is read back by sh; --secrets-required and
# --require-signed fail with nothing on stdout; no plaintext in argv or the environment.
. "$BM_SRCDIR/tests/e2e/cfg_lib.sh"
export HOME="$work/home"
unset BOOTMETA_IDENTITY XDG_CONFIG_HOME BOOTMETA_REQUIRE_SIGNED BOOTMETA_ALLOWED_SIGNERS || true
mkdir -p "$HOME"
step() { echo "--- $*"; }
P=app/server
MARK="RSMARK-$$-9c1e"

step "setup: keys, envs, config, secrets"
add_project "$P"
for u in alice bob carol; do bm key gen --age -o "$work/$u.key" >"$work/$u.rcpt" 2>/dev/null; done
bm -q dev init alice
bm -q dev init bob
bm -q recipients add dev "$(cat "$work/alice.rcpt")"
bm -q recipients add dev "$(cat "$work/bob.rcpt")"
bm -q recipients add dev/alice "$(cat "$work/alice.rcpt")"
bm config set "$P" dev DB_URL=postgres://db.dev/app PORT:int=8080 LOG=info API_TOKEN=placeholder >/dev/null
bm config set "$P" dev/alice LOG=debug DB_PASSWORD=localpass >/dev/null
printf '%s' "tok-$MARK" | bm -q secret set "$P" dev API_TOKEN            # beats dev's key API_TOKEN
printf '%s' "pw dev $MARK" | bm -q secret set "$P" dev DB_PASSWORD      # loses to dev/alice's key
printf '%s' "postgres://alice:$MARK@localhost/app" | bm -q secret set "$P" dev/alice DB_URL
WEIRD=$(printf 'it'"'"'s a "quoted" $HOME `x` \\ value %s\nline 2 ' "$MARK")
printf '%s' "$WEIRD" | bm -q secret set "$P" dev/alice WEIRD
A="-i $work/alice.key"

step "usage"
expect_rc 2 bm config resolve "$P" dev --show-secrets
expect_rc 2 bm config resolve "$P" dev --secrets-required
expect_rc 2 bm config resolve "$P" dev -i "$work/alice.key"
bm config resolve --help | grep -q -- "--secrets" || fail "help names --secrets"
bm config resolve --help | grep -q "secret beats a config key" || fail "help says the precedence"

step "without --secrets nothing changes"
bm --json config resolve "$P" dev >"$work/j"
grep -q '"API_TOKEN":{"key":"API_TOKEN","value":"placeholder"' "$work/j" || fail "plain resolve: $(cat "$work/j")"
grep -q "$MARK" "$work/j" && fail "plain resolve shows a secret"
grep -q skippedSecrets "$work/j" && fail "plain resolve has skippedSecrets"

step "alice, dev/alice, json: values, provenance, precedence"
expect_rc 0 bm --json config resolve "$P" dev/alice --secrets $A
J="$work/out"
[ -s "$work/err" ] && { cat "$work/err"; fail "alice gets warnings"; }
python3 - "$J" "$MARK" "$WEIRD" <<'EOF' || fail "json checks"
import json, sys
d = json.load(open(sys.argv[1])); mark = sys.argv[2]; weird = sys.argv[3]
v = d["values"]
assert v["DB_URL"]["value"] == "postgres://alice:%s@localhost/app" % mark, v["DB_URL"]
assert v["DB_URL"]["secret"] is True and v["DB_URL"]["env"] == "dev/alice" and v["DB_URL"]["seq"] == "1"
assert v["DB_URL"]["path"].startswith("envs/dev/alice/secrets/app/server/DB_URL/")
assert v["DB_URL"]["metaCommit"] and v["DB_URL"]["actor"] and v["DB_URL"]["time"]
assert v["API_TOKEN"]["value"] == "tok-" + mark and v["API_TOKEN"]["secret"] and v["API_TOKEN"]["env"] == "dev"
assert v["DB_PASSWORD"]["value"] == "localpass" and "secret" not in v["DB_PASSWORD"]
assert v["WEIRD"]["value"] == weird.rstrip("\n") or v["WEIRD"]["value"] == weird, repr(v["WEIRD"]["value"])
assert v["PORT"]["value"] == "8080" and v["LOG"]["value"] == "debug"  # int64: a string (proto3 JSON)
assert d["skippedSecrets"] == []
EOF
json_conventions "$J"

step "the table masks values unless --show-secrets"
expect_rc 0 bm config resolve "$P" dev/alice --secrets $A
grep -q "$MARK" "$work/out" "$work/err" && fail "table shows plaintext"
grep -E -q '^API_TOKEN +\(secret\) +secret +dev ' "$work/out" || { cat "$work/out"; fail "table row of API_TOKEN"; }
grep -E -q '^DB_URL +\(secret\) +secret +dev/alice ' "$work/out" || { cat "$work/out"; fail "table row of DB_URL"; }
grep -E -q '^DB_PASSWORD +localpass +string +dev/alice ' "$work/out" || { cat "$work/out"; fail "DB_PASSWORD key"; }
expect_rc 0 bm config resolve "$P" dev/alice --secrets --show-secrets $A
grep -q "tok-$MARK" "$work/out" || fail "--show-secrets shows the value"

step "--format env refuses the value with a newline (naming it, not showing it); systemd quotes it for sh"
expect_rc 1 bm config resolve "$P" dev/alice --secrets --format env $A
grep -q "WEIRD" "$work/err" || fail "env refusal names WEIRD"
grep -q "$MARK" "$work/err" "$work/out" && fail "env refusal shows plaintext"
expect_rc 1 bm config resolve "$P" dev/alice --secrets --format docker $A
grep -q "WEIRD: a newline" "$work/err" || fail "docker refuses the newline"
expect_rc 0 bm config resolve "$P" dev/alice --secrets --format systemd $A
cp "$work/out" "$work/alice.env"
grep -q "^API_TOKEN=tok-$MARK\$" "$work/alice.env" || fail "systemd: API_TOKEN"
# sh reads systemd's double-quoted form back byte for byte (\ " ` $ escaped, newline kept)
got=$(env -i sh -c 'set -a; . "$1"; printf "%s|" "$WEIRD"; printf "%s|%s|%s" "$DB_URL" "$API_TOKEN" "$PORT"' sh "$work/alice.env")
want="$(printf '%s' "$WEIRD")|postgres://alice:$MARK@localhost/app|tok-$MARK|8080"
[ "$got" = "$want" ] || fail "sourced systemd env: got [$got] want [$want]"
# a value with spaces inside is portable: --format env writes it bare
expect_rc 0 bm config resolve "$P" dev --secrets --format env $A
grep -qx "DB_PASSWORD=pw dev $MARK" "$work/out" || { cat "$work/out"; fail "env: value with spaces"; }
grep -qx "API_TOKEN=tok-$MARK" "$work/out" || fail "env: secret beats its layer's key"
grep -qx "DB_URL=postgres://db.dev/app" "$work/out" || fail "env: dev's key"

step "identity from \$BOOTMETA_IDENTITY and ~/.config/bootmeta/identity, as secret get"
[ "$(BOOTMETA_IDENTITY="$work/alice.key" "$BOOTMETA" config resolve "$P" dev --secrets --format env | grep '^API_TOKEN=')" = "API_TOKEN=tok-$MARK" ] ||
	fail "BOOTMETA_IDENTITY"
expect_rc 1 bm config resolve "$P" dev --secrets
grep -q "bootmeta key gen --age" "$work/err" || fail "no identity: says how to make one"
[ -s "$work/out" ] && fail "output without an identity"
mkdir -p "$HOME/.config/bootmeta"
cp "$work/alice.key" "$HOME/.config/bootmeta/identity"
chmod 600 "$HOME/.config/bootmeta/identity"
bm config resolve "$P" dev --secrets --format env | grep -qx "API_TOKEN=tok-$MARK" || fail "default identity"
rm "$HOME/.config/bootmeta/identity"
chmod 644 "$work/alice.key"
expect_rc 1 bm config resolve "$P" dev --secrets $A
grep -q "too open" "$work/err" || fail "a loose identity file is refused"
chmod 600 "$work/alice.key"

step "bob: a recipient of dev, not of dev/alice"
expect_rc 0 bm --json config resolve "$P" dev/alice --secrets -i "$work/bob.key"
grep -q "warning: secret DB_URL of $P in dev/alice (seq 1) left out: not a recipient of dev/alice" "$work/err" ||
	{ cat "$work/err"; fail "warning for DB_URL"; }
grep -q "warning: secret WEIRD of $P in dev/alice" "$work/err" || fail "warning for WEIRD"
grep -q "your identity $work/bob.key is recipient $(cat "$work/bob.rcpt")" "$work/err" || fail "identity hint"
grep -q "$MARK" "$work/err" && fail "plaintext in warnings"
grep -q "\"API_TOKEN\":{\"key\":\"API_TOKEN\",\"value\":\"tok-$MARK\"" "$work/out" || fail "bob reads dev's secret"
grep -q '"DB_URL":' "$work/out" && fail "dev's DB_URL key must not show through alice's secret"
grep -q '"skippedSecrets":\[{"name":"DB_URL","env":"dev/alice","seq":"1","error":"not a recipient"' "$work/out" ||
	fail "skippedSecrets in json"

step "carol: not a recipient of anything: config only, a warning each, exit 0"
expect_rc 0 bm config resolve "$P" dev --secrets --format env -i "$work/carol.key"
[ "$(grep -c 'warning: secret' "$work/err")" = 2 ] || { cat "$work/err"; fail "two warnings (API_TOKEN, DB_PASSWORD)"; }
grep -q "secret API_TOKEN of $P in dev (seq 1) left out: not a recipient of dev" "$work/err" || fail "API_TOKEN warning"
grep -q "secret DB_PASSWORD of $P in dev" "$work/err" || fail "DB_PASSWORD warning"
printf 'DB_URL=postgres://db.dev/app\nLOG=info\nPORT=8080\n' | cmp -s - "$work/out" ||
	{ cat "$work/out"; fail "carol's env file: config only"; }
expect_rc 1 bm config resolve "$P" dev --secrets --secrets-required --format env -i "$work/carol.key"
[ -s "$work/out" ] && fail "--secrets-required printed output"
grep -q "error: secret API_TOKEN" "$work/err" || fail "--secrets-required names the secret"
grep -q "secrets-required" "$work/err" || fail "--secrets-required says why"
expect_rc 0 bm config resolve "$P" dev --secrets --secrets-required --format env $A

step "--require-signed: unsigned secrets fail the command before anything is decrypted"
expect_rc 1 bm --require-signed config resolve "$P" dev --secrets --format env $A
[ -s "$work/out" ] && fail "--require-signed printed output"
grep -q "require-signed" "$work/err" || { cat "$work/err"; fail "--require-signed says why"; }
grep -q "$MARK" "$work/err" && fail "plaintext in the error"
bm env add prod >/dev/null
bm -q recipients add prod "$(cat "$work/alice.rcpt")"
bm config set "$P" prod PORT:int=443 >/dev/null
ssh-keygen -q -t ed25519 -N "" -C ci -f "$work/ci_key"
echo "ci@example.com $(cut -d' ' -f1,2 "$work/ci_key.pub")" >"$work/allowed_signers"
printf 'signed-%s' "$MARK" | BOOTMETA_SIGNING_KEY="$work/ci_key" bm -q secret set "$P" prod SIGNED
BOOTMETA_ALLOWED_SIGNERS="$work/allowed_signers" "$BOOTMETA" --require-signed config resolve "$P" prod --secrets \
	--format env $A >"$work/out" || fail "signed secret with --require-signed"
grep -qx "SIGNED=signed-$MARK" "$work/out" || fail "signed secret's value"

step "no plaintext in argv or the environment of a running resolve"
# a value over the pipe's 64 KiB keeps the process alive, blocked on stdout, while we look
bm env add stage >/dev/null
bm -q recipients add stage "$(cat "$work/alice.rcpt")"
{ printf 'big-%s-' "$MARK"; head -c 70000 /dev/zero | tr '\0' x; } | bm -q secret set "$P" stage BIG
mkfifo "$work/fifo"
exec 3<>"$work/fifo"
bm config resolve "$P" stage --secrets --format env $A >"$work/fifo" &
pid=$!
i=0
until grep -q resolve /proc/$pid/cmdline 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$pid/stat)" = S ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "resolve did not block on a full pipe"
	sleep 0.1
done
tr '\0' '\n' </proc/$pid/cmdline | grep -q "$MARK" && fail "plaintext in argv"
tr '\0' '\n' </proc/$pid/environ | grep -q "$MARK" && fail "plaintext in the environment"
cat "$work/fifo" >"$work/fifo.out" 3>&- &
cpid=$!
exec 3>&-
wait $pid || fail "resolve to a pipe"
wait $cpid
[ "$(wc -c <"$work/fifo.out")" -gt 70000 ] && grep -q "^BIG=big-$MARK-xxx" "$work/fifo.out" || fail "resolve to a pipe: output"
echo "t_resolve_secrets: ok"
