#!/bin/sh
# Artifacts on real servers on 127.0.0.1: `binary add --upload` and `binary upload` to a
# folder (file://), to nginx's dav module (HTTP PUT) and to s3rver (S3, npm), with right and
# wrong credentials; an object already there with the same bytes is fine, with other bytes
# refused and left as it was. `bootmeta fetch` from each, then against servers that
# misbehave on purpose (tests/e2e/artifact_server.py): a connection cut midway (resumed
# with Range), more bytes than the record's size, a byte a second (the deadline), other
# bytes of the right size; an unsigned binary and one signed by a key that is not pinned;
# the first URL down (the second is used); the server down, then back within the retries.
# After every refused fetch, nothing is at -o.
. "$(dirname "$0")/lib_core.sh"
. "$(dirname "$0")/lib_gitsrv.sh"
: "${BM_SRCDIR:?set BM_SRCDIR}"
S3RVER=$BM_SRCDIR/build/npm/node_modules/.bin/s3rver
for t in jq nginx node python3 sha256sum curl; do
	command -v "$t" >/dev/null 2>&1 || fail "needs $t (scripts/deps.sh installs it)"
done
[ -x "$S3RVER" ] || fail "needs s3rver in $BM_SRCDIR/build/npm (scripts/deps.sh installs it with npm)"
cd "$T"
PIDS=""
stop_all() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	gitsrv_stop
}
trap 'stop_all; rm -rf "$T"' EXIT

expect_ok() {
	"$@" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err" >&2; fail "'$*' failed"; }
}
# expect_fail as lib_core.sh's, showing the error line (after the progress lines)
expect_fail() {
	want=$1 needle=$2
	shift 2
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || { cat "$T/err" >&2; fail "'$*' exited $got, want $want"; }
	grep -qF -- "$needle" "$T/err" || { cat "$T/err" >&2; fail "'$*': stderr does not say \"$needle\""; }
	echo "  ok: $(grep -m1 '^bootmeta: ' "$T/err" | head -c 400)"
}
sha() { sha256sum "$1" | cut -c1-64; }
absent() { [ ! -e "$1" ] || fail "$1 exists after a refused fetch"; }

# a meta repo, a release, a trusted signing key pinned in a keys file
"$BM" init meta >/dev/null
export BOOTMETA_REPO=$T/meta
APP=$(src_repo app)
"$BM" project add demo/app --source "file://$T/app" >/dev/null
"$BM" release add demo/app --source "file://$T/app@$APP" --version 1.0.0 >/dev/null
"$BM" key gen --sign --no-password -o k >/dev/null 2>&1
"$BM" key trust k.pub >/dev/null
tail -n 1 k.pub >pinned && chmod 600 pinned
# bin NAME SIZE_KIB: a file of random bytes
bin() { printf '%s\n' "$1" >"$1"; head -c "$(($2 * 1024))" /dev/urandom >>"$1"; }
add() { "$BM" binary add demo/app "$APP" "$@"; }

check "file://: binary add --upload puts the file at URL/PROJECT/SHA256/NAME and records that URL"
bin a 1024
expect_ok add a --os linux --arch amd64 --sign k.key --upload "file://$T/store/"
OBJ=$T/store/demo/app/$(sha a)/a
cmp a "$OBJ" || fail "the object is not the file"
"$BM" --json binary show "$(sha a)" | jq -r '.urls[]' >urls
[ "$(cat urls)" = "file://$OBJ" ] || fail "recorded URLs: $(cat urls)"
ls -a "$T/store/demo/app/$(sha a)" | grep -q tmp && fail "a temp file is left in the store"
check "file://: the same bytes again are fine; other bytes at that key are refused, nothing overwritten"
expect_ok "$BM" binary upload a --to "file://$T/store"
grep -q "uploaded $(sha a)" "$T/out" || fail "binary upload says: $(cat "$T/out")"
bin a2 16
cp a2 "$T/store/demo/app/$(sha a)/other"
expect_fail 1 "exists with other bytes" "$BM" binary upload a --to "file://$T/store" --name other
cmp a2 "$T/store/demo/app/$(sha a)/other" || fail "the object with other bytes was overwritten"
expect_fail 2 "needs --to" "$BM" binary upload a
expect_fail 1 "scheme" "$BM" binary upload a --to "ftp://example.com/x"
check "fetch SHA256 from file://; fetch PROJECT --channel picks the host's platform"
expect_ok "$BM" fetch "$(sha a)" -o got-a --trusted-keys pinned
cmp a got-a || fail "fetched bytes differ"
grep -q "verified: signed by" "$T/out" || fail "fetch output: $(cat "$T/out")"
"$BM" channel promote demo/app stable "$APP" >/dev/null
expect_ok "$BM" fetch demo/app --channel stable --os linux --arch amd64 -o got-a2
cmp a got-a2 || fail "channel fetch bytes differ"
[ ! -e got-a2.part ] || fail "a .part is left after a fetch"

