"""Kept connections and --protocol auto behind a real nginx (issue 9), every
server block rendered from contrib/nginx:

* --protocol auto: fastcgi_pass (contrib/nginx/wsgi-fcgi.conf) and scgi_pass
  (contrib/nginx/wsgi-scgi.conf) to ONE wsgi-fcgi socket, both served (the
  matrix request suite on each).
* contrib/nginx/wsgi-fcgi-keepalive.conf (upstream keepalive 32,
  fastcgi_keep_conn on) with 4 nginx worker processes in front of
  wsgi-fcgi -p 1 -t 1 and -p 2 -t 2: 20,000 mixed GET and POST requests
  (bodies of many sizes, echoed and checked) from 32 keep-alive clients,
  not one 502 and every answer right; wsgi-fcgi closed no connection and
  nginx did reuse them.  The same at -p 2 -t 2 --max-requests 400, where
  some 50 workers stop under the load and hand their kept connections to
  the others (a worker that closed them used to race nginx: a POST sent
  on a connection just closed is a 502).
* An empty 200 without Content-Length reaches the client with
  Content-Length: 0 and not chunked; a 204 has no Content-Length (with and
  without kept upstream connections).
"""

import hashlib
import http.client
import random
import re
import threading
import time

import wftest as w
from wftest import http_client as hc
from wftest import suites, web

APP = w.app("conn_app")


def metrics(srv):
    return w.metrics(srv.stats_addr)


# ------------------------------------------------------------------ --protocol auto

def test_auto_fastcgi_and_scgi_pass():
    w.need_file("/etc/nginx/scgi_params", "nginx-common")
    srv = w.Server(w.app("matrix_app"), ["--protocol", "auto", "-p", "1", "-t", "1"],
                   name="auto")
    fport, sport = w.free_port(), w.free_port()
    sites = [web.nginx_site("wsgi-fcgi.conf", fport, srv.addr, fake_https=True),
             web.nginx_site("wsgi-scgi.conf", sport, srv.addr, fake_https=True)]
    web.start_nginx("nginx", sites, wait_port=fport, wait_path="/env")
    suites.cell_checks("auto: nginx fastcgi_pass", fport, "", "localhost")
    suites.cell_checks("auto: nginx scgi_pass", sport, "", "localhost")
    w.label("auto: which protocol")
    env = hc.request("GET", fport, "/env").json()
    eq_gw = env.get("GATEWAY_INTERFACE")
    w.check(env.get("SCGI") is None and eq_gw == "CGI/1.1",
            "fastcgi_pass arrived as FastCGI (GATEWAY_INTERFACE, no SCGI)", repr(env)[:300])
    env = hc.request("GET", sport, "/env").json()
    w.eq(env.get("SCGI"), "1", "scgi_pass arrived as SCGI (SCGI=1)")
    for i in range(20):    # alternating, each on a new upstream connection
        port = fport if i % 2 else sport
        body = b"auto %d " % i * (i * 50 + 1)
        r = hc.request("POST", port, "/upload", body=body)
        if not w.eq((r.status, r.json() if r.status == 200 else r.body),
                    (200, {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}),
                    "POST %d through %s" % (i, "fastcgi_pass" if port == fport else "scgi_pass")):
            break
    w.check(srv.running(), "wsgi-fcgi still running")
    w.no_worker_died(srv)
    w.eq(srv.stop(), 0, "wsgi-fcgi: SIGTERM, exit status 0")


# ------------------------------------------------------------------ 20,000 through keepalive

TOTAL = 20000
CLIENTS = 32
SIZES = [0, 1, 17, 100, 1000, 4096, 8191, 8192, 8193, 10000, 16385, 65536 + 7]


