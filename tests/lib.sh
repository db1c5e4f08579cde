# tests/lib.sh: helpers shared by the tests/t-*.sh black-box tests.
#
# Source it first thing:   . "$srcdir/tests/lib.sh"
#
# It makes a private temp dir ($T), installs a cleanup trap that stops only
# the processes this test started (by PID, recorded by start_server and
# track_pid) and removes $T, and offers:
#
#   skip MSG                 exit 77 (automake's "skipped")
#   need_cmd CMD             skip unless CMD is installed
#   free_port / free_port6   a free loopback TCP port (127.0.0.1 / ::1)
#   have_ipv6                true when ::1 can be bound
#   wait_for_socket ADDR [S] wait (bounded, default 20 s) until ADDR accepts
#   start_server NAME ARGS.. run "$WSGI_FCGI" ARGS in the background, stderr
#                            and stdout to $T/NAME.log; sets SERVER_PID
#   stop_pid PID             SIGTERM, wait (bounded), SIGKILL; sets STOP_STATUS
#   track_pid PID            have the cleanup stop PID too
#   fcgi ARGS..              run tests/fcgi_client.py ARGS
#   fail MSG / assert_eq EXPECTED ACTUAL WHAT / assert_contains HAY NEEDLE WHAT
#   assert_not_contains HAY NEEDLE WHAT / assert_nonzero RC WHAT
#   finish                   dump logs on failure, exit 0 or 1
#
# Environment from the Makefile: srcdir, top_builddir, WSGI_FCGI, PYTHON.

set -u

: "${srcdir:=.}"
: "${PYTHON:=python3}"
: "${WSGI_FCGI:=${top_builddir:-.}/src/wsgi-fcgi}"
# The source tree may be read-only (make distcheck): no byte code there,
# neither from our scripts nor from the apps the embedded Python imports.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

WF_TESTS=$(cd "$srcdir/tests" && pwd) || exit 99
WF_APPS=$WF_TESTS/apps
WF_TOP=$(cd "$WF_TESTS/.." && pwd)
WF_FAILED=0
WF_PIDS=
STOP_STATUS=
SERVER_PID=

T=$(mktemp -d "${TMPDIR:-/tmp}/wf-test.XXXXXX") || exit 99

# ------------------------------------------------------------ processes

# A process is alive when it exists and is not a zombie.
is_alive() {
    [ -r "/proc/$1/stat" ] || return 1
    case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) in
        Z|X|'') return 1 ;;
    esac
    return 0
}

track_pid() {
    WF_PIDS="$WF_PIDS $1"
}

untrack_pid() {
    _n=
    for _p in $WF_PIDS; do
        [ "$_p" = "$1" ] || _n="$_n $_p"
    done
    WF_PIDS=$_n
}

# stop_pid PID [SIGNAL]: signal (default TERM), wait up to 20 s, then KILL.
# STOP_STATUS is the exit status when PID was our child, else empty.
stop_pid() {
    _pid=$1
    STOP_STATUS=
    kill -"${2:-TERM}" "$_pid" 2>/dev/null
    _i=0
    while is_alive "$_pid" && [ $_i -lt 200 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if is_alive "$_pid"; then
        echo "lib.sh: pid $_pid still alive 20 s after SIG${2:-TERM}; killing" >&2
        kill -KILL "$_pid" 2>/dev/null
        sleep 0.2
    fi
    wait "$_pid" 2>/dev/null
    STOP_STATUS=$?
    untrack_pid "$_pid"
}

wf_cleanup() {
    _rc=$?
    for _p in $WF_PIDS; do
        stop_pid "$_p"
    done
    if [ "$WF_FAILED" != 0 ] || [ "$_rc" != 0 -a "$_rc" != 77 ]; then
        if [ "${WF_KEEP_TMP:-0}" = 1 ]; then
            echo "temp dir kept: $T"
            return
        fi
    fi
    rm -rf "$T"
}
trap wf_cleanup EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------ skipping

skip() {
    echo "SKIP: $*"
    exit 77
}

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

need_wsgi_fcgi() {
    [ -x "$WSGI_FCGI" ] || { echo "FAIL: WSGI_FCGI=$WSGI_FCGI is not executable"; exit 99; }
}

# ------------------------------------------------------------ sockets

free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

free_port6() {
    "$PYTHON" -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))
print(s.getsockname()[1])'
}

have_ipv6() {
    "$PYTHON" -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null
}

