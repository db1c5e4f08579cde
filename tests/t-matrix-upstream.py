"""Matrix: multi-host.  nginx with contrib/nginx/upstream-two.conf (an
upstream of two wsgi-fcgi instances on loopback TCP ports, keepalive,
fastcgi_keep_conn, fastcgi_next_upstream error timeout).  A bounded loop of
idempotent GETs from 4 client threads; one instance is stopped with SIGTERM
in the middle: no request may fail (nginx passes it to the other), the
stopped instance exits 0, and both instances answered before the stop."""

import signal
import threading

import wftest as w
from wftest import http_client as hc
from wftest import web

PER_THREAD = 150
THREADS = 4
STOP_AT = PER_THREAD * THREADS // 3


def test_upstream_of_two():
    b1, b2, port = w.free_port(), w.free_port(), w.free_port()
    w1 = w.Server(w.app("matrix_app"), ["-p", "2", "-t", "2"], name="wsgi-1",
                  addr="127.0.0.1:%d" % b1)
    w2 = w.Server(w.app("matrix_app"), ["-p", "2", "-t", "2"], name="wsgi-2",
                  addr="127.0.0.1:%d" % b2)
    site = web.render(web.contrib("nginx/upstream-two.conf"),
                      {"PORT": port, "BACKEND1_PORT": b1, "BACKEND2_PORT": b2})
    ng = web.start_nginx("nginx", [site], wait_path="/pid")
    w1.record()
    w2.record()
    pids1 = {str(p) for p in [w1.pid] + list(w1.known)}
    pids2 = {str(p) for p in [w2.pid] + list(w2.known)}

    lock = threading.Lock()
    done = [0]
    failures = []
    served = {"1": 0, "2": 0, "?": 0}
    stopped = threading.Event()

    def client(t):
        for i in range(PER_THREAD):
            try:
                r = hc.request("GET", port, "/pid?t=%d&i=%d" % (t, i), timeout=60)
                st, body = r.status, r.body.decode("latin-1")
            except Exception as e:  # noqa: BLE001 - every failure counts
                st, body = None, repr(e)
            with lock:
                done[0] += 1
                if st != 200:
                    failures.append((t, i, st, body[:200], stopped.is_set()))
                elif body in pids1:
                    served["1" if not stopped.is_set() else "?"] += 1
                elif body in pids2:
                    served["2"] += 1
                else:
                    served["?"] += 1

    threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    w.wait_for(lambda: done[0] >= STOP_AT, 120)
    w.label("nginx upstream of two")
    w1_before = served["1"]
    w1.kill(signal.SIGTERM)
    stopped.set()
    rc = w1.wait(30)
    for th in threads:
        th.join(180)
    w.eq([th.is_alive() for th in threads], [False] * THREADS, "the client loop ended")
    w.eq(done[0], PER_THREAD * THREADS, "every request of the bounded loop was made")
    w.eq(failures, [], "no request failed while instance 1 stopped (nginx retried on 2)")
    w.eq(rc, 0, "instance 1 exits 0 after SIGTERM (graceful)")
    w.check(w1_before > 0 and served["2"] > 0,
            "both instances answered before the stop", repr(served))
    # after the stop, instance 2 alone answers
    after = set()
    for i in range(10):
        r = hc.request("GET", port, "/pid?after=%d" % i)
        after.add((r.status, r.body.decode() in pids2))
    w.eq(after, {(200, True)}, "after the stop every request is answered by instance 2")
    w.check("Traceback" not in w1.text() + w2.text(), "no traceback in the instances' logs")
    w.log("served: %r" % served)
    # for the record: what nginx saw of the stop (the retries it made)
    for line in web.error_log(ng).splitlines():
        if "upstream" in line:
            w.log("nginx: " + line[:300])


if __name__ == "__main__":
    w.main()
