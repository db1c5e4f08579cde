"""The server under valgrind memcheck (master and worker, -t 2), driven
through the request paths that own memory or Python references: environ,
every wsgi.input mode, start_response validation failures, exceptions
before and after headers, a client leaving mid-download, kept connections,
SCGI; and a 10,000-request soak (tests/wftest/soak.py: the mixed load of make
soak, at -p 2 -t 4).  Passes when memcheck reports no error and no definite
leak.  Skipped in the sanitizer build (ASan and memcheck exclude each
other)."""

import glob
import os
import re
import signal
import time

import wftest as w
from wftest import check
from wftest import fcgi as fc
from wftest import scgi as sc
from wftest import soak

SUPP = os.path.join(w.TESTS, "valgrind.supp")


def setup():
    if w.SANITIZERS:
        raise w.Skip("sanitizer build: memcheck runs in the normal build")
    return w.need_program("valgrind")


def start(name, args, app, stats=False):
    """wsgi-fcgi under memcheck; ready when a worker says "serving" (with
    stats: when every worker is ready)."""
    valgrind = setup()
    vg = [valgrind, "--tool=memcheck", "--trace-children=yes", "--leak-check=full",
          "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
          "--num-callers=40", "--suppressions=" + SUPP,
          "--log-file=" + w.tmp(name + ".vg.%p")]
    addr = args[args.index("-s") + 1]
    st = ["--stats", "unix:" + w.tmp(name + ".stats")] if stats else []
    s = w.Server(name=name, addr=addr, env={"PYTHONMALLOC": "malloc"}, wait=False,
                 argv=vg + [w.WSGI_FCGI] + st + args + [w.app(app)])
    s.stats_addr = st[1] if stats else None
    s.wait_ready(timeout=120)
    return s


def stop(s):
    rc = s.stop(signal.SIGTERM, timeout=180)
    w.untrack(s)
    return rc


def memcheck_clean(name):
    logs = glob.glob(w.tmp(name + ".vg.*"))
    check(len(logs) >= 2, "%s: memcheck followed master and worker (%d logs)" % (name, len(logs)))
    for path in logs:
        text = w.read(path)
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        if not check(m is not None and m.group(1) == "0",
                     "%s: no memcheck error in %s" % (name, os.path.basename(path))):
            print(text[-6000:])
        lost = re.search(r"definitely lost: ([\d,]+) bytes", text)
        check(lost is None or lost.group(1) == "0",
              "%s: no definite leak in %s" % (name, os.path.basename(path)))


def test_fcgi_paths():
    p = start("fcgi", ["-t", "2", "-s", "unix:" + w.tmp("f.sock")], "any_app")
    addr = p.addr
    body = os.urandom(200000) + b"\nline two\nlast"
    r = fc.get(addr, path="/x", query="app=echo_environ", timeout=120,
               extra=[(b"HTTP_X_BYTES", bytes(range(0x80, 0x100)))])
    check(r.status == 200, "environ 200")
    for mode in ("read", "readn&n=777", "readline", "readlinen&n=5", "readlines", "iter", "mixed"):
        r = fc.request(addr, fc.default_params(method="POST",
                                               query="app=echo_body&echo=0&mode=" + mode,
                                               body=body), body, timeout=120)
        check(r.status == 200, "input mode %s" % mode)
    for app in ("raise_before_headers", "raise_after_headers", "returns_str", "no_start_response",
                "write_callable", "exc_info", "content_length_excess", "file_wrapper",
                "wsgi_errors", "stream", "close_counter"):
        r = fc.get(addr, query="app=" + app, timeout=120)
        check(r.status is not None, "app %s answered (%s)" % (app, r.status))
    for case in ("crlf_value", "nul_name", "hop_connection", "status_crlf", "nonlatin_value",
                 "triple"):
        r = fc.get(addr, query="app=bad_header&case=" + case, timeout=120)
        check(r.status == 500, "bad header %s -> 500" % case)
    with fc.Connection(addr, timeout=120) as c:
        for i in range(10):
            r = c.request(fc.default_params(query="app=echo_environ"), keep=True)
            check(r.status == 200, "kept request %d" % i)
    c = fc.Connection(addr, timeout=120)
    c.begin()
    c.params(fc.default_params(query="app=big_download&n=4000000"))
    c.stdin(b"")
    c.read_record(time.monotonic() + 60)
    c.close()
    c = fc.Connection(addr, timeout=120)
    c.begin()
    c.params(fc.default_params(method="POST", query="app=echo_body&mode=read", body=b"x" * 100000))
    c.stdin(b"x" * 1000, end=False)
    c.close()
    time.sleep(1)
    r = fc.get(addr, query="app=echo_environ", timeout=120)
    check(r.status == 200, "serving after hostile clients")
    check(stop(p) == 0, "fcgi server exits 0 on SIGTERM")
    memcheck_clean("fcgi")


def test_scgi_paths():
    p = start("scgi", ["--scgi", "-s", "unix:" + w.tmp("s.sock")], "echo_body")
    body = os.urandom(100000)
    r = sc.request(p.addr, sc.default_params(method="POST", query="mode=readline&echo=0",
                                             body=body), body, timeout=120)
    check(r.status == 200, "scgi POST")
    for raw in (b"abc", b"01:x,", b"5:ab\0cd,", b"9999999999:"):
        sc.request_raw(p.addr, raw, timeout=60)
    check(stop(p) == 0, "scgi server exits 0 on SIGTERM")
    memcheck_clean("scgi")


def test_soak():
    """The soak's mixed load, 10,000 requests, under memcheck."""
    p = start("soak", ["-p", "2", "-t", "4", "--protocol", "auto",
                       "-s", "unix:" + w.tmp("soak.sock")], "soak_app", stats=True)
    soak.run(p, 10000, clients=4, rounds=2, warmup=1, timeout=300.0, time_limit=1800,
             check_rss=False)
    check(stop(p) == 0, "soak server exits 0 on SIGTERM")
    memcheck_clean("soak")


if __name__ == "__main__":
    w.main()
