"""Under spawn-fcgi: -n (exec'd in the foreground, socket on fd 0), fork
mode with a pidfile, a TCP socket, a broken app (spawn-fcgi reports it, or
the child is gone at once), and contrib/spawn-fcgi.sh as shipped, in both
modes."""

import os
import re
import signal

import wftest as w
from wftest import check, eq

APP = w.app("hello")
SPAWN = None


def setup():
    global SPAWN
    SPAWN = w.need_program("spawn-fcgi")


def assert_serving(addr, what):
    eq(w.fcgi.get(addr, timeout=30).status, 200, what)


def test_foreground():
    """-n: spawn-fcgi binds, then execs wsgi-fcgi with the socket on fd 0."""
    setup()
    sock = w.tmp("n.sock")
    s = w.Server(name="spawn-n", addr="unix:" + sock,
                 argv=[SPAWN, "-n", "-s", sock, "--", w.WSGI_FCGI, APP])
    assert_serving(s.addr, "spawn-fcgi -n: serves")
    assert_serving(s.addr, "spawn-fcgi -n: serves again")
    eq(s.stop(), 0, "spawn-fcgi -n: exit status after SIGTERM")


def test_fork_mode():
    """spawn-fcgi forks the child and exits; the pidfile names it."""
    setup()
    sock, pidfile = w.tmp("f.sock"), w.tmp("f.pid")
    r = w.run([SPAWN, "-s", sock, "-P", pidfile, "--", w.WSGI_FCGI, APP], timeout=30)
    eq(r.returncode, 0, "spawn-fcgi (fork mode) exit status")
    pid = w.read(pidfile).strip()
    m = re.search(rb"PID: *(\d+)", r.stdout + r.stderr)
    if not check(pid, "spawn-fcgi wrote a pidfile", repr(r.stdout + r.stderr)):
        return
    child = w.track_pid("spawn-fork-child", int(pid))
    eq(pid, m.group(1).decode() if m else None, "spawn-fcgi pidfile matches the PID it printed")
    if check(w.wait_for(lambda: w.can_connect("unix:" + sock) or not child.running(), 20)
             and child.running(), "spawn-fcgi fork mode: listening"):
        assert_serving("unix:" + sock, "spawn-fcgi fork mode: serves")
    child.stop()
    check(not child.running(), "spawn-fcgi child %s gone after SIGTERM" % pid)


def test_tcp():
    setup()
    port = w.free_port()
    s = w.Server(name="spawn-tcp", addr="127.0.0.1:%d" % port,
                 argv=[SPAWN, "-n", "-a", "127.0.0.1", "-p", str(port), "--", w.WSGI_FCGI, APP])
    assert_serving(s.addr, "spawn-fcgi -n on 127.0.0.1:PORT: serves")


def test_broken_app():
    """spawn-fcgi reports the failure, or its child is gone."""
    setup()
    pidfile = w.tmp("bad.pid")
    r = w.run([SPAWN, "-s", w.tmp("bad.sock"), "-P", pidfile, "--", w.WSGI_FCGI,
               w.app("bad_syntax")], timeout=30)
    if r.returncode != 0:
        w.ok("spawn-fcgi reports a child that cannot load its app (exit %d)" % r.returncode)
        return
    pid = w.read(pidfile).strip()
    if not check(pid, "spawn-fcgi returned 0 and wrote a pidfile for the broken app"):
        return
    child = w.track_pid("spawn-bad-child", int(pid))
    check(w.wait_for(lambda: not child.running(), 10),
          "a child that cannot load its app exits (after spawn-fcgi's 100 ms)")


def test_contrib_script_fork_mode():
    """contrib/spawn-fcgi.sh as shipped: fork mode, WSGI_FCGI_ARGS passed."""
    setup()
    sock, pidfile = w.tmp("contrib.sock"), w.tmp("contrib.pid")
    r = w.run(["sh", os.path.join(w.CONTRIB, "spawn-fcgi.sh")], timeout=30,
              env={"WSGI_FCGI": w.WSGI_FCGI, "APP": w.app("echo_environ"), "SOCKET": sock,
                   "SOCKET_USER": "", "PIDFILE": pidfile, "WSGI_FCGI_ARGS": "--threads 2"})
    eq(r.returncode, 0, "contrib/spawn-fcgi.sh exit status")
    pid = w.read(pidfile).strip()
    if not check(pid, "contrib/spawn-fcgi.sh: a pidfile", repr(r.stdout + r.stderr)):
        return
    child = w.track_pid("contrib-child", int(pid))
    if check(w.wait_for(lambda: w.can_connect("unix:" + sock) or not child.running(), 20)
             and child.running(), "contrib/spawn-fcgi.sh: serving"):
        eq("%o" % (os.stat(sock).st_mode & 0o777), "660", "contrib/spawn-fcgi.sh: socket mode 0660")
        body = bytes(w.fcgi.get("unix:" + sock, timeout=30).body)
        check(b'"wsgi.multithread": true' in body,
              "contrib/spawn-fcgi.sh: WSGI_FCGI_ARGS passed (--threads 2)")
    child.stop(signal.SIGTERM)


def test_contrib_script_foreground():
    setup()
    sock = w.tmp("contrib-n.sock")
    s = w.Server(name="contrib-n", addr="unix:" + sock,
                 argv=["sh", os.path.join(w.CONTRIB, "spawn-fcgi.sh")],
                 env={"WSGI_FCGI": w.WSGI_FCGI, "APP": APP, "SOCKET": sock, "SOCKET_USER": "",
                      "FOREGROUND": "1"})
    assert_serving(s.addr, "contrib/spawn-fcgi.sh FOREGROUND=1: serves")


if __name__ == "__main__":
    w.main()
