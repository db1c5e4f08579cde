"""--timeout logs every thread's traceback before the kill.

-p 1 -t 3 --timeout 1.  A request to /wait parks one thread in
waiting_elsewhere(); then /stuck sleeps for ever in stuck_in_here() (or
/spin loops in spinning_here(), holding the GIL: the dump must not need
it).  Within the bounded wait:
* the request is cut off (its worker killed) and the log has, in order,
  the line naming the request and --timeout, the dump: "Current thread"
  followed by stuck_in_here (the stuck thread is the one marked), another
  thread's traceback showing waiting_elsewhere, then the kill;
* every traceback line is an ordinary log line ([error], naming the
  worker);
* a new worker replaces it and serves.
Also: the dump still reaches the log after SIGUSR1 reopened --log-file;
and SIGRTMIN+2 to the master logs every worker's tracebacks at [info]
without killing anything."""

import os
import re
import signal
import threading
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import pm_server

APP = w.app("ops_stuck")


def one_timeout(srv, path, func, log_text):
    before = w.ready_pids(srv.stats())
    result = {}

    def stuck():
        t0 = time.monotonic()
        result["r"] = fc.get(srv.addr, path, timeout=30)
        result["took"] = time.monotonic() - t0
    stuck_thread = threading.Thread(target=stuck, daemon=True)
    stuck_thread.start()
    w.wait_for(lambda: any(wk["in_flight"] for wk in srv.stats()["workers"]), 10)
    # A second busy thread, younger: the stuck request is the oldest one.
    waiter = threading.Thread(target=lambda: fc.get(srv.addr, "/wait", timeout=30), daemon=True)
    waiter.start()
    stuck_thread.join(40)
    waiter.join(30)
    r = result.get("r")
    w.check(r is not None and not r.ended and not r.timeout,
            "%s: cut off by --timeout 1 (%.1f s)" % (path, result.get("took", -1)), repr(r))
    text = w.wait_for(lambda: (lambda t: t if "was killed by signal 9" in t.split(
        "request \"GET %s\"" % path, 1)[-1] else None)(log_text()), 20) or log_text()
    lines = w.log_lines(text)
    msgs = [m for _, _, m in lines]
    i_req = next((i for i, m in enumerate(msgs)
                  if 'request "GET %s" ran longer than --timeout 1 s' % path in m), None)
    if not w.check(i_req is not None, "%s: a line names the request and --timeout" % path):
        return
    wpid = int(re.match(r"worker (\d+):", msgs[i_req]).group(1))
    dump = [(lvl, m[len("worker %d: " % wpid):]) for _, lvl, m in lines[i_req + 1:]
            if m.startswith("worker %d: " % wpid) and "was killed" not in m]
    w.log("# the dump of worker %d:" % wpid)
    for _, m in dump:
        w.log("#   %s" % m)
    body = [m for _, m in dump]
    w.check(all(lvl == "error" for lvl, _ in dump), "%s: the dump is logged at [error]" % path)
    cur = next((i for i, m in enumerate(body) if m.startswith("Current thread")), None)
    w.check(cur is not None, "%s: one thread is marked \"Current thread\"" % path, body)
    if cur is not None:
        own = []
        for m in body[cur + 1:]:
            if not m.startswith("  "):
                break
            own.append(m)
        w.check(any(("in %s" % func) in m for m in own),
                "%s: the marked thread's traceback shows %s" % (path, func), own)
    w.check(any("in waiting_elsewhere" in m for m in body),
            "%s: another thread's traceback shows waiting_elsewhere" % path)
    w.check(sum(1 for m in body if re.match(r"(Current thread|Thread) 0x", m)) >= 3,
            "%s: the traceback of every thread (3 request threads and the main one)" % path)
    i_kill = next((i for i, m in enumerate(msgs) if re.search(
        r"worker %d was killed by signal 9" % wpid, m)), None)
    w.check(i_kill is not None and i_kill > i_req + len(dump),
            "%s: then the worker is killed" % path)

    def replaced():
        p = w.ready_pids(srv.stats())
        return p if p and p != before else None
    w.check(w.wait_for(replaced, 20), "%s: a new worker replaced it" % path)
    r = fc.get(srv.addr, "/", timeout=15)
    w.eq(r.status, 200, "%s: and serves" % path)


def test_timeout_tracebacks():
    logf = w.tmp("timeout-file.log")
    srv = pm_server("timeout", ["-p", "1", "-t", "3", "--timeout", "1", "--log-file", logf],
                    app=APP)

    def log_text():
        with open(logf, encoding="utf-8", errors="replace") as f:
            return f.read()
    one_timeout(srv, "/stuck", "stuck_in_here", log_text)
    one_timeout(srv, "/spin", "spinning_here", log_text)
    # Rotate: rename the file, SIGUSR1, and the next dump lands in the new one.
    os.rename(logf, logf + ".1")
    srv.kill(signal.SIGUSR1)
    w.check(w.wait_for(lambda: os.path.exists(logf), 10), "SIGUSR1 reopened --log-file")
    time.sleep(0.3)
    one_timeout(srv, "/stuck", "stuck_in_here", log_text)
    # On demand: SIGRTMIN+2 to the master.
    pids = w.ready_pids(srv.stats())
    srv.kill(signal.SIGRTMIN + 2)

    def dumped():
        return [m for _, lvl, m in w.log_lines(log_text())
                if lvl == "info" and m.startswith("worker %d: Current thread" % pids[0])]
    w.check(w.wait_for(dumped, 10), "SIGRTMIN+2 to the master: the worker's tracebacks at [info]")
    w.check(any("SIGRTMIN+2" in m for _, _, m in w.log_lines(log_text())), "... announced")
    w.eq(w.ready_pids(srv.stats()), pids, "... and the worker lives on")
    r = fc.get(srv.addr, "/", timeout=15)
    w.eq(r.status, 200, "... and serves")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
