#!/bin/sh
# Workers that die are replaced (tests/py/pm_crash.py): kill -9 of a worker
# and an app calling os._exit(3) under 8 kept clients (only requests in
# flight on that worker may fail), and hostile FastCGI peers (a 1 GiB PARAMS
# name length, FCGI_GET_VALUES naming FCGI_MAX_CONNS four times).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_crash.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_crash.py (exit $rc)"
finish
