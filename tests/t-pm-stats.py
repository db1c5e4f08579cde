"""--stats answers while every thread of every worker is in a
slow request, and its numbers match what was sent."""

import threading

import wftest as w
from wftest import fcgi as fc
from wftest.load import pm_server

QUICK = 50


def test_stats_while_busy():
    srv = pm_server("stats", ["-p", "2", "-t", "2"])
    for i in range(QUICK):
        r = fc.get(srv.addr, "/echo", "i=%d" % i)
        if r.status != 200:
            w.fail("quick request %d: %r" % (i, r))
            break
    results = [None] * 4

    def one(i):
        results[i] = fc.get(srv.addr, "/sleep", "s=3", timeout=60)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()

    def all_busy():
        st = srv.stats()
        return st if sum(wk["busy_threads"] for wk in st["workers"]) == 4 else None
    st = w.wait_for(all_busy, 20)
    w.check(st, "--stats answers while all 4 threads are in slow requests")
    if st:
        m = st["master"]
        w.eq(m["pid"], srv.pid, "master.pid")
        w.eq((m["workers"], m["threads"], m["generation"],
                                        m["stopping"]), (2, 2, 1, False),
             "master workers, threads, generation, stopping")
        w.check(m["uptime"] >= 0 and m["rss_kb"] > 0 and m["reaped"] == 0,
                "master uptime, rss_kb, reaped", m)
        ws = st["workers"]
        w.eq(len(ws), 2, "two workers listed")
        w.eq([wk["busy_threads"] for wk in ws], [2, 2],
             "each worker: busy_threads 2")
        w.eq([wk["in_flight"] for wk in ws], [2, 2], "each worker: in_flight 2")
        w.eq([wk["state"] for wk in ws], ["ready", "ready"], "both ready")
        w.eq(sum(wk["requests"] for wk in ws), QUICK,
             "requests counted so far: the %d quick ones" % QUICK)
        w.check(all(wk["rss_kb"] > 0 and wk["uptime"] >= 0 and wk["generation"] == 1
                    and wk["errors"] == 0 for wk in ws),
                "worker rss_kb, uptime, generation, errors", ws)
    for t in ts:
        t.join(60)
    w.eq([r.status if r else None for r in results], [200] * 4,
         "the slow requests completed")
    # A worker counts a request once its thread is done with it, a moment
    # after the client read the last byte: wait (bounded) for that.
    st = w.wait_for(lambda: (lambda s: s if sum(wk["requests"] for wk in s["workers"]) ==
                             QUICK + 4 and not any(wk["busy_threads"] for wk in s["workers"])
                             else None)(srv.stats()), 10) or srv.stats()
    ws = st["workers"]
    w.eq(sum(wk["requests"] for wk in ws), QUICK + 4,
         "requests after they completed: %d" % (QUICK + 4))
    w.eq([wk["in_flight"] for wk in ws], [0, 0], "in_flight back to 0")
    w.eq([wk["busy_threads"] for wk in ws], [0, 0], "busy_threads back to 0")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
