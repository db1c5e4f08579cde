#!/bin/sh
# --timeout tracebacks (tests/py/ops_timeout.py): before a stuck worker is
# killed the log gets the request line and every thread's Python traceback,
# the stuck thread marked "Current thread", sleeping or spinning.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/ops_timeout.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/ops_timeout.py (exit $rc)"
finish
