"""t-pm-crash: workers that die under load are replaced at once, and only
the requests in flight on the dead worker may fail.

* kill -9 of a worker while 8 kept clients run against -p 2 -t 4;
* a request whose application calls os._exit(3);
* SIGKILL of the master: its workers die with it (no orphans);
* hostile FastCGI peers (LIBFCGI.md 1 and 2): a PARAMS pair declaring a
  1 GiB name, and FCGI_GET_VALUES naming FCGI_MAX_CONNS four times.  The
  server may refuse them before libfcgi parses them or lose that worker;
  either way good requests are answered right after and the workers are
  back to two."""

import os
import re
import signal
import struct
import time

import pm_lib as pm
import fcgi_client as fc

THREADS = 4
CLIENTS = 8


def wait_two_new(srv, gone, timeout=30):
    """Wait until two workers are ready and none of them is in gone."""
    def ok():
        try:
            st = srv.stats()
        except (OSError, ValueError):
            return None
        pids = pm.ready_pids(st)
        if len(pids) == 2 and not set(pids) & set(gone):
            return pids
        return None
    return pm.wait_until(ok, timeout)


def fresh_ok(srv, what):
    r = pm.get(srv.addr, "/echo", "fresh=1", timeout=15)
    return pm.check(r.status == 200 and bytes(r.body) == b"echo fresh=1 ",
                    what, repr(r))


def lost_elsewhere(load, dead):
    return sum(n for p, n in load.lost_on.items() if p not in dead)


def test_kill9_and_exit_under_load():
    """Clients retry, once, a request that got no byte of answer on a
    reused kept connection (as nginx does for its cached connections).  A
    worker's requests in flight are those on the connections it holds
    (being served, or their head read and waiting for a thread): a worker
    may hold more kept connections than it has threads.  What is asserted:
    requests lost on connections to the dead worker, plus requests on new
    connections that got no answer, <= the connections it can hold (one per
    client); no request is lost on a live worker's connection (live workers
    never close an idle kept connection under --max-connections); every
    other request is answered (after the retry)."""
    srv = pm.Server("crash", ["-p", "2", "-t", str(THREADS)])
    before = pm.ready_pids(srv.stats())
    load = pm.Load(srv.addr, clients=CLIENTS, retry_stale=True).start()
    pm.check(load.wait_for(1000), "load running (1,000 requests)")

    # --- kill -9 one worker
    victim = before[0]
    lost0, failed0 = load.lost_on.get(victim, 0), load.failed
    os.kill(victim, signal.SIGKILL)
    fresh_ok(srv, "a new connection is answered right after the kill -9")
    pids = wait_two_new(srv, [victim])
    pm.check(pids, "the master replaced the killed worker (new pid in --stats)")
    pm.log("# workers %s -> %s" % (before, pids))
    pm.check(load.wait_for(2000), "the load goes on after the kill (2,000 more)")
    lost_kill = load.lost_on.get(victim, 0) - lost0 + load.failed - failed0
    pm.log("# kill -9: %d request(s) lost with the killed worker; so far %d "
           "lost on idle kept connections of live workers (retried)"
           % (lost_kill, lost_elsewhere(load, [victim])))
    pm.check(lost_kill <= CLIENTS,
             "kill -9: at most the %d requests in flight on that worker were "
             "lost (%d were)" % (CLIENTS, lost_kill))

    # --- a request that makes its worker _exit(3)
    before = pids or pm.ready_pids(srv.stats())
    lost0 = dict(load.lost_on)
    failed0 = load.failed
    r = pm.get(srv.addr, "/exit", timeout=15)
    pm.check(not r.ended, "the /exit request gets no complete answer", repr(r))
    fresh_ok(srv, "a new connection is answered right after the _exit(3)")

    def replaced():
        p = pm.ready_pids(srv.stats())
        return p if len(p) == 2 and p != before else None
    pids = pm.wait_until(replaced, 30)
    pm.check(pids, "the worker that called _exit(3) was replaced")
    m = re.search(r"worker (\d+) exited with status 3", srv.log_text())
    pm.check(m, "the log names the worker that exited with status 3")
    exited = int(m.group(1)) if m else 0
    pm.check(load.wait_for(2000), "the load goes on after the _exit (2,000 more)")
    lost_exit = (load.lost_on.get(exited, 0) - lost0.get(exited, 0)
                 + load.failed - failed0)
    pm.log("# os._exit(3) in worker %d: %d other request(s) lost with it"
           % (exited, lost_exit))
    # CLIENTS: the requests on the other connections that worker held.
    pm.check(lost_exit <= CLIENTS,
             "_exit: at most the requests in flight on that worker were "
             "lost (%d were)" % lost_exit)
    pm.check_eq(0, lost_elsewhere(load, [victim, exited]),
                "no request lost on a connection to a live worker")
    load.stop()
    pm.check(load.join(60), "clients stopped")
    pm.log("# %s" % load.summary())
    pm.log("# lost on reused connections, by the pid that had them: %s"
           % load.lost_on)
    pm.check(load.failed <= 2 * THREADS,
             "no request failed but those in flight on the dead workers "
             "(%d failed)" % load.failed)
    pm.check(load.ok >= 5000, "the service answered throughout (%d ok)" % load.ok)
    pm.check("worker %d was killed by signal 9" % victim in srv.log_text(),
             "the log names the worker killed by signal 9")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


