# lib_gitsrv.sh: real git servers on 127.0.0.1 for the e2e tests (sourced after lib_core.sh,
# not run). Every server is a Debian program run as the current user (root in CI, or not),
# foreground, with its configuration, pid, logs and temp files under $T, on a free port:
#
#   gitsrv_http_start DIR ROOT: git's smart HTTP (`git http-backend`, spawned by fcgiwrap on a
#       unix socket, behind nginx); serves the bare repos under ROOT at $GITSRV_HTTP/<name>.
#       Pushes are taken when the repo says http.receivepack=true (gitsrv_receivepack).
#   gitsrv_ssh_start DIR: sshd with a throw-away host key (ed25519) that lets in one
#       throw-away user key, $GITSRV_SSH_KEY; repos are reached as
#       $GITSRV_SSH/<absolute path>. $GITSRV_SSH_HOSTKEY holds the host's public key line.
#
#   gitsrv_race SRV A B N COMMIT: two clones A and B of SRV write at once (the race block of
#       t_git_http and t_git_ssh).
#
# Each server runs under `timeout` (GITSRV_SECONDS, default 600), so it never outlives a
# test that was killed without running its traps; gitsrv_stop (on EXIT) stops them all.
# Needs nginx, fcgiwrap, openssh-server, openssh-client and python3 (scripts/deps.sh).

GITSRV_PIDS=""
GITSRV_SECONDS=${GITSRV_SECONDS:-600}
PATH="$PATH:/usr/sbin:/sbin"
for t in nginx fcgiwrap sshd ssh-keygen python3 timeout; do
	command -v "$t" >/dev/null 2>&1 || fail "needs $t (scripts/deps.sh installs it)"
done
GITSRV_BACKEND="$(git --exec-path)/git-http-backend"
[ -x "$GITSRV_BACKEND" ] || fail "no git-http-backend at $GITSRV_BACKEND"

gitsrv_stop() {
	for p in $GITSRV_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $GITSRV_PIDS; do wait "$p" 2>/dev/null || true; done
	GITSRV_PIDS=""
}
trap 'gitsrv_stop; rm -rf "$T"' EXIT

# A TCP port nothing listens on now (the server that takes it may still lose a race: the
# start functions retry on "address in use").
gitsrv_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# gitsrv_wait_port PORT PID LOG: until PORT takes connections (5 s), or PID died
gitsrv_wait_port() {
	i=0
	while ! python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$1" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$3" >&2; fail "nothing listens on 127.0.0.1:$1 after 5 s"; }
		sleep 0.05
	done
}

# gitsrv_receivepack REPO true|false: let the http server take pushes to REPO, or refuse them
gitsrv_receivepack() {
	git --git-dir="$1" config http.receivepack "$2"
}

gitsrv_http_start() {
	d=$1 root=$2
	mkdir -p "$d/tmp"
	timeout "$GITSRV_SECONDS" fcgiwrap -c 4 -s "unix:$d/fcgi.sock" 2>"$d/fcgiwrap.log" &
	GITSRV_PIDS="$GITSRV_PIDS $!"
	i=0
	while [ ! -S "$d/fcgi.sock" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$d/fcgiwrap.log" >&2; fail "fcgiwrap did not make its socket"; }
		sleep 0.05
	done
	tries=0
	while :; do
		port=$(gitsrv_free_port)
		# master_process off: one process, as this user (root's workers would otherwise
		# switch to nobody, who cannot reach $T)
		cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 64; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$port;
		location / {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME $GITSRV_BACKEND;
			fastcgi_param GIT_PROJECT_ROOT $root;
			fastcgi_param GIT_HTTP_EXPORT_ALL 1;
			fastcgi_param PATH_INFO \$uri;
			fastcgi_pass unix:$d/fcgi.sock;
		}
	}
}
EOF
		timeout "$GITSRV_SECONDS" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>>"$d/nginx.log" &
		pid=$!
		if gitsrv_wait_port "$port" "$pid" "$d/error.log"; then
			break
		fi
		tries=$((tries + 1))
		grep -q "in use" "$d/error.log" "$d/nginx.log" 2>/dev/null && [ $tries -lt 5 ] && continue
		cat "$d/error.log" "$d/nginx.log" >&2
		fail "nginx did not start"
	done
	GITSRV_PIDS="$GITSRV_PIDS $pid"
	GITSRV_HTTP="http://127.0.0.1:$port"
	GITSRV_HTTP_PORT=$port
}

