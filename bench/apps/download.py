"""Answers 10 MiB (10,485,760 bytes of b"x") in 160 chunks of 64 KiB.

?n=N changes the size.  The chunk is one bytes object made at import, so the
server's cost of moving bytes is measured, not the app's of making them.
"""
from urllib.parse import parse_qs

CHUNK = b"x" * 65536
SIZE = 10 * 1024 * 1024


def application(environ, start_response):
    size = SIZE
    qs = environ.get("QUERY_STRING", "")
    if qs:
        size = int(parse_qs(qs).get("n", [SIZE])[0])
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    return _chunks(size)


def _chunks(size):
    while size >= len(CHUNK):
        yield CHUNK
        size -= len(CHUNK)
    if size:
        yield CHUNK[:size]
