#!/bin/sh
# bootmeta bootstrap: make a new server run a channel's release, under a bootmeta agent.
#   curl -fsSL http://META:8420/v1/bootstrap.sh | sh -s -- --project P --channel C --env E --pubkey RW...
# `bootmeta serve` answers GET /v1/bootstrap.sh with this script. It detects the host's
# os/arch, asks serve which binary of the agent (project --agent-project, default
# bootmeta/agent: a .tar.gz of bootmeta, bootmeta-agent and bootmeta-live) to run, downloads it with curl,
# checks its sha256 and its minisign signature against --pubkey (given out of band: serve
# alone cannot make this host run an unsigned binary), installs it, pins the key for the
# agent, and starts the agent, which installs the app (verified against the same key) and
# keeps it on the channel. With systemd (and --root /): bootmeta-agent@.service; without:
# a supervisor loop in the background. POSIX sh (dash); needs curl, sha256sum, minisign,
# tar, base64.
set -eu

SERVER=${BOOTMETA_BOOTSTRAP_SERVER:-}
PROJECT= CHANNEL= ENV= PUBKEY= TSKEY= ID= ROOT=/ AGENT_PROJECT=bootmeta/agent AGENT_CHANNEL=
EXEC= HEALTH_URL= TOKEN_FILE= OS= ARCH= BAKE=10s ONCE=

say() { printf 'bootmeta bootstrap: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() {
	cat >&2 <<'EOF'
usage: sh bootstrap.sh --project P --channel C --env E --pubkey RW... [--server URL] [--id ID]
       [--exec 'CMD ARGS'] [--health-url URL] [--token-file F] [--agent-project P]
       [--agent-channel C] [--root DIR] [--os OS] [--arch ARCH] [--bake 10s] [--once]
       [--timestamp-pubkey RW...]
--timestamp-pubkey: serve's --timestamp-key (public): the agent then refuses an answer of
serve that is not signed fresh by it (bootmeta-agent(1), --timestamp-key).
EOF
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--server) SERVER=$2; shift 2 ;;
	--project) PROJECT=$2; shift 2 ;;
	--channel) CHANNEL=$2; shift 2 ;;
	--env) ENV=$2; shift 2 ;;
	--pubkey) PUBKEY=$2; shift 2 ;;
	--timestamp-pubkey) TSKEY=$2; shift 2 ;;
	--id) ID=$2; shift 2 ;;
	--root) ROOT=$2; shift 2 ;;
	--agent-project) AGENT_PROJECT=$2; shift 2 ;;
	--agent-channel) AGENT_CHANNEL=$2; shift 2 ;;
	--exec) EXEC=$2; shift 2 ;;
	--health-url) HEALTH_URL=$2; shift 2 ;;
	--token-file) TOKEN_FILE=$2; shift 2 ;;
	--os) OS=$2; shift 2 ;;
	--arch) ARCH=$2; shift 2 ;;
	--bake) BAKE=$2; shift 2 ;;
	--once) ONCE=1; shift ;;
	-h|--help) usage ;;
	*) say "unknown option: $1"; usage ;;
	esac
done
[ -n "$SERVER" ] || die "give --server URL (the bootmeta serve this script came from)"
[ -n "$PROJECT" ] && [ -n "$CHANNEL" ] && [ -n "$ENV" ] || die "give --project, --channel and --env"
[ -n "$PUBKEY" ] || die "give --pubkey RW...: the minisign public key the binaries must be signed by (out of band)"
[ -n "$AGENT_CHANNEL" ] || AGENT_CHANNEL=$CHANNEL
for tool in curl sha256sum minisign tar base64; do
	command -v "$tool" >/dev/null 2>&1 || die "needs $tool (Debian: apt-get install curl coreutils minisign tar)"
done

if [ -z "$OS" ]; then OS=$(uname -s | tr 'A-Z' 'a-z'); fi
if [ -z "$ARCH" ]; then
	case $(uname -m) in
	x86_64) ARCH=amd64 ;;
	aarch64) ARCH=arm64 ;;
	armv7*) ARCH=arm ;;
	*) ARCH=$(uname -m) ;;
	esac
fi
if [ -z "$ID" ]; then ID=$(hostname 2>/dev/null | tr 'A-Z' 'a-z' || echo host); fi

ROOT=${ROOT%/}
PREFIX=$ROOT/opt/bootmeta
ETC=$ROOT/etc/bootmeta
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootmeta-bootstrap.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# the binary serve says a host of this platform runs now, as shell variables
BM_RELEASE= BM_SHA256= BM_SIZE= BM_URL_COUNT=0 BM_MINISIG_B64=
info=$WORK/agent.env
code=$(curl -sS -o "$info" -w '%{http_code}' \
	"$SERVER/v1/projects/$AGENT_PROJECT/channels/$AGENT_CHANNEL/binary?os=$OS&arch=$ARCH&format=env") ||
	die "cannot reach $SERVER"
[ "$code" = 200 ] || die "$SERVER has no agent for $OS/$ARCH on channel $AGENT_CHANNEL of $AGENT_PROJECT (HTTP $code: $(head -c 300 "$info"))"
. "$info"
[ -n "$BM_SHA256" ] && [ "$BM_URL_COUNT" -gt 0 ] || die "the agent's record has no sha256 or no URL"
[ -n "$BM_MINISIG_B64" ] || die "the agent binary $BM_SHA256 is not signed: refusing it"

