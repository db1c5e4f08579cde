"""Hostile clients, FastCGI and SCGI (issue 10).  Each case runs against a
server of each protocol (tests/apps/soak_app.py, -p 2 -t 2, --header-timeout
2, --io-timeout 3, --stats) and is followed by normal requests answered
correctly, by the same workers (their pids in --stats unchanged: none died)
and with no crash line in the log:

* a reset (SO_LINGER 0 close) mid-params, mid-body and mid-response (a
  16 MiB download);
* readers that never read, one per thread: each request ends after
  --io-timeout with a log line and its thread is free again;
* 100,000 connect-and-close (4 threads), over unix (half of them resets)
  and TCP (all resets): the workers' descriptors come back to where they
  were;
* a byte every 100 ms, from more clients than threads: closed at
  --header-timeout, with a log line, while normal requests are answered;
* requests pipelined on a kept connection (FastCGI; SCGI: a second request
  behind the first on its connection): each answer belongs to its request,
  or the connection is closed cleanly; never a wrong answer;
* more than the request (96 KiB) behind a 4 MiB download on a connection
  that is not kept, over TCP: the response arrives whole, then the close;
* 1 MiB params and 100,000 params: refused cleanly (connection closed, a
  log line) under the default --max-header-size, served with a larger one;
* request ids 0 and 65535 (FastCGI);
* the libfcgi crash inputs of LIBFCGI.md (#1, #2, #15, #16), sent to both
  servers: no worker dies."""

import contextlib
import re
import socket
import struct
import sys
import threading
import time
import zlib

import wftest as w
from wftest import fcgi as fc
from wftest import scgi as sc

sys.path.insert(0, w.APPS)
import soak_app  # noqa: E402

PROTOS = ("fastcgi", "scgi")
THREADS = 2
PROCS = 2
CRASH = re.compile(r"killed by signal|exited with status [1-9]|Assertion|AddressSanitizer|"
                   r"runtime error|stack smashing|Segmentation|Traceback")


