#!/bin/sh
# Every core command, its text output and its --json, checked against what was written:
# init, project, release (--source and --source-dir), binary, channel, trace, show, ls,
# log, clone, pull, push; --help on each; exit codes.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
bm() { "$BM" --repo "$R" "$@"; }
# js EXPR: evaluate a Python expression over the JSON document on stdin (as d)
js() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# eq WHAT GOT WANT
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "  ok: $1 = $3"; }

C1=$(src_repo "$T/app")
C2=$(src_repo "$T/lib")
git -C "$T/app" remote add origin https://git.example.com/app.git

check "init (text and --json)"
"$BM" init "$R" | grep -q "initialised meta repo" || fail "init text"
"$BM" --json init "$T/meta2" | js 'd["format"]' | grep -qx 1 || fail "init --json"

check "--help on every command and subcommand exits 0 and prints usage"
for c in "project" "project add" "release" "release add" "binary" "binary add" "channel" "channel promote" \
	"channel get" "channel history" "trace" "show" "ls" "log" "clone" "pull" "push" "init"; do
	# shellcheck disable=SC2086
	"$BM" $c --help | grep -q "^usage: bootmeta" || fail "$c --help"
done
echo "  ok"

check "project add, list, show"
bm project add app/server --source https://git.example.com/app.git --owner team-a --description "API server" 2>"$T/progress" | grep -q "added project app/server" || fail "project add text"
grep -q "adding project app/server" "$T/progress" || fail "no progress line on stderr"
out=$(bm --json project add app/cli)
eq "project add --json name" "$(echo "$out" | js 'd["name"]')" app/cli
eq "project add --json metaCommit" "$(echo "$out" | js 'd["metaCommit"]')" "$(tip "$R")"
bm project list >"$T/pl"
grep -q "^app/server  *1  *https://git.example.com/app.git" "$T/pl" || fail "project list text"
eq "project list --json" "$(bm --json project list | js '",".join(p["name"] for p in d)')" "app/cli,app/server"
bm project show app/server | grep -q "^description  API server" || fail "project show text"
eq "project show --json owners" "$(bm --json project show app/server | js 'd["owners"][0]')" team-a

check "release add with --source (both repos) and with --source-dir"
bm release add app/server --source "file://$T/app@$C1" --source "file://$T/lib@$C2" --version 1.0 --note first >"$T/ra"
grep -q "added release $C1 of app/server" "$T/ra" || fail "release add text (default id = first commit)"
echo "// more" >>"$T/app/README"
git -C "$T/app" commit -qam three
C3=$(git -C "$T/app" rev-parse HEAD)
out=$(bm --json release add app/server --source-dir "$T/app" --source-dir "$T/lib" --version 1.1)
eq "release add --source-dir id" "$(echo "$out" | js 'd["id"]')" "$C3"
eq "release add --source-dir origin URL" "$(echo "$out" | js 'd["sources"][0]["url"]')" https://git.example.com/app.git
eq "release add --source-dir second commit" "$(echo "$out" | js 'd["sources"][1]["commit"]')" "$C2"
eq "release add --json createdMs is a string (proto3 int64)" "$(echo "$out" | js 'type(d["createdMs"]).__name__')" str
bm release list app/server >"$T/rl"
grep -q "^$C1  *1.0 " "$T/rl" || fail "release list text"
eq "release list --json" "$(bm --json release list app/server | js 'len(d)')" 2
bm release show app/server "$C1" | grep -q "^source    file://$T/lib @ $C2" || fail "release show text"
eq "release show --json note" "$(bm --json release show app/server "$C1" | js 'd["note"]')" first

