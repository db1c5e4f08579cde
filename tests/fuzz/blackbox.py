#!/usr/bin/env python3
"""tests/fuzz/blackbox.py: a black-box mutation fuzzer against the real binary.

    WSGI_FCGI=build/dev/src/wsgi-fcgi python3 tests/fuzz/blackbox.py \\
        [--inputs 1000000] [--conns 16] [--check-every 2000] [-p 2] [-t 2] \\
        [--seed N] [--max-seconds S]

Two servers run the application tests/apps/echo_body.py on private unix
sockets: one speaks FastCGI, one SCGI (-p workers and -t threads each, a
short --header-timeout and --io-timeout, --stats).  The inputs, half for
each, are valid requests (the protocol fixtures of tests/data/fcgi that
end in a response, and requests built here: kept connections, several
requests on one connection, bodies, split and padded records,
FCGI_GET_VALUES, SCGI headers in any order) mutated by one to four
operations: bit flips, interesting bytes, inserted, deleted, duplicated or
spliced ranges, truncation, and protocol-aware ones (a record header's type,
id, length or padding; a pair length; the netstring's length; the value of
CONTENT_LENGTH).  Each input goes on its own connection (--conns at a time):
sent, half-closed, read until the server closes (at most --io-wait seconds).

Every --check-every inputs, and at the end, a normal FastCGI request and a
normal SCGI request must be answered correctly (200 and the body's sha256),
and both servers' logs must hold no line saying a worker died (any "worker
N ... after" line at WARNING: killed by a signal, or exited when not asked
to); the workers' pids (from --stats) must not have changed.  The run
prints its figures as it goes and a last line

    blackbox: N inputs (F FastCGI, S SCGI) in T s, R/s, D worker deaths, C checks failed

Exit status 0 when nothing died and every check passed.
"""

import argparse
import hashlib
import os
import random
import re
import selectors
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import wftest as w  # noqa: E402
from wftest import fcgi, scgi  # noqa: E402

DEATH = re.compile(r"\[WARNING\] worker \d+ (was killed|exited|ended)[^\n]* after ")
INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 8, 0x10, 0x40, ord("0"), ord(":"), ord(","), ord("=")]


# ---------------------------------------------------------------- seeds

PARAMS = [("REQUEST_METHOD", "POST"), ("SCRIPT_NAME", ""), ("PATH_INFO", "/up"),
          ("QUERY_STRING", "mode=read&echo=0"), ("SERVER_NAME", "localhost"),
          ("SERVER_PORT", "80"), ("SERVER_PROTOCOL", "HTTP/1.1"), ("HTTP_HOST", "localhost")]


def fcgi_request(rng, req_id=1, keep=False):
    body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 5, 100, 3000])))
    pairs = PARAMS + [("CONTENT_LENGTH", str(len(body)))]
    if rng.random() < 0.3:
        pairs.append(("HTTP_X_" + "A" * rng.randrange(1, 200), "v" * rng.randrange(0, 300)))
    sizes = rng.choice([None, None, [1, 2, 3], [7], [100, 1000]])
    pad = rng.choice([0, 0, 0, 3, 7])
    out = fcgi.record(fcgi.BEGIN_REQUEST, req_id, fcgi.begin_body(keep=keep))
    params = fcgi.encode_params(pairs)
    out += b"".join(fcgi.record(fcgi.PARAMS, req_id, c, pad) for c in fcgi.split(params, sizes))
    out += fcgi.record(fcgi.PARAMS, req_id, b"")
    out += b"".join(fcgi.stream_records(fcgi.STDIN, req_id, body, sizes, padding=pad))
    return out


def scgi_request(rng):
    body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 5, 100, 3000])))
    pairs = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1")] + PARAMS
    if rng.random() < 0.3:
        pairs.insert(rng.randrange(1, len(pairs)), pairs.pop(0))   # CONTENT_LENGTH anywhere
    if rng.random() < 0.3:
        pairs.append(("HTTP_X_LONG", "v" * rng.randrange(0, 2000)))
    return scgi.encode_header(pairs) + body


def fixture_seeds():
    """The .rec fixtures whose expected outcome is a response."""
    d = os.path.join(w.DATA, "fcgi")
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".expect") and "outcome: response" in w.read(os.path.join(d, name)):
            out.append(fcgi.load_stream(os.path.join(d, name[:-7] + ".rec")))
    return out


def make_seeds(rng):
    gv = fcgi.record(fcgi.GET_VALUES, 0, fcgi.encode_params(
        [("FCGI_MAX_CONNS", ""), ("FCGI_MAX_REQS", ""), ("FCGI_MPXS_CONNS", "")]))
    f = fixture_seeds()
    for _ in range(40):
        f.append(fcgi_request(rng, rng.choice([1, 1, 2, 65535])))
    for _ in range(20):
        f.append(fcgi_request(rng, keep=True) + fcgi_request(rng, keep=True))
        f.append(gv + fcgi_request(rng, keep=rng.random() < 0.5))
    s = [scgi_request(rng) for _ in range(60)]
    return f, s


