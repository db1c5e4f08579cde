"""Client loops for the process-model tests: N threads, each with its own
kept FastCGI connection (FCGI_KEEP_CONN) or a new connection per request,
sending /echo requests to tests/apps/pm_app.py with a request-specific query
and body and checking every byte of each answer.  Bounded by count, or by
stop() and a bounded join()."""

import os
import random
import socket
import threading
import time

import wftest as w
from wftest import fcgi as fc


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
                pid = w.header(r, "X-Pid")
                tid = w.header(r, "X-Thread")
                ver = w.header(r, "X-Version")
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
            print("# request failed: client %d #%d: %s" % (client, seq, what), flush=True)

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
        return w.wait_for(lambda: self.total() >= start + n, timeout)

    def summary(self):
        return ("%d ok, %d failed, %d stale retried, %d reconnects, "
                "%d pids, %d threads" % (self.ok, self.failed, self.stale,
                                         self.reconnects, len(self.pids),
                                         len(self.threads)))


def write_version(path, version, broken=False):
    """A copy of tests/apps/pm_app.py at path whose VERSION (its X-Version
    header) is version, replaced atomically; broken adds a syntax error."""
    with open(w.app("pm_app"), encoding="utf-8") as f:
        src = f.read()
    src = src.replace('VERSION = "one"', 'VERSION = "%s"' % version)
    if broken:
        src += "\ndef broken(:\n"
    tmp = path + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(src)
    os.replace(tmp, path)


def pm_server(name, args, app=None, **kw):
    """The process-model tests' server: tests/apps/pm_app.py (or app) with
    --stats, ready when all its workers are."""
    return w.Server(app or w.app("pm_app"), args, name=name, stats=True, **kw)


def busy_threads(srv):
    """{worker pid: threads running a request} from srv's --stats ({} while
    the stats socket does not answer)."""
    try:
        return {wk["pid"]: wk["busy_threads"] for wk in srv.stats()["workers"]}
    except (OSError, ValueError, KeyError):
        return {}


def every_worker_serves(srv, workers, threads=1, secs=15.0):
    """Shows that each of workers (their pids) takes connections from the
    shared socket, whatever the timing: /sleep requests on new connections,
    one at a time, each sent once --stats counts the previous one busy.
    A worker whose threads are all busy does not accept, so by the time
    len(workers) * threads are in flight every worker runs one; stops as
    soon as each does.  The app's /sleep takes ?s=SECONDS.  The requests
    are awaited and must answer 200.  True when every check passed."""
    results, ts = [], []

    def one(i):
        results[i] = fc.get(srv.addr, "/sleep", "s=%g" % secs, timeout=secs + 60)

    seen = set()
    for i in range(len(workers) * threads):
        results.append(None)
        t = threading.Thread(target=one, args=(i,), daemon=True)
        t.start()
        ts.append(t)
        w.check(w.wait_for(lambda: sum(busy_threads(srv).values()) >= i + 1, 20),
                "/sleep %d is running (--stats busy_threads)" % (i + 1))
        seen = {pid for pid, n in busy_threads(srv).items() if n > 0}
        if seen >= set(workers):
            break
    each = w.eq(sorted(seen), sorted(workers), "every worker runs a request from the shared socket")
    for t in ts:
        t.join(secs + 60)
    return w.check(all(r is not None and r.status == 200 for r in results),
                   "every /sleep answered 200", [r and r.status for r in results]) and each
