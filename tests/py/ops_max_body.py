"""t-ops-max-body: --max-body BYTES.

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
import http.client
import os
import subprocess
import time

import pm_lib as pm
import fcgi_client as fc
import scgi_client as sc

APP = pm.app("ops_body")
LIMIT = 1000
NGINX = "/usr/sbin/nginx"
BODY_413 = b"413 Request Entity Too Large\n"


def app_calls(srv, path):
    return sum(1 for _, lvl, m in pm.log_lines(srv.log_text())
               if lvl == "app" and m == "app-called " + path)


def check_413(r, what):
    pm.check_eq(413, r.status, "%s: status 413" % what)
    pm.check_eq("Request Entity Too Large", r.reason, "%s: reason" % what)
    pm.check_eq(BODY_413, bytes(r.body), "%s: the short canned body" % what)
    pm.check_eq(str(len(BODY_413)), r.header("Content-Length"),
                "%s: Content-Length matches it" % what)
    pm.check((r.header("Content-Type") or "").startswith("text/plain"),
             "%s: text/plain" % what)


def undeclared(path, body):
    return [(n, v) for n, v in fc.default_params("POST", path, "", body)
            if n != b"CONTENT_LENGTH"]


def test_fastcgi():
    acc = pm.tmp("access.log")
    srv = pm.Server("fcgi", ["-p", "1", "-t", "2", "--max-body", str(LIMIT),
                             "--access-log", acc], app_path=APP)
    r = pm.get(srv.addr, "/echo", method="POST", body=b"a" * LIMIT)
    pm.check(r.status == 200 and bytes(r.body) == b"got %d" % LIMIT,
             "a body of exactly --max-body is served", repr(r))
    r = pm.get(srv.addr, "/echo", "big=1", method="POST", body=b"b" * (LIMIT + 1))
    check_413(r, "CONTENT_LENGTH 1001")
    pm.check(r.ended and r.protocol_status == 0, "... a complete FastCGI response")
    pm.check_eq(1, app_calls(srv, "/echo"), "the application was not called for it")
    warn = [m for _, lvl, m in pm.log_lines(srv.log_text()) if lvl == "warning" and "413" in m]
    pm.check(any("POST /echo?big=1" in m and "1001" in m and "--max-body 1000" in m for m in warn),
             "a warning names the request, its length and the limit", warn)

    # A kept connection is closed after the 413 (its body is not read).
    with fc.Connection(srv.addr, 10) as c:
        body = b"c" * 5000
        r = c.request(fc.default_params("POST", "/echo", "", body), body, keep=True)
        check_413(r, "kept connection")
        data, eof = c.read_until_eof(5)
        pm.check(eof and not data, "... and then closed by the server")

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
        pm.check(eof, "... connection closed without waiting for the body "
                 "(%.1f s)" % (time.monotonic() - t0))
    pm.check_eq(1, app_calls(srv, "/echo"), "the application was never called for a 413")

    # No CONTENT_LENGTH: the limit is enforced by wsgi.input.
    for path in ("/read-all", "/chunks"):
        body = b"d" * LIMIT
        r = fc.request(srv.addr, undeclared(path, body), body, timeout=10)
        pm.check(r.status == 200 and bytes(r.body) == b"read %d" % LIMIT,
                 "%s, no CONTENT_LENGTH, %d bytes: all read" % (path, LIMIT), repr(r))
        for size in (LIMIT + 1, 1 << 20):
            body = b"e" * size
            r = fc.request(srv.addr, undeclared(path, body), body, timeout=20)
            text = bytes(r.body).decode("latin-1")
            pm.check(r.status == 200 and text.startswith("OSError errno=%d " % errno.EFBIG)
                     and "--max-body 1000" in text,
                     "%s, no CONTENT_LENGTH, %d bytes: OSError(EFBIG) in the application"
                     % (path, size), text)
            if path == "/chunks":
                pm.check("after 1000:" in text, "... after the 1000 bytes under the limit")
    body = b"f" * 5000
    r = fc.request(srv.addr, undeclared("/uncaught", body), body, timeout=10)
    pm.check_eq(500, r.status, "uncaught, that OSError is a 500")
    lines = pm.log_lines(srv.log_text())
    pm.check(any(lvl == "error" and m.startswith("OSError") and "--max-body" in m
                 for _, lvl, m in lines), "... logged at [error] with its traceback")

    r = pm.get(srv.addr, "/echo", method="POST", body=b"ok")
    pm.check_eq(200, r.status, "the server still serves")
    pm.wait_until(lambda: " 413 " in open(acc).read(), 5)
    codes = [l.split('"')[2].split()[0] for l in open(acc).read().splitlines()]
    pm.check(codes.count("413") >= 3, "the access log has the 413s", codes)
    pm.check_eq(0, srv.stop(), "SIGTERM: exit 0")


def test_scgi():
    srv = pm.Server("scgi", ["--scgi", "-t", "2", "--max-body", str(LIMIT)], app_path=APP,
                    stats=False)
    r = sc.request(srv.addr, sc.default_params("POST", "/echo", "", b"a" * LIMIT),
                   b"a" * LIMIT, timeout=10)
    pm.check(r.status == 200 and bytes(r.body) == b"got %d" % LIMIT,
             "SCGI: a body of exactly --max-body is served", repr(r))
    body = b"b" * (LIMIT + 1)
    r = sc.request(srv.addr, sc.default_params("POST", "/echo", "", body), body, timeout=10)
    check_413(r, "SCGI, CONTENT_LENGTH 1001")
    params = [(n, b"10000000000" if n == b"CONTENT_LENGTH" else v)
              for n, v in sc.default_params("POST", "/echo", "", b"")]
    t0 = time.monotonic()
    r = sc.exchange(srv.addr, [sc.encode_header(params)], timeout=10)
    check_413(r, "SCGI, CONTENT_LENGTH 10 GB, no body sent")
    pm.check(r.eof and not r.timeout, "... connection closed without waiting for the body "
             "(%.1f s)" % (time.monotonic() - t0))
    pm.check_eq(1, app_calls(srv, "/echo"), "SCGI: the application was not called for a 413")
    pm.check_eq(0, srv.stop(), "SIGTERM: exit 0")


def test_cgi():
    env = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "20", "PATH_INFO": "/echo",
           "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
           "GATEWAY_INTERFACE": "CGI/1.1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    p = subprocess.run([pm.WSGI_FCGI, "--cgi", "--max-body", "10", APP], env=env,
                       input=b"x" * 20, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    out = p.stdout
    pm.check(out.startswith(b"Status: 413 Request Entity Too Large\r\n") and
             out.endswith(b"\r\n\r\n" + BODY_413), "CGI: the same canned 413", out)
    pm.check(b"app-called" not in p.stderr, "CGI: the application was not called")


def nginx_conf(template, sock, port):
    with open(os.path.join(pm.TOP, "contrib", "nginx", template), encoding="utf-8") as f:
        server = f.read()
    server = (server.replace("@SOCKET@", sock).replace("@PORT@", str(port))
              .replace("@HOST@", "127.0.0.1"))
    t = pm.tmpdir()
    for d in ("logs", "temp"):
        os.makedirs(os.path.join(t, d), exist_ok=True)
    conf = pm.tmp("nginx-%s" % template)
    with open(conf, "w", encoding="utf-8") as f:
        f.write("daemon off;\nmaster_process off;\nworker_processes 1;\n"
                "pid %(t)s/nginx.pid;\nerror_log stderr notice;\n"
                "events { worker_connections 64; }\nhttp {\n"
                "access_log %(t)s/logs/access.log;\n"
                "client_body_temp_path %(t)s/temp/body;\nfastcgi_temp_path %(t)s/temp/fastcgi;\n"
                "proxy_temp_path %(t)s/temp/proxy;\nuwsgi_temp_path %(t)s/temp/uwsgi;\n"
                "scgi_temp_path %(t)s/temp/scgi;\n%(server)s\n}\n" % {"t": t, "server": server})
    return conf


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_req(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.reason, r.read(), dict(r.getheaders())
    finally:
        c.close()


def through_nginx(name, template, args):
    pm.need(NGINX)
    srv = pm.Server(name, args + ["-t", "2", "--max-body", str(LIMIT)], app_path=APP,
                    stats=False)
    port = free_port()
    conf = nginx_conf(template, srv.sock, port)
    ngx = pm.spawn("nginx-" + name, [NGINX, "-p", pm.tmpdir(), "-c", conf, "-e", "stderr"])

    def up():
        try:
            return http_req(port, "GET", "/")[0] == 200
        except OSError:
            return ngx.poll() is None and False
    if not pm.check(pm.wait_until(up, 20), "%s: nginx answers" % name):
        return
    status, reason, body, headers = http_req(port, "POST", "/echo", b"n" * 100000)
    pm.check_eq(413, status, "%s: an HTTP client posting 100 KB gets 413" % name)
    pm.check_eq(BODY_413, body, "%s: ... with our short body" % name)
    status, _, body, _ = http_req(port, "POST", "/echo", b"m" * 500)
    pm.check((status, body) == (200, b"got 500"), "%s: 500 bytes: 200" % name, (status, body))
    for i in range(3):
        status, _, body, _ = http_req(port, "POST", "/echo", b"o" * 50000)
        pm.check_eq(413, status, "%s: again (%d)" % (name, i))
    status, _, body, _ = http_req(port, "GET", "/")
    pm.check_eq((200, b"hello"), (status, body), "%s: still serving" % name)
    pm.check_eq(1, app_calls(srv, "/echo"), "%s: the application saw only the 500 bytes" % name)
    pm.stop_other(ngx)
    pm.check_eq(0, srv.stop(), "%s: SIGTERM: exit 0" % name)


def test_nginx_fastcgi():
    through_nginx("nginx-fcgi", "wsgi-fcgi.conf", [])


def test_nginx_scgi():
    through_nginx("nginx-scgi", "wsgi-scgi.conf", ["--scgi"])


if __name__ == "__main__":
    pm.main(test_fastcgi, test_scgi, test_cgi, test_nginx_fastcgi, test_nginx_scgi)
