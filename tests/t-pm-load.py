"""8 concurrent keep-alive clients x 2,000 requests against
-p 2 -t 4: every answer byte-correct, from several threads, both workers
taking connections, and the --stats request counters add up to what was sent."""

import wftest as w
from wftest.load import Load, every_worker_serves, pm_server

CLIENTS = 8
PER_CLIENT = 2000


def test_load():
    srv = pm_server("load", ["-p", "2", "-t", "4"])
    workers = w.ready_pids(srv.stats())
    w.eq(len(workers), 2, "two workers ready")
    # No retry: a worker that runs closes no kept connection.
    load = Load(srv.addr, clients=CLIENTS, count=PER_CLIENT)
    done = load.run(timeout=180)
    w.log("# %s" % load.summary())
    w.check(done, "the load finished within the bounded wait")
    w.eq(load.failed, 0, "no request failed")
    w.eq(load.reconnects, 0, "no kept connection was closed by the server")
    w.eq(load.ok, CLIENTS * PER_CLIENT,
         "every request got its exact, request-specific answer")
    w.log("# requests per worker: %s" % load.pids)
    w.log("# requests per (worker, thread): %s"
          % sorted(load.threads.values()))
    w.check(len(load.threads) >= 4,
            "answers came from several threads (%d distinct)"
            % len(load.threads))
    st = srv.stats()
    total = sum(wk["requests"] for wk in st["workers"])
    w.eq(total, CLIENTS * PER_CLIENT,
         "--stats request counters add up to the requests sent")
    w.eq(sum(wk["errors"] for wk in st["workers"]), 0,
         "--stats counts no errors")
    w.eq(w.worker_pids(st), workers, "the same two workers throughout")
    # Which worker a kept connection lands on depends on timing; that both
    # take connections from the shared socket does not.
    w.check(every_worker_serves(srv, workers, threads=4), "answers came from both workers")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
