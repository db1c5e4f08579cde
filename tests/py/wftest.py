"""A tiny harness for the Python black-box tests of wsgi-fcgi.

Each tests/py/t_*.py script imports this module, defines functions named
test_*, and calls wftest.main().  The harness:

* starts $WSGI_FCGI on a unix socket in a private temp dir and waits for it
  (bounded), records the PID it started and kills only that PID;
* collects the server's stderr in a log file and prints it on failure;
* runs every test_* function, counting failed checks (a test goes on after
  a failed check so one run shows every problem), and exits 0, 1, or 77
  (skip);
* under WF_TEST_VALIDATE=1 passes the variable to the server (the apps
  then wrap themselves with wsgiref.validate) and fails if any
  AssertionError reaches a server log.
"""

import contextlib
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
sys.path.insert(0, TESTS)

import fcgi_client as fc  # noqa: E402

APPS = os.path.join(TESTS, "apps")
VALIDATE = os.environ.get("WF_TEST_VALIDATE") == "1"
WSGI_FCGI = os.environ.get("WSGI_FCGI")

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


class Skip(Exception):
    pass


_failures = []
_current = [None]
_servers = []
_tmp = [None]


def tmpdir():
    if _tmp[0] is None:
        _tmp[0] = tempfile.mkdtemp(prefix="wf-test-",
                                   dir=os.environ.get("TMPDIR") or "/tmp")
    return _tmp[0]


def app(name):
    """Absolute path of tests/apps/NAME.py."""
    return os.path.join(APPS, name + ".py")


# ------------------------------------------------------------------ checks

def fail(msg):
    where = _current[0] or "?"
    _failures.append((where, msg))
    print("FAIL [%s]: %s" % (where, msg), flush=True)
    for s in _servers:
        s.mark_dump()


def check(cond, msg):
    if not cond:
        fail(msg)
    return bool(cond)


def eq(actual, expected, what):
    if actual != expected:
        a, e = repr(actual), repr(expected)
        if len(a) > 600:
            a = a[:600] + "...(%d chars)" % len(a)
        if len(e) > 600:
            e = e[:600] + "...(%d chars)" % len(e)
        fail("%s\n    expected: %s\n    actual:   %s" % (what, e, a))
        return False
    return True


def wait_for(pred, timeout=20.0, interval=0.05):
    """Poll pred() until true or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ------------------------------------------------------------------ server

class Server:
    """One wsgi-fcgi process on a unix socket in the temp dir."""

    count = 0

    def __init__(self, app_spec, args=(), env=None, sock=None):
        if not WSGI_FCGI or not os.access(WSGI_FCGI, os.X_OK):
            raise Skip("WSGI_FCGI not set or not executable: %r" % WSGI_FCGI)
        Server.count += 1
        n = Server.count
        self.sock = sock or os.path.join(tmpdir(), "s%d.sock" % n)
        self.addr = "unix:" + self.sock
        self.logpath = os.path.join(tmpdir(), "server%d.log" % n)
        self.app_spec = app_spec
        self.args = list(args)
        e = dict(os.environ)
        if env:
            e.update(env)
        if VALIDATE:
            e["WF_TEST_VALIDATE"] = "1"
        self.env = e
        self.proc = None
        self.dump = False
        self.killed_ok = False
        _servers.append(self)
        self.start()

    def start(self):
        cmd = [WSGI_FCGI, "-s", "unix:" + self.sock] + self.args + [self.app_spec]
        self.cmd = cmd
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, env=self.env)
        logf.close()
        ok = wait_for(self._ready, START_TIMEOUT)
        if not ok:
            self.dump = True
            raise AssertionError("server did not start listening on %s "
                                 "within %ss (cmd %r)" % (self.sock, START_TIMEOUT, cmd))

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("server exited with %s before listening (cmd %r)"
                                 % (self.proc.returncode, self.cmd))
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.sock)
        except OSError:
            return False
        finally:
            s.close()
        # The master binds before its worker has loaded the app: ready is
        # when a worker has said it is serving (so later log offsets only
        # see what the test's own requests cause).
        return "] serving " in self.log() or " serving " in self.log()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log_since(self, offset):
        return self.log()[offset:]

    def mark_dump(self):
        self.dump = True

    def stop(self):
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.dump = True
                print("server pid %d ignored SIGTERM for %ss; killing" %
                      (p.pid, STOP_TIMEOUT), flush=True)
                p.kill()
                p.wait(STOP_TIMEOUT)
        self.proc = None
        if p.returncode != 0 and not self.killed_ok:
            fail("%r: exit status after SIGTERM: expected 0, got %s"
                 % (self.app_spec, p.returncode))
        if VALIDATE and "AssertionError" in self.log():
            fail("wsgiref.validate assertion in the log of %r" % self.app_spec)
        if self.dump:
            print("---- server log (%s, %s) ----" % (self.app_spec, self.logpath))
            sys.stdout.write(self.log()[-20000:])
            print("---- end of server log ----", flush=True)
        return p.returncode

    # request helpers --------------------------------------------------
    def get(self, path="/", query="", **kw):
        return fc.get(self.addr, path, query, **kw)

    def request(self, params, body=b"", **kw):
        return fc.request(self.addr, params, body, **kw)

    def connect(self, timeout=30.0):
        return fc.Connection(self.addr, timeout)

    def assert_serving(self, what="a normal request afterwards", query=""):
        """The server still answers a normal request with a 200 (query:
        the app's control case)."""
        r = self.get("/", query, timeout=30.0)
        ok = eq(r.status, 200, "%s: status" % what)
        ok = check(self.alive(), "%s: server process still alive" % what) and ok
        return ok


@contextlib.contextmanager
def serve(app_spec, args=(), env=None):
    """Run a server for the duration of a with block."""
    s = Server(app_spec, args, env)
    try:
        yield s
    finally:
        s.stop()
        if s in _servers:
            _servers.remove(s)


def stop_all():
    for s in list(_servers):
        try:
            s.stop()
        except Exception:
            traceback.print_exc()


# ------------------------------------------------------------------ runner

def main(tests=None):
    mod = sys.modules["__main__"]
    if tests is None:
        tests = [(n, getattr(mod, n)) for n in sorted(vars(mod))
                 if n.startswith("test_") and callable(getattr(mod, n))]
    only = os.environ.get("WF_ONLY")
    skipped = 0
    rc = 0
    try:
        for name, fn in tests:
            if only and only not in name:
                continue
            _current[0] = name
            before = len(_failures)
            try:
                fn()
            except Skip as e:
                print("SKIP %s: %s" % (name, e), flush=True)
                skipped += 1
                continue
            except Exception:
                fail("exception:\n" + traceback.format_exc())
            print("%s %s" % ("ok  " if len(_failures) == before else "FAIL", name),
                  flush=True)
    finally:
        _current[0] = "teardown"
        stop_all()
        if _tmp[0] and _failures and os.environ.get("WF_KEEP_TMP") == "1":
            print("temp dir kept: %s" % _tmp[0])
        elif _tmp[0]:
            shutil.rmtree(_tmp[0], ignore_errors=True)
    if _failures:
        print("%d failed check(s)" % len(_failures))
        rc = 1
    elif skipped and skipped == len(tests):
        rc = 77
    sys.exit(rc)


def reset_servers():
    """Stop and forget the servers started so far (used between tests)."""
    stop_all()
    del _servers[:]


def log_has(server, pattern, since=0, timeout=10.0):
    """Wait (bounded) for a regex to appear in the server log."""
    rx = re.compile(pattern)
    return wait_for(lambda: rx.search(server.log_since(since)), timeout)
