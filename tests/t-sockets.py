"""Listening sockets: -s unix:PATH, -s PATH, -s 127.0.0.1:PORT, -s [::1]:PORT,
--socket-mode (default 0660), --socket-owner, a stale socket file replaced,
a live one an error, --backlog, --fd N, and fd 0 (the spawn-fcgi /
FCGI_LISTENSOCK_FILENO contract), unix and TCP."""

import grp
import os
import pwd
import socket
import stat

import wftest as w
from wftest import check, eq

APP = w.app("hello")


def mode(path):
    return "%o" % stat.S_IMODE(os.stat(path).st_mode)


def status_of(addr):
    return w.fcgi.get(addr, timeout=30).status


def assert_serving(addr, what):
    eq(status_of(addr), 200, what)


def test_unix_path_and_default_mode():
    with w.serve(APP, name="unix") as s:
        assert_serving(s.addr, "-s unix:PATH serves")
        eq(mode(s.sock), "660", "default unix socket mode")
        check(stat.S_ISSOCK(os.stat(s.sock).st_mode), "unix:PATH is a socket")
        log = s.log()
        check("serving" in log, "start-up line says serving")
        check("[info]" in log, "start-up line at info level")
        # a live socket is an error; the first instance keeps working
        r = w.run([w.WSGI_FCGI, "-s", s.addr, APP], timeout=20)
        check(r.returncode != 0, "second instance on a live socket (exit %s)" % r.returncode)
        check(r.returncode != 124, "second instance on a live socket exited")
        eq(len([ln for ln in r.stderr.splitlines() if ln]), 1,
           "second instance: one line on stderr")
        assert_serving(s.addr, "first instance still serves after the refused second one")


def test_plain_path():
    with w.serve(APP, name="path", addr=w.tmp("b.sock")) as s:
        assert_serving("unix:" + w.tmp("b.sock"), "-s PATH serves")


def test_socket_mode():
    with w.serve(APP, ["--socket-mode", "0600"], name="mode") as s:
        eq(mode(s.sock), "600", "--socket-mode 0600")
        assert_serving(s.addr, "--socket-mode 0600 serves")
    with w.serve(APP, ["--socket-mode", "666"], name="mode666") as s:
        eq(mode(s.sock), "666", "--socket-mode 666")
        check("[warning]" in s.log(), "world-writable socket: a warning")


def test_socket_owner():
    """(needs root to give the socket away)"""
    w.need_root("--socket-owner gives the socket to another user")
    try:
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
    except KeyError:
        raise w.Skip("no user nobody or group nogroup")

    def owner(path):
        st = os.stat(path)
        return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    with w.serve(APP, ["--socket-owner", "nobody:nogroup"], name="owner") as s:
        eq(owner(s.sock), ("nobody", "nogroup"), "--socket-owner nobody:nogroup")
        eq(mode(s.sock), "660", "--socket-owner keeps mode 0660")
        assert_serving(s.addr, "--socket-owner: serves")
    with w.serve(APP, ["--socket-owner", "nobody"], name="owner2") as s:
        eq(owner(s.sock)[0], "nobody", "--socket-owner nobody")


def test_stale_socket_replaced():
    """A socket file nobody listens on is replaced."""
    path = w.tmp("stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    check(stat.S_ISSOCK(os.stat(path).st_mode), "made a stale socket file")
    with w.serve(APP, name="stale", addr="unix:" + path) as srv:
        assert_serving(srv.addr, "stale socket replaced")


def test_tcp():
    with w.serve(APP, name="tcp", tcp=True) as s:
        assert_serving(s.addr, "-s 127.0.0.1:PORT serves")
        r = w.run([w.WSGI_FCGI, "-s", s.addr, APP], timeout=20)
        check(r.returncode != 0, "second instance on a busy TCP port (exit %s)" % r.returncode)
        assert_serving(s.addr, "first TCP instance still serves")


def test_tcp6():
    if not w.have_ipv6():
        raise w.Skip("no IPv6 on lo; [::1]:PORT not tested")
    addr = "[::1]:%d" % w.free_port(socket.AF_INET6)
    with w.serve(APP, name="tcp6", addr=addr):
        assert_serving(addr, "-s [::1]:PORT serves")


def test_backlog():
    with w.serve(APP, ["--backlog", "7"], name="backlog") as s:
        assert_serving(s.addr, "--backlog 7 serves")


# A helper that makes the listening socket, puts it on fd N and execs
# wsgi-fcgi (as spawn-fcgi does).
EXEC_WITH_LISTENER = r"""
import os, socket, sys
fd, kind, where = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if kind == "unix":
    s = socket.socket(socket.AF_UNIX)
    s.bind(where)
else:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(where)))
s.listen(16)
if s.fileno() != fd:
    os.dup2(s.fileno(), fd)
    s.close()
os.set_inheritable(fd, True)
if fd != 0:
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
os.execv(sys.argv[4], sys.argv[4:])
"""


def inherited(name, fd, kind, where, args):
    addr = "unix:" + where if kind == "unix" else "127.0.0.1:%s" % where
    return w.Server(name=name, addr=addr,
                    argv=[w.PYTHON, "-c", EXEC_WITH_LISTENER, str(fd), kind, str(where),
                          w.WSGI_FCGI] + args + [APP])


def test_fd_option():
    s = inherited("fd5", 5, "unix", w.tmp("fd.sock"), ["--fd", "5"])
    assert_serving(s.addr, "--fd 5 serves")
    assert_serving(s.addr, "--fd 5 serves a second request")


def test_fd0_unix():
    s = inherited("fd0", 0, "unix", w.tmp("fd0.sock"), [])
    assert_serving(s.addr, "a listening socket on fd 0 is served")
    assert_serving(s.addr, "fd 0: a second request")


def test_fd0_tcp():
    s = inherited("fd0tcp", 0, "tcp", w.free_port(), [])
    assert_serving(s.addr, "a TCP listening socket on fd 0 is served")


if __name__ == "__main__":
    w.main()
