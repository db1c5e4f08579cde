#!/bin/sh
# --max-rss (tests/py/ops_max_rss.py): a worker grown past the limit is
# replaced gracefully under load, at -p 1 and -p 2, with no request lost.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 540 "$PYTHON" "$WF_TESTS/py/ops_max_rss.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/ops_max_rss.py (exit $rc)"
finish
