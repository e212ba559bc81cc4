#!/bin/sh
# stress_watch.sh: the long-poll chain under load, the check of stop 18's lost event (see
# doc/benchmarks.md, "What the retired-pack grace costs"). Not part of make check or make
# bench: run it by hand after a change to the store's packs or serve's watch.
#
#   BOOTMETA=build/bootmeta BM_SRCDIR=. [N=1000] [RUNS=3] [LOAD=1] sh bench/stress_watch.sh
#
# Each run: serve --watch-buffer 8192 on a new repo; N promotes and 3N no-commit instance
# reports on two connections, while a follower long-polls from each answer's metaCommit.
# With LOAD=1, three busy loops and a `dd oflag=dsync` loop run beside it (2 cores). A run
# is OK when the follower's events chain with no gap (each previous is the last commit), end
# at main, and each names one path; else BAD, and serve's warn lines are printed. Each run
# stops by itself (the follower gives up after 600 s). Exit 1 when any run was BAD.
set -eu
: "${BOOTMETA:?give BOOTMETA, the bootmeta binary}" "${BM_SRCDIR:?give BM_SRCDIR, the source tree}"
export BOOTMETA BM_SRCDIR
N=${N:-1000} RUNS=${RUNS:-3} LOAD=${LOAD:-1}
one() {
	(
	. "$BM_SRCDIR/tests/e2e/lib_core.sh"
	. "$BM_SRCDIR/tests/e2e/lib_serve.sh"
	R=$T/meta.git
	C1=1111111111111111111111111111111111111111
	"$BM" init "$R" >/dev/null
	"$BM" --repo "$R" project add acme/server --source https://git.example.com/acme/server.git >/dev/null 2>&1
	"$BM" --repo "$R" release add acme/server --source "https://git.example.com/acme/server.git@$C1" --version 1.0 >/dev/null 2>&1
	"$BM" --repo "$R" env add prod >/dev/null
	serve_start s1 "$R" --open-writes --watch-buffer 8192
	U=$(serve_url s1)
	curl -sS -o /dev/null -X POST --data-binary "{\"project\":\"acme/server\",\"release\":\"$C1\",\"metaCommit\":\"$(tip "$R")\",\"state\":\"healthy\"}" \
		"$U/v1/envs/prod/instances/host-1/reports"
	w0=$(tip "$R")
	python3 - "$U" "$w0" "$N" >"$T/chain.json" 2>"$T/chain.err" <<'PY' &
import json, sys, time, urllib.request
u, since, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
events, polls, end = [], 0, time.monotonic() + 600
while len(events) < want and polls < 3 * want + 100 and time.monotonic() < end:
    with urllib.request.urlopen("%s/v1/watch?since=%s&wait=2s" % (u, since), timeout=10) as r:
        a = json.load(r)
    polls += 1
    events += a["events"]
    since = a["metaCommit"]
json.dump({"events": events, "polls": polls, "end": since}, sys.stdout)
PY
	follower=$!
	sleep 0.3
	python3 - "$U" "$C1" "$w0" "$N" >"$T/writes.err" 2>&1 <<'PY' || fail "writes: $(cat "$T/writes.err")"
import http.client, json, sys, threading, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); n = int(sys.argv[4])
def run(count, path, body):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    for i in range(count):
        c.request("POST", path, json.dumps(body(i)), {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 200:
            raise SystemExit("%s: %d" % (path, r.status))
a = threading.Thread(target=run, args=(n, "/v1/projects/acme/server/channels/chain/promote", lambda i: {"release": sys.argv[2], "reason": "r%d" % i}))
b = threading.Thread(target=run, args=(3 * n, "/v1/envs/prod/instances/host-1/reports", lambda i: {"project": "acme/server", "release": sys.argv[2], "metaCommit": sys.argv[3], "state": "healthy"}))
a.start(); b.start(); a.join(); b.join()
PY
	wait $follower || fail "the follower: $(cat "$T/chain.err")"
	if jq -e --arg w "$w0" --arg t "$(tip "$R")" --argjson n "$N" '.events as $e | .end == $t and ($e | length) == $n and $e[0].previous == $w
			and $e[-1].commit == $t and ([range(1; $e | length) | select($e[.].previous != $e[. - 1].commit)] | length) == 0
			and ([$e[] | select(.previous == .commit or (.paths | length) != 1)] | length) == 0' "$T/chain.json" >/dev/null; then
		echo "OK ($(jq .polls "$T/chain.json") polls)"
	else
		echo "BAD"
		grep -v level=info "$T/s1.log" | tail -5
		exit 1
	fi
	)
}
bad=0
r=1
while [ $r -le "$RUNS" ]; do
	pids=""
	if [ "$LOAD" = 1 ]; then
		for i in 1 2 3; do sh -c 'while :; do :; done' & pids="$pids $!"; done
		d=$(mktemp /tmp/bm-stress-dd.XXXXXX)
		sh -c "while :; do dd if=/dev/zero of=$d bs=4k count=200 oflag=dsync 2>/dev/null; done" & pids="$pids $!"
	fi
	printf 'run %d of %d, %s: ' "$r" "$RUNS" "$(date -u +%H:%M:%S)"
	one || bad=1
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	[ "$LOAD" != 1 ] || rm -f "$d"
	r=$((r + 1))
done
exit $bad