# download from the recorded URLs in order; check size, sha256, signature (by --pubkey, with
# a trusted comment that names this project and digest)
got=
i=1
while [ "$i" -le "$BM_URL_COUNT" ]; do
	eval "url=\$BM_URL_$i"
	say "downloading the agent ($BM_RELEASE) from $url"
	if curl -fsS --retry 3 --max-time 600 -o "$WORK/agent.tgz" "$url"; then got=1; break; fi
	i=$((i + 1))
done
[ -n "$got" ] || die "no URL of the agent binary answered"
size=$(wc -c <"$WORK/agent.tgz" | tr -d ' ')
[ "$size" = "$BM_SIZE" ] || die "the agent download is $size bytes, the record says $BM_SIZE: refusing it"
sum=$(sha256sum "$WORK/agent.tgz" | cut -c1-64)
[ "$sum" = "$BM_SHA256" ] || die "the agent download has sha256 $sum, the record says $BM_SHA256: refusing it"
printf '%s' "$BM_MINISIG_B64" | base64 -d >"$WORK/agent.minisig" || die "the signature does not decode"
minisign -V -q -m "$WORK/agent.tgz" -x "$WORK/agent.minisig" -P "$PUBKEY" >/dev/null 2>&1 ||
	die "the agent binary is not signed by --pubkey: refusing it"
tc=$(minisign -V -m "$WORK/agent.tgz" -x "$WORK/agent.minisig" -P "$PUBKEY" 2>/dev/null | sed -n 's/^Trusted comment: //p')
case $tc in
*"project:$AGENT_PROJECT	"*"sha256:$BM_SHA256	"*) ;;
*) die "the agent's signature is for another binary (trusted comment: $tc): refusing it" ;;
esac
say "verified the agent $BM_RELEASE ($BM_SHA256) against the key given"

# install: PREFIX/releases/<release>/ then PREFIX/bin -> it (rename: one or the other)
mkdir -p "$PREFIX/releases/$BM_RELEASE" "$ETC" "$ROOT/srv"
tar -xzf "$WORK/agent.tgz" -C "$PREFIX/releases/$BM_RELEASE"
[ -x "$PREFIX/releases/$BM_RELEASE/bootmeta" ] || die "the agent archive has no bootmeta program"
ln -sfn "releases/$BM_RELEASE" "$PREFIX/.bin.new" && mv -T "$PREFIX/.bin.new" "$PREFIX/bin"
printf 'untrusted comment: pinned by bootmeta bootstrap\n%s\n' "$PUBKEY" >"$ETC/trusted_keys"
chmod 600 "$ETC/trusted_keys"
if [ -n "$TSKEY" ]; then
	printf 'untrusted comment: serve timestamp key, pinned by bootmeta bootstrap\n%s\n' "$TSKEY" >"$ETC/timestamp.pub"
	chmod 644 "$ETC/timestamp.pub"
fi

# the agent's command line, kept in a file the unit and the loop read
slug=$(printf '%s' "$PROJECT" | tr '/' '-')
DIR=$ROOT/srv/$slug
set -- "$PREFIX/bin/bootmeta" agent --project "$PROJECT" --channel "$CHANNEL" --env "$ENV" --id "$ID" \
	--install-dir "$DIR" --trusted-keys "$ETC/trusted_keys" --server "$SERVER" --os "$OS" --arch "$ARCH" --bake "$BAKE"
[ -z "$TOKEN_FILE" ] || set -- "$@" --token-file "$TOKEN_FILE"
[ -z "$TSKEY" ] || set -- "$@" --timestamp-key "$ETC/timestamp.pub"
[ -z "$EXEC" ] || set -- "$@" --exec "$EXEC"
[ -z "$HEALTH_URL" ] || set -- "$@" --health-url "$HEALTH_URL"
if [ -n "$ONCE" ]; then
	exec "$@" --once
fi
# the agent's command line, quoted, in a script the unit and the loop run
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo '#!/bin/sh'
	echo "# written by bootmeta bootstrap: the agent of $PROJECT ($CHANNEL, $ENV)"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$ETC/$slug.sh"
chmod 755 "$ETC/$slug.sh"

if [ "$ROOT" = "" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	curl -fsS -o /etc/systemd/system/bootmeta-agent@.service "$SERVER/v1/bootstrap/bootmeta-agent@.service" ||
		die "cannot get the agent's systemd unit from $SERVER"
	systemctl daemon-reload
	systemctl enable --now "bootmeta-agent@$slug.service"
	say "started bootmeta-agent@$slug.service"
else
	# no systemd: a supervisor loop (the agent is started again when it exits)
	nohup sh -c 'while :; do sh "$1"; sleep 5; done' bootmeta-agent "$ETC/$slug.sh" >>"$ETC/$slug.log" 2>&1 &
	echo $! >"$ETC/$slug.pid"
	say "started the agent (supervisor pid $(cat "$ETC/$slug.pid"), log $ETC/$slug.log)"
fi
