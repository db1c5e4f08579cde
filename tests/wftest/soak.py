"""The soak: a long mixed load against one wsgi-fcgi (tests/apps/soak_app.py,
--protocol auto so FastCGI and SCGI share the socket), checking every answer
and sampling each worker's resident memory and open descriptors between
rounds.  tests/soak.py runs it at full size (make soak);
tests/t-soak-valgrind.py runs a small one under valgrind memcheck.

A round is `clients` client processes, each running its share of the
round's requests; between rounds nothing is in flight, so the samples are
taken at rest.  Each request is drawn from MIX (a seeded generator: a run
is reproducible):

  hello        FastCGI on the client's kept connection (FCGI_KEEP_CONN)
  hello_scgi   SCGI (a connection per request)
  echo         a POST with a small body on the kept connection
  raise        the app raises: a 500, and the kept connection goes on
  down, up     1 MiB down / up, FastCGI (kept) or SCGI
  gone_down    a 4 MiB download the client resets after the first record
  gone_up      a 1 MiB upload the client closes after 64 KiB
  bad_fcgi     malformed FastCGI on a new connection, the inputs that abort
               libfcgi among them: must be closed, no answer
  bad_scgi     malformed SCGI the same way

Expected outcomes are not errors (the 500s, the closed bad connections, the
clients that leave).  Anything else is: a wrong status or body, an answer
that belongs to another request, a connection failure, a request that got
no answer, a worker that changed pid (died), a crash line in the log.
"""

import multiprocessing
import os
import random
import re
import socket
import struct
import sys
import time
import zlib

import wftest as w
from wftest import fcgi as fc
from wftest import scgi as sc

sys.path.insert(0, w.APPS)
import soak_app  # noqa: E402

MIB = 1 << 20

MIX = [  # (kind, weight per 1000)
    ("hello", 620), ("hello_scgi", 100), ("echo", 150), ("raise", 20),
    ("down", 3), ("up", 3), ("down_scgi", 1), ("up_scgi", 1),
    ("gone_down", 10), ("gone_up", 10), ("bad_fcgi", 41), ("bad_scgi", 41),
]

BAD_FCGI = [
    b"GET / HTTP/1.0\r\n\r\n",                                 # not FastCGI at all
    fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body(), version=2),  # wrong version
    fc.record(fc.BEGIN_REQUEST, 1, b"\x00\x01"),                # short BEGIN_REQUEST body
    fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body(role=77)),     # unknown role
    fc.record(fc.STDIN, 1, b"x") * 2,                           # a stream before BEGIN
    fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
    + fc.record(fc.PARAMS, 1, b"\x05\x05abc"),                  # pair longer than its stream
    # what aborts a worker inside libfcgi (LIBFCGI.md #1, #2, #15, #16)
    fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
    + fc.record(fc.PARAMS, 1, struct.pack("!IB", 0xc0000000, 1) + b"A" * 100),
    fc.record(fc.GET_VALUES, 0, fc.encode_params([(b"FCGI_MAX_CONNS", b"")] * 6)),
    fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
    + fc.record(11, 0, struct.pack("!II", 0xffffff00, 0xfffffff0) * 4),
    fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
    + b"".join(fc.stream_records(fc.PARAMS, 1, fc.encode_params(
        [(b"HTTP_X_F%d" % i, b"v" * 1000) for i in range(12)])
        + b"\x0a\xc0\x00\x00\x00HTTP_X_BAD" + b"A" * 64, 8192)),
]

BAD_SCGI = [b"abc", b"01:x,", b"5:ab\0cd,", b"9999999999:", b"3:a\0b;",
            sc.encode_header([(b"SCGI", b"1"), (b"REQUEST_METHOD", b"GET")])[:-1] + b";"]


