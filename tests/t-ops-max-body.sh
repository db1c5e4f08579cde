#!/bin/sh
# --max-body (tests/py/ops_max_body.py): 413 without calling the application
# over FastCGI, SCGI, CGI and real nginx; OSError in wsgi.input.read for a
# longer body sent without CONTENT_LENGTH.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 180 "$PYTHON" "$WF_TESTS/py/ops_max_body.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/ops_max_body.py (exit $rc)"
finish
