#!/bin/sh
# bootmeta serve, end to end with curl: reads (records, folders, channels, the binary for a
# platform, config, flags, ?at=, ETag), writes (promote, group commit, If-Match, Idempotency-Key
# also across a restart), watch (long poll and SSE, resume, 410), bad input (413, 400 naming
# the field, unknown fields, path traversal, wrong methods), /healthz, /metrics, and a clean
# stop on SIGTERM.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta.git
C1=1111111111111111111111111111111111111111
C2=2222222222222222222222222222222222222222
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C2" --version 1.1 >/dev/null
printf 'binary one\n' >"$T/bin1"
"$BM" --repo "$R" binary add acme/server "$C1" "$T/bin1" --os linux --arch amd64 --url https://a.example/bin1 >/dev/null
"$BM" --repo "$R" channel promote acme/server stable "$C1" --reason first >/dev/null
"$BM" --repo "$R" env add prod >/dev/null
"$BM" --repo "$R" config set acme/server prod PORT=8080 --type int64 >/dev/null

# a small --watch-buffer: a long poll answer that cannot hold every event is tested below
serve_start s1 "$R" --open-writes --watch-buffer 8192
U=$(serve_url s1)

check "healthz and metrics"
http GET "$U/healthz"; want 200; [ "$(jget .status)" = ok ] || fail "healthz: $(cat "$T/body")"
http GET "$U/metrics"; want 200; grep -q '^bootmeta_http_requests_total{code="2xx"}' "$T/body" || fail "metrics: $(head -5 "$T/body")"

check "a channel: its current entry, ETag and X-Bootmeta-Commit name the commit read"
curl -sS -D "$T/hdr" -o "$T/body" "$U/v1/projects/acme/server/channels/stable"
[ "$(jget .release)" = "$C1" ] || fail "channel release: $(cat "$T/body")"
[ "$(jget .seq)" = 1 ] || fail "channel seq: $(cat "$T/body")"
head1=$(tip "$R")
grep -qi "^ETag: \"$head1\"" "$T/hdr" || fail "no ETag of the tip: $(cat "$T/hdr")"
grep -qi "^X-Bootmeta-Commit: $head1" "$T/hdr" || fail "no X-Bootmeta-Commit: $(cat "$T/hdr")"

check "the protobuf bytes with Accept: application/x-protobuf are the record as stored"
curl -sS -H 'Accept: application/x-protobuf' -o "$T/pb" "$U/v1/projects/acme/server/channels/stable"
git --git-dir="$R" show "main:projects/acme/server/channels/stable/0000000/0000000001.pb" >"$T/pb.git"
cmp -s "$T/pb" "$T/pb.git" || fail "protobuf answer differs from the stored record"