check "nginx (dav): PUT, the same bytes again, other bytes refused; fetch over HTTP with Range"
mkdir -p ngx/www ngx/tmp
NPORT=$(gitsrv_free_port)
cat >ngx/nginx.conf <<EOF
daemon off;
master_process off;
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log info;
events { worker_connections 64; }
http {
	access_log $T/ngx/access.log;
	client_body_temp_path $T/ngx/tmp/body;
	proxy_temp_path $T/ngx/tmp/proxy;
	fastcgi_temp_path $T/ngx/tmp/fastcgi;
	uwsgi_temp_path $T/ngx/tmp/uwsgi;
	scgi_temp_path $T/ngx/tmp/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$NPORT;
		root $T/ngx/www;
		location / {
			dav_methods PUT;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
		}
	}
}
EOF
timeout 300 nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" -e "$T/ngx/error.log" 2>"$T/ngx/stderr" &
PIDS="$PIDS $!"
gitsrv_wait_port "$NPORT" "$!" "$T/ngx/error.log"
NGX=http://127.0.0.1:$NPORT
bin b 2048
expect_ok add b --os linux --arch arm64 --sign k.key --upload "$NGX/dav"
cmp b "ngx/www/dav/demo/app/$(sha b)/b" || fail "nginx holds other bytes"
expect_ok "$BM" binary upload b --to "$NGX/dav"
cp a2 "ngx/www/dav/demo/app/$(sha b)/taken"
expect_fail 1 "exists with other bytes" "$BM" binary upload b --to "$NGX/dav" --name taken
cmp a2 "ngx/www/dav/demo/app/$(sha b)/taken" || fail "nginx object overwritten"
expect_ok "$BM" --json fetch demo/app --channel stable --os linux --arch arm64 -o got-b --trusted-keys pinned
cmp b got-b || fail "fetched bytes differ (nginx)"
[ "$(jq -r .url "$T/out")" = "$NGX/dav/demo/app/$(sha b)/b" ] || fail "json url: $(cat "$T/out")"
[ "$(jq -r .verified "$T/out")" = true ] || fail "json verified"

check "s3rver behind a SigV4 check: upload and fetch with the right keys; a wrong key or secret is refused with S3's reason"
mkdir s3data
S3PORT=$(gitsrv_free_port)
timeout 300 "$S3RVER" -d "$T/s3data" -a 127.0.0.1 -p "$S3PORT" --silent --configure-bucket artifacts >s3rver.log 2>&1 &
PIDS="$PIDS $!"
gitsrv_wait_port "$S3PORT" "$!" s3rver.log
# s3rver checks the key id of a SigV4 request, not its signature: tests/e2e/s3_sigv4.py
# checks signatures (and the payload's sha256) in front of it, as S3 does
timeout 300 python3 "$BM_SRCDIR/tests/e2e/s3_sigv4.py" sigv4.port "$S3PORT" S3RVER S3RVER >sigv4.log 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s sigv4.port ]; do i=$((i + 1)); [ $i -lt 100 ] || { cat sigv4.log; fail "s3_sigv4.py did not start"; }; sleep 0.05; done
SPORT=$(cat sigv4.port)
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
bin c 1536
expect_ok add c --os darwin --arch arm64 --sign k.key --upload s3://artifacts/releases --s3-endpoint "http://127.0.0.1:$SPORT"
"$BM" --json binary show "$(sha c)" | jq -r '.urls[0]' >urls
[ "$(cat urls)" = "s3://artifacts/releases/demo/app/$(sha c)/c" ] || fail "recorded S3 URL: $(cat urls)"
export BOOTMETA_S3_ENDPOINT=http://127.0.0.1:$SPORT
expect_ok "$BM" binary upload c --to s3://artifacts/releases
curl -sf -o s3obj "http://127.0.0.1:$S3PORT/artifacts/releases/demo/app/$(sha c)/c" || fail "the S3 object is not there"
cmp c s3obj || fail "s3rver holds other bytes"
AWS_ACCESS_KEY_ID=NOT-A-KEY expect_fail 1 "InvalidAccessKeyId" "$BM" binary upload c --to s3://artifacts/other
grep -q "HTTP 403" "$T/err" || fail "the refusal does not name the status: $(cat "$T/err")"
AWS_SECRET_ACCESS_KEY=not-the-secret expect_fail 1 "SignatureDoesNotMatch" "$BM" binary upload c --to s3://artifacts/other
AWS_SECRET_ACCESS_KEY=not-the-secret expect_fail 1 "SignatureDoesNotMatch" "$BM" fetch "$(sha c)" -o got-c --retries 0
absent got-c
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3PORT/artifacts/other/demo/app/$(sha c)/c")" = 404 ] ||
	fail "a refused upload left an object"
