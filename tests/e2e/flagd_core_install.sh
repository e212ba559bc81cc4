#!/bin/sh
# Install OpenFeature's @openfeature/flagd-core (the reference evaluator) with npm into
# $1/npm once, and print the node_modules folder to put in NODE_PATH. Used by
# t_flagd_compat.sh and bench/b_flags.sh. Fails (no skipping) when npm or node fails.
set -eu
dir="$1/npm"
mods="$dir/node_modules"
if [ ! -f "$mods/@openfeature/flagd-core/package.json" ]; then
	command -v node >/dev/null || { echo "flagd-core: node is not installed (apt-get install nodejs)" >&2; exit 1; }
	command -v npm >/dev/null || { echo "flagd-core: npm is not installed (apt-get install npm)" >&2; exit 1; }
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --loglevel=error '@openfeature/flagd-core@^4' >&2 ||
		{ echo "flagd-core: npm install @openfeature/flagd-core failed" >&2; exit 1; }
fi
echo "$mods"
