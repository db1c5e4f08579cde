"""The APP forms: file.py, file.py:NAME, file.py:factory(), pkg.module,
pkg.module:NAME, pkg.module:factory(), with --pythonpath, --chdir,
--callable and --virtualenv; each served and answered by the right
callable, a factory called once per worker."""

import os

import wftest as w
from wftest import check, eq

N = [0]


def expect_body(want, *args):
    """Serve ARGS (the last one the APP) and check the body of one GET."""
    N[0] += 1
    args = list(args)
    with w.serve(args[-1], args[:-1], name="app%d" % N[0]) as s:
        # (the body with its trailing newline stripped)
        eq(bytes(s.get("/").body).decode("latin-1").rstrip("\n"), want,
           "served: %s" % " ".join(args))


def test_app_forms():
    apps = w.APPS
    expect_body("Hello, world!", w.app("hello"))
    expect_body("other", w.app("hello") + ":other")
    expect_body("factory", w.app("hello") + ":factory()")
    expect_body("other", "--callable", "other", w.app("hello"))
    expect_body("wfpkg.web:application", "--pythonpath", apps, "wfpkg.web")
    expect_body("wfpkg.web:api", "--pythonpath", apps, "wfpkg.web:api")
    expect_body("wfpkg.web:create_app() #1", "--pythonpath", apps, "wfpkg.web:create_app()")
    expect_body("wfpkg.web:api", "--pythonpath", "/nonexistent-dir", "--pythonpath", apps,
                "wfpkg.web:api")
    expect_body("Hello, world!", "--chdir", apps, "hello.py")
    expect_body("other", "--chdir", apps, "hello.py:other")


def test_virtualenv():
    """--virtualenv: a module installed only in the virtualenv's site-packages."""
    v = w.tmp("venv")
    r = w.run([w.PYTHON, "-m", "venv", "--without-pip", v], timeout=120)
    if r.returncode != 0:
        raise w.Skip("cannot make a virtualenv with %s -m venv: %s"
                     % (w.PYTHON, r.stderr.decode("latin-1")[-500:]))
    sp = os.path.join(v, "lib", "python%d.%d" % tuple(map(int, w.run(
        [w.PYTHON, "-c", "import sys; print(*sys.version_info[:2])"]).stdout.split())),
        "site-packages")
    os.makedirs(sp, exist_ok=True)
    w.write(os.path.join(sp, "wf_venv_only.py"), '''import sys


def application(environ, start_response):
    body = ("from the virtualenv, prefix=%s" % sys.prefix).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
''')
    expect_body("from the virtualenv, prefix=%s" % v, "--virtualenv", v, "wf_venv_only")
    r = w.run([w.WSGI_FCGI, "--check", "wf_venv_only"], timeout=30)
    check(r.returncode != 0, "without --virtualenv the virtualenv's module is not found")


def test_factory_called_once():
    """The factory is called once per worker, not once per request."""
    with w.serve("wfpkg.web:create_app()", ["--pythonpath", w.APPS], name="factory") as s:
        for i in (1, 2, 3):
            eq(bytes(s.get("/").body), b"wfpkg.web:create_app() #1\n",
               "factory called once (request %d)" % i)


if __name__ == "__main__":
    w.main()
