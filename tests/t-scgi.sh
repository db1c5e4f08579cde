#!/bin/sh
# SPEC Protocols/SCGI: wsgi-fcgi --scgi on a unix socket and on 127.0.0.1
# (-t 4): the environ mapping, bodies of 0, 1 byte and 10 MiB both ways, the
# response paths, the same answers as over FastCGI, --max-header-size, and
# 1,000 malformed requests in a row (closed, logged, RSS flat) then a good
# one.  The checks live in tests/py/t_scgi.py (client: tests/scgi_client.py).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
run_py t_scgi.py
