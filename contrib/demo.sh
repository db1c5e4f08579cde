#!/usr/bin/env bash
# contrib/demo.sh: build wsgi-fcgi and serve contrib/example/app.py behind nginx.
#
#   bash contrib/demo.sh                 # prints the URL; Ctrl-C stops everything
#   PORT=9090 bash contrib/demo.sh       # another loopback port
#   DEMO_ONESHOT=1 bash contrib/demo.sh  # start, fetch / once, print it, stop
#   DEMO_BIN=/path/to/wsgi-fcgi ...      # use that binary: no packages, no build
#                                        # (tests/t-demo.py runs the demo this way)
#
# As root on Debian it first installs the packages it needs.  It builds out of
# tree in build/demo, starts
#     wsgi-fcgi -s unix:TMP/app.sock contrib/example/app.py
# and an nginx whose configuration is contrib/nginx/wsgi-fcgi.conf inside
# tests/web/nginx.conf (the same two files the test suite fills in), both with
# everything (socket, pid file, logs, temp files) in one temporary directory.
# On exit it stops exactly the two processes it started and removes that
# directory.  The .deb's check (tests/deb-check.sh) runs it with
# DEMO_BIN=/usr/bin/wsgi-fcgi from a source tree.

set -euo pipefail

PACKAGES="build-essential autoconf automake autoconf-archive pkg-config \
libfcgi-dev python3-dev nginx curl"
NGINX=${NGINX:-/usr/sbin/nginx}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD="$ROOT/build/demo"
APP="$ROOT/contrib/example/app.py"
SNIPPET="$ROOT/contrib/nginx/wsgi-fcgi.conf"
MAIN_CONF="$ROOT/tests/web/nginx.conf"

say() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# ---- packages ------------------------------------------------------------------
if [ -z "${DEMO_BIN:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for p in $PACKAGES; do
        grep -q 'install ok installed' <<< "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" \
            || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        say "installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        # shellcheck disable=SC2086
        apt-get update </dev/null >/dev/null
        # shellcheck disable=SC2086
        apt-get install -y --no-install-recommends $PACKAGES </dev/null >/dev/null
    fi
fi
[ -x "$NGINX" ] || die "$NGINX not found (apt-get install nginx)"
command -v curl >/dev/null 2>&1 || die "curl not found (apt-get install curl)"
[ -f "$APP" ] || die "$APP not found"
[ -f "$SNIPPET" ] || die "$SNIPPET not found"
[ -f "$MAIN_CONF" ] || die "$MAIN_CONF not found"

# ---- build ---------------------------------------------------------------------
if [ -n "${DEMO_BIN:-}" ]; then
    BIN=$DEMO_BIN
else
    [ -f "$ROOT/config.status" ] &&
        die "the source tree is configured in place; run 'make distclean' there first (the demo builds in build/demo)"
    mkdir -p "$BUILD"
    say "building in build/demo (log: build/demo/build.log)"
    if ! {
        autoreconf -fi &&
        { [ -f "$BUILD/Makefile" ] || (cd "$BUILD" && "$ROOT/configure"); } &&
        make -C "$BUILD" -j"$(nproc 2>/dev/null || echo 2)"
    } >"$BUILD/build.log" 2>&1; then
        tail -n 30 "$BUILD/build.log" >&2
        die "build failed (full log: $BUILD/build.log)"
    fi
    BIN="$BUILD/src/wsgi-fcgi"
fi
[ -x "$BIN" ] || die "$BIN was not built"

# ---- port --------------------------------------------------------------------------
port_free() {
    # true when nothing listens on 127.0.0.1:$1 and it can be bound
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}
if [ -n "${PORT:-}" ]; then
    case $PORT in *[!0-9]*|"") die "PORT must be a number" ;; esac
    port_free "$PORT" || die "port $PORT is in use"
elif port_free 8080; then
    PORT=8080
else
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

# ---- run ---------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsgi-fcgi-demo.XXXXXX")
WF_PID=""
NGINX_PID=""

# shellcheck disable=SC2317  # called from the traps
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
    trap - EXIT INT TERM
    stop_pid "$NGINX_PID"
    stop_pid "$WF_PID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "stopping"; exit 0' INT TERM

SOCK="$TMP/app.sock"
mkdir -p "$TMP/temp"

# nginx.conf: the test suite's main configuration (everything under $TMP)
# around the project's server block, placeholders filled in.
sed -e "s|@SOCKET@|$SOCK|g" -e "s|@UPSTREAM@|unix:$SOCK|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@HOST@|127.0.0.1|g" "$SNIPPET" >"$TMP/site.conf"
sed -e "s|@PREFIX@|$TMP|g" -e "s|@ERROR_LOG@|stderr|g" \
    -e "s|^@HTTP@\$|    include $TMP/site.conf;|" "$MAIN_CONF" >"$TMP/nginx.conf"
if grep -n '@[A-Z][A-Z0-9_]*@' "$TMP/nginx.conf" "$TMP/site.conf" >&2; then
    die "placeholders left in the generated configuration"
fi

say "starting $BIN -s unix:$SOCK contrib/example/app.py"
"$BIN" -s "unix:$SOCK" "$APP" &
WF_PID=$!
for _ in $(seq 100); do
    [ -S "$SOCK" ] && break
    kill -0 "$WF_PID" 2>/dev/null || die "wsgi-fcgi exited during start-up"
    sleep 0.1
done
[ -S "$SOCK" ] || die "wsgi-fcgi did not create $SOCK"

"$NGINX" -t -q -p "$TMP" -c "$TMP/nginx.conf" -e stderr || die "nginx rejected $TMP/nginx.conf"
say "starting nginx on 127.0.0.1:$PORT"
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e stderr &
NGINX_PID=$!

URL="http://127.0.0.1:$PORT/"
up=""
for _ in $(seq 100); do
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited during start-up"
    # nginx answers 502 until a wsgi-fcgi worker has loaded the application
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL" || true)
    case $code in 2??|3??|4??) up=1; break ;; esac
    sleep 0.1
done
[ -n "$up" ] || die "$URL does not answer"

if [ "${DEMO_ONESHOT:-0}" = 1 ]; then
    response=$(curl -sS -i --max-time 10 "$URL") || die "GET $URL failed"
    printf '%s\n' "$response"
    case $(printf '%s\n' "$response" | head -n 1) in
        HTTP/*" 200"*) exit 0 ;;
        *) die "GET $URL did not answer 200" ;;
    esac
fi

echo
echo "wsgi-fcgi demo is up: $URL"
echo "(contrib/example/app.py behind nginx; Ctrl-C stops both)"
echo
# Wait until a signal arrives or one of the two processes ends.
wait -n "$WF_PID" "$NGINX_PID" || true
say "a server process ended; stopping"
exit 1
