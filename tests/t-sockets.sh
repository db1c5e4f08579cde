#!/bin/sh
# Listening sockets: -s unix:PATH, -s PATH, -s 127.0.0.1:PORT, -s [::1]:PORT,
# --socket-mode (default 0660), a stale socket file replaced, a live one an
# error, --fd N, and fd 0 (the spawn-fcgi / FCGI_LISTENSOCK_FILENO contract).
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
APP=$WF_APPS/hello.py

# --- unix:PATH, default mode 0660
S=$T/a.sock
if serve unix "unix:$S" "$APP"; then
    assert_serving "unix:$S" "-s unix:PATH serves"
    assert_eq 660 "$(stat -c %a "$S")" "default unix socket mode"
    assert_eq socket "$(stat -c %F "$S" | sed 's/^.* //')" "unix:PATH is a socket"
    log=$(cat "$T/unix.log")
    assert_contains "$log" "serving" "start-up line says serving"
    assert_contains "$log" "[info]" "start-up line at info level"

    # --- a live socket is an error; the first instance keeps working
    run_bounded 20 "$WSGI_FCGI" -s "unix:$S" "$APP"
    assert_nonzero "$RUN_STATUS" "second instance on a live socket"
    [ "$RUN_STATUS" != 124 ] || fail "second instance on a live socket did not exit"
    assert_eq 1 "$(grep -c . "$T/run.err")" "second instance: one line on stderr"
    assert_serving "unix:$S" "first instance still serves after the refused second one"
    stop_pid "$SERVER_PID"
    assert_eq 0 "$STOP_STATUS" "exit status after SIGTERM"
fi

# --- PATH (contains a /)
S=$T/b.sock
if serve path "$S" "$APP"; then
    assert_serving "unix:$S" "-s PATH serves"
    stop_pid "$SERVER_PID"
fi

# --- --socket-mode
S=$T/c.sock
if serve mode "unix:$S" --socket-mode 0600 "$APP"; then
    assert_eq 600 "$(stat -c %a "$S")" "--socket-mode 0600"
    assert_serving "unix:$S" "--socket-mode 0600 serves"
    stop_pid "$SERVER_PID"
fi
S=$T/d.sock
if serve mode666 "unix:$S" --socket-mode 666 "$APP"; then
    assert_eq 666 "$(stat -c %a "$S")" "--socket-mode 666"
    assert_contains "$(cat "$T/mode666.log")" "[warning]" "world-writable socket: a warning"
    stop_pid "$SERVER_PID"
fi

# --- --socket-owner (needs root to give the socket away)
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null && getent group nogroup >/dev/null; then
    S=$T/owner.sock
    if serve owner "unix:$S" --socket-owner nobody:nogroup "$APP"; then
        assert_eq nobody:nogroup "$(stat -c %U:%G "$S")" "--socket-owner nobody:nogroup"
        assert_eq 660 "$(stat -c %a "$S")" "--socket-owner keeps mode 0660"
        assert_serving "unix:$S" "--socket-owner: serves"
        stop_pid "$SERVER_PID"
    fi
    S=$T/owner2.sock
    if serve owner2 "unix:$S" --socket-owner nobody "$APP"; then
        assert_eq nobody "$(stat -c %U "$S")" "--socket-owner nobody"
        stop_pid "$SERVER_PID"
    fi
else
    echo "note: not root (or no nobody/nogroup); --socket-owner not tested"
fi

# --- a stale socket file (nobody listening) is replaced
S=$T/stale.sock
"$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.close()' "$S"
[ -S "$S" ] || fail "could not make a stale socket file"
if serve stale "unix:$S" "$APP"; then
    assert_serving "unix:$S" "stale socket replaced"
    stop_pid "$SERVER_PID"
fi

# --- 127.0.0.1:PORT, and a busy port is an error
P=$(free_port)
if serve tcp "127.0.0.1:$P" "$APP"; then
    assert_serving "127.0.0.1:$P" "-s 127.0.0.1:PORT serves"
    run_bounded 20 "$WSGI_FCGI" -s "127.0.0.1:$P" "$APP"
    assert_nonzero "$RUN_STATUS" "second instance on a busy TCP port"
    assert_serving "127.0.0.1:$P" "first TCP instance still serves"
    stop_pid "$SERVER_PID"
fi

# --- [::1]:PORT
if have_ipv6; then
    P=$(free_port6)
    if serve tcp6 "[::1]:$P" "$APP"; then
        assert_serving "[::1]:$P" "-s [::1]:PORT serves"
        stop_pid "$SERVER_PID"
    fi
else
    echo "note: no IPv6 on lo; [::1]:PORT not tested"
fi

# --- --backlog
S=$T/e.sock
if serve backlog "unix:$S" --backlog 7 "$APP"; then
    assert_serving "unix:$S" "--backlog 7 serves"
    stop_pid "$SERVER_PID"
fi

# --- --fd N: a listening socket made by a helper that then execs us
# exec_with_listener FD PATH ARGS...: bind+listen PATH, dup it to FD, exec
exec_with_listener() {
    "$PYTHON" -c 'import os, socket, sys
fd, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
if s.fileno() != fd:
    os.dup2(s.fileno(), fd)
    s.close()
os.set_inheritable(fd, True)
if fd != 0:
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
os.execv(sys.argv[3], sys.argv[3:])' "$@" &
    SERVER_PID=$!
    track_pid "$SERVER_PID"
}

S=$T/fd.sock
exec_with_listener 5 "$S" "$WSGI_FCGI" --fd 5 "$APP" >"$T/fd5.log" 2>&1
if wait_for_socket "unix:$S" 20 "$SERVER_PID"; then
    assert_serving "unix:$S" "--fd 5 serves"
    assert_serving "unix:$S" "--fd 5 serves a second request"
else
    fail "--fd 5 did not serve"
fi
stop_pid "$SERVER_PID"

S=$T/fd0.sock
exec_with_listener 0 "$S" "$WSGI_FCGI" "$APP" >"$T/fd0.log" 2>&1
if wait_for_socket "unix:$S" 20 "$SERVER_PID"; then
    assert_serving "unix:$S" "a listening socket on fd 0 is served"
    assert_serving "unix:$S" "fd 0: a second request"
else
    fail "a listening socket on fd 0 was not served"
fi
stop_pid "$SERVER_PID"

# --- a TCP listener on fd 0
P=$(free_port)
"$PYTHON" -c 'import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
os.dup2(s.fileno(), 0)
s.close()
os.set_inheritable(0, True)
os.execv(sys.argv[2], sys.argv[2:])' "$P" "$WSGI_FCGI" "$APP" >"$T/fd0tcp.log" 2>&1 &
SERVER_PID=$!
track_pid "$SERVER_PID"
if wait_for_socket "127.0.0.1:$P" 20 "$SERVER_PID"; then
    assert_serving "127.0.0.1:$P" "a TCP listening socket on fd 0 is served"
else
    fail "a TCP listening socket on fd 0 was not served"
fi
stop_pid "$SERVER_PID"
finish