check "the binary a linux/amd64 host should run"
http GET "$U/v1/projects/acme/server/channels/stable/binary?os=linux&arch=amd64"; want 200
[ "$(jget .binary.sha256)" = "$(sha256sum "$T/bin1" | cut -c1-64)" ] || fail "binary: $(cat "$T/body")"
[ "$(jget '.binary.urls[0]')" = https://a.example/bin1 ] || fail "binary urls: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/channels/stable/binary?os=linux&arch=arm64"; want 404
grep -q "no binary for linux/arm64" "$T/body" || fail "404 says: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/channels/stable/binary"; want 400

check "records, folders, projects, releases, config"
http GET "$U/v1/ls/projects/acme/server"; want 200
jget '.entries[]' | grep -qx "channels/" || fail "ls: $(cat "$T/body")"
http GET "$U/v1/records/projects/acme/server/project.pb"; want 200
[ "$(jget .name)" = acme/server ] || fail "record: $(cat "$T/body")"
http GET "$U/v1/projects"; want 200; [ "$(jget '.projects[0]')" = acme/server ] || fail "projects: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/releases"; want 200; [ "$(jget '.releases | length')" = 2 ] || fail "releases: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/envs/prod/config"; want 200
[ "$(jget .values.PORT.value)" = 8080 ] || fail "config: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/envs/prod/config?format=env"; want 200
grep -qx "PORT=8080" "$T/body" || fail "config env: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/envs/nope/config"; want 404

check "writes: promote answers with its commit and seq once durable"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C2\",\"reason\":\"over http\"}"; want 200
[ "$(jget .seq)" = 2 ] || fail "promote seq: $(cat "$T/body")"
c2=$(jget .metaCommit)
[ "$c2" = "$(tip "$R")" ] || fail "answer names $c2, main is $(tip "$R")"
[ "$(jget .record.release)" = "$C2" ] || fail "promote record: $(cat "$T/body")"
"$BM" --repo "$R" --json channel get acme/server stable | jq -e ".release == \"$C2\" and .actor == \"anonymous\"" >/dev/null ||
	fail "channel get after promote: $("$BM" --repo "$R" --json channel get acme/server stable)"

check "?at= reads the past"
http GET "$U/v1/projects/acme/server/channels/stable?at=$head1"; want 200
[ "$(jget .release)" = "$C1" ] || fail "at=: $(cat "$T/body")"

check "If-Match: a write whose channel moved after the commit given is refused (412)"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}" -H "If-Match: \"$head1\""; want 412
grep -q "changed after that commit" "$T/body" || fail "412 says: $(cat "$T/body")"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}" -H "If-Match: \"$c2\""; want 200
c3=$(jget .metaCommit)

check "Idempotency-Key: a retry gets the first answer and commits nothing"
http POST "$U/v1/projects/acme/server/channels/beta/promote" "{\"release\":\"$C1\"}" -H 'Idempotency-Key: k-1'; want 200
first=$(cat "$T/body" | jq -c '{metaCommit,seq,path}')
before=$(tip "$R")
http POST "$U/v1/projects/acme/server/channels/beta/promote" "{\"release\":\"$C1\"}" -H 'Idempotency-Key: k-1'; want 200
[ "$(jq -c '{metaCommit,seq,path}' "$T/body")" = "$first" ] || fail "replay answer $(cat "$T/body") differs from $first"
[ "$(jget .replayed)" = true ] || fail "replay not marked: $(cat "$T/body")"
[ "$(tip "$R")" = "$before" ] || fail "a replay committed"

check "a write that fails its own checks fails alone, with the library's reason"
http POST "$U/v1/projects/acme/server/channels/stable/promote" '{"release":"nope"}'; want 404
grep -q '"code":"not-found"' "$T/body" || fail "unknown release: $(cat "$T/body")"

check "group commit: 40 writes at once are answered, each with a unique seq, in fewer commits"
n0=$(git --git-dir="$R" rev-list --count main)
pids=""
for i in $(seq 1 40); do
	curl -sS -o "$T/g$i" -X POST -H 'Content-Type: application/json' \
		--data-binary "{\"release\":\"$C2\",\"reason\":\"g$i\"}" "$U/v1/projects/acme/server/channels/group/promote" &
	pids="$pids $!"
done
wait $pids
for i in $(seq 1 40); do jq -r .seq "$T/g$i"; done | sort -n >"$T/seqs"
seq 1 40 >"$T/want"
cmp -s "$T/seqs" "$T/want" || fail "seqs of 40 writes: $(tr '\n' ' ' <"$T/seqs")"
n1=$(git --git-dir="$R" rev-list --count main)
echo "  40 writes in $((n1 - n0)) commits"
[ $((n1 - n0)) -le 40 ] || fail "more commits than writes"

check "every write kind over HTTP: release, binary, config, flag, log, instance report"
C3=3333333333333333333333333333333333333333
http POST "$U/v1/projects/acme/server/releases" "{\"sources\":[\"https://git.example.com/acme/server.git@$C3\"],\"version\":\"1.2\"}"; want 200
[ "$(jget .record.id)" = "$C3" ] || fail "release add: $(cat "$T/body")"
"$BM" --repo "$R" --json release show acme/server "$C3" | jq -e '.version == "1.2"' >/dev/null || fail "release not in the repo"
SHA=$(printf 'binary three\n' | sha256sum | cut -c1-64)
http POST "$U/v1/projects/acme/server/releases/$C3/binaries" "{\"sha256\":\"$SHA\",\"size\":13,\"os\":\"linux\",\"arch\":\"arm64\",\"urls\":[\"https://a.example/b3\"]}"; want 200
[ "$(jget .path)" = "binaries/$(echo "$SHA" | cut -c1-2)/$SHA.pb" ] || fail "binary add: $(cat "$T/body")"

