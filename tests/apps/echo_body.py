"""echo_body: reads wsgi.input in the mode the query string names.

?mode=read        read()                  (all at once)
?mode=readn&n=N   read(N) until b''
?mode=readline    readline() until b''
?mode=readlinen&n=N  readline(N) until b''
?mode=readlines   readlines()
?mode=iter        for line in wsgi.input
?mode=mixed       readline(), read(3), readline(5), read(7), then read()
?mode=cl          read(N) until CONTENT_LENGTH bytes were read (or b'')
?echo=0           answer the sha256 instead of the bytes
?log=PATH         write "ok:N" or "error:EXCTYPE:OSERROR?" to PATH

Headers: X-Read-Length, X-Read-Calls, X-Read-Violations (reads that
returned more than asked, or a readline with an inner newline),
X-After-Eof (length of one more read(10) after the end).
"""
import hashlib
import os
from urllib.parse import parse_qs


def _raw(inp):
    # read() without a size is outside PEP 3333 (the validator insists on
    # one argument) but inside our SPEC: under the validator, call the
    # server's own object for that one mode.
    return getattr(inp, "input", inp)


def _read_all(environ, mode, n):
    inp = environ["wsgi.input"]
    chunks = []
    violations = 0
    calls = 0
    if mode == "read":
        chunks.append(_raw(inp).read())
        calls = 1
    elif mode == "readn":
        while True:
            c = inp.read(n)
            calls += 1
            if len(c) > n:
                violations += 1
            if not c:
                break
            chunks.append(c)
    elif mode == "cl":
        want = int(environ.get("CONTENT_LENGTH") or 0)
        got = 0
        while got < want:
            c = inp.read(min(n, want - got))
            calls += 1
            if not c:
                break
            chunks.append(c)
            got += len(c)
    elif mode in ("readline", "readlinen"):
        while True:
            c = inp.readline(n) if mode == "readlinen" else inp.readline()
            calls += 1
            if mode == "readlinen" and len(c) > n:
                violations += 1
            if b"\n" in c[:-1]:
                violations += 1
            if not c:
                break
            chunks.append(c)
    elif mode == "readlines":
        lines = inp.readlines()
        calls = 1
        for c in lines:
            if b"\n" in c[:-1]:
                violations += 1
        chunks.extend(lines)
    elif mode == "iter":
        for c in inp:
            calls += 1
            if b"\n" in c[:-1]:
                violations += 1
            chunks.append(c)
    elif mode == "mixed":
        chunks.append(inp.readline())
        chunks.append(inp.read(3))
        c = inp.readline(5)
        if len(c) > 5:
            violations += 1
        chunks.append(c)
        chunks.append(inp.read(7))
        chunks.append(_raw(inp).read())
        calls = 5
    else:
        raise ValueError("unknown mode %r" % mode)
    return b"".join(chunks), calls, violations


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    mode = q.get("mode", ["read"])[0]
    n = int(q.get("n", ["8192"])[0])
    echo = q.get("echo", ["1"])[0] != "0"
    log = q.get("log", [None])[0]
    try:
        data, calls, violations = _read_all(environ, mode, n)
        after = environ["wsgi.input"].read(10)
    except Exception as e:
        if log:
            with open(log, "a") as f:
                f.write("error:%s:%s\n" % (type(e).__name__, isinstance(e, OSError)))
        raise
    if log:
        with open(log, "a") as f:
            f.write("ok:%d\n" % len(data))
    body = data if echo else hashlib.sha256(data).hexdigest().encode("ascii")
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(len(body))),
        ("X-Read-Length", str(len(data))),
        ("X-Read-Sha256", hashlib.sha256(data).hexdigest()),
        ("X-Read-Calls", str(calls)),
        ("X-Read-Violations", str(violations)),
        ("X-After-Eof", str(len(after))),
    ])
    return [body]


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
