#!/bin/sh
# A scripted tour of bootmeta on a throw-away meta repo: a project, a release built from two
# real source repos, a binary, two promotions, a trace from the binary file back to both
# repos, the channel's history, and the meta repo seen through stock git.
set -eu
BM=${1:-build-release/bootmeta}
BM=$(cd "$(dirname "$BM")" && pwd)/$(basename "$BM")
echo "demo: $("$BM" --version)"

D=$(mktemp -d /tmp/bootmeta-demo-XXXXXX)
trap 'rm -rf "$D"' EXIT
cd "$D"
export BOOTMETA_ACTOR="Demo User <demo@example.com>"
export GIT_AUTHOR_NAME="Demo User" GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME="Demo User" GIT_COMMITTER_EMAIL=demo@example.com
unset BOOTMETA_REPO || true

# bold headings on a terminal only (a log file gets plain text)
if [ -t 1 ]; then BOLD=$(printf '\033[1m') OFF=$(printf '\033[0m'); else BOLD="" OFF=""; fi
# say WHY CMD...: print the explanation and the command, then run it
say() {
	why=$1
	shift
	line=""
	for a in "$@"; do
		case "$a" in
		*" "*) line="$line '$a'" ;;
		*) line="$line $a" ;;
		esac
	done
	printf '\n%s# %s%s\n$%s\n' "$BOLD" "$why" "$OFF" "$line"
	"$@"
}
bootmeta() { "$BM" "$@"; }

echo "working in $D (removed at the end)"

# Two small source repos with real commits: the app and a library it is built with.
for r in app lib; do
	git init -q -b main "src/$r"
	echo "package $r" >"src/$r/main.go"
	git -C "src/$r" add main.go
	git -C "src/$r" commit -qm "first $r commit"
	git -C "src/$r" remote add origin "https://git.example.com/demo/$r.git"
done
APP=$(git -C src/app rev-parse HEAD)
LIB=$(git -C src/lib rev-parse HEAD)

say "Create a meta repo: a bare git repo with .bootmeta/format" bootmeta init meta.git
export BOOTMETA_REPO="$D/meta.git"
say "Add a project: the source repo plus the folder of its main" \
	bootmeta project add demo/server --source https://git.example.com/demo/app.git
say "Record a release built from BOTH repos, each at its full commit hash" \
	bootmeta release add demo/server --source "https://git.example.com/demo/app.git@$APP" \
	--source "https://git.example.com/demo/lib.git@$LIB" --version 1.0.0 --note "first release"
echo 'pretend this is the server binary, v1' >server-v1
say "Record the binary: sha256 and size are computed from the file" \
	bootmeta binary add demo/server "$APP" server-v1 --os linux --arch amd64 --url "s3://demo-artifacts/server/$APP"
say "Promote the release to the stable channel" \
	bootmeta channel promote demo/server stable "$APP" --reason "first release"

# A second commit of the app, released from the checkout itself with --source-dir.
echo "// v2" >>src/app/main.go
git -C src/app commit -qam "second app commit"
APP2=$(git -C src/app rev-parse HEAD)
say "CI records the next release from the checkouts: origin URL and HEAD are read" \
	bootmeta release add demo/server --source-dir src/app --source-dir src/lib --version 1.1.0
say "A second promotion: stable now points at 1.1.0 (sequence number 2)" \
	bootmeta channel promote demo/server stable "$APP2" --reason "1.1.0 is good"
say "What is on stable now, who put it there, and at which meta commit we read it" \
	bootmeta channel get demo/server stable
say "Trace the v1 binary file back to the project, the release and both source repos" \
	bootmeta trace server-v1
say "The channel's history, newest first" bootmeta channel history demo/server stable
say "The same for scripts: every read has --json" bootmeta --json channel get demo/server stable
say "Any record decodes to JSON by its path" bootmeta show "projects/demo/server/releases/$APP.pb"
say "The meta repo's files" bootmeta ls -r
say "Who changed the stable channel, and when (meta history of a path)" \
	bootmeta log projects/demo/server/channels/stable
say "It is a plain git repo: git log" git --git-dir=meta.git log --format='%h %an %s'
say "and git fsck --strict is clean" git --git-dir=meta.git fsck --strict --no-progress
say "Writers use a clone; a write pushes with compare-and-swap" bootmeta clone meta.git ci-clone.git
say "A promotion made through the clone lands in the shared repo" \
	bootmeta --repo ci-clone.git channel promote demo/server beta "$APP2"
say "Read back from the shared repo" bootmeta channel list demo/server
printf '\ndemo: done\n'
