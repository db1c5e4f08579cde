#!/bin/sh
# SPEC environ: every param becomes a latin-1 str, duplicates, missing CGI vars, wsgi.* keys, url_scheme, --script-name.
# The checks live in tests/py/t_environ.py (run with the interpreter matching the
# embedded libpython).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
run_py t_environ.py
