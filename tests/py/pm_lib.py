"""pm_lib: helpers for the process-model tests (tests/t-pm-*.sh).

* Server: $WSGI_FCGI started in the background (stderr to a log file in a
  private temp dir), its PID recorded; stop() and the exit hooks signal only
  that PID (the workers die with the master: PR_SET_PDEATHSIG).
* stats(addr): the --stats JSON document.
* Load: N client threads, each with its own kept FastCGI connection
  (fcgi_client.Connection, FCGI_KEEP_CONN), sending /echo requests with a
  request-specific query and body and checking every byte of the answer;
  it counts successes and failures and records the X-Pid / X-Thread seen.
* check()/main(): count failed checks, print "ok:"/"FAIL:" lines, exit 0, 1
  or 77, dump the server logs on failure.

Time limits here are upper bounds for waits, never assertions on speed.
"""

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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, TESTS)

import fcgi_client as fc  # noqa: E402

APPS = os.path.join(TESTS, "apps")
TOP = os.path.dirname(TESTS)
WSGI_FCGI = os.environ.get("WSGI_FCGI") or os.path.join(
    os.environ.get("top_builddir", "."), "src", "wsgi-fcgi")

_failures = []
_servers = []
_tmp = [None]


class Skip(Exception):
    pass


def tmpdir():
    if _tmp[0] is None:
        _tmp[0] = tempfile.mkdtemp(prefix="wf-pm-",
                                   dir=os.environ.get("TMPDIR") or "/tmp")
    return _tmp[0]


def tmp(name):
    return os.path.join(tmpdir(), name)


def app(name="pm_app"):
    return os.path.join(APPS, name + ".py")


# ------------------------------------------------------------------ checks

def log(msg):
    print(msg, flush=True)


def fail(msg):
    _failures.append(msg)
    log("FAIL: %s" % msg)


def check(cond, msg, detail=None):
    if cond:
        log("ok: %s" % msg)
    else:
        fail(msg if detail is None else "%s (%s)" % (msg, detail))
    return bool(cond)


def check_eq(expected, actual, msg):
    return check(expected == actual, msg,
                 "expected %r, got %r" % (expected, actual))


