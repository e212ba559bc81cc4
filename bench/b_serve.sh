#!/bin/sh
# bootmeta serve next to etcd 3.4 (Debian etcd-server, one member, its JSON gateway), in the
# same run, on 127.0.0.1, with the same load tools for both: wrk with bench/serve_wrk.lua
# for rates and latencies, bench/serve_watch.py for change-to-watcher latency. Each pair
# runs serve then etcd, back to back, so machine load falls on both alike.
#   write, 1 client:    serve promote       vs etcd put        (target: rate >= etcd's)
#   write, 64 clients:  promote to 64 channels, and to 1 channel, vs put to 64 keys (>= 2x)
#   read, 1 client:     GET channel         vs range (linearizable, etcd's default) (p50 <= etcd's)
#   read, 64 clients:   GET of 64 channels  vs range of 64 keys (>= 2x)
#   watch:              promote -> SSE event vs put -> /v3/watch event (p50, p99 <= etcd's)
#   memory:             VmRSS (highest sampled) and VmHWM under the 64-client writes
# Both durable: serve answers a write once its commit is fsynced, etcd once its WAL is.
# BM_BENCH_SERVE_SECONDS (5) per wrk run; BM_BENCH_SERVE_WATCH (300) changes per system.
# BM_BENCH_SERVE_FS: where both keep their data: "host" (a folder under /tmp, whatever file
# system that is) or "ext4" (a fresh ext4 with a journal on a loop device, as most servers
# have; needs root). Unset: both, one after the other ("ext4" only as root).
set -eu
if [ -z "${BM_BENCH_SERVE_FS:-}" ]; then
	for fs in host ext4; do
		if [ "$fs" = ext4 ] && [ "$(id -u)" != 0 ]; then
			echo "b_serve: the run on a journaled ext4 needs root (a loop mount); not run"
			continue
		fi
		echo "-- data on: $fs"
		BM_BENCH_SERVE_FS=$fs sh "$0" || exit 1
	done
	exit 0
fi
: "${BM_BUILDDIR:?}" "${BM_SRCDIR:?}" "${BOOTMETA:?}"
D=${BM_BENCH_SERVE_SECONDS:-5}
NW=${BM_BENCH_SERVE_WATCH:-300}
B=$BM_SRCDIR/bench
for tool in etcd wrk python3 curl; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "b_serve: $tool is missing (sh scripts/deps.sh bench installs etcd-server and wrk)" >&2
		exit 1
	}
done
[ -x "$BM_BUILDDIR/bootmeta-live" ] || { echo "b_serve: no $BM_BUILDDIR/bootmeta-live" >&2; exit 1; }
T=$(mktemp -d /tmp/bm-bench-serve-XXXXXX)
SPID="" EPID="" MPID="" MNT=""
cleanup() {
	for p in $MPID $SPID $EPID; do kill "$p" 2>/dev/null || true; done
	for p in $SPID $EPID; do wait "$p" 2>/dev/null || true; done
	[ -z "$MNT" ] || umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
# DATA: the folder both servers keep their data in
case $BM_BENCH_SERVE_FS in
host) DATA=$T ;;
ext4)
	truncate -s 2G "$T/ext4.img"
	mkfs.ext4 -q -F -O has_journal "$T/ext4.img" || { echo "b_serve: mkfs.ext4 failed" >&2; exit 1; }
	mkdir "$T/fs"
	mount -o loop "$T/ext4.img" "$T/fs" || { echo "b_serve: cannot mount a loop device (root?)" >&2; exit 1; }
	MNT=$T/fs DATA=$T/fs
	;;
*) echo "b_serve: BM_BENCH_SERVE_FS is host or ext4, not $BM_BENCH_SERVE_FS" >&2; exit 1 ;;
esac
trap 'exit 1' INT TERM
export BOOTMETA_ACTOR="bench <bench@example.com>"
t_last=$(date +%s)
: >"$T/phases"
phase() { t=$(date +%s); echo "$1 $((t - t_last)) s" >>"$T/phases"; t_last=$t; }
unset BOOTMETA_REPO BOOTMETA_ENV || true

