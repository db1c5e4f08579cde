"""pm_app: the application of the process-model tests (tests/t-pm-*.sh).

Every response carries X-Pid (os.getpid()), X-Thread
(threading.get_ident()) and X-Version (VERSION below, which the reload test
edits in a copy of this file).  Routes, by PATH_INFO:

  /echo     200, body b"echo " + QUERY_STRING + b" " + the request body, so
            a client can check every byte of a request-specific answer
  /sleep    sleeps ?s=SECONDS (float, default 2) then answers "slept S"
  /exit     os._exit(3) in the middle of the request (a crashing worker)
  /version  "version " + VERSION
  /whoami   "uid=U gid=G pid=P"
  anything else: "hello"
"""
import os
import threading
import time
from urllib.parse import parse_qs

VERSION = "one"


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    if path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        out = b"echo " + query.encode("latin-1") + b" " + body
    elif path == "/sleep":
        secs = float(parse_qs(query).get("s", ["2"])[0])
        time.sleep(secs)
        out = ("slept %g" % secs).encode()
    elif path == "/exit":
        os._exit(3)
    elif path == "/version":
        out = ("version " + VERSION).encode()
    elif path == "/whoami":
        out = ("uid=%d gid=%d pid=%d" % (os.getuid(), os.getgid(), os.getpid())).encode()
    else:
        out = b"hello"
    start_response("200 OK", [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(out))),
        ("X-Pid", str(os.getpid())),
        ("X-Thread", str(threading.get_ident())),
        ("X-Version", VERSION),
    ])
    return [out]
