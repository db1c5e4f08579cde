#!/bin/sh
# The README's main job, contrib/demo.sh, in its one-shot mode with the
# binary under test (no package installation, no build): nginx in front of
# wsgi-fcgi serving contrib/example/app.py must answer the example page,
# and both processes must be gone afterwards.
. "${srcdir:-.}/tests/lib.sh"
[ -x /usr/sbin/nginx ] || skip "nginx not installed"
command -v curl >/dev/null 2>&1 || skip "curl not installed"
command -v bash >/dev/null 2>&1 || skip "bash not installed"
out=$(DEMO_ONESHOT=1 DEMO_BIN="$WSGI_FCGI" PORT=$(free_port) timeout 120 bash "$srcdir/contrib/demo.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 40
[ $rc -eq 0 ] || { echo "FAIL: demo.sh exited $rc"; exit 1; }
printf '%s\n' "$out" | grep -q 'wsgi.url_scheme' || { echo "FAIL: no example page"; exit 1; }
printf '%s\n' "$out" | grep -q 'master exiting' || { echo "FAIL: wsgi-fcgi did not stop"; exit 1; }
echo "PASS: demo.sh served the example app behind nginx and stopped"
