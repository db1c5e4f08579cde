"""--check: exit 0 for a loadable app; non-zero, quickly, with a clear line
on stderr naming the cause, for a missing file, a syntax error, an import
error, a missing or a non-callable object.  Serving an unloadable app fails
the same way."""

import wftest as w
from wftest import check, eq


def check_ok(*args):
    r = w.run([w.WSGI_FCGI, "--check"] + list(args), timeout=30)
    if not eq(r.returncode, 0, "--check %s exits 0" % " ".join(args)):
        print(r.stderr.decode("latin-1"))


def check_bad(what, needle, *args):
    """Non-zero exit and needle on stderr."""
    r = w.run([w.WSGI_FCGI, "--check"] + list(args), timeout=30)
    check(r.returncode != 0, "--check, %s (exit %s)" % (what, r.returncode))
    check(r.returncode != 124, "--check, %s: did not time out" % what)
    check(needle in r.stderr.decode("latin-1"), "--check, %s: stderr names the cause" % what,
          "expected to contain %r: %r" % (needle, r.stderr[-2000:]))


def test_loadable():
    apps = w.APPS
    check_ok(w.app("hello"))
    check_ok(w.app("hello") + ":other")
    check_ok(w.app("hello") + ":factory()")
    check_ok("--callable", "other", w.app("hello"))
    check_ok("--pythonpath", apps, "wfpkg.web")
    check_ok("--pythonpath", apps, "wfpkg.web:api")
    check_ok("--pythonpath", apps, "wfpkg.web:create_app()")
    check_ok("--chdir", apps, "hello.py")


def test_not_loadable():
    apps = w.APPS
    check_bad("missing file", "no-such-file.py", w.tmp("no-such-file.py"))
    check_bad("syntax error", "SyntaxError", w.app("bad_syntax"))
    check_bad("import error", "wf_no_such_module_xyz", w.app("bad_import"))
    check_bad("missing application", "application", w.app("no_application"))
    check_bad("missing NAME", "nosuchname", w.app("hello") + ":nosuchname")
    check_bad("non-callable application", "application", w.app("not_callable"))
    check_bad("non-callable NAME", "not_callable", w.app("hello") + ":not_callable")
    check_bad("--callable missing", "nosuchname", "--callable", "nosuchname", w.app("hello"))
    check_bad("missing module", "wf_no_such_pkg", "--pythonpath", apps, "wf_no_such_pkg.web")
    check_bad("missing attribute in module", "nosuchname", "--pythonpath", apps,
              "wfpkg.web:nosuchname")
    check_bad("missing factory", "nofactory", "--pythonpath", apps, "wfpkg.web:nofactory()")


def test_serving_an_unloadable_app():
    """Loading failures without --check: the same, and no socket left behind."""
    r = w.run([w.WSGI_FCGI, "-s", "unix:" + w.tmp("x.sock"), w.app("bad_syntax")], timeout=30)
    check(r.returncode != 0, "serving an app with a syntax error exits non-zero (exit %s)"
          % r.returncode)
    check(r.returncode != 124, "serving a broken app: exited (did not time out)")
    check(b"SyntaxError" in r.stderr, "serving a broken app: the cause on stderr",
          repr(r.stderr[-2000:]))
    r = w.run([w.WSGI_FCGI, "-s", "unix:" + w.tmp("y.sock"), w.tmp("no-such-file.py")],
              timeout=30)
    check(r.returncode != 0, "serving a missing file exits non-zero (exit %s)" % r.returncode)


if __name__ == "__main__":
    w.main()
