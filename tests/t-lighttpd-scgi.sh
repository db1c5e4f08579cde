#!/bin/sh
# SCGI through a real lighttpd (Debian's /usr/sbin/lighttpd -D, every path in
# the temp dir, 127.0.0.1 on a free port) with mod_scgi configured by
# contrib/lighttpd/wsgi-scgi.conf, its documented placeholder (@SOCKET@)
# replaced, talking to wsgi-fcgi --scgi on a unix socket.  The same requests
# as tests/t-nginx-scgi.sh (tests/py/t_scgi_http.py): GET with a query string
# and a non-ASCII percent-encoded path, the environ the app sees (SCRIPT_NAME
# '' and PATH_INFO the path, thanks to fix-root-scriptname), POST 1 MiB, a
# 10 MiB download, HEAD; every answer must match the same request sent
# directly over SCGI and over FastCGI.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
LIGHTTPD=${LIGHTTPD:-/usr/sbin/lighttpd}
[ -x "$LIGHTTPD" ] || skip "lighttpd not installed ($LIGHTTPD)"
need_cmd curl

SOCK=$T/scgi.sock
PORT=$(free_port)
mkdir -p "$T/www" "$T/upload"
sed -e "s|@SOCKET@|$SOCK|g" "$WF_TOP/contrib/lighttpd/wsgi-scgi.conf" >"$T/wsgi-scgi.conf"
if grep -n '@[A-Z]*@' "$T/wsgi-scgi.conf"; then
    fail "placeholders left in the generated configuration"
fi
# No server.username: started by an unprivileged user it runs as that user;
# started by root it stays root inside this throw-away temp dir.
cat >"$T/lighttpd.conf" <<CONF
server.document-root = "$T/www"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$T/lighttpd-error.log"
server.pid-file = "$T/lighttpd.pid"
server.upload-dirs = ( "$T/upload" )
server.max-request-size = 102400
include "$T/wsgi-scgi.conf"
CONF

serve scgi "unix:$SOCK" --scgi "$WF_APPS/combo.py" || finish
serve fcgi "unix:$T/fcgi.sock" "$WF_APPS/combo.py" || finish

"$LIGHTTPD" -tt -f "$T/lighttpd.conf" >"$T/lighttpd-t.log" 2>&1 \
    || { fail "lighttpd -tt rejected the configuration"; cat "$T/lighttpd-t.log"; finish; }
"$LIGHTTPD" -D -f "$T/lighttpd.conf" </dev/null >"$T/lighttpd.log" 2>&1 &
LIGHTTPD_PID=$!
track_pid "$LIGHTTPD_PID"

URL=http://127.0.0.1:$PORT
i=0
until curl -s -o /dev/null --max-time 2 "$URL/?app=hello"; do
    i=$((i + 1))
    if [ $i -ge 200 ] || ! is_alive "$LIGHTTPD_PID"; then
        fail "lighttpd does not answer on $URL"
        finish
    fi
    sleep 0.1
done

WF_HTTP_URL=$URL WF_HTTP_PORT=$PORT WF_HTTP_SERVER=lighttpd \
WF_SCGI_ADDR=unix:$SOCK WF_FCGI_ADDR=unix:$T/fcgi.sock WF_SCGI_LOG=$T/scgi.log \
    run_py t_scgi_http.py
rc=$?
case $rc in
    0) pass "requests through lighttpd mod_scgi" ;;
    77) skip "t_scgi_http.py skipped" ;;
    *) fail "requests through lighttpd mod_scgi (t_scgi_http.py exit $rc)" ;;
esac
if [ "$WF_FAILED" != 0 ]; then
    echo "---- generated lighttpd.conf + wsgi-scgi.conf ----"
    cat "$T/lighttpd.conf" "$T/wsgi-scgi.conf"
fi
finish
