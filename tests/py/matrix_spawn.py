"""Matrix cells: wsgi-fcgi started by spawn-fcgi, behind a real nginx.

  * spawn-fcgi -n -s SOCK -- wsgi-fcgi app.py: spawn-fcgi binds the socket
    and execs wsgi-fcgi with it on fd 0
  * spawn-fcgi -F 2 -P PIDFILE -s SOCK -- wsgi-fcgi app.py: two independent
    wsgi-fcgi processes accepting on the same socket; spawn-fcgi returns
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix_common as mc  # noqa: E402
import matrix_nginx as mn  # noqa: E402

SPAWN = "/usr/bin/spawn-fcgi"
APP = os.path.join(mc.APPS, "matrix_app.py")


def run():
    # --- -n: exec'd in the foreground
    s1 = mc.path("n.sock")
    p1 = mc.start("spawn-n", [SPAWN, "-n", "-s", s1, "--", mc.WSGI_FCGI, APP])
    mc.wait_until(lambda: mc.can_connect("unix:" + s1), p1, 20, "spawn-fcgi -n socket")

    # --- -F 2: fork mode, two children, a pidfile
    s2 = mc.path("f.sock")
    pidfile = mc.path("f.pid")
    r = mc.subprocess.run([SPAWN, "-F", "2", "-P", pidfile, "-s", s2, "--", mc.WSGI_FCGI, APP],
                          stdout=mc.subprocess.PIPE, stderr=mc.subprocess.STDOUT, timeout=60)
    pids = []
    if os.path.exists(pidfile):
        pids = [int(x) for x in open(pidfile).read().split()]
    kids = [mc.track("spawn-F2-child%d" % i, pid) for i, pid in enumerate(pids)]
    mc._cell[0] = "spawn-fcgi -F 2"
    mc.eq(r.returncode, 0, "spawn-fcgi -F 2 exit status (%s)" % r.stdout.decode("latin-1").strip())
    mc.eq(len(pids), 2, "spawn-fcgi -F 2 wrote two PIDs")
    mc.wait_until(lambda: mc.can_connect("unix:" + s2), None, 20, "spawn-fcgi -F 2 socket")

    ports = {"n": mc.free_port(), "F2": mc.free_port()}
    servers = (mn.server_block(ports["n"], mn.fcgi_root_location("unix:" + s1)) +
               mn.server_block(ports["F2"], mn.fcgi_root_location("unix:" + s2)))
    ng = mn.nginx_start("nginx", servers)
    mc.wait_http(ports["n"], ng, "/env")
    p1.record()

    mc.cell_checks("spawn-fcgi -n, nginx", ports["n"], "", "localhost")
    mc.cell_checks("spawn-fcgi -F 2, nginx", ports["F2"], "", "localhost")

    mc._cell[0] = "spawn-fcgi -F 2"
    for k in kids:
        mc.check(k.running(), "child %d still serving after the suite" % k.pid)
        exe = os.path.realpath("/proc/%d/exe" % k.pid) if k.running() else None
        mc.eq(exe, os.path.realpath(mc.WSGI_FCGI), "child %d is wsgi-fcgi" % k.pid)
    # SIGTERM: each child exits by itself (status unknown: not our child)
    for k in kids:
        os.kill(k.pid, mc.signal.SIGTERM)
    gone = mc.wait_for(lambda: not any(k.running() for k in kids), 20)
    mc.check(gone, "both -F 2 children exit on SIGTERM")
    mc._cell[0] = "spawn-fcgi -n"
    rc = p1.stop()
    mc.eq(rc, 0, "spawn-fcgi -n (wsgi-fcgi exec'd): exit status 0 after SIGTERM")


if __name__ == "__main__":
    sys.exit(mc.main(run, needs=[SPAWN, mn.NGINX]))
