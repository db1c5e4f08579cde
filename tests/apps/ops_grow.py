"""ops_grow: an application whose memory grows (tests/t-ops-max-rss.py).

/echo answers like tests/apps/pm_app.py (b"echo " + QUERY_STRING + b" " +
body, with X-Pid, X-Thread and X-Version headers, so wftest.load.Load can
check every byte) and keeps WF_GROW_MB MiB (environment, default 1) of freshly
written memory for good, so the worker's resident set grows with every
request.  Anything else: "hello"."""
import os
import threading

GROW = int(float(os.environ.get("WF_GROW_MB", "1")) * (1 << 20))
kept = []


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        out = b"echo " + environ.get("QUERY_STRING", "").encode("latin-1") + b" " + body
        if GROW:
            kept.append(b"\x01" * GROW)     # written, so resident
    else:
        out = b"hello"
    start_response("200 OK", [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(out))),
        ("X-Pid", str(os.getpid())),
        ("X-Thread", str(threading.get_ident())),
        ("X-Version", "grow"),
    ])
    return [out]
