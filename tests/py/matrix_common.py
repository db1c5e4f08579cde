"""Shared machinery of the front-end matrix (tests/t-matrix-*.sh).

A cell starts real software (nginx, lighttpd, Apache httpd, spawn-fcgi,
wsgi-fcgi) on 127.0.0.1 free ports and unix sockets in one private temp dir,
waits (bounded) until the front answers, runs the same request suite through
it (cell_checks), and stops every process it started by its recorded PID,
together with the descendants recorded just before (workers, processes a
front spawned).  Checks count failures and go on; main() exits 0, 1 or 77.

Environment: WSGI_FCGI, PYTHON (only for the reference servers), srcdir.
WF_KEEP_TMP=1 keeps the temp dir of a failed run.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
APPS = os.path.join(TESTS, "apps")
CONTRIB = os.path.join(TOP, "contrib")
WSGI_FCGI = os.path.abspath(os.environ.get("WSGI_FCGI") or "src/wsgi-fcgi")
PYTHON = os.environ.get("PYTHON") or sys.executable
IS_ROOT = os.geteuid() == 0
MIB = 1 << 20


class Skip(Exception):
    pass


# ------------------------------------------------------------------ checks

_failures = []
_cell = ["-"]


def fail(msg):
    _failures.append((_cell[0], msg))
    print("FAIL [%s]: %s" % (_cell[0], msg), flush=True)


def ok(msg):
    print("ok [%s]: %s" % (_cell[0], msg), flush=True)


def check(cond, msg, detail=""):
    if cond:
        ok(msg)
    else:
        fail(msg + (("\n    " + detail) if detail else ""))
    return bool(cond)


def eq(actual, expected, what):
    return check(actual == expected, what,
                 "expected: %r\n    actual:   %r" % (expected, _short(actual)))


def _short(v):
    r = v if not isinstance(v, (bytes, str)) or len(v) < 600 else v[:600]
    return r


# ------------------------------------------------------------------ temp dir

_tmp = [None]


def tmpdir():
    if _tmp[0] is None:
        d = tempfile.mkdtemp(prefix="wf-matrix-", dir=os.environ.get("TMPDIR") or "/tmp")
        # Apache's children (and what mod_fcgid/mod_cgi spawn) run as
        # www-data when we are root: they must reach the sockets and scripts.
        os.chmod(d, 0o755)
        _tmp[0] = d
    return _tmp[0]


def path(*parts):
    return os.path.join(tmpdir(), *parts)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def render(template, dest, mapping):
    """Copy TEMPLATE to DEST replacing @KEY@ placeholders; none may remain."""
    with open(template) as f:
        text = f.read()
    for k, v in mapping.items():
        text = text.replace("@%s@" % k, str(v))
    left = re.findall(r"@[A-Z][A-Z0-9_]*@", text)
    if left:
        raise AssertionError("placeholders left in %s: %s" % (dest, left))
    with open(dest, "w") as f:
        f.write(text)
    return dest


def write(dest, text, mode=None):
    with open(dest, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(dest, mode)
    return dest


# ------------------------------------------------------------------ processes

def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pid):
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def _start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


class Proc:
    def __init__(self, name, argv, env=None, cwd=None, stdin=None):
        self.name = name
        self.argv = argv
        self.log = path(name + ".log")
        e = dict(os.environ)
        e["PYTHONDONTWRITEBYTECODE"] = "1"
        if env:
            e.update(env)
        logf = open(self.log, "ab")
        self.p = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                  stdout=logf, stderr=logf, env=e, cwd=cwd,
                                  start_new_session=True)
        logf.close()
        self.pid = self.p.pid
        self.known = {}      # descendant pid -> start time, recorded while running

    def record(self):
        for d in descendants(self.pid):
            if d not in self.known:
                self.known[d] = _start_time(d)

    def running(self):
        return self.p.poll() is None

    def text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Signal our PID, wait (bounded), then SIGKILL it and every
        descendant recorded that is still the same process."""
        self.record()
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                print("%s (pid %d) still alive %ss after signal %d; killing"
                      % (self.name, self.pid, timeout, sig), flush=True)
                self.p.kill()
                self.p.wait(timeout)
        deadline = time.monotonic() + 10
        for d, st in self.known.items():
            while alive(d) and _start_time(d) == st and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive(d) and _start_time(d) == st:
                print("%s: descendant %d left behind; killing" % (self.name, d), flush=True)
                try:
                    os.kill(d, signal.SIGKILL)
                except OSError:
                    pass
        return self.p.returncode


class Pid:
    """A process we did not fork ourselves but know by PID (spawn-fcgi's
    fork-mode children, read from its pidfile): stopped the same way."""

    def __init__(self, name, pid):
        self.name = name
        self.pid = pid
        self.start = _start_time(pid)
        self.log = path(name + ".log")

    def record(self):
        pass

    def running(self):
        return alive(self.pid) and _start_time(self.pid) == self.start

    def text(self):
        return ""

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        if not self.running():
            return None
        os.kill(self.pid, sig)
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.running():
            print("%s (pid %d) still alive; killing" % (self.name, self.pid), flush=True)
            os.kill(self.pid, signal.SIGKILL)
        return None


