"""ops_preload: the application of the --preload tests (t-ops-preload.py).

At import it appends its pid to the file named by WF_IMPORT_LOG (when set),
so a test counts how many times, and in which process, the application was
imported.  Routes, by PATH_INFO:

  /exit     os._exit(3) in the middle of the request (a crashing worker)
  /sleep    sleeps ?s=SECONDS (float, default 0.3) first, then answers as below
  anything  "pid=P imported_by=I gen=G": the serving process, the process
            that imported the module, and GENERATION below
"""
import os
import time

GENERATION = "one"
IMPORTED_BY = os.getpid()

_log = os.environ.get("WF_IMPORT_LOG")
if _log:
    with open(_log, "a", encoding="ascii") as _f:
        _f.write("%d\n" % IMPORTED_BY)


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/exit":
        os._exit(3)
    if environ.get("PATH_INFO") == "/sleep":
        q = environ.get("QUERY_STRING", "")
        time.sleep(float(q[2:]) if q.startswith("s=") else 0.3)
    body = ("pid=%d imported_by=%d gen=%s" % (os.getpid(), IMPORTED_BY, GENERATION)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