def linger0(sock):
    """Close with a reset (SO_LINGER 0): the peer sees ECONNRESET."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Client:
    """One client process's state: its kept FastCGI connection, counts."""

    def __init__(self, addr, cid, timeout):
        self.addr = addr
        self.cid = cid
        self.timeout = timeout
        self.kept = None
        self.counts = {}
        self.errors = []
        self.reconnects = 0

    def error(self, seq, kind, what):
        self.errors.append("client %d #%d %s: %s" % (self.cid, seq, kind, what))

    def conn(self):
        if self.kept is not None and _peer_closed(self.kept):
            self.kept.close()
            self.kept = None
            self.reconnects += 1
        if self.kept is None:
            self.kept = fc.Connection(self.addr, self.timeout)
        return self.kept

    def drop(self):
        if self.kept is not None:
            self.kept.close()
            self.kept = None

    def fcgi(self, method, path, query, body=b""):
        params = fc.default_params(method, path, query, body)
        r = self.conn().request(params, body, keep=True, timeout=self.timeout)
        if not r.ended:
            self.drop()
        return r

    # one request of each kind: None when right, else what was wrong -----
    def one(self, kind, seq, rnd):
        q = "c=%d&s=%d" % (self.cid, seq)
        if kind == "hello":
            return expect(self.fcgi("GET", "/hello", q), 200, b"hello " + q.encode())
        if kind == "hello_scgi":
            return expect(sc.get(self.addr, "/hello", q, timeout=self.timeout), 200,
                          b"hello " + q.encode(), scgi=True)
        if kind == "echo":
            body = rnd.randbytes(rnd.randint(0, 2000))
            return expect(self.fcgi("POST", "/echo", q, body), 200,
                          b"echo " + q.encode() + b" " + body)
        if kind == "raise":
            r = self.fcgi("GET", "/raise", q)
            return expect(r, 500, None)
        if kind in ("down", "down_scgi"):
            n = MIB + rnd.randint(0, 1000)
            q += "&n=%d" % n
            want = b"".join(soak_app.pattern(q, n))
            if kind == "down":
                return expect(self.fcgi("GET", "/down", q), 200, want)
            return expect(sc.get(self.addr, "/down", q, timeout=self.timeout), 200, want,
                          scgi=True)
        if kind in ("up", "up_scgi"):
            body = rnd.randbytes(MIB + rnd.randint(0, 1000))
            want = b"up %d %08x" % (len(body), zlib.crc32(body))
            if kind == "up":
                return expect(self.fcgi("POST", "/up", q, body), 200, want)
            return expect(sc.request(self.addr, sc.default_params("POST", "/up", q, body),
                                     body, timeout=self.timeout), 200, want, scgi=True)
        if kind == "gone_down":
            c = fc.Connection(self.addr, self.timeout)
            try:
                c.begin()
                c.params(fc.default_params("GET", "/down", q + "&n=%d" % (4 * MIB)))
                c.stdin(b"")
                rec = c.read_record(time.monotonic() + self.timeout)
                if rec is None or rec[1] != fc.STDOUT:
                    return "no first STDOUT record before leaving: %r" % (rec,)
                linger0(c.sock)
            finally:
                c.close()
            return None
        if kind == "gone_up":
            c = fc.Connection(self.addr, self.timeout)
            try:
                c.begin()
                c.params(fc.default_params("POST", "/up", q, b"x" * MIB))
                c.stdin(b"x" * 65536, end=False)
                if seq % 2:
                    linger0(c.sock)
            finally:
                c.close()
            return None
        if kind == "bad_fcgi":
            data = BAD_FCGI[seq % len(BAD_FCGI)]
            res = fc.replay(self.addr, data, timeout=self.timeout)
            if res["outcome"] not in ("closed", "response") or res["stdout_length"]:
                return "malformed FastCGI %r: %r" % (data[:40], res)
            return None
        if kind == "bad_scgi":
            data = BAD_SCGI[seq % len(BAD_SCGI)]
            r = sc.request_raw(self.addr, data, timeout=self.timeout)
            if not r.eof or r.status == 200:
                return "malformed SCGI %r: %r" % (data[:40], r)
            return None
        raise ValueError(kind)


def _peer_closed(conn):
    try:
        conn.sock.setblocking(False)
        try:
            return conn.sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            conn.sock.setblocking(True)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def expect(r, status, body, scgi=False):
    """None when r is a complete answer with this status (and body)."""
    complete = r.eof if scgi else r.ended
    if not complete or r.status != status or (body is not None and bytes(r.body) != body):
        got = bytes(r.body)
        return ("status %s (want %s), complete %s, body %d bytes %r%s"
                % (r.status, status, complete, len(got), got[:80],
                   "" if body is None else " (want %d bytes %r)" % (len(body), body[:80])))
    return None


def _draw(rnd):
    x = rnd.randrange(1000)
    for kind, weight in MIX:
        if x < weight:
            return kind
        x -= weight
    return MIX[0][0]


def run_share(args):
    """A client process's share of a round: (counts, errors, reconnects)."""
    addr, cid, rnd_seed, first, n, timeout = args
    rnd = random.Random(rnd_seed)
    cl = Client(addr, cid, timeout)
    for seq in range(first, first + n):
        kind = _draw(rnd)
        try:
            what = cl.one(kind, seq, rnd)
        except OSError as e:
            what = "%s: %s" % (type(e).__name__, e)
            cl.drop()
        cl.counts[kind] = cl.counts.get(kind, 0) + 1
        if what is not None:
            cl.error(seq, kind, what)
            if len(cl.errors) > 50:
                break
    cl.drop()
    return cl.counts, cl.errors, cl.reconnects


