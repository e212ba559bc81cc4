#!/bin/sh
# serve's watch over a repo it cannot read in full: an event serve cannot read is never
# skipped. A long poll from before commits with a tree gone (removed from its pack, as a
# `git prune` or a disk fault can) answers 503 with Retry-After and names no later commit,
# a stream is refused the same way, both are counted and logged, serve goes on serving, and
# once the object is back the same poll gets the event.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta.git
C1=1111111111111111111111111111111111111111
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null
"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null
A=$(tip "$R")
"$BM" --repo "$R" channel promote acme/server stable "$C1" --reason first >/dev/null
"$BM" --repo "$R" env add prod >/dev/null
B=$(tip "$R")
# the channels folder's tree, new since A: serve starts (it reads .bootmeta/), but the
# change from A to B cannot be listed
cp -R "$R/objects/pack" "$T/packs.saved"
tree=$(git --git-dir="$R" rev-parse "$B:projects/acme/server/channels")
drop "$R" "$tree"
present "$R" "$tree" && fail "the tree is still there"

serve_start s1 "$R"
U=$(serve_url s1)

check "a long poll from before an unreadable commit: 503 with Retry-After, no later commit named"
code=$(curl -sS -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$U/v1/watch?since=$A&wait=2s")
eq "status" "$code" 503
grep -qi '^Retry-After: 1' "$T/hdr" || fail "no Retry-After: $(cat "$T/hdr")"
jget .error | grep -q "could not read the changes since that commit" || fail "error: $(cat "$T/body")"
grep -q "$B" "$T/body" "$T/hdr" && fail "the answer names $B, past the event it could not read: $(cat "$T/hdr" "$T/body")"
grep -q "level=warn msg=event since=$A" "$T/s1.log" || fail "not logged: $(cat "$T/s1.log")"

check "a stream from there is refused the same way"
code=$(curl -sS -o "$T/body" -w '%{http_code}' -H 'Accept: text/event-stream' -H "Last-Event-ID: $A" "$U/v1/watch")
eq "status" "$code" 503

check "serve goes on serving, and counts them"
http GET "$U/healthz"; want 200
http GET "$U/metrics"; want 200
grep -qx 'bootmeta_watch_errors_total 2' "$T/body" || fail "metrics: $(grep watch_errors "$T/body")"

check "the object back, the same poll gets the event"
cp "$T/packs.saved"/* "$R/objects/pack/"
present "$R" "$tree" || fail "the tree is not back"
http GET "$U/v1/watch?since=$A&wait=2s"; want 200
eq "one event, from A to B" "$(jget '[.events[] | .previous + " " + .commit] | join(",")')" "$A $B"
jget '.events[0].paths[]' | grep -q '^projects/acme/server/channels/stable/' || fail "paths: $(cat "$T/body")"
eq "metaCommit" "$(jget .metaCommit)" "$B"
serve_stop s1
echo "ok: t_serve_watch_damaged"
