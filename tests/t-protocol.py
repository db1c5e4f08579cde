"""SPEC "Protocols" (FastCGI): data-driven replays of hostile and truncated
record streams (tests/data/fcgi), roles, FCGI_KEEP_CONN, and that bad input
closes only its own connection."""

import glob
import os
import time

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc

DATA = os.path.join(w.DATA, "fcgi")


def load_expect(path):
    exp = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition(":")
            exp[k.strip()] = v.strip()
    return exp


def refused(res):
    """No successful response: closed, non-200, or a protocol refusal."""
    if res["outcome"] == "closed":
        return True
    if res["outcome"] == "response":
        if res["status"] != 200:
            return True
        return any(p != 0 for p in res["protocol_status"])
    return False


def test_replay_data_files():
    recs = sorted(glob.glob(os.path.join(DATA, "*.rec")))
    check(len(recs) >= 10, "fixtures found in %s (%d)" % (DATA, len(recs)))
    with w.serve(w.app("hello")) as s:
        for rec in recs:
            name = os.path.basename(rec)[:-4]
            exp = load_expect(rec[:-4] + ".expect")
            off = s.log_size()
            res = fc.replay(s.addr, fc.load_stream(rec), timeout=20)
            what = "replay %s (got %r)" % (name, res)
            out = exp.get("outcome", "any")
            check(res["outcome"] != "timeout",
                  "%s: the server neither answered nor closed" % what)
            if out == "closed":
                eq(res["outcome"], "closed", "%s: outcome" % what)
            elif out == "refused":
                check(refused(res), "%s: expected a refusal" % what)
            elif out == "response":
                eq(res["outcome"], "response", "%s: outcome" % what)
                eq(res["status"], int(exp.get("status", "200")), "%s: status" % what)
            if "log" in exp:
                check(w.log_has(s, "(?i)" + exp["log"], off, 10),
                      "%s: log matches /%s/:\n%s" % (what, exp["log"], s.log_since(off)))
            s.assert_serving("after replay %s" % name)


def _hostile(s, data, what, shutdown=True):
    res = fc.replay(s.addr, data, timeout=20, shutdown=shutdown)
    check(res["outcome"] != "timeout", "%s: the server neither answered nor closed" % what)
    check(refused(res), "%s: expected a refusal, got %r" % (what, res))
    check(s.alive(), "%s: the server process survived" % what)
    s.assert_serving("after %s" % what)


def test_huge_lengths_after_big_params():
    """LIBFCGI.md #1: a huge declared length, not at the start of the
    connection but after 300 KiB of ordinary params, and after a first
    kept request.  The server must survive and keep serving."""
    big = fc.encode_params([(b"HTTP_X_F%d" % i, b"v" * 1000) for i in range(300)])
    huge = b"\x0a\xc0\x00\x00\x00HTTP_X_BIG" + b"A" * 64
    with w.serve(w.app("hello")) as s:
        data = (fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body()) +
                b"".join(fc.stream_records(fc.PARAMS, 1, big + huge, 65535, end=True)) +
                fc.record(fc.STDIN, 1, b""))
        _hostile(s, data, "huge length after 300 KiB of params")
        ok = (fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body(keep=True)) +
              b"".join(fc.stream_records(fc.PARAMS, 1, fc.encode_params(fc.default_params()))) +
              fc.record(fc.STDIN, 1, b""))
        bad = (fc.record(fc.BEGIN_REQUEST, 2, fc.begin_body()) +
               b"".join(fc.stream_records(fc.PARAMS, 2, huge, end=True)) +
               fc.record(fc.STDIN, 2, b""))
        with s.connect() as c:
            c.send(ok)
            r = c.read_response(1, timeout=20)
            eq(r.status, 200, "kept request before the hostile one")
            try:
                c.send(bad)
                c.shutdown_write()
            except OSError:
                pass
            r2 = c.read_response(2, timeout=20)
            check(not r2.timeout, "huge length on a kept connection: answered or closed")
            check(r2.status != 200, "huge length on a kept connection refused (got %r)" % r2)
        check(s.alive(), "huge length on a kept connection: the server survived")
        s.assert_serving("after a huge length on a kept connection")


def test_get_values_overflow_on_kept_connection():
    """LIBFCGI.md #2 after a first kept request: the server must survive."""
    gv = fc.record(fc.GET_VALUES, 0, fc.encode_params([(b"FCGI_MAX_CONNS", b"")] * 6))
    with w.serve(w.app("hello")) as s:
        with s.connect() as c:
            r = c.request(fc.default_params(), keep=True)
            eq(r.status, 200, "kept request before GET_VALUES")
            try:
                c.send(gv + gv)
                c.send(fc.record(fc.BEGIN_REQUEST, 1, fc.begin_body()))
                c.shutdown_write()
            except OSError:
                pass
            c.read_until_eof(timeout=20)
        check(s.alive(), "GET_VALUES overflow on a kept connection: the server survived")
        s.assert_serving("after GET_VALUES on a kept connection")


