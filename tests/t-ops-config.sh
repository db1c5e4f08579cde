#!/bin/sh
# --config FILE (tests/py/ops_config.py): a file's settings served, the
# command line winning, --check's merged report with origins, bad lines
# (exit 2, FILE:LINE), and the file alone under socket activation.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 180 "$PYTHON" "$WF_TESTS/py/ops_config.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/ops_config.py (exit $rc)"
finish
