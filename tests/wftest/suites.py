"""Request suites that several tests run against different fronts.

* cell_checks(): the front-end matrix suite (tests/t-matrix-*.py) against a
  web server in front of wsgi-fcgi serving tests/apps/matrix_app.py.
* ScgiHttp: a web server passing requests over SCGI to wsgi-fcgi --scgi
  serving tests/apps/combo.py, a second wsgi-fcgi serving it over FastCGI;
  every answer through the web server (curl) must match the same request
  sent directly over SCGI and over FastCGI (tests/t-nginx-scgi.py,
  tests/t-lighttpd-scgi.py).
"""

import hashlib
import http.client
import json
import os
import traceback

import wftest as w
from wftest import fcgi as fc
from wftest import http_client as hc
from wftest import scgi as sc

MIB = 1 << 20


# ------------------------------------------------------------------ the matrix cell suite

UTF8_PATH = "/caf%C3%A9/sub%20dir/x"
UTF8_DECODED = "/caf\u00e9/sub dir/x".encode("utf-8").decode("latin-1")
QUERY = "q=%C3%A9+1&z=&a=b"


def cell_checks(cell, port, mount="", server_name=None, request_uri=True,
                https=True, extra_env=None, post=True, redirect_host_port=True):
    """The request suite every cell runs against the front on PORT, with
    matrix_app mounted at MOUNT ("" for the root).  server_name: the
    SERVER_NAME this front sends; https: the front maps the test header
    X-Matrix-Https: on to HTTPS=on (the way a TLS front would send it);
    redirect_host_port False: the front passes HTTP_HOST without the port
    (Debian's nginx fastcgi_params: $host), so absolute URLs lose it."""
    w.label(cell)
    try:
        _cell_checks(port, mount, server_name, request_uri, https, extra_env or {}, post,
                     redirect_host_port)
    except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
        w.fail("request suite stopped: %s\n%s" % (e, traceback.format_exc()))


