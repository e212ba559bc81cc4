#!/bin/sh
# The README as a new user pastes it: every ```sh block of README.md, in order, run in one
# bash session (set -euo pipefail: a failing command in a pipe fails too) in an empty
# temp folder, with the bootmeta under test on PATH, a fresh HOME and a git identity (what
# a newcomer's machine has). The first block that fails is printed with its text and the
# end of its output. Blocks in other fences (``` alone, ```text, ```json) are not run.
set -eu
: "${BOOTMETA:?}" "${BM_SRCDIR:?}"
T=$(mktemp -d /tmp/bm-readme-XXXXXX)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
README=$BM_SRCDIR/README.md

# blocks: $T/blocks/NNN.sh with the text, $T/blocks/NNN.line with its first line number
mkdir -p "$T/blocks" "$T/bin" "$T/home" "$T/tour"
awk -v dir="$T/blocks" '
	/^```sh[ \t]*$/ { if (inb) { print "README.md:" NR ": ```sh inside a block" > "/dev/stderr"; exit 1 }
		n++; f = sprintf("%s/%03d.sh", dir, n); print NR + 1 > sprintf("%s/%03d.line", dir, n); inb = 1; next }
	/^```/ && inb { inb = 0; close(f); next }
	inb { print > f }
	END { if (inb) { print "README.md: an unclosed ```sh block" > "/dev/stderr"; exit 1 } }
' "$README" || fail "README.md: cannot split its sh blocks"
nblocks=$(ls "$T/blocks" | grep -c '\.sh$' || true)
[ "$nblocks" -ge 3 ] || fail "README.md has $nblocks \`\`\`sh blocks; the tour should be in \`\`\`sh blocks"

# the machine of a newcomer: bootmeta on PATH, a git identity, nothing of bootmeta's set
ln -s "$BOOTMETA" "$T/bin/bootmeta"
cat >"$T/run.sh" <<RUN
set -euo pipefail
export PATH="$T/bin:\$PATH" HOME="$T/home"
unset BOOTMETA_REPO BOOTMETA_ENV BOOTMETA_ACTOR BOOTMETA_IDENTITY BOOTMETA_SIGNING_KEY \
	BOOTMETA_REQUIRE_SIGNED BOOTMETA_ALLOWED_SIGNERS BOOTMETA_TRUSTED_KEYS BOOTMETA_PASSWORD \
	BOOTMETA_PASSPHRASE BOOTMETA_MINISIGN_KEY XDG_CONFIG_HOME GIT_DIR || true
export GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Alice Example"
git config --global user.email alice@example.com
cd "$T/tour"
RUN
for b in "$T"/blocks/*.sh; do
	i=$(basename "$b" .sh)
	printf 'echo %s >"%s/current"\necho "=== README block %s" >&2\n. "%s"\n' "$i" "$T" "$i" "$b" >>"$T/run.sh"
done
echo 'echo done >"'"$T"'/current"' >>"$T/run.sh"

echo "check: the $nblocks sh blocks of README.md run in order"
if bash "$T/run.sh" </dev/null >"$T/out" 2>&1 && [ "$(cat "$T/current")" = done ]; then
	echo "  ok: $nblocks blocks"
	echo PASS
	exit 0
fi
i=$(cat "$T/current" 2>/dev/null || echo 000)
echo "--- output (last 40 lines):" >&2
tail -n 40 "$T/out" >&2
if [ -f "$T/blocks/$i.sh" ]; then
	echo "--- README.md block $(expr "$i" + 0) (line $(cat "$T/blocks/$i.line")):" >&2
	cat "$T/blocks/$i.sh" >&2
	fail "README.md block $(expr "$i" + 0) (line $(cat "$T/blocks/$i.line")) failed"
fi
fail "README.md blocks: the run stopped at '$i'"