class Mixed:
    """CLIENTS threads, each with its own keep-alive HTTP connection to
    nginx, sending TOTAL requests in all: every other one a GET /echo with
    a query, the others POST /echo with a body (sizes from SIZES, and a
    200 KiB one now and then); every answer must be the 200 with
    b"echo QUERY BODY"."""

    def __init__(self, port, total=TOTAL, clients=CLIENTS, limit=600):
        self.port = port
        self.total = total
        self.clients = clients
        self.deadline = time.monotonic() + limit
        self.lock = threading.Lock()
        self.next = 0
        self.ok = 0
        self.status = {}
        self.wrong = []
        self.errors = []

    def _take(self):
        with self.lock:
            if self.next >= self.total or time.monotonic() > self.deadline:
                return None
            self.next += 1
            return self.next - 1

    def _client(self, k):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        rnd = random.Random(k)
        while True:
            i = self._take()
            if i is None:
                break
            query = "c=%d&i=%d&r=%d" % (k, i, rnd.getrandbits(30))
            if i % 2 == 0:
                method, body = "GET", None
            else:
                size = 200 * 1024 + i % 1000 if i % 97 == 1 else SIZES[(i // 2) % len(SIZES)]
                method, body = "POST", rnd.randbytes(size)
            try:
                conn.request(method, "/echo?" + query, body=body,
                             headers={"Content-Type": "application/octet-stream"} if body
                             is not None else {})
                r = conn.getresponse()
                data = r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                with self.lock:
                    self.errors.append((i, method, repr(e)))
                continue
            expect = b"echo " + query.encode() + b" " + (body or b"")
            with self.lock:
                self.status[status] = self.status.get(status, 0) + 1
                if status == 200 and data == expect:
                    self.ok += 1
                else:
                    self.wrong.append((i, method, len(body or b""), status, data[:200]))
        conn.close()

    def run(self):
        threads = [threading.Thread(target=self._client, args=(k,), daemon=True)
                   for k in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, self.deadline - time.monotonic() + 60))
        return not any(t.is_alive() for t in threads)


def keepalive_case(args):
    cell = "wsgi-fcgi " + " ".join(args)
    w.label(cell)
    srv = w.Server(APP, args + web.owner_args(), name="kept" + "".join(args).replace("-", ""),
                   stats=True)
    port = w.free_port()
    ng = web.start_nginx("nginx" + "".join(args).replace("-", ""),
                         [web.nginx_site("wsgi-fcgi-keepalive.conf", port, srv.addr)],
                         workers=4, wait_path="/echo?warm")
    w.eq(len(w.wait_for(lambda: len(w.children(ng.pid)) == 4 and w.children(ng.pid), 10)
               or w.children(ng.pid)), 4, "nginx runs 4 worker processes")
    before = metrics(srv)
    load = Mixed(port)
    t0 = time.monotonic()
    finished = load.run()
    took = time.monotonic() - t0
    w.log("# %s: %d requests in %.1f s (%d ok), statuses %r, %d client errors"
          % (cell, load.next, took, load.ok, load.status, len(load.errors)))
    for x in load.wrong[:10] + load.errors[:10]:
        w.log("# %r" % (x,))
    w.check(finished, "the client threads finished (bounded)")
    w.eq(load.next, TOTAL, "all %d requests sent (within the 600 s bound)" % TOTAL)
    w.eq(load.status.get(502, 0), 0, "no 502")
    w.eq(load.errors, [], "no connection error between client and nginx")
    w.eq(load.ok, TOTAL, "every answer is the 200 with the echoed query and body")
    after = metrics(srv)

    def delta(name):
        return after.get(name, 0) - before.get(name, 0)
    accepted = delta("wsgi_fcgi_connections_accepted_total")
    w.log("# %s: wsgi-fcgi accepted %d connections for %d requests" % (cell, accepted, TOTAL))
    w.check(accepted <= TOTAL // 10, "nginx reused its kept connections (%d accepted for %d "
            "requests)" % (accepted, TOTAL))
    for reason in ("header_timeout", "evicted", "refused"):
        w.eq(delta('wsgi_fcgi_connections_closed_total{reason="%s"}' % reason), 0,
             "wsgi-fcgi closed no connection (%s)" % reason)
    errlog = web.nginx_error_log(ng)
    bad = [ln for ln in errlog.splitlines() if re.search(r"\[(error|crit|alert|emerg)\]", ln)]
    w.eq(bad[:5], [], "nothing in nginx's error log at level error or above")
    w.check(srv.running(), "wsgi-fcgi still running")
    ng.stop()
    w.untrack(ng)
    w.no_worker_died(srv)
    w.eq(srv.stop(), 0, "wsgi-fcgi: SIGTERM, exit status 0")
    w.untrack(srv)


def test_keepalive_p1_t1():
    keepalive_case(["-p", "1", "-t", "1"])


def test_keepalive_p2_t2():
    keepalive_case(["-p", "2", "-t", "2"])


def test_keepalive_while_workers_recycle():
    # Some 50 workers stop under the load and hand their kept connections
    # over: nginx sees none closed, so no POST becomes a 502.
    keepalive_case(["-p", "2", "-t", "2", "--max-requests", "400"])


# ------------------------------------------------------------------ empty bodies

def test_empty_body_content_length():
    srv = w.Server(APP, ["-p", "1", "-t", "1"], name="empty")
    plain, kept = w.free_port(), w.free_port()
    web.start_nginx("nginx", [web.nginx_site("wsgi-fcgi.conf", plain, srv.addr),
                              web.nginx_site("wsgi-fcgi-keepalive.conf", kept, srv.addr)])
    for port, what in ((plain, "wsgi-fcgi.conf"), (kept, "wsgi-fcgi-keepalive.conf")):
        w.label(what)
        for path in ("/empty", "/empty-gen"):
            for proto in ("HTTP/1.1", "HTTP/1.0"):
                r = hc.request("GET", port, path, protocol=proto)
                what_ = "%s %s" % (path, proto)
                w.eq((r.status, r.body), (200, b""), "%s: an empty 200" % what_)
                w.eq(r.header("Content-Length"), "0", "%s: Content-Length: 0" % what_)
                w.eq(r.header("Transfer-Encoding"), None, "%s: not chunked" % what_)
        r = hc.request("GET", port, "/nocontent")
        w.eq((r.status, r.body), (204, b""), "/nocontent: a 204 without a body")
        w.eq(r.header("Content-Length"), None, "/nocontent: no Content-Length")
        w.eq(r.header("Transfer-Encoding"), None, "/nocontent: not chunked")
        r = hc.request("GET", port, "/echo?after")
        w.eq((r.status, r.body), (200, b"echo after "), "a request afterwards")
    w.label(None)
    w.no_worker_died(srv)
    w.eq(srv.stop(), 0, "wsgi-fcgi: SIGTERM, exit status 0")


if __name__ == "__main__":
    w.main()