_procs = []


def track(name, pid):
    p = Pid(name, pid)
    _procs.append(p)
    return p


def start(name, argv, **kw):
    p = Proc(name, argv, **kw)
    _procs.append(p)
    return p


def stop_all():
    while _procs:
        p = _procs.pop()
        p.stop()


def start_wsgi(name, addr, app=None, args=(), env=None):
    """wsgi-fcgi on ADDR (unix:PATH or 127.0.0.1:PORT); ready when it says so."""
    argv = [WSGI_FCGI, "-s", addr] + list(args) + [app or os.path.join(APPS, "matrix_app.py")]
    p = start(name, argv, env=env)
    wait_until(lambda: " serving " in p.text() and can_connect(addr), p, 20,
               "%s serving on %s" % (name, addr))
    p.record()
    return p


def can_connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        a = addr[5:]
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.socket()
        a = (host, int(port))
    s.settimeout(2)
    try:
        s.connect(a)
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_for(pred, timeout=20.0, interval=0.05):
    """Poll pred() until true or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def wait_until(pred, proc, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if pred():
                return
        except OSError:
            pass
        if proc is not None and not proc.running():
            raise AssertionError("%s: %s exited (status %s) before it was ready\n%s"
                                 % (what, proc.name, proc.p.returncode, proc.text()[-4000:]))
        if time.monotonic() > deadline:
            raise AssertionError("%s: not ready after %ss" % (what, timeout))
        time.sleep(0.05)


def wait_http(port, proc, path_="/", timeout=20):
    def up():
        try:
            request("GET", port, path_, timeout=3)
            return True
        except (OSError, http.client.HTTPException):
            return False
    wait_until(up, proc, timeout, "HTTP on 127.0.0.1:%d" % port)
    proc.record()


# ------------------------------------------------------------------ HTTP

class Resp:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value) as received
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def request(method, port, target, headers=None, body=None, timeout=60, host="127.0.0.1"):
    """One HTTP/1.1 request on a fresh connection; the raw target is sent as is."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        has_host = any(k.lower() == "host" for k, _ in (headers or []))
        c.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
        for k, v in (headers or []):
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        if body is not None:
            for i in range(0, len(body), 65536):
                c.send(body[i:i + 65536])
        r = c.getresponse()
        data = r.read()
        return Resp(r.status, r.getheaders(), data, r.reason)
    finally:
        c.close()