# ---------------------------------------------------------------- mutations

def records(data):
    """Offsets of the FastCGI record headers, as far as they chain."""
    pos, out = 0, []
    while pos + 8 <= len(data) and len(out) < 64:
        out.append(pos)
        clen = (data[pos + 4] << 8) | data[pos + 5]
        pos += 8 + clen + data[pos + 6]
    return out


def mutate_fcgi_struct(rng, b):
    recs = records(b)
    if not recs:
        return
    r = rng.choice(recs)
    field = rng.randrange(6)
    if field == 0:
        b[r] = rng.choice([0, 1, 2, 0xff])                               # version
    elif field == 1:
        b[r + 1] = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 255, rng.randrange(256)])
    elif field == 2:
        b[r + 2:r + 4] = struct.pack("!H", rng.choice([0, 1, 2, 65535, rng.randrange(65536)]))
    elif field == 3:
        clen = (b[r + 4] << 8) | b[r + 5]
        b[r + 4:r + 6] = struct.pack("!H", max(0, min(65535, clen + rng.randint(-9, 9))))
    elif field == 4:
        b[r + 6] = rng.choice([0, 1, 7, 8, 255, rng.randrange(256)])     # padding
    else:
        # a pair length inside this record's content: long form, huge
        clen = (b[r + 4] << 8) | b[r + 5]
        if clen >= 4 and r + 8 + clen <= len(b):
            at = r + 8 + rng.randrange(clen - 3)
            b[at:at + 4] = struct.pack("!I", rng.choice([0x80000000 | rng.randrange(1 << 31),
                                                         0xffffffff, 0x80000000 | 70000]))


def mutate_scgi_struct(rng, b):
    colon = b.find(b":")
    if colon > 0 and rng.random() < 0.5:
        n = int(b[:colon]) if b[:colon].isdigit() else 0
        new = rng.choice([n + rng.randint(-3, 3), 0, 10 ** rng.randrange(1, 12), -1])
        b[:colon] = str(new).encode()
        return
    at = b.find(b"CONTENT_LENGTH\0")
    if at >= 0:
        v = at + 15
        end = b.find(b"\0", v)
        if end > 0:
            b[v:end] = rng.choice([b"", b"-1", b"99999999999999999999", b"1e3", b" 5", b"0x10",
                                   str(rng.randrange(1 << 40)).encode()])


def mutate(rng, data, pool, is_fcgi):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        n = len(b)
        if op == 0 and n:
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:
            b[rng.randrange(n)] = rng.choice(INTERESTING)
        elif op == 2:
            i = rng.randrange(n + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3 and n > 1:
            i = rng.randrange(n)
            del b[i:i + rng.randint(1, min(64, n - i))]
        elif op == 4 and n > 1:
            i = rng.randrange(n)
            j = min(n, i + rng.randint(1, 256))
            k = rng.randrange(n + 1)
            b[k:k] = b[i:j]
        elif op == 5:
            other = rng.choice(pool)
            i = rng.randrange(len(other) + 1)
            k = rng.randrange(n + 1)
            b = b[:k] + bytearray(other[i:])
        elif op == 6 and n:
            del b[rng.randrange(n):]
        elif op in (7, 8):
            (mutate_fcgi_struct if is_fcgi else mutate_scgi_struct)(rng, b)
        elif op == 9 and n:
            i = rng.randrange(n)
            b[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00",
                                     b"\x00\x00\x00\x00"])
    return bytes(b[:262144])


# ---------------------------------------------------------------- the driver

class Conn:
    __slots__ = ("sock", "data", "sent", "deadline")


def blast(addrs, inputs, conns, io_wait, stats):
    """Sends each (addr_index, bytes) of inputs on its own connection, conns
    at a time; counts outcomes in stats."""
    sel = selectors.DefaultSelector()
    it = iter(inputs)
    active = 0
    exhausted = False

    def start():
        nonlocal active, exhausted
        try:
            which, data = next(it)
        except StopIteration:
            exhausted = True
            return
        c = Conn()
        c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.sock.setblocking(False)
        c.data = data
        c.sent = 0
        c.deadline = time.monotonic() + io_wait
        try:
            c.sock.connect(addrs[which])
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            stats["connect_failed"] += 1
            c.sock.close()
            return
        sel.register(c.sock, selectors.EVENT_WRITE, c)
        active += 1

    def finish(c):
        nonlocal active
        sel.unregister(c.sock)
        c.sock.close()
        active -= 1

    while True:
        while not exhausted and active < conns:
            start()
        if active == 0 and exhausted:
            return
        now = time.monotonic()
        for key, ev in sel.select(timeout=0.5):
            c = key.data
            try:
                if ev & selectors.EVENT_WRITE:
                    if c.sent < len(c.data):
                        c.sent += c.sock.send(c.data[c.sent:c.sent + 65536])
                    if c.sent >= len(c.data):
                        c.sock.shutdown(socket.SHUT_WR)
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                else:
                    if not c.sock.recv(65536):
                        stats["closed"] += 1
                        finish(c)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                stats["reset"] += 1
                finish(c)
        for key in list(sel.get_map().values()):
            c = key.data
            if now > c.deadline:
                stats["timed_out"] += 1
                finish(c)


