"""SPEC "Protocols / SCGI" and "environ", over SCGI (wsgi-fcgi --scgi).

Driven by tests/wftest/scgi.py: the environ mapping (latin-1 round trip,
SCRIPT_NAME/PATH_INFO/QUERY_STRING defaults, wsgi.url_scheme), bodies of 0,
1 byte and 10 MiB both ways, the response paths, the same answers as over
FastCGI, TCP and -t 4, --max-header-size, and 1,000 malformed requests in a
row (each closed with a log line, the application never called, RSS flat)
followed by a good one.
"""

import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import time

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc
from wftest import http_client as hc
from wftest import scgi as sc

MIB = 1 << 20
CLOSED_RX = r"\[warning\] closed an SCGI connection"


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def serve(app_spec, args=(), tcp=False):
    """wsgi-fcgi --scgi on a unix socket in the temp dir, or on 127.0.0.1."""
    return w.serve(app_spec, args, scgi=True, tcp=tcp)


def environ_of(r, what):
    if not eq(r.status, 200, "%s: status" % what):
        return {}
    try:
        return json.loads(bytes(r.body))
    except ValueError as e:
        w.fail("%s: body is not JSON (%s): %r" % (what, e, bytes(r.body[:300])))
        return {}


def is_500(r, what):
    ok = eq(r.status, 500, "%s: status" % what)
    ok = check(r.eof, "%s: connection closed" % what) and ok
    ct = r.header("Content-Type") or ""
    ok = check(ct.startswith("text/plain"), "%s: 500 body is text/plain (got %r)" % (what, ct)) and ok
    return ok


# ------------------------------------------------------------ command line