def _cell_checks(port, mount, server_name, request_uri, https, extra_env, post,
                 redirect_host_port):
    host = "127.0.0.1:%d" % port
    lhost = host if redirect_host_port else "127.0.0.1"
    # --- GET, query string, non-ASCII percent-encoded path: the environ
    target = mount + "/env" + UTF8_PATH + "?" + QUERY
    r = hc.request("GET", port, target)
    if w.eq(r.status, 200, "GET %s: status (the app routed on PATH_INFO)" % target):
        env = r.json()
        w.eq(env.get("SCRIPT_NAME"), mount, "SCRIPT_NAME")
        w.eq(env.get("PATH_INFO"), "/env" + UTF8_DECODED, "PATH_INFO (decoded UTF-8 bytes as latin-1)")
        w.eq(env.get("QUERY_STRING"), QUERY, "QUERY_STRING")
        w.eq(env.get("REQUEST_METHOD"), "GET", "REQUEST_METHOD")
        if request_uri:
            w.eq(env.get("REQUEST_URI"), target, "REQUEST_URI (raw)")
        w.eq(env.get("REMOTE_ADDR"), "127.0.0.1", "REMOTE_ADDR")
        w.eq(env.get("SERVER_PORT"), str(port), "SERVER_PORT")
        if server_name is not None:
            w.eq(env.get("SERVER_NAME"), server_name, "SERVER_NAME")
        w.check(env.get("SERVER_PROTOCOL") in ("HTTP/1.1", "HTTP/1.0"), "SERVER_PROTOCOL",
              repr(env.get("SERVER_PROTOCOL")))
        w.eq(env.get("wsgi.url_scheme"), "http", "wsgi.url_scheme without HTTPS")
        for k, v in extra_env.items():
            w.eq(env.get(k), v, "environ[%s]" % k)
    # --- the root of the mount
    r = hc.request("GET", port, (mount or "") + "/env")
    if w.eq(r.status, 200, "GET %s/env: status" % mount):
        env = r.json()
        w.eq((env.get("SCRIPT_NAME"), env.get("PATH_INFO")), (mount, "/env"),
           "SCRIPT_NAME, PATH_INFO for %s/env" % mount)
    # --- a path the app has no route for: the app's own 404
    r = hc.request("GET", port, mount + "/nowhere")
    w.eq(r.status, 404, "unknown route: 404 from the app")
    w.check(b"no route for PATH_INFO='/nowhere'" in r.body, "404 body names PATH_INFO /nowhere",
          repr(r.body[:200]))
    # --- POST 1 MiB, the app answers with its sha256
    if post:
        body = os.urandom(MIB)
        r = hc.request("POST", port, mount + "/upload",
                    headers=[("Content-Type", "application/octet-stream")], body=body)
        if w.eq(r.status, 200, "POST 1 MiB: status"):
            w.eq(r.json(), {"length": MIB, "sha256": hashlib.sha256(body).hexdigest()},
               "POST 1 MiB: length and sha256 the app read")
    # --- 1 MiB streamed response (generator, no Content-Length)
    n = MIB + 7
    r = hc.request("GET", port, mount + "/stream?n=%d" % n)
    w.eq(r.status, 200, "1 MiB streamed response: status")
    w.check(r.body == hc.pattern(n), "1 MiB streamed response: body intact",
          "%d bytes" % len(r.body))
    # --- HEAD
    r = hc.request("HEAD", port, mount + "/env")
    w.eq((r.status, r.body), (200, b""), "HEAD: 200, no body")
    w.eq(r.header("Content-Type"), "application/json", "HEAD: Content-Type")
    # --- redirect
    r = hc.request("GET", port, mount + "/redirect", headers=[("Host", host)])
    w.eq(r.status, 302, "redirect: 302")
    w.eq(r.header("Location"), "http://%s%s/target" % (lhost, mount), "redirect: Location")
    # --- cookies and many headers
    hdrs = [("Cookie", "a=1; b=caf%C3%A9"), ("Cookie2", "$Version=1")]
    hdrs += [("X-Matrix-H%02d" % i, "value-%d-" % i + "x" * 40) for i in range(40)]
    r = hc.request("GET", port, mount + "/env", headers=hdrs)
    if w.eq(r.status, 200, "cookies and 42 headers: status"):
        env = r.json()
        w.eq(env.get("HTTP_COOKIE"), "a=1; b=caf%C3%A9", "HTTP_COOKIE")
        missing = [i for i in range(40)
                   if env.get("HTTP_X_MATRIX_H%02d" % i) != "value-%d-" % i + "x" * 40]
        w.eq(missing, [], "all 40 X-Matrix-Hnn headers as HTTP_X_MATRIX_Hnn")
    # --- HTTPS as a TLS front would send it
    if https:
        r = hc.request("GET", port, mount + "/env", headers=[("X-Matrix-Https", "on")])
        if w.eq(r.status, 200, "HTTPS=on: status"):
            w.eq(r.json().get("wsgi.url_scheme"), "https", "HTTPS=on -> wsgi.url_scheme https")
        r = hc.request("GET", port, mount + "/redirect",
                    headers=[("X-Matrix-Https", "on"), ("Host", host)])
        w.eq(r.header("Location"), "https://%s%s/target" % (lhost, mount),
           "HTTPS=on: redirect Location is https")


# ------------------------------------------------------------------ SCGI through a web server

N_DOWNLOAD = 10 * MIB + 3
# Keys that differ between any two requests, or by the object's address.
VOLATILE = ("wsgi.input", "wsgi.errors", "REMOTE_PORT")