# two free ports for etcd (client, peer)
set -- $(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
EP=$1 PP=$2
E=http://127.0.0.1:$EP

# the meta repo: a project, a release, channel c0..c63 and "watch" promoted once
C=1111111111111111111111111111111111111111
R=$DATA/meta.git
"$BOOTMETA" init "$R" >/dev/null
"$BOOTMETA" --repo "$R" project add bench/app --source https://example.com/bench/app.git >/dev/null 2>&1
"$BOOTMETA" --repo "$R" release add bench/app --source "https://example.com/bench/app.git@$C" --version 1.0 >/dev/null 2>&1
"$BOOTMETA" --repo "$R" channel promote bench/app c0 "$C" >/dev/null 2>&1
phase "repo"

etcd --name bench --data-dir "$DATA/etcd" --listen-client-urls "$E" --advertise-client-urls "$E" \
	--listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
	--initial-cluster "bench=http://127.0.0.1:$PP" --logger zap --log-level warn 2>"$T/etcd.log" &
EPID=$!
"$BOOTMETA" --repo "$R" serve --listen 127.0.0.1:0 --ready-file "$T/url" --open-writes 2>"$T/serve.log" &
SPID=$!
i=0
until [ -s "$T/url" ] && curl -sf -o /dev/null -X POST -d '{"key":"YQ=="}' "$E/v3/kv/range"; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$SPID" 2>/dev/null || ! kill -0 "$EPID" 2>/dev/null; then
		echo "b_serve: serve or etcd did not start in 30 s" >&2
		tail -5 "$T/serve.log" "$T/etcd.log" >&2
		exit 1
	fi
	sleep 0.05
done
S=$(cat "$T/url")
phase "start"
# every channel and key the reads and writes use exists
# (all at once: serve commits them in a few batches)
v=$(printf '{"release":"%s"}' "$C" | base64 -w0)
i=0 pids=""
while [ $i -lt 64 ]; do
	curl -sf -o /dev/null -X POST --data-binary "{\"release\":\"$C\"}" "$S/v1/projects/bench/app/channels/c$i/promote" &
	pids="$pids $!"
	k=$(printf 'bench/c%s' "$i" | base64)
	curl -sf -o /dev/null -X POST --data-binary "{\"key\":\"$k\",\"value\":\"$v\"}" "$E/v3/kv/put" &
	pids="$pids $!"
	i=$((i + 1))
done
curl -sf -o /dev/null -X POST --data-binary "{\"release\":\"$C\"}" "$S/v1/projects/bench/app/channels/watch/promote" &
pids="$pids $!"
for p in $pids; do wait "$p" || { echo "b_serve: a set-up write failed" >&2; exit 1; }; done
# wrk reads what the key is, so one check that the keys are what curl wrote
curl -sf -X POST -d "{\"key\":\"$(printf bench/c5 | base64)\"}" "$E/v3/kv/range" | grep -q '"count":"1"' ||
	{ echo "b_serve: etcd range of bench/c5 found nothing" >&2; exit 1; }

HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run NAME PID URL CONNS THREADS MODE N: one wrk run against the server PID;
# "NAME rate p50_us p99_us cpu_us_per_request" into $T/res
run() {
	name=$1 pid=$2 url=$3 conns=$4 threads=$5 mode=$6 n=$7
	c0=$(cpu "$pid")
	wrk -t"$threads" -c"$conns" -d"${D}s" --latency -s "$B/serve_wrk.lua" "$url" -- "$mode" "$n" "$C" "$threads" >"$T/wrk.$name" 2>&1 || {
		cat "$T/wrk.$name" >&2
		exit 1
	}
	c1=$(cpu "$pid")
	if grep -q -e "Non-2xx" -e "Socket errors" "$T/wrk.$name"; then
		echo "b_serve: $name: errors:" >&2
		cat "$T/wrk.$name" >&2
		exit 1
	fi
	awk -v name="$name" -v ticks=$((c1 - c0)) -v hz="$HZ" '
		function us(v) {
			if (v ~ /us$/) return v + 0
			if (v ~ /ms$/) return (v + 0) * 1000
			if (v ~ /s$/) return (v + 0) * 1000000
			return v + 0
		}
		$1 == "50%" { p50 = us($2) }
		$1 == "99%" { p99 = us($2) }
		$1 == "Requests/sec:" { rate = $2 }
		$2 == "requests" && $3 == "in" { nreq = $1 }
		END { printf "%s %.0f %.0f %.0f %.0f\n", name, rate, p50, p99, nreq ? ticks * 1000000 / hz / nreq : 0 }' "$T/wrk.$name" >>"$T/res"
	echo "load $name $(cut -d' ' -f1 /proc/loadavg)" >>"$T/load"
}

# memory PID NAME: samples VmRSS every 0.2 s until stopped; "NAME max_VmRSS VmHWM" (KiB) into $T/mem
sampler() {
	pid=$1 out=$2 max=0
	while :; do
		r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ "${r:-0}" -gt "$max" ] && max=$r && echo "$max" >"$out.new" && mv "$out.new" "$out"
		sleep 0.2
	done
}
mem_start() { sampler "$1" "$T/rss.$2" & MPID=$!; }
mem_stop() {
	kill "$MPID" 2>/dev/null || true
	wait "$MPID" 2>/dev/null || true
	MPID=""
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status")
	rss=$(cat "$T/rss.$2" 2>/dev/null || true)
	echo "$2 ${rss:-0} ${hwm:-0}" >>"$T/mem"
}

