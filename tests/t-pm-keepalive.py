"""kept FastCGI connections never starve new ones.

* -p 1 -t 2 with 6 kept connections (each sends one request with
  FCGI_KEEP_CONN, then idles): new connections are all served.
* The same after a worker was SIGKILLed while one of its threads waited in
  accept (the count of threads idle in accept, shared by all workers, must
  not keep counting a dead worker's thread).
* Through a real nginx (upstream keepalive 16, fastcgi_keep_conn on) in
  front of -p 2 -t 2: 8 parallel curl loops, no request error."""

import os
import signal
import subprocess

import wftest as w
from wftest.load import pm_server
from wftest import fcgi as fc
from wftest import web

CURL = "/usr/bin/curl"


def hold_kept(srv, n):
    """n connections, each with one answered request sent with
    FCGI_KEEP_CONN, left open and idle."""
    conns = []
    for i in range(n):
        c = fc.Connection(srv.addr, 15)
        r = c.request(fc.default_params("GET", "/echo", "kept=%d" % i), keep=True)
        conns.append((c, r))
    return conns


def new_connections_served(srv, what, n=6):
    served = 0
    for i in range(n):
        r = fc.get(srv.addr, "/echo", "new=%d" % i, timeout=10)
        if r.status == 200 and bytes(r.body) == b"echo new=%d " % i:
            served += 1
        else:
            w.log("# new connection %d: %r" % (i, r))
            break    # one unanswered is enough; keep the test short
    w.eq(served, n, "%s: all %d new connections served (bounded wait 10 s each)"
         % (what, n))


def test_kept_do_not_starve_new():
    srv = pm_server("kept", ["-p", "1", "-t", "2"])
    conns = hold_kept(srv, 6)
    w.check(all(r.status == 200 for _, r in conns),
            "6 kept connections got their first answer",
             [r.status for _, r in conns])
    new_connections_served(srv, "6 idle kept connections on 2 threads")
    # A kept connection still open can be used again, or was closed by the
    # server in favour of a new one: both are fine; never a hang.
    for c, _ in conns:
        c.close()
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_after_worker_killed_in_accept():
    srv = pm_server("kept-kill", ["-p", "1", "-t", "2"])
    old = w.ready_pids(srv.stats())
    # Both threads idle: one of them waits in accept.  Kill the worker.
    os.kill(old[0], signal.SIGKILL)

    def new_ready():
        p = w.ready_pids(srv.stats())
        return p if len(p) == 1 and p != old else None
    w.check(w.wait_for(new_ready, 20), "the killed worker was replaced")
    conns = hold_kept(srv, 2)
    w.check(all(r.status == 200 for _, r in conns),
            "2 kept connections got their first answer")
    new_connections_served(srv, "after a worker died waiting in accept", n=3)
    for c, _ in conns:
        c.close()
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_nginx_keepalive():
    w.need_program(CURL)
    srv = pm_server("nginx-app", ["-p", "2", "-t", "2"])
    port = w.free_port()
    # contrib/nginx/wsgi-fcgi.conf passing to an upstream with kept
    # connections (keepalive 16) and fastcgi_keep_conn on.
    site = web.nginx_site("wsgi-fcgi.conf", port, "app", keep_conn=True)
    ngx = web.start_nginx("nginx", [site],
                          http_extra="upstream app { server %s; keepalive 16; }" % srv.addr)
    url = "http://127.0.0.1:%d" % port
    w.check(ngx.running(), "nginx answers")

    loops, per = 8, 250
    procs = []
    for c in range(loops):
        # URL globbing: one curl, one client connection, per requests
        procs.append(subprocess.Popen(
            [CURL, "-s", "--max-time", "60", "-o", "/dev/null",
             "-w", "%{http_code} %{size_download} %{url_effective}\\n",
             "%s/echo?c=%d&n=[1-%d]" % (url, c, per)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    ok = bad = 0
    for c, p in enumerate(procs):
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        for line in out.decode().splitlines():
            code, size, u = line.split(" ", 2)
            query = u.split("?", 1)[1]
            if code == "200" and int(size) == len("echo %s " % query):
                ok += 1
            else:
                bad += 1
                if bad <= 10:
                    w.log("# bad: %s" % line)
    w.log("# through nginx: %d ok, %d bad of %d" % (ok, bad, loops * per))
    w.eq(ok, loops * per, "8 curl loops x %d through nginx: every answer "
         "200 with the exact body size" % per)
    st = srv.stats()
    w.eq(len(w.ready_pids(st)), 2, "still two workers")
    closed = web.error_log(ngx).count("upstream prematurely closed")
    w.log("# nginx error log: %d 'upstream prematurely closed' (requests "
          "nginx retried on a new connection)" % closed)
    ngx.stop(signal.SIGQUIT)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