curl -s -X PUT --data-binary @a2 "http://127.0.0.1:$S3PORT/artifacts/releases/demo/app/$(sha c)/taken" >/dev/null
expect_fail 1 "exists with other bytes" "$BM" binary upload c --to s3://artifacts/releases --name taken
curl -sf -o s3obj "http://127.0.0.1:$S3PORT/artifacts/releases/demo/app/$(sha c)/taken" && cmp a2 s3obj ||
	fail "the S3 object with other bytes was overwritten"
expect_ok "$BM" fetch "$(sha c)" -o got-c --trusted-keys pinned
cmp c got-c || fail "fetched bytes differ (S3)"
check "--s3-secret ENV/NAME: the S3 keys from an age-encrypted secret in the meta repo, none in the environment"
"$BM" key gen --age >/dev/null 2>&1
"$BM" env add prod >/dev/null
"$BM" recipients add prod --me >/dev/null
printf '# artifact writer\nAWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=S3RVER\nBOOTMETA_S3_ENDPOINT=%s\n' "$BOOTMETA_S3_ENDPOINT" |
	"$BM" secret set demo/app prod s3 >/dev/null
bin c2 64
(
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY BOOTMETA_S3_ENDPOINT
	expect_ok add c2 --os windows --arch amd64 --sign k.key --upload s3://artifacts/releases --s3-secret prod/s3
	expect_ok "$BM" fetch "$(sha c2)" -o got-c2 --s3-secret prod/s3
	cmp c2 got-c2 || fail "fetched bytes differ (S3, keys from the secret)"
	expect_fail 1 "no secret nope" "$BM" fetch "$(sha c2)" -o got-c3 --s3-secret prod/nope
	printf 'AWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=wrong\nBOOTMETA_S3_ENDPOINT=%s\n' "http://127.0.0.1:$SPORT" |
		"$BM" secret set demo/app prod s3bad >/dev/null
	expect_fail 1 "SignatureDoesNotMatch" "$BM" binary upload c2 --to s3://artifacts/x --s3-secret prod/s3bad
)
check "binary upload SHA256 mirrors a recorded binary: fetched from its URLs, checked, put elsewhere"
expect_ok "$BM" binary upload "$(sha c)" --to "file://$T/mirror"
cmp c "$T/mirror/demo/app/$(sha c)/c" || fail "mirror copy differs"
unset BOOTMETA_S3_ENDPOINT

# the misbehaving server
mkdir srv
python3 "$BM_SRCDIR/tests/e2e/artifact_server.py" srv srv.port >srv.log 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s srv.port ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "artifact_server did not start"; sleep 0.05; done
PY=http://127.0.0.1:$(cat srv.port)
# rec NAME OS ARCH URL...: record NAME (signed) with these URLs, served from srv/
rec() {
	n=$1 os=$2 arch=$3
	shift 3
	cp "$n" "srv/$n"
	args=""
	for u in "$@"; do args="$args --url $u"; done
	# shellcheck disable=SC2086
	add "$n" --os "$os" --arch "$arch" --sign k.key $args >/dev/null
}

check "a connection cut midway is resumed with Range; the file is whole"
bin d 4096
rec d linux d1 "$PY/cut/d"
expect_ok "$BM" --json fetch "$(sha d)" -o got-d
cmp d got-d || fail "resumed file differs"
grep -q "^cut d range=bytes=[1-9][0-9]*-\$" srv.log || { cat srv.log; fail "no Range request after the cut"; }
[ "$(jq -r .resumedBytes "$T/out")" -gt 0 ] || fail "json resumedBytes: $(cat "$T/out")"
check "a server that cannot resume: the download starts over from byte 0"
bin d2 512
rec d2 linux d2 "$PY/norange/d2"
expect_ok "$BM" fetch "$(sha d2)" -o got-d2
cmp d2 got-d2 || fail "restarted file differs"

