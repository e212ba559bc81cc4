#!/bin/sh
# Fetch + verify of a 100 MiB binary over loopback HTTP (nginx serving a folder):
# `bootmeta fetch SHA256 -o FILE --trusted-keys pinned` (download, size, sha256, signature
# by a pinned key, fsync, rename) next to `curl -o` + `sha256sum` + `minisign -V` of the
# same file from the same server in the same run. Best of BENCH_RUNS (default 5) each,
# alternating, page cache warm for both. Env: BOOTMETA (release build), BM_SRCDIR;
# BENCH_MIB (default 100).
set -eu
: "${BOOTMETA:?}" "${BM_SRCDIR:?}"
PATH="$PATH:/usr/sbin:/sbin"
for t in nginx curl sha256sum minisign python3; do
	command -v "$t" >/dev/null || { echo "b_fetch: needs $t (scripts/deps.sh)" >&2; exit 1; }
done
mib=${BENCH_MIB:-100}
runs=${BENCH_RUNS:-5}
work=$(mktemp -d /tmp/bm-bench-fetch-XXXXXX)
ngx=""
trap '[ -n "$ngx" ] && kill "$ngx" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export BOOTMETA_ACTOR="Bench <bench@example.com>" HOME="$work/home" BOOTMETA_REPO="$work/meta"
mkdir -p home www tmp
git init -q src && echo x >src/x && git -C src add x && git -C src -c user.name=b -c user.email=b@e commit -qm x
REL=$(git -C src rev-parse HEAD)
"$BOOTMETA" -q init meta >/dev/null
"$BOOTMETA" -q project add bench/app --source "file://$work/src" >/dev/null
"$BOOTMETA" -q release add bench/app --source "file://$work/src@$REL" --version 1 >/dev/null
"$BOOTMETA" -q key gen --sign -o k --no-password >/dev/null 2>&1
"$BOOTMETA" -q key trust k.pub >/dev/null
tail -n 1 k.pub >pinned && chmod 600 pinned
head -c $((mib * 1048576)) /dev/urandom >app
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >nginx.conf <<EOF
daemon off;
master_process off;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $work/tmp/body;
	proxy_temp_path $work/tmp/proxy;
	fastcgi_temp_path $work/tmp/fastcgi;
	uwsgi_temp_path $work/tmp/uwsgi;
	scgi_temp_path $work/tmp/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$port;
		root $work/www;
		location / { dav_methods PUT; create_full_put_path on; }
	}
}
EOF
timeout 900 nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log" &
ngx=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do i=$((i + 1)); [ $i -lt 100 ] || { cat error.log; exit 1; }; sleep 0.05; done
"$BOOTMETA" -q binary add bench/app "$REL" app --os linux --arch amd64 --sign k.key --upload "http://127.0.0.1:$port/a" >/dev/null
SHA=$(sha256sum app | cut -c1-64)
URL=http://127.0.0.1:$port/a/bench/app/$SHA/app
"$BOOTMETA" --json binary show "$SHA" | python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["signature"])' >app.minisig
now() { date +%s.%N; }
ours=999 peer=999 peers=999
i=0
while [ $i -lt "$runs" ]; do
	rm -f got-ours got-peer
	t0=$(now)
	"$BOOTMETA" -q fetch "$SHA" -o got-ours --trusted-keys pinned >/dev/null
	t1=$(now)
	curl -sf -o got-peer "$URL" && [ "$(sha256sum got-peer | cut -c1-64)" = "$SHA" ] && minisign -Vq -m got-peer -x app.minisig -p k.pub
	t2=$(now)
	rm -f got-peer
	curl -sf -o got-peer "$URL" && [ "$(sha256sum got-peer | cut -c1-64)" = "$SHA" ] && minisign -Vq -m got-peer -x app.minisig -p k.pub &&
		sync got-peer
	t3=$(now)
	cmp -s app got-ours || { echo "b_fetch: fetched file differs" >&2; exit 1; }
	ours=$(awk -v a="$t0" -v b="$t1" -v m="$ours" 'BEGIN { d = b - a; print (d < m ? d : m) }')
	peer=$(awk -v a="$t1" -v b="$t2" -v m="$peer" 'BEGIN { d = b - a; print (d < m ? d : m) }')
	peers=$(awk -v a="$t2" -v b="$t3" -v m="$peers" 'BEGIN { d = b - a; print (d < m ? d : m) }')
	i=$((i + 1))
done
echo "fetch + verify of $mib MiB over loopback HTTP (nginx), best of $runs, load $(cut -d' ' -f1-3 /proc/loadavg):"
awk -v s="$ours" -v m="$mib" 'BEGIN { printf "  bootmeta fetch (download, sha256, signature, fsync, rename): %.3f s (%.0f MiB/s)\n", s, m / s }'
awk -v s="$peer" -v m="$mib" 'BEGIN { printf "  curl -o + sha256sum + minisign -V:                         %.3f s (%.0f MiB/s)\n", s, m / s }'
awk -v s="$peers" -v m="$mib" 'BEGIN { printf "  ... + sync FILE (durable, as bootmeta fetch is):            %.3f s (%.0f MiB/s)\n", s, m / s }'
awk -v a="$ours" -v b="$peer" -v c="$peers" 'BEGIN { printf "  ratio peer/bootmeta: %.2f without the peer'"'"'s fsync, %.2f with it (above 1: bootmeta is faster)\n", b / a, c / a }'
