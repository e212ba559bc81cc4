#!/bin/sh
# A program outside the repo against the INSTALLED library: install the build into a fresh
# prefix, compile tests/consumer/consumer.c with nothing but `pkg-config --cflags --libs
# bootmeta` from that prefix, and run it on a meta repo made by the CLI.
# Needs BOOTMETA (the CLI), BM_SRCDIR, BM_BUILDDIR; CC and BM_CONSUMER_CFLAGS (the
# sanitizer flags of a sanitized build) are optional.
set -eu
: "${BOOTMETA:?}" "${BM_SRCDIR:?}" "${BM_BUILDDIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. install, and find the pkg-config file there
cmake --install "$BM_BUILDDIR" --prefix "$work/prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
pc=$(find "$work/prefix" -name bootmeta.pc)
[ -n "$pc" ] || fail "no bootmeta.pc installed"
export PKG_CONFIG_PATH="$(dirname "$pc")"
cflags=$(pkg-config --cflags bootmeta) || fail "pkg-config --cflags bootmeta"
libs=$(pkg-config --libs bootmeta) || fail "pkg-config --libs bootmeta"
libdir=$(pkg-config --variable=libdir bootmeta)
case "$cflags $libs" in *"$BM_SRCDIR"*) fail "pkg-config points into the source tree: $cflags $libs" ;; esac
[ -f "$libdir/libbootmeta.so" ] || fail "pkg-config's libdir $libdir has no libbootmeta.so"
# protobuf-c is a public dependency: the headers include it and programs use its types
pkg-config --print-requires bootmeta | grep -q '^libprotobuf-c' || fail "bootmeta.pc: protobuf-c is not in Requires"

# 2. the library's ABI: the generated record types are exported, test-only messages are not in
# it, and no internal (bm__) symbol is
so=$(readlink -f "$libdir/libbootmeta.so")
nm -D --defined-only "$so" >"$work/syms"
for s in bootmeta__v1__release__descriptor bootmeta__v1__channel_entry__descriptor \
	bootmeta__v1__release__pack bm_store_open bm_config_resolve bm_flag_eval; do
	grep -q " $s\$" "$work/syms" || fail "libbootmeta.so does not export $s"
done
grep -qi 'test_all_types\|test_enum\|test_nested' "$work/syms" && fail "libbootmeta.so holds the test-only messages"
grep -q ' bm__' "$work/syms" && fail "libbootmeta.so exports internals: $(grep ' bm__' "$work/syms" | tr '\n' ' ')"
[ ! -e "$work/prefix/include/bootmeta/v1/testing.pb-c.h" ] || fail "test-only header installed"
# libbootmeta-net: its own library and pkg-config file, on libbootmeta; libcurl is private
pkg-config --libs bootmeta-net | grep -q -- '-lbootmeta-net' || fail "bootmeta-net.pc: no -lbootmeta-net"
pkg-config --print-requires bootmeta-net | grep -q '^bootmeta' || fail "bootmeta-net.pc does not require bootmeta"
[ -f "$work/prefix/include/bootmeta/artifact.h" ] || fail "bootmeta/artifact.h not installed"
netso=$(readlink -f "$libdir/libbootmeta-net.so")
nm -D --defined-only "$netso" >"$work/netsyms"
for s in bm_artifact_upload bm_artifact_fetch bm_artifact_url bm_artifact_result_dispose; do
	grep -q " $s\$" "$work/netsyms" || fail "libbootmeta-net.so does not export $s"
done
grep -q ' bm__' "$work/netsyms" && fail "libbootmeta-net.so exports internals: $(grep ' bm__' "$work/netsyms" | tr '\n' ' ')"
nm -D --undefined-only "$so" | grep -q curl_ && fail "libbootmeta.so uses libcurl (it belongs to libbootmeta-net)"

