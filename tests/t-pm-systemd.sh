#!/bin/sh
# Socket activation (tests/py/pm_systemd.py): systemd-socket-activate in
# front of -p 2, and the ExecStart/ExecReload/KillSignal of
# contrib/systemd/wsgi-fcgi.{socket,service} run as written (paths
# substituted as the files document).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
timeout -k 5 240 "$PYTHON" "$WF_TESTS/py/pm_systemd.py"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "tests/py/pm_systemd.py (exit $rc)"
finish
