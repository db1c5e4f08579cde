#!/bin/sh
# Through a real nginx (Debian's /usr/sbin/nginx, non-daemon, everything in
# the temp dir) using contrib/nginx/wsgi-fcgi.conf with its documented
# placeholders (@HOST@ @PORT@ @SOCKET@) replaced: GET with a query string and
# a non-ASCII percent-encoded path, the environ a WSGI app sees (SCRIPT_NAME,
# PATH_INFO), POST 1 MiB, a 10 MiB download, HEAD.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
NGINX=${NGINX:-/usr/sbin/nginx}
[ -x "$NGINX" ] || skip "nginx not installed ($NGINX)"
[ -f /etc/nginx/fastcgi_params ] || skip "/etc/nginx/fastcgi_params missing"
need_cmd curl

SOCK=$T/app.sock
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
        "$WF_TOP/contrib/nginx/wsgi-fcgi.conf"
    echo "}"
} >"$T/nginx.conf"
if grep -n '@[A-Z]*@' "$T/nginx.conf"; then
    fail "placeholders left in the generated configuration"
fi

serve wsgi "unix:$SOCK" "$WF_APPS/combo.py" || finish

"$NGINX" -t -q -p "$T" -c "$T/nginx.conf" -e stderr >"$T/nginx-t.log" 2>&1 \
    || { fail "nginx -t rejected the configuration"; cat "$T/nginx-t.log"; finish; }
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

# curl_to FILE ARGS...: body to FILE, headers to FILE.h, prints the status
curl_to() {
    _f=$1
    shift
    curl -sS --max-time 120 -o "$_f" -D "$_f.h" -w '%{http_code}' "$@"
}

# --- GET with a query string and a non-ASCII percent-encoded path
code=$(curl_to "$T/env.json" "$URL/caf%C3%A9/sub%20dir/x?app=environ&q=%C3%A9+1&z=")
assert_eq 200 "$code" "GET environ status"
"$PYTHON" - "$T/env.json" "$PORT" >"$T/env.check" 2>&1 <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))["environ"]
port = sys.argv[2]
want = {
    "SCRIPT_NAME": "",
    "PATH_INFO": "/caf\u00e9/sub dir/x".encode("utf-8").decode("latin-1"),
    "QUERY_STRING": "app=environ&q=%C3%A9+1&z=",
    "REQUEST_METHOD": "GET",
    "SERVER_PORT": port,
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REQUEST_URI": "/caf%C3%A9/sub%20dir/x?app=environ&q=%C3%A9+1&z=",
    "HTTP_HOST": "127.0.0.1:" + port,
    "wsgi.url_scheme": "http",
    "REQUEST_SCHEME": "http",
}
bad = 0
for k, v in want.items():
    if env.get(k) != v:
        print("environ[%r]: expected %r, got %r" % (k, v, env.get(k)))
        bad = 1
for k in ("SERVER_NAME", "REMOTE_ADDR", "wsgi.input", "wsgi.errors"):
    if k not in env:
        print("environ[%r] missing" % k)
        bad = 1
sys.exit(bad)
PY
if [ $? = 0 ]; then pass "environ through nginx (SCRIPT_NAME, PATH_INFO, ...)"
else fail "environ through nginx"; cat "$T/env.check"; fi

# --- the root path
code=$(curl_to "$T/root.json" "$URL/?app=environ")
assert_eq 200 "$code" "GET / status"
assert_contains "$(cat "$T/root.json")" '"PATH_INFO": "/"' "GET /: PATH_INFO is /"
assert_contains "$(cat "$T/root.json")" '"SCRIPT_NAME": ""' "GET /: SCRIPT_NAME is empty"

# --- POST 1 MiB
"$PYTHON" -c 'import os, sys
sys.stdout.buffer.write(os.urandom(1 << 20))' >"$T/up.bin"
code=$(curl_to "$T/up.out" -H 'Content-Type: application/octet-stream' \
       --data-binary "@$T/up.bin" "$URL/upload?app=body&mode=readn&n=65536")
assert_eq 200 "$code" "POST 1 MiB status"
if cmp -s "$T/up.bin" "$T/up.out"; then pass "POST 1 MiB echoed intact"
else fail "POST 1 MiB: the body read differs ($(wc -c <"$T/up.out") bytes back)"; fi

# --- 10 MiB download (streamed by a generator, no Content-Length)
N=10485763
code=$(curl_to "$T/down.bin" "$URL/download?app=download&n=$N&chunk=65536")
assert_eq 200 "$code" "10 MiB download status"
"$PYTHON" - "$T/down.bin" "$N" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
base = bytes(range(251))
want = (base * (n // 251 + 1))[:n]
if data != want:
    print("download: %d bytes, expected %d, equal prefix %d" % (
        len(data), n, next((i for i in range(min(len(data), n)) if data[i] != want[i]), min(len(data), n))))
    sys.exit(1)
PY
if [ $? = 0 ]; then pass "10 MiB download intact"; else fail "10 MiB download"; fi

# --- HEAD
code=$(curl -sS --max-time 60 -I -o "$T/head.h" -w '%{http_code}' "$URL/?app=hello")
assert_eq 200 "$code" "HEAD status"
assert_contains "$(cat "$T/head.h")" "Content-Type: text/plain" "HEAD: Content-Type"
assert_contains "$(cat "$T/head.h")" "Content-Length: 14" "HEAD: Content-Length"

# --- still serving, and the log says nothing went wrong
code=$(curl_to "$T/hello.txt" "$URL/?app=hello")
assert_eq 200 "$code" "GET after the others"
assert_eq "Hello, world!" "$(cat "$T/hello.txt")" "hello body through nginx"
assert_not_contains "$(cat "$T/wsgi.log")" "Traceback" "no traceback in the wsgi-fcgi log"
if [ "$WF_FAILED" != 0 ]; then
    echo "---- generated nginx.conf ----"
    cat "$T/nginx.conf"
fi
finish
