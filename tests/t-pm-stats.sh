#!/bin/sh
# --stats while every thread is busy in a slow request (tests/py/pm_stats.py):
# it answers, and its counters match the requests sent.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_stats.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_stats.py (exit $rc)"
finish
