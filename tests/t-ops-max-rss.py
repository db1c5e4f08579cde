"""--max-rss MIB replaces a worker grown past it.

The limit is set relative to the worker's resident set measured first with
a probe server (so the test holds under sanitizers and valgrind too).  Then
with -p 1 -t 2 (the master supervises even one worker) and with -p 2, an
application that keeps 1 MiB per request is loaded by several client
threads, on kept connections and on one-request connections:
* every request is answered 200 with its exact body (none refused or lost);
* the worker pid changes several times: each client pauses between its
  requests as long as the probe server took to start (at least 50 ms), so
  fewer than one request per client reaches a worker while its
  replacement starts, far under the 24 MiB of headroom; a worker then
  lives for some 30 requests and the load spans many worker lifetimes
  (without the pause, 420 requests can be answered before the first
  replacement is even ready);
* the log says "worker P: RSS N MiB > --max-rss M MiB after a request;
  replacing it" with N > M;
* the replacement is ready before the old worker is told to stop, and the
  old one exits 0 (it finished its requests; nothing was killed)."""

import re
import threading
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load, pm_server

APP = w.app("ops_grow")
LINE = re.compile(r"worker (\d+): RSS (\d+) MiB > --max-rss (\d+) MiB after a request; replacing it")


def probe():
    """A worker's resident set at rest (MiB) and how long a server took to
    start until its worker was ready (seconds)."""
    t0 = time.monotonic()
    srv = pm_server("probe", ["-p", "1"], app=APP, env={"WF_GROW_MB": "0"})
    startup = time.monotonic() - t0
    for i in range(5):
        fc.get(srv.addr, "/echo", "probe=%d" % i)
    # rss_kb in --stats is read from /proc by the master.
    kb = max(wk["rss_kb"] for wk in srv.stats()["workers"])
    srv.stop()
    return kb // 1024, startup


def run(procs, base, pause):
    limit = base + 24
    name = "rss%d" % procs
    srv = pm_server(name, ["-p", str(procs), "-t", "2", "--max-rss", str(limit)],
                    app=APP, env={"WF_GROW_MB": "1"})
    kept = Load(srv.addr, clients=3, count=70, pause=pause)
    short = Load(srv.addr, clients=3, count=70, keep=False, pause=pause)
    seen = {"max": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            seen["max"] = max(seen["max"], len(w.children(srv.pid)))
            time.sleep(0.02)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    kept.start()
    short.start()
    w.check(kept.join(240) and short.join(240), "-p %d: 420 requests done" % procs)
    done.set()
    sampler.join(5)
    w.log("# -p %d: at most %d worker processes at a time" % (procs, seen["max"]))
    for what, load in (("kept connections", kept), ("one-request connections", short)):
        w.log("# -p %d, %s: %s" % (procs, what, load.summary()))
        w.eq(load.failed, 0, "-p %d, %s: no request failed" % (procs, what))
        w.eq(load.ok, 210, "-p %d, %s: 210 exact 200 answers" % (procs, what))
    pids = set(kept.pids) | set(short.pids)
    w.check(len(pids) >= procs + 2, "-p %d: workers were replaced (%d pids answered)"
            % (procs, len(pids)))
    w.wait_for(lambda: len(w.ready_pids(srv.stats())) == procs, 20)
    w.eq(srv.stop(), 0, "-p %d: SIGTERM: the master exits 0" % procs)
    text = srv.text()
    lines = w.log_lines(text)
    found = [LINE.search(m) for _, lvl, m in lines if lvl == "warning"]
    found = [m for m in found if m]
    w.check(len(found) >= 2, "-p %d: log lines 'RSS N MiB > --max-rss %d MiB ... replacing it' (%d)"
            % (procs, limit, len(found)))
    w.check(all(int(m.group(2)) > int(m.group(3)) == limit for m in found),
            "-p %d: ... with the figure above the limit" % procs)
    w.log("# %s" % (found[0].group(0) if found else "(none)"))
    w.check(not re.search(r"was killed by signal", text), "-p %d: no worker was killed" % procs)
    replaced = [int(m.group(1)) for m in found]
    exits = {int(p): st for p, st in re.findall(r"worker (\d+) exited with status (\d+)", text)}
    w.check(all(exits.get(p) == "0" for p in replaced),
            "-p %d: every replaced worker exited 0" % procs, exits)
    # Order: the replacement's "serving" line comes before the old worker
    # is told to stop.
    if found:
        old = replaced[0]
        i_warn = text.index(found[0].group(0))
        i_stop = text.find("worker %d: its replacement is ready" % old)
        serving = [m.start() for m in re.finditer(r"\[(\d+)\] \[info\] wsgi-fcgi \S+ serving", text)
                   if m.start() > i_warn]
        w.check(i_stop > 0 and serving and serving[0] < i_stop,
                "-p %d: the replacement was serving before worker %d was stopped" % (procs, old))


def test_max_rss():
    base, startup = probe()
    pause = max(0.05, startup)
    w.log("# a worker's resident set at rest: %d MiB; the probe started in %.2f s: "
          "a pause of %.2f s between a client's requests" % (base, startup, pause))
    run(1, base, pause)
    run(2, base, pause)


if __name__ == "__main__":
    w.main(timeout=540)
