#!/bin/sh
# --check: exit 0 for a loadable app; non-zero, quickly, with a clear line
# on stderr naming the cause, for a missing file, a syntax error, an import
# error, a missing or a non-callable object.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi

check_ok() {
    run_bounded 30 "$WSGI_FCGI" --check "$@"
    assert_eq 0 "$RUN_STATUS" "--check $* exits 0"
    [ "$RUN_STATUS" = 0 ] || cat "$T/run.err"
}

# check_bad WHAT NEEDLE ARGS...: non-zero exit and NEEDLE on stderr
check_bad() {
    _what=$1 _needle=$2
    shift 2
    run_bounded 30 "$WSGI_FCGI" --check "$@"
    assert_nonzero "$RUN_STATUS" "--check, $_what"
    [ "$RUN_STATUS" != 124 ] || fail "--check, $_what: timed out"
    err=$(cat "$T/run.err")
    assert_contains "$err" "$_needle" "--check, $_what: stderr names the cause"
}

check_ok "$WF_APPS/hello.py"
check_ok "$WF_APPS/hello.py:other"
check_ok "$WF_APPS/hello.py:factory()"
check_ok --callable other "$WF_APPS/hello.py"
check_ok --pythonpath "$WF_APPS" wfpkg.web
check_ok --pythonpath "$WF_APPS" wfpkg.web:api
check_ok --pythonpath "$WF_APPS" 'wfpkg.web:create_app()'
check_ok --chdir "$WF_APPS" hello.py

check_bad "missing file" "no-such-file.py" "$T/no-such-file.py"
check_bad "syntax error" "SyntaxError" "$WF_APPS/bad_syntax.py"
check_bad "import error" "wf_no_such_module_xyz" "$WF_APPS/bad_import.py"
check_bad "missing application" "application" "$WF_APPS/no_application.py"
check_bad "missing NAME" "nosuchname" "$WF_APPS/hello.py:nosuchname"
check_bad "non-callable application" "application" "$WF_APPS/not_callable.py"
check_bad "non-callable NAME" "not_callable" "$WF_APPS/hello.py:not_callable"
check_bad "--callable missing" "nosuchname" --callable nosuchname "$WF_APPS/hello.py"
check_bad "missing module" "wf_no_such_pkg" --pythonpath "$WF_APPS" wf_no_such_pkg.web
check_bad "missing attribute in module" "nosuchname" --pythonpath "$WF_APPS" wfpkg.web:nosuchname
check_bad "missing factory" "nofactory" --pythonpath "$WF_APPS" 'wfpkg.web:nofactory()'

# Loading failures without --check: the same, and no socket left behind.
run_bounded 30 "$WSGI_FCGI" -s "unix:$T/x.sock" "$WF_APPS/bad_syntax.py"
assert_nonzero "$RUN_STATUS" "serving an app with a syntax error exits non-zero"
[ "$RUN_STATUS" != 124 ] || fail "serving a broken app: did not exit (timed out)"
assert_contains "$(cat "$T/run.err")" "SyntaxError" "serving a broken app: the cause on stderr"
run_bounded 30 "$WSGI_FCGI" -s "unix:$T/y.sock" "$T/no-such-file.py"
assert_nonzero "$RUN_STATUS" "serving a missing file exits non-zero"
finish