check "binary add over HTTP with a signature made where the file is (its trusted comment names the sha256)"
minisign -G -W -p "$T/ci.pub" -s "$T/ci.key" >/dev/null
minisign -G -W -p "$T/evil.pub" -s "$T/evil.key" >/dev/null
"$BM" --repo "$R" key trust "$T/ci.pub" >/dev/null
printf 'binary four\n' >"$T/app4"
SHA4=$(sha256sum "$T/app4" | cut -c1-64)
sig_body() { # FILE.minisig: the binary body of app4 with that signature
	jq -cn --arg sha "$SHA4" --rawfile sig "$1" '{sha256: $sha, size: 12, os: "linux", arch: "amd64", signature: $sig}'
}
bin4() { http POST "$U/v1/projects/acme/server/releases/$C3/binaries" "$(sig_body "$1")"; }
minisign -S -s "$T/ci.key" -m "$T/app4" -x "$T/nodigest.minisig" -t "ci build 42" >/dev/null
bin4 "$T/nodigest.minisig"; want 422
grep -q "does not name the binary's sha256" "$T/body" || fail "a comment without the digest: $(cat "$T/body")"
minisign -S -s "$T/ci.key" -m "$T/app4" -x "$T/other.minisig" -t "sha256:$SHA" >/dev/null
bin4 "$T/other.minisig"; want 422
grep -q "another binary" "$T/body" || fail "a comment naming another digest: $(cat "$T/body")"
minisign -S -s "$T/evil.key" -m "$T/app4" -x "$T/evil.minisig" -t "sha256:$SHA4" >/dev/null
bin4 "$T/evil.minisig"; want 404
grep -q "does not trust" "$T/body" || fail "an untrusted key: $(cat "$T/body")"
printf 'not a minisig\n' >"$T/junk.minisig"
bin4 "$T/junk.minisig"; want 400
http POST "$U/v1/projects/acme/server/releases/$C3/binaries" "{\"sha256\":\"$SHA4\",\"size\":12,\"os\":\"linux\",\"arch\":\"amd64\",\"signerKeyId\":\"00\"}"; want 400
http GET "$U/v1/records/binaries/$(echo "$SHA4" | cut -c1-2)/$SHA4.pb"; want 404
minisign -S -s "$T/ci.key" -m "$T/app4" -x "$T/good.minisig" -t "project:acme/server	sha256:$SHA4	size:12" >/dev/null
bin4 "$T/good.minisig"; want 200
KID=$(python3 -c 'import sys; print("%016X" % int(sys.argv[1], 16))' "$(head -1 "$T/ci.pub" | awk '{print $NF}')")
[ "$(jget .record.signerKeyId)" = "$KID" ] || fail "signer of the HTTP binary: $(cat "$T/body")"
"$BM" --repo "$R" binary verify "$T/app4" >"$T/v4" || fail "binary verify of the HTTP-signed binary: $(cat "$T/v4")"
grep -q "^verified  yes" "$T/v4" || fail "verify: $(cat "$T/v4")"
http POST "$U/v1/projects/acme/server/envs/prod/config" '{"set":{"WORKERS":16,"MODE":"fast"}}'; want 200
[ "$(jget '.record.changes | length')" = 2 ] || fail "config set: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/envs/prod/config"; want 200
[ "$(jget .values.WORKERS.value)" = 16 ] && [ "$(jget .values.MODE.value)" = fast ] || fail "config after set: $(cat "$T/body")"
http POST "$U/v1/projects/acme/server/envs/prod/config" '{"set":{"MODE":"fast"}}'; want 200
[ "$(jget .unchanged)" = true ] || fail "an unchanged config write: $(cat "$T/body")"
cfgc=$(jget .metaCommit)
http POST "$U/v1/projects/acme/server/envs/prod/config" '{"unset":["MODE"]}' -H "If-Match: \"$head1\""; want 412
http POST "$U/v1/projects/acme/server/envs/prod/config" '{"unset":["MODE"]}' -H "If-Match: \"$cfgc\""; want 200
http POST "$U/v1/projects/acme/server/envs/prod/flags/new-ui" '{"variants":{"on":true,"off":false},"defaultVariant":"off","rules":[{"channel":"stable","variant":"on"}]}'; want 200
http GET "$U/v1/projects/acme/server/envs/prod/flags/new-ui?channel=stable&key=h1"; want 200
[ "$(jget .value)" = true ] || fail "flag eval stable: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/envs/prod/flags/new-ui?channel=beta&key=h1"; want 200
[ "$(jget .value)" = false ] || fail "flag eval beta: $(cat "$T/body")"
http GET "$U/v1/projects/acme/server/envs/prod/flags?format=flagd"; want 200
[ "$(jget '.flags["new-ui"].defaultVariant')" = off ] || fail "flagd file: $(cat "$T/body")"
http POST "$U/v1/log" '{"kind":"deploy","project":"acme/server","message":"rolled out","attrs":{"wave":"1"}}'; want 200
"$BM" --repo "$R" --json log entries --kind deploy | grep -q "rolled out" || fail "log entry not in the repo"
http POST "$U/v1/envs/prod/instances/host-1/reports" "{\"project\":\"acme/server\",\"release\":\"$C1\",\"metaCommit\":\"$head1\",\"state\":\"healthy\",\"os\":\"linux\",\"arch\":\"amd64\"}"; want 200
[ "$(jget .seq)" = 1 ] || fail "report: $(cat "$T/body")"
git --git-dir="$R" cat-file -e "main:$(jget .path)" || fail "the report is not in the repo: $(cat "$T/body")"
rc1=$(tip "$R")
http POST "$U/v1/envs/prod/instances/host-1/reports" "{\"project\":\"acme/server\",\"release\":\"$C1\",\"metaCommit\":\"$(tip "$R")\",\"state\":\"healthy\"}"; want 200
[ "$(jget .unchanged)" = true ] || fail "a report of the same state is not a change: $(cat "$T/body")"
[ "$(tip "$R")" = "$rc1" ] || fail "an unchanged report committed"
http POST "$U/v1/envs/prod/instances/host-1/reports" '{"project":"acme/server","release":"x","metaCommit":"zz","state":"bogus"}'; want 400

