"""the master's signals.

* SIGTERM while slow requests run (the app sleeps 2 s): they complete with
  200, then the master exits 0 and removes its socket file.
* SIGQUIT: stop now, without waiting for a 30 s request.
* SIGTTIN / SIGTTOU: one worker more / less, visible in --stats."""

import os
import signal
import threading
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import busy_threads, pm_server


def slow_requests(srv, n, secs):
    """n concurrent /sleep requests in threads; returns (threads, results)."""
    results = [None] * n

    def one(i):
        results[i] = fc.get(srv.addr, "/sleep", "s=%g" % secs, timeout=60)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    return ts, results


def busy(srv):
    return sum(busy_threads(srv).values())


def test_sigterm_finishes_slow_requests():
    srv = pm_server("term", ["-p", "2", "-t", "2"])
    ts, results = slow_requests(srv, 4, 2)
    w.check(w.wait_for(lambda: busy(srv) == 4, 20),
            "4 slow requests in flight (--stats busy_threads)")
    srv.kill(signal.SIGTERM)
    for t in ts:
        t.join(60)
    statuses = [r.status if r else None for r in results]
    w.eq(statuses, [200] * 4, "the slow requests completed with 200")
    w.check(all(r and bytes(r.body) == b"slept 2" for r in results),
            "... and their whole bodies")
    rc = srv.wait(30)
    w.eq(rc, 0, "then the master exited 0")
    w.check(not os.path.exists(srv.sock), "the socket file was removed")
    text = srv.text()
    w.check("SIGTERM" in text, "the log has the SIGTERM line")
    w.check("master exiting" in text, "the log has the master's last line")


def test_sigquit_stops_now():
    srv = pm_server("quit", ["-p", "2", "-t", "1"])
    ts, results = slow_requests(srv, 1, 30)
    w.check(w.wait_for(lambda: busy(srv) == 1, 20), "a 30 s request in flight")
    workers = w.worker_pids(srv.stats())
    t0 = time.monotonic()
    srv.kill(signal.SIGQUIT)
    rc = srv.wait(20)
    w.check(rc is not None, "SIGQUIT: the master exited without waiting "
            "for the request (%.1f s)" % (time.monotonic() - t0))
    w.check(w.wait_for(lambda: not any(w.alive(p) for p in workers), 10),
            "SIGQUIT: the workers are gone")
    for t in ts:
        t.join(60)
    w.check(results[0] is not None and not results[0].ended,
            "SIGQUIT: the slow request was cut off")


def test_ttin_ttou():
    srv = pm_server("ttin", ["-p", "2", "-t", "1"])

    def workers(n):
        def pred():
            try:
                st = srv.stats()
            except (OSError, ValueError):
                return None
            if st["master"]["workers"] == n and len(st["workers"]) == n \
                    and len(w.ready_pids(st)) == n:
                return st
            return None
        return pred
    w.check(workers(2)(), "--stats: 2 workers to begin with")
    srv.kill(signal.SIGTTIN)
    # (the waits stop early when a step fails, to keep a failing run short)
    if w.check(w.wait_for(workers(3), 10), "SIGTTIN: 3 workers in --stats"):
        srv.kill(signal.SIGTTIN)
        st = w.wait_for(workers(4), 10)
        if w.check(st, "SIGTTIN again: 4 workers in --stats"):
            four = w.worker_pids(st)
            srv.kill(signal.SIGTTOU)
            st = w.wait_for(workers(3), 10)
            if w.check(st, "SIGTTOU: 3 workers in --stats"):
                gone = set(four) - set(w.worker_pids(st))
                w.check(len(gone) == 1 and w.wait_for(
                    lambda: not any(w.alive(p) for p in gone), 10),
                    "SIGTTOU: the retired worker exited")
            # One at a time: two signals sent back to back may merge.
            srv.kill(signal.SIGTTOU)
            w.check(w.wait_for(workers(2), 10), "SIGTTOU: 2 workers in --stats")
    srv.kill(signal.SIGTTOU)
    w.check(w.wait_for(workers(1), 10), "SIGTTOU down to 1 worker")
    srv.kill(signal.SIGTTOU)
    time.sleep(0.5)
    w.check(workers(1)(), "SIGTTOU never goes below 1 worker")
    r = fc.get(srv.addr, "/echo", "x=1", timeout=15)
    w.eq(r.status, 200, "still serving")
    text = srv.text()
    w.check("SIGTTIN: now 3 workers" in text, "the log names SIGTTIN")
    w.check("SIGTTOU: now 1 worker" in text, "the log names SIGTTOU")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