# can_connect ADDR: one connection attempt (unix:PATH, PATH, HOST:PORT, [V6]:PORT)
can_connect() {
    "$PYTHON" -c 'import sys
sys.path.insert(0, sys.argv[2])
import fcgi_client
try:
    fcgi_client.connect(sys.argv[1], 2).close()
except OSError:
    sys.exit(1)' "$1" "$WF_TESTS"
}

# wait_for_socket ADDR [SECONDS] [PID]: bounded wait until ADDR accepts;
# gives up early when PID (if given) exits.
wait_for_socket() {
    "$PYTHON" -c 'import sys, time, os
sys.path.insert(0, sys.argv[3])
import fcgi_client
deadline = time.monotonic() + float(sys.argv[2])
pid = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else 0
def alive(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False
while True:
    try:
        fcgi_client.connect(sys.argv[1], 2).close()
        sys.exit(0)
    except OSError:
        pass
    if pid and not alive(pid):
        print("wait_for_socket: pid %d exited before %s accepted" % (pid, sys.argv[1]), file=sys.stderr)
        sys.exit(1)
    if time.monotonic() > deadline:
        print("wait_for_socket: %s not accepting after %ss" % (sys.argv[1], sys.argv[2]), file=sys.stderr)
        sys.exit(1)
    time.sleep(0.05)' "$1" "${2:-20}" "$WF_TESTS" "${3:-}"
}

# start_server NAME ARGS...: the binary in the background, logs in $T/NAME.log
start_server() {
    _name=$1
    shift
    "$WSGI_FCGI" "$@" </dev/null >"$T/$_name.log" 2>&1 &
    SERVER_PID=$!
    track_pid "$SERVER_PID"
}

# serve NAME ADDR ARGS...: start_server with -s ADDR and wait until it accepts
serve() {
    _name=$1
    _addr=$2
    shift 2
    start_server "$_name" -s "$_addr" "$@"
    wait_for_socket "$_addr" 20 "$SERVER_PID" || {
        fail "$_name did not start listening on $_addr"
        return 1
    }
}

# fcgi ARGS...: our FastCGI client (see tests/fcgi_client.py --help)
fcgi() {
    "$PYTHON" "$WF_TESTS/fcgi_client.py" "$@"
}

# status_of ADDR [client args]: the HTTP status a request gets ("None" if none)
status_of() {
    _a=$1
    shift
    fcgi "$_a" --print status --timeout 30 "$@" 2>"$T/client.err" || true
}

# ------------------------------------------------------------ assertions

fail() {
    echo "FAIL: $*"
    WF_FAILED=1
}

pass() {
    echo "ok: $*"
}

assert_eq() {
    if [ "x$1" = "x$2" ]; then
        pass "$3"
    else
        fail "$3"
        echo "    expected: $1"
        echo "    actual:   $2"
    fi
}

assert_contains() {
    case $1 in
        *"$2"*) pass "$3" ;;
        *) fail "$3"
           echo "    expected to contain: $2"
           echo "    actual: $(printf '%s' "$1" | head -c 2000)" ;;
    esac
}

assert_not_contains() {
    case $1 in
        *"$2"*) fail "$3"
                echo "    expected NOT to contain: $2"
                echo "    actual: $(printf '%s' "$1" | head -c 2000)" ;;
        *) pass "$3" ;;
    esac
}

assert_nonzero() {
    if [ "$1" != 0 ]; then
        pass "$2 (exit $1)"
    else
        fail "$2: expected a non-zero exit status, got 0"
    fi
}

# assert_serving ADDR WHAT: a normal request gets a 200
assert_serving() {
    assert_eq 200 "$(status_of "$1")" "${2:-server still answers}"
}

# run_bounded SECONDS CMD...: run CMD with a time limit (coreutils timeout);
# sets RUN_STATUS, stdout in $T/run.out, stderr in $T/run.err
run_bounded() {
    _secs=$1
    shift
    timeout -k 5 "$_secs" "$@" </dev/null >"$T/run.out" 2>"$T/run.err"
    RUN_STATUS=$?
}

# ------------------------------------------------------------ logs

dump_logs() {
    for _f in "$T"/*.log; do
        [ -f "$_f" ] || continue
        echo "---- $_f ----"
        tail -c 20000 "$_f"
        echo "---- end of $_f ----"
    done
}

finish() {
    if [ "$WF_FAILED" != 0 ]; then
        dump_logs
        exit 1
    fi
    exit 0
}

# run_py SCRIPT: a Python test (tests/py/SCRIPT) with the matching interpreter
run_py() {
    "$PYTHON" "$WF_TESTS/py/$1"
}
