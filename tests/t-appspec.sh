#!/bin/sh
# The APP forms: file.py, file.py:NAME, file.py:factory(), pkg.module,
# pkg.module:NAME, pkg.module:factory(), with --pythonpath, --chdir and
# --callable; each served and answered with the right callable.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi

n=0
# expect_body EXPECTED ARGS...: serve ARGS and check the body of one GET
expect_body() {
    _want=$1
    shift
    n=$((n + 1))
    S=$T/s$n.sock
    if serve "app$n" "unix:$S" "$@"; then
        got=$(fcgi "unix:$S" --print body --timeout 30)
        assert_eq "$_want" "$got" "served: $*"
        stop_pid "$SERVER_PID"
    fi
}

expect_body "Hello, world!" "$WF_APPS/hello.py"
expect_body "other" "$WF_APPS/hello.py:other"
expect_body "factory" "$WF_APPS/hello.py:factory()"
expect_body "other" --callable other "$WF_APPS/hello.py"
expect_body "wfpkg.web:application" --pythonpath "$WF_APPS" wfpkg.web
expect_body "wfpkg.web:api" --pythonpath "$WF_APPS" wfpkg.web:api
expect_body "wfpkg.web:create_app() #1" --pythonpath "$WF_APPS" 'wfpkg.web:create_app()'
expect_body "wfpkg.web:api" --pythonpath /nonexistent-dir --pythonpath "$WF_APPS" wfpkg.web:api
expect_body "Hello, world!" --chdir "$WF_APPS" hello.py
expect_body "other" --chdir "$WF_APPS" hello.py:other

# --virtualenv: a module installed only in the virtualenv's site-packages
V=$T/venv
if "$PYTHON" -m venv --without-pip "$V" >"$T/venv.out" 2>&1; then
    SP=$("$PYTHON" -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
    mkdir -p "$V/lib/$SP/site-packages"
    cat >"$V/lib/$SP/site-packages/wf_venv_only.py" <<'PY'
import sys


def application(environ, start_response):
    body = ("from the virtualenv, prefix=%s" % sys.prefix).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
PY
    expect_body "from the virtualenv, prefix=$V" --virtualenv "$V" wf_venv_only
    run_bounded 30 "$WSGI_FCGI" --check wf_venv_only
    assert_nonzero "$RUN_STATUS" "without --virtualenv the virtualenv's module is not found"
else
    echo "note: cannot make a virtualenv with $PYTHON -m venv; --virtualenv not tested"
    cat "$T/venv.out"
fi

# The factory is called once per worker, not once per request.
S=$T/factory.sock
if serve factory "unix:$S" --pythonpath "$WF_APPS" 'wfpkg.web:create_app()'; then
    for i in 1 2 3; do
        got=$(fcgi "unix:$S" --print body --timeout 30)
        assert_eq "wfpkg.web:create_app() #1" "$got" "factory called once (request $i)"
    done
    stop_pid "$SERVER_PID"
fi
finish
