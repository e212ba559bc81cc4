#!/bin/sh
# Follower catch-up: `bootmeta follow --once --from URL DIR` from empty, of a repo of
# BM_BENCH_FOLLOW_RECORDS (100,000) records, next to `git clone --mirror URL` of the same
# repo in the same run (target: under 5 s). Three ways to reach the repo: a path, a file://
# URL, and git:// from a `git daemon` on 127.0.0.1 (a real remote transport: the server side
# is git upload-pack for both). Each on the repo as bootmeta writes it (its own packs, no
# deltas) and after `git gc` (one pack with deltas, what a served meta repo has after
# maintenance). Then keep-up: one more commit, `bootmeta follow --once DIR` vs `git fetch`.
set -eu
: "${BM_BUILDDIR:?}" "${BOOTMETA:?}"
N=${BM_BENCH_FOLLOW_RECORDS:-100000}
command -v git >/dev/null 2>&1 || { echo "b_follow: git is missing" >&2; exit 1; }
T=$(mktemp -d /tmp/bm-bench-follow-XXXXXX)
GD=""
cleanup() {
	[ -z "$GD" ] || kill "$GD" 2>/dev/null || true
	[ -z "$GD" ] || wait "$GD" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export BOOTMETA_ACTOR="bench <bench@example.com>"
unset BOOTMETA_REPO BOOTMETA_SERVER || true

"$BM_BUILDDIR/bench_core" grow "$T/w.git" "$N" >/dev/null
cp -a "$T/w.git" "$T/gc.git"
git --git-dir="$T/gc.git" gc -q

port=$(python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --export-all --base-path="$T" --listen=127.0.0.1 --port="$port" --reuseaddr 2>"$T/daemon.log" &
GD=$!
i=0
until git ls-remote "git://127.0.0.1:$port/w.git" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "b_follow: git daemon did not start" >&2; cat "$T/daemon.log" >&2; exit 1; }
	sleep 0.1
done

# timed NAME CMD...: seconds and peak RSS (MiB) of CMD into $T/t.NAME
timed() {
	name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$T/t.$name" "$@" >/dev/null 2>"$T/err.$name" || {
		echo "b_follow: $name failed:" >&2
		cat "$T/err.$name" >&2
		exit 1
	}
}
fig() { awk '{ printf "%.2f s (%.0f MiB)", $1, $2 / 1024 }' "$T/t.$1"; }
# time ratio, bootmeta / git; "-" when both took under 0.1 s (the clock counts 10 ms steps)
rat() { awk -v a="$(cut -d' ' -f1 "$T/t.$1")" -v b="$(cut -d' ' -f1 "$T/t.$2")" 'BEGIN { if (a < 0.1 && b < 0.1) print "-"; else printf "%.2fx\n", a / (b > 0.01 ? b : 0.01) }'; }
verdict() { awk -v a="$(cut -d' ' -f1 "$T/t.$1")" 'BEGIN { print a < 5 ? "met" : "MISSED" }'; }

echo "catch-up from empty, $N records ($(du -sm "$T/w.git" | cut -f1) MiB as written, $(du -sm "$T/gc.git" | cut -f1) MiB after git gc)"
printf '%-34s %-22s %-22s %-8s %s\n' "from" "bootmeta follow" "git clone --mirror" "time" "target < 5 s"
for repo in w gc; do
	for how in path file git; do
		case $how in
		path) url=$T/$repo.git ;;
		file) url=file://$T/$repo.git ;;
		git) url=git://127.0.0.1:$port/$repo.git ;;
		esac
		rm -rf "$T/f" "$T/g"
		timed "bm" "$BOOTMETA" follow --once --from "$url" "$T/f"
		timed "git" git clone -q --mirror "$url" "$T/g"
		[ "$(git --git-dir="$T/f" rev-parse main)" = "$(git --git-dir="$T/g" rev-parse main)" ] ||
			{ echo "b_follow: the follower's main is not the clone's" >&2; exit 1; }
		label="$how, $([ $repo = w ] && echo "as written" || echo "after git gc")"
		printf '%-34s %-22s %-22s %-8s %s\n' "$label" "$(fig bm)" "$(fig git)" "$(rat bm git)" "$(verdict bm)"
	done
done

# keep-up: the last two clones (git://, after gc) take one more commit
"$BOOTMETA" --repo "$T/gc.git" log add --kind bench --message "keep-up" >/dev/null
timed "bm" "$BOOTMETA" follow --once "$T/f"
timed "git" git --git-dir="$T/g" fetch -q origin
[ "$(git --git-dir="$T/f" rev-parse main)" = "$(git --git-dir="$T/gc.git" rev-parse main)" ] ||
	{ echo "b_follow: keep-up left the follower behind" >&2; exit 1; }
printf '%-34s %-22s %-22s %s\n' "keep-up, one commit over git://" "$(fig bm)" "$(fig git) (fetch)" "$(rat bm git)"
