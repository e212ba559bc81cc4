#!/bin/sh
# serve against clients that misbehave: 10,000 idle connections (serve keeps answering), a
# slow-loris client (closed after --header-timeout), an event stream that never reads (dropped
# once its buffer is full, counted in /metrics), bodies and headers over the bounds; after
# all of it serve still serves and stops cleanly.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
. "$BM_SRCDIR/tests/e2e/lib_serve.sh"

R=$T/meta.git
"$BM" init "$R" >/dev/null
"$BM" --repo "$R" project add acme/server >/dev/null
"$BM" --repo "$R" env add prod >/dev/null
serve_start s "$R" --open-writes --conn-timeout 30 --header-timeout 3 --watch-buffer 65536
U=$(serve_url s)

check "10,000 idle connections: serve answers a new one meanwhile"
python3 "$BM_SRCDIR/tests/e2e/serve_abuse.py" idle "$U" 10000 >"$T/idle"
grep -q "ok=1" "$T/idle" || fail "serve did not answer beside 10,000 idle connections: $(cat "$T/idle")"
echo "  $(cat "$T/idle")"

check "a slow-loris client is closed after --header-timeout"
python3 "$BM_SRCDIR/tests/e2e/serve_abuse.py" loris "$U" >"$T/loris"
grep -qx closed "$T/loris" || fail "the slow client was not closed: $(cat "$T/loris")"

check "an event stream that never reads is dropped when its buffer is full"
python3 "$BM_SRCDIR/tests/e2e/serve_abuse.py" noread "$U" "/v1/watch?prefix=envs/" 600 >/dev/null &
nr=$!
i=0
until curl -s "$U/metrics" | grep -q '^bootmeta_watchers{mode="sse"} 1'; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "the stream never connected"; sleep 0.1
done
big=$(head -c 60000 /dev/zero | tr '\0' 'x')
for k in 1 2 3 4 5 6 7 8; do printf '{"set":{"BIG%d":"%s"}}' "$k" "$big" >"$T/big$k.json"; done
n=0
# rounds of 8 writes of 60 KB at once (each event carries its record: 60 KB)
while ! curl -s "$U/metrics" | grep -q '^bootmeta_watch_dropped_total [1-9]'; do
	n=$((n + 1))
	[ $n -le 100 ] || fail "800 writes of 60 KB and the stream that does not read is still there"
	pids=""
	for k in 1 2 3 4 5 6 7 8; do
		sed "s/\"x/\"$n/" "$T/big$k.json" >"$T/b$k.json"
		curl -s -o /dev/null -X POST --data-binary @"$T/b$k.json" "$U/v1/projects/acme/server/envs/prod/config" &
		pids="$pids $!"
	done
	wait $pids
done
echo "  dropped after $n rounds of 8 writes of 60 KB"
grep -q "msg=watch-dropped" "$T/s.log" || fail "no log line for the dropped stream"
kill $nr 2>/dev/null || true

check "serve still serves, and stops cleanly"
http GET "$U/healthz"; want 200
serve_stop s
echo "PASS"
