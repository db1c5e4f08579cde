#!/bin/sh
# SIGHUP reload (tests/py/pm_reload.py): an edited copy of the app is served
# by new workers while client loops run without a failed request; an edit
# with a syntax error leaves the old workers serving.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_reload.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_reload.py (exit $rc)"
finish
