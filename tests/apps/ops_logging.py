"""ops_logging: the application's own log text, by every usual route
(tests/t-ops-logs.py).  ?t=TOKEN is embedded in each line.

  /errors   environ["wsgi.errors"].write("errors-line TOKEN\\n")
  /multi    two lines in one write: "multi-a TOKEN\\nmulti-b TOKEN\\n"
  /logging  logging through a StreamHandler on wsgi.errors (as Flask does)
  /root     logging through the root logger that logging.basicConfig() set
            up at import time (on sys.stderr, as Django's default does)
  /print    print("print-line TOKEN", file=sys.stderr)
  /raise    raises RuntimeError("boom TOKEN"): a server-side [error]
"""
import logging
import sys
from urllib.parse import parse_qs

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
print("import-line", file=sys.stderr)


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    token = parse_qs(environ.get("QUERY_STRING", "")).get("t", ["x"])[0]
    errors = environ["wsgi.errors"]
    if path == "/errors":
        errors.write("errors-line %s\n" % token)
    elif path == "/multi":
        errors.write("multi-a %s\nmulti-b %s\n" % (token, token))
    elif path == "/logging":
        log = logging.getLogger("wsgi-errors-logger")
        log.propagate = False
        handler = logging.StreamHandler(errors)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        log.addHandler(handler)
        try:
            log.warning("logging-line %s", token)
        finally:
            log.removeHandler(handler)
    elif path == "/root":
        logging.getLogger("myapp").info("root-line %s", token)
    elif path == "/print":
        print("print-line %s" % token, file=sys.stderr)
    elif path == "/raise":
        raise RuntimeError("boom %s" % token)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
