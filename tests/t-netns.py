"""Two hosts on a network (issue 10), in network namespaces the test makes:
nginx in one (contrib/nginx/upstream-two.conf, its two backends given as the
other namespaces' addresses, its connect and read timeouts given as
parameters), wsgi-fcgi over TCP in two others (-p 1 -t 4, --io-timeout 5,
--allow-from the nginx address), each joined to nginx's namespace by a veth
pair.

Under a load of GETs through nginx (4 client threads, every answer
checked), host A's link is cut (ip link set down, on A's side) for 15 s
while A's threads are also busy writing large responses to direct clients
that read slowly:

* nginx moves to B: no GET is lost (nginx retries a GET that got no answer
  on the other server), and B serves during the cut;
* A's blocked threads are freed by --io-timeout (log lines), and when the
  link returns A has no busy thread, answers direct requests, and nginx
  sends it requests again; its connections carry TCP keep-alive timers
  (SO_KEEPALIVE: those of a host gone for good end too).

The test enters the namespaces with setns(2) in the calling thread, so the
programs it starts there (nginx, wsgi-fcgi) and the client sockets it makes
there belong to them.  Skipped, with the reason, where namespaces cannot be
made (not root, no ip, no permission).  The namespaces are deleted at the
end whatever happens."""

import contextlib
import ctypes
import os
import threading
import time

import wftest as w
from wftest import fcgi as fc
from wftest import http_client as hc
from wftest import web

CLONE_NEWNET = 0x40000000
TAG = "wf%d" % (os.getpid() % 100000)
NS = {"ng": TAG + "ng", "a": TAG + "a", "b": TAG + "b"}
NET = {"a": ("10.231.1.1", "10.231.1.2"), "b": ("10.231.2.1", "10.231.2.2")}
CUT_SECONDS = 15
CLIENTS = 4

_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def netns(name):
    """The calling thread in network namespace NAME for the with block."""
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (name, os.strerror(e)))
        yield
    finally:
        _libc.setns(orig, CLONE_NEWNET)
        os.close(fd)
        os.close(orig)


def ip(*args, ns=None, check=True):
    argv = ["ip"] + (["-n", ns] if ns else []) + list(args)
    r = w.run(argv, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(argv), r.stderr.decode("latin-1").strip()))
    return r


def make_network():
    """The three namespaces and two veth pairs; Skip when impossible."""
    w.need_root("network namespaces")
    w.need_program("ip")
    r = ip("netns", "add", NS["ng"], check=False)
    if r.returncode != 0:
        raise w.Skip("cannot make a network namespace: %s"
                     % r.stderr.decode("latin-1").strip())
    ip("netns", "add", NS["a"])
    ip("netns", "add", NS["b"])
    for ns in NS.values():
        ip("link", "set", "lo", "up", ns=ns)
    for h in ("a", "b"):
        near, far = TAG + h + "n", TAG + h + "h"
        ip("link", "add", near, "netns", NS["ng"], "type", "veth", "peer", "name", far,
           "netns", NS[h])
        ip("addr", "add", NET[h][0] + "/24", "dev", near, ns=NS["ng"])
        ip("addr", "add", NET[h][1] + "/24", "dev", far, ns=NS[h])
        ip("link", "set", near, "up", ns=NS["ng"])
        ip("link", "set", far, "up", ns=NS[h])


def drop_network():
    for ns in NS.values():
        ip("netns", "del", ns, check=False)


def backend(h, port):
    with netns(NS[h]):
        return w.Server(w.app("soak_app"),
                        ["-p", "1", "-t", "4", "--io-timeout", "5", "--header-timeout", "5",
                         "--allow-from", NET[h][0]],
                        name="host-" + h, addr="%s:%d" % (NET[h][1], port), stats=True)


def worker(srv):
    st = srv.stats()
    return st["workers"][0] if st["workers"] else {}


def test_link_cut_under_load():
    try:
        make_network()
    except w.Skip:
        drop_network()
        raise
    try:
        run_cut()
    finally:
        drop_network()
        w.check(not any(ip("netns", "list").stdout.decode().count(n) for n in NS.values()),
                "the namespaces are gone")