check "more bytes than the record's size: cut off and refused, nothing at -o"
bin e 256
rec e linux e "$PY/more/e"
expect_fail 1 "more than the" "$BM" fetch "$(sha e)" -o got-e
absent got-e
absent got-e.part

check "a byte a second: the deadline ends the fetch, nothing at -o"
bin f 64
rec f linux f "$PY/slow/f"
start=$(date +%s)
expect_fail 1 "deadline" "$BM" fetch "$(sha f)" -o got-f --deadline 3s
[ $(($(date +%s) - start)) -lt 15 ] || fail "the deadline of 3 s took $(($(date +%s) - start)) s"
absent got-f

check "other bytes of the right size: the sha256 mismatch is refused, nothing at -o"
bin g 128
rec g linux g "$PY/wrong/g"
expect_fail 1 "the record says" "$BM" fetch "$(sha g)" -o got-g
grep -q "sha256" "$T/err" || fail "the refusal does not say sha256"
absent got-g
absent got-g.part
check "a mirror with wrong bytes first, a good one second: the good one is used"
bin g2 128
rec g2 linux g2 "$PY/wrong/g2" "$PY/ok/g2"
expect_ok "$BM" --json fetch "$(sha g2)" -o got-g2
[ "$(jq -r .url "$T/out")" = "$PY/ok/g2" ] || fail "json url: $(cat "$T/out")"

check "an unsigned binary is refused by fetch, nothing at -o"
bin h 64
cp h srv/h
add h --os linux --arch h --url "$PY/ok/h" >/dev/null
expect_fail 1 "not signed" "$BM" fetch "$(sha h)" -o got-h
absent got-h
absent got-h.part
check "signed by a key the repo trusts but the pinned file does not: refused with --trusted-keys"
"$BM" key gen --sign --no-password -o k2 >/dev/null 2>&1
"$BM" key trust k2.pub >/dev/null
bin i 64
cp i srv/i
add i --os linux --arch i --url "$PY/ok/i" --sign k2.key >/dev/null
expect_fail 1 "do not trust" "$BM" fetch "$(sha i)" -o got-i --trusted-keys pinned
absent got-i
expect_ok "$BM" fetch "$(sha i)" -o got-i
cmp i got-i || fail "repo-trusted fetch differs"

check "the first URL is down: the second is used"
DEAD=$(gitsrv_free_port)
bin j 64
rec j linux j "http://127.0.0.1:$DEAD/j" "$PY/ok/j"
expect_ok "$BM" --json fetch "$(sha j)" -o got-j --retries 1
[ "$(jq -r .url "$T/out")" = "$PY/ok/j" ] || fail "json url: $(cat "$T/out")"
cmp j got-j || fail "second-URL file differs"

check "the artifact server is down, then back within the retries"
LATE=$(gitsrv_free_port)
bin k 64
rec k linux k "http://127.0.0.1:$LATE/ok/k"
(sleep 1; exec python3 "$BM_SRCDIR/tests/e2e/artifact_server.py" srv late.port --port "$LATE" --seconds 120 >late.log 2>&1) &
PIDS="$PIDS $!"
expect_ok "$BM" --json fetch "$(sha k)" -o got-k --retries 6
cmp k got-k || fail "late-server file differs"
[ "$(jq -r .retries "$T/out")" -ge 1 ] || fail "json retries: $(cat "$T/out")"
check "down for good: bounded retries, then a clear error naming the URL"
bin l 64
rec l linux l "http://127.0.0.1:$DEAD/l"
expect_fail 1 "127.0.0.1:$DEAD/l" "$BM" fetch "$(sha l)" -o got-l --retries 2 --deadline 20s
absent got-l
check "bad input: fetch needs -o; a project needs --channel; an unknown sha256"
expect_fail 2 "needs -o" "$BM" fetch "$(sha a)"
expect_fail 2 "--channel" "$BM" fetch demo/app -o x
expect_fail 1 "" "$BM" fetch 0000000000000000000000000000000000000000000000000000000000000000 -o x
absent x
echo "PASS: t_artifacts"
