"""--max-body BYTES.

* FastCGI (-p 1 -t 2 --max-body 1000): a 1000-byte body is served; 1001
  bytes get the canned 413 (Status, Content-Type, a Content-Length that
  matches the short body) without the application being called, a warning
  naming the request and the limit, a 413 in the access log, and the
  connection closed even when the peer asked to keep it; a 10 GB
  CONTENT_LENGTH with no body sent at all gets its 413 and the connection
  closed promptly (the body is not waited for).
* No CONTENT_LENGTH (FastCGI): 1000 bytes read fine; past the limit
  wsgi.input.read()/read(n) raise OSError (errno EFBIG) in the application,
  which can answer itself; uncaught, it is a 500 logged at [error].
* SCGI: the same 413, and a 10 GB declared body answered without reading it.
* CGI: the same 413 on stdout.
* Real nginx (contrib/nginx/wsgi-fcgi.conf and wsgi-scgi.conf): an HTTP
  client posting 100 KB gets nginx's relay of our 413 with our body; 500
  bytes get 200; the server keeps serving."""

import errno
import os
import subprocess
import time

import wftest as w
from wftest import fcgi as fc
from wftest import http_client as hc
from wftest import scgi as sc
from wftest import web
from wftest.load import pm_server

APP = w.app("ops_body")
LIMIT = 1000
BODY_413 = b"413 Request Entity Too Large\n"


def app_calls(srv, path):
    return sum(1 for _, lvl, m in w.log_lines(srv.text())
               if lvl == "app" and m == "app-called " + path)


def check_413(r, what):
    w.eq(r.status, 413, "%s: status 413" % what)
    w.eq(r.reason, "Request Entity Too Large", "%s: reason" % what)
    w.eq(bytes(r.body), BODY_413, "%s: the short canned body" % what)
    w.eq(r.header("Content-Length"), str(len(BODY_413)),
         "%s: Content-Length matches it" % what)
    w.check((r.header("Content-Type") or "").startswith("text/plain"),
            "%s: text/plain" % what)


def undeclared(path, body):
    return [(n, v) for n, v in fc.default_params("POST", path, "", body)
            if n != b"CONTENT_LENGTH"]


def test_fastcgi():
    acc = w.tmp("access.log")
    srv = pm_server("fcgi", ["-p", "1", "-t", "2", "--max-body", str(LIMIT),
                             "--access-log", acc], app=APP)
    r = fc.get(srv.addr, "/echo", method="POST", body=b"a" * LIMIT)
    w.check(r.status == 200 and bytes(r.body) == b"got %d" % LIMIT,
            "a body of exactly --max-body is served", repr(r))
    r = fc.get(srv.addr, "/echo", "big=1", method="POST", body=b"b" * (LIMIT + 1))
    check_413(r, "CONTENT_LENGTH 1001")
    w.check(r.ended and r.protocol_status == 0, "... a complete FastCGI response")
    w.eq(app_calls(srv, "/echo"), 1, "the application was not called for it")
    warn = [m for _, lvl, m in w.log_lines(srv.text()) if lvl == "warning" and "413" in m]
    w.check(any("POST /echo?big=1" in m and "1001" in m and "--max-body 1000" in m for m in warn),
            "a warning names the request, its length and the limit", warn)

    # A kept connection is closed after the 413 (its body is not read).
    with fc.Connection(srv.addr, 10) as c:
        body = b"c" * 5000
        r = c.request(fc.default_params("POST", "/echo", "", body), body, keep=True)
        check_413(r, "kept connection")
        data, eof = c.read_until_eof(5)
        w.check(eof and not data, "... and then closed by the server")

    # A 10 GB declared body, none of it sent: answered and closed at once.
    with fc.Connection(srv.addr, 10) as c:
        params = [(n, b"10000000000" if n == b"CONTENT_LENGTH" else v)
                  for n, v in fc.default_params("POST", "/echo", "", b"x")]
        t0 = time.monotonic()
        c.begin(keep=True)
        c.params(params)
        r = c.read_response(timeout=10)
        check_413(r, "CONTENT_LENGTH 10 GB, no body sent")
        data, eof = c.read_until_eof(8)
        w.check(eof, "... connection closed without waiting for the body "
                "(%.1f s)" % (time.monotonic() - t0))
    w.eq(app_calls(srv, "/echo"), 1, "the application was never called for a 413")

    # No CONTENT_LENGTH: the limit is enforced by wsgi.input.
    for path in ("/read-all", "/chunks"):
        body = b"d" * LIMIT
        r = fc.request(srv.addr, undeclared(path, body), body, timeout=10)
        w.check(r.status == 200 and bytes(r.body) == b"read %d" % LIMIT,
                "%s, no CONTENT_LENGTH, %d bytes: all read" % (path, LIMIT), repr(r))
        for size in (LIMIT + 1, 1 << 20):
            body = b"e" * size
            r = fc.request(srv.addr, undeclared(path, body), body, timeout=20)
            text = bytes(r.body).decode("latin-1")
            w.check(r.status == 200 and text.startswith("OSError errno=%d " % errno.EFBIG)
                    and "--max-body 1000" in text,
                    "%s, no CONTENT_LENGTH, %d bytes: OSError(EFBIG) in the application"
                    % (path, size), text)
            if path == "/chunks":
                w.check("after 1000:" in text, "... after the 1000 bytes under the limit")
    body = b"f" * 5000
    r = fc.request(srv.addr, undeclared("/uncaught", body), body, timeout=10)
    w.eq(r.status, 500, "uncaught, that OSError is a 500")
    lines = w.log_lines(srv.text())
    w.check(any(lvl == "error" and m.startswith("OSError") and "--max-body" in m
                for _, lvl, m in lines), "... logged at [error] with its traceback")

    r = fc.get(srv.addr, "/echo", method="POST", body=b"ok")
    w.eq(r.status, 200, "the server still serves")
    w.wait_for(lambda: " 413 " in open(acc).read(), 5)
    codes = [l.split('"')[2].split()[0] for l in open(acc).read().splitlines()]
    w.check(codes.count("413") >= 3, "the access log has the 413s", codes)
    w.eq(srv.stop(), 0, "SIGTERM: exit 0")