def wait_until(pred, timeout, step=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (OSError, IndexError):
        return False


def children(pid):
    """PIDs whose parent is pid (the master's workers)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] not in "ZX":
            out.append(int(d))
    return sorted(out)


# ------------------------------------------------------------------ server

class Server:
    """One wsgi-fcgi instance on a unix socket in the temp dir, with
    --stats on another one."""

    def __init__(self, name, args, app_path=None, sock=None, stats=True,
                 env=None, wait=True, cmd=None):
        self.name = name
        self.sock = sock or tmp(name + ".sock")
        self.addr = "unix:" + self.sock
        self.stats_addr = "unix:" + tmp(name + ".stats") if stats else None
        self.log_path = tmp(name + ".log")
        if cmd is None:
            cmd = [WSGI_FCGI, "-s", self.addr]
            if self.stats_addr:
                cmd += ["--stats", self.stats_addr]
            cmd += list(args) + [app_path or app()]
        self.cmd = cmd
        e = dict(os.environ)
        e.update(env or {})
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=e)
        self.pid = self.proc.pid
        _servers.append(self)
        log("# started %s (pid %d): %s" % (name, self.pid, " ".join(cmd)))
        if wait:
            self.wait_ready()

    def wait_ready(self, workers=None, timeout=30):
        """Wait until the socket accepts and (with --stats) the wanted
        number of workers is ready."""
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s before it was ready"
                                     % (self.name, self.proc.returncode))
            try:
                fc.connect(self.addr, 2).close()
            except OSError:
                return False
            if not self.stats_addr:
                return True
            try:
                st = self.stats()
            except (OSError, ValueError):
                return False
            want = workers or st["master"]["workers"]
            return len(ready_pids(st)) >= want
        if not wait_until(up, timeout):
            raise AssertionError("%s not ready after %ss" % (self.name, timeout))

    def stats(self):
        return stats(self.stats_addr)

    def kill(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the master, wait (bounded), SIGKILL if need be; returns
        the exit status (negative: killed by that signal)."""
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
            if self.wait_exit(timeout) is None:
                log("# %s still running %ss after signal %d: killing"
                    % (self.name, timeout, sig))
                self.proc.kill()
                self.proc.wait(10)
        self.logf.close()
        return self.proc.returncode

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def dump(self):
        text = self.log_text()
        log("---- %s log (%s) ----" % (self.name, self.log_path))
        log(text[-20000:])
        log("---- end of %s log ----" % self.name)


def stats(addr, timeout=10):
    """The --stats document (one connection, read to EOF)."""
    s = fc.connect(addr, timeout)
    try:
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return json.loads(data.decode())


def ready_pids(st):
    return sorted(w["pid"] for w in st["workers"] if w["state"] == "ready")


def worker_pids(st):
    return sorted(w["pid"] for w in st["workers"])


# ------------------------------------------------------------------ requests

def get(addr, path="/", query="", timeout=30, **kw):
    return fc.get(addr, path=path, query=query, timeout=timeout, **kw)


def header(resp, name):
    for n, v in resp.headers:
        if n.lower() == name.lower():
            return v
    return None


class Load:
    """clients threads, each with its own kept connection, sending
    /echo requests (count each, or until stop()).

    A request fails when its answer is not exactly the expected 200 with
    the expected body.  A kept connection the server closed while it was
    idle is noticed before the next request is sent (as nginx watches its
    cached connections) and replaced without a failure ("reconnects").
    A request on a reused connection that gets no byte of answer before
    the connection ends is counted in lost_on[pid], pid being the worker
    that answered the previous request on that connection (so a test can
    tell requests lost with a dead worker from idle kept connections a live
    worker closed just as a request was on its way).  With retry_stale such
    a request is then retried once on a new connection, as nginx retries a
    request that failed on a cached connection ("stale"); without it, it is
    a failure."""

    def __init__(self, addr, clients=8, count=None, keep=True,
                 retry_stale=False, path="/echo", max_body=600, timeout=30,
                 pause=0.0):
        self.addr = addr
        self.clients = clients
        self.count = count
        self.keep = keep
        self.retry_stale = retry_stale
        self.path = path
        self.max_body = max_body
        self.timeout = timeout
        self.pause = pause
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = 0
        self.stale = 0
        self.reconnects = 0
        self.failures = []          # (time, client, seq, description)
        self.lost_on = {}           # pid -> requests lost on a reused conn
        self.pids = {}              # pid -> count
        self.threads = {}           # (pid, thread) -> count
        self.versions = {}          # X-Version -> count
        self.timeline = []          # (monotonic time, version) of each success
        self._stop = threading.Event()
        self._threads = []

    # one request ------------------------------------------------------
    def _one(self, conn, client, seq, rnd):
        query = "c=%d&n=%d&r=%d" % (client, seq, rnd.getrandbits(32))
        body = rnd.randbytes(rnd.randint(0, self.max_body))
        params = fc.default_params("POST", self.path, query, body)
        r = conn.request(params, body, keep=self.keep, timeout=self.timeout)
        expect = b"echo " + query.encode() + b" " + body
        ok = (r.ended and r.status == 200 and bytes(r.body) == expect
              and r.protocol_status == 0)
        return r, ok

    @staticmethod
    def _peer_closed(conn):
        """True when the server closed this idle connection."""
        try:
            conn.sock.setblocking(False)
            try:
                data = conn.sock.recv(1, socket.MSG_PEEK)
            finally:
                conn.sock.setblocking(True)
            return data == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _client(self, client):
        rnd = random.Random(client * 7919 + 1)
        conn = None
        used = False
        last_pid = None
        seq = 0
        while not self._stop.is_set() and (self.count is None or seq < self.count):
            if conn is not None and (not self.keep or self._peer_closed(conn)):
                if self.keep:
                    with self.lock:
                        self.reconnects += 1
                conn.close()
                conn = None
            if conn is None:
                try:
                    conn = fc.Connection(self.addr, self.timeout)
                    used = False
                except OSError as e:
                    self._failure(client, seq, "connect: %s" % e)
                    seq += 1
                    time.sleep(0.05)
                    continue
            try:
                r, ok = self._one(conn, client, seq, rnd)
            except OSError as e:
                r, ok = None, False
                err = e
            if not ok and used and (r is None or (
                    not r.stdout and not r.ended and (r.eof or r.reset))):
                with self.lock:
                    self.lost_on[last_pid] = self.lost_on.get(last_pid, 0) + 1
                if self.retry_stale:
                    with self.lock:
                        self.stale += 1
                    conn.close()
                    used = False
                    try:
                        conn = fc.Connection(self.addr, self.timeout)
                        r, ok = self._one(conn, client, seq, rnd)
                    except OSError as e:
                        r, ok = None, False
                        err = e
            if ok:
                pid = header(r, "X-Pid")
                tid = header(r, "X-Thread")
                ver = header(r, "X-Version")
                with self.lock:
                    self.ok += 1
                    self.pids[pid] = self.pids.get(pid, 0) + 1
                    self.threads[(pid, tid)] = self.threads.get((pid, tid), 0) + 1
                    self.versions[ver] = self.versions.get(ver, 0) + 1
                    self.timeline.append((time.monotonic(), ver))
                used = True
                last_pid = int(pid)
            else:
                if r is None:
                    what = "error: %s" % err
                else:
                    what = ("status=%s ended=%s eof=%s reset=%s timeout=%s "
                            "stdout=%d bytes reused=%s" %
                            (r.status, r.ended, r.eof, r.reset, r.timeout,
                             len(r.stdout), used))
                self._failure(client, seq, what)
                if conn is not None:
                    conn.close()
                conn = None
            seq += 1
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def _failure(self, client, seq, what):
        with self.lock:
            self.failed += 1
            self.failures.append((time.monotonic(), client, seq, what))
        if len(self.failures) <= 20:
            log("# request failed: client %d #%d: %s" % (client, seq, what))

    # control ----------------------------------------------------------
    def start(self):
        for i in range(self.clients):
            t = threading.Thread(target=self._client, args=(i,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()

    def join(self, timeout=120):
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def run(self, timeout=120):
        self.start()
        return self.join(timeout)

    def total(self):
        return self.ok + self.failed

    def wait_for(self, n, timeout=60):
        """Wait until n more requests completed (bounded)."""
        start = self.total()
        return wait_until(lambda: self.total() >= start + n, timeout)

    def summary(self):
        return ("%d ok, %d failed, %d stale retried, %d reconnects, "
                "%d pids, %d threads" % (self.ok, self.failed, self.stale,
                                         self.reconnects, len(self.pids),
                                         len(self.threads)))


# ------------------------------------------------------------------ logs

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


# ------------------------------------------------------------------ others

_others = []


def spawn(name, cmd, **kw):
    """Start a helper program (nginx, ...) in the background, output to
    TMP/NAME.log; the exit hooks stop it by its recorded PID."""
    logf = open(tmp(name + ".log"), "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                         stderr=subprocess.STDOUT, **kw)
    p.log_path = tmp(name + ".log")
    _others.append(p)
    log("# started %s (pid %d): %s" % (name, p.pid, " ".join(cmd)))
    return p


def stop_other(p, sig=signal.SIGTERM, timeout=20):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
    return p.returncode


def need(path):
    if not (os.path.exists(path) and os.access(path, os.X_OK)):
        raise Skip("%s is not installed" % path)
    return path


# ------------------------------------------------------------------ main

def _cleanup():
    for p in _others:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
    for s in _servers:
        if s.proc.poll() is None:
            try:
                s.proc.kill()
                s.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
    if _tmp[0] and not (_failures and os.environ.get("WF_KEEP_TMP") == "1"):
        shutil.rmtree(_tmp[0], ignore_errors=True)
    elif _tmp[0]:
        log("temp dir kept: %s" % _tmp[0])


def main(*tests):
    """Run each test function in turn; exit 0, 1 or 77."""
    def on_term(sig, frame):
        raise SystemExit(1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    if not os.access(WSGI_FCGI, os.X_OK):
        log("FAIL: WSGI_FCGI=%s is not executable" % WSGI_FCGI)
        sys.exit(99)
    rc = 0
    try:
        for t in tests:
            log("# --- %s" % t.__name__)
            before = len(_failures)
            n_servers = len(_servers)
            try:
                t()
            except Skip as e:
                log("SKIP: %s: %s" % (t.__name__, e))
                if len(tests) == 1:
                    rc = 77
            except Exception as e:  # noqa: BLE001 - report and go on
                import traceback
                traceback.print_exc(file=sys.stdout)
                fail("%s raised %s: %s" % (t.__name__, type(e).__name__, e))
            for s in _servers[n_servers:]:
                if s.proc.poll() is None:
                    s.stop(signal.SIGQUIT, 10)
                if len(_failures) > before:
                    s.dump()
    finally:
        _cleanup()
    if _failures:
        log("%d failed check(s)" % len(_failures))
        sys.exit(1)
    sys.exit(rc)
