#!/bin/sh
# Through Debian's cgi-fcgi (libfcgi-bin): simple requests only, since it
# has small fixed buffers for params (LIBFCGI.md #14).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
need_cmd cgi-fcgi

S=$T/app.sock
serve hello "unix:$S" "$WF_APPS/hello.py" || finish

cgi() {
    # cgi-fcgi passes its environment as params and stdin as STDIN.
    env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 SERVER_NAME=localhost \
        SERVER_PORT=80 SERVER_PROTOCOL=HTTP/1.1 SCRIPT_NAME= REMOTE_ADDR=127.0.0.1 \
        "$@" timeout -k 5 30 cgi-fcgi -bind -connect "$S"
}

out=$(cgi REQUEST_METHOD=GET PATH_INFO=/ QUERY_STRING= </dev/null | tr -d '\r')
assert_contains "$out" "Hello, world!" "cgi-fcgi GET hello: body"
assert_contains "$out" "Content-Type: text/plain" "cgi-fcgi GET hello: header"
case $out in
    "Status: 200"*|"Content-Type"*|"Content-Length"*) pass "cgi-fcgi GET hello: starts with headers" ;;
    *) fail "cgi-fcgi GET hello: unexpected start: $(printf '%s' "$out" | head -n 1)" ;;
esac
stop_pid "$SERVER_PID"
assert_eq 0 "$STOP_STATUS" "exit status after SIGTERM"

S=$T/env.sock
serve environ "unix:$S" "$WF_APPS/echo_environ.py" || finish
out=$(cgi REQUEST_METHOD=GET PATH_INFO=/a/b QUERY_STRING='x=1&y=2' HTTP_X_TEST=hello </dev/null | tr -d '\r')
assert_contains "$out" '"PATH_INFO": "/a/b"' "cgi-fcgi environ: PATH_INFO"
assert_contains "$out" '"QUERY_STRING": "x=1&y=2"' "cgi-fcgi environ: QUERY_STRING"
assert_contains "$out" '"HTTP_X_TEST": "hello"' "cgi-fcgi environ: HTTP_X_TEST"
assert_contains "$out" '"wsgi.url_scheme": "http"' "cgi-fcgi environ: url_scheme"
stop_pid "$SERVER_PID"

S=$T/body.sock
serve body "unix:$S" "$WF_APPS/echo_body.py" || finish
printf 'first line\nsecond line\nno newline' >"$T/body.txt"
out=$(cgi REQUEST_METHOD=POST PATH_INFO=/ QUERY_STRING=mode=readline \
      CONTENT_LENGTH=$(wc -c <"$T/body.txt") CONTENT_TYPE=text/plain <"$T/body.txt")
assert_contains "$out" "X-Read-Length: 33" "cgi-fcgi POST: length read"
body=$(printf '%s' "$out" | tr -d '\r' | sed '1,/^$/d')
assert_eq "$(cat "$T/body.txt")" "$body" "cgi-fcgi POST: body echoed"

out=$(cgi REQUEST_METHOD=POST PATH_INFO=/ QUERY_STRING=mode=read CONTENT_LENGTH=0 </dev/null | tr -d '\r')
assert_contains "$out" "X-Read-Length: 0" "cgi-fcgi POST of 0 bytes"

assert_serving "unix:$S" "server still answers after cgi-fcgi"
finish