def test_scgi():
    srv = w.Server(APP, ["-t", "2", "--max-body", str(LIMIT)], name="scgi", scgi=True)
    r = sc.request(srv.addr, sc.default_params("POST", "/echo", "", b"a" * LIMIT),
                   b"a" * LIMIT, timeout=10)
    w.check(r.status == 200 and bytes(r.body) == b"got %d" % LIMIT,
            "SCGI: a body of exactly --max-body is served", repr(r))
    body = b"b" * (LIMIT + 1)
    r = sc.request(srv.addr, sc.default_params("POST", "/echo", "", body), body, timeout=10)
    check_413(r, "SCGI, CONTENT_LENGTH 1001")
    params = [(n, b"10000000000" if n == b"CONTENT_LENGTH" else v)
              for n, v in sc.default_params("POST", "/echo", "", b"")]
    t0 = time.monotonic()
    r = sc.exchange(srv.addr, [sc.encode_header(params)], timeout=10)
    check_413(r, "SCGI, CONTENT_LENGTH 10 GB, no body sent")
    w.check(r.eof and not r.timeout, "... connection closed without waiting for the body "
            "(%.1f s)" % (time.monotonic() - t0))
    w.eq(app_calls(srv, "/echo"), 1, "SCGI: the application was not called for a 413")
    w.eq(srv.stop(), 0, "SIGTERM: exit 0")


def test_cgi():
    env = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "20", "PATH_INFO": "/echo",
           "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
           "GATEWAY_INTERFACE": "CGI/1.1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    p = subprocess.run([w.WSGI_FCGI, "--cgi", "--max-body", "10", APP], env=env,
                       input=b"x" * 20, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    out = p.stdout
    w.check(out.startswith(b"Status: 413 Request Entity Too Large\r\n") and
            out.endswith(b"\r\n\r\n" + BODY_413), "CGI: the same canned 413", out)
    w.check(b"app-called" not in p.stderr, "CGI: the application was not called")


def http_req(port, method, path, body=None):
    r = hc.request(method, port, path, body=body, timeout=30)
    return r.status, r.reason, r.body, r.headers


def through_nginx(name, template, scgi):
    srv = w.Server(APP, ["-t", "2", "--max-body", str(LIMIT)], name=name, scgi=scgi)
    port = w.free_port()
    ngx = web.start_nginx("nginx-" + name, [web.nginx_site(template, port, srv.addr)])
    w.check(ngx.running(), "%s: nginx answers" % name)
    status, reason, body, headers = http_req(port, "POST", "/echo", b"n" * 100000)
    w.eq(status, 413, "%s: an HTTP client posting 100 KB gets 413" % name)
    w.eq(body, BODY_413, "%s: ... with our short body" % name)
    status, _, body, _ = http_req(port, "POST", "/echo", b"m" * 500)
    w.check((status, body) == (200, b"got 500"), "%s: 500 bytes: 200" % name, (status, body))
    for i in range(3):
        status, _, body, _ = http_req(port, "POST", "/echo", b"o" * 50000)
        w.eq(status, 413, "%s: again (%d)" % (name, i))
    status, _, body, _ = http_req(port, "GET", "/")
    w.eq((status, body), (200, b"hello"), "%s: still serving" % name)
    w.eq(app_calls(srv, "/echo"), 1, "%s: the application saw only the 500 bytes" % name)
    ngx.stop()
    w.eq(srv.stop(), 0, "%s: SIGTERM: exit 0" % name)


def test_nginx_fastcgi():
    through_nginx("nginx-fcgi", "wsgi-fcgi.conf", False)


def test_nginx_scgi():
    through_nginx("nginx-scgi", "wsgi-scgi.conf", True)


if __name__ == "__main__":
    w.main(timeout=180)
