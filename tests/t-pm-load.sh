#!/bin/sh
# Process model under load: 8 concurrent keep-alive FastCGI clients x 2,000
# requests against -p 2 -t 4 (tests/py/pm_load.py): zero errors, every
# response byte-correct, both workers and several threads serving.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_load.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_load.py (exit $rc)"
finish
