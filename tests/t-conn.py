"""SPEC "Protocols": connections belong to the worker's event loop, not to
its threads, and every wait has a deadline (issue 9).

* 500 silent and partial-head connections (FastCGI, SCGI, --protocol auto)
  at -p 1 -t 1: a normal request on a new connection is answered, and the
  silent ones are closed by the server after --header-timeout (not before).
* Another protocol on the socket (SCGI or HTTP on FastCGI, FastCGI on
  SCGI, HTTP on auto): closed with a log line naming what it looks like.
* A kept connection idle past --header-timeout is kept; one that stalls
  inside its next head is closed after it.  SIGTERM with 200 silent
  connections held exits at once.
* 64 kept FastCGI connections (FCGI_KEEP_CONN) on -p 1 -t 1, in rounds and
  concurrently: every answer right, no connection closed by the server.
* A stalled request body: the app's read raises OSError after --io-timeout,
  the request ends with a log line, the one thread serves again (FastCGI,
  SCGI).
* A client that never reads a 10 MiB response frees its thread after
  --io-timeout, with a log line (FastCGI, SCGI).
* A low descriptor limit: more connections than descriptors neither spin
  nor crash the worker; EMFILE is logged at most about once a second; the
  worker serves again once the connections are gone.
* FCGI_GET_VALUES, on a connection of its own and between requests on a
  kept one: exactly the known names asked, then the request is served.
* SIGQUIT to one worker (not the master) leaves the socket file in place
  and new connections are served.
* --max-connections 8 with 20 idle kept connections: the longest idle are
  closed, the newest kept ones and new connections served.
* Requests pipelined on a kept connection (sent before the previous
  response ended): answered right and in order, or a clean close; never a
  wrong answer.
* A FastCGI head larger than a socket buffer is served; one past
  --max-header-size closes its connection with a log line.

Time limits are upper bounds on waits, never assertions on speed; the
lower bounds (nothing is closed or timed out before its option's time
passed) follow from the options themselves."""

import errno
import os
import selectors
import shutil
import signal
import struct
import threading
import time

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc
from wftest import scgi as sc
from wftest.load import Load, pm_server

APP = w.app("conn_app")
SILENT = 500


# ------------------------------------------------------------------ helpers

def open_conn(addr):
    return fc.connect(addr, 30)


