#!/bin/sh
# Start-up failure under -p N (tests/py/pm_startup.py): an app with a syntax
# or import error makes the master exit non-zero at once, with the cause in
# one error line per worker and no fork storm.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_startup.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_startup.py (exit $rc)"
finish
