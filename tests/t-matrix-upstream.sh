#!/bin/sh
# Matrix, multi-host: nginx with an upstream of two wsgi-fcgi instances
# (contrib/nginx/upstream-two.conf); one is stopped mid-load and no request
# fails.  The driver is tests/py/matrix_upstream.py.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
[ -x /usr/sbin/nginx ] || skip "nginx not installed"
run_py matrix_upstream.py