def run_cut():
    port = 9000
    a = backend("a", port)
    b = backend("b", port)
    site = web.render(web.contrib("nginx/upstream-two.conf"), {"PORT": 8080, "BACKEND1_PORT": port,
                                                               "BACKEND2_PORT": port},
                      replace=[("server 127.0.0.1:@BACKEND1_PORT@", "server %s:@BACKEND1_PORT@"
                                % NET["a"][1]),
                               ("server 127.0.0.1:@BACKEND2_PORT@", "server %s:@BACKEND2_PORT@"
                                % NET["b"][1]),
                               ("fastcgi_connect_timeout 5s;", "fastcgi_connect_timeout 2s;"),
                               ("fastcgi_read_timeout 300s;", "fastcgi_read_timeout 5s;")])
    with netns(NS["ng"]):
        ng = web.start_nginx("nginx", [site], wait_path="/hello")

    lock = threading.Lock()
    stop = threading.Event()
    res = {"ok": 0, "bad": [], "phase": "before", "by_phase": {}}

    def client(t):
        with netns(NS["ng"]):
            i = 0
            while not stop.is_set():
                q = "t=%d&i=%d" % (t, i)
                phase = res["phase"]
                try:
                    r = hc.request("GET", 8080, "/hello?" + q, timeout=60)
                    good = r.status == 200 and r.body == b"hello " + q.encode()
                    what = "%s %r" % (r.status, r.body[:100])
                except Exception as e:  # noqa: BLE001 - every failure counts
                    good, what = False, repr(e)
                with lock:
                    if good:
                        res["ok"] += 1
                        res["by_phase"][phase] = res["by_phase"].get(phase, 0) + 1
                    else:
                        res["bad"].append((phase, q, what))
                i += 1
                time.sleep(0.01)

    def slow_reader(k, out):
        """A direct client of A downloading 64 MiB and reading slowly: A's
        thread blocks writing to it."""
        with netns(NS["ng"]):
            try:
                c = fc.Connection("%s:%d" % (NET["a"][1], port), 60)
                c.begin()
                c.params(fc.default_params("GET", "/down", "slow=%d&n=%d" % (k, 64 << 20)))
                c.stdin(b"")
                while not stop.is_set():
                    if not c.sock.recv(4096):
                        break
                    time.sleep(0.05)
                c.close()
            except OSError as e:
                out.append(repr(e))

    threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(3)
    slow_errs = []
    slow = [threading.Thread(target=slow_reader, args=(k, slow_errs), daemon=True)
            for k in range(2)]
    for t in slow:
        t.start()
    w.check(w.wait_for(lambda: worker(a).get("busy_threads", 0) >= 2, 20),
            "two of A's threads busy writing to slow readers")
    a_before, b_before = worker(a)["requests"], worker(b)["requests"]
    w.check(a_before > 0 and b_before > 0, "both hosts served through nginx before the cut "
            "(A %d, B %d)" % (a_before, b_before))

    # --- the cut
    off_a = a.log_size()
    res["phase"] = "cut"
    ip("link", "set", TAG + "ah", "down", ns=NS["a"])
    t_cut = time.monotonic()
    time.sleep(3)
    b_at = worker(b)["requests"]
    a_at = worker(a)["requests"]
    w.check(w.wait_for(lambda: worker(b)["requests"] > b_at + 20, 30),
            "during the cut B serves (nginx moved to it)")
    freed = a.log_has(r"--io-timeout", off_a, 30)
    w.check(freed, "during the cut, A's threads blocked on the cut link end by --io-timeout",
            a.log_since(off_a)[-2000:])
    w.check(w.wait_for(lambda: worker(a)["busy_threads"] == 0, 30),
            "during the cut, A has no busy thread left (%r)" % worker(a))
    time.sleep(max(0, CUT_SECONDS - (time.monotonic() - t_cut)))
    a_cut = worker(a)["requests"] - a_at

    # --- the link returns
    res["phase"] = "after"
    ip("link", "set", TAG + "ah", "up", ns=NS["a"])
    w.log("# A served %d request(s) during the cut (after the first 3 s)" % a_cut)
    def direct_get():
        try:
            r = fc.get("%s:%d" % (NET["a"][1], port), "/hello", "direct=1", timeout=10)
            return r if r.ended else None
        except OSError:
            return None
    with netns(NS["ng"]):
        direct = w.wait_for(direct_get, 30, 0.5)
    w.check(direct and direct.ended and bytes(direct.body) == b"hello direct=1",
            "the link back: A answers a direct request", repr(direct))
    a_back = worker(a)["requests"]
    w.check(w.wait_for(lambda: worker(a)["requests"] > a_back + 20, 60),
            "the link back: nginx sends A requests again")
    st = worker(a)
    w.eq((st["busy_threads"], st["in_flight"]), (0, 0), "the link back: A's threads are free")
    # nginx's kept connections to A carry TCP keep-alive probes (SO_KEEPALIVE),
    # so those of a host that vanished for good go away too
    # (a connection with data in flight shows its retransmission timer
    # instead, so look a few times)
    def keepalive_timers():
        out = w.run(["ip", "netns", "exec", NS["a"], "ss", "-tno", "state", "established",
                     "( sport = :%d )" % port]).stdout.decode("latin-1")
        seen.append(out)
        return "keepalive" in out
    seen = []
    found = w.wait_for(keepalive_timers, 15, 0.2)
    w.log("# A's established connections:\n" + seen[-1])
    w.check(found, "A's connections have TCP keep-alive timers (ss -o)", seen[-1])
    stop.set()
    for t in threads + slow:
        t.join(90)
    w.eq([t.is_alive() for t in threads], [False] * CLIENTS, "the clients stopped")
    w.log("# GETs through nginx: %d ok by phase %r; failed: %d" % (res["ok"], res["by_phase"],
                                                                 len(res["bad"])))
    w.eq(res["bad"][:10], [], "no GET lost through nginx (before, during, after the cut)")
    w.check(res["by_phase"].get("cut", 0) > 0, "GETs were answered during the cut")
    for line in web.nginx_error_log(ng).splitlines():
        if "upstream" in line:
            w.log("nginx: " + line[:300])
    w.check(w.wait_for(lambda: worker(a)["connections"]["busy"] == 0, 30),
            "A: no connection left busy")
    w.log("# A's connections at the end: %r" % worker(a)["connections"])
    w.eq(a.stop(), 0, "A exits 0 on SIGTERM")
    w.eq(b.stop(), 0, "B exits 0 on SIGTERM")


if __name__ == "__main__":
    w.main(timeout=600)
