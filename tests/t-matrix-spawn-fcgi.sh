#!/bin/sh
# Matrix: spawn-fcgi -n and spawn-fcgi -F 2 starting wsgi-fcgi, behind
# nginx.  The cells are in tests/py/matrix_spawn.py.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
need_cmd spawn-fcgi
[ -x /usr/sbin/nginx ] || skip "nginx not installed"
run_py matrix_spawn.py
