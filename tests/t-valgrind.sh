#!/bin/sh
# The server under valgrind memcheck (master and worker, -t 2), driven through
# the request paths that own memory or Python references: environ, every
# wsgi.input mode, start_response validation failures, exceptions before and
# after headers, a client leaving mid-download, kept connections, SCGI and
# CGI.  Passes when memcheck reports no error and no definite leak.
# Skipped in the sanitizer build (ASan and memcheck exclude each other).
. "${srcdir:-.}/tests/lib.sh"
command -v valgrind >/dev/null 2>&1 || skip "valgrind not installed"
if [ "${WF_SANITIZERS:-no}" = yes ]; then
    skip "sanitizer build: memcheck runs in the normal build"
fi
exec "$PYTHON" "$srcdir/tests/py/t_valgrind.py"
