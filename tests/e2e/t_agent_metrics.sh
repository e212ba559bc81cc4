#!/bin/sh
# bootmeta agent --metrics-listen: GET /metrics (Prometheus text) on the agent's own
# listener, scraped with curl: the info gauges, the state of the attempt, rounds,
# downloads and their bytes, rollbacks, reports, the last meta read; the values move with
# a promotion and with a release that fails its health gate. Bad requests get their status
# (404, 405, 414/431, 505), a client that sends nothing does not hold the endpoint, and the
# agent runs without libcurl, libmicrohttpd and nats.c mapped.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"

R=$T/meta
D=$T/host
bm() { "$BM" --quiet --repo "$R" "$@"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/src")
bm project add app >/dev/null
bm env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null
bm key trust "$T/rel.pub" >/dev/null
tail -n 1 "$T/rel.pub" >"$T/pinned"
mkdir -p "$T/art"
for r in r1 r2 r3; do
	mkdir -p "$T/art/$r"
	printf '#!/bin/sh\n# %s\nexit 0\n' "$r" >"$T/art/$r/app"
	bm release add app --source "file://$T/src@$C1" --id "$r" >/dev/null
	bm binary add app "$r" "$T/art/$r/app" --os linux --arch amd64 --url "file://$T/art/$r/app" --sign "$T/rel.key" >/dev/null
done
bm channel promote app stable r1 >/dev/null
MP=$(freeport)
M="http://127.0.0.1:$MP/metrics"
ARGS="--project app --channel stable --env prod --id m1 --install-dir $D --trusted-keys $T/pinned --os linux --arch amd64"

check "a bad --metrics-listen is refused by name"
expect_fail 1 "--metrics-listen nowhere: give HOST:PORT" "$BM" --repo "$R" agent $ARGS --metrics-listen nowhere --once

# metric NAME_WITH_LABELS: its value on the page
metric() { curl -fsS --max-time 5 "$M" | awk -v k="$1" '$1 == k { print $2 }'; }
# wait_metric NAME VALUE: until the page says it, 30 s
wait_metric() {
	i=0
	while [ "$(metric "$1" 2>/dev/null)" != "$2" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || { cat "$T/agent.log" >&2; fail "$1 is '$(metric "$1")', want '$2'"; }
		sleep 0.1
	done
	echo "  ok: $1 $2"
}

check "the agent serves /metrics; r1 installed and committed"
# healthy while $T/sick does not exist
"$BM" --repo "$R" agent $ARGS --metrics-listen "127.0.0.1:$MP" --health-cmd "test ! -e $T/sick" --health-timeout 2s \
	--bake 0s --poll 200ms 2>"$T/agent.log" &
AP=$!
trap 'kill $AP 2>/dev/null || true; rm -rf "$T"' EXIT
wait_metric 'bootmeta_agent_release_info{installed="r1",committed="r1"}' 1
wait_metric 'bootmeta_agent_state{state="healthy"}' 1
curl -fsS -D "$T/h" -o "$T/page" "$M"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/h" || fail "content type: $(cat "$T/h")"
grep -q '^bootmeta_agent_info{project="app",channel="stable",env="prod",id="m1",version="' "$T/page" || fail "info: $(cat "$T/page")"
grep -q '^# TYPE bootmeta_agent_downloads_total counter' "$T/page" || fail "TYPE lines"
eq "downloads ok" "$(metric 'bootmeta_agent_downloads_total{result="ok"}')" 1
eq "downloads failed" "$(metric 'bootmeta_agent_downloads_total{result="failed"}')" 0
B1=$(wc -c <"$T/art/r1/app" | tr -d ' ')
eq "bytes downloaded" "$(metric bootmeta_agent_download_bytes_total)" "$B1"
eq "reports sent (downloading, installed, healthy)" "$(metric 'bootmeta_agent_reports_total{result="sent"}')" 3
eq "channel seq" "$(metric bootmeta_agent_channel_seq)" 1
rounds1=$(metric bootmeta_agent_rounds_total)
read1=$(metric bootmeta_agent_last_meta_read_timestamp_seconds)
age=$(metric bootmeta_agent_meta_age_seconds)
python3 -c "import sys,time; r=float('$read1'); a=float('$age'); sys.exit(0 if abs(time.time()-r) < 30 and 0 <= a < 30 else 1)" ||
	fail "last read $read1 / age $age"
sleep 0.5
[ "$(metric bootmeta_agent_rounds_total)" -gt "$rounds1" ] || fail "rounds do not move"
echo "  ok: rounds move, last read $read1, age $age s"

check "a promotion: the values change (r2 committed, a second download, its bytes)"
bm channel promote app stable r2 >/dev/null
wait_metric 'bootmeta_agent_release_info{installed="r2",committed="r2"}' 1
eq "downloads ok" "$(metric 'bootmeta_agent_downloads_total{result="ok"}')" 2
B2=$(wc -c <"$T/art/r2/app" | tr -d ' ')
eq "bytes downloaded" "$(metric bootmeta_agent_download_bytes_total)" $((B1 + B2))
eq "channel seq" "$(metric bootmeta_agent_channel_seq)" 2
eq "reports sent" "$(metric 'bootmeta_agent_reports_total{result="sent"}')" 6

check "a release that fails its health gate: a rollback is counted, the state says rolled-back"
touch "$T/sick"
bm channel promote app stable r3 >/dev/null
wait_metric bootmeta_agent_rollbacks_total 1
wait_metric 'bootmeta_agent_state{state="rolled-back"}' 1
eq "installed is back on r2" "$(metric 'bootmeta_agent_release_info{installed="r2",committed="r2"}')" 1
rm -f "$T/sick"

check "bad requests get their status; the page is only GET/HEAD /metrics"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
eq "another path" "$(code "http://127.0.0.1:$MP/nope")" 404
eq "POST" "$(code -X POST "$M")" 405
eq "HEAD" "$(code -I "$M")" 200
eq "a query is ignored" "$(code "$M?x=1")" 200
eq "HTTP/2 prior knowledge is not HTTP/1.x" "$(code --http2-prior-knowledge "$M" || true)" 000
long=$(python3 -c 'print("a" * 5000)')
st=$(code "http://127.0.0.1:$MP/$long")
[ "$st" = 414 ] || [ "$st" = 431 ] || fail "a 5000-byte path: $st"
echo "  ok: a 5000-byte path: $st"
python3 - "$MP" <<'PY' || fail "raw requests"
import socket, sys
port = int(sys.argv[1])
def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    return got.split(b"\r\n", 1)[0]
assert ask(b"GET /metrics HTTP/2.0\r\n\r\n") == b"HTTP/1.1 505 HTTP Version Not Supported", ask(b"GET /metrics HTTP/2.0\r\n\r\n")
assert ask(b"get /metrics HTTP/1.1\r\n\r\n") == b"HTTP/1.1 400 Bad Request"
assert ask(b"GET metrics HTTP/1.1\r\n\r\n") == b"HTTP/1.1 400 Bad Request"
assert ask(b"GET /metrics HTTP/1.1\r\n" + b"X: " + b"y" * 5000 + b"\r\n\r\n") == b"HTTP/1.1 431 Request Header Fields Too Large"
assert ask(b"\x00\x01\x02 \r\n\r\n") == b"HTTP/1.1 400 Bad Request"
PY
echo "  ok: 505, 400 (lower-case method, no slash, binary), 431"

check "a client that sends nothing holds the endpoint at most about 1 s"
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(4)
' "$MP" &
SP=$!
sleep 0.3
t0=$(date +%s%N)
curl -fsS --max-time 4 -o /dev/null "$M" || fail "the endpoint is held by an idle client"
t1=$(date +%s%N)
echo "  ok: answered in $(( (t1 - t0) / 1000000 )) ms while an idle client was connected"
kill $SP 2>/dev/null || true

check "the agent maps no libcurl, libmicrohttpd or nats.c"
grep -E 'libcurl|libmicrohttpd|libnats' "/proc/$AP/maps" && fail "the agent maps them"
echo "  ok: /proc/$AP/maps"

check "SIGTERM: the agent and its listener stop, exit 0"
kill -TERM $AP
wait $AP || fail "agent did not exit 0 on SIGTERM"
code "$M" >/dev/null && [ "$(code "$M")" != 000 ] && fail "the listener still answers"
echo "  ok"
trap 'rm -rf "$T"' EXIT
echo "t_agent_metrics: PASS"
