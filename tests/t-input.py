"""SPEC "environ": wsgi.input in every mode, bodies of 0, 1, odd sizes and
10 MiB split over many STDIN records, slow senders, and a body cut short."""

import hashlib
import os
import random
import time

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc


def lines_body(n):
    """About n bytes of lines of varied lengths (some empty), no trailing
    newline at the very end when n is odd, to test a last partial line."""
    rnd = random.Random(n)
    out = bytearray()
    i = 0
    while len(out) < n:
        out += b"line %d %s\n" % (i, b"x" * rnd.randrange(0, 300))
        if i % 7 == 0:
            out += b"\n"
        i += 1
    out = out[:n]
    return bytes(out)


def post(s, query, body, **kw):
    params = fc.default_params("POST", "/upload", query, body,
                               content_type="application/octet-stream")
    return s.request(params, body, **kw)


def check_echo(r, body, what):
    ok = eq(r.status, 200, "%s: status" % what)
    ok = eq(r.header("X-Read-Length"), str(len(body)), "%s: bytes read" % what) and ok
    ok = eq(r.header("X-Read-Violations"), "0", "%s: size/line violations" % what) and ok
    ok = eq(r.header("X-After-Eof"), "0", "%s: read after the end gives b''" % what) and ok
    if len(r.body) == 64 and len(body) != 64:
        ok = eq(bytes(r.body).decode(), hashlib.sha256(body).hexdigest(),
                "%s: sha256 of what was read" % what) and ok
    else:
        if bytes(r.body) != body:
            a = bytes(r.body)
            pos = next((i for i in range(min(len(a), len(body))) if a[i] != body[i]),
                       min(len(a), len(body)))
            check(False, "%s: body read differs (len %d vs %d, first difference at %d)"
                  % (what, len(a), len(body), pos))
            ok = False
    return ok


MODES = ["mode=read", "mode=readn&n=1", "mode=readn&n=7", "mode=readn&n=8192",
         "mode=readn&n=100000", "mode=readline", "mode=readlinen&n=1",
         "mode=readlinen&n=5", "mode=readlinen&n=100", "mode=readlines",
         "mode=iter", "mode=mixed", "mode=cl&n=4096"]


def test_modes_small_bodies():
    with w.serve(w.app("echo_body")) as s:
        for size in (0, 1, 2, 5, 17, 1000):
            body = lines_body(size)
            for q in MODES:
                r = post(s, q, body)
                check_echo(r, body, "%s, %d-byte body" % (q, size))


def test_modes_odd_sizes_and_records():
    with w.serve(w.app("echo_body")) as s:
        for size, sizes in ((8191, 1), (8193, [1, 2, 3]), (65537, 7),
                            (100003, [8191, 1, 65535]), (300007, None),
                            (123457, [4096, 13])):
            body = lines_body(size)
            for q in MODES:
                if "n=1" in q and size > 100000:
                    continue   # one-byte reads of big bodies are just slow
                r = post(s, q, body, stdin_sizes=sizes, timeout=120)
                check_echo(r, body, "%s, %d-byte body in STDIN records of %r"
                           % (q, size, sizes))


def test_binary_body():
    body = bytes(range(256)) * 64 + b"\0\r\n\r\n\0"
    with w.serve(w.app("echo_body")) as s:
        for q in ("mode=read", "mode=readn&n=333", "mode=readline", "mode=iter"):
            r = post(s, q, body, stdin_sizes=[5, 999])
            check_echo(r, body, "binary body, %s" % q)


def test_10mib_both_directions():
    body = os.urandom(10 * 1024 * 1024)
    with w.serve(w.app("echo_body")) as s:
        r = post(s, "mode=read", body, timeout=180)
        check_echo(r, body, "10 MiB upload, read(), echoed back")
        r = post(s, "mode=readn&n=65536&echo=0", body, stdin_sizes=[65535, 1, 8191],
                 timeout=180)
        check_echo(r, body, "10 MiB upload, read(65536), odd STDIN records")
        body2 = body[:10 * 1024 * 1024 - 12345]
        r = post(s, "mode=iter&echo=0", body2, stdin_sizes=4097, timeout=180)
        check_echo(r, body2, "~10 MiB upload, iteration, 4097-byte records")
        s.assert_serving("after 10 MiB uploads")


def test_slow_sender():
    body = lines_body(3000)
    with w.serve(w.app("echo_body")) as s:
        for q in ("mode=read", "mode=readline", "mode=readn&n=100"):
            r = post(s, q, body, stdin_sizes=200, stdin_delay=0.02, timeout=60)
            check_echo(r, body, "slow sender, %s" % q)


def test_body_cut_short():
    """The client announces 100000 bytes, sends 1000 and closes: the app's
    read raises OSError (seen in the side-channel file), and the server
    keeps serving."""
    with w.serve(w.app("echo_body")) as s:
        for mode in ("read", "readn&n=4096", "readline", "cl&n=500"):
            f = os.path.join(w.tmpdir(), "cut-%s" % mode.split("&")[0])
            body = lines_body(100000)
            params = fc.default_params("POST", "/cut", "mode=%s&log=%s" % (mode, f), body)
            c = s.connect()
            c.begin()
            c.params(params)
            c.stdin(body[:1000], end=False)
            time.sleep(0.2)
            c.close()
            got = w.wait_for(lambda: os.path.exists(f) and open(f).read(), 30)
            if check(got, "cut-short body (%s): the app finished reading" % mode):
                last = got.strip().split("\n")[-1]
                check(last.startswith("error:") and last.endswith(":True"),
                      "cut-short body (%s): read must raise OSError; the app saw %r"
                      % (mode, last))
            s.assert_serving("after a body cut short (%s)" % mode)


def test_body_with_extra_records_after_end():
    """An empty STDIN record ends the body; read() never returns more."""
    with w.serve(w.app("echo_body")) as s:
        body = b"exact body"
        params = fc.default_params("POST", "/", "mode=read", body)
        with s.connect() as c:
            c.begin()
            c.params(params)
            c.stdin(body, sizes=3)
            r = c.read_response()
        check_echo(r, body, "body ended by the empty STDIN record")


if __name__ == "__main__":
    w.main()
