#!/bin/sh
# contrib/spawn-fcgi.sh: start wsgi-fcgi under spawn-fcgi (an example; adapt
# the variables, or set them in the environment).
#
# spawn-fcgi creates the socket, sets its mode and owner, optionally drops
# privileges, and starts wsgi-fcgi with the listening socket on fd 0 (the
# FastCGI FCGI_LISTENSOCK_FILENO contract, which wsgi-fcgi detects by itself).
# It judges the child by whether it exits within 100 ms: wsgi-fcgi exits at
# once, non-zero, when the application cannot be loaded.
#
#   WSGI_FCGI    the binary                        (/usr/local/bin/wsgi-fcgi)
#   APP          the application, any APP form     (/srv/app/app.py)
#   SOCKET       the unix socket to create         (/run/wsgi-fcgi/app.sock)
#   SOCKET_MODE  its permissions                   (0660)
#   SOCKET_USER  its owner, so nginx can connect   (www-data; empty: unchanged)
#   RUN_USER     user to run as (spawn-fcgi -u, when started as root; empty: unchanged)
#   PIDFILE      where spawn-fcgi writes the child's PID (/run/wsgi-fcgi/app.pid)
#   FOREGROUND   1: spawn-fcgi -n, i.e. exec wsgi-fcgi in the foreground
#                (for systemd, daemontools, runit); 0: fork and return (0)
#   WSGI_FCGI_ARGS  more wsgi-fcgi options, e.g. "--threads 4 --chdir /srv/app"
#
# Stop it with:  kill "$(cat "$PIDFILE")"   (SIGTERM: in-flight requests finish)

: "${WSGI_FCGI:=/usr/local/bin/wsgi-fcgi}"
: "${APP:=/srv/app/app.py}"
: "${SOCKET:=/run/wsgi-fcgi/app.sock}"
: "${SOCKET_MODE:=0660}"
: "${SOCKET_USER=www-data}"
: "${RUN_USER=}"
: "${PIDFILE:=/run/wsgi-fcgi/app.pid}"
: "${FOREGROUND:=0}"
: "${WSGI_FCGI_ARGS:=}"

set -- -s "$SOCKET" -M "$SOCKET_MODE"
[ -n "$SOCKET_USER" ] && set -- "$@" -U "$SOCKET_USER"
[ -n "$RUN_USER" ] && set -- "$@" -u "$RUN_USER"
if [ "$FOREGROUND" = 1 ]; then
    set -- "$@" -n
else
    set -- "$@" -P "$PIDFILE"
fi

# WSGI_FCGI_ARGS is split on spaces on purpose (no option takes a value
# containing one here).
# shellcheck disable=SC2086
exec spawn-fcgi "$@" -- "$WSGI_FCGI" $WSGI_FCGI_ARGS "$APP"
