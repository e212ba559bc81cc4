#!/bin/sh
# The man pages: every page in doc/ renders without a groff warning; every command
# `bootmeta --help` lists has its page doc/bootmeta-COMMAND.1 (named so, listed in
# bootmeta.1's COMMANDS and SEE ALSO), and no page is left for a command that is gone; each
# page's SYNOPSIS has every subcommand and every option of `bootmeta COMMAND --help`'s
# usage lines.
set -eu
: "${BOOTMETA:?}" "${BM_SRCDIR:?}"
T=$(mktemp -d /tmp/bm-man-XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
D=$BM_SRCDIR/doc

echo "check: every page renders without warnings"
n=0
for page in "$D"/*.[1-8]; do
	name=$(basename "$page")
	sh "$D/render.sh" "$page" "$T/$name.txt" || fail "$name does not render cleanly"
	[ -s "$T/$name.txt" ] || fail "$name renders empty"
	# one line per paragraph, for the text checks below (no line breaks inside options)
	LC_ALL=C.UTF-8 groff -t -man -Tutf8 -P-cbou -rLL=2000n "$page" 2>/dev/null >"$T/$name.wide"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n pages in $D"
echo "  ok: $n pages"
[ -f "$D/libbootmeta.3" ] || fail "no doc/libbootmeta.3"

echo "check: one page per command of bootmeta --help"
"$BOOTMETA" --help >"$T/help"
sed -n '/^commands:/,/^$/p' "$T/help" | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p' >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 10 ] || { cat "$T/help"; fail "could not read the command list of bootmeta --help"; }
while read -r c; do
	page=$D/bootmeta-$c.1
	[ -f "$page" ] || fail "command '$c' has no man page doc/bootmeta-$c.1"
	head -n 2 "$page" | grep -q "^\.TH BOOTMETA-$(echo "$c" | tr a-z A-Z) 1 " || fail "bootmeta-$c.1: .TH is not BOOTMETA-$c 1"
	grep -q "^ *bootmeta-$c - " "$T/bootmeta-$c.1.wide" || fail "bootmeta-$c.1: NAME is not 'bootmeta-$c - ...'"
	grep -q "bootmeta-$c(1)" "$T/bootmeta.1.wide" || fail "bootmeta.1 does not list bootmeta-$c(1)"
	[ "$(grep -c "bootmeta-$c(1)" "$T/bootmeta.1.wide")" -ge 2 ] || fail "bootmeta.1: bootmeta-$c(1) not in both COMMANDS and SEE ALSO"
	grep -q "bootmeta(1)" "$T/bootmeta-$c.1.wide" || fail "bootmeta-$c.1: SEE ALSO does not name bootmeta(1)"
done <"$T/commands"
for page in "$D"/bootmeta-*.1; do
	c=$(basename "$page" .1 | sed 's/^bootmeta-//')
	grep -qx "$c" "$T/commands" || fail "doc/bootmeta-$c.1: bootmeta --help has no command '$c'"
done
echo "  ok: $(wc -l <"$T/commands") commands"

echo "check: each page's SYNOPSIS has the subcommands and options of its --help"
while read -r c; do
	"$BOOTMETA" "$c" --help >"$T/h" 2>&1 || true
	# the usage block: from "usage:" to the first empty line
	sed -n '/^usage:/,/^$/p' "$T/h" >"$T/usage"
	[ -s "$T/usage" ] || fail "bootmeta $c --help has no usage lines"
	sed -n '/^SYNOPSIS/,/^[A-Z]/p' "$T/bootmeta-$c.1.wide" >"$T/syn"
	# subcommands: the word after "bootmeta COMMAND" when it is lower case (disable|enable: both)
	for sub in $(sed -n "s/^.*bootmeta $c \([a-z][a-z|-]*\).*/\1/p" "$T/usage" | tr '|' ' '); do
		grep -q "bootmeta $c .*$sub" "$T/syn" || fail "bootmeta-$c.1: SYNOPSIS lacks '$sub' (bootmeta $c --help has it)"
	done
	# --json is global: bootmeta.1 has it, and every read takes it
	for opt in $(grep -o -- '--[a-z][a-z0-9-]*' "$T/usage" | grep -vx -- --json | sort -u); do
		grep -q -- "$opt" "$T/syn" || fail "bootmeta-$c.1: SYNOPSIS lacks $opt (bootmeta $c --help has it)"
	done
done <"$T/commands"
echo "  ok"

echo "check: every man page the pages point at is one of ours or a known outside page"
cat "$T"/*.wide | grep -o '\(bootmeta\|libbootmeta\)[a-z-]*([0-9])' | sort -u >"$T/refs"
while read -r ref; do
	name=${ref%(*}
	sec=$(echo "$ref" | sed 's/.*(\([0-9]\))/\1/')
	[ -f "$D/$name.$sec" ] || fail "a page points at $ref, which does not exist"
done <"$T/refs"
echo "  ok: $(wc -l <"$T/refs") pages referenced"
echo "PASS"
