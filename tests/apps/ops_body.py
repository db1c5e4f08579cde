"""ops_body: request bodies under --max-body (tests/t-ops-max-body.py).
Every call logs "app-called PATH" on wsgi.errors, so a test can tell the
application was (or was not) called.

  /echo      reads CONTENT_LENGTH bytes, answers "got N"
  /read-all  wsgi.input.read() (no size); an OSError is caught and answered
             200 "OSError errno=E: MESSAGE"
  /chunks    wsgi.input.read(100) until b"", catching OSError the same way
  /uncaught  wsgi.input.read() without catching anything (a 500)
"""


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    inp = environ["wsgi.input"]
    environ["wsgi.errors"].write("app-called %s\n" % path)
    if path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        out = b"got %d" % len(inp.read(n))
    elif path in ("/read-all", "/chunks"):
        total = 0
        try:
            if path == "/read-all":
                total = len(inp.read())
            else:
                while True:
                    chunk = inp.read(100)
                    if not chunk:
                        break
                    total += len(chunk)
            out = b"read %d" % total
        except OSError as e:
            out = ("OSError errno=%s after %d: %s" % (e.errno, total, e)).encode()
    elif path == "/uncaught":
        out = b"read %d" % len(inp.read())
    else:
        out = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out)))])
    return [out]