check "bad input: clear JSON errors, nothing committed, serve still serving"
before=$(tip "$R")
http POST "$U/v1/projects/acme/server/channels/stable/promote" '{"release":'; want 400
grep -q "not valid JSON" "$T/body" || fail "malformed: $(cat "$T/body")"
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\",\"bogus\":1}"; want 400
grep -q 'field \\"bogus\\": unknown field' "$T/body" || fail "unknown field: $(cat "$T/body")"
http POST "$U/v1/projects/acme/server/channels/stable/promote" '{"release":5}'; want 400
grep -q 'field \\"release\\": an integer, not a string' "$T/body" || fail "wrong type: $(cat "$T/body")"
http POST "$U/v1/projects/acme/server/channels/../promote" "{\"release\":\"$C1\"}" --path-as-is; want 400
http POST "$U/v1/projects/acme/server/channels/a%01b/promote" "{\"release\":\"$C1\"}"; want 400
http POST "$U/v1/projects/acme/server/channels/.hidden/promote" "{\"release\":\"$C1\"}"; want 400
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
curl -sS -o "$T/body" -w '%{http_code}' -X POST --data-binary @"$T/big" "$U/v1/projects/acme/server/channels/stable/promote" >"$T/status"
want 413
http GET "$U/v1/records/../../etc/passwd" --path-as-is; want 400
http GET "$U/v1/records/projects/%2e%2e/x" --path-as-is; want 400
http GET "$U/v1/projects/acme/server/channels/stable/promote"; want 405
http DELETE "$U/v1/projects/acme/server/channels/stable"; want 405
http GET "$U/v1/nothing"; want 404
[ "$(tip "$R")" = "$before" ] || fail "bad input committed"
http GET "$U/healthz"; want 200

