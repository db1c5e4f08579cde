"""SPEC CGI mode: environment + stdin in, "Status:" + headers + body on
stdout, wsgi.run_once true; the environment is read as bytes and decoded
latin-1; an unloadable app exits non-zero and still writes a Status: 500."""

import json
import os
import subprocess

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc


def cgi_env(method="GET", path=b"/", query=b"", body=b"", extra=None):
    env = {
        b"PATH": os.environb.get(b"PATH", b"/usr/bin:/bin"),
        b"GATEWAY_INTERFACE": b"CGI/1.1",
        b"REQUEST_METHOD": method.encode(),
        b"SCRIPT_NAME": b"/cgi-bin/app",
        b"PATH_INFO": path,
        b"QUERY_STRING": query,
        b"SERVER_NAME": b"localhost",
        b"SERVER_PORT": b"8080",
        b"SERVER_PROTOCOL": b"HTTP/1.0",
        b"REMOTE_ADDR": b"127.0.0.1",
    }
    if body or method == "POST":
        env[b"CONTENT_LENGTH"] = str(len(body)).encode()
        env[b"CONTENT_TYPE"] = b"application/octet-stream"
    if w.VALIDATE:
        env[b"WF_TEST_VALIDATE"] = b"1"
    for k in (b"TMPDIR", b"LD_LIBRARY_PATH", b"ASAN_OPTIONS", b"LSAN_OPTIONS",
              b"UBSAN_OPTIONS", b"PYTHONMALLOC"):
        if k in os.environb:
            env[k] = os.environb[k]
    if extra:
        env.update(extra)
    return env


def run_cgi(app_spec, env, stdin=b"", args=(), stdin_file=False, timeout=60):
    """Run the binary once; stdin is a pipe (or a regular file)."""
    if not w.WSGI_FCGI or not os.access(w.WSGI_FCGI, os.X_OK):
        raise w.Skip("WSGI_FCGI not executable")
    cmd = [w.WSGI_FCGI] + list(args) + [app_spec]
    if stdin_file:
        path = os.path.join(w.tmpdir(), "stdin.bin")
        with open(path, "wb") as f:
            f.write(stdin)
        with open(path, "rb") as f:
            p = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, timeout=timeout)
    else:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=timeout)
    r = fc.Response()
    r.stdout = bytearray(p.stdout)
    r.returncode = p.returncode
    r.stderr_text = p.stderr.decode("latin-1")
    return r


def show(r):
    return "exit %s, stdout %r, stderr %r" % (r.returncode, bytes(r.stdout[:300]),
                                              r.stderr_text[-2000:])


def test_cgi_environ_and_run_once():
    for args in ((), ("--cgi",)):
        env = cgi_env(path=b"/caf\xe9/\xff", query=b"x=\xe9",
                      extra={b"HTTP_X_LATIN": b"v\x80\xe9\xff", b"HTTP_X_PLAIN": b"plain"})
        r = run_cgi(w.app("echo_environ"), env, args=args)
        if not eq(r.status, 200, "CGI echo_environ status %r (%s)" % (args, show(r))):
            continue
        check(bytes(r.stdout).startswith(b"Status: 200"),
              "CGI output starts with a Status: line: %r" % bytes(r.stdout[:40]))
        eq(r.returncode, 0, "CGI exit status")
        d = json.loads(bytes(r.body).decode("ascii"))
        e = d["environ"]
        eq(e.get("wsgi.run_once"), True, "wsgi.run_once in CGI mode %r" % (args,))
        eq(e.get("PATH_INFO"), "/caf\xe9/\xff", "CGI PATH_INFO decoded latin-1")
        eq(e.get("QUERY_STRING"), "x=\xe9", "CGI QUERY_STRING decoded latin-1")
        eq(e.get("HTTP_X_LATIN"), "v\x80\xe9\xff", "CGI env bytes decoded latin-1")
        eq(e.get("HTTP_X_PLAIN"), "plain", "CGI env var passed")
        eq(e.get("SCRIPT_NAME"), "/cgi-bin/app", "CGI SCRIPT_NAME")
        eq(e.get("REQUEST_METHOD"), "GET", "CGI REQUEST_METHOD")
        eq(e.get("wsgi.version"), [1, 0], "CGI wsgi.version")
        eq(e.get("wsgi.url_scheme"), "http", "CGI wsgi.url_scheme")
        eq(e.get("wsgi.input_terminated"), True, "CGI wsgi.input_terminated")
        eq(r.header("Content-Type"), "application/json", "CGI Content-Type header")


