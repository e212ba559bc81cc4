#!/bin/sh
# The systemd units in contrib/systemd pass `systemd-analyze verify` with no warning (an
# unknown key or a typo is only a warning there: any output fails this test).
set -eu
. "$BM_SRCDIR/tests/e2e/lib_core.sh"
n=0
for u in "$BM_SRCDIR"/contrib/systemd/*.service; do
	name=$(basename "$u")
	# a template is verified as an instance of it (acme-server)
	case $name in *@.service) name=${name%@.service}@acme-server.service ;; esac
	# the unit names the installed program; verify needs one that exists
	sed "s|/usr/local/bin/bootmeta|$BM|g" "$u" >"$T/$name"
	check "$name"
	set +e
	systemd-analyze verify --man=no "$T/$name" >"$T/out" 2>&1
	rc=$?
	set -e
	[ "$rc" = 0 ] || { cat "$T/out" >&2; fail "$name: systemd-analyze verify exited $rc"; }
	[ ! -s "$T/out" ] || { cat "$T/out" >&2; fail "$name: systemd-analyze verify warns"; }
	n=$((n + 1))
done
[ "$n" -ge 1 ] || fail "no units in contrib/systemd"
echo "PASS"
