#!/bin/sh
# render.sh PAGE OUT: render a man page to text as man(1) would (tbl, man macros, UTF-8)
# and fail on any groff warning (-ww), so a page with a typo'd macro, an unbreakable
# line or an unknown escape breaks the build. Run by CMake for every doc/*.[1-8] page and
# by tests/e2e/t_man.sh.
set -eu
page=$1 out=$2
err="$out.err"
trap 'rm -f "$err" "$out.tmp"' EXIT INT TERM
LC_ALL=C.UTF-8 groff -t -man -Tutf8 -ww -P-cbou "$page" >"$out.tmp" 2>"$err" || {
	cat "$err" >&2
	echo "render.sh: groff failed on $page" >&2
	exit 1
}
if [ -s "$err" ]; then
	cat "$err" >&2
	echo "render.sh: $page: groff warnings (above)" >&2
	exit 1
fi
mv "$out.tmp" "$out"
