#!/bin/sh
# Matrix: lighttpd in front (mod_fastcgi "socket" and "bin-path" with
# contrib/lighttpd/*.conf, host:port bin-path under /app, --script-name /,
# mod_scgi).  The cells are in tests/py/matrix_lighttpd.py.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
[ -x /usr/sbin/lighttpd ] || skip "lighttpd not installed"
run_py matrix_lighttpd.py