def check_normal(srv_f, srv_s, rng, what):
    """A normal request on each server answered correctly; 0 or the failures."""
    bad = 0
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 5000)))
    want = hashlib.sha256(body).hexdigest()
    for srv in (srv_f, srv_s):
        try:
            r = srv.get("/check", "mode=read&echo=0", method="POST", body=body, timeout=30.0)
            ok = r.status == 200 and bytes(r.body).decode("ascii", "replace") == want
        except Exception as e:  # noqa: BLE001 - a failure to count
            ok = False
            r = e
        if not ok:
            bad += 1
            print("FAIL: %s: a normal %s request got %r" % (what, "SCGI" if srv.scgi else "FastCGI", r),
                  flush=True)
    return bad


class LogScan:
    def __init__(self, srv):
        self.srv = srv
        self.off = 0

    def deaths(self):
        with open(self.srv.logpath, "rb") as f:
            f.seek(self.off)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        self.off += cut
        lines = [m.group(0) for m in DEATH.finditer(chunk[:cut].decode("latin-1"))]
        for line in lines:
            print("DEATH (%s): %s" % (self.srv.name, line), flush=True)
        return len(lines)


def run(opts):
    rng = random.Random(opts.seed)
    fseeds, sseeds = make_seeds(rng)
    args = ["-p", str(opts.processes), "-t", str(opts.threads), "--header-timeout", "5",
            "--io-timeout", "5", "--max-connections", "256"]
    srv_f = w.Server(w.app("echo_body"), args, name="bb-fcgi", stats=True)
    srv_s = w.Server(w.app("echo_body"), args, name="bb-scgi", scgi=True, stats=True)
    pids = {s.name: w.worker_pids(s.stats()) for s in (srv_f, srv_s)}
    scans = [LogScan(srv_f), LogScan(srv_s)]
    addrs = [srv_f.sock, srv_s.sock]
    stats = {"closed": 0, "reset": 0, "timed_out": 0, "connect_failed": 0}
    counts = [0, 0]
    deaths = failed = done = 0
    t0 = time.monotonic()

    def gen(n):
        for _ in range(n):
            which = rng.randrange(2)
            counts[which] += 1
            pool = fseeds if which == 0 else sseeds
            yield which, mutate(rng, rng.choice(pool), pool, which == 0)

    while done < opts.inputs:
        if opts.max_seconds and time.monotonic() - t0 > opts.max_seconds:
            print("stopping: --max-seconds %d reached" % opts.max_seconds, flush=True)
            break
        n = min(opts.check_every, opts.inputs - done)
        blast(addrs, gen(n), opts.conns, opts.io_wait, stats)
        done += n
        failed += check_normal(srv_f, srv_s, rng, "after %d inputs" % done)
        deaths += sum(s.deaths() for s in scans)
        for s in (srv_f, srv_s):
            if not s.running():
                print("FAIL: %s is not running" % s.name, flush=True)
                failed += 1
        if done % (opts.check_every * 25) == 0 or done >= opts.inputs:
            el = time.monotonic() - t0
            print("%d inputs, %.0f s, %.0f/s, %s, %d deaths, %d checks failed"
                  % (done, el, done / el, stats, deaths, failed), flush=True)
        if not srv_f.running() or not srv_s.running():
            break
    for s in (srv_f, srv_s):
        now = w.worker_pids(s.stats()) if s.running() else []
        if now != pids[s.name]:
            print("FAIL: %s: workers %s at the start, %s at the end" % (s.name, pids[s.name], now),
                  flush=True)
            failed += 1
    served = {}
    for s in (srv_f, srv_s):
        try:
            served[s.name] = sum(x["requests"] for x in s.stats()["workers"])
        except (OSError, ValueError, KeyError):
            served[s.name] = "?"
    print("requests that reached the application: %s" % served)
    el = time.monotonic() - t0
    line = ("blackbox: %d inputs (%d FastCGI, %d SCGI) in %.0f s, %.0f/s, %d worker deaths, "
            "%d checks failed" % (done, counts[0], counts[1], el, done / max(el, 1e-9), deaths, failed))
    print("outcomes: %s" % stats)
    print(line, flush=True)
    w.check(deaths == 0, "no worker died")
    w.check(failed == 0, "every normal request answered, the same workers throughout")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=1000000)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--check-every", type=int, default=2000)
    ap.add_argument("-p", "--processes", type=int, default=2)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--io-wait", type=float, default=15.0)
    ap.add_argument("--max-seconds", type=int, default=0)
    opts = ap.parse_args()

    def test_blackbox():
        run(opts)
    w.main(test_blackbox)


if __name__ == "__main__":
    main()
