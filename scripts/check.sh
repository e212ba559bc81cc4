#!/bin/sh
# make check: every test (unit, e2e, the installed-library consumer) in the ASan+UBSan
# debug build, whose CLI links libbootmeta.so; the release build, and the tests of its
# static CLI that start-up changes could break (https remotes, the basic commands); a short
# run of every fuzz target. Ends with ONE verdict line; fails when any test failed or was
# skipped (a skip is a ctest SKIP_RETURN_CODE, never a pass).
# Usage: check.sh MAKE BUILD RELEASE_BUILD JOBS
set -u
make=$1 build=$2 release=$3 jobs=$4
src=$(cd "$(dirname "$0")/.." && pwd)
rep=$(mktemp -d)
trap 'rm -rf "$rep"' EXIT
passed=0 failed=0 skipped=0 fuzzn=0 stage=""

# count N_TESTS N_FAILED N_SKIPPED of a ctest JUnit file into the totals
count() {
	[ -f "$1" ] || return 0
	# the <testsuite ...> element's attributes (ctest writes one per line)
	set -- $(tr '\n\t' '  ' <"$1" | sed -n 's/^[^<]*<?xml[^>]*>[^<]*<testsuite [^>]*tests="\([0-9]*\)" *failures="\([0-9]*\)" *disabled="\([0-9]*\)" *skipped="\([0-9]*\)".*/\1 \2 \3 \4/p')
	[ $# = 4 ] || { echo "check: cannot read the test counts of $1" >&2; failed=$((failed + 1)); return 0; }
	passed=$((passed + $1 - $2 - $3 - $4))
	failed=$((failed + $2))
	skipped=$((skipped + $3 + $4))
}
verdict() {
	[ -n "$stage" ] || [ "$passed" != 0 ] || stage="counting (no test ran)"
	if [ -n "$stage" ] || [ "$failed" != 0 ] || [ "$skipped" != 0 ]; then
		echo "check: FAIL${stage:+ at $stage}: $passed tests passed, $failed failed, $skipped skipped; $fuzzn fuzz targets run"
		exit 1
	fi
	echo "check: PASS: $passed tests passed, $failed failed, $skipped skipped; $fuzzn fuzz targets run (10 s each)"
	exit 0
}

"$make" test CTEST_ARGS="--output-junit $rep/debug.xml" || stage="tests (debug build)"
count "$rep/debug.xml"
# the e2e suite must have run against the shared library, as an outside program links it
LD_TRACE_LOADED_OBJECTS=1 "$build/bootmeta" 2>/dev/null | grep -q 'libbootmeta\.so' ||
	stage="tests (the debug CLI does not load libbootmeta.so)"
[ -z "$stage" ] || verdict
"$make" release JOBS="$jobs" || { stage="release build"; verdict; }
( cd "$release" && ctest --output-on-failure -R '^(e2e/t_https_remote|e2e/t_cli_basic|consumer/installed)$' \
	--output-junit "$rep/release.xml" ) || stage="tests (release build)"
count "$rep/release.xml"
[ -z "$stage" ] || verdict
FUZZ_REPORT="$rep/fuzz" "$make" fuzz-short || stage="fuzz"
[ -f "$rep/fuzz" ] && fuzzn=$(cat "$rep/fuzz")
verdict
