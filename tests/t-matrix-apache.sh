#!/bin/sh
# Matrix: Apache httpd in front (mod_proxy_fcgi, mod_proxy_scgi, mod_fcgid,
# mod_cgi), with contrib/apache/*.  The cells are in tests/py/matrix_apache.py.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
[ -x /usr/sbin/apache2 ] || skip "apache2 not installed"
run_py matrix_apache.py
