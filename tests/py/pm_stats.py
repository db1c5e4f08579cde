"""t-pm-stats: --stats answers while every thread of every worker is in a
slow request, and its numbers match what was sent."""

import threading

import pm_lib as pm

QUICK = 50


def test_stats_while_busy():
    srv = pm.Server("stats", ["-p", "2", "-t", "2"])
    for i in range(QUICK):
        r = pm.get(srv.addr, "/echo", "i=%d" % i)
        if r.status != 200:
            pm.fail("quick request %d: %r" % (i, r))
            break
    results = [None] * 4

    def one(i):
        results[i] = pm.get(srv.addr, "/sleep", "s=3", timeout=60)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()

    def all_busy():
        st = srv.stats()
        return st if sum(w["busy_threads"] for w in st["workers"]) == 4 else None
    st = pm.wait_until(all_busy, 20)
    pm.check(st, "--stats answers while all 4 threads are in slow requests")
    if st:
        m = st["master"]
        pm.check_eq(srv.pid, m["pid"], "master.pid")
        pm.check_eq((2, 2, 1, False), (m["workers"], m["threads"], m["generation"],
                                        m["stopping"]),
                    "master workers, threads, generation, stopping")
        pm.check(m["uptime"] >= 0 and m["rss_kb"] > 0 and m["reaped"] == 0,
                 "master uptime, rss_kb, reaped", m)
        ws = st["workers"]
        pm.check_eq(2, len(ws), "two workers listed")
        pm.check_eq([2, 2], [w["busy_threads"] for w in ws],
                    "each worker: busy_threads 2")
        pm.check_eq([2, 2], [w["in_flight"] for w in ws], "each worker: in_flight 2")
        pm.check_eq(["ready", "ready"], [w["state"] for w in ws], "both ready")
        pm.check_eq(QUICK, sum(w["requests"] for w in ws),
                    "requests counted so far: the %d quick ones" % QUICK)
        pm.check(all(w["rss_kb"] > 0 and w["uptime"] >= 0 and w["generation"] == 1
                     and w["errors"] == 0 for w in ws),
                 "worker rss_kb, uptime, generation, errors", ws)
    for t in ts:
        t.join(60)
    pm.check_eq([200] * 4, [r.status if r else None for r in results],
                "the slow requests completed")
    st = srv.stats()
    ws = st["workers"]
    pm.check_eq(QUICK + 4, sum(w["requests"] for w in ws),
                "requests after they completed: %d" % (QUICK + 4))
    pm.check_eq([0, 0], [w["in_flight"] for w in ws], "in_flight back to 0")
    pm.check_eq([0, 0], [w["busy_threads"] for w in ws], "busy_threads back to 0")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


if __name__ == "__main__":
    pm.main(test_stats_while_busy)
