"""wftest: the one library of the black-box tests of wsgi-fcgi.

A test is one file, tests/t-NAME.py, run by automake with the interpreter
configure found ($PYTHON, the one whose libpython the binary embeds):

    import wftest as w

    def test_hello():
        with w.serve(w.app("hello")) as s:
            r = s.get("/")
            w.eq(r.status, 200, "hello: status")

    if __name__ == "__main__":
        w.main()

main() runs every test_* function in the order of the file.  A failed check
prints "FAIL" and the test goes on, so one run shows every problem; passed
checks print "ok".  At the end of each test every process the test started
is stopped by its PID (and any descendant recorded while it ran); the logs
of a failed test are printed.  Exit status: 0, 1 (a check failed), 77 (every
test skipped: raise Skip, or need_*()), 99 (the harness itself failed).

What the library offers:

* checks: check, eq, fail, ok, label (a prefix for the messages), wait_for,
  no_worker_died (no crash the master quietly repaired);
* skipping: Skip, need_program, need_file, need_module, need_root;
* places: tmpdir()/tmp() (one private temp dir per test file), free_port(),
  app(NAME) (tests/apps/NAME.py), TESTS, DATA, CONTRIB, WSGI_FCGI, PYTHON;
* processes: spawn() (any program, output to a log file in the temp dir),
  track_pid() (a process we know only by PID), run() (bounded, captured);
* Server / serve(): wsgi-fcgi on a unix socket in the temp dir (or TCP, or
  an address given), FastCGI or SCGI, ready when it accepts and its worker
  said "serving", with request helpers for its protocol and --stats;
* the clients: wftest.fcgi (FastCGI records, hostile ones included),
  wftest.scgi, wftest.http_client (HTTP and curl); wftest.web (nginx,
  lighttpd, Apache from the contrib/ templates); wftest.load (client loops
  on kept connections); wftest.suites (request suites several tests share).

Environment (set by the Makefile; defaults make a test runnable by hand from
the build directory): WSGI_FCGI, PYTHON, WF_SANITIZERS.  WF_ONLY=SUBSTRING
runs only the tests whose name contains it; WF_KEEP_TMP=1 keeps the temp dir
of a failed run; WF_TEST_VALIDATE=1 wraps the apps in wsgiref.validate.

Time limits here are upper bounds on waits, never assertions on speed.
"""

import contextlib
import errno
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
# The embedded interpreter imports the apps from the source tree, which is
# read-only under "make distcheck": no byte code there either.
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"

from . import fcgi  # noqa: E402
from . import scgi  # noqa: E402

LIB = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(LIB)
TOP = os.path.dirname(TESTS)
APPS = os.path.join(TESTS, "apps")
DATA = os.path.join(TESTS, "data")
CONTRIB = os.path.join(TOP, "contrib")
WSGI_FCGI = os.path.abspath(os.environ.get("WSGI_FCGI") or os.path.join(
    os.environ.get("top_builddir", "."), "src", "wsgi-fcgi"))
PYTHON = os.environ.get("PYTHON") or sys.executable
VALIDATE = os.environ.get("WF_TEST_VALIDATE") == "1"
SANITIZERS = os.environ.get("WF_SANITIZERS") == "yes"
IS_ROOT = os.geteuid() == 0

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class Skip(Exception):
    """Raised to skip the current test (or, before main(), the whole file)."""


class HarnessError(Exception):
    """The test could not run at all (exit 99)."""


# ------------------------------------------------------------------ checks

_state = {"test": None, "label": None, "passed": 0, "failed": 0, "test_failed": 0}


def _where():
    lab = _state["label"]
    return " [%s]" % lab if lab else ""


def label(text=None):
    """Prefix the messages of the following checks with TEXT (a matrix
    cell, a server); None goes back to the test's name."""
    _state["label"] = text


def ok(msg):
    _state["passed"] += 1
    print("ok%s: %s" % (_where(), msg), flush=True)