check "binary add and show"
printf 'binary v1' >"$T/app-v1"
SHA=$(sha256sum "$T/app-v1" | cut -c1-64)
bm binary add app/server "$C1" "$T/app-v1" --os linux --arch amd64 --url s3://bucket/app-v1 | grep -q "added binary $SHA (9 bytes, linux/amd64)" || fail "binary add text"
bm binary show "$SHA" | grep -q "^url       s3://bucket/app-v1" || fail "binary show text"
out=$(bm --json binary show "$SHA")
eq "binary show --json size" "$(echo "$out" | js 'd["size"]')" 9
eq "binary show --json release" "$(echo "$out" | js 'd["release"]')" "$C1"
[ -n "$(git --git-dir="$R" ls-tree main "binaries/$(echo "$SHA" | cut -c1-2)/$SHA.pb")" ] || fail "binary not at binaries/<sha[0:2]>/<sha>.pb"

check "channel promote, get, history, list"
bm channel promote app/server stable "$C1" --reason "first" | grep -q "app/server stable #1: $C1" || fail "promote text"
out=$(bm --json channel promote app/server stable "$C3" --reason "second")
eq "promote --json seq" "$(echo "$out" | js 'd["seq"]')" 2
eq "promote --json previousRelease" "$(echo "$out" | js 'd["previousRelease"]')" "$C1"
bm channel promote app/server beta "$C3" >/dev/null
bm channel get app/server stable >"$T/cg"
grep -q "^release   $C3" "$T/cg" || fail "channel get text release"
grep -q "^seq       2" "$T/cg" || fail "channel get text seq"
grep -q "^promoted  .* by E2E Tester <e2e@example.com>" "$T/cg" || fail "channel get text who"
grep -q "^meta      $(tip "$R")" "$T/cg" || fail "channel get text meta commit"
out=$(bm --json channel get app/server stable)
eq "channel get --json release" "$(echo "$out" | js 'd["release"]')" "$C3"
eq "channel get --json metaCommit" "$(echo "$out" | js 'd["metaCommit"]')" "$(tip "$R")"
eq "channel get --json actor" "$(echo "$out" | js 'd["actor"]')" "E2E Tester <e2e@example.com>"
old=$(git --git-dir="$R" rev-parse main~2)
eq "channel get --at an older meta commit" "$(bm --json channel get app/server stable --at "$old" | js 'd["seq"]')" 1
bm channel history app/server stable >"$T/ch"
[ "$(sed -n 2p "$T/ch" | awk '{ print $1, $2 }')" = "2 $C3" ] || fail "history text: newest first"
eq "channel history -n 1" "$(bm channel history app/server stable -n 1 | wc -l)" 2
eq "channel history --json" "$(bm --json channel history app/server stable | js '[e["seq"] for e in d]')" "['2', '1']"
bm channel list app/server | grep -q "^stable  *$C3  *2 " || fail "channel list text"
eq "channel list --json" "$(bm --json channel list app/server | js '",".join(e["channel"] for e in d)')" "beta,stable"

check "trace from the binary file, its sha256 and a release id"
bm trace "$T/app-v1" >"$T/tr"
grep -q "^source    file://$T/app @ $C1" "$T/tr" || fail "trace: first source"
grep -q "^source    file://$T/lib @ $C2" "$T/tr" || fail "trace: second source"
out=$(bm --json trace "$SHA")
eq "trace --json sources" "$(echo "$out" | js 'len(d["releases"][0]["release"]["sources"])')" 2
eq "trace --json binary" "$(echo "$out" | js 'd["binary"]["sha256"]')" "$SHA"
eq "trace --json channels of an old release" "$(echo "$out" | js 'len(d["releases"][0]["channels"])')" 0
out=$(bm --json trace "$C3")
eq "trace RELEASE --json channels" "$(echo "$out" | js '",".join(c["channel"] for c in d["releases"][0]["channels"])')" "beta,stable"

