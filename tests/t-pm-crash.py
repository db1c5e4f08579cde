"""workers that die under load are replaced at once, and only
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

import wftest as w
from wftest.load import Load, pm_server
from wftest import fcgi as fc

THREADS = 4
CLIENTS = 8


def wait_two_new(srv, gone, timeout=30):
    """Wait until two workers are ready and none of them is in gone."""
    def ok():
        try:
            st = srv.stats()
        except (OSError, ValueError):
            return None
        pids = w.ready_pids(st)
        if len(pids) == 2 and not set(pids) & set(gone):
            return pids
        return None
    return w.wait_for(ok, timeout)


def fresh_ok(srv, what):
    r = fc.get(srv.addr, "/echo", "fresh=1", timeout=15)
    return w.check(r.status == 200 and bytes(r.body) == b"echo fresh=1 ",
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
    srv = pm_server("crash", ["-p", "2", "-t", str(THREADS)])
    before = w.ready_pids(srv.stats())
    load = Load(srv.addr, clients=CLIENTS, retry_stale=True).start()
    w.check(load.wait_for(1000), "load running (1,000 requests)")

    # --- kill -9 one worker
    victim = before[0]
    lost0, failed0 = load.lost_on.get(victim, 0), load.failed
    os.kill(victim, signal.SIGKILL)
    fresh_ok(srv, "a new connection is answered right after the kill -9")
    pids = wait_two_new(srv, [victim])
    w.check(pids, "the master replaced the killed worker (new pid in --stats)")
    w.log("# workers %s -> %s" % (before, pids))
    w.check(load.wait_for(2000), "the load goes on after the kill (2,000 more)")
    lost_kill = load.lost_on.get(victim, 0) - lost0 + load.failed - failed0
    w.log("# kill -9: %d request(s) lost with the killed worker; so far %d "
          "lost on idle kept connections of live workers (retried)"
          % (lost_kill, lost_elsewhere(load, [victim])))
    w.check(lost_kill <= CLIENTS,
            "kill -9: at most the %d requests in flight on that worker were "
            "lost (%d were)" % (CLIENTS, lost_kill))

    # --- a request that makes its worker _exit(3)
    before = pids or w.ready_pids(srv.stats())
    lost0 = dict(load.lost_on)
    failed0 = load.failed
    r = fc.get(srv.addr, "/exit", timeout=15)
    w.check(not r.ended, "the /exit request gets no complete answer", repr(r))
    fresh_ok(srv, "a new connection is answered right after the _exit(3)")

    def replaced():
        p = w.ready_pids(srv.stats())
        return p if len(p) == 2 and p != before else None
    pids = w.wait_for(replaced, 30)
    w.check(pids, "the worker that called _exit(3) was replaced")
    m = re.search(r"worker (\d+) exited with status 3", srv.text())
    w.check(m, "the log names the worker that exited with status 3")
    exited = int(m.group(1)) if m else 0
    w.check(load.wait_for(2000), "the load goes on after the _exit (2,000 more)")
    lost_exit = (load.lost_on.get(exited, 0) - lost0.get(exited, 0)
                 + load.failed - failed0)
    w.log("# os._exit(3) in worker %d: %d other request(s) lost with it"
          % (exited, lost_exit))
    # CLIENTS: the requests on the other connections that worker held.
    w.check(lost_exit <= CLIENTS,
            "_exit: at most the requests in flight on that worker were "
            "lost (%d were)" % lost_exit)
    w.eq(lost_elsewhere(load, [victim, exited]), 0,
         "no request lost on a connection to a live worker")
    load.stop()
    w.check(load.join(60), "clients stopped")
    w.log("# %s" % load.summary())
    w.log("# lost on reused connections, by the pid that had them: %s"
          % load.lost_on)
    w.check(load.failed <= 2 * THREADS,
            "no request failed but those in flight on the dead workers "
            "(%d failed)" % load.failed)
    w.check(load.ok >= 5000, "the service answered throughout (%d ok)" % load.ok)
    w.check("worker %d was killed by signal 9" % victim in srv.text(),
            "the log names the worker killed by signal 9")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def hostile(srv, name, data):
    before = w.ready_pids(srv.stats())
    res = fc.replay(srv.addr, data, timeout=10)
    w.log("# %s: %s" % (name, res))
    # Good requests right after, on new connections.
    for i in range(5):
        r = fc.get(srv.addr, "/echo", "after=%d" % i, timeout=15)
        if not w.check(r.status == 200 and bytes(r.body) == b"echo after=%d " % i,
                       "%s: good request %d answered right after" % (name, i), repr(r)):
            break
    pids = w.wait_for(lambda: len(w.ready_pids(srv.stats())) == 2 and
                      w.ready_pids(srv.stats()), 30)
    w.check(pids, "%s: two workers ready again" % name)
    w.log("# %s: workers %s -> %s (%s)" % (
        name, before, pids, "unchanged" if pids == before else "one replaced"))


def test_hostile_peers():
    srv = pm_server("hostile", ["-p", "2", "-t", "2"])
    load = Load(srv.addr, clients=2, pause=0.005).start()

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
    w.check(load.join(60), "background clients stopped")
    w.log("# background clients: %s" % load.summary())
    w.check(load.ok > 0, "background clients were answered")
    w.check(load.failed <= 2 * 2,
            "background clients: at most one worker's in-flight requests "
            "per hostile input failed (%d)" % load.failed)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_master_sigkill_leaves_no_orphans():
    """SPEC/issue 3: workers die with the master, even when it is SIGKILLed."""
    srv = pm_server("orphans", ["-p", "2", "-t", "2"])
    st = srv.stats()
    workers = w.ready_pids(st)
    w.check(len(workers) == 2, "two workers before the master is killed")
    srv.kill(signal.SIGKILL)
    srv.wait(10)
    gone = w.wait_for(lambda: not any(w.alive(p) for p in workers) or None, 10)
    w.check(gone, "every worker exited after the master was SIGKILLed (%s)" % workers)
    for p in workers:          # never leave one behind, even on failure
        if w.alive(p):
            os.kill(p, signal.SIGKILL)


if __name__ == "__main__":
    w.main(timeout=240)
