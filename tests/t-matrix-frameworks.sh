#!/bin/sh
# Matrix: Flask, Django and Bottle apps (tests/frameworks/) through
# nginx -> wsgi-fcgi answer like the same app under wsgiref.simple_server,
# at / and under /app.  The harness is tests/py/matrix_frameworks.py.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
[ -x /usr/sbin/nginx ] || skip "nginx not installed"
run_py matrix_frameworks.py
