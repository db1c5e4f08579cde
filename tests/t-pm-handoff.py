"""A stopping worker hands its kept FastCGI connections to the workers that
go on, so a reload or a recycle closes none under the web server.

A web server that keeps connections (nginx `keepalive` with
`fastcgi_keep_conn on`) reuses the connection it cached last, at once; a
close from a stopping worker races with the request it is already sending,
and FastCGI cannot announce the close.  nginx retries a GET on a fresh
connection, but a POST becomes a 502.

* Idle kept connections across a reload (SIGHUP, -p 2): every one of them
  answers its next request, from a new-generation worker, without a
  reconnect.
* A client that sends its next request the moment an answer ends (no
  retry, no pause) through reloads and through --max-requests recycling:
  no request fails, no kept connection is closed.
* When the whole server stops (SIGTERM to the master), kept connections are
  closed, not handed over: the client reads the end of the stream.
* A worker SIGTERMed on its own (not by the master) hands its connections to
  its siblings too."""

import os
import signal
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load, pm_server, write_version


def echo(conn, n):
    q = "n=%d" % n
    body = b"x" * (n % 200)
    r = conn.request(fc.default_params("POST", "/echo", q, body), body, keep=True, timeout=15)
    ok = r.ended and r.status == 200 and bytes(r.body) == b"echo " + q.encode() + b" " + body
    return r, ok


def test_idle_kept_connections_survive_a_reload():
    path = w.tmp("app.py")
    write_version(path, "one")
    srv = pm_server("idle", ["-p", "2", "-t", "1"], app=path)
    old = set(w.ready_pids(srv.stats()))
    conns = [fc.Connection(srv.addr, 15) for _ in range(12)]
    first = {}
    for i, c in enumerate(conns):
        r, ok = echo(c, i)
        w.check(ok, "kept connection %d answered before the reload" % i)
        first[i] = int(w.header(r, "X-Pid"))
    w.check(set(first.values()) <= old, "answered by the first generation")

    write_version(path, "two")
    srv.kill(signal.SIGHUP)
    w.check(w.wait_for(lambda: not any(w.alive(p) for p in old), 30),
            "the old workers exited")
    for i, c in enumerate(conns):
        try:
            r, ok = echo(c, 100 + i)
        except OSError as e:
            r, ok = None, False
            w.log("# connection %d: %s" % (i, e))
        w.check(ok, "kept connection %d answers after its worker stopped (%s)"
                % (i, None if r is None else "status=%s eof=%s reset=%s" %
                   (r.status, r.eof, r.reset)))
        if ok:
            w.eq(w.header(r, "X-Version"), "two", "connection %d: the new code" % i)
            w.check(int(w.header(r, "X-Pid")) not in old,
                    "connection %d: a new-generation worker answered" % i)
    for c in conns:
        c.close()
    w.check(w.log_has(srv, r"handed \d+ kept connections? over to the other workers"),
            "the stopping workers log the hand-over")
    w.check(w.log_has(srv, r"took over \d+ kept connections? from a stopping worker"),
            "the new workers log taking them over")
    handed = w.metrics(srv.stats_addr).get("wsgi_fcgi_connections_handed_over_total")
    w.check(handed is not None and handed >= len(conns),
            "/metrics: wsgi_fcgi_connections_handed_over_total counts them (%s)" % handed)
    w.no_worker_died(srv)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def no_retry_load(srv, what, action, clients=4):
    """Clients that send the next request the moment an answer ends, on
    kept connections, with no retry; action(load) runs while they do."""
    load = Load(srv.addr, clients=clients, retry_stale=False, max_body=300).start()
    w.check(load.wait_for(400), "%s: client loops running" % what)
    action(load)
    w.check(load.wait_for(load.total() + 400), "%s: the client loops go on" % what)
    load.stop()
    w.check(load.join(60), "%s: client loops stopped" % what)
    w.log("# %s: %s" % (what, load.summary()))
    for f in load.failures[:5]:
        w.log("# failure: %r" % (f,))
    w.eq(load.failed, 0, "%s: no request failed (no retry)" % what)
    w.eq(load.reconnects, 0, "%s: no kept connection was closed by the server" % what)
    return load


def test_busy_kept_connections_through_reloads():
    path = w.tmp("app.py")
    write_version(path, "v0")
    srv = pm_server("busy", ["-p", "2", "-t", "2"], app=path)

    def reloads(load):
        for k in range(1, 4):
            old = set(w.ready_pids(srv.stats()))
            write_version(path, "v%d" % k)
            srv.kill(signal.SIGHUP)
            w.check(w.wait_for(lambda: not any(w.alive(p) for p in old), 30),
                    "reload %d: the old workers exited" % k)

    load = no_retry_load(srv, "3 reloads", reloads)
    w.check(load.versions.get("v3", 0) > 0, "the last code answered")
    w.no_worker_died(srv)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_busy_kept_connections_through_recycling():
    srv = pm_server("recycle", ["-p", "2", "-t", "1", "--max-requests", "150"])

    def recycled(load):
        w.check(w.wait_for(lambda: len(load.pids) >= 12, 60),
                "workers recycled: 12 worker pids answered (%d)" % len(load.pids))

    no_retry_load(srv, "--max-requests 150", recycled, clients=3)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_worker_sigterm_hands_over_to_siblings():
    srv = pm_server("sibling", ["-p", "2", "-t", "1"])
    conns, pids = [], []
    deadline = time.monotonic() + 20
    # kept connections until both workers hold some
    while time.monotonic() < deadline and len(set(pids)) < 2 and len(conns) < 40:
        c = fc.Connection(srv.addr, 15)
        r, ok = echo(c, len(conns))
        w.check(ok, "connection %d answered" % len(conns))
        conns.append(c)
        pids.append(int(w.header(r, "X-Pid")))
    w.check(len(set(pids)) == 2, "both workers hold kept connections")
    victim = pids[0]
    os.kill(victim, signal.SIGTERM)
    w.check(w.wait_for(lambda: not w.alive(victim), 20), "the worker exited")
    for i, c in enumerate(conns):
        r, ok = echo(c, 1000 + i)
        w.check(ok, "connection %d answers after worker %d stopped" % (i, victim))
        if ok:
            w.check(int(w.header(r, "X-Pid")) != victim, "connection %d: another worker" % i)
    for c in conns:
        c.close()
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_shutdown_closes_kept_connections():
    srv = pm_server("shutdown", ["-p", "2", "-t", "1"])
    conns = [fc.Connection(srv.addr, 15) for _ in range(4)]
    for i, c in enumerate(conns):
        w.check(echo(c, i)[1], "connection %d answered" % i)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    for i, c in enumerate(conns):
        data, eof = c.read_until_eof(timeout=10)
        w.check(eof and not data, "connection %d: closed, with nothing more sent" % i)
        c.close()


if __name__ == "__main__":
    w.main(test_idle_kept_connections_survive_a_reload,
           test_busy_kept_connections_through_reloads,
           test_busy_kept_connections_through_recycling,
           test_worker_sigterm_hands_over_to_siblings,
           test_shutdown_closes_kept_connections, timeout=600)
