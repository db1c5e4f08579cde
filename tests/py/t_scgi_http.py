"""The HTTP side of tests/t-nginx-scgi.sh and tests/t-lighttpd-scgi.sh.

A real web server listens on WF_HTTP_URL and passes every request over SCGI
to a wsgi-fcgi --scgi serving tests/apps/combo.py on WF_SCGI_ADDR; a second
wsgi-fcgi serves the same app over FastCGI on WF_FCGI_ADDR.  Requests go
through curl: GET with a query string and a non-ASCII percent-encoded path,
the environ the app sees, POST 1 MiB, a 10 MiB download, HEAD.  Each answer
must match what the same request gets sent directly over SCGI
(tests/scgi_client.py) and over FastCGI (tests/fcgi_client.py).

Environment: WF_HTTP_URL, WF_HTTP_PORT, WF_HTTP_SERVER (a name for
messages), WF_SCGI_ADDR, WF_FCGI_ADDR, WF_SCGI_LOG (wsgi-fcgi's log file).
"""

import hashlib
import json
import os
import subprocess

import wftest as w
from wftest import eq, check
import fcgi_client as fc
import scgi_client as sc

URL = os.environ.get("WF_HTTP_URL", "")
PORT = os.environ.get("WF_HTTP_PORT", "")
NAME = os.environ.get("WF_HTTP_SERVER", "the web server")
SCGI = os.environ.get("WF_SCGI_ADDR", "")
FCGI = os.environ.get("WF_FCGI_ADDR", "")
LOG = os.environ.get("WF_SCGI_LOG", "")

N_DOWNLOAD = 10 * (1 << 20) + 3
# Keys that differ between any two requests, or by the object's address.
VOLATILE = ("wsgi.input", "wsgi.errors", "REMOTE_PORT")


