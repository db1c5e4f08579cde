#!/bin/sh
# Matrix: nginx in front (fastcgi_pass unix/TCP, with and without
# fastcgi_keep_conn, mounted at / and /app; scgi_pass to --scgi).
# The cells are in tests/py/matrix_nginx.py.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
[ -x /usr/sbin/nginx ] || skip "nginx not installed"
run_py matrix_nginx.py
