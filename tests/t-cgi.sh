#!/bin/sh
# SPEC CGI mode: environment + stdin in, Status: + headers + body out, wsgi.run_once, --cgi, unloadable app.
# The checks live in tests/py/t_cgi.py (run with the interpreter matching the
# embedded libpython).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
run_py t_cgi.py
