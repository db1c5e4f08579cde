#!/bin/sh
# Log levels (tests/py/ops_logs.py): the application's own text (wsgi.errors,
# logging, sys.stderr) is [app]; what the server finds wrong stays [error].
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 120 "$PYTHON" "$WF_TESTS/py/ops_logs.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/ops_logs.py (exit $rc)"
finish
