"""t-pm-keepalive: kept FastCGI connections never starve new ones.

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
import time

import pm_lib as pm
import fcgi_client as fc

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
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
        r = pm.get(srv.addr, "/echo", "new=%d" % i, timeout=10)
        if r.status == 200 and bytes(r.body) == b"echo new=%d " % i:
            served += 1
        else:
            pm.log("# new connection %d: %r" % (i, r))
            break    # one unanswered is enough; keep the test short
    pm.check_eq(n, served, "%s: all %d new connections served (bounded wait 10 s each)"
                % (what, n))


def test_kept_do_not_starve_new():
    srv = pm.Server("kept", ["-p", "1", "-t", "2"])
    conns = hold_kept(srv, 6)
    pm.check(all(r.status == 200 for _, r in conns),
             "6 kept connections got their first answer",
             [r.status for _, r in conns])
    new_connections_served(srv, "6 idle kept connections on 2 threads")
    # A kept connection still open can be used again, or was closed by the
    # server in favour of a new one: both are fine; never a hang.
    for c, _ in conns:
        c.close()
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


def test_after_worker_killed_in_accept():
    srv = pm.Server("kept-kill", ["-p", "1", "-t", "2"])
    old = pm.ready_pids(srv.stats())
    # Both threads idle: one of them waits in accept.  Kill the worker.
    os.kill(old[0], signal.SIGKILL)

    def new_ready():
        p = pm.ready_pids(srv.stats())
        return p if len(p) == 1 and p != old else None
    pm.check(pm.wait_until(new_ready, 20), "the killed worker was replaced")
    conns = hold_kept(srv, 2)
    pm.check(all(r.status == 200 for _, r in conns),
             "2 kept connections got their first answer")
    new_connections_served(srv, "after a worker died waiting in accept", n=3)
    for c, _ in conns:
        c.close()
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


def nginx_conf(t, port, sock):
    return """daemon off;
master_process off;
worker_processes 1;
pid %(t)s/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(t)s/temp/body;
    fastcgi_temp_path %(t)s/temp/fastcgi;
    proxy_temp_path %(t)s/temp/proxy;
    uwsgi_temp_path %(t)s/temp/uwsgi;
    scgi_temp_path %(t)s/temp/scgi;
    upstream app {
        server unix:%(sock)s;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_NAME "";
            fastcgi_param PATH_INFO $uri;
            fastcgi_keep_conn on;
            fastcgi_pass app;
        }
    }
}
""" % {"t": t, "port": port, "sock": sock}


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_nginx_keepalive():
    pm.need(NGINX)
    pm.need(CURL)
    if not os.path.exists("/etc/nginx/fastcgi_params"):
        raise pm.Skip("/etc/nginx/fastcgi_params missing")
    srv = pm.Server("nginx-app", ["-p", "2", "-t", "2"])
    t = pm.tmpdir()
    os.makedirs(os.path.join(t, "temp"), exist_ok=True)
    port = free_port()
    conf = pm.tmp("nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(t, port, srv.sock))
    ngx = pm.spawn("nginx", [NGINX, "-p", t, "-c", conf, "-e", "stderr"])
    url = "http://127.0.0.1:%d" % port

    def up():
        if ngx.poll() is not None:
            raise AssertionError("nginx exited: %s" % ngx.returncode)
        return subprocess.run([CURL, "-s", "-o", "/dev/null", "--max-time", "2",
                               url + "/"]).returncode == 0
    pm.check(pm.wait_until(up, 20), "nginx answers")

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
                    pm.log("# bad: %s" % line)
    pm.log("# through nginx: %d ok, %d bad of %d" % (ok, bad, loops * per))
    pm.check_eq(loops * per, ok, "8 curl loops x %d through nginx: every answer "
                "200 with the exact body size" % per)
    st = srv.stats()
    pm.check_eq(2, len(pm.ready_pids(st)), "still two workers")
    with open(ngx.log_path, "rb") as f:
        nlog = f.read().decode("utf-8", "replace")
    closed = nlog.count("upstream prematurely closed")
    pm.log("# nginx error log: %d 'upstream prematurely closed' (requests "
           "nginx retried on a new connection)" % closed)
    pm.stop_other(ngx, signal.SIGQUIT)
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


if __name__ == "__main__":
    pm.main(test_kept_do_not_starve_new, test_after_worker_killed_in_accept,
            test_nginx_keepalive)