check "watch: long poll without since answers where main is"
http GET "$U/v1/watch?prefix=projects/acme/server/&wait=1s"; want 200
[ "$(jget .metaCommit)" = "$(tip "$R")" ] || fail "watch head: $(cat "$T/body")"
[ "$(jget '.events | length')" = 0 ] || fail "watch events: $(cat "$T/body")"
w0=$(jget .metaCommit)

check "watch: long poll since a commit gets the change with its record"
( sleep 0.3; curl -sS -o /dev/null -X POST --data-binary "{\"release\":\"$C2\"}" "$U/v1/projects/acme/server/channels/beta/promote" ) &
bg=$!
http GET "$U/v1/watch?prefix=projects/acme/server/channels/beta/&since=$w0&wait=10s"; want 200
wait $bg
[ "$(jget '.events | length')" = 1 ] || fail "long poll events: $(cat "$T/body")"
[ "$(jget '.events[0].previous')" = "$w0" ] || fail "event previous: $(cat "$T/body")"
p=$(jget '.events[0].paths[0]')
[ "$(jget ".events[0].records[\"$p\"].release")" = "$C2" ] || fail "event record: $(cat "$T/body")"
w1=$(jget .metaCommit)

check "watch: a since older than the last event gets every change since (no gap)"
http GET "$U/v1/watch?prefix=projects/acme/server/channels/&since=$head1&wait=1s"; want 200
[ "$(jget '.events | length')" -ge 1 ] || fail "catch-up: $(cat "$T/body")"

check "watch: a since not in main's history is 410"
http GET "$U/v1/watch?since=$C1&wait=1s"; want 410
grep -q "re-read the state" "$T/body" || fail "410 says: $(cat "$T/body")"

check "watch: SSE stream with ids; Last-Event-ID resumes"
curl -sS -N -H 'Accept: text/event-stream' --max-time 4 "$U/v1/watch?prefix=projects/acme/server/channels/sse/" >"$T/sse" 2>/dev/null &
cpid=$!
sleep 0.5
http POST "$U/v1/projects/acme/server/channels/sse/promote" "{\"release\":\"$C1\"}"; want 200
sse1=$(jget .metaCommit)
http POST "$U/v1/projects/acme/server/channels/sse/promote" "{\"release\":\"$C2\"}"; want 200
sse2=$(jget .metaCommit)
wait $cpid || true
grep -q "^event: ready" "$T/sse" || fail "no ready event: $(head -c 300 "$T/sse")"
grep -qx "id: $sse1" "$T/sse" || fail "no event for $sse1: $(cat "$T/sse")"
grep -qx "id: $sse2" "$T/sse" || fail "no event for $sse2: $(cat "$T/sse")"
curl -sS -N -H 'Accept: text/event-stream' -H "Last-Event-ID: $sse1" --max-time 2 \
	"$U/v1/watch?prefix=projects/acme/server/channels/sse/" >"$T/sse2" 2>/dev/null || true
grep -qx "id: $sse2" "$T/sse2" || fail "resume from $sse1 misses $sse2: $(cat "$T/sse2")"
grep -qx "id: $sse1" "$T/sse2" && fail "resume repeats $sse1"

check "bootmeta watch prints the events"
wsince=$(tip "$R")
( sleep 0.5; curl -sS -o /dev/null -X POST --data-binary "{\"release\":\"$C2\"}" "$U/v1/projects/acme/server/channels/cli/promote" ) &
bg=$!
"$BM" watch --server "$U" projects/acme/server/channels/cli/ --since "$wsince" --count 1 --json >"$T/w.json"
wait $bg
jq -e '.paths[0] | startswith("projects/acme/server/channels/cli/")' "$T/w.json" >/dev/null || fail "watch --json: $(cat "$T/w.json")"
# the text line starts with the whole commit, which --since takes back
"$BM" watch --server "$U" projects/acme/server/channels/cli/ --since "$wsince" --count 1 >"$T/w.txt"
c=$(cut -d' ' -f1 "$T/w.txt")
eq "the text line's commit is the event's" "$c" "$(jq -r .commit "$T/w.json")"
rc=0
timeout 2 "$BM" watch --server "$U" projects/acme/server/channels/cli/ --since "$c" --count 1 >/dev/null 2>"$T/w.err" || rc=$?
[ $rc = 124 ] || fail "watch --since with its own output's commit exited $rc (want: waiting): $(cat "$T/w.err")"

check "a commit made by someone else (the CLI on the same repo) reaches watchers"
( sleep 0.3; "$BM" --repo "$R" channel promote acme/server other "$C1" >/dev/null ) &
bg=$!
http GET "$U/v1/watch?prefix=projects/acme/server/channels/other/&since=$(tip "$R")&wait=10s"; want 200
wait $bg
[ "$(jget '.events | length')" = 1 ] || fail "outside commit not seen: $(cat "$T/body")"

check "watch: writes that commit nothing, among writes that do, leave the chain of events whole"
# unchanged reports make batches with no commit; each event must name the commit before it.
# A follower polls (since = the last answer's metaCommit) while the writes go on: its polls
# are answered live and from the ring; the 8 KiB --watch-buffer splits long answers.
wc0=$(tip "$R")
# follow SINCE WANT: long polls from SINCE, each from the last answer's metaCommit, until
# WANT events (60 s, 300 polls at most); {events, polls, end} into $T/chain.json
cat >"$T/follow.py" <<'PY'
import json, sys, time, urllib.request
u, since, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
events, polls, end = [], 0, time.monotonic() + 60
while len(events) < want and polls < 300 and time.monotonic() < end:
    with urllib.request.urlopen("%s/v1/watch?since=%s&wait=2s" % (u, since), timeout=10) as r:
        a = json.load(r)
    polls += 1
    events += a["events"]
    since = a["metaCommit"]
json.dump({"events": events, "polls": polls, "end": since}, sys.stdout)
PY
follow() { python3 "$T/follow.py" "$U" "$1" "$2" >"$T/chain.json" 2>"$T/chain.err"; }
# chain_ok WHAT: $T/chain.json is one chain of 120 events from wc0 to the tip, each naming
# the commit before it and one path
chain_ok() {
	jq -e --arg w "$wc0" --arg t "$(tip "$R")" '.events as $e | .end == $t and ($e | length) == 120 and $e[0].previous == $w
		and $e[-1].commit == $t and ([range(1; $e | length) | select($e[.].previous != $e[. - 1].commit)] | length) == 0
		and ([$e[] | select(.previous == .commit or (.paths | length) != 1)] | length) == 0' "$T/chain.json" >/dev/null ||
		fail "$1: the events are not one chain of 120 commits: $(jq -c '{polls, end: .end[0:8], events: [.events[] | {previous: .previous[0:8], commit: .commit[0:8], n: (.paths | length)}]}' "$T/chain.json" | head -c 2000); serve's warnings: $(grep -v 'level=info' "$T/s1.log" | tail -n 20)"
	echo "  ok: $1, 120 events in $(jq .polls "$T/chain.json") long polls, one chain"
}
follow "$wc0" 120 &
follower=$!
sleep 0.3
python3 - "$U" "$C1" "$wc0" >"$T/writes.err" 2>&1 <<'PY' || fail "writes: $(cat "$T/writes.err")"
import http.client, json, sys, threading, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
def run(n, path, body):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    for i in range(n):
        c.request("POST", path, json.dumps(body(i)), {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 200:
            raise SystemExit("%s: %d" % (path, r.status))
a = threading.Thread(target=run, args=(120, "/v1/projects/acme/server/channels/chain/promote", lambda i: {"release": sys.argv[2], "reason": "r%d" % i}))
b = threading.Thread(target=run, args=(360, "/v1/envs/prod/instances/host-1/reports", lambda i: {"project": "acme/server", "release": sys.argv[2], "metaCommit": sys.argv[3], "state": "healthy"}))
a.start(); b.start(); a.join(); b.join()
PY
wait $follower || fail "the follower: $(cat "$T/chain.err")"
chain_ok live
# the same commits again, all from the ring at once: the buffer splits the answer
follow "$wc0" 120 || fail "catching up: $(cat "$T/chain.err")"
chain_ok catch-up
[ "$(jq .polls "$T/chain.json")" -gt 1 ] || fail "one long poll held all 120 events in an 8 KiB --watch-buffer"

check "metrics count the writes and the batches"
http GET "$U/metrics"; want 200
grep -q '^bootmeta_writes_total{result="committed"} [1-9]' "$T/body" || fail "metrics writes: $(grep writes "$T/body")"
grep -q '^bootmeta_batch_size_count [1-9]' "$T/body" || fail "metrics batches"
grep -q '^bootmeta_git_cache_max_bytes 268435456$' "$T/body" || fail "libgit2's default cache limit: $(grep git_cache "$T/body")"

check "SIGTERM: a clean stop; after a restart the Idempotency-Key is still answered from the repo"
serve_stop s1
grep -q "msg=stopped" "$T/s1.log" || fail "no stopped line: $(tail -3 "$T/s1.log")"
grep -q 'msg=request method=POST' "$T/s1.log" || fail "no request lines in the log"
grep -q 'msg=commit commit=' "$T/s1.log" || fail "no commit lines in the log"
serve_start s2 "$R" --open-writes
U=$(serve_url s2)
before=$(tip "$R")
http POST "$U/v1/projects/acme/server/channels/beta/promote" "{\"release\":\"$C1\"}" -H 'Idempotency-Key: k-1'; want 200
[ "$(jq -c '{metaCommit,seq,path}' "$T/body")" = "$first" ] || fail "replay after restart $(cat "$T/body") differs from $first"
[ "$(tip "$R")" = "$before" ] || fail "a replay after restart committed"

check "writes without --tokens or --open-writes are refused (401)"
serve_stop s2
serve_start s3 "$R"
U=$(serve_url s3)
http POST "$U/v1/projects/acme/server/channels/stable/promote" "{\"release\":\"$C1\"}"; want 401
grep -q "without --tokens" "$T/body" || fail "401 says: $(cat "$T/body")"
serve_stop s3

check "--cache-max sets the limit of libgit2's object cache; /metrics shows it and what the cache holds"
serve_start s4 "$R" --cache-max 1
U=$(serve_url s4)
for p in $(git --git-dir="$R" ls-tree -r --name-only main | grep '\.pb$' | head -n 300); do
	curl -fsS -o /dev/null "$U/v1/records/$p" || fail "read $p"
done
http GET "$U/metrics"; want 200
grep -q '^bootmeta_git_cache_max_bytes 1048576$' "$T/body" || fail "the limit: $(grep git_cache "$T/body")"
used=$(sed -n 's/^bootmeta_git_cache_bytes //p' "$T/body")
[ "$used" -gt 0 ] && [ "$used" -le 1048576 ] || fail "the cache holds $used bytes under a 1 MiB limit"
echo "  ok: $used bytes cached, limit 1048576"
serve_stop s4

check "usage errors"
expect_fail 2 "not HOST:PORT" "$BM" --repo "$R" serve --listen nope
expect_fail 2 "go together" "$BM" --repo "$R" serve --tls-cert x
expect_fail 2 "give MiB from 1 to 1048576" "$BM" --repo "$R" serve --cache-max 0
"$BM" serve --help | grep -q "group-committed" || fail "serve --help"
git --git-dir="$R" fsck --strict >/dev/null 2>&1 || fail "git fsck --strict"
echo "PASS"