def log(msg):
    """A note in the test's log (not a check)."""
    print(msg, flush=True)


def fail(msg):
    _state["failed"] += 1
    _state["test_failed"] += 1
    print("FAIL%s: %s" % (_where(), msg), flush=True)


def _short(v):
    r = repr(v)
    if len(r) > 600:
        r = r[:600] + "...(%d chars)" % len(r)
    return r


def check(cond, msg, detail=None):
    """One check: passes when cond is true.  Returns bool(cond)."""
    if cond:
        ok(msg)
    else:
        fail(msg if detail is None else "%s\n    %s" % (msg, detail))
    return bool(cond)


def eq(actual, expected, what):
    """One check: actual == expected."""
    if actual == expected:
        ok(what)
        return True
    fail("%s\n    expected: %s\n    actual:   %s" % (what, _short(expected), _short(actual)))
    return False


def failed_so_far():
    """Failed checks in the current test."""
    return _state["test_failed"]


def wait_for(pred, timeout=20.0, interval=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ------------------------------------------------------------------ skipping

def need_program(name):
    """The path of program NAME (a path, or a name looked up in PATH and
    the sbin directories); skips when it is not installed."""
    if os.sep in name:
        path = name
    else:
        path = shutil.which(name, path=os.environ.get("PATH", "") +
                            ":/usr/local/sbin:/usr/sbin:/sbin") or name
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise Skip("%s is not installed" % name)
    return path


def need_file(path, why=None):
    if not os.path.exists(path):
        raise Skip("%s is missing%s" % (path, " (%s)" % why if why else ""))
    return path


def need_module(name, package=None):
    """Skip unless $PYTHON (the embedded Python's interpreter) imports NAME."""
    r = subprocess.run([PYTHON, "-c", "import " + name], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        raise Skip("%s cannot import %s%s" % (PYTHON, name,
                                              " (Debian package %s)" % package if package else ""))


def need_root(why):
    if not IS_ROOT:
        raise Skip("needs root: %s" % why)


def need_wsgi_fcgi():
    if not (os.path.isfile(WSGI_FCGI) and os.access(WSGI_FCGI, os.X_OK)):
        raise HarnessError("WSGI_FCGI=%s is not executable" % WSGI_FCGI)
    return WSGI_FCGI


# ------------------------------------------------------------------ places

_tmp = [None]


def tmpdir():
    """The private temp dir of this test file (mode 0755: Apache's and
    nobody's children must reach sockets and scripts in it)."""
    if _tmp[0] is None:
        d = tempfile.mkdtemp(prefix="wf-test-", dir=os.environ.get("TMPDIR") or "/tmp")
        os.chmod(d, 0o755)
        _tmp[0] = d
    return _tmp[0]


def tmp(*parts):
    return os.path.join(tmpdir(), *parts)


def app(name):
    """Absolute path of tests/apps/NAME.py."""
    return os.path.join(APPS, name + ".py")


def write(path, text, mode=None):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def read(path, errors="replace"):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors)
    except OSError:
        return ""


_ports_given = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(family=socket.AF_INET):
    """A TCP port nobody listens on right now (127.0.0.1, or ::1), and not
    one this test file was given before (the kernel may hand a port just
    released out again: two calls in a row must not name the same one).

    The port is taken below the kernel's ephemeral range: a port from that
    range can be taken between this call and the server's bind by any
    outgoing connection on the machine (a test making 100,000 connections
    cycles through all of them)."""
    high = min(_ephemeral_low(), 65536) - 1
    low = max(1024, high - 12000)
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(low, high)
        if port in _ports_given:
            continue
        s = socket.socket(family)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise
        finally:
            s.close()
        _ports_given.add(port)
        return port
    raise HarnessError("no fresh free port after 200 tries")


def have_ipv6():
    try:
        free_port(socket.AF_INET6)
        return True
    except OSError:
        return False


def can_connect(addr, timeout=2.0):
    """One connection attempt to unix:PATH, PATH, HOST:PORT or [V6]:PORT."""
    try:
        fcgi.connect(addr, timeout).close()
        return True
    except OSError:
        return False


# ------------------------------------------------------------------ processes

def alive(pid):
    """pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (OSError, IndexError):
        return False


def _stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid):
    st = _stat(pid)
    return st[19] if st else None


def children(pid):
    """Live PIDs whose parent is pid (a master's workers)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st and st[1] == str(pid) and st[0] not in "ZX":
                out.append(int(d))
    return sorted(out)


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                kids.setdefault(int(st[1]), []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


_procs = []          # every process started, in order: stopped at the end of its test


class Proc:
    """A program we started (subprocess), output to TMP/NAME.log.

    stop() signals our PID only, waits (bounded), then SIGKILLs it and every
    descendant recorded while it ran that is still the same process (same
    start time), so nothing it forked outlives the test."""

    stop_signal = signal.SIGTERM      # what the end-of-test cleanup sends

    def __init__(self, name, argv, env=None, cwd=None, stdin=None, logpath=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.logpath = logpath or tmp(name + ".log")
        self.files = []            # more files to print when the test fails
        e = dict(os.environ)
        if env:
            e.update(env)
        self.env = e
        logf = open(self.logpath, "ab")
        try:
            self.p = subprocess.Popen(self.argv, stdin=stdin if stdin is not None
                                      else subprocess.DEVNULL, stdout=logf,
                                      stderr=logf, env=e, cwd=cwd, start_new_session=True)
        finally:
            logf.close()
        self.pid = self.p.pid
        self.known = {}            # descendant pid -> start time
        _procs.append(self)
        print("# started %s (pid %d): %s" % (name, self.pid, " ".join(self.argv)), flush=True)

    # state -----------------------------------------------------------
    def record(self):
        """Remember the current descendants (to stop them later)."""
        for d in descendants(self.pid):
            if d not in self.known:
                self.known[d] = _start_time(d)

    def running(self):
        return self.p.poll() is None

    @property
    def returncode(self):
        return self.p.returncode

    def kill(self, sig):
        if self.p.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """The exit status, or None when still running after timeout."""
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def text(self):
        """The log so far, decoded latin-1 (every byte kept)."""
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
        return self.text()[offset:]

    def log_has(self, pattern, since=0, timeout=10.0):
        """Wait (bounded) for a regex in the log after offset since."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log_since(since)), timeout)

    def stop(self, sig=None, timeout=STOP_TIMEOUT):
        """Signal (default: TERM), wait up to timeout, SIGKILL if need be;
        returns the exit status (negative: killed by that signal)."""
        self.record()
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig or signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(timeout) is None:
                print("# %s (pid %d) still running %ss after signal %d: killing"
                      % (self.name, self.pid, timeout, sig or signal.SIGTERM), flush=True)
                self.p.kill()
                self.p.wait(10)
        self._reap_known()
        return self.p.returncode

    def _reap_known(self):
        deadline = time.monotonic() + 10
        for d, st in self.known.items():
            while alive(d) and _start_time(d) == st and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive(d) and _start_time(d) == st:
                print("# %s: descendant %d left behind: killing" % (self.name, d), flush=True)
                try:
                    os.kill(d, signal.SIGKILL)
                except OSError:
                    pass

    def dump(self):
        for path in [self.logpath] + self.files:
            print("---- %s (%s) ----" % (path, self.name))
            sys.stdout.write(read(path, "backslashreplace")[-20000:])
            print("\n---- end of %s ----" % path, flush=True)


class Pid:
    """A process we know only by PID (spawn-fcgi's fork-mode child, read
    from its pidfile): stopped the same way, by that PID."""

    stop_signal = signal.SIGTERM

    def __init__(self, name, pid):
        self.name = name
        self.pid = pid
        self.start = _start_time(pid)
        self.files = []
        _procs.append(self)

    def record(self):
        pass

    def running(self):
        return alive(self.pid) and _start_time(self.pid) == self.start

    def stop(self, sig=None, timeout=STOP_TIMEOUT):
        if not self.running():
            return None
        os.kill(self.pid, sig or signal.SIGTERM)
        if not wait_for(lambda: not self.running(), timeout):
            print("# %s (pid %d) still alive: killing" % (self.name, self.pid), flush=True)
            os.kill(self.pid, signal.SIGKILL)
        return None

    def dump(self):
        for path in self.files:
            print("---- %s (%s) ----" % (path, self.name))
            sys.stdout.write(read(path, "backslashreplace")[-20000:])


def spawn(name, argv, env=None, cwd=None, stdin=None):
    """Start a program in the background (nginx, spawn-fcgi, ...)."""
    return Proc(name, argv, env=env, cwd=cwd, stdin=stdin)


def track_pid(name, pid):
    return Pid(name, pid)


def untrack(p):
    if p in _procs:
        _procs.remove(p)


def run(argv, timeout=30, env=None, input=None, stdin=None, cwd=None):
    """Run a program to its end, bounded: a CompletedProcess whose
    returncode is 124 when it was killed after timeout seconds (as
    coreutils' timeout says), stdout and stderr as bytes."""
    e = dict(os.environ)
    if env is not None:
        e.update(env)
    kw = {"input": input} if input is not None else {
        "stdin": stdin if stdin is not None else subprocess.DEVNULL}
    try:
        return subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=e, cwd=cwd, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as ex:
        return subprocess.CompletedProcess(argv, 124, ex.stdout or b"", ex.stderr or b"")


# ------------------------------------------------------------------ wsgi-fcgi

class Server(Proc):
    """wsgi-fcgi serving app_spec.

    addr: where it listens -- default a unix socket in the temp dir, or
    127.0.0.1 on a free port with tcp=True; scgi=True adds --scgi and makes
    the request helpers speak SCGI; stats=True adds --stats on another unix
    socket.  argv replaces the whole command line (systemd-socket-activate,
    spawn-fcgi ...; then addr says where to wait).  Ready when addr accepts,
    the log has a worker's "serving" line, and (with stats) `workers`
    workers are ready.  killed_ok: a non-zero exit status is expected."""

    count = 0
    stop_signal = signal.SIGQUIT      # the end-of-test cleanup: stop now

    def __init__(self, app_spec=None, args=(), name=None, addr=None, tcp=False, scgi=False,
                 stats=False, env=None, wait=True, workers=None, argv=None):
        need_wsgi_fcgi()
        Server.count += 1
        name = name or "wsgi-fcgi-%d" % Server.count
        self.app_spec = app_spec
        self.args = list(args)
        self.scgi = scgi
        if addr is None:
            addr = ("127.0.0.1:%d" % free_port()) if tcp else "unix:" + tmp(name + ".sock")
        self.addr = addr
        self.sock = addr[5:] if addr.startswith("unix:") else (addr if "/" in addr else None)
        self.stats_addr = ("unix:" + tmp(name + ".stats")) if stats else None
        if argv is None:
            argv = [WSGI_FCGI, "-s", addr]
            if scgi:
                argv.append("--scgi")
            if self.stats_addr:
                argv += ["--stats", self.stats_addr]
            argv += self.args + [app_spec]
        e = dict(env or {})
        if VALIDATE:
            e["WF_TEST_VALIDATE"] = "1"
        self.killed_ok = False
        super().__init__(name, argv, env=e)
        if wait:
            self.wait_ready(workers)

    def wait_ready(self, workers=None, timeout=START_TIMEOUT):
        """Ready: addr accepts, and with --stats `workers` workers (default:
        all) are ready, else the log has a worker's "serving" line (the
        master binds before a worker has loaded the app: later log offsets
        then only see what the test's own requests cause)."""
        def up():
            if self.p.poll() is not None:
                raise AssertionError("%s exited with status %s before it was ready (%s)"
                                     % (self.name, self.p.returncode, " ".join(self.argv)))
            if not can_connect(self.addr):
                return False
            if not self.stats_addr:
                return " serving " in self.text()
            try:
                st = self.stats()
            except (OSError, ValueError):
                return False
            return len(ready_pids(st)) >= (workers or st["master"]["workers"])
        if not wait_for(up, timeout):
            raise AssertionError("%s not ready on %s after %ss" % (self.name, self.addr, timeout))
        self.record()

    def alive(self):
        return self.running()

    def log(self):
        return self.text()

    def stats(self):
        return stats(self.stats_addr)

    # requests ------------------------------------------------------------
    def get(self, path="/", query="", **kw):
        kw.setdefault("timeout", 30.0)
        if self.scgi:
            return scgi.get(self.addr, path, query, **kw)
        return fcgi.get(self.addr, path, query, **kw)

    def request(self, params, body=b"", **kw):
        kw.setdefault("timeout", 30.0)
        if self.scgi:
            return scgi.request(self.addr, params, body, **kw)
        return fcgi.request(self.addr, params, body, **kw)

    def raw(self, data, **kw):
        """SCGI: raw bytes, read until the server closes."""
        return scgi.request_raw(self.addr, data, **kw)

    def connect(self, timeout=30.0):
        """FastCGI: a Connection (records by hand, kept connections)."""
        return fcgi.Connection(self.addr, timeout)

    def assert_serving(self, what="a normal request afterwards", query=""):
        """The server still answers a normal request with a 200 (query:
        the app's control case); SCGI: and closes after it."""
        r = self.get("/", query, timeout=30.0)
        good = eq(r.status, 200, "%s: status" % what)
        if self.scgi:
            good = check(r.eof, "%s: connection closed after the response" % what) and good
        return check(self.running(), "%s: server process still alive" % what) and good

    def worker_pid(self):
        """The process serving requests: the master's only child, or the
        process itself when it has none."""
        kids = children(self.pid)
        if len(kids) > 1:
            raise AssertionError("pid %d has several children %r: run with -p 1"
                                 % (self.pid, kids))
        return kids[0] if kids else self.pid

    def stop(self, sig=None, timeout=STOP_TIMEOUT):
        rc = super().stop(sig, timeout)
        if VALIDATE:
            check("AssertionError" not in self.text(),
                  "%s: no wsgiref.validate assertion in the log" % self.name)
        return rc


@contextlib.contextmanager
def serve(app_spec, args=(), **kw):
    """A Server for the duration of a with block; at its end SIGTERM, and
    the exit status must be 0 (a check)."""
    s = Server(app_spec, args, **kw)
    try:
        yield s
    finally:
        rc = s.stop()
        if not s.killed_ok:
            eq(rc, 0, "%s: exit status after SIGTERM" % s.name)
        untrack(s)


def exchange(s, data=b""):
    """Sends data on socket s, reads the answer to EOF, closes s."""
    try:
        if data:
            s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


def stats(addr, timeout=10):
    """The --stats document (one connection, read to EOF)."""
    return json.loads(exchange(fcgi.connect(addr, timeout)).decode())


def metrics(addr, timeout=10):
    """The --stats socket's GET /metrics (Prometheus text) as
    {series: value}, series with its labels as written."""
    data = exchange(fcgi.connect(addr, timeout), b"GET /metrics HTTP/1.0\r\n\r\n")
    out = {}
    for line in data.decode("utf-8", "replace").split("\r\n\r\n", 1)[-1].splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def ready_pids(st):
    return sorted(w["pid"] for w in st["workers"] if w["state"] == "ready")


def worker_pids(st):
    return sorted(w["pid"] for w in st["workers"])


LOG_LINE = re.compile(
    r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[(\d+)\] \[(\w+)\] (.*)$")


def log_lines(text):
    """(pid, level, message) of every well-formed log line."""
    out = []
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2), m.group(3)))
    return out


def header(resp, name):
    """The last value of header NAME in a list-of-pairs response."""
    val = None
    for n, v in resp.headers:
        if n.lower() == name.lower():
            val = v
    return val


# ------------------------------------------------------------------ runner

def _stop_procs(procs):
    for p in reversed(procs):
        try:
            p.stop(p.stop_signal, 10)
        except Exception:  # noqa: BLE001 - cleanup goes on
            traceback.print_exc(file=sys.stdout)
        untrack(p)


class _Timeout(BaseException):
    pass


def main(*tests, timeout=None):
    """Run the tests (default: every test_* function of __main__, in file
    order) and exit 0, 1, 77 or 99.  timeout: an upper bound for the whole
    file in seconds (then the run stops as failed)."""
    mod = sys.modules["__main__"]
    if not tests:
        tests = [v for k, v in vars(mod).items() if k.startswith("test_") and callable(v)]

    def on_signal(sig, frame):
        raise SystemExit("stopped by signal %d" % sig)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    if timeout:
        def on_alarm(sig, frame):
            raise _Timeout()
        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(int(timeout))
    only = os.environ.get("WF_ONLY")
    ran = skipped = 0
    harness_error = None
    try:
        need_wsgi_fcgi()
        for t in tests:
            name = t.__name__
            if only and only not in name:
                continue
            ran += 1
            _state["test"], _state["label"], _state["test_failed"] = name, None, 0
            first = len(_procs)
            print("# --- %s" % name, flush=True)
            try:
                t()
            except Skip as e:
                print("SKIP %s: %s" % (name, e), flush=True)
                skipped += 1
            except _Timeout:
                fail("the whole file took longer than %ss" % timeout)
                raise
            except Exception:  # noqa: BLE001 - report and go on
                fail("exception:\n" + traceback.format_exc())
            mine = _procs[first:]
            failed = _state["test_failed"]
            for p in mine:
                p.record()
            _stop_procs(mine)
            if failed:
                for p in mine:
                    p.dump()
            label(None)
            print("%s %s" % ("FAIL" if failed else "ok  ", name), flush=True)
    except Skip as e:
        print("SKIP: %s" % e, flush=True)
        skipped = ran = max(ran, 1)
    except HarnessError as e:
        harness_error = str(e)
    except _Timeout:
        pass
    finally:
        signal.alarm(0)
        _state["label"] = "cleanup"
        _stop_procs(list(_procs))
        keep = _state["failed"] and os.environ.get("WF_KEEP_TMP") == "1"
        if _tmp[0] and keep:
            print("temp dir kept: %s" % _tmp[0])
        elif _tmp[0]:
            shutil.rmtree(_tmp[0], ignore_errors=True)
    print("%d checks passed, %d failed; %d test(s) run, %d skipped"
          % (_state["passed"], _state["failed"], ran, skipped), flush=True)
    if harness_error:
        print("ERROR: %s" % harness_error, flush=True)
        sys.exit(99)
    if _state["failed"]:
        sys.exit(1)
    if ran and skipped == ran:
        sys.exit(77)
    sys.exit(0)


def skip_file(reason):
    """Skip the whole file (call before main())."""
    print("SKIP: %s" % reason, flush=True)
    sys.exit(77)


def log_has(server, pattern, since=0, timeout=10.0):
    """Wait (bounded) for a regex in server's log after offset since."""
    return server.log_has(pattern, since, timeout)


WORKER_DIED = re.compile(r"worker \d+ (was killed by signal|exited with status [1-9])")


def no_worker_died(server, what=None):
    """One check: the master never logged a worker that crashed or exited
    non-zero (a master at -p 1 replaces a crashed worker and still exits 0
    on SIGTERM, so the exit status alone does not tell)."""
    m = WORKER_DIED.search(server.text())
    return check(m is None, "%s: no worker crashed" % (what or server.name),
                 m and server.text()[max(0, m.start() - 300):m.end() + 100])