: >"$T/res"
: >"$T/mem"
: >"$T/load"
phase "setup"
run serve_w1 "$SPID" "$S" 1 1 promote 1
run etcd_w1 "$EPID" "$E" 1 1 put 1
mem_start "$SPID" serve
run serve_w64 "$SPID" "$S" 64 2 promote 64
mem_stop "$SPID" serve
mem_start "$EPID" etcd
run etcd_w64 "$EPID" "$E" 64 2 put 64
mem_stop "$EPID" etcd
run serve_w64one "$SPID" "$S" 64 2 promote 1
run serve_r1 "$SPID" "$S" 1 1 get 1
run etcd_r1 "$EPID" "$E" 1 1 range 1
run serve_r64 "$SPID" "$S" 64 2 get 64
run etcd_r64 "$EPID" "$E" 64 2 range 64
phase "wrk runs"
python3 "$B/serve_watch.py" "$S" "$E" "$C" "$NW" >"$T/watch"
phase "watch"

commits=$(git --git-dir="$R" rev-list --count main)
batches=$(curl -sf "$S/metrics" | awk '$1 == "bootmeta_batch_size_count" {print $2}')
writes=$(curl -sf "$S/metrics" | awk '$1 == "bootmeta_writes_total{result=\"committed\"}" {print $2}')
kill -TERM "$SPID"
wait "$SPID" || { echo "b_serve: serve did not stop cleanly" >&2; tail -5 "$T/serve.log" >&2; exit 1; }
SPID=""
git --git-dir="$R" fsck --strict >/dev/null 2>&1 || { echo "b_serve: git fsck --strict failed after the run" >&2; exit 1; }
phase "stop+fsck"

