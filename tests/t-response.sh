#!/bin/sh
# SPEC Response: start_response validation (500, nothing injected), write(), exc_info, headers timing, Content-Length, str chunks, exceptions, close() once, client gone, wsgi.errors, file_wrapper, downloads, keep-conn.
# The checks live in tests/py/t_response.py (run with the interpreter matching the
# embedded libpython).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
run_py t_response.py
