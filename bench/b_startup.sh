#!/bin/sh
# Start-up cost of a command as a whole process, next to git in the same run (each round
# runs every command once, in turn, so machine noise falls on all alike; medians of RUNS):
#   bootmeta --version                   vs git --version     (target: at most git + 1 ms)
#   bootmeta channel get P stable        vs git cat-file -p main:<the same entry's record>
#                                                             (target: at most 1.5x)
set -eu
: "${BM_BUILDDIR:?}" "${BOOTMETA:?}"
S=${BM_SPAWN:-$BM_BUILDDIR/bench_spawn}
RUNS=${BM_BENCH_STARTUP_RUNS:-300}
T=$(mktemp -d /tmp/bm-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
export BOOTMETA_ACTOR="bench <bench@example.com>"
unset BOOTMETA_REPO BOOTMETA_ENV || true
C=1111111111111111111111111111111111111111
"$BOOTMETA" init "$T/meta.git" >/dev/null
"$BOOTMETA" --repo "$T/meta.git" project add org/app --source https://example.com/org/app.git >/dev/null 2>&1
"$BOOTMETA" --repo "$T/meta.git" release add org/app --source "https://example.com/org/app.git@$C" >/dev/null 2>&1
"$BOOTMETA" --repo "$T/meta.git" channel promote org/app stable "$C" >/dev/null 2>&1
entry=$(git --git-dir="$T/meta.git" ls-tree -r --name-only main projects/org/app/channels/stable | tail -1)
git --git-dir="$T/meta.git" cat-file -e "main:$entry"

"$S" "$RUNS" "$BOOTMETA" --version -- git --version \
	-- "$BOOTMETA" --repo "$T/meta.git" channel get org/app stable \
	-- git --git-dir="$T/meta.git" cat-file -p "main:$entry" >"$T/t"
awk -v runs="$RUNS" '
	{ med[NR] = $1; min[NR] = $3 }
	END {
		printf "bootmeta --version        %6.2f ms (min %.2f)   git --version     %6.2f ms (min %.2f)   +%.2f ms (target <= +1 ms)\n",
			med[1], min[1], med[2], min[2], med[1] - med[2]
		printf "bootmeta channel get      %6.2f ms (min %.2f)   git cat-file -p   %6.2f ms (min %.2f)   ratio %.2fx (target <= 1.5x)\n",
			med[3], min[3], med[4], min[4], med[3] / med[4]
		printf "(whole processes, median of %d rounds, each round runs all four in turn)\n", runs
	}' "$T/t"
