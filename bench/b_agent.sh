#!/bin/sh
# bootmeta agent: promote to 20 agents (real processes on 127.0.0.1, each with its own
# install dir and a toy app with a health URL, following a release-build serve by long poll)
# until all 20 report healthy. Time from the promotion's entry (its timeMs) to the last
# healthy report (its timeMs: both clocks are serve's), p50 and max over several promotions;
# target: under 2 s plus the bake. And each agent's resident memory while idle (target:
# under 10 MiB), then one agent's memory idle and while it downloads a 100 MiB binary over
# loopback HTTP (the agent, and its short-lived `bootmeta-live agent-io`, sampled every
# 10 ms). BM_BENCH_AGENT_BEFORE=DIR (a folder with an older bootmeta and bootmeta-live, e.g.
# a build of main before bootmeta-agent) measures that one too, in the same run, against the
# same serve. BM_BENCH_AGENTS (20), BM_BENCH_AGENT_ROUNDS (5), BM_BENCH_AGENT_BAKE (1s).
set -eu
: "${BM_BUILDDIR:?}" "${BM_SRCDIR:?}" "${BOOTMETA:?}"
N=${BM_BENCH_AGENTS:-20}
K=${BM_BENCH_AGENT_ROUNDS:-5}
BAKE=${BM_BENCH_AGENT_BAKE:-1s}
[ -x "$BM_BUILDDIR/bench_app" ] || { echo "b_agent: no $BM_BUILDDIR/bench_app" >&2; exit 1; }
T=$(mktemp -d /tmp/bm-bench-agent-XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export BOOTMETA_ACTOR="bench <bench@example.com>" BOOTMETA_REPO="$T/meta"
BM=$BOOTMETA
q() { "$BM" --quiet "$@"; }
"$BM" init "$T/meta" >/dev/null
git init -q "$T/src" && git -C "$T/src" commit -q --allow-empty -m one
C=$(git -C "$T/src" rev-parse HEAD)
q project add app >/dev/null
q env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null 2>&1
q key trust "$T/rel.pub" >/dev/null
tail -n 1 "$T/rel.pub" >"$T/pinned"
mkdir -p "$T/art"
i=0
while [ $i -le "$K" ]; do
	cp "$BM_BUILDDIR/bench_app" "$T/art/app-r$i"
	printf 'r%s\n' $i >>"$T/art/app-r$i"   # a byte of its own: another sha256 per release
	q release add app --source "file://$T/src@$C" --id "r$i" >/dev/null
	q binary add app "r$i" "$T/art/app-r$i" --os linux --arch amd64 --url "file://$T/art/app-r$i" --sign "$T/rel.key" >/dev/null
	i=$((i + 1))
done
q channel promote app stable r0 >/dev/null
"$BM" serve token add agents --scope 'report:prod' --tokens "$T/tokens" >"$T/token"
"$BM" serve --listen 127.0.0.1:0 --ready-file "$T/url" --tokens "$T/tokens" 2>"$T/serve.log" &
PIDS="$!"
while [ ! -s "$T/url" ]; do sleep 0.05; done
URL=$(cat "$T/url")
# N free ports at once (base+i could be taken, by serve's own port say: that agent's app
# would never answer, and the bench would wait for it)
ports=$(python3 -c 'import socket,sys; ss=[socket.socket() for _ in range(int(sys.argv[1]))]; [s.bind(("127.0.0.1",0)) for s in ss]; print(" ".join(str(s.getsockname()[1]) for s in ss))' "$N")
i=1
while [ $i -le "$N" ]; do
	port=$(echo "$ports" | cut -d' ' -f"$i")
	"$BM" agent --project app --channel stable --env prod --id "a$i" --install-dir "$T/h$i" --trusted-keys "$T/pinned" \
		--server "$URL" --token-file "$T/token" --exec "./app-r* $port" --health-url "http://127.0.0.1:$port/" \
		--bake "$BAKE" --poll 60s --os linux --arch amd64 2>"$T/agent$i.log" &
	PIDS="$PIDS $!"
	echo $! >>"$T/agent.pids"
	i=$((i + 1))
done
# all_healthy RELEASE: until every agent's newest report is healthy RELEASE; prints the
# latest report time (ms)
all_healthy() {
	python3 - "$BM" "$1" "$N" <<'PY'
import json, subprocess, sys, time
bm, rel, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
end = time.time() + 120
while time.time() < end:
    out = subprocess.run([bm, "--json", "instances", "prod", "--project", "app"], capture_output=True, text=True).stdout
    d = json.loads(out or "[]")
    ok = [x for x in d if x["state"] == "healthy" and x["release"] == rel]
    if len(ok) == n:
        print(max(int(x["timeMs"]) for x in ok)); sys.exit(0)
    time.sleep(0.05)
sys.exit("b_agent: not all %d agents healthy on %s in 120 s; not: %s" % (n, rel, " ".join(
    "%s=%s:%s" % (x["instance"], x["state"], x["release"]) for x in d if x not in ok) or "(no report)"))
PY
}
all_healthy r0 >/dev/null
sleep 1
rss=$(for p in $(cat "$T/agent.pids"); do awk '/^VmRSS/ {print $2}' "/proc/$p/status"; done | sort -n)
anon=$(for p in $(cat "$T/agent.pids"); do awk '/^RssAnon/ {print $2}' "/proc/$p/status"; done | sort -n)
: >"$T/times"
k=1
while [ $k -le "$K" ]; do
	t0=$("$BM" --json channel promote app stable "r$k" | python3 -c 'import json,sys; print(json.load(sys.stdin)["timeMs"])')
	t1=$(all_healthy "r$k")
	echo $((t1 - t0)) >>"$T/times"
	k=$((k + 1))
done
sort -n "$T/times" >"$T/sorted"
p50=$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' "$T/sorted")
max=$(tail -n 1 "$T/sorted")
bake_ms=$(python3 -c "import sys; s='$BAKE'; print(int(float(s[:-2])) if s.endswith('ms') else int(float(s.rstrip('s'))*1000))")
echo "promote to $N agents, all healthy: p50 $p50 ms, max $max ms over $K promotions (bake $bake_ms ms; target < $((2000 + bake_ms)) ms); all: $(tr '\n' ' ' <"$T/sorted")"
echo "$N agents' VmRSS idle (KiB): min $(echo "$rss" | head -n 1), median $(echo "$rss" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'), max $(echo "$rss" | tail -n 1) (target < 10240); of it private (RssAnon): median $(echo "$anon" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'), max $(echo "$anon" | tail -n 1); the rest is pages of shared libraries, shared by all agents"

# ---- one agent's memory: idle, and while downloading 100 MiB, for each build measured ----
q project add big >/dev/null
head -c 1024 /dev/urandom >"$T/art/big-b0"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$T/art/big-b1"
mkdir -p "$T/www"
for r in b0 b1; do
	ln -s "$T/art/big-$r" "$T/www/big-$r"
	q release add big --source "file://$T/src@$C" --id "$r" >/dev/null
done
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$hport" >/dev/null 2>&1 &
PIDS="$PIDS $!"
for r in b0 b1; do
	q binary add big "$r" "$T/art/big-$r" --os linux --arch amd64 --url "http://127.0.0.1:$hport/big-$r" --sign "$T/rel.key" >/dev/null
done
# mem_probe LABEL BOOTMETA: an agent of project big installs b0 and idles (VmRSS, RssAnon,
# RssFile after 3 s), then b1 (100 MiB) is promoted: the peak VmRSS of the agent, of its
# helper processes, and of both together while it downloads and installs; EXTRA: more agent
# options (--metrics-listen); URL: another serve (https)
mem_probe() {
	label=$1 bm=$2 extra=${3:-} murl=${4:-$URL}
	k=$(printf %s "$1" | tr -c "a-z0-9" "-")
	"$BM" --quiet channel promote big "s-$k" b0 >/dev/null
	"$bm" agent --project big --channel "s-$k" --env prod --id "m-$k" --install-dir "$T/m-$k" --trusted-keys "$T/pinned" \
		--server "$murl" --token-file "$T/token" --bake 0s --poll 60s --os linux --arch amd64 $extra 2>"$T/m-$k.log" &
	mp=$!
	PIDS="$PIDS $mp"
	i=0
	until [ -f "$T/m-$k/releases/b0/big-b0" ]; do i=$((i + 1)); [ $i -le 600 ] || { cat "$T/m-$k.log" >&2; exit 1; }; sleep 0.05; done
	sleep 3
	[ -z "$extra" ] || curl -fsS -o /dev/null "http://$mport/metrics" # one scrape first
	idle=$(awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s %s KiB, ", $1, $2}' "/proc/$mp/status")
	"$BM" --quiet channel promote big "s-$k" b1 >/dev/null
	dl=$(python3 - "$mp" "$T/m-$k/releases/b1/big-b1" <<'PY'
import os, sys, time
pid, done = int(sys.argv[1]), sys.argv[2]
def rss(p):
    try:
        for l in open("/proc/%d/status" % p):
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
    except OSError:
        pass
    return 0
def kids(p):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % p):
            out += [int(x) for x in open("/proc/%d/task/%s/children" % (p, t)).read().split()]
    except OSError:
        pass
    return out + [g for k in out for g in kids(k)]
pa = ph = pt = 0
end = time.time() + 300
while time.time() < end and not os.path.exists(done):
    a = rss(pid)
    h = sum(rss(k) for k in kids(pid))
    pa, ph, pt = max(pa, a), max(ph, h), max(pt, a + h)
    time.sleep(0.01)
if not os.path.exists(done):
    sys.exit("b_agent: b1 was not installed in 300 s")
print("agent %d KiB, helper %d KiB, both %d KiB" % (pa, ph, pt))
PY
)
	echo "agent memory [$label]: idle ${idle%, }; downloading 100 MiB (peak): $dl"
}
mem_probe now "$BM"
mport=127.0.0.1:$((hport + 1))
mem_probe now+metrics "$BM" "--metrics-listen $mport"
[ -z "${BM_BENCH_AGENT_BEFORE:-}" ] || mem_probe before "$BM_BENCH_AGENT_BEFORE/bootmeta"
# the same over https:// (a second serve with a certificate for localhost): the agent's own
# TLS for serve's answers and the long poll; the download is http:// as above
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$T/tls.key" -out "$T/tls.pem" 2>/dev/null
"$BM" serve --listen 127.0.0.1:0 --ready-file "$T/turl" --tokens "$T/tokens" --tls-cert "$T/tls.pem" \
	--tls-key "$T/tls.key" 2>"$T/serve-tls.log" &
PIDS="$PIDS $!"
while [ ! -s "$T/turl" ]; do sleep 0.05; done
export SSL_CERT_FILE="$T/tls.pem"
mem_probe https "$BM" "" "$(sed 's|^https://127.0.0.1:|https://localhost:|' "$T/turl")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
