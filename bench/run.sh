#!/bin/sh
# Run every benchmark against the release build in $1, each next to its peer.
set -eu
build=$1
echo "bench: no benchmarks yet ($build)"
