"""HTTP for the tests that go through a real web server: one request on a
fresh connection with http.client (the raw target and headers sent as
given), curl where a test wants a real client's behaviour, and a bounded
wait until a server answers."""

import http.client
import json
import os
import subprocess

import wftest as w


class Resp:
    """status, reason, headers (a list of (name, value) as received), body."""

    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        """The last value of header NAME (case-insensitive), or default."""
        val = default
        for k, v in self.headers:
            if k.lower() == name.lower():
                val = v
        return val

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Resp(%r, %r, %r)" % (self.status, self.headers, self.body[:200])


def request(method, port, target, headers=None, body=None, timeout=60, host="127.0.0.1",
            protocol="HTTP/1.1"):
    """One request on a fresh connection to host:port; the target is sent
    as is; a Host header in headers replaces the default one."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    if protocol == "HTTP/1.0":
        c._http_vsn_str = "HTTP/1.0"
    try:
        has_host = any(k.lower() == "host" for k, _ in (headers or []))
        c.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
        for k, v in (headers or []):
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        if body is not None:
            for i in range(0, len(body), 65536):
                c.send(body[i:i + 65536])
        r = c.getresponse()
        data = r.read()
        return Resp(r.status, r.getheaders(), data, r.reason)
    finally:
        c.close()


def wait_http(port, proc, path="/", timeout=20):
    """Wait (bounded) until 127.0.0.1:port answers anything; fails early
    when proc exits."""
    def up():
        if proc is not None and not proc.running():
            raise AssertionError("%s exited with status %s before it answered HTTP\n%s"
                                 % (proc.name, proc.returncode, proc.text()[-4000:]))
        try:
            request("GET", port, path, timeout=3)
            return True
        except (OSError, http.client.HTTPException):
            return False
    if not w.wait_for(up, timeout):
        raise AssertionError("HTTP on 127.0.0.1:%d: not answering after %ss" % (port, timeout))
    if proc is not None:
        proc.record()


def curl(url, *args, timeout=120):
    """What curl got for URL (-sS, the body and the last response's
    headers): a Resp; a curl error is a failed check."""
    d = w.tmpdir()
    body_f = os.path.join(d, "curl.body")
    head_f = os.path.join(d, "curl.head")
    for f in (body_f, head_f):
        if os.path.exists(f):
            os.unlink(f)
    cmd = ["curl", "-sS", "--max-time", str(timeout), "-o", body_f, "-D", head_f,
           "-w", "%{http_code}"] + list(args) + [url]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout + 60)
    if p.returncode != 0:
        w.fail("curl %s: exit %d: %s" % (url, p.returncode, p.stderr.decode("latin-1")))
    status = int(p.stdout or b"0")
    headers = []
    try:
        with open(head_f, "rb") as f:
            raw = f.read().decode("latin-1")
    except OSError:
        raw = ""
    # -D keeps every response (100 Continue too): the last block is the one.
    blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip()]
    if blocks:
        for line in blocks[-1].split("\n")[1:]:
            n, colon, v = line.partition(":")
            if colon:
                headers.append((n.strip(), v.strip()))
    try:
        with open(body_f, "rb") as f:
            body = f.read()
    except OSError:
        body = b""
    return Resp(status, headers, body)


def pattern(n):
    """n bytes of bytes(range(251)) repeated (what the download apps send)."""
    base = bytes(range(251))
    return (base * (n // 251 + 1))[:n]
