"""contrib/example/app.py: loads (--check), serves its page, echoes a form
POST, answers /health and 404 -- plain and under wsgiref.validate."""

import os

import wftest as w
from wftest import check, eq

EX = os.path.join(w.CONTRIB, "example", "app.py")


def test_check():
    eq(w.run([w.WSGI_FCGI, "--check", EX], timeout=30).returncode, 0,
       "--check contrib/example/app.py")


def stdout(r):
    return bytes(r.stdout).replace(b"\r", b"").decode("utf-8", "replace")


def run_example(name, spec):
    with w.serve(spec, name=name) as s:
        out = stdout(s.get("/"))
        check("Status: 200" in out, "%s: GET / status" % name)
        check("Content-Type: text/html; charset=utf-8" in out, "%s: GET / content type" % name)
        check("wsgi-fcgi is serving this page" in out, "%s: GET / page" % name)
        check("<th>PATH_INFO</th><td>/</td>" in out, "%s: GET / shows PATH_INFO" % name)

        form = b"name=J%C3%B6rg&message=%3Cb%3Ehi%3C%2Fb%3E"
        out = stdout(s.get("/", method="POST", body=form,
                           extra=[(b"CONTENT_TYPE", b"application/x-www-form-urlencoded")]))
        check("Status: 200" in out, "%s: POST status" % name)
        check("<b>name</b>: J\u00f6rg" in out, "%s: POST echoes a UTF-8 field" % name)
        check("<b>message</b>: &lt;b&gt;hi&lt;/b&gt;" in out, "%s: POST echo is escaped" % name)

        eq(bytes(s.get("/health").body).rstrip(b"\n"), b"ok", "%s: /health" % name)
        eq(s.get("/nope").status, 404, "%s: unknown path is 404" % name)
        eq(s.get("/", method="DELETE").status, 405, "%s: DELETE is 405" % name)
    check("AssertionError" not in s.log(), "%s: no validator assertion" % name)
    check("Traceback" not in s.log(), "%s: no traceback" % name)


def test_plain():
    run_example("app", EX)


def test_under_wsgiref_validate():
    """The example wrapped by wsgiref.validate, loaded from its real path."""
    path = w.write(w.tmp("validated.py"), """import importlib.util
from wsgiref.validate import validator
spec = importlib.util.spec_from_file_location("wf_example", %r)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
application = validator(mod.application)
""" % EX)
    run_example("validated", path)


if __name__ == "__main__":
    w.main()