check "show PATH[@COMMIT] decodes by path; ls; log"
out=$(bm --json show "projects/app/server/releases/$C1.pb")
eq "show --json release" "$(echo "$out" | js 'd["sources"][1]["commit"]')" "$C2"
bm show projects/app/server/channels/stable/0000000/0000000001.pb | js 'd["reason"]' | grep -qx first || fail "show (pretty JSON)"
eq "show @COMMIT" "$(bm --json show "projects/app/server/project.pb@$(git --git-dir="$R" rev-parse main~7)" | js 'd["name"]')" app/server
bm show .bootmeta/format | grep -qx 1 || fail "show of a text file"
bm ls | grep -qx "projects/" || fail "ls"
bm ls -r projects/app/server | grep -qx "projects/app/server/releases/$C1.pb" || fail "ls -r"
eq "ls --json" "$(bm --json ls projects/app | js '",".join(e["path"] + ":" + e["type"] for e in d)')" "projects/app/cli:dir,projects/app/server:dir"
bm log -n 1 | grep -q "channel promote app/server beta #1" || fail "log -n 1"
bm log projects/app/server/channels/stable >"$T/lg"
eq "log PATH counts the commits that touched it" "$(wc -l <"$T/lg")" 2
out=$(bm --json log -n 2 projects/app/server/releases)
eq "log --json" "$(echo "$out" | js 'd[0]["summary"]')" "release add app/server $C3"
eq "log --json author" "$(echo "$out" | js 'd[0]["author"]')" "E2E Tester <e2e@example.com>"

check "clone, a write through the clone, pull and push"
"$BM" clone "$R" "$T/c1" | grep -q "cloned" || fail "clone text"
"$BM" --json clone "$R" "$T/c2" | js 'd["metaCommit"]' | grep -qx "$(tip "$R")" || fail "clone --json"
"$BM" --repo "$T/c1" channel promote app/server stable "$C1" --reason rollback >/dev/null
eq "the write reached the shared repo" "$(bm --json channel get app/server stable | js 'd["reason"]')" rollback
"$BM" --repo "$T/c2" pull | grep -q -- "->" || fail "pull text"
eq "pull --json" "$("$BM" --json --repo "$T/c2" pull | js 'd["changed"]')" False
eq "the clone sees it after pull" "$("$BM" --json --repo "$T/c2" channel get app/server stable | js 'd["seq"]')" 3
"$BM" --repo "$T/c2" push | grep -q "remote main is" || fail "push text"
expect_fail 1 "no remote to push to" bm push

expect_fail 1 "no meta repo at $T/nosuchrepo" "$BM" clone "$T/nosuchrepo" "$T/c3"
[ -e "$T/c3" ] && fail "a failed clone left $T/c3 behind"

check "key --json: lowerCamelCase (keyId, publicKey, trustedComment)"
"$BM" --json key gen --sign --no-password -o "$T/k" > "$T/kg.json"
printf 'payload' > "$T/k.bin"
"$BM" key sign "$T/k.bin" -k "$T/k.key" -t 'release 1' >/dev/null 2>&1
"$BM" --json key show-pub "$T/k.pub" > "$T/ks.json"
"$BM" --json key verify "$T/k.bin" -p "$T/k.pub" > "$T/kv.json"
eq "key show-pub --json keyId" "$(js 'd["keyId"]' < "$T/ks.json")" "$(js 'd["keyId"]' < "$T/kg.json")"
eq "key show-pub --json publicKey" "$(js 'd["publicKey"]' < "$T/ks.json")" "$(tail -1 "$T/k.pub")"
eq "key verify --json trustedComment" "$(js 'd["trustedComment"]' < "$T/kv.json")" "release 1"
out=$(bm --json channel history app/server stable)
echo "$out" > "$T/ch.json"
python3 "$BM_SRCDIR/tests/e2e/json_conventions.py" "$T/kg.json" "$T/ks.json" "$T/kv.json" "$T/ch.json" ||
	fail "--json conventions"

check "exit codes: 0 ok, 1 failure, 2 usage"
expect_fail 2 "not a bootmeta command" "$BM" frobnicate
expect_fail 2 "unknown project command" bm project frobnicate
expect_fail 1 "no project" bm --json project show ghost
grep -q '"code":"not found"' "$T/err" || fail "--json errors carry the code"
echo "t_cli_basic: ok"
