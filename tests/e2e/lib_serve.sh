# lib_serve.sh: start and stop `bootmeta serve` in e2e tests (sourced after lib_core.sh).
# serve_start NAME REPO [ARGS...]: starts serve on 127.0.0.1 and a free port, logs in
# $T/NAME.log; sets URL_NAME... via the file $T/NAME.url; waits until it listens (10 s).
# serve_stop NAME: SIGTERM, waits for a clean exit (0), fails otherwise.
SERVE_PIDS=""
# serve_kill_all: the servers and the agents' apps, killed (serve_cleanup: and $T removed)
serve_kill_all() {
	for p in $SERVE_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	# the apps of agents killed above (their own process groups: setsid), which would
	# otherwise outlive a failed test and hold ctest's output pipe open
	for f in "$T"/*/.agent/app.pid "$T"/*/*/.agent/app.pid; do
		[ -s "$f" ] && read -r p _ <"$f" && kill -9 "-$p" 2>/dev/null || true
	done
}
serve_cleanup() {
	serve_kill_all
	rm -rf "$T"
}
trap serve_cleanup EXIT

serve_start() {
	name=$1 repo=$2
	shift 2
	rm -f "$T/$name.url"
	"$BM" --repo "$repo" serve --listen 127.0.0.1:0 --ready-file "$T/$name.url" "$@" 2>>"$T/$name.log" &
	echo $! >"$T/$name.pid"
	SERVE_PIDS="$SERVE_PIDS $!"
	i=0
	while [ ! -s "$T/$name.url" ]; do
		i=$((i + 1))
		[ $i -le 200 ] || { cat "$T/$name.log" >&2; fail "serve $name did not start in 10 s"; }
		kill -0 "$(cat "$T/$name.pid")" 2>/dev/null || { cat "$T/$name.log" >&2; fail "serve $name exited at start"; }
		sleep 0.05
	done
}

# hook_receiver NAME MODE: a webhook receiver (tests/e2e/hook_receiver.py, MODE ok, fail,
# hang or ctl) on 127.0.0.1 and a free port; its URL ("/hook") in $T/NAME.rurl, its requests
# in $T/NAME.jsonl; killed with the servers
hook_receiver() {
	python3 "$BM_SRCDIR/tests/e2e/hook_receiver.py" "$2" "$T/$1.port" "$T/$1.jsonl" &
	SERVE_PIDS="$SERVE_PIDS $!"
	i=0
	while [ ! -s "$T/$1.port" ]; do
		i=$((i + 1))
		[ $i -le 200 ] || fail "receiver $1 did not start"
		sleep 0.05
	done
	echo "http://127.0.0.1:$(cat "$T/$1.port")/hook" >"$T/$1.rurl"
}

serve_url() { cat "$T/$1.url"; }

serve_stop() {
	pid=$(cat "$T/$1.pid")
	kill -TERM "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	[ "$rc" = 0 ] || { tail -n 20 "$T/$1.log" >&2; fail "serve $1 exited $rc on SIGTERM, want 0"; }
}

serve_kill() {
	pid=$(cat "$T/$1.pid")
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# http METHOD URL [BODY] [HEADER...]: curl; the status in $T/status, the body in $T/body
http() {
	m=$1 u=$2
	shift 2
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		b=$1
		shift
		curl -sS -X "$m" -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$b" "$@" "$u" >"$T/status"
	else
		curl -sS -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$u" >"$T/status"
	fi
}

# want STATUS: the last http's status, else fail with its body
want() {
	[ "$(cat "$T/status")" = "$1" ] || fail "HTTP status $(cat "$T/status"), want $1: $(head -c 400 "$T/body")"
}

# jget EXPR: a jq expression over the last body
jget() { jq -r "$1" "$T/body"; }