def test_cmdline_max_header_size():
    app = w.app("hello")
    sock = "unix:" + os.path.join(w.tmpdir(), "never.sock")
    for bad in ("255", "16777217", "0", "-1", "4x", "", "65536k", "99999999999999999999"):
        try:
            p = subprocess.run([w.WSGI_FCGI, "--scgi", "--max-header-size", bad, "-s", sock, app],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        except subprocess.TimeoutExpired:
            w.fail("--max-header-size %r: still running after 20 s (not refused)" % bad)
            continue
        check(p.returncode != 0, "--max-header-size %r refused (exit %s)" % (bad, p.returncode))
        err = p.stderr.decode("latin-1")
        check("max-header-size" in err, "--max-header-size %r: the message names the option: %r"
              % (bad, err[:300]))
    for good in ("256", "65536", "16777216"):
        p = subprocess.run([w.WSGI_FCGI, "--scgi", "--max-header-size", good, "--check", app],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        eq(p.returncode, 0, "--max-header-size %s accepted (stderr %r)" % (good, p.stderr[-300:]))


# ------------------------------------------------------------ environ

def test_environ_mapping():
    with serve(w.app("echo_environ")) as s:
        weird = bytes(range(1, 256)).replace(b"\0", b"")   # any byte but NUL
        params = [
            (b"CONTENT_LENGTH", b"0"),
            (b"SCGI", b"1"),
            (b"REQUEST_METHOD", b"GET"),
            (b"SERVER_NAME", b"example.org"),
            (b"SERVER_PORT", b"8080"),
            (b"SERVER_PROTOCOL", b"HTTP/1.1"),
            (b"PATH_INFO", b"/caf\xc3\xa9/\xff\x80"),
            (b"QUERY_STRING", b"a=%C3%A9&b"),
            (b"REQUEST_URI", b"/caf%C3%A9/%FF%80?a=%C3%A9&b"),
            (b"HTTP_X_WEIRD", weird),
            (b"HTTP_X_EMPTY", b""),
            (b"HTTP_X_\xe9", b"name-latin1"),
            (b"REMOTE_USER", b"alice"),
            (b"AUTH_TYPE", b"Basic"),
            (b"HTTP_AUTHORIZATION", b"Basic YWxpY2U6c2VjcmV0"),
            (b"HTTP_X_DUP", b"first"),
            (b"HTTP_X_DUP", b"second"),
        ]
        out = environ_of(s.request(params), "environ mapping")
        env = out.get("environ", {})
        types = out.get("types", {})
        seen = {}
        for n, v in params:
            seen[n.decode("latin-1")] = v.decode("latin-1")
        for k, v in seen.items():
            eq(env.get(k), v, "environ[%r] is the latin-1 str of the bytes sent" % k)
        for k, t in types.items():
            if not k.startswith("wsgi."):
                eq(t, "str", "environ[%r] is a str" % k)
        eq(env.get("HTTP_X_DUP"), "second", "a name sent twice: the last value wins")
        eq(env.get("SCRIPT_NAME"), "", "SCRIPT_NAME missing: ''")
        eq(env.get("wsgi.version"), [1, 0], "wsgi.version")
        eq(env.get("wsgi.url_scheme"), "http", "wsgi.url_scheme without HTTPS")
        eq(env.get("wsgi.multithread"), False, "wsgi.multithread with -t 1")
        eq(env.get("wsgi.multiprocess"), False, "wsgi.multiprocess with -p 1")
        eq(env.get("wsgi.run_once"), False, "wsgi.run_once")
        eq(env.get("wsgi.input_terminated"), True, "wsgi.input_terminated")
        for k in ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper"):
            check(k in env, "%s present" % k)
        invented = set(env) - set(seen) - {"SCRIPT_NAME"}
        invented = {k for k in invented if not k.startswith("wsgi.")}
        eq(sorted(invented), [], "nothing invented beyond PEP 3333's needs")

        # Only what SCGI requires: the PEP 3333 defaults appear.
        out = environ_of(s.request([(b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1")]),
                         "minimal header")
        env = out.get("environ", {})
        for k in ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING"):
            eq(env.get(k), "", "minimal header: %s defaults to ''" % k)
        for k in ("SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REQUEST_METHOD"):
            check(isinstance(env.get(k), str), "minimal header: %s present" % k)
        eq(env.get("CONTENT_LENGTH"), "0", "minimal header: CONTENT_LENGTH kept")
        eq(env.get("SCGI"), "1", "minimal header: SCGI kept")
        eq(env.get("wsgi.url_scheme"), "http", "minimal header: url_scheme http")


def test_url_scheme():
    cases = [
        ([(b"HTTPS", b"on")], "https"),
        ([(b"HTTPS", b"ON")], "https"),
        ([(b"HTTPS", b"1")], "https"),
        ([(b"HTTPS", b"off")], "http"),
        ([(b"HTTPS", b"")], "http"),
        ([(b"REQUEST_SCHEME", b"https")], "https"),
        ([(b"REQUEST_SCHEME", b"http")], "http"),
        ([], "http"),
    ]
    with serve(w.app("echo_environ")) as s:
        for extra, want in cases:
            env = environ_of(s.get("/", extra=extra), "url_scheme %r" % extra).get("environ", {})
            eq(env.get("wsgi.url_scheme"), want, "wsgi.url_scheme for %r" % extra)
    with serve(w.app("echo_environ"), ["--url-scheme", "https"]) as s:
        env = environ_of(s.get("/"), "--url-scheme https").get("environ", {})
        eq(env.get("wsgi.url_scheme"), "https", "--url-scheme https forces it")


# ------------------------------------------------------------ bodies

def test_bodies_in():
    with serve(w.app("echo_body")) as s:
        big = os.urandom(10 * MIB)
        for body in (b"", b"x", b"\0", big):
            for mode in ("read", "readn&n=65536", "cl&n=100000"):
                what = "upload of %d byte(s), mode=%s" % (len(body), mode)
                r = s.get("/up", "mode=" + mode, method="POST", body=body,
                          content_type="application/octet-stream", timeout=120)
                if not eq(r.status, 200, what + ": status"):
                    continue
                eq(r.header("X-Read-Length"), str(len(body)), what + ": bytes the app read")
                eq(r.header("X-Read-Sha256"), hashlib.sha256(body).hexdigest(),
                   what + ": sha256 of what the app read")
                eq(r.header("X-After-Eof"), "0", what + ": b'' after the end")
                eq(r.header("X-Read-Violations"), "0", what + ": no read returned too much")
                check(bytes(r.body) == body, what + ": echoed back intact (%d bytes)"
                      % len(r.body))
        s.assert_serving("after the uploads")


def test_bodies_out():
    with serve(w.app("big_download")) as s:
        for n in (0, 1, 10 * MIB):
            for cl in ("0", "1"):
                what = "download of %d byte(s), cl=%s" % (n, cl)
                r = s.get("/down", "n=%d&chunk=65536&cl=%s" % (n, cl), timeout=120)
                eq(r.status, 200, what + ": status")
                eq(len(r.body), n, what + ": length")
                check(bytes(r.body) == hc.pattern(n), what + ": content")
                if cl == "1":
                    eq(r.header("Content-Length"), str(n), what + ": Content-Length")
    with serve(w.app("file_wrapper")) as s:
        with open(w.app("file_wrapper"), "rb") as f:
            src = f.read()
        r = s.get("/", "blksize=7")
        eq(r.status, 200, "file_wrapper status")
        eq(bytes(r.body), src, "file_wrapper body over SCGI")


def test_request_arriving_in_pieces():
    """The header cut at every byte (one send per byte), then the body in
    small pieces: the server must wait for the rest, not refuse it."""
    with serve(w.app("echo_body")) as s:
        body = b"0123456789" * 50
        params = sc.default_params("POST", "/pieces", "mode=read", body)
        r = s.request(params, body, chunk=1, delay=0.001, timeout=120)
        eq(r.status, 200, "one byte per send: status")
        eq(bytes(r.body), body, "one byte per send: body")
        r = s.request(params, body, chunk=7, delay=0.0005, timeout=120)
        eq(r.status, 200, "seven bytes per send: status")
        eq(bytes(r.body), body, "seven bytes per send: body")
        check(not re.search(CLOSED_RX, s.log()), "no connection closed as malformed")


def test_body_by_content_length():
    with serve(w.app("echo_body")) as s:
        # Bytes after CONTENT_LENGTH are not the body.
        params = sc.default_params("POST", "/", "mode=read", b"hello")
        r = s.raw(sc.encode_header(params) + b"hello" + b"EXTRA-BYTES", shutdown=True)
        eq(r.status, 200, "more bytes than CONTENT_LENGTH: status")
        eq(bytes(r.body), b"hello", "more bytes than CONTENT_LENGTH: the app reads CONTENT_LENGTH")
        # A body cut short: read raises OSError (never a silently short body).
        for mode in ("read", "readn&n=10"):
            f = os.path.join(w.tmpdir(), "cut-" + mode.split("&")[0])
            params = sc.default_params("POST", "/cut", "mode=%s&log=%s" % (mode, f), b"x" * 1000)
            r = s.raw(sc.encode_header(params) + b"x" * 100, shutdown=True)
            got = w.wait_for(lambda: os.path.exists(f) and open(f).read().strip(), 20)
            if check(got, "cut-short body (%s): the app finished reading" % mode):
                last = got.splitlines()[-1]
                check(last.startswith("error:") and last.endswith(":True"),
                      "cut-short body (%s): read must raise OSError; the app saw %r" % (mode, last))
            s.assert_serving("after a body cut short (%s)" % mode, "mode=read")


# ------------------------------------------------------------ response paths

def test_response_paths():
    with serve(w.app("hello")) as s:
        r = s.get("/")
        eq(r.status, 200, "hello status")
        eq(bytes(r.body), b"Hello, world!\n", "hello body")
        eq(r.header("Content-Length"), "14", "hello Content-Length")
        check(r.well_formed, "CGI response well formed: %r" % r.data[:200])
        check(r.data.startswith(b"Status: 200 OK\r\n"), "starts with a Status line: %r" % r.data[:60])
        check(r.eof, "connection closed after the response")

    with serve(w.app("raise_before_headers")) as s:
        for where in ("call", "sr", "iter"):
            off = s.log_size()
            r = s.get("/", "where=" + where)
            is_500(r, "exception before headers (%s)" % where)
            check(b"boom-before-headers" not in r.data, "exception text not sent (%s)" % where)
            check(w.log_has(s, r"ValueError: boom-before-headers", off),
                  "exception logged (%s)" % where)
        s.assert_serving("after exceptions before headers", "where=none")

    with serve(w.app("raise_after_headers")) as s:
        off = s.log_size()
        r = s.get("/")
        eq(r.status, 200, "exception after headers: status already sent")
        eq(bytes(r.body), b"partial-body\n", "exception after headers: body up to the error")
        check(r.eof, "exception after headers: connection ended")
        check(w.log_has(s, r"boom-after-headers", off), "exception after headers logged")
        s.assert_serving("after an exception after headers", "ok=1")

    with serve(w.app("bad_header")) as s:
        r = s.get("/", "case=ok")
        eq(r.status, 200, "bad_header control case")
        eq(r.header("X-Fine"), "fine", "bad_header control header")
        for case in ("crlf_value", "lf_name", "nul_value", "hop_connection", "status_crlf",
                     "nonlatin_value", "status_code_only"):
            r = s.get("/", "case=" + case)
            is_500(r, "bad header %s" % case)
            check(b"X-Injected" not in r.data, "bad header %s: nothing unvalidated sent" % case)
        s.assert_serving("after bad headers", "case=ok")

    with serve(w.app("exc_info")) as s:
        r = s.get("/", "mode=before")
        eq(r.status, 503, "exc_info before headers replaces the status")
        eq(r.header("X-First"), None, "exc_info before headers: old headers gone")
        eq(bytes(r.body), b"replaced body", "exc_info before headers: body")
        r = s.get("/", "mode=after")
        eq(r.status, 200, "exc_info after headers: the 200 stays")
        eq(bytes(r.body), b"first-chunk", "exc_info after headers: nothing more sent")
        s.assert_serving("after exc_info", "mode=ok")

    with serve(w.app("content_length_excess")) as s:
        for mode in ("one", "many"):
            r = s.get("/", "mode=" + mode)
            eq(r.header("Content-Length"), "5", "declared Content-Length kept (%s)" % mode)
            eq(bytes(r.body), b"12345", "no more bytes than Content-Length (%s)" % mode)

    with serve(w.app("write_callable")) as s:
        eq(bytes(s.get("/", "mode=mixed").body), b"part1,part2,part3", "write() then iterable")
        eq(bytes(s.get("/", "mode=only").body), b"only-write", "write() only")

    with serve(w.app("stream")) as s:
        r = s.get("/", "empty=3")
        eq(bytes(r.body), b"one\ntwo\nthree\n", "a generator with empty chunks")

    with serve(w.app("non_ascii")) as s:
        path = b"/caf\xc3\xa9/\xa0\xff"
        r = s.get(path)
        eq(bytes(r.body), path, "PATH_INFO bytes round trip")
        eq(r.header("X-Latin"), "caf\xe9 \xa0\xff", "latin-1 header value on the wire")

    if not w.VALIDATE:
        with serve(w.app("returns_str")) as s:
            is_500(s.get("/", "where=first"), "a str chunk before headers")
            r = s.get("/", "where=later")
            eq(bytes(r.body), b"ok-bytes\n", "a str chunk after headers ends the request")
            s.assert_serving("after str chunks", "where=none")


def closes(path):
    try:
        with open(path) as f:
            return [l.strip() for l in f if l.strip()]
    except OSError:
        return []


def test_close_exactly_once():
    modes = ["ok", "raise_mid", "raise_first", "close_raises"]
    with serve(w.app("close_counter")) as s:
        for mode in modes:
            f = os.path.join(w.tmpdir(), "close-" + mode)
            r = s.get("/", "mode=%s&file=%s" % (mode, f))
            if mode in ("ok", "close_raises"):
                eq(bytes(r.body), b"chunk1\nchunk2\nchunk3\n", "close_counter %s body" % mode)
            elif mode == "raise_first":
                is_500(r, "close_counter raise_first")
            w.wait_for(lambda: closes(f), 10)
            time.sleep(0.2)
            eq(len(closes(f)), 1, "close() calls for mode %s" % mode)

        # The client goes away in the middle of a large response.
        f = os.path.join(w.tmpdir(), "close-gone")
        off = s.log_size()
        count = 8192            # 512 MiB if nobody stopped it
        r = sc.get(s.addr, "/", "mode=big&count=%d&file=%s" % (count, f), max_response=256 * 1024)
        eq(r.status, 200, "big response started")
        got = w.wait_for(lambda: closes(f), 30)
        check(got, "close() ran after the client went away")
        time.sleep(0.3)
        lines = closes(f)
        eq(len(lines), 1, "close() exactly once after the client went away")
        if lines:
            produced = int(lines[0].split()[1])
            check(produced < count, "iteration stopped (%d of %d chunks)" % (produced, count))
        check("Traceback" not in s.log_since(off), "no traceback for a client that went away")
        s.assert_serving("after a client went away")


# ------------------------------------------------------------ SCGI = FastCGI

def comparable(r):
    return (r.status, r.reason, [(n.lower(), v) for n, v in r.headers], bytes(r.body))


def test_same_answers_as_fastcgi():
    """The same app behind --scgi and behind FastCGI gives the same answer to
    the same params (CONTENT_LENGTH and SCGI sent to both)."""
    common = [
        (b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b""), (b"PATH_INFO", b"/p\xc3\xa9"),
        (b"SERVER_NAME", b"localhost"), (b"SERVER_PORT", b"80"),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"), (b"REMOTE_ADDR", b"127.0.0.1"),
        (b"HTTP_HOST", b"localhost"), (b"HTTP_X_B", b"\x80\xff"),
    ]

    def both(s_scgi, s_fcgi, query, body=b"", method=b"GET"):
        params = [(b"REQUEST_METHOD", method) if n == b"REQUEST_METHOD" else (n, v)
                  for n, v in common] + [(b"QUERY_STRING", query.encode())]
        head = [(b"CONTENT_LENGTH", b"%d" % len(body)), (b"SCGI", b"1")]
        rs = s_scgi.request(head + params, body, timeout=120)
        rf = fc.request(s_fcgi.addr, head + params, body, timeout=120)
        return rs, rf

    apps = [
        ("combo", ["app=hello", "app=environ&x=1", "app=body&mode=readline",
                   "app=download&n=300000&chunk=7000", "app=download&n=1&cl=1"]),
        ("raise_before_headers", ["where=call", "where=iter", "where=none"]),
        ("raise_after_headers", [""]),
        ("exc_info", ["mode=before", "mode=after", "mode=twice"]),
        ("content_length_excess", ["mode=many"]),
        ("non_ascii", [""]),
        ("bad_header", ["case=ok", "case=crlf_value"]),
    ]
    for app, queries in apps:
        with serve(w.app(app)) as s_scgi, w.serve(w.app(app)) as s_fcgi:
            for q in queries:
                body = b"line1\nline2\n" * 1000 if "app=body" in q else b""
                method = b"POST" if body else b"GET"
                rs, rf = both(s_scgi, s_fcgi, q, body, method)
                what = "%s?%s" % (app, q)
                check(rf.ended or rf.eof, "%s: FastCGI request ended" % what)
                check(rs.eof, "%s: SCGI response ended" % what)
                if "app=environ" in q:
                    es = environ_of(rs, what + " (SCGI)").get("environ", {})
                    ef = environ_of(rf, what + " (FastCGI)").get("environ", {})
                    for e in (es, ef):
                        for k in ("wsgi.input", "wsgi.errors"):
                            e.pop(k, None)
                    eq(es, ef, "%s: the same environ over SCGI and FastCGI" % what)
                    continue
                eq(comparable(rs), comparable(rf), "%s: the same answer over SCGI and FastCGI"
                   % what)


# ------------------------------------------------------------ TCP, threads

def test_tcp_and_threads():
    with serve(w.app("combo"), ["-t", "4"], tcp=True) as s:
        check(s.addr.startswith("127.0.0.1:"), "listening on TCP loopback: %s" % s.addr)
        env = environ_of(s.get("/", "app=environ"), "TCP environ").get("environ", {})
        eq(env.get("wsgi.multithread"), True, "wsgi.multithread with -t 4")
        body = os.urandom(256 * 1024)

        def one(i):
            kind = i % 3
            if kind == 0:
                r = s.get("/", "app=hello", timeout=60)
                return r.status == 200 and bytes(r.body) == b"Hello, world!\n"
            if kind == 1:
                r = s.get("/up", "app=body&mode=readn&n=4096", method="POST", body=body,
                          timeout=60)
                return r.status == 200 and bytes(r.body) == body
            r = s.get("/", "app=download&n=1000003&chunk=65536", timeout=60)
            return r.status == 200 and bytes(r.body) == hc.pattern(1000003)

        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            results = list(ex.map(one, range(120), timeout=300))
        eq(results.count(False), 0, "120 concurrent requests over TCP with -t 4 all correct")
        s.assert_serving("after the concurrent requests", "app=hello")
        r = sc.get(s.addr, "/", "app=hello", chunk=1, delay=0.0005)
        eq(bytes(r.body), b"Hello, world!\n", "TCP: a request sent one byte at a time")

        # Two clients stalled inside their headers hold two threads at most:
        # the other two still serve.
        stalled = []
        try:
            for _ in range(2):
                c = sc.connect(s.addr, 30)
                c.sendall(sc.encode_header(sc.default_params())[:25])
                stalled.append(c)
            for i in range(10):
                r = s.get("/", "app=hello", timeout=25)
                if not eq(bytes(r.body), b"Hello, world!\n",
                          "request %d beside two stalled headers (-t 4)" % i):
                    break
        finally:
            for c in stalled:
                c.close()


# ------------------------------------------------------------ limits

def test_max_header_size():
    with serve(w.app("hello"), ["--max-header-size", "256"]) as s:
        def with_size(total):
            fixed = b"CONTENT_LENGTH\0" b"0\0" b"SCGI\0" b"1\0" b"HTTP_X_PAD\0\0"
            data = sc.encode_header([(b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"),
                                     (b"HTTP_X_PAD", b"p" * (total - len(fixed)))])
            assert data.startswith(b"%d:" % total), (data[:10], total)
            return data

        off = s.log_size()
        r = s.raw(with_size(256))
        eq(r.status, 200, "a header of exactly --max-header-size (256) is served")
        r = s.raw(with_size(257))
        eq(r.data, b"", "a header of 257 bytes, max 256: no response")
        check(r.eof, "a header of 257 bytes: connection closed")
        check(w.log_has(s, CLOSED_RX, off), "a header of 257 bytes: logged")
        s.assert_serving("after a header over the limit")
    with serve(w.app("hello")) as s:
        off = s.log_size()
        big = [(b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), (b"HTTP_X", b"y" * 1048000)]
        eq(s.raw(sc.encode_header(big)).status, 200, "a 1,048,000-byte header under the default max")
        big[2] = (b"HTTP_X", b"y" * 1049000)
        r = s.raw(sc.encode_header(big))
        eq(r.data, b"", "a header over the default 1 MiB: no response")
        check(w.log_has(s, CLOSED_RX, off), "a header over the default max: logged")
        s.assert_serving("after a header over the default limit")


def malformed_requests(close_file):
    """The malformed forms, as raw bytes.  Those with a plausible header
    carry WF_CLOSE_FILE: if the app ever ran for one, close_counter would
    write there."""
    trap = (b"WF_CLOSE_FILE", close_file.encode())
    ok_head = [(b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), trap]

    def hdr(pairs, tail=b""):
        raw = b"".join(n + b"\0" + v + b"\0" for n, v in pairs) + tail
        return sc.netstring(raw)

    return [
        ("not a netstring", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("leading zero", b"0" + hdr(ok_head)),
        ("no colon", b"12;" + b"a" * 13),
        ("no comma", sc.encode_header(ok_head)[:-1] + b";"),
        ("length too short", b"5:" + sc.encode_header(ok_head).split(b":", 1)[1]),
        ("not NUL-terminated", sc.netstring(b"CONTENT_LENGTH\0" b"0\0" b"SCGI\0" b"1")),
        ("odd strings", hdr(ok_head, b"ORPHAN\0")),
        ("duplicate CONTENT_LENGTH", hdr(ok_head + [(b"CONTENT_LENGTH", b"0")])),
        ("missing CONTENT_LENGTH", hdr([(b"SCGI", b"1"), trap])),
        ("CONTENT_LENGTH twice", hdr([(b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), trap,
                                      (b"CONTENT_LENGTH", b"5")])),
        ("CONTENT_LENGTH not decimal", hdr([(b"CONTENT_LENGTH", b"1e3"), (b"SCGI", b"1"), trap])),
        ("SCGI missing", hdr([(b"CONTENT_LENGTH", b"0"), trap])),
        ("SCGI is 2", hdr([(b"CONTENT_LENGTH", b"0"), (b"SCGI", b"2"), trap])),
        ("empty name", hdr(ok_head + [(b"", b"v")])),
        ("length over max", b"99999999:" + b"x" * 100),
        ("ends inside the header", sc.encode_header(ok_head)[:20]),
        ("big and malformed", hdr([(b"SCGI", b"1"), (b"CONTENT_LENGTH", b"0x10"), trap,
                                   (b"HTTP_X", b"z" * 60000)])),
    ]


def test_malformed_flood_rss():
    """1,000 malformed requests in a row, then a good one."""
    with serve(w.app("close_counter")) as s:
        trap = os.path.join(w.tmpdir(), "app-called-for-malformed")
        forms = malformed_requests(trap)
        sent = [0]
        bad = []

        def one(i):
            name, data = forms[i % len(forms)]
            r = s.raw(data, timeout=30)
            sent[0] += 1
            if r.data or not r.eof:
                bad.append((name, r.data[:100], r.eof, r.timeout))

        # Each form once, on its own, with its log line.
        for i in range(len(forms)):
            off = s.log_size()
            one(i)
            check(w.log_has(s, CLOSED_RX, off, 10), "malformed (%s): a log line" % forms[i][0])
        # Warm-up, then measure.
        for i in range(50):
            one(i)
        check(s.alive(), "alive after the warm-up")
        pid = s.worker_pid()
        rss0, fds0 = rss_kb(pid), nfds(pid)
        deadline = time.monotonic() + 600
        for i in range(1000):
            if time.monotonic() > deadline:
                w.fail("1,000 malformed requests took more than 600 s (stopped at %d)" % i)
                break
            one(i)
        eq(bad[:5], [], "every malformed request: closed without a response")
        good = os.path.join(w.tmpdir(), "good-request")
        r = s.get("/", "mode=ok&file=%s" % good)
        eq(r.status, 200, "the good request after 1,000 malformed ones: status")
        eq(bytes(r.body), b"chunk1\nchunk2\nchunk3\n", "the good request: body")
        w.wait_for(lambda: closes(good), 10)
        eq(len(closes(good)), 1, "the good request reached the app once")
        eq(closes(trap), [], "the app never ran for a malformed request")
        eq(s.worker_pid(), pid, "the same worker served throughout (none crashed)")
        # The server half-closes before it closes: give the close a moment.
        w.wait_for(lambda: nfds(pid) <= fds0, 10)
        rss1, fds1 = rss_kb(pid), nfds(pid)
        print("worker %d: RSS %d kB after the warm-up, %d kB after 1,000 malformed requests; "
              "fds %d -> %d" % (pid, rss0, rss1, fds0, fds1), flush=True)
        check(rss1 - rss0 <= 2048, "RSS grew by %d kB (at most 2048 allowed)" % (rss1 - rss0))
        eq(fds1, fds0, "no descriptor leaked")
        n = len(re.findall(CLOSED_RX, s.log()))
        eq(n, sent[0], "one log line per malformed request")


if __name__ == "__main__":
    w.main()
