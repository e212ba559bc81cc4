#!/bin/sh
# Go build info: what we read from Go binaries matches `go version -m` line for line
# (Debian's age, and a Go program built here with -ldflags so values need quoting);
# (-trimpath would leave -ldflags out of the build info, so it is not used here)
# damaged and foreign files give clear errors.
set -eu
tool="$BM_BUILDDIR/stamp_tool"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v go >/dev/null 2>&1 || [ ! -x /usr/bin/age ]; then
	echo "FAIL: needs go and /usr/bin/age (Debian packages golang-go age; make deps installs them)" >&2
	exit 1
fi

# go1.19's `go version -m` prints an empty "\t" line after each `=>` replacement (a bug
# fixed in later Go); we print none, so blank lines are left out of the comparison.
same_as_go() {
	"$tool" gobuildinfo "$1" | grep -v '^[[:space:]]*$' > "$tmp/ours"
	go version -m "$1" | grep -v '^[[:space:]]*$' > "$tmp/go"
	diff -u "$tmp/go" "$tmp/ours" || fail "$1 differs from go version -m"
	echo "same as go version -m: $1 ($(wc -l < "$tmp/go") lines)"
}

echo "--- /usr/bin/age"
same_as_go /usr/bin/age
"$tool" gobuildinfo /usr/bin/age | grep -q '^	path	filippo.io/age/cmd/age$' || fail "age path"

echo "--- a Go program built here"
mkdir -p "$tmp/m"
cat > "$tmp/m/go.mod" <<'EOF'
module example.com/hello

go 1.19
EOF
printf 'package main\n\nvar note string\n\nfunc main() { println(note) }\n' > "$tmp/m/main.go"
(cd "$tmp/m" && GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local GOPROXY=off GOPATH="$tmp/gopath" \
	go build -ldflags "-X 'main.note=a b\"c\\' -s" -o "$tmp/hello" .)
same_as_go "$tmp/hello"
"$tool" gobuildinfo "$tmp/hello" | grep -qF "build	-ldflags=\"-X 'main.note=a b\\\"c\\\\' -s\"" || fail "quoted -ldflags"
"$tool" gobuildinfo "$tmp/hello" | grep -q '^	mod	example.com/hello	(devel)	$' || fail "hello mod line"

echo "--- other Go binaries on this machine, when there are any"
for f in /usr/bin/age-keygen /usr/lib/go/bin/gofmt; do
	if [ -f "$f" ]; then same_as_go "$f"; fi
done

echo "--- damaged and foreign files"
if "$tool" gobuildinfo /etc/hostname 2> "$tmp/err"; then fail "text file accepted"; fi
grep -q 'not found' "$tmp/err" && grep -q 'not an ELF file' "$tmp/err" || fail "text file: $(cat "$tmp/err")"
if "$tool" gobuildinfo /bin/true 2> "$tmp/err"; then fail "C binary accepted"; fi
grep -q 'not a Go binary' "$tmp/err" || fail "C binary: $(cat "$tmp/err")"
magic=$(LC_ALL=C grep -obUaP '\xff Go buildinf:' /usr/bin/age | head -1 | cut -d: -f1)
[ -n "$magic" ] || fail "no magic in age"
head -c $((magic + 20)) /usr/bin/age > "$tmp/trunc_header"
if "$tool" gobuildinfo "$tmp/trunc_header" 2> "$tmp/err"; then fail "truncated header accepted"; fi
grep -q 'corrupt' "$tmp/err" && grep -q 'truncated' "$tmp/err" || fail "truncated header: $(cat "$tmp/err")"
head -c $((magic + 60)) /usr/bin/age > "$tmp/trunc_strings"
if "$tool" gobuildinfo "$tmp/trunc_strings" 2> "$tmp/err"; then fail "truncated strings accepted"; fi
grep -q 'past the end of the file' "$tmp/err" || fail "truncated strings: $(cat "$tmp/err")"
# A version length far over the file size.
cp /usr/bin/age "$tmp/biglen"
printf '\377\377\377\377\017' | dd of="$tmp/biglen" bs=1 seek=$((magic + 32)) conv=notrunc 2>/dev/null
if "$tool" gobuildinfo "$tmp/biglen" 2> "$tmp/err"; then fail "huge length accepted"; fi
grep -q 'corrupt' "$tmp/err" || fail "huge length: $(cat "$tmp/err")"
echo "ok"
