"""ops_stuck: requests that never end (tests/t-ops-timeout.py).

  /stuck  sleeps for ever in stuck_in_here() (the GIL released)
  /spin   loops for ever in spinning_here() (pure Python, holding the GIL
          between switches)
  /wait   waits in waiting_elsewhere() until /stuck or /spin's worker dies
          (a second busy thread, not the stuck one)
  else    "hello" with X-Pid
"""
import os
import threading
import time

never = threading.Event()


def stuck_in_here():
    while True:
        time.sleep(3600)


def spinning_here():
    n = 0
    while True:
        n += 1


def waiting_elsewhere():
    never.wait()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/stuck":
        stuck_in_here()
    elif path == "/spin":
        spinning_here()
    elif path == "/wait":
        waiting_elsewhere()
    out = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out))),
                              ("X-Pid", str(os.getpid()))])
    return [out]
