"""t-pm-load: 8 concurrent keep-alive clients x 2,000 requests against
-p 2 -t 4: every answer byte-correct, spread over both workers and several
threads, and the --stats request counters add up to what was sent."""

import pm_lib as pm

CLIENTS = 8
PER_CLIENT = 2000


def test_load():
    srv = pm.Server("load", ["-p", "2", "-t", "4"])
    workers = pm.ready_pids(srv.stats())
    pm.check_eq(2, len(workers), "two workers ready")
    # Like nginx, the clients retry once a request that met a kept
    # connection the server had just given up for a new one (an inherent
    # FastCGI keep-alive race; the server makes it rare).  Each such retry
    # is counted, and bounded below.
    load = pm.Load(srv.addr, clients=CLIENTS, count=PER_CLIENT, retry_stale=True)
    done = load.run(timeout=180)
    pm.log("# %s" % load.summary())
    pm.check(done, "the load finished within the bounded wait")
    pm.check_eq(0, load.failed, "no request failed")
    pm.check(load.stale <= CLIENTS, "kept connections closed under a request: at most one per "
             "client (%d)" % load.stale)
    pm.check_eq(CLIENTS * PER_CLIENT, load.ok,
                "every request got its exact, request-specific answer")
    pids = sorted(int(p) for p in load.pids)
    pm.check_eq(workers, pids, "answers came from both workers (X-Pid)")
    pm.log("# requests per worker: %s" % load.pids)
    pm.log("# requests per (worker, thread): %s"
           % sorted(load.threads.values()))
    pm.check(len(load.threads) >= 4,
             "answers came from several threads (%d distinct)"
             % len(load.threads))
    st = srv.stats()
    total = sum(w["requests"] for w in st["workers"])
    pm.check_eq(CLIENTS * PER_CLIENT, total,
                "--stats request counters add up to the requests sent")
    pm.check_eq(0, sum(w["errors"] for w in st["workers"]),
                "--stats counts no errors")
    pm.check_eq(workers, pm.worker_pids(st), "the same two workers throughout")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


if __name__ == "__main__":
    pm.main(test_load)