def fcgi_partial(kind):
    """The first bytes of a FastCGI request head that never completes."""
    begin = fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body(keep=True))
    params = fc.encode_params(fc.default_params())
    if kind == 0:
        return b""                                  # connect and nothing
    if kind == 1:
        return begin[:5]                            # half a BEGIN_REQUEST
    if kind == 2:                                   # BEGIN + part of PARAMS
        return begin + fc.record(fc.PARAMS, 1, params)[:8 + len(params) // 2]
    return begin + fc.record(fc.PARAMS, 1, params)  # PARAMS without its end


def scgi_partial(kind):
    head = sc.encode_header(sc.default_params())
    if kind == 0:
        return b""
    if kind == 1:
        return head[:2]                             # the length, partly
    if kind == 2:
        return head[:len(head) // 2]                # half the netstring
    return head[:-1]                                # all but the final comma


def open_partial(addr, n, partial):
    """n connections, connection i sending partial(i % 4) and then nothing."""
    socks = []
    for i in range(n):
        s = open_conn(addr)
        data = partial(i % 4)
        if data:
            s.sendall(data)
        socks.append(s)
    return socks


def eof_times(socks, timeout):
    """Wait (bounded) until every socket reads EOF (or a reset); returns
    {index: monotonic time of its EOF}."""
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    got = {}
    deadline = time.monotonic() + timeout
    try:
        while len(got) < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(max(0.0, min(1.0, deadline - time.monotonic()))):
                try:
                    data = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    got[key.data] = time.monotonic()
                    sel.unregister(key.fileobj)
    finally:
        sel.close()
    return got


def none_closed(socks):
    """True when no socket has seen EOF (or data) yet."""
    sel = selectors.DefaultSelector()
    try:
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        return not sel.select(0)
    finally:
        sel.close()


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def proc_cpu_seconds(pid):
    """utime + stime of pid (from /proc/PID/stat), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ 1. silent peers

def silent_case(proto, args, normal):
    """500 silent/partial connections, a normal request beside them, then
    the server closes the silent ones after --header-timeout."""
    w.label(proto)
    timeout = 4
    s = w.Server(APP, ["-p", "1", "-t", "1", "--header-timeout", str(timeout)] + args,
                 name="silent-" + proto.replace(" ", "-"))
    s.scgi = proto == "scgi"      # its request helpers speak SCGI
    off = s.log_size()
    partials = {"fastcgi": [fcgi_partial], "scgi": [scgi_partial],
                "auto": [fcgi_partial, scgi_partial]}[proto]
    socks, opened = [], []
    per = SILENT // len(partials)
    for p in partials:
        t = time.monotonic()
        socks += open_partial(s.addr, per, p)
        opened += [t] * per
    for what, req in normal:
        r = req(s.addr)
        eq(r.status, 200, "%s: a new connection beside %d silent ones is answered "
           "(bounded wait 15 s)" % (what, len(socks)))
        eq(bytes(r.body), b"echo n=1 ", "%s: its body" % what)
    answered = time.monotonic()
    if answered - opened[0] < timeout - 0.5:
        # Only meaningful while the silent ones are surely still open.
        check(none_closed(socks), "the silent connections are still open while the "
              "new one is served")
    got = eof_times(socks, timeout + 40)
    eq(len(got), len(socks), "every silent connection closed by the server within "
       "--header-timeout %d s + 40 s" % timeout)
    early = [i for i, t in got.items() if t - opened[i] < timeout - 0.5]
    eq(early, [], "no silent connection closed before --header-timeout (%d s)" % timeout)
    check(w.log_has(s, r"no complete request head within %d s \(--header-timeout\)" % timeout,
                    off, 10), "the log says why they were closed")
    close_all(socks)
    s.assert_serving("after the silent connections")
    w.no_worker_died(s)
    eq(s.stop(), 0, "SIGTERM: exit status 0")


def test_wrong_protocol_hints():
    """A connection speaking another protocol is closed at its first bytes
    with a log line that names what it looks like; the server goes on."""
    http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    fcgi_head = fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
    scgi_head = sc.encode_header(sc.default_params())
    cases = [("fastcgi", [], scgi_head, r"closed a FastCGI connection: .*this looks like SCGI: "
              r"see --protocol"),
             ("fastcgi", [], http, r"closed a FastCGI connection: .*this looks like HTTP"),
             ("scgi", ["--protocol", "scgi"], fcgi_head, r"closed an SCGI connection: .*this "
              r"looks like FastCGI: see --protocol"),
             ("auto", ["--protocol", "auto"], http, r"closed a connection: neither FastCGI nor "
              r"SCGI \(this looks like HTTP")]
    for proto, args, data, log in cases:
        w.label("%s given %r" % (proto, data[:12]))
        with w.serve(APP, ["-p", "1", "-t", "1"] + args) as s:
            s.scgi = proto == "scgi"
            off = s.log_size()
            r = sc.request_raw(s.addr, data, timeout=15)
            check(r.eof and not r.timeout and r.status is None,
                  "closed without an answer", repr(r))
            check(w.log_has(s, log, off, 10), "the log line names the protocol it looks like")
            s.assert_serving("afterwards")
            w.no_worker_died(s)


def test_idle_kept_has_no_header_deadline():
    """--header-timeout is for heads on their way: a kept connection idle
    for longer is kept (web servers reuse them), and one that starts its
    next head and stalls is closed after it."""
    timeout = 2
    with w.serve(APP, ["-p", "1", "-t", "1", "--header-timeout", str(timeout)]) as s:
        idle, stalls = s.connect(), s.connect()
        for i, c in enumerate((idle, stalls)):
            r = c.request(fc.default_params("GET", "/echo", "first=%d" % i), keep=True,
                          timeout=15)
            eq(bytes(r.body), b"echo first=%d " % i, "kept connection %d: first request" % i)
        off = s.log_size()
        stalls.send(fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body(keep=True)))
        began = time.monotonic()
        got = eof_times([stalls.sock], timeout + 30)
        eq(len(got), 1, "a kept connection that stalls inside its next head is closed")
        check(all(t - began >= timeout - 0.5 for t in got.values()),
              "not before --header-timeout")
        check(w.log_has(s, r"no complete request head within %d s" % timeout, off, 10),
              "the log says why")
        time.sleep(max(0.0, began + 2 * timeout + 1 - time.monotonic()))
        check(not Load._peer_closed(idle), "the idle kept connection is still open after "
              "twice --header-timeout")
        r = idle.request(fc.default_params("GET", "/echo", "again"), keep=True, timeout=15)
        eq(bytes(r.body), b"echo again ", "and serves its next request")
        idle.close()
        stalls.close()
        w.no_worker_died(s)


def test_sigterm_with_silent_connections():
    """SIGTERM while 200 silent connections are held: the worker does not
    wait for them (nor for --header-timeout, nor --graceful-timeout)."""
    s = w.Server(APP, ["-p", "1", "-t", "1", "--graceful-timeout", "90"], name="term-silent")
    socks = open_partial(s.addr, 200, fcgi_partial)
    r = fcgi_echo(s.addr)
    eq(bytes(r.body), b"echo n=1 ", "a request beside the silent connections")
    t0 = time.monotonic()
    s.kill(signal.SIGTERM)
    rc = s.wait(45)
    took = time.monotonic() - t0
    eq(rc, 0, "SIGTERM: the server exited 0 within 45 s, well before --graceful-timeout "
       "90 s (%.1f s)" % took)
    got = eof_times(socks, 10)
    eq(len(got), len(socks), "the silent connections were closed")
    close_all(socks)
    w.no_worker_died(s)


def fcgi_echo(addr):
    return fc.get(addr, "/echo", "n=1", timeout=15)


def scgi_echo(addr):
    return sc.get(addr, "/echo", "n=1", timeout=15)


def test_silent_fastcgi():
    silent_case("fastcgi", [], [("FastCGI", fcgi_echo)])


def test_silent_scgi():
    silent_case("scgi", ["--protocol", "scgi"], [("SCGI", scgi_echo)])


def test_silent_auto():
    silent_case("auto", ["--protocol", "auto"], [("FastCGI", fcgi_echo), ("SCGI", scgi_echo)])


# ------------------------------------------------------------------ 2. kept connections

def test_kept_64_connections():
    """64 kept connections on one thread: in rounds (each connection idles
    while the 63 others are used), then all at once; every answer right and
    no connection closed by the server."""
    srv = pm_server("kept64", ["-p", "1", "-t", "1"])
    conns = [fc.Connection(srv.addr, 30) for _ in range(64)]
    bad = closed = 0
    rounds = 10
    for rnd in range(rounds):
        for i, c in enumerate(conns):
            if Load._peer_closed(c):
                closed += 1
                c.close()
                conns[i] = c = fc.Connection(srv.addr, 30)
            body = os.urandom(1 + (i * 37 + rnd * 101) % 3000)
            query = "c=%d&r=%d" % (i, rnd)
            r = c.request(fc.default_params("POST", "/echo", query, body), body, keep=True,
                          timeout=30)
            if not (r.ended and r.status == 200 and r.protocol_status == 0 and
                    bytes(r.body) == b"echo " + query.encode() + b" " + body):
                bad += 1
                if bad <= 5:
                    w.log("# connection %d round %d: %r" % (i, rnd, r))
                if r.eof:
                    c.close()
                    conns[i] = fc.Connection(srv.addr, 30)
    eq(bad, 0, "%d requests in %d rounds over 64 kept connections: every answer right"
       % (64 * rounds, rounds))
    eq(closed, 0, "no kept connection closed by the server between rounds")
    close_all(c.sock for c in conns)

    load = Load(srv.addr, clients=64, count=40, keep=True, max_body=4000, timeout=60)
    finished = load.run(timeout=300)
    check(finished, "64 concurrent kept connections finished (bounded 300 s)")
    w.log("# concurrent: " + load.summary())
    eq(load.failed, 0, "64 concurrent kept connections: no failed request")
    eq(load.ok, 64 * 40, "64 concurrent kept connections: every answer right")
    eq(load.reconnects + load.stale, 0, "no kept connection closed by the server")
    w.no_worker_died(srv)
    eq(srv.stop(), 0, "SIGTERM: exit status 0")


# ------------------------------------------------------------------ 5. stalled body

def stalled_body_case(scgi):
    proto = "SCGI" if scgi else "FastCGI"
    w.label(proto)
    s = w.Server(APP, ["-p", "1", "-t", "1", "--io-timeout", "2"] +
                 (["--protocol", "scgi"] if scgi else []), name="stall-" + proto)
    s.scgi = scgi
    off = s.log_size()
    part = os.urandom(30000)
    if scgi:
        sock = sc.connect(s.addr, 30)
        sock.sendall(sc.encode_header(sc.default_params("POST", "/read", "", b"x" * 100000))
                     + part)
    else:
        c = s.connect()
        c.begin(keep=True)
        c.params(fc.default_params("POST", "/read", "", b"x" * 100000))
        c.stdin(part, end=False)
        sock = c.sock
    stalled = time.monotonic()
    check(w.log_has(s, r"app-read-error after \d+ bytes: \w+ errno=", off, 30),
          "the app's read raised OSError (bounded wait 30 s)")
    raised = time.monotonic()
    check(raised - stalled >= 1.5, "not before --io-timeout 2 s passed (%.1f s)"
          % (raised - stalled))
    check(w.log_has(s, r"no progress reading the request body for 2 s \(--io-timeout\)", off,
                    10), "the log says the request ended for --io-timeout")
    check(w.log_has(s, r"app-read-error after \d+ bytes: TimeoutError errno=%d: .*request body "
                    r"incomplete: no progress for --io-timeout after \d+ of 100000 bytes"
                    % errno.ETIMEDOUT, off, 1),
          "the OSError is a TimeoutError (errno ETIMEDOUT) that names --io-timeout")
    check(w.log_has(s, r"gave up on POST /read: the web server made no progress for "
                    r"--io-timeout", off, 10), "the request's end is logged as a timeout")
    check("client went away" not in s.log_since(off), "not as a client that went away")
    got = eof_times([sock], 20)
    eq(len(got), 1, "the stalled connection is closed by the server")
    sock.close()
    r = s.get("/echo", "n=1", timeout=15)
    eq(r.status, 200, "the single thread serves a new request afterwards")
    eq(bytes(r.body), b"echo n=1 ", "its body")
    w.no_worker_died(s)
    eq(s.stop(), 0, "SIGTERM: exit status 0")


def test_stalled_body_fastcgi():
    stalled_body_case(False)


def test_stalled_body_scgi():
    stalled_body_case(True)


# ------------------------------------------------------------------ 6. unread response

def unread_response_case(scgi):
    proto = "SCGI" if scgi else "FastCGI"
    w.label(proto)
    s = w.Server(APP, ["-p", "1", "-t", "1", "--io-timeout", "2"] +
                 (["--protocol", "scgi"] if scgi else []), name="unread-" + proto)
    s.scgi = scgi
    off = s.log_size()
    if scgi:
        sock = sc.connect(s.addr, 30)
        sock.sendall(sc.encode_header(sc.default_params("GET", "/big", "n=%d" % (10 << 20))))
    else:
        c = s.connect()
        c.begin(keep=True)
        c.params(fc.default_params("GET", "/big", "n=%d" % (10 << 20)))
        c.stdin(b"")
        sock = c.sock
    # Never read: the response fills the socket buffers and stalls.
    check(w.log_has(s, r"no progress writing the response for 2 s \(--io-timeout\)", off, 40),
          "the log says the response write gave up after --io-timeout (bounded wait 40 s)")
    check(w.log_has(s, r"app-big-closed after \d+ bytes", off, 10),
          "the app's iterable was closed")
    check(w.log_has(s, r"gave up on GET /big\S*: the web server made no progress for "
                    r"--io-timeout", off, 10), "the request's end is logged as a timeout")
    r = s.get("/echo", "n=2", timeout=15)
    eq(r.status, 200, "the single thread serves a new request while the reader still idles")
    eq(bytes(r.body), b"echo n=2 ", "its body")
    sock.close()
    w.no_worker_died(s)
    eq(s.stop(), 0, "SIGTERM: exit status 0")


def test_unread_response_fastcgi():
    unread_response_case(False)


def test_unread_response_scgi():
    unread_response_case(True)


# ------------------------------------------------------------------ 7. few descriptors

NOFILE = 22     # a worker holds ~10 descriptors: 12 connections, then EMFILE


def test_low_descriptor_limit():
    prlimit = shutil.which("prlimit")
    sock = w.tmp("lowfd.sock")
    argv = [w.WSGI_FCGI, "-s", "unix:" + sock, "-p", "1", "-t", "1", APP]
    if prlimit:
        argv = [prlimit, "--nofile=%d:%d" % (NOFILE, NOFILE)] + argv
    else:
        argv = ["/bin/sh", "-c", 'ulimit -n %d && exec "$@"' % NOFILE, "sh"] + argv
    s = w.Server(argv=argv, addr="unix:" + sock, name="lowfd")
    worker = s.worker_pid()
    off = s.log_size()
    socks = []
    t_open = time.monotonic()
    try:
        for _ in range(60):
            socks.append(open_conn(s.addr))
    except OSError as e:
        w.log("# connect stopped after %d: %s" % (len(socks), e))
    check(len(socks) >= 30, "30 or more connections opened (%d)" % len(socks))
    check(w.log_has(s, r"accept: Too many open files", off, 20),
          "the worker ran out of descriptors and logged EMFILE")
    # Waiting for descriptors costs next to nothing (a retry every 100 ms);
    # a worker that spins on accept gets a good share of a CPU even on a
    # busy machine (about 30% measured with 2 CPUs and a load above 2).
    t0 = time.monotonic()
    cpu0 = proc_cpu_seconds(worker)
    time.sleep(5)
    cpu = proc_cpu_seconds(worker) - cpu0
    wall = time.monotonic() - t0
    check(cpu < 0.1 * wall, "the worker does not spin while out of descriptors "
          "(%.2f s CPU in %.1f s)" % (cpu, wall))
    check(w.alive(worker), "the worker is still alive")
    lines = [m for _, _, m in w.log_lines(s.log_since(off)) if "Too many open files" in m]
    window = time.monotonic() - t_open    # EMFILE began after the first connections
    check(len(lines) <= window + 2, "EMFILE logged at most about once a second "
          "(%d lines in %.1f s)" % (len(lines), window))
    close_all(socks)
    r = s.get("/echo", "n=3", timeout=30)
    eq(r.status, 200, "served again once the connections closed")
    eq(bytes(r.body), b"echo n=3 ", "its body")
    for i in range(5):
        r = s.get("/echo", "n=%d" % i, timeout=30)
        if not eq(r.status, 200, "request %d afterwards" % i):
            break
    eq(s.worker_pid(), worker, "the same worker (it did not crash)")
    w.no_worker_died(s)
    eq(s.stop(), 0, "SIGTERM: exit status 0")


# ------------------------------------------------------------------ 9. FCGI_GET_VALUES

def get_values(conn, names, timeout=15):
    """Send FCGI_GET_VALUES asking NAMES; returns (record type, request id,
    {name: value} or None when the content is not well-formed pairs)."""
    conn.send(fc.record(fc.GET_VALUES, 0, fc.encode_params([(n, b"") for n in names])))
    rec = conn.read_record(time.monotonic() + timeout)
    if rec is None:
        return None, None, None
    _v, rtype, rid, content = rec
    pairs, pos = {}, 0
    try:
        while pos < len(content):
            lens = []
            for _ in range(2):
                b = content[pos]
                if b & 0x80:
                    lens.append(struct.unpack("!I", content[pos:pos + 4])[0] & 0x7fffffff)
                    pos += 4
                else:
                    lens.append(b)
                    pos += 1
            name = content[pos:pos + lens[0]]
            value = content[pos + lens[0]:pos + lens[0] + lens[1]]
            if len(name) != lens[0] or len(value) != lens[1] or name in pairs:
                return rtype, rid, None
            pairs[name] = value
            pos += lens[0] + lens[1]
    except IndexError:
        return rtype, rid, None
    return rtype, rid, pairs


def check_values(res, asked, what):
    rtype, rid, pairs = res
    eq(rtype, fc.GET_VALUES_RESULT, "%s: a GET_VALUES_RESULT record" % what)
    eq(rid, 0, "%s: on request id 0" % what)
    if not check(pairs is not None, "%s: well-formed name-value pairs" % what):
        return
    known = {b"FCGI_MAX_CONNS", b"FCGI_MAX_REQS", b"FCGI_MPXS_CONNS"}
    eq(sorted(pairs), sorted(n for n in asked if n in known),
       "%s: exactly the known names asked" % what)
    for n, v in pairs.items():
        if n == b"FCGI_MPXS_CONNS":
            eq(v, b"0", "%s: FCGI_MPXS_CONNS=0" % what)
        else:
            check(v.isdigit() and int(v) > 0, "%s: %s is a positive number (%r)" % (what, n, v))


def test_get_values():
    with w.serve(APP, ["-p", "1", "-t", "1"]) as s:
        # On a connection of its own, alone (no more bytes after it).
        c = s.connect()
        asked = [b"FCGI_MAX_CONNS", b"NO_SUCH_NAME", b"FCGI_MAX_REQS", b"FCGI_MPXS_CONNS"]
        check_values(get_values(c, asked), asked, "own connection")
        r = c.request(fc.default_params("GET", "/echo", "gv=1"), keep=True, timeout=15)
        eq(r.status, 200, "own connection: the following request is served")
        eq(bytes(r.body), b"echo gv=1 ", "own connection: its body")
        c.close()

        # Between requests on a kept connection, asking only some names.
        c = s.connect()
        r = c.request(fc.default_params("GET", "/echo", "gv=2"), keep=True, timeout=15)
        eq(r.status, 200, "kept connection: first request")
        asked = [b"FCGI_MPXS_CONNS", b"FCGI_UNKNOWN_X"]
        check_values(get_values(c, asked), asked, "kept connection")
        r = c.request(fc.default_params("GET", "/echo", "gv=3"), keep=True, timeout=15)
        eq(r.status, 200, "kept connection: the following request is served")
        eq(bytes(r.body), b"echo gv=3 ", "kept connection: its body")
        asked = [b"FCGI_MAX_REQS"]
        check_values(get_values(c, asked), asked, "kept connection, once more")
        r = c.request(fc.default_params("GET", "/echo", "gv=4"), keep=False, timeout=15)
        eq(bytes(r.body), b"echo gv=4 ", "kept connection: the last request")
        c.close()
        w.no_worker_died(s)


# ------------------------------------------------------------------ 11. SIGQUIT to a worker

def test_sigquit_to_one_worker():
    srv = pm_server("quit1", ["-p", "2", "-t", "1"])
    sock = srv.sock
    before = w.ready_pids(srv.stats())
    eq(len(before), 2, "two workers ready")
    off = srv.log_size()
    os.kill(before[0], signal.SIGQUIT)
    check(w.wait_for(lambda: not w.alive(before[0]), 20), "the worker exited on SIGQUIT")
    check(w.log_has(srv, r"SIGQUIT: exiting now", off, 10), "the worker logged SIGQUIT")

    def replaced():
        p = w.ready_pids(srv.stats())
        return len(p) == 2 and before[0] not in p
    check(w.wait_for(replaced, 30), "the master replaced the worker")
    check(os.path.exists(sock), "the socket file is still there")
    check(srv.running(), "the master is still running")
    served = 0
    for i in range(20):
        r = fc.get(srv.addr, "/echo", "q=%d" % i, timeout=15)
        if r.status == 200 and bytes(r.body) == b"echo q=%d " % i:
            served += 1
    eq(served, 20, "20 new connections served after the worker's SIGQUIT")
    w.no_worker_died(srv)
    eq(srv.stop(), 0, "SIGTERM: exit status 0")
    check(not os.path.exists(sock), "the master removed the socket file on exit")


# ------------------------------------------------------------------ 12. --max-connections

def test_max_connections():
    limit = 8
    with w.serve(APP, ["-p", "1", "-t", "1", "--max-connections", str(limit)]) as s:
        off = s.log_size()
        kept = []
        for i in range(20):
            c = s.connect()
            r = c.request(fc.default_params("GET", "/echo", "k=%d" % i), keep=True, timeout=15)
            if not eq(bytes(r.body), b"echo k=%d " % i, "kept connection %d: first answer" % i):
                break
            kept.append(c)
            time.sleep(0.02)     # a clear order of idleness
        check(w.log_has(s, r"to stay within --max-connections %d" % limit, off, 10),
              "the log says idle connections were closed for --max-connections")
        # The server closed the longest idle ones: the first 20 - 8 + 1 or so.
        closed = [i for i, c in enumerate(kept) if Load._peer_closed(c)]
        w.log("# closed by the server: %r" % closed)
        check(len(closed) >= len(kept) - limit,
              "at least %d of %d idle kept connections closed (%d)"
              % (len(kept) - limit, len(kept), len(closed)))
        check(closed == list(range(len(closed))), "the closed ones are the longest idle")
        # The newest kept connections are still served.
        for i in range(len(kept) - 3, len(kept)):
            r = kept[i].request(fc.default_params("GET", "/echo", "again=%d" % i), keep=True,
                                timeout=15)
            eq(bytes(r.body), b"echo again=%d " % i, "kept connection %d (recent) served again"
               % i)
        for i in range(5):
            r = s.get("/echo", "new=%d" % i, timeout=15)
            eq(bytes(r.body), b"echo new=%d " % i, "new connection %d served" % i)
        close_all(c.sock for c in kept)
        w.no_worker_died(s)


# ------------------------------------------------------------------ related: heads

def one_request(req_id, query, body, keep=True):
    """The bytes of one whole FastCGI request (BEGIN, PARAMS, STDIN)."""
    params = fc.encode_params(fc.default_params("POST", "/echo", query, body))
    return b"".join([fc.record(fc.BEGIN_REQUEST, req_id, fc.begin_body(keep=keep))] +
                    fc.stream_records(fc.PARAMS, req_id, params) +
                    fc.stream_records(fc.STDIN, req_id, body))


def send_quietly(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass         # the server closed the connection: the reader sees it


def test_pipelined_requests():
    """A peer that sends its next requests before the previous response
    ended (on a kept connection): each answered right, in order, or the
    connection closed cleanly (with a log line); never a wrong answer."""
    with w.serve(APP, ["-p", "1", "-t", "1"]) as s:
        for rnd, sizes in enumerate(([0, 10, 3000], [70000, 5, 200000, 0, 9000])):
            off = s.log_size()
            c = s.connect()
            bodies = [os.urandom(n) for n in sizes]
            data = b"".join(one_request(1, "p=%d&i=%d" % (rnd, i), b)
                            for i, b in enumerate(bodies))
            # sent by a thread while this one reads: neither side waits
            # for the other to drain its socket buffer
            sender = threading.Thread(target=send_quietly, args=(c.sock, data), daemon=True)
            sender.start()
            answered = 0
            for i, b in enumerate(bodies):
                r = c.read_response(1, timeout=30)
                if r.ended or r.stdout:
                    if not eq(bytes(r.body), b"echo p=%d&i=%d " % (rnd, i) + b,
                              "round %d: pipelined request %d answered right" % (rnd, i)):
                        break
                    answered += 1
                else:
                    check(r.eof and not r.timeout, "round %d: after %d answers the connection "
                          "is closed cleanly (%r)" % (rnd, answered, r))
                    check(w.log_has(s, r"\[(warning|info)\]", off, 10),
                          "round %d: the close is logged" % rnd)
                    break
            w.log("# round %d: %d of %d pipelined requests answered" % (rnd, answered, len(bodies)))
            c.close()
            sender.join(30)
        s.assert_serving("after pipelined requests")
        w.no_worker_died(s)


def test_big_fastcgi_head():
    """A FastCGI head far larger than a socket buffer (600 KiB of params)
    is served; one past --max-header-size closes that connection with a
    log line, and the server goes on."""
    with w.serve(APP, ["-p", "1", "-t", "1", "--max-header-size", "1048576"]) as s:
        big = [(b"HTTP_X_BIG_%d" % i, b"v" * 60000) for i in range(10)]
        c = s.connect()
        r = c.request(fc.default_params("GET", "/echo", "big=1", extra=big), keep=True,
                      timeout=30)
        eq(bytes(r.body), b"echo big=1 ", "a 600 KiB head is served")
        r = c.request(fc.default_params("GET", "/echo", "big=2"), keep=True, timeout=30)
        eq(bytes(r.body), b"echo big=2 ", "and the next request on the same connection")
        c.close()
        off = s.log_size()
        huge = [(b"HTTP_X_HUGE_%d" % i, b"v" * 60000) for i in range(20)]
        c = s.connect()
        r = c.request(fc.default_params("GET", "/echo", "huge=1", extra=huge), keep=True,
                      timeout=30)
        check(r.status is None and (r.eof or r.reset or r.send_error) and not r.timeout,
              "a 1.2 MB head: the connection is closed without an answer", repr(r))
        c.close()
        check(w.log_has(s, r"--max-header-size", off, 10), "the log names --max-header-size")
        s.assert_serving("after a head past --max-header-size")
        w.no_worker_died(s)


if __name__ == "__main__":
    w.main()
