#!/bin/sh
# Workers replaced on purpose (tests/py/pm_recycle.py): --timeout 2 kills the
# worker of a 30 s request with a log line naming it; --max-requests 100
# recycles workers under 1,000 requests without a failed request.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_recycle.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_recycle.py (exit $rc)"
finish
