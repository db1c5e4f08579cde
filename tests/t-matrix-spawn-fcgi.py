"""Matrix cells: wsgi-fcgi started by spawn-fcgi, behind a real nginx
(contrib/nginx/wsgi-fcgi.conf).

  * spawn-fcgi -n -s SOCK -- wsgi-fcgi app.py: spawn-fcgi binds the socket
    and execs wsgi-fcgi with it on fd 0
  * spawn-fcgi -F 2 -P PIDFILE -s SOCK -- wsgi-fcgi app.py: two independent
    wsgi-fcgi processes accepting on the same socket; spawn-fcgi returns
"""

import os
import signal

import wftest as w
from wftest import suites, web

APP = w.app("matrix_app")


def test_spawn_fcgi_cells():
    spawn = w.need_program("/usr/bin/spawn-fcgi")
    w.need_program(web.NGINX)
    # --- -n: exec'd in the foreground
    s1 = w.tmp("n.sock")
    p1 = w.Server(name="spawn-n", addr="unix:" + s1,
                  argv=[spawn, "-n", "-s", s1, "--", w.WSGI_FCGI, APP])

    # --- -F 2: fork mode, two children, a pidfile
    s2, pidfile = w.tmp("f.sock"), w.tmp("f.pid")
    r = w.run([spawn, "-F", "2", "-P", pidfile, "-s", s2, "--", w.WSGI_FCGI, APP], timeout=60)
    pids = [int(x) for x in w.read(pidfile).split()]
    kids = [w.track_pid("spawn-F2-child%d" % i, pid) for i, pid in enumerate(pids)]
    w.label("spawn-fcgi -F 2")
    w.eq(r.returncode, 0, "spawn-fcgi -F 2 exit status (%s)"
         % (r.stdout + r.stderr).decode("latin-1").strip())
    w.eq(len(pids), 2, "spawn-fcgi -F 2 wrote two PIDs")
    if not w.wait_for(lambda: w.can_connect("unix:" + s2), 20):
        raise AssertionError("spawn-fcgi -F 2 socket: not ready after 20s")

    ports = {"n": w.free_port(), "F2": w.free_port()}
    web.start_nginx("nginx", [web.nginx_site("wsgi-fcgi.conf", ports["n"], "unix:" + s1,
                                             fake_https=True),
                              web.nginx_site("wsgi-fcgi.conf", ports["F2"], "unix:" + s2,
                                             fake_https=True)],
                    wait_path="/env")
    p1.record()

    suites.cell_checks("spawn-fcgi -n, nginx", ports["n"], "", "localhost")
    suites.cell_checks("spawn-fcgi -F 2, nginx", ports["F2"], "", "localhost")

    w.label("spawn-fcgi -F 2")
    for k in kids:
        w.check(k.running(), "child %d still serving after the suite" % k.pid)
        exe = os.path.realpath("/proc/%d/exe" % k.pid) if k.running() else None
        w.eq(exe, os.path.realpath(w.WSGI_FCGI), "child %d is wsgi-fcgi" % k.pid)
    # SIGTERM: each child exits by itself (status unknown: not our child)
    for k in kids:
        os.kill(k.pid, signal.SIGTERM)
    w.check(w.wait_for(lambda: not any(k.running() for k in kids), 20),
            "both -F 2 children exit on SIGTERM")
    w.label("spawn-fcgi -n")
    w.eq(p1.stop(signal.SIGTERM), 0,
         "spawn-fcgi -n (wsgi-fcgi exec'd): exit status 0 after SIGTERM")


if __name__ == "__main__":
    w.main()
