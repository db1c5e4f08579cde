#!/bin/sh
# SCGI through a real nginx (Debian's /usr/sbin/nginx, non-daemon, every
# path in the temp dir) using contrib/nginx/wsgi-scgi.conf with its
# documented placeholders (@HOST@ @PORT@ @SOCKET@) replaced, and scgi_pass to
# wsgi-fcgi --scgi on a unix socket.  Requests via curl (tests/py/t_scgi_http.py):
# GET with a query string and a non-ASCII percent-encoded path, the environ
# the app sees (SCRIPT_NAME, PATH_INFO), POST 1 MiB, a 10 MiB download, HEAD;
# every answer must match the same request sent directly over SCGI and over
# FastCGI.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
NGINX=${NGINX:-/usr/sbin/nginx}
[ -x "$NGINX" ] || skip "nginx not installed ($NGINX)"
[ -f /etc/nginx/scgi_params ] || skip "/etc/nginx/scgi_params missing"
need_cmd curl

SOCK=$T/scgi.sock
PORT=$(free_port)
mkdir -p "$T/logs" "$T/temp"
{
    cat <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    access_log $T/logs/access.log;
    client_body_temp_path $T/temp/body;
    fastcgi_temp_path $T/temp/fastcgi;
    proxy_temp_path $T/temp/proxy;
    uwsgi_temp_path $T/temp/uwsgi;
    scgi_temp_path $T/temp/scgi;
CONF
    sed -e "s|@SOCKET@|$SOCK|g" -e "s|@PORT@|$PORT|g" -e "s|@HOST@|127.0.0.1|g" \
        "$WF_TOP/contrib/nginx/wsgi-scgi.conf"
    echo "}"
} >"$T/nginx.conf"
if grep -n '@[A-Z]*@' "$T/nginx.conf"; then
    fail "placeholders left in the generated configuration"
fi

serve scgi "unix:$SOCK" --scgi "$WF_APPS/combo.py" || finish
serve fcgi "unix:$T/fcgi.sock" "$WF_APPS/combo.py" || finish

"$NGINX" -t -q -p "$T" -c "$T/nginx.conf" -e stderr >"$T/nginx-t.log" 2>&1 \
    || { fail "nginx -t rejected the configuration"; cat "$T/nginx-t.log"; cat "$T/nginx.conf"; finish; }
"$NGINX" -p "$T" -c "$T/nginx.conf" -e stderr >"$T/nginx.log" 2>&1 &
NGINX_PID=$!
track_pid "$NGINX_PID"

URL=http://127.0.0.1:$PORT
i=0
until curl -s -o /dev/null --max-time 2 "$URL/?app=hello"; do
    i=$((i + 1))
    if [ $i -ge 200 ] || ! is_alive "$NGINX_PID"; then
        fail "nginx does not answer on $URL"
        finish
    fi
    sleep 0.1
done

WF_HTTP_URL=$URL WF_HTTP_PORT=$PORT WF_HTTP_SERVER=nginx \
WF_SCGI_ADDR=unix:$SOCK WF_FCGI_ADDR=unix:$T/fcgi.sock WF_SCGI_LOG=$T/scgi.log \
    run_py t_scgi_http.py
rc=$?
case $rc in
    0) pass "requests through nginx scgi_pass" ;;
    77) skip "t_scgi_http.py skipped" ;;
    *) fail "requests through nginx scgi_pass (t_scgi_http.py exit $rc)" ;;
esac
if [ "$WF_FAILED" != 0 ]; then
    echo "---- generated nginx.conf ----"
    cat "$T/nginx.conf"
fi
finish