def test_cgi_https():
    r = run_cgi(w.app("echo_environ"), cgi_env(extra={b"HTTPS": b"on"}))
    if eq(r.status, 200, "CGI status (%s)" % show(r)):
        e = json.loads(bytes(r.body).decode("ascii"))["environ"]
        eq(e.get("wsgi.url_scheme"), "https", "CGI HTTPS=on gives https")


def test_cgi_post_pipe_and_file():
    body = b"".join(b"line %d\n" % i for i in range(20000)) + b"tail"
    for stdin_file in (False, True):
        for q in (b"mode=read", b"mode=readline", b"mode=readn&n=999"):
            r = run_cgi(w.app("echo_body"), cgi_env("POST", b"/up", q, body),
                        stdin=body + b"EXTRA-NOT-BODY", stdin_file=stdin_file)
            what = "CGI POST %s via %s" % (q.decode(), "file" if stdin_file else "pipe")
            if not eq(r.status, 200, "%s: status (%s)" % (what, show(r))):
                continue
            eq(r.header("X-Read-Length"), str(len(body)), "%s: length read" % what)
            check(bytes(r.body) == body, "%s: body read (not more than CONTENT_LENGTH)" % what)
            eq(r.header("X-After-Eof"), "0", "%s: read after the end" % what)


def test_cgi_empty_body():
    r = run_cgi(w.app("echo_body"), cgi_env("POST", b"/", b"mode=read", b""))
    eq(r.status, 200, "CGI POST of 0 bytes (%s)" % show(r))
    eq(bytes(r.body), b"", "CGI empty body")


def test_cgi_app_error_500():
    r = run_cgi(w.app("raise_before_headers"), cgi_env())
    eq(r.status, 500, "CGI exception before headers: status (%s)" % show(r))
    check("boom-before-headers" in r.stderr_text, "CGI: exception logged on stderr")
    check(b"boom-before-headers" not in bytes(r.stdout), "CGI: exception not on stdout")


def test_cgi_unloadable_app():
    for spec, what in ((os.path.join(w.tmpdir(), "no-such-app.py"), "missing file"),
                       (w.app("bad_syntax"), "syntax error"),
                       (w.app("bad_import"), "import error"),
                       (w.app("no_application"), "missing application"),
                       (w.app("not_callable"), "non-callable application")):
        r = run_cgi(spec, cgi_env())
        check(r.returncode != 0, "CGI unloadable app (%s): non-zero exit (%s)" % (what, show(r)))
        eq(r.status, 500, "CGI unloadable app (%s): Status: 500 on stdout (%s)" % (what, show(r)))
        check(r.stderr_text.strip() != "", "CGI unloadable app (%s): a line on stderr" % what)


def test_cgi_streamed_output():
    r = run_cgi(w.app("stream"), cgi_env(query=b"empty=2"))
    eq(r.status, 200, "CGI stream status (%s)" % show(r))
    eq(bytes(r.body), b"one\ntwo\nthree\n", "CGI stream body")
    r = run_cgi(w.app("big_download"), cgi_env(query=b"n=3000001&chunk=65536"))
    eq(r.status, 200, "CGI big download status")
    eq(len(r.body), 3000001, "CGI big download length")


if __name__ == "__main__":
    w.main()