class ScgiHttp:
    """url/port: the web server; name: for messages; scgi_addr, fcgi_addr:
    the two wsgi-fcgi serving combo.py; log: the SCGI one's log file."""

    def __init__(self, url, port, name, scgi_addr, fcgi_addr, log):
        self.url = url
        self.port = str(port)
        self.name = name
        self.scgi = scgi_addr
        self.fcgi = fcgi_addr
        self.log = log

    def run(self):
        for t in (self.get_environ_non_ascii_path, self.get_root, self.get_hello,
                  self.post_1mib, self.download_10mib, self.head, self.log_clean):
            w.label("%s %s" % (self.name, t.__name__))
            try:
                t()
            except Exception:  # noqa: BLE001 - report and go on
                w.fail("exception:\n" + traceback.format_exc())
        w.label(None)

    def curl(self, path, *args):
        return hc.curl(self.url + path, *args)

    def direct(self, path, query, method="GET", body=b"", content_type=None):
        """The same request straight to the app, over SCGI and over FastCGI."""
        rs = sc.get(self.scgi, path, query, method=method, body=body,
                    content_type=content_type, timeout=120)
        extra = [(b"CONTENT_TYPE", content_type.encode())] if content_type else []
        rf = fc.get(self.fcgi, path, query, method=method, body=body, extra=extra, timeout=120)
        w.check(rs.eof and rs.well_formed, "direct SCGI %s?%s: a whole response" % (path, query))
        w.check(rf.ended, "direct FastCGI %s?%s: END_REQUEST" % (path, query))
        return rs, rf

    def same_answer(self, h, rs, rf, what, headers=("Content-Type", "Content-Length")):
        """The HTTP answer matches the direct SCGI and FastCGI ones."""
        for r, via in ((rs, "SCGI"), (rf, "FastCGI")):
            w.eq(h.status, r.status, "%s: status through %s = direct %s" % (what, self.name, via))
            w.eq(h.body, bytes(r.body), "%s: body through %s = direct %s" % (what, self.name, via))
            for name in headers:
                w.eq(h.header(name), r.header(name),
                     "%s: %s through %s = direct %s" % (what, name, self.name, via))

    @staticmethod
    def environ_of(body, what):
        try:
            return json.loads(body)["environ"]
        except (ValueError, KeyError, TypeError) as e:
            w.fail("%s: not the echo_environ JSON (%s): %r" % (what, e, body[:300]))
            return {}

    # the requests --------------------------------------------------------
    def get_environ_non_ascii_path(self):
        qs = "app=environ&q=%C3%A9+1&z="
        h = self.curl("/caf%C3%A9/sub%20dir/x?" + qs)
        w.eq(h.status, 200, "GET environ status")
        env = self.environ_of(h.body, "GET environ")
        want = {
            "SCRIPT_NAME": "",
            "PATH_INFO": "/caf\u00e9/sub dir/x".encode("utf-8").decode("latin-1"),
            "QUERY_STRING": qs,
            "REQUEST_METHOD": "GET",
            "SERVER_PORT": self.port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_URI": "/caf%C3%A9/sub%20dir/x?" + qs,
            "HTTP_HOST": "127.0.0.1:" + self.port,
            "REMOTE_ADDR": "127.0.0.1",
            "SCGI": "1",
            "wsgi.url_scheme": "http",
            "wsgi.version": [1, 0],
        }
        for k, v in want.items():
            w.eq(env.get(k), v, "environ[%r] through %s" % (k, self.name))
        w.check(env.get("CONTENT_LENGTH") in ("0", ""), "CONTENT_LENGTH of a GET: %r"
                % env.get("CONTENT_LENGTH"))
        for k in ("SERVER_NAME", "wsgi.input", "wsgi.errors", "HTTP_USER_AGENT"):
            w.check(k in env, "environ[%r] present" % k)

        # The params the web server sent, replayed directly over SCGI and over
        # FastCGI, give the app the same environ.
        names = [k for k in env if not k.startswith("wsgi.") and k != "CONTENT_LENGTH"]
        params = [(b"CONTENT_LENGTH", env.get("CONTENT_LENGTH", "0").encode("latin-1") or b"0")]
        params += [(k.encode("latin-1"), env[k].encode("latin-1")) for k in sorted(names)]
        rs = sc.request(self.scgi, params, b"", timeout=60)
        rf = fc.request(self.fcgi, params, b"", timeout=60)
        for r, via in ((rs, "SCGI"), (rf, "FastCGI")):
            e2 = self.environ_of(bytes(r.body), "direct %s environ" % via)
            a = {k: v for k, v in env.items() if k not in VOLATILE}
            b = {k: v for k, v in e2.items() if k not in VOLATILE}
            w.eq(a, b, "the environ through %s = the same params sent directly over %s"
                 % (self.name, via))

    def get_root(self):
        h = self.curl("/?app=environ")
        w.eq(h.status, 200, "GET / status")
        env = self.environ_of(h.body, "GET /")
        w.eq(env.get("PATH_INFO"), "/", "GET /: PATH_INFO is /")
        w.eq(env.get("SCRIPT_NAME"), "", "GET /: SCRIPT_NAME is ''")
        w.eq(env.get("QUERY_STRING"), "app=environ", "GET /: QUERY_STRING")

    def get_hello(self):
        h = self.curl("/?app=hello")
        w.eq(h.body, b"Hello, world!\n", "hello body through %s" % self.name)
        rs, rf = self.direct("/", "app=hello")
        self.same_answer(h, rs, rf, "GET hello")

    def post_1mib(self):
        body = os.urandom(MIB)
        up = w.tmp("up.bin")
        with open(up, "wb") as f:
            f.write(body)
        q = "app=body&mode=readn&n=65536"
        h = self.curl("/upload?" + q, "-H", "Content-Type: application/octet-stream",
                      "--data-binary", "@" + up)
        w.eq(h.status, 200, "POST 1 MiB status")
        w.check(h.body == body, "POST 1 MiB echoed intact (%d bytes back)" % len(h.body))
        w.eq(h.header("X-Read-Sha256"), hashlib.sha256(body).hexdigest(),
             "POST 1 MiB: what the app read")
        rs, rf = self.direct("/upload", q, "POST", body, "application/octet-stream")
        self.same_answer(h, rs, rf, "POST 1 MiB",
                         ("Content-Type", "Content-Length", "X-Read-Length", "X-Read-Sha256",
                          "X-After-Eof", "X-Read-Violations"))

    def download_10mib(self):
        q = "app=download&n=%d&chunk=65536" % N_DOWNLOAD
        h = self.curl("/download?" + q)
        w.eq(h.status, 200, "10 MiB download status")
        w.eq(len(h.body), N_DOWNLOAD, "10 MiB download length")
        w.check(h.body == hc.pattern(N_DOWNLOAD), "10 MiB download intact")
        rs, rf = self.direct("/download", q)
        self.same_answer(h, rs, rf, "10 MiB download", ("Content-Type",))

    def head(self):
        h = self.curl("/?app=hello", "-I")      # (-o then holds the headers: no body)
        w.eq(h.status, 200, "HEAD status")
        rs, rf = self.direct("/", "app=hello", "HEAD")
        for r, via in ((rs, "SCGI"), (rf, "FastCGI")):
            w.eq(r.status, 200, "HEAD directly over %s: status" % via)
            for name in ("Content-Type", "Content-Length"):
                w.eq(h.header(name), r.header(name), "HEAD: %s through %s = direct %s"
                     % (name, self.name, via))
        w.eq(h.header("Content-Length"), "14", "HEAD: Content-Length of the GET body")

    def log_clean(self):
        h = self.curl("/?app=hello")
        w.eq(h.status, 200, "a last request")
        log = w.read(self.log, "replace")
        w.check(" serving " in log, "the wsgi-fcgi log is there (%s)" % self.log)
        w.check("Traceback" not in log, "no traceback in the wsgi-fcgi log")
        w.check("closed an SCGI connection" not in log,
                "%s sent nothing wsgi-fcgi found malformed" % self.name)