class Http:
    """What curl got: status, headers (the final response's), body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        val = default
        for n, v in self.headers:
            if n.lower() == name.lower():
                val = v
        return val


def curl(path, *args):
    d = w.tmpdir()
    body_f = os.path.join(d, "curl.body")
    head_f = os.path.join(d, "curl.head")
    for f in (body_f, head_f):
        if os.path.exists(f):
            os.unlink(f)
    cmd = ["curl", "-sS", "--max-time", "120", "-o", body_f, "-D", head_f,
           "-w", "%{http_code}"] + list(args) + [URL + path]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
    if p.returncode != 0:
        w.fail("curl %s: exit %d: %s" % (path, p.returncode, p.stderr.decode("latin-1")))
    status = int(p.stdout or b"0")
    headers = []
    try:
        with open(head_f, "rb") as f:
            raw = f.read().decode("latin-1")
    except OSError:
        raw = ""
    # -D keeps every response (100 Continue too): the last block is the one.
    blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip()]
    if blocks:
        for line in blocks[-1].split("\n")[1:]:
            n, colon, v = line.partition(":")
            if colon:
                headers.append((n.strip(), v.strip()))
    try:
        with open(body_f, "rb") as f:
            body = f.read()
    except OSError:
        body = b""
    return Http(status, headers, body)


def direct(path, query, method="GET", body=b"", content_type=None):
    """The same request straight to the app, over SCGI and over FastCGI."""
    rs = sc.get(SCGI, path, query, method=method, body=body, content_type=content_type,
                timeout=120)
    extra = [(b"CONTENT_TYPE", content_type.encode())] if content_type else []
    rf = fc.get(FCGI, path, query, method=method, body=body, extra=extra, timeout=120)
    check(rs.eof and rs.well_formed, "direct SCGI %s?%s: a whole response" % (path, query))
    check(rf.ended, "direct FastCGI %s?%s: END_REQUEST" % (path, query))
    return rs, rf


def same_answer(h, rs, rf, what, headers=("Content-Type", "Content-Length")):
    """The HTTP answer matches the direct SCGI and FastCGI ones."""
    for r, via in ((rs, "SCGI"), (rf, "FastCGI")):
        eq(h.status, r.status, "%s: status through %s = direct %s" % (what, NAME, via))
        eq(h.body, bytes(r.body), "%s: body through %s = direct %s" % (what, NAME, via))
        for name in headers:
            eq(h.header(name), r.header(name),
               "%s: %s through %s = direct %s" % (what, name, NAME, via))


def environ_of(body, what):
    try:
        return json.loads(body)["environ"]
    except (ValueError, KeyError, TypeError) as e:
        w.fail("%s: not the echo_environ JSON (%s): %r" % (what, e, body[:300]))
        return {}


def pattern(n):
    base = bytes(range(251))
    return (base * (n // 251 + 1))[:n]


def setup():
    if not (URL and SCGI and FCGI):
        raise w.Skip("WF_HTTP_URL, WF_SCGI_ADDR and WF_FCGI_ADDR must be set")


# ------------------------------------------------------------ tests

def test_get_environ_non_ascii_path():
    setup()
    qs = "app=environ&q=%C3%A9+1&z="
    h = curl("/caf%C3%A9/sub%20dir/x?" + qs)
    eq(h.status, 200, "GET environ status")
    env = environ_of(h.body, "GET environ")
    want = {
        "SCRIPT_NAME": "",
        "PATH_INFO": "/caf\u00e9/sub dir/x".encode("utf-8").decode("latin-1"),
        "QUERY_STRING": qs,
        "REQUEST_METHOD": "GET",
        "SERVER_PORT": PORT,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_URI": "/caf%C3%A9/sub%20dir/x?" + qs,
        "HTTP_HOST": "127.0.0.1:" + PORT,
        "REMOTE_ADDR": "127.0.0.1",
        "SCGI": "1",
        "wsgi.url_scheme": "http",
        "wsgi.version": [1, 0],
    }
    for k, v in want.items():
        eq(env.get(k), v, "environ[%r] through %s" % (k, NAME))
    check(env.get("CONTENT_LENGTH") in ("0", ""), "CONTENT_LENGTH of a GET: %r"
          % env.get("CONTENT_LENGTH"))
    for k in ("SERVER_NAME", "wsgi.input", "wsgi.errors", "HTTP_USER_AGENT"):
        check(k in env, "environ[%r] present" % k)

    # The params the web server sent, replayed directly over SCGI and over
    # FastCGI, give the app the same environ.
    names = [k for k in env if not k.startswith("wsgi.") and k != "CONTENT_LENGTH"]
    params = [(b"CONTENT_LENGTH", env.get("CONTENT_LENGTH", "0").encode("latin-1") or b"0")]
    params += [(k.encode("latin-1"), env[k].encode("latin-1")) for k in sorted(names)]
    rs = sc.request(SCGI, params, b"", timeout=60)
    rf = fc.request(FCGI, params, b"", timeout=60)
    for r, via in ((rs, "SCGI"), (rf, "FastCGI")):
        e2 = environ_of(bytes(r.body), "direct %s environ" % via)
        a = {k: v for k, v in env.items() if k not in VOLATILE}
        b = {k: v for k, v in e2.items() if k not in VOLATILE}
        eq(a, b, "the environ through %s = the same params sent directly over %s" % (NAME, via))


def test_get_root():
    setup()
    h = curl("/?app=environ")
    eq(h.status, 200, "GET / status")
    env = environ_of(h.body, "GET /")
    eq(env.get("PATH_INFO"), "/", "GET /: PATH_INFO is /")
    eq(env.get("SCRIPT_NAME"), "", "GET /: SCRIPT_NAME is ''")
    eq(env.get("QUERY_STRING"), "app=environ", "GET /: QUERY_STRING")


def test_get_hello():
    setup()
    h = curl("/?app=hello")
    eq(h.body, b"Hello, world!\n", "hello body through %s" % NAME)
    rs, rf = direct("/", "app=hello")
    same_answer(h, rs, rf, "GET hello")


def test_post_1mib():
    setup()
    body = os.urandom(1 << 20)
    up = os.path.join(w.tmpdir(), "up.bin")
    with open(up, "wb") as f:
        f.write(body)
    q = "app=body&mode=readn&n=65536"
    h = curl("/upload?" + q, "-H", "Content-Type: application/octet-stream",
             "--data-binary", "@" + up)
    eq(h.status, 200, "POST 1 MiB status")
    check(h.body == body, "POST 1 MiB echoed intact (%d bytes back)" % len(h.body))
    eq(h.header("X-Read-Sha256"), hashlib.sha256(body).hexdigest(), "POST 1 MiB: what the app read")
    rs, rf = direct("/upload", q, "POST", body, "application/octet-stream")
    same_answer(h, rs, rf, "POST 1 MiB",
                ("Content-Type", "Content-Length", "X-Read-Length", "X-Read-Sha256",
                 "X-After-Eof", "X-Read-Violations"))


def test_download_10mib():
    setup()
    q = "app=download&n=%d&chunk=65536" % N_DOWNLOAD
    h = curl("/download?" + q)
    eq(h.status, 200, "10 MiB download status")
    eq(len(h.body), N_DOWNLOAD, "10 MiB download length")
    check(h.body == pattern(N_DOWNLOAD), "10 MiB download intact")
    rs, rf = direct("/download", q)
    same_answer(h, rs, rf, "10 MiB download", ("Content-Type",))


def test_head():
    setup()
    h = curl("/?app=hello", "-I")      # (-o then holds the headers: no body)
    eq(h.status, 200, "HEAD status")
    rs, rf = direct("/", "app=hello", "HEAD")
    for r, via in ((rs, "SCGI"), (rf, "FastCGI")):
        eq(r.status, 200, "HEAD directly over %s: status" % via)
        for name in ("Content-Type", "Content-Length"):
            eq(h.header(name), r.header(name), "HEAD: %s through %s = direct %s"
               % (name, NAME, via))
    eq(h.header("Content-Length"), "14", "HEAD: Content-Length of the GET body")


def test_log_clean():
    setup()
    h = curl("/?app=hello")
    eq(h.status, 200, "a last request")
    try:
        with open(LOG, "rb") as f:
            log = f.read().decode("latin-1")
    except OSError:
        log = ""
    check(" serving " in log, "the wsgi-fcgi log is there (%s)" % LOG)
    check("Traceback" not in log, "no traceback in the wsgi-fcgi log")
    check("closed an SCGI connection" not in log,
          "%s sent nothing wsgi-fcgi found malformed" % NAME)


if __name__ == "__main__":
    w.main()
