#!/bin/sh
# Housekeeping under the master (tests/py/pm_logs.py): --access-log lines,
# --log-file reopened on SIGUSR1 after a rename, --pidfile, and --user
# nobody --group nogroup (as root) with the socket still usable.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_logs.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_logs.py (exit $rc)"
finish
