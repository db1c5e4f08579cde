"""Through Debian's cgi-fcgi (libfcgi-bin): simple requests only, since it
has small fixed buffers for params (LIBFCGI.md #14)."""

import os
import subprocess

import wftest as w
from wftest import check, eq


def cgi(sock, env, stdin=b""):
    """cgi-fcgi passes its environment as params and stdin as STDIN; its
    output with CRs removed, as text."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_INTERFACE": "CGI/1.1",
         "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
         "SCRIPT_NAME": "", "REMOTE_ADDR": "127.0.0.1"}
    e.update(env)
    p = subprocess.run([CGI_FCGI, "-bind", "-connect", sock], input=stdin, env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.stdout.replace(b"\r", b"").decode("latin-1")


CGI_FCGI = None


def setup():
    global CGI_FCGI
    CGI_FCGI = w.need_program("cgi-fcgi")


def test_hello():
    setup()
    with w.serve(w.app("hello"), name="hello") as s:
        out = cgi(s.sock, {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": ""})
        check("Hello, world!" in out, "cgi-fcgi GET hello: body", repr(out[:300]))
        check("Content-Type: text/plain" in out, "cgi-fcgi GET hello: header")
        check(out.startswith(("Status: 200", "Content-Type", "Content-Length")),
              "cgi-fcgi GET hello: starts with headers", repr(out.split("\n")[0]))


def test_environ():
    setup()
    with w.serve(w.app("echo_environ"), name="environ") as s:
        out = cgi(s.sock, {"REQUEST_METHOD": "GET", "PATH_INFO": "/a/b",
                           "QUERY_STRING": "x=1&y=2", "HTTP_X_TEST": "hello"})
        for needle, what in (('"PATH_INFO": "/a/b"', "PATH_INFO"),
                             ('"QUERY_STRING": "x=1&y=2"', "QUERY_STRING"),
                             ('"HTTP_X_TEST": "hello"', "HTTP_X_TEST"),
                             ('"wsgi.url_scheme": "http"', "url_scheme")):
            check(needle in out, "cgi-fcgi environ: %s" % what, repr(out[:500]))


def test_post():
    setup()
    with w.serve(w.app("echo_body"), name="body") as s:
        body = b"first line\nsecond line\nno newline"
        out = cgi(s.sock, {"REQUEST_METHOD": "POST", "PATH_INFO": "/",
                           "QUERY_STRING": "mode=readline", "CONTENT_LENGTH": str(len(body)),
                           "CONTENT_TYPE": "text/plain"}, body)
        check("X-Read-Length: 33" in out, "cgi-fcgi POST: length read", repr(out[:300]))
        eq(out.partition("\n\n")[2], body.decode(), "cgi-fcgi POST: body echoed")
        out = cgi(s.sock, {"REQUEST_METHOD": "POST", "PATH_INFO": "/",
                           "QUERY_STRING": "mode=read", "CONTENT_LENGTH": "0"})
        check("X-Read-Length: 0" in out, "cgi-fcgi POST of 0 bytes", repr(out[:300]))
        s.assert_serving("server still answers after cgi-fcgi")


if __name__ == "__main__":
    w.main()