# 3. the example of libbootmeta(3) is this program, letter for letter
sed -n '/^\.SH EXAMPLE/,/^\.fi$/p' "$BM_SRCDIR/doc/libbootmeta.3" | sed '1,/^\.nf$/d;/^\.fi$/d' |
	sed 's/\\-/-/g; s/\\&//g; s/\\e/\\/g' >"$work/example.c"
diff -u "$BM_SRCDIR/tests/consumer/consumer.c" "$work/example.c" >"$work/example.diff" ||
	{ cat "$work/example.diff"; fail "doc/libbootmeta.3's EXAMPLE is not tests/consumer/consumer.c"; }

# 4. compile the consumer as an outside program would
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Wextra -Werror ${BM_CONSUMER_CFLAGS:-} -o "$work/consumer" \
	"$BM_SRCDIR/tests/consumer/consumer.c" $cflags $libs -Wl,-rpath,"$libdir" || fail "the consumer does not build"
LD_TRACE_LOADED_OBJECTS=1 "$work/consumer" | grep -q "$libdir/libbootmeta.so" || fail "the consumer does not load the installed libbootmeta.so"

# 5. a meta repo made by the CLI
export BOOTMETA_REPO="$work/meta" BOOTMETA_ACTOR="Consumer Test <ct@example.com>"
unset BOOTMETA_ENV || true
bm() { "$BOOTMETA" "$@" >/dev/null; }
C1=1111111111111111111111111111111111111111
C2=2222222222222222222222222222222222222222
bm init "$work/meta"
bm project add demo/server --source https://example.com/demo/app.git
bm release add demo/server --source "https://example.com/demo/app.git@$C1" --version 1.0.0
bm release add demo/server --source "https://example.com/demo/app.git@$C2" \
	--source "https://example.com/demo/lib.git@$C1" --version 1.1.0
bm channel promote demo/server stable "$C1" --reason first
bm channel promote demo/server stable "$C2" --reason second
bm env add prod
bm env add prod/eu
bm config set demo/server prod PORT:int=80 'DB_URL=postgres://db/prod'
bm config set demo/server prod/eu PORT:int=8080
bm flag set demo/server prod/eu new-ui --variant on=true --variant off=false --default off --rule stable=on

# 6. run it and check every fact against what the CLI wrote
"$work/consumer" "$work/meta" demo/server stable prod/eu new-ui host-1 >"$work/out" 2>"$work/err" ||
	{ cat "$work/out" "$work/err" >&2; fail "the consumer failed"; }
tip=$(git --git-dir="$work/meta" rev-parse main)
printf '%s\n' "meta_commit=$tip" "channel_seq=2" "channel_release=$C2" \
	"channel_actor=Consumer Test <ct@example.com>" "release_version=1.1.0" "release_sources=2" \
	"config.DB_URL=postgres://db/prod (string, from prod)" "config.PORT=8080 (int64, from prod/eu)" \
	"flag.new-ui=on (TARGETING_MATCH)" >"$work/want"
grep -v '^record=\|^encoded=' "$work/out" >"$work/got"
diff -u "$work/want" "$work/got" || fail "the consumer read something else"
grep -q "^record=projects/demo/server/releases/.*$C2.pb bootmeta.v1.Release [0-9]* bytes\$" "$work/out" ||
	fail "record line: $(grep '^record=' "$work/out")"
grep -q '^encoded=[1-9][0-9]* bytes, packed_size=[1-9]' "$work/out" || fail "encode line"
[ ! -s "$work/err" ] || { cat "$work/err"; fail "the consumer wrote to stderr"; }
# an error is a code and a message, not a crash
if "$work/consumer" "$work/meta" demo/server nosuch prod/eu new-ui host-1 >/dev/null 2>"$work/err"; then
	fail "an unknown channel was found"
fi
grep -q '^consumer: channel: .*(not found)$' "$work/err" || { cat "$work/err"; fail "unknown channel message"; }
echo "consumer: ok ($(wc -l <"$work/out") facts read through the installed library)"
