#!/bin/sh
# Bad command lines exit non-zero, quickly, with one line on stderr;
# -h/--help and -V/--version exit 0.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
APP=$WF_APPS/hello.py
S=unix:$T/s.sock

# bad WHAT ARGS...: non-zero, not hanging, exactly one line on stderr
bad() {
    _what=$1
    shift
    run_bounded 20 "$WSGI_FCGI" "$@"
    if [ "$RUN_STATUS" = 124 ] || [ "$RUN_STATUS" = 137 ]; then
        fail "$_what: did not exit (killed by timeout)"
        return
    fi
    assert_nonzero "$RUN_STATUS" "$_what: $*"
    _lines=$(grep -c . "$T/run.err")
    assert_eq 1 "$_lines" "$_what: one line on stderr"
    [ "$_lines" = 1 ] || sed 's/^/    stderr| /' "$T/run.err"
    [ -z "$(cat "$T/run.out")" ] || fail "$_what: nothing expected on stdout, got: $(head -c 300 "$T/run.out")"
}

bad "unknown option" --no-such-option "$APP"
bad "unknown short option" -Z "$APP"
bad "missing APP" -s "$S"
bad "two APPs" -s "$S" "$APP" "$APP"
bad "missing option argument" "$APP" --socket
bad "--backlog 4x" --backlog 4x -s "$S" "$APP"
bad "--backlog empty" --backlog "" -s "$S" "$APP"
bad "--backlog -1" --backlog -1 -s "$S" "$APP"
bad "--backlog overflow" --backlog 99999999999999999999999 -s "$S" "$APP"
bad "--threads 0" --threads 0 -s "$S" "$APP"
bad "--threads x" -t x -s "$S" "$APP"
bad "--threads 2.5" -t 2.5 -s "$S" "$APP"
bad "--threads huge" -t 1000000000 -s "$S" "$APP"
bad "--fd abc" --fd abc "$APP"
bad "--fd -3" --fd -3 "$APP"
bad "--socket-mode 999" --socket-mode 999 -s "$S" "$APP"
bad "--socket-mode abc" --socket-mode abc -s "$S" "$APP"
bad "--url-scheme ftp" --url-scheme ftp -s "$S" "$APP"
bad "port too big" -s 127.0.0.1:99999 "$APP"
bad "port not a number" -s 127.0.0.1:http0 "$APP"
bad "port missing" -s 127.0.0.1: "$APP"
bad "IPv6 without ]" -s "[::1:9000" "$APP"
bad "IPv6 without port" -s "[::1]" "$APP"
bad "not an address" -s nohostnoport "$APP"
bad "bad IPv4 host" -s 999.1.2.3:9000 "$APP"
bad "unix socket in a missing dir" -s "unix:$T/no/such/dir/s.sock" "$APP"
bad "empty unix path" -s unix: "$APP"
bad "--chdir missing dir" --chdir "$T/no-such-dir" -s "$S" "$APP"
bad "--socket-owner unknown user" --socket-owner no_such_user_wf -s "$S" "$APP"

# help and version
run_bounded 20 "$WSGI_FCGI" --help
assert_eq 0 "$RUN_STATUS" "--help exits 0"
assert_contains "$(cat "$T/run.out")" "--socket" "--help lists --socket"
run_bounded 20 "$WSGI_FCGI" -h
assert_eq 0 "$RUN_STATUS" "-h exits 0"
run_bounded 20 "$WSGI_FCGI" --version
assert_eq 0 "$RUN_STATUS" "--version exits 0"
assert_contains "$(cat "$T/run.out")" "wsgi-fcgi" "--version names the program"
run_bounded 20 "$WSGI_FCGI" -V
assert_eq 0 "$RUN_STATUS" "-V exits 0"

# nothing was left listening or lying around
[ ! -e "$T/s.sock" ] || fail "a failed start left $T/s.sock behind"
finish
