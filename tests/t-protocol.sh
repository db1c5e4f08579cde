#!/bin/sh
# SPEC Protocols: hostile and truncated record streams replayed from tests/data/fcgi, roles refused, FCGI_KEEP_CONN, bad input closes only its own connection.
# The checks live in tests/py/t_protocol.py (run with the interpreter matching the
# embedded libpython).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
run_py t_protocol.py
