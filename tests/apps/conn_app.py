"""conn_app: the application of the connection tests (tests/t-conn*.py,
tests/t-acl.py).  Routes, by PATH_INFO:

  /echo     200, body b"echo " + QUERY_STRING + b" " + the request body
            (CONTENT_LENGTH bytes), Content-Length set
  /read     reads the whole body (CONTENT_LENGTH bytes, in 8 KiB reads); an
            OSError is written to wsgi.errors as "app-read-error after N
            bytes: TYPE errno=E: MESSAGE" (TYPE: the OSError subclass) and
            answered 200 "OSError after N"; else "read N"
  /big      ?n=BYTES (default 10 MiB) of the pattern bytes(range(251))
            repeated, in 64 KiB chunks from a generator, Content-Length set;
            the iterable's close() writes "app-big-closed after N bytes" to
            wsgi.errors
  /empty    200 with no Content-Length and no body (an empty list)
  /empty-gen 200 with no Content-Length, a generator that yields nothing
  /nocontent 204 with no headers and no body
  anything else: "hello"
"""

PRIME = 251


def _pattern(offset, size):
    base = bytes(range(PRIME))
    start = offset % PRIME
    return (base * ((start + size) // PRIME + 1))[start:start + size]


class _Big:
    def __init__(self, n, errors):
        self.n = n
        self.sent = 0
        self.errors = errors

    def __iter__(self):
        while self.sent < self.n:
            size = min(65536, self.n - self.sent)
            chunk = _pattern(self.sent, size)
            self.sent += size
            yield chunk

    def close(self):
        self.errors.write("app-big-closed after %d bytes\n" % self.sent)
        self.errors.flush()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    errors = environ["wsgi.errors"]
    if path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        out = b"echo " + query.encode("latin-1") + b" " + body
    elif path == "/read":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        got = 0
        try:
            while got < n:
                chunk = environ["wsgi.input"].read(min(8192, n - got))
                if not chunk:
                    break
                got += len(chunk)
            out = b"read %d" % got
        except OSError as e:
            errors.write("app-read-error after %d bytes: %s errno=%s: %s\n"
                         % (got, type(e).__name__, e.errno, e))
            errors.flush()
            out = b"OSError after %d" % got
    elif path == "/big":
        n = 10 << 20
        for part in query.split("&"):
            if part.startswith("n="):
                n = int(part[2:])
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(n))])
        return _Big(n, errors)
    elif path == "/empty":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return []
    elif path == "/empty-gen":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter(())
    elif path == "/nocontent":
        start_response("204 No Content", [])
        return []
    else:
        out = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out)))])
    return [out]