# ------------------------------------------------------------------ samples

def sample(pid):
    """(VmRSS in KiB, open descriptors) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, AttributeError):
        return None


def sample_at_rest(pid, fds=None, timeout=10.0):
    """sample(pid) once the connections of the round are closed: when fds
    is given, wait (bounded) for the descriptor count to come back to it
    (a worker may still be noticing a client that left)."""
    time.sleep(0.2)
    s = sample(pid)
    if fds is not None:
        deadline = time.monotonic() + timeout
        while s and s[1] != fds and time.monotonic() < deadline:
            time.sleep(0.1)
            s = sample(pid)
    return s


CRASH = re.compile(r"killed by signal|exited with status|Assertion|AddressSanitizer|"
                   r"runtime error|stack smashing|Segmentation")


def run(srv, total, clients=4, rounds=20, warmup=2, timeout=60.0, time_limit=None,
        check_rss=True, rss_slack_kib=2048, seed=1):
    """Run the soak against srv (a wftest Server with --stats, started
    with --protocol auto).  Returns a dict of figures; checks (wftest
    checks) that nothing unexpected happened."""
    per_round = max(1, total // rounds)
    start = time.monotonic()
    workers0 = w.ready_pids(srv.stats())
    w.log("# soak: %d requests in %d rounds, %d clients, workers %s"
          % (per_round * rounds, rounds, clients, workers0))
    samples = {p: [] for p in workers0}
    counts, errors, reconnects = {}, [], 0
    done = 0
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(clients)
    timed_out = False
    try:
        for rnd in range(rounds):
            share = per_round // clients
            jobs = [(srv.addr, c, seed * 100003 + rnd * 1009 + c, rnd * per_round + c * share,
                     share if c < clients - 1 else per_round - share * (clients - 1), timeout)
                    for c in range(clients)]
            for cnt, errs, rc in pool.map(run_share, jobs):
                for k, v in cnt.items():
                    counts[k] = counts.get(k, 0) + v
                errors += errs
                reconnects += rc
            done += per_round
            for p in workers0:
                samples[p].append(sample_at_rest(p, samples[p][-1][1] if samples[p] and
                                                 samples[p][-1] else None))
            now = w.ready_pids(srv.stats())
            elapsed = time.monotonic() - start
            w.log("# round %d: %d requests, %.0f s, workers %s, samples %s, errors %d"
                  % (rnd + 1, done, elapsed, now,
                     {p: samples[p][-1] for p in workers0}, len(errors)))
            if errors or now != workers0:
                break
            if time_limit and elapsed > time_limit:
                timed_out = True
                break
    finally:
        pool.close()
        pool.join()
    elapsed = time.monotonic() - start
    res = {"requests": sum(counts.values()), "seconds": round(elapsed, 1), "counts": counts,
           "errors": len(errors), "reconnects": reconnects, "workers": {}}
    w.check(not timed_out, "soak finished within %ss" % time_limit)
    w.eq(errors[:20], [], "soak: no unexpected error (%d in all)" % len(errors))
    w.eq(w.ready_pids(srv.stats()), workers0, "soak: the same workers throughout (none died)")
    crash = [ln for ln in srv.text().splitlines() if CRASH.search(ln)]
    w.eq(crash[:10], [], "soak: no crash or sanitizer line in the log")
    for p in workers0:
        ss = [s for s in samples[p] if s]
        if len(ss) != len(samples[p]) or not ss:
            w.fail("worker %d vanished during the soak" % p)
            continue
        base = ss[min(warmup, len(ss)) - 1]
        after = ss[min(warmup, len(ss)) - 1:]
        rss = [s[0] for s in after]
        fds = [s[1] for s in after]
        fig = {"rss_kib_first": ss[0][0], "rss_kib_after_warmup": base[0],
               "rss_kib_min": min(rss), "rss_kib_max": max(rss), "rss_kib_last": rss[-1],
               "fds_first": ss[0][1], "fds_min": min(fds), "fds_max": max(fds),
               "fds_last": fds[-1]}
        res["workers"][p] = fig
        w.log("# worker %d: %s" % (p, fig))
        if check_rss:
            w.check(max(abs(r - base[0]) for r in rss) <= rss_slack_kib,
                    "worker %d: RSS flat within +-%d KiB after warm-up (%d..%d KiB, base %d)"
                    % (p, rss_slack_kib, min(rss), max(rss), base[0]))
        w.check(min(fds) == max(fds) == base[1],
                "worker %d: open descriptors flat at rest (%d..%d, base %d)"
                % (p, min(fds), max(fds), base[1]))
    w.log("# soak figures: %r" % (res,))
    return res