def test_roles_refused_via_client():
    with w.serve(w.app("hello")) as s:
        for role in (fc.AUTHORIZER, fc.FILTER):
            off = s.log_size()
            with s.connect() as c:
                try:
                    c.begin(role=role)
                    c.params(fc.default_params())
                    c.stdin(b"")
                    if role == fc.FILTER:
                        c.send(fc.record(fc.DATA, 1, b""))
                except (BrokenPipeError, ConnectionResetError):
                    pass   # refused before we finished: fine
                r = c.read_response(timeout=20)
            check(not r.timeout, "role %d: answered or closed" % role)
            check(r.status != 200 or (r.protocol_status not in (None, 0)),
                  "role %d refused (got %r)" % (role, r))
            check(w.log_has(s, r"(?i)role|authori|filter", off, 10),
                  "role %d: a log line" % role)
            s.assert_serving("after role %d" % role)


def test_keep_conn_request_ids():
    """Several requests, with changing request ids, on one kept connection."""
    with w.serve(w.app("echo_environ")) as s:
        with s.connect() as c:
            for i, rid in enumerate((1, 2, 7, 65535, 1)):
                params = fc.default_params(path="/req%d" % i)
                r = c.request(params, req_id=rid, keep=True)
                eq(r.status, 200, "kept request #%d (id %d) status" % (i, rid))
                check(b'"PATH_INFO": "/req%d"' % i in bytes(r.body),
                      "kept request #%d answered with its own environ" % i)
                check(r.ended and not r.eof, "kept request #%d: connection stays" % i)
            # the last one without KEEP_CONN: the server closes after it
            r = c.request(fc.default_params(path="/last"), keep=False)
            eq(r.status, 200, "final request without KEEP_CONN")
            _, eof = c.read_until_eof(timeout=20)
            check(eof, "server closes the connection after a request without KEEP_CONN")


def test_idle_kept_connection_does_not_starve():
    """An idle kept connection must not starve a new one (default threads)."""
    with w.serve(w.app("hello")) as s:
        idle = s.connect()
        try:
            r = idle.request(fc.default_params(), keep=True)
            eq(r.status, 200, "first request on the kept connection")
            # the idle connection stays open; a new client must be served
            r2 = s.get("/", timeout=60)
            eq(r2.status, 200, "a new connection is served while another idles in keep-alive")
        finally:
            idle.close()
        s.assert_serving("after the idle kept connection")


def test_several_idle_kept_connections_do_not_starve():
    """More idle kept connections than threads (-t 2, 4 idle): new
    connections are still served, and so are the idle ones when they
    come back."""
    with w.serve(w.app("hello"), ["-t", "2"]) as s:
        idle = []
        try:
            for i in range(4):
                c = s.connect(timeout=60)
                idle.append(c)
                r = c.request(fc.default_params(), keep=True, timeout=60)
                eq(r.status, 200, "kept connection %d: first request" % i)
            for i in range(3):
                r = s.get("/", timeout=60)
                eq(r.status, 200, "new connection %d served beside 4 idle kept ones" % i)
            for i, c in enumerate(idle):
                r = c.request(fc.default_params(), keep=True, timeout=60)
                if r.eof and r.status is None:
                    continue   # the server may close idle kept connections
                eq(r.status, 200, "kept connection %d: second request" % i)
        finally:
            for c in idle:
                c.close()
        s.assert_serving("after idle kept connections")


def test_bad_input_closes_only_its_connection():
    with w.serve(w.app("echo_body"), ["-t", "4"]) as s:
        body = b"held open while another connection misbehaves"
        a = s.connect()
        try:
            a.begin()
            a.params(fc.default_params("POST", "/", "mode=read", body))
            a.stdin(body[:10], end=False)
            time.sleep(0.3)
            res = fc.replay(s.addr, b"\xde\xad\xbe\xef" * 16, timeout=20)
            eq(res["outcome"], "closed", "garbage connection closed")
            a.stdin(body[10:])
            r = a.read_response(timeout=30)
            eq(r.status, 200, "the other connection's request completes")
            eq(bytes(r.body), body, "the other connection's body intact")
        finally:
            a.close()
        s.assert_serving("after garbage beside a live request")


def test_many_connections_in_a_row():
    """Connections opened and dropped at odd moments, then normal service."""
    with w.serve(w.app("hello")) as s:
        for i in range(30):
            c = s.connect()
            if i % 3 == 1:
                c.begin()
            elif i % 3 == 2:
                c.begin()
                c.params(fc.default_params(), end=False)
            c.close()
        for i in range(20):
            r = s.get("/")
            if not eq(r.status, 200, "request %d after dropped connections" % i):
                break


if __name__ == "__main__":
    w.main()
