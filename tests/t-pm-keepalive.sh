#!/bin/sh
# Kept FastCGI connections never starve new ones (tests/py/pm_keepalive.py):
# 6 idle kept connections on -p 1 -t 2, the same after a worker died while
# waiting in accept, and 8 curl loops through nginx (upstream keepalive 16,
# fastcgi_keep_conn on) in front of -p 2 -t 2.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_keepalive.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_keepalive.py (exit $rc)"
finish
