#!/bin/sh
# A scripted tour of bootmeta on a throw-away meta repo.
set -eu
BM=${1:-build-release/bootmeta}
echo "demo: $("$BM" --version)"