echo "data: $(stat -f -c %T "$DATA") on $(df --output=source "$DATA" | tail -1)$([ -n "$MNT" ] && echo ", journaled (mkfs.ext4 default)")"
echo "versions: $("$BOOTMETA" --version | head -1); $(etcd --version | head -1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "machine: $(nproc) cores; load average (1 min) at the end of each run: $(awk '{printf "%s %s, ", $2, $3}' "$T/load" | sed 's/, $//')"
awk -v writes="$writes" -v batches="$batches" -v commits="$commits" '
	FILENAME ~ /res$/ { rate[$1] = $2; p50[$1] = $3; p99[$1] = $4; cpu[$1] = $5; next }
	FILENAME ~ /mem$/ { rss[$1] = $2; hwm[$1] = $3; next }
	FILENAME ~ /watch$/ {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); w[$2, kv[1]] = kv[2] }
		n = substr($3, 3); next
	}
	function line(what, a, b, target, ok) {
		printf "%-44s serve %9s   etcd %9s   %s  %s\n", what, a, b, target, ok ? "met" : "MISSED"
	}
	END {
		line("write 1 client, /s (p50 us)", sprintf("%d (%d)", rate["serve_w1"], p50["serve_w1"]),
		     sprintf("%d (%d)", rate["etcd_w1"], p50["etcd_w1"]),
		     sprintf("ratio %.2fx (target >= 1x)", rate["serve_w1"] / rate["etcd_w1"]), rate["serve_w1"] >= rate["etcd_w1"])
		line("write 64 clients, 64 channels/keys, /s", rate["serve_w64"], rate["etcd_w64"],
		     sprintf("ratio %.2fx (target >= 2x)", rate["serve_w64"] / rate["etcd_w64"]), rate["serve_w64"] >= 2 * rate["etcd_w64"])
		line("write 64 clients, one channel, /s", rate["serve_w64one"], rate["etcd_w64"],
		     sprintf("ratio %.2fx (target >= 2x)", rate["serve_w64one"] / rate["etcd_w64"]), rate["serve_w64one"] >= 2 * rate["etcd_w64"])
		line("read 1 client, p50 us (/s)", sprintf("%d (%d)", p50["serve_r1"], rate["serve_r1"]),
		     sprintf("%d (%d)", p50["etcd_r1"], rate["etcd_r1"]),
		     sprintf("ratio %.2fx (target <= 1x)", p50["serve_r1"] / p50["etcd_r1"]), p50["serve_r1"] <= p50["etcd_r1"])
		line("read 64 clients, /s", rate["serve_r64"], rate["etcd_r64"],
		     sprintf("ratio %.2fx (target >= 2x)", rate["serve_r64"] / rate["etcd_r64"]), rate["serve_r64"] >= 2 * rate["etcd_r64"])
		line(sprintf("watch p50 us (%d changes each)", n), w["serve", "event_p50_us"], w["etcd", "event_p50_us"],
		     sprintf("ratio %.2fx (target <= 1x)", w["serve", "event_p50_us"] / w["etcd", "event_p50_us"]),
		     w["serve", "event_p50_us"] <= w["etcd", "event_p50_us"])
		line("watch p99 us", w["serve", "event_p99_us"], w["etcd", "event_p99_us"],
		     sprintf("ratio %.2fx (target <= 1x)", w["serve", "event_p99_us"] / w["etcd", "event_p99_us"]),
		     w["serve", "event_p99_us"] <= w["etcd", "event_p99_us"])
		printf "%-44s serve %9s   etcd %9s\n", "memory under 64 writers, VmRSS max MiB", sprintf("%.1f", rss["serve"] / 1024), sprintf("%.1f", rss["etcd"] / 1024)
		printf "%-44s serve %9s   etcd %9s\n", "memory, VmHWM MiB", sprintf("%.1f", hwm["serve"] / 1024), sprintf("%.1f", hwm["etcd"] / 1024)
		printf "also: write p99 us: 1 client serve %d etcd %d; 64 clients serve %d (one channel %d) etcd %d\n",
			p99["serve_w1"], p99["etcd_w1"], p99["serve_w64"], p99["serve_w64one"], p99["etcd_w64"]
		printf "also: p50 us at 64 clients: write serve %d (one channel %d) etcd %d; read serve %d etcd %d\n",
			p50["serve_w64"], p50["serve_w64one"], p50["etcd_w64"], p50["serve_r64"], p50["etcd_r64"]
		printf "also: the watch writers own answer p50/p99 us: serve %s/%s, etcd %s/%s\n",
			w["serve", "ack_p50_us"], w["serve", "ack_p99_us"], w["etcd", "ack_p50_us"], w["etcd", "ack_p99_us"]
		printf "also: server CPU (user+sys) per request, us: write 1 client serve %d etcd %d; 64 clients serve %d (one channel %d) etcd %d; read 1 client serve %d etcd %d; 64 clients serve %d etcd %d\n",
			cpu["serve_w1"], cpu["etcd_w1"], cpu["serve_w64"], cpu["serve_w64one"], cpu["etcd_w64"],
			cpu["serve_r1"], cpu["etcd_r1"], cpu["serve_r64"], cpu["etcd_r64"]
		printf "also: serve committed %s writes in %s batches (%.1f per commit); main has %s commits\n",
			writes, batches, batches ? writes / batches : 0, commits
	}' "$T/res" "$T/mem" "$T/watch"
echo "time: $(tr '\n' ',' <"$T/phases" | sed 's/,$//; s/,/, /g')"