def hostile(srv, name, data):
    before = pm.ready_pids(srv.stats())
    res = fc.replay(srv.addr, data, timeout=10)
    pm.log("# %s: %s" % (name, res))
    # Good requests right after, on new connections.
    for i in range(5):
        r = pm.get(srv.addr, "/echo", "after=%d" % i, timeout=15)
        if not pm.check(r.status == 200 and bytes(r.body) == b"echo after=%d " % i,
                        "%s: good request %d answered right after" % (name, i), repr(r)):
            break
    pids = pm.wait_until(lambda: len(pm.ready_pids(srv.stats())) == 2 and
                         pm.ready_pids(srv.stats()), 30)
    pm.check(pids, "%s: two workers ready again" % name)
    pm.log("# %s: workers %s -> %s (%s)" % (
        name, before, pids, "unchanged" if pids == before else "one replaced"))


def test_hostile_peers():
    srv = pm.Server("hostile", ["-p", "2", "-t", "2"])
    load = pm.Load(srv.addr, clients=2, pause=0.005).start()

    # 1. a PARAMS pair declaring a 1 GiB name (0x40000000), 1-byte value
    pair = struct.pack("!IB", 0x40000000 | 0x80000000, 1) + b"A" * 100
    data = (fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
            + fc.record(fc.PARAMS, 1, pair))
    hostile(srv, "1 GiB PARAMS name", data)

    # 2. FCGI_GET_VALUES naming FCGI_MAX_CONNS four times, then more bytes
    # (libfcgi answers a lone GET_VALUES only when more arrive)
    gv = fc.encode_params([(b"FCGI_MAX_CONNS", b"")] * 4)
    data = (fc.record(fc.GET_VALUES, 0, gv)
            + fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body())
            + b"".join(fc.stream_records(fc.PARAMS, 1, fc.encode_params(
                fc.default_params()))) + fc.record(fc.STDIN, 1, b""))
    hostile(srv, "GET_VALUES x4 FCGI_MAX_CONNS", data)

    load.stop()
    pm.check(load.join(60), "background clients stopped")
    pm.log("# background clients: %s" % load.summary())
    pm.check(load.ok > 0, "background clients were answered")
    pm.check(load.failed <= 2 * 2,
             "background clients: at most one worker's in-flight requests "
             "per hostile input failed (%d)" % load.failed)
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


def test_master_sigkill_leaves_no_orphans():
    """SPEC/issue 3: workers die with the master, even when it is SIGKILLed."""
    srv = pm.Server("orphans", ["-p", "2", "-t", "2"])
    st = srv.stats()
    workers = pm.ready_pids(st)
    pm.check(len(workers) == 2, "two workers before the master is killed")
    srv.kill(signal.SIGKILL)
    srv.proc.wait(10)
    gone = pm.wait_until(lambda: not any(pm.alive(p) for p in workers) or None, 10)
    pm.check(gone, "every worker exited after the master was SIGKILLed (%s)" % workers)
    for p in workers:          # never leave one behind, even on failure
        if pm.alive(p):
            os.kill(p, signal.SIGKILL)


if __name__ == "__main__":
    pm.main(test_kill9_and_exit_under_load, test_hostile_peers, test_master_sigkill_leaves_no_orphans)
