#!/bin/sh
# The environ/input/response tests once more with every correct app wrapped
# by wsgiref.validate.validator (WF_TEST_VALIDATE=1): every expected status
# must stay the same and no AssertionError may reach a server log (the
# harness in tests/py/wftest.py checks each log when it stops the server).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
WF_TEST_VALIDATE=1
export WF_TEST_VALIDATE
rc=0
for t in t_environ.py t_input.py t_response.py; do
    echo "== $t under wsgiref.validate =="
    run_py "$t" || { echo "FAIL: $t under wsgiref.validate"; rc=1; }
done
exit $rc
