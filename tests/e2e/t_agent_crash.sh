#!/bin/sh
# kill -9 of the agent at any moment of an upgrade: after each kill DIR/current is the old
# release or the new one, and the file it points at is complete (the recorded sha256); the
# next run picks up where it was and gets the host to the channel's release.
# AGENT_CRASH_TRIALS (default 12) kills, at random moments of a run.
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
N=${AGENT_CRASH_TRIALS:-12}
R=$T/meta
D=$T/host
bm() { "$BM" --quiet --repo "$R" "$@"; }
"$BM" init "$R" >/dev/null
C1=$(src_repo "$T/src")
bm project add app >/dev/null
bm env add prod >/dev/null
"$BM" key gen --sign -o "$T/rel" --no-password >/dev/null 2>&1
bm key trust "$T/rel.pub" >/dev/null
tail -n 1 "$T/rel.pub" >"$T/pinned"
mkdir -p "$T/art"
for r in r1 r2; do
	head -c 8388608 /dev/urandom >"$T/art/app-$r"   # 8 MiB: the download takes a while
	bm release add app --source "file://$T/src@$C1" --id $r >/dev/null
	bm binary add app $r "$T/art/app-$r" --os linux --arch amd64 --url "file://$T/art/app-$r" --sign "$T/rel.key" >/dev/null
done
sha_of() { sha256sum "$T/art/app-$1" | cut -c1-64; }
ARGS="--project app --channel stable --env prod --id web-1 --install-dir $D --trusted-keys $T/pinned --os linux
--arch amd64 --health-cmd true --bake 800ms --once"
agent() { "$BM" --repo "$R" agent $ARGS; }
bm channel promote app stable r1 >/dev/null
s0=$(date +%s%N)
agent 2>/dev/null || fail "first install failed"
# kills land anywhere in a run: uniformly over 1.2 times the first install's time
span=$(python3 -c "print(max(0.05, ($(date +%s%N) - $s0) / 1e9 * 1.2))")
# invariant: current is releases/r1 or releases/r2 and its file is whole
whole() {
	cur=$(readlink "$D/current" || echo none)
	case $cur in
	releases/r1|releases/r2) ;;
	*) fail "trial $t: current is '$cur'" ;;
	esac
	r=${cur#releases/}
	[ "$(sha256sum "$D/$cur/app-$r" | cut -c1-64)" = "$(sha_of "$r")" ] || fail "trial $t: $cur/app-$r is not whole"
}
check "$N kills during upgrades r1 -> r2 -> r1 ...: current always whole, then the upgrade completes"
to=r2
t=1
while [ $t -le "$N" ]; do
	bm channel promote app stable $to >/dev/null
	"$BM" --repo "$R" agent $ARGS 2>>"$T/agent.log" &   # not through the function: $! is the agent itself
	pid=$!
	sleep "$(python3 -c "import random; print(random.uniform(0, $span))")"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	whole
	# sometimes lose the downloaded release too (pruned by hand): it must be fetched again
	[ $((t % 4)) -ne 0 ] || [ "$(readlink "$D/current")" = "releases/$to" ] || rm -rf "$D/releases/$to"
	agent 2>>"$T/agent.log" || { tail -20 "$T/agent.log" >&2; fail "trial $t: the run after the kill did not get to $to"; }
	[ "$(readlink "$D/current")" = "releases/$to" ] || fail "trial $t: current is $(readlink "$D/current"), want releases/$to"
	whole
	if [ $to = r2 ]; then to=r1; else to=r2; fi
	t=$((t + 1))
done
echo "  ok: $N kills in runs of ${span}s, $(grep -c 'resuming: the last switch was not committed' "$T/agent.log" || true) resumed a switch"
cp "$T/agent.log" /tmp/agent-crash-last.log 2>/dev/null || true
echo "PASS"
