#!/bin/sh
# The master's signals (tests/py/pm_signals.py): SIGTERM lets slow requests
# finish with 200, exits 0 and removes the socket; SIGQUIT stops at once;
# SIGTTIN/SIGTTOU add and retire workers, as --stats shows.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_signals.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_signals.py (exit $rc)"
finish
