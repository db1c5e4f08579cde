"""SPEC: --allow-from ADDR[/BITS] and FCGI_WEB_SERVER_ADDRS: only these peers
may use a TCP socket; others are closed at accept and logged.  A TCP socket
reachable from other hosts without an allow-list gets a warning at start-up.

* --allow-from 10.0.0.0/8 refuses 127.0.0.1 (closed, log line);
  --allow-from 127.0.0.1 (and 127.0.0.0/8, and a list) serves it;
* FCGI_WEB_SERVER_ADDRS likewise (comma-separated);
* 0.0.0.0 without an allow-list: a warning naming the socket; with one, or
  on 127.0.0.1: none;
* IPv6 ::1 (when the host has it): allowed by ::1, refused by a v4-only
  list or another v6 prefix; a dual-stack [::] socket sees 127.0.0.1 as
  ::ffff:127.0.0.1 and still matches the IPv4 entry;
* a unix socket: the list does not apply (warning), requests are served.
"""

import contextlib
import re
import socket

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc

APP = w.app("conn_app")
EXPOSED = r"accepts connections from other hosts and no --allow-from is set"


def refused(addr, what):
    """A request to addr gets no answer: the connection is closed at once."""
    try:
        c = fc.Connection(addr, 15)
    except OSError as e:
        w.ok("%s: connection refused at connect (%s)" % (what, e))
        return
    try:
        r = c.request(fc.default_params("GET", "/echo", "acl=1"), timeout=15)
    except OSError:
        r = None
    finally:
        c.close()
    if r is None:
        w.ok("%s: connection broken by the server" % what)
        return
    check(r.status is None and not r.ended and (r.eof or r.reset) and not r.timeout,
          "%s: closed by the server without an answer" % what, repr(r))


def served(addr, what, n=3):
    for i in range(n):
        r = fc.get(addr, "/echo", "acl=%d" % i, timeout=15)
        if not eq(bytes(r.body), b"echo acl=%d " % i, "%s: request %d served" % (what, i)):
            return


def refusal_logged(s, peer):
    return check(w.log_has(s, r"\[warning\] refused \d+ connections? from %s.*not in "
                           r"--allow-from or FCGI_WEB_SERVER_ADDRS" % peer.replace(".", r"\."),
                           0, 10),
                 "the refusal of %s is logged" % peer)


@contextlib.contextmanager
def serve_tcp(args, env=None, host="127.0.0.1", family=socket.AF_INET):
    port = w.free_port(family)
    addr = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
    with w.serve(APP, ["-p", "1", "-t", "1"] + args, addr=addr, env=env) as s:
        yield s
        w.no_worker_died(s)


def test_allow_from_refuses():
    with serve_tcp(["--allow-from", "10.0.0.0/8"]) as s:
        refused(s.addr, "--allow-from 10.0.0.0/8, peer 127.0.0.1")
        refusal_logged(s, "127.0.0.1")
        check(s.running(), "the server is still running")
        check(not re.search(EXPOSED, s.text()), "no exposure warning on 127.0.0.1")


def test_allow_from_serves():
    for args in (["--allow-from", "127.0.0.1"], ["--allow-from", "127.0.0.0/8"],
                 ["--allow-from", "10.0.0.0/8", "--allow-from", "127.0.0.1/32"]):
        w.label(" ".join(args))
        with serve_tcp(args) as s:
            served(s.addr, "peer 127.0.0.1")
            check(not re.search(r"refused \d+ connection", s.text()), "no refusal logged")


def test_fcgi_web_server_addrs():
    w.label("FCGI_WEB_SERVER_ADDRS=10.1.2.3,192.168.0.1")
    with serve_tcp([], env={"FCGI_WEB_SERVER_ADDRS": "10.1.2.3,192.168.0.1"}) as s:
        refused(s.addr, "peer 127.0.0.1")
        refusal_logged(s, "127.0.0.1")
    w.label("FCGI_WEB_SERVER_ADDRS=10.1.2.3, 127.0.0.1")
    with serve_tcp([], env={"FCGI_WEB_SERVER_ADDRS": "10.1.2.3, 127.0.0.1"}) as s:
        served(s.addr, "peer 127.0.0.1")


def test_exposure_warning():
    w.label("0.0.0.0, no list")
    with serve_tcp([], host="0.0.0.0") as s:
        check(w.log_has(s, r"\[warning\] 0\.0\.0\.0:\d+ " + EXPOSED, 0, 10),
              "the start-up warning names the exposed socket")
        served("127.0.0.1:%s" % s.addr.rsplit(":", 1)[1], "peer 127.0.0.1 (no list)")
    w.label("0.0.0.0 --allow-from 127.0.0.1")
    with serve_tcp(["--allow-from", "127.0.0.1"], host="0.0.0.0") as s:
        served("127.0.0.1:%s" % s.addr.rsplit(":", 1)[1], "peer 127.0.0.1")
        check(not re.search(EXPOSED, s.text()), "no exposure warning with an allow-list")
    w.label("0.0.0.0 FCGI_WEB_SERVER_ADDRS=127.0.0.1")
    with serve_tcp([], host="0.0.0.0", env={"FCGI_WEB_SERVER_ADDRS": "127.0.0.1"}) as s:
        served("127.0.0.1:%s" % s.addr.rsplit(":", 1)[1], "peer 127.0.0.1")
        check(not re.search(EXPOSED, s.text()), "no exposure warning with the variable")
    w.label("127.0.0.1, no list")
    with serve_tcp([]) as s:
        served(s.addr, "peer 127.0.0.1", 1)
        check(not re.search(EXPOSED, s.text()), "no exposure warning on loopback")


def test_ipv6():
    if not w.have_ipv6():
        raise w.Skip("no IPv6 loopback on this host")
    w.label("[::1] --allow-from ::1")
    with serve_tcp(["--allow-from", "::1"], host="::1", family=socket.AF_INET6) as s:
        served(s.addr, "peer ::1")
    w.label("[::1] --allow-from 127.0.0.1")
    with serve_tcp(["--allow-from", "127.0.0.1"], host="::1", family=socket.AF_INET6) as s:
        refused(s.addr, "v4-only list, peer ::1")
        refusal_logged(s, "::1")
    w.label("[::1] --allow-from fd00::/8")
    with serve_tcp(["--allow-from", "fd00::/8"], host="::1", family=socket.AF_INET6) as s:
        refused(s.addr, "another v6 prefix, peer ::1")
        refusal_logged(s, "::1")
    w.label("[::] --allow-from 127.0.0.1")
    with serve_tcp(["--allow-from", "127.0.0.1"], host="::", family=socket.AF_INET6) as s:
        v4 = "127.0.0.1:%s" % s.addr.rsplit(":", 1)[1]
        if w.can_connect(v4):
            served(v4, "dual stack: peer 127.0.0.1 (::ffff:127.0.0.1)")
        else:
            w.log("# [::] is v6-only here: the mapped-address case is not tried")
        refused("[::1]:%s" % s.addr.rsplit(":", 1)[1], "dual stack: peer ::1")


def test_unix_socket_ignores_list():
    with w.serve(APP, ["-p", "1", "-t", "1", "--allow-from", "10.0.0.0/8"]) as s:
        check(w.log_has(s, r"apply to TCP sockets; unix:\S+ is not one: they are ignored", 0, 10),
              "a warning says the list does not apply to a unix socket")
        served(s.addr, "unix socket with --allow-from 10.0.0.0/8")
        w.no_worker_died(s)


if __name__ == "__main__":
    w.main()
