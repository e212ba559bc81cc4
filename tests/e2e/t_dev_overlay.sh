#!/bin/sh
# Developer overlays: dev init makes dev/<user> (and dev when missing), dev use points a source
# checkout at it through an ignored local file, and every command that takes an optional ENV
# follows --env, then $BOOTMETA_ENV, then that file. Others' config stays untouched.
. "$BM_SRCDIR/tests/e2e/cfg_lib.sh"

add_project app/server
# dev init on a repo without dev: dev and dev/alice in one commit
before=$(tip)
bm dev init alice > "$work/out"
[ "$(git --git-dir="$work/meta" rev-list --count "$before..main")" = 1 ] || fail "dev init took more than one commit"
bm --json env show dev/alice | grep -q '"parent":"dev"' || fail "dev/alice's parent"
bm --json env show dev | grep -q '"parent":""' || fail "dev is a root env"
bm dev init bob >/dev/null
refused 1 "already exists" bm dev init alice
refused 1 "user name" bm dev init Alice
refused 1 "user name" bm dev init 'a/b'
refused 1 "reserved" bm dev init config
# env add dev/carol gets parent dev without being told
bm env add dev/carol >/dev/null
bm --json env show dev/carol | grep -q '"parent":"dev"' || fail "implicit parent of dev/carol"

bm config set app/server dev PORT=8080 HOST=localhost >/dev/null
bm config set app/server dev/alice HOST=alice.local >/dev/null
bm config set app/server dev/bob HOST=bob.local >/dev/null

# a source checkout
src="$work/src"
git init -q "$src"
mkdir -p "$src/sub/dir"
printf 'build/\n' > "$src/.gitignore"

# dev use refuses an env that does not exist, and writes nothing
( cd "$src/sub" && refused 1 "dev init zed" bm dev use zed )
( cd "$src/sub" && refused 1 "does not exist" bm dev use dev/zed )
[ ! -e "$src/.bootmeta-env" ] || fail "dev use of a missing env wrote the file"
( cd "$src/sub/dir" && expect_rc 1 bm dev current )
grep -q "dev use" "$work/err" || fail "dev current without an env should say how to choose one"

# dev use from a sub-folder writes at the checkout's top, ignored by git
( cd "$src/sub/dir" && bm dev use dev/alice >/dev/null )
[ "$(grep -v '^#' "$src/.bootmeta-env")" = dev/alice ] || fail "local file"
grep -qx "build/" "$src/.gitignore" && grep -qx "/.bootmeta-env" "$src/.gitignore" || fail ".gitignore"
( cd "$src" && git status --porcelain --ignored | grep -q '!! .bootmeta-env' ) || fail "git does not ignore the env file"
# a second use does not add a second .gitignore line; USER alone means dev/USER
( cd "$src" && bm dev use bob >/dev/null )
[ "$(grep -c bootmeta-env "$src/.gitignore")" = 1 ] || fail ".gitignore line added twice"
[ "$(grep -v '^#' "$src/.bootmeta-env")" = dev/bob ] || fail "dev use USER"
( cd "$src" && bm dev use dev/alice >/dev/null )

# precedence: the file, then $BOOTMETA_ENV, then --env
( cd "$src/sub" && [ "$(bm dev current | cut -f1)" = dev/alice ] ) || fail "env from the file"
( cd "$src/sub" && [ "$(BOOTMETA_ENV=dev/bob bm dev current | cut -f1)" = dev/bob ] ) || fail "BOOTMETA_ENV wins over the file"
( cd "$src/sub" && [ "$(BOOTMETA_ENV=dev/bob bm --env dev dev current | cut -f1)" = dev ] ) ||
	fail "--env wins over BOOTMETA_ENV"
( cd "$src/sub" && BOOTMETA_ENV=dev/bob bm --json dev current | grep -q '"source":"$BOOTMETA_ENV"' ) || fail "source"

# config resolve without ENV uses the checkout's env: alice sees her HOST, the rest from dev
( cd "$src/sub" && bm config resolve app/server --format env ) > "$work/env"
grep -qx "HOST=alice.local" "$work/env" && grep -qx "PORT=8080" "$work/env" || { cat "$work/env"; fail "overlay resolve"; }
# nobody else's config changed
[ "$(bm config get app/server dev HOST)" = localhost ] || fail "dev changed"
[ "$(bm config get app/server dev/bob HOST)" = bob.local ] || fail "bob's overlay changed"
( cd "$src" && [ "$(bm --json env show | sed 's/.*"name":"\([^"]*\)".*/\1/')" = dev/alice ] ) || fail "env show without NAME"

# a hand-edited file naming a bad env is a clear error
printf 'dev/../x\n' > "$src/.bootmeta-env"
( cd "$src" && expect_rc 1 bm config resolve app/server )
grep -q "bootmeta-env" "$work/err" || fail "bad local file not named in the error"

# --clear removes the file
( cd "$src" && bm dev use --clear >/dev/null )
[ ! -e "$src/.bootmeta-env" ] || fail "--clear"
# outside any checkout
( cd "$work" && refused 1 "not inside a git checkout" bm dev use dev/alice )
echo "ok t_dev_overlay"
