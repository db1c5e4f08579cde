#!/bin/sh
# SPEC environ/wsgi.input: every read mode, bodies of 0/1/odd/10 MiB bytes over odd STDIN records, slow senders, a body cut short raises OSError.
# The checks live in tests/py/t_input.py (run with the interpreter matching the
# embedded libpython).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
run_py t_input.py
