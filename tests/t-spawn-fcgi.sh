#!/bin/sh
# Under spawn-fcgi: -n (exec'd in the foreground, socket on fd 0), fork mode
# with a pidfile, a TCP socket, a broken app (spawn-fcgi reports it, or the
# child is gone at once), and contrib/spawn-fcgi.sh as shipped.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
need_cmd spawn-fcgi
APP=$WF_APPS/hello.py

# --- -n: spawn-fcgi binds, then execs wsgi-fcgi with the socket on fd 0
S=$T/n.sock
spawn-fcgi -n -s "$S" -- "$WSGI_FCGI" "$APP" </dev/null >"$T/spawn-n.log" 2>&1 &
SERVER_PID=$!
track_pid "$SERVER_PID"
if wait_for_socket "unix:$S" 20 "$SERVER_PID"; then
    assert_serving "unix:$S" "spawn-fcgi -n: serves"
    assert_serving "unix:$S" "spawn-fcgi -n: serves again"
else
    fail "spawn-fcgi -n: not serving"
fi
stop_pid "$SERVER_PID"
assert_eq 0 "$STOP_STATUS" "spawn-fcgi -n: exit status after SIGTERM"

# --- fork mode: spawn-fcgi forks the child and exits; the pidfile names it
S=$T/f.sock
run_bounded 30 spawn-fcgi -s "$S" -P "$T/f.pid" -- "$WSGI_FCGI" "$APP"
assert_eq 0 "$RUN_STATUS" "spawn-fcgi (fork mode) exit status"
pid=$(cat "$T/f.pid" 2>/dev/null)
printed=$(sed -n 's/.*PID: *\([0-9][0-9]*\).*/\1/p' "$T/run.out" "$T/run.err" | head -n 1)
if [ -n "$pid" ]; then
    track_pid "$pid"
    assert_eq "$pid" "$printed" "spawn-fcgi pidfile matches the PID it printed"
    if wait_for_socket "unix:$S" 20 "$pid"; then
        assert_serving "unix:$S" "spawn-fcgi fork mode: serves"
    else
        fail "spawn-fcgi fork mode: not serving"
    fi
    stop_pid "$pid"
    is_alive "$pid" && fail "spawn-fcgi child $pid still alive after SIGTERM"
else
    fail "spawn-fcgi wrote no pidfile"
    cat "$T/run.out" "$T/run.err"
fi

# --- a TCP socket on 127.0.0.1
P=$(free_port)
spawn-fcgi -n -a 127.0.0.1 -p "$P" -- "$WSGI_FCGI" "$APP" </dev/null >"$T/spawn-tcp.log" 2>&1 &
SERVER_PID=$!
track_pid "$SERVER_PID"
if wait_for_socket "127.0.0.1:$P" 20 "$SERVER_PID"; then
    assert_serving "127.0.0.1:$P" "spawn-fcgi -n on 127.0.0.1:PORT: serves"
else
    fail "spawn-fcgi on TCP: not serving"
fi
stop_pid "$SERVER_PID"

# --- a broken app: spawn-fcgi reports the failure, or its child is gone
S=$T/bad.sock
run_bounded 30 spawn-fcgi -s "$S" -P "$T/bad.pid" -- "$WSGI_FCGI" "$WF_APPS/bad_syntax.py"
if [ "$RUN_STATUS" != 0 ]; then
    pass "spawn-fcgi reports a child that cannot load its app (exit $RUN_STATUS)"
else
    pid=$(cat "$T/bad.pid" 2>/dev/null)
    if [ -n "$pid" ]; then
        track_pid "$pid"
        i=0
        while is_alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        if is_alive "$pid"; then
            fail "a child that cannot load its app is still running"
        else
            pass "a child that cannot load its app exits (after spawn-fcgi's 100 ms)"
        fi
    else
        fail "spawn-fcgi returned 0 but wrote no pidfile for the broken app"
    fi
fi

# --- contrib/spawn-fcgi.sh as shipped, in both modes
S=$T/contrib.sock
run_bounded 30 env WSGI_FCGI="$WSGI_FCGI" APP="$WF_APPS/echo_environ.py" SOCKET="$S" \
    SOCKET_USER= PIDFILE="$T/contrib.pid" WSGI_FCGI_ARGS="--threads 2" \
    sh "$WF_TOP/contrib/spawn-fcgi.sh"
assert_eq 0 "$RUN_STATUS" "contrib/spawn-fcgi.sh exit status"
pid=$(cat "$T/contrib.pid" 2>/dev/null)
if [ -n "$pid" ]; then
    track_pid "$pid"
    if wait_for_socket "unix:$S" 20 "$pid"; then
        assert_eq 660 "$(stat -c %a "$S")" "contrib/spawn-fcgi.sh: socket mode 0660"
        out=$(fcgi "unix:$S" --print body --timeout 30)
        assert_contains "$out" '"wsgi.multithread": true' "contrib/spawn-fcgi.sh: WSGI_FCGI_ARGS passed (--threads 2)"
    else
        fail "contrib/spawn-fcgi.sh: not serving"
    fi
    stop_pid "$pid"
else
    fail "contrib/spawn-fcgi.sh: no pidfile"
    cat "$T/run.out" "$T/run.err"
fi

S=$T/contrib-n.sock
env WSGI_FCGI="$WSGI_FCGI" APP="$APP" SOCKET="$S" SOCKET_USER= FOREGROUND=1 \
    sh "$WF_TOP/contrib/spawn-fcgi.sh" </dev/null >"$T/contrib-n.log" 2>&1 &
SERVER_PID=$!
track_pid "$SERVER_PID"
if wait_for_socket "unix:$S" 20 "$SERVER_PID"; then
    assert_serving "unix:$S" "contrib/spawn-fcgi.sh FOREGROUND=1: serves"
else
    fail "contrib/spawn-fcgi.sh FOREGROUND=1: not serving"
fi
stop_pid "$SERVER_PID"
finish