def linger0(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@contextlib.contextmanager
def server(proto, extra=(), tcp=False):
    """A soak_app server speaking proto, its worker pids noted."""
    args = ["-p", str(PROCS), "-t", str(THREADS), "--header-timeout", "2",
            "--io-timeout", "3"] + list(extra)
    with w.serve(w.app("soak_app"), args, scgi=(proto == "scgi"), stats=True, tcp=tcp,
                 name="%s-%d" % (proto, w.Server.count + 1)) as s:
        s.proto = proto
        s.pids0 = w.worker_pids(s.stats())
        w.label(proto)
        yield s
        w.label(None)


def hello(s, tag, timeout=30.0):
    """A normal request; True when answered exactly."""
    r = s.get("/hello", tag, timeout=timeout)
    want = b"hello " + tag.encode()
    done = r.eof if s.proto == "scgi" else r.ended
    return r.status == 200 and bytes(r.body) == want and done, r


def after(s, what, since=0):
    """Normal requests answered right after the case, by the same workers,
    with no crash (or traceback) in the log since offset since."""
    for i in range(3):
        good, r = hello(s, "after=%s&i=%d" % (re.sub(r"\W", "_", what), i))
        if not w.check(good, "%s: a normal request afterwards is answered right (%d)"
                       % (what, i), repr(r)):
            break
    pids = w.wait_for(lambda: w.worker_pids(s.stats()) == s.pids0, 10)
    w.check(pids, "%s: the same workers (none died): %s" % (what, s.pids0),
            repr(w.worker_pids(s.stats())))
    bad = [ln for ln in s.log_since(since).splitlines() if CRASH.search(ln)]
    w.eq(bad[:5], [], "%s: no crash or traceback in the log" % what)


def head_bytes(s, path="/hello", query="", method="GET", body=b"", extra=(), keep=False,
               req_id=1):
    """The request (head and body) in the server's protocol."""
    if s.proto == "scgi":
        return sc.encode_header(sc.default_params(method, path, query, body, extra)) + body
    params = fc.default_params(method, path, query, body, extra)
    return (fc.record(fc.BEGIN_REQUEST, req_id, fc.begin_body(keep=keep))
            + b"".join(fc.stream_records(fc.PARAMS, req_id, fc.encode_params(params)))
            + b"".join(fc.stream_records(fc.STDIN, req_id, body)))


def raw_conn(s):
    return fc.connect(s.addr, 30)


def accepted(s):
    """wsgi_fcgi_connections_accepted_total from the --stats /metrics."""
    v = w.metrics(s.stats_addr).get("wsgi_fcgi_connections_accepted_total")
    return None if v is None else int(v)


def worker_fds(s):
    out = {}
    for p in s.pids0:
        sm = _fds(p)
        if sm is not None:
            out[p] = sm
    return out


def _fds(pid):
    try:
        import os
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


# ------------------------------------------------------------------ resets

def test_reset_mid_params_body_response():
    for proto in PROTOS:
        with server(proto) as s:
            # mid-params: half the head, then a reset
            off = s.log_size()
            data = head_bytes(s, "/hello", "mid=params", extra=[("HTTP_X_PAD", "p" * 3000)])
            c = raw_conn(s)
            c.sendall(data[:len(data) // 2])
            time.sleep(0.2)
            linger0(c)
            c.close()
            w.check(s.log_has(r"closed an? (FastCGI|SCGI) connection", off, 15),
                    "reset mid-params: a log line says the connection was closed",
                    s.log_since(off))
            after(s, "reset mid-params", off)

            # mid-body: a 1 MiB upload cut after 100 KiB
            off = s.log_size()
            body = b"b" * (1 << 20)
            data = head_bytes(s, "/up", "mid=body", "POST", body)
            c = raw_conn(s)
            c.sendall(data[:len(data) - len(body) + 100000])
            time.sleep(0.5)
            linger0(c)
            c.close()
            w.check(s.log_has(r"client went away during POST /up\?mid=body", off, 15),
                    "reset mid-body: one 'client went away' line names the request",
                    s.log_since(off))
            after(s, "reset mid-body", off)

            # mid-response: a 16 MiB download reset after its first bytes
            off = s.log_size()
            c = raw_conn(s)
            c.sendall(head_bytes(s, "/down", "mid=response&n=%d" % (16 << 20)))
            got = c.recv(65536)
            w.check(len(got) > 0, "reset mid-response: the response had begun")
            linger0(c)
            c.close()
            w.check(s.log_has(r"client went away during GET /down\?mid=response", off, 15),
                    "reset mid-response: one 'client went away' line names the request",
                    s.log_since(off))
            after(s, "reset mid-response", off)


# ------------------------------------------------------------------ never reads

def test_reader_that_never_reads():
    """One never-reading client per thread (all threads stuck in a write):
    each request ends after --io-timeout (3 s) with a log line, and the
    threads serve again."""
    for proto in PROTOS:
        with server(proto) as s:
            off = s.log_size()
            socks = []
            for i in range(PROCS * THREADS):
                c = raw_conn(s)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                c.sendall(head_bytes(s, "/down", "never=%d&n=%d" % (i, 64 << 20)))
                socks.append(c)
            t0 = time.monotonic()
            rx = re.compile(r"no progress (writing|sending)?.*--io-timeout|--io-timeout")
            n = w.wait_for(lambda: len(rx.findall(s.log_since(off))) >= PROCS * THREADS
                           and len(rx.findall(s.log_since(off))), 60)
            w.check(n, "never-readers: %d requests ended by --io-timeout (log lines)"
                    % (PROCS * THREADS), s.log_since(off)[-3000:])
            w.check(time.monotonic() - t0 >= 2.0,
                    "never-readers: not ended before --io-timeout")
            good, r = hello(s, "while=never")
            w.check(good, "never-readers still connected: a normal request is answered", repr(r))
            for c in socks:
                c.close()
            after(s, "never-reading clients", off)


# ------------------------------------------------------------------ connect and close

def test_100000_connect_and_close():
    """Over the unix socket (every other close a reset) and over TCP
    (every close a reset: no TIME_WAIT left to exhaust the client's ports)."""
    total = 100000
    nthreads = 4
    for proto, tcp in [(p, t) for t in (False, True) for p in PROTOS]:
        with server(proto, tcp=tcp) as s:
            off = s.log_size()
            time.sleep(0.5)
            fds0 = worker_fds(s)
            acc0 = accepted(s)
            errors = []
            done = [0]
            lock = threading.Lock()
            deadline = time.monotonic() + 900

            def loop(k):
                n = 0
                while n < total // nthreads and time.monotonic() < deadline:
                    try:
                        c = fc.connect(s.addr, 30)
                        if n % 2 or tcp:
                            linger0(c)
                        c.close()
                        n += 1
                    except OSError as e:
                        # a full backlog (EAGAIN on a unix socket) is the
                        # kernel's answer to a flood: wait and try again
                        with lock:
                            errors.append(repr(e))
                        time.sleep(0.01)
                with lock:
                    done[0] += n

            ths = [threading.Thread(target=loop, args=(k,)) for k in range(nthreads)]
            t0 = time.monotonic()
            for t in ths:
                t.start()
            for t in ths:
                t.join(960)
            secs = time.monotonic() - t0
            w.log("# %s over %s: %d connect-and-close in %.1f s (%d connects retried, e.g. %s)"
                  % (proto, "TCP" if tcp else "unix", done[0], secs, len(errors), errors[:3]))
            w.check(done[0] == total,
                    "%d of %d connect-and-close made within the bound" % (done[0], total))
            w.check(w.wait_for(lambda: accepted(s) - acc0 >= done[0] * 0.99, 60),
                    "the server accepted them (%d accepted)" % (accepted(s) - acc0))
            good, r = hello(s, "after=flood")
            w.check(good, "after the flood: a normal request is answered", repr(r))
            back = w.wait_for(lambda: worker_fds(s) == fds0, 30)
            w.check(back, "the workers' open descriptors are back to %r" % fds0,
                    repr(worker_fds(s)))
            after(s, "100,000 connect-and-close", off)


# ------------------------------------------------------------------ slow heads

def test_byte_every_100ms():
    """More trickling clients than threads: each is closed at
    --header-timeout (2 s) without an answer, and normal requests are
    answered meanwhile."""
    nclients = PROCS * THREADS * 2
    for proto in PROTOS:
        with server(proto) as s:
            off = s.log_size()
            data = head_bytes(s, "/hello", "slow=1", extra=[("HTTP_X_PAD", "s" * 400)])
            results = [None] * nclients

            def trickle(k):
                c = raw_conn(s)
                t0 = time.monotonic()
                got = b""
                closed = False
                try:
                    c.settimeout(0.1)
                    for i in range(len(data)):
                        try:
                            c.sendall(data[i:i + 1])
                        except OSError:
                            closed = True
                            break
                        try:
                            chunk = c.recv(65536)
                            if not chunk:
                                closed = True
                                break
                            got += chunk
                        except socket.timeout:
                            pass
                        except OSError:
                            closed = True
                            break
                        if time.monotonic() - t0 > 30:
                            break
                finally:
                    c.close()
                results[k] = (closed, time.monotonic() - t0, got)

            ths = [threading.Thread(target=trickle, args=(k,)) for k in range(nclients)]
            for t in ths:
                t.start()
            time.sleep(0.5)
            good, r = hello(s, "while=trickle")
            w.check(good, "%d clients trickling: a normal request is answered" % nclients,
                    repr(r))
            for t in ths:
                t.join(60)
            closed = [x for x in results if x and x[0]]
            w.eq(len(closed), nclients, "every trickling client was closed by the server")
            w.check(all(1.5 <= x[1] <= 25 for x in closed),
                    "... at --header-timeout (2 s), not before",
                    repr([round(x[1], 2) for x in closed]))
            w.check(all(not x[2] or b"200 OK" not in x[2] for x in closed),
                    "... with no answer", repr([x[2][:60] for x in closed]))
            w.check(s.log_has(r"(?i)header-timeout|request head.*time", off, 10),
                    "a log line names --header-timeout", s.log_since(off)[-2000:])
            after(s, "a byte every 100 ms", off)


# ------------------------------------------------------------------ pipelining

def test_pipelined_requests():
    """FastCGI: 30 requests (ids 1..30, hellos and echoes with bodies) sent in
    one write on a kept connection, then read: each answer must be its own
    request's, in order, or the connection closed cleanly.  SCGI closes
    after each response: the first answer must be right and the connection
    then closed, over unix and TCP."""
    n = 30
    for proto in PROTOS:
        for tcp in (False, True):
            with server(proto, tcp=tcp) as s:
                where = "%s over %s" % (proto, "TCP" if tcp else "unix")
                off = s.log_size()
                reqs = []
                for i in range(n):
                    q = "pipe=%d" % i
                    if i % 3 == 2:
                        body = (b"%d-" % i) * (100 * i + 1)
                        reqs.append((i + 1, head_bytes(s, "/echo", q, "POST", body, keep=True,
                                                       req_id=i + 1),
                                     b"echo " + q.encode() + b" " + body))
                    else:
                        reqs.append((i + 1, head_bytes(s, "/hello", q, keep=True, req_id=i + 1),
                                     b"hello " + q.encode()))
                if proto == "fastcgi":
                    c = fc.Connection(s.addr, 30)
                    c.send(b"".join(x[1] for x in reqs))
                    served = 0
                    wrong = []
                    closed = False
                    for rid, _, want in reqs:
                        r = c.read_response(rid, timeout=30)
                        if r.ended:
                            if r.status != 200 or bytes(r.body) != want:
                                wrong.append((rid, r))
                            served += 1
                        else:
                            closed = r.eof
                            if r.stdout:
                                wrong.append((rid, r))
                            break
                    extra = [k for k in c.pending if k]
                    c.close()
                    w.eq(wrong, [], "%s: no wrong answer" % where)
                    w.eq(extra, [], "%s: no answer under an id not asked" % where)
                    w.check(served == n or closed,
                            "%s: all %d served (%d), or the connection closed cleanly"
                            % (where, n, served))
                    if served < n:
                        w.check(s.log_has(r"closed", off, 5), "%s: a log line says why" % where)
                    w.log("# %s: %d of %d pipelined requests served" % (where, served, n))
                else:
                    r = sc.request_raw(s.addr, b"".join(x[1] for x in reqs[:3]), timeout=30,
                                       shutdown=False)
                    w.check(r.eof and r.status == 200 and r.body == reqs[0][2],
                            "%s: the first request answered right, then closed" % where,
                            repr(r))
                after(s, "pipelining (%s)" % where, off)


def test_more_than_the_request_not_kept():
    """Over TCP, a peer that sends the start of a second request (96 KiB)
    behind a 4 MiB download on a connection that is not kept (SCGI; FastCGI
    without FCGI_KEEP_CONN): the whole response arrives, then the
    connection is closed, with a log line.  (A close with unread input
    resets the connection, which used to destroy the response's end.)"""
    n = 4 << 20
    for proto in PROTOS:
        with server(proto, tcp=True) as s:
            off = s.log_size()
            for i in range(3):
                q = "n=%d&more=%d" % (n, i)
                first = head_bytes(s, "/down", q)
                extra = head_bytes(s, "/echo", "x=%d" % i, "POST", b"y" * (1 << 20), req_id=2)
                c = raw_conn(s)
                # what fits in the socket buffers: there before the response ends
                c.sendall(first + extra[:98304])
                data, err = b"", None
                try:
                    while True:
                        chunk = c.recv(1 << 20)
                        if not chunk:
                            break
                        data += chunk
                except OSError as e:
                    err = e
                c.close()
                want = b"".join(soak_app.pattern(q, n))
                if proto == "scgi":
                    r = sc.Response(data)
                    whole = r.status == 200 and r.body == want
                else:
                    cc = fc.Connection.__new__(fc.Connection)
                    cc.buf, cc.sock = bytearray(data), None
                    body = bytearray()
                    ended = False
                    while len(cc.buf) >= 8:
                        _v, rtype, rid, clen, plen = fc.HEADER.unpack_from(cc.buf)
                        if len(cc.buf) < 8 + clen + plen:
                            break
                        if rtype == fc.STDOUT and rid == 1:
                            body += cc.buf[8:8 + clen]
                        ended |= rtype == fc.END_REQUEST and rid == 1
                        del cc.buf[:8 + clen + plen]
                    r = fc.Response()
                    r.stdout = body
                    whole = ended and r.status == 200 and bytes(r.body) == want
                w.check(whole and err is None, "%s: response %d whole (%d bytes read, %s)"
                        % (proto, i, len(data), err), s.log_since(off)[-3000:])
            w.check(s.log_has(r"sent more than its request", off, 10),
                    "%s: a log line says the peer sent more than its request" % proto)
            after(s, "more than the request", off)


# ------------------------------------------------------------------ big heads

def big_param_case(s, what, pairs, served_body, path, query):
    """Send pairs as params; returns the response."""
    if s.proto == "scgi":
        params = sc.default_params("GET", path, query, b"", pairs)
        return sc.request(s.addr, params, b"", timeout=120)
    return fc.request(s.addr, fc.default_params("GET", path, query, b"", pairs), b"",
                      timeout=120)


def refused(s, r):
    if s.proto == "scgi":
        return r.eof and r.status != 200
    return not r.ended and r.status != 200


def test_big_params():
    mib = 1 << 20
    big = [(b"HTTP_X_BIG", bytes(1 + i % 251 for i in range(mib)))]   # no NUL
    many = [(b"HTTP_X_P%d" % i, b"v%d" % i) for i in range(100000)]
    want_big = b"param %d %08x" % (mib, zlib.crc32(big[0][1].decode("latin-1").encode("latin-1")))
    for proto in PROTOS:
        with server(proto) as s:
            for what, pairs, path, query in (
                    ("1 MiB param", big, "/param", "name=HTTP_X_BIG"),
                    ("100,000 params", many, "/count", "prefix=HTTP_X_P")):
                off = s.log_size()
                r = big_param_case(s, what, pairs, None, path, query)
                w.check(refused(s, r), "%s under the default --max-header-size (1 MiB): "
                        "refused (connection closed, no answer)" % what, repr(r))
                w.check(s.log_has(r"(?i)max-header-size|too (long|large)|longer than", off, 10),
                        "%s: a log line says why" % what, s.log_since(off)[-2000:])
                after(s, "%s refused" % what, off)
        with server(proto, ["--max-header-size", str(8 * mib)]) as s:
            for what, pairs, path, query, want in (
                    ("1 MiB param", big, "/param", "name=HTTP_X_BIG", want_big),
                    ("100,000 params", many, "/count", "prefix=HTTP_X_P", b"count 100000")):
                off = s.log_size()
                r = big_param_case(s, what, pairs, None, path, query)
                w.check(r.status == 200 and bytes(r.body) == want,
                        "%s with --max-header-size 8 MiB: served, every byte seen" % what,
                        repr(r))
                after(s, "%s served" % what, off)


# ------------------------------------------------------------------ request ids

def test_request_ids_0_and_65535():
    with server("fastcgi") as s:
        off = s.log_size()
        with s.connect() as c:
            r = c.request(fc.default_params("GET", "/hello", "id=65535"), req_id=65535,
                          keep=True)
            w.check(r.ended and r.status == 200 and bytes(r.body) == b"hello id=65535",
                    "request id 65535 served", repr(r))
            r = c.request(fc.default_params("GET", "/hello", "id=65535b"), req_id=65535)
            w.check(r.ended and bytes(r.body) == b"hello id=65535b",
                    "request id 65535 again on the kept connection", repr(r))
        after(s, "request id 65535", off)
        off = s.log_size()
        res = fc.replay(s.addr, head_bytes(s, "/hello", "id=0", req_id=0), timeout=20)
        w.check(res["outcome"] == "closed" or (res["outcome"] == "response" and
                                               res["status"] != 200),
                "request id 0 (a management record) refused", repr(res))
        after(s, "request id 0", off)


# ------------------------------------------------------------------ libfcgi crash inputs

def crash_inputs():
    """LIBFCGI.md's inputs that abort a worker inside libfcgi."""
    begin = fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
    ok_params = b"".join(fc.stream_records(fc.PARAMS, 1, fc.encode_params(fc.default_params())))
    out = []
    # 1: a PARAMS pair declaring a 1 GiB name
    out.append(("#1 PARAMS pair of 1 GiB", begin + fc.record(
        fc.PARAMS, 1, struct.pack("!IB", 0x40000000 | 0x80000000, 1) + b"A" * 100)))
    # 2: FCGI_GET_VALUES naming FCGI_MAX_CONNS four (and eight) times, then a request
    for k in (4, 8):
        gv = fc.record(fc.GET_VALUES, 0, fc.encode_params([(b"FCGI_MAX_CONNS", b"")] * k))
        out.append(("#2 GET_VALUES x%d FCGI_MAX_CONNS" % k,
                    gv + begin + ok_params + fc.record(fc.STDIN, 1, b"")))
    # 15: a management record (id 0) of type 3, 11, 12, 255 after BEGIN_REQUEST
    lengths = struct.pack("!II", 0xffffff00, 0xfffffff0) * 4
    for t in (3, 11, 12, 255):
        out.append(("#15 type %d on id 0 after BEGIN_REQUEST" % t,
                    begin + fc.record(t, 0, lengths) + ok_params + fc.record(fc.STDIN, 1, b"")))
        out.append(("#15 type %d on id 0 inside PARAMS" % t,
                    begin + ok_params[:-8] + fc.record(t, 0, lengths) + ok_params[-8:]
                    + fc.record(fc.STDIN, 1, b"")))
    # 16: a corrupt pair length deep in the PARAMS stream (past 8 KiB, and past 300 KiB)
    for pad in (20, 300):
        pairs = fc.encode_params([(b"HTTP_X_F%d" % i, b"v" * 1000) for i in range(pad)])
        bad = b"\x0a\xc0\x00\x00\x00HTTP_X_BAD" + b"A" * 64
        out.append(("#16 corrupt length after %d KiB of params" % pad,
                    begin + b"".join(fc.stream_records(fc.PARAMS, 1, pairs + bad, 8192))
                    + fc.record(fc.STDIN, 1, b"")))
    return out


def test_libfcgi_crash_inputs():
    for proto in PROTOS:
        with server(proto) as s:
            for what, data in crash_inputs():
                off = s.log_size()
                res = fc.replay(s.addr, data, timeout=20)
                if what.startswith("#2"):
                    # GET_VALUES may be answered, and the request after it served
                    w.check(res["outcome"] != "timeout", "%s: answered or closed" % what,
                            repr(res))
                else:
                    w.check(res["outcome"] != "timeout" and res["status"] != 200,
                            "%s: refused (closed or an error answer)" % what, repr(res))
                after(s, what, off)


if __name__ == "__main__":
    w.main(timeout=3000)