def pattern(n):
    base = bytes(range(251))
    return (base * (n // 251 + 1))[:n]


# ------------------------------------------------------------------ the cell suite

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
    _cell[0] = cell
    try:
        _cell_checks(port, mount, server_name, request_uri, https, extra_env or {}, post,
                     redirect_host_port)
    except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
        fail("request suite stopped: %s\n%s" % (e, traceback.format_exc()))


def _cell_checks(port, mount, server_name, request_uri, https, extra_env, post,
                 redirect_host_port):
    host = "127.0.0.1:%d" % port
    lhost = host if redirect_host_port else "127.0.0.1"
    # --- GET, query string, non-ASCII percent-encoded path: the environ
    target = mount + "/env" + UTF8_PATH + "?" + QUERY
    r = request("GET", port, target)
    if eq(r.status, 200, "GET %s: status (the app routed on PATH_INFO)" % target):
        env = r.json()
        eq(env.get("SCRIPT_NAME"), mount, "SCRIPT_NAME")
        eq(env.get("PATH_INFO"), "/env" + UTF8_DECODED, "PATH_INFO (decoded UTF-8 bytes as latin-1)")
        eq(env.get("QUERY_STRING"), QUERY, "QUERY_STRING")
        eq(env.get("REQUEST_METHOD"), "GET", "REQUEST_METHOD")
        if request_uri:
            eq(env.get("REQUEST_URI"), target, "REQUEST_URI (raw)")
        eq(env.get("REMOTE_ADDR"), "127.0.0.1", "REMOTE_ADDR")
        eq(env.get("SERVER_PORT"), str(port), "SERVER_PORT")
        if server_name is not None:
            eq(env.get("SERVER_NAME"), server_name, "SERVER_NAME")
        check(env.get("SERVER_PROTOCOL") in ("HTTP/1.1", "HTTP/1.0"), "SERVER_PROTOCOL",
              repr(env.get("SERVER_PROTOCOL")))
        eq(env.get("wsgi.url_scheme"), "http", "wsgi.url_scheme without HTTPS")
        for k, v in extra_env.items():
            eq(env.get(k), v, "environ[%s]" % k)
    # --- the root of the mount
    r = request("GET", port, (mount or "") + "/env")
    if eq(r.status, 200, "GET %s/env: status" % mount):
        env = r.json()
        eq((env.get("SCRIPT_NAME"), env.get("PATH_INFO")), (mount, "/env"),
           "SCRIPT_NAME, PATH_INFO for %s/env" % mount)
    # --- a path the app has no route for: the app's own 404
    r = request("GET", port, mount + "/nowhere")
    eq(r.status, 404, "unknown route: 404 from the app")
    check(b"no route for PATH_INFO='/nowhere'" in r.body, "404 body names PATH_INFO /nowhere",
          repr(r.body[:200]))
    # --- POST 1 MiB, the app answers with its sha256
    if post:
        body = os.urandom(MIB)
        r = request("POST", port, mount + "/upload",
                    headers=[("Content-Type", "application/octet-stream")], body=body)
        if eq(r.status, 200, "POST 1 MiB: status"):
            eq(r.json(), {"length": MIB, "sha256": hashlib.sha256(body).hexdigest()},
               "POST 1 MiB: length and sha256 the app read")
    # --- 1 MiB streamed response (generator, no Content-Length)
    n = MIB + 7
    r = request("GET", port, mount + "/stream?n=%d" % n)
    eq(r.status, 200, "1 MiB streamed response: status")
    check(r.body == pattern(n), "1 MiB streamed response: body intact",
          "%d bytes" % len(r.body))
    # --- HEAD
    r = request("HEAD", port, mount + "/env")
    eq((r.status, r.body), (200, b""), "HEAD: 200, no body")
    eq(r.header("Content-Type"), "application/json", "HEAD: Content-Type")
    # --- redirect
    r = request("GET", port, mount + "/redirect", headers=[("Host", host)])
    eq(r.status, 302, "redirect: 302")
    eq(r.header("Location"), "http://%s%s/target" % (lhost, mount), "redirect: Location")
    # --- cookies and many headers
    hdrs = [("Cookie", "a=1; b=caf%C3%A9"), ("Cookie2", "$Version=1")]
    hdrs += [("X-Matrix-H%02d" % i, "value-%d-" % i + "x" * 40) for i in range(40)]
    r = request("GET", port, mount + "/env", headers=hdrs)
    if eq(r.status, 200, "cookies and 42 headers: status"):
        env = r.json()
        eq(env.get("HTTP_COOKIE"), "a=1; b=caf%C3%A9", "HTTP_COOKIE")
        missing = [i for i in range(40)
                   if env.get("HTTP_X_MATRIX_H%02d" % i) != "value-%d-" % i + "x" * 40]
        eq(missing, [], "all 40 X-Matrix-Hnn headers as HTTP_X_MATRIX_Hnn")
    # --- HTTPS as a TLS front would send it
    if https:
        r = request("GET", port, mount + "/env", headers=[("X-Matrix-Https", "on")])
        if eq(r.status, 200, "HTTPS=on: status"):
            eq(r.json().get("wsgi.url_scheme"), "https", "HTTPS=on -> wsgi.url_scheme https")
        r = request("GET", port, mount + "/redirect",
                    headers=[("X-Matrix-Https", "on"), ("Host", host)])
        eq(r.header("Location"), "https://%s%s/target" % (lhost, mount),
           "HTTPS=on: redirect Location is https")


# ------------------------------------------------------------------ main

def dump_logs():
    d = _tmp[0]
    if not d or not os.path.isdir(d):
        return
    for root, _dirs, files in os.walk(d):
        for f in sorted(files):
            if f.endswith(".log") or f.endswith(".conf"):
                p = os.path.join(root, f)
                try:
                    with open(p, "rb") as fh:
                        data = fh.read()[-12000:]
                except OSError:
                    continue
                print("---- %s ----" % p)
                print(data.decode("latin-1"))


def main(body, needs=()):
    """Run BODY() with cleanup; NEEDS: files that must exist (else skip)."""
    rc = 0
    try:
        for n in needs:
            if not os.path.exists(n):
                raise Skip("%s is not installed" % n)
        if not os.access(WSGI_FCGI, os.X_OK):
            print("FAIL: WSGI_FCGI=%s is not executable" % WSGI_FCGI)
            return 99
        body()
    except Skip as e:
        print("SKIP: %s" % e)
        rc = 77
    except Exception:
        fail("error: %s" % traceback.format_exc())
    finally:
        try:
            stop_all()
        except Exception:
            fail("cleanup: %s" % traceback.format_exc())
    if _failures:
        print("%d check(s) failed" % len(_failures))
        dump_logs()
        rc = 1
    keep = rc == 1 and os.environ.get("WF_KEEP_TMP") == "1"
    if _tmp[0] and not keep:
        shutil.rmtree(_tmp[0], ignore_errors=True)
    elif keep:
        print("temp dir kept: %s" % _tmp[0])
    return rc
