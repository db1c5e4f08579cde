"""workers replaced on purpose.

* --timeout 2: a request to a route sleeping 30 s gets its worker killed,
  with a log line naming the request and the timeout; the next request is
  served and the worker replaced.
* --max-requests 100 with -p 2 under 1,000 requests: workers recycle (new
  pids, log lines), no request fails."""

import re
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load, pm_server


def test_timeout():
    srv = pm_server("timeout", ["-p", "2", "-t", "2", "--timeout", "2"])
    before = w.ready_pids(srv.stats())
    t0 = time.monotonic()
    r = fc.get(srv.addr, "/sleep", "s=30", timeout=25)
    took = time.monotonic() - t0
    w.check(not r.ended and not r.timeout,
            "the 30 s request was cut off (its worker killed) within the "
            "bounded wait (%.1f s)" % took, repr(r))
    lines = [m for _, lvl, m in w.log_lines(srv.text())
             if "timeout" in m and "/sleep" in m]
    w.check(lines, "a log line names the request path and the timeout")
    for line in lines:
        w.log("# %s" % line)
    w.check(any('"GET /sleep?s=30"' in m for m in lines),
            "... as \"METHOD URI\"")
    r = fc.get(srv.addr, "/echo", "next=1", timeout=15)
    w.check(r.status == 200 and bytes(r.body) == b"echo next=1 ",
            "the next request is served", repr(r))

    def replaced():
        p = w.ready_pids(srv.stats())
        return p if len(p) == 2 and p != before else None
    w.check(w.wait_for(replaced, 20), "the killed worker was replaced")
    w.check(re.search(r"worker \d+ was killed by signal 9", srv.text()),
            "the log records the kill")
    # A quick request under the limit is not affected.
    r = fc.get(srv.addr, "/sleep", "s=0.5", timeout=15)
    w.eq(r.status, 200, "a 0.5 s request under --timeout 2 completes")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_max_requests():
    srv = pm_server("maxreq", ["-p", "2", "-t", "2", "--max-requests", "100"])
    first = w.ready_pids(srv.stats())
    kept = Load(srv.addr, clients=2, count=250)
    short = Load(srv.addr, clients=2, count=250, keep=False)
    kept.start()
    short.start()
    w.check(kept.join(120) and short.join(120), "1,000 requests done")
    for name, load in (("kept connections", kept), ("one-request connections", short)):
        w.log("# %s: %s" % (name, load.summary()))
        w.eq(load.failed, 0, "%s: no request failed" % name)
        w.eq(load.ok, 500, "%s: 500 exact answers" % name)
    pids = set(kept.pids) | set(short.pids)
    w.log("# answers came from %d worker pids: %s" % (
        len(pids), sorted((int(p), n) for p, n in
                          {**kept.pids, **{q: kept.pids.get(q, 0) + short.pids.get(q, 0)
                                           for q in short.pids}}.items())))
    w.check(len(pids) >= 10, "workers recycled: at least 10 pids answered "
            "1,000 requests with --max-requests 100 (%d did)" % len(pids))
    per = {}
    for load in (kept, short):
        for p, n in load.pids.items():
            per[p] = per.get(p, 0) + n
    # A stopping worker takes no new connection but serves the requests
    # already received on the connections it holds (they are the requests
    # in flight): at most one per connection, 4 clients here.
    w.check(max(per.values()) <= 100 + 4,
            "no worker answered more than 100 (+1 per connection it held) "
            "requests (max %d)" % max(per.values()))
    text = srv.text()
    n = text.count("--max-requests")
    w.check(n >= 8, "log lines for the recycling (%d)" % n)
    st = srv.stats()
    w.check(len(w.ready_pids(st)) == 2 or w.wait_for(
        lambda: len(w.ready_pids(srv.stats())) == 2, 20), "two workers ready")
    w.check(not set(first) & set(w.worker_pids(srv.stats())),
            "the first workers are gone")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