gitsrv_ssh_start() {
	d=$1
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N "" -C "gitsrv host" -f "$d/host_key" || fail "ssh-keygen (host key)"
	ssh-keygen -q -t ed25519 -N "" -C "gitsrv user" -f "$d/user_key" || fail "ssh-keygen (user key)"
	cp "$d/user_key.pub" "$d/authorized_keys"
	chmod 600 "$d/authorized_keys"
	# sshd checks this folder exists when it runs as root (its privilege separation chroot)
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
	tries=0
	while :; do
		port=$(gitsrv_free_port)
		cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $(id -un)
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
EOF
		: >"$d/sshd.log"
		timeout "$GITSRV_SECONDS" "$(command -v sshd)" -D -e -f "$d/sshd_config" 2>>"$d/sshd.log" &
		pid=$!
		if gitsrv_wait_port "$port" "$pid" "$d/sshd.log"; then
			break
		fi
		tries=$((tries + 1))
		grep -q "in use" "$d/sshd.log" && [ $tries -lt 5 ] && continue
		cat "$d/sshd.log" >&2
		fail "sshd did not start"
	done
	GITSRV_PIDS="$GITSRV_PIDS $pid"
	GITSRV_SSH_PORT=$port
	GITSRV_SSH="ssh://$(id -un)@127.0.0.1:$port"
	GITSRV_SSH_KEY=$d/user_key
	GITSRV_SSH_HOSTKEY="[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")"
}

# gitsrv_race SRV A B N COMMIT: clones A and B of the meta repo SRV each add N releases of
# demo/app (source file://$T/app@COMMIT) and promote each to stable, at the same time. Every
# write must land (compare-and-swap and replay): the server's stable seqs are 1..2N+1 (entry
# 1 is the test's own r0) with none missing or twice, and every acknowledged promotion is on
# the server. Fails the test otherwise.
gitsrv_race() {
	srv=$1 n=$4 commit=$5
	: >"$T/done-a"
	: >"$T/done-b"
	# writer CLONE TAG: N releases, each promoted; the acknowledged ones are listed
	gitsrv_writer() {
		k=1
		while [ $k -le "$n" ]; do
			"$BM" --quiet --repo "$1" release add demo/app --source "file://$T/app@$commit" --id "$2-$k" >/dev/null || return 1
			"$BM" --quiet --repo "$1" channel promote demo/app stable "$2-$k" >/dev/null || return 1
			echo "$2-$k" >>"$T/done-$2"
			k=$((k + 1))
		done
	}
	gitsrv_writer "$2" a 2>"$T/err-a" &
	pa=$!
	gitsrv_writer "$3" b 2>"$T/err-b" &
	pb=$!
	wait $pa || { cat "$T/err-a" >&2; fail "writer a failed"; }
	wait $pb || { cat "$T/err-b" >&2; fail "writer b failed"; }
	"$BM" --repo "$srv" channel history demo/app stable -n 0 >"$T/hist"
	awk 'NR > 1 { print $1 }' "$T/hist" | sort -n >"$T/seqs"
	seq 1 $((2 * n + 1)) >"$T/want"
	cmp -s "$T/seqs" "$T/want" || { cat "$T/hist"; fail "channel seqs on the server are not 1..$((2 * n + 1))"; }
	for id in $(cat "$T/done-a" "$T/done-b"); do
		grep -q " $id " "$T/hist" || { cat "$T/hist"; fail "acknowledged promotion of $id is not on the server"; }
	done
	echo "  ok: $((2 * n)) racing promotions, seqs 1..$((2 * n + 1))"
}
