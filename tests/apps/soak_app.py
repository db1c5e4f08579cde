"""soak_app: the application of the soak (tests/wftest/soak.py) and the
hostile-client tests.  Every answer names its request, so a client can tell
an answer that belongs to another request.  Routes, by PATH_INFO:

  /hello    "hello " + QUERY_STRING
  /echo     "echo " + QUERY_STRING + " " + the request body
  /up       reads the body in pieces: "up LENGTH CRC32" (hex) of what it read
  /down     ?n=BYTES (default 1 MiB) of pattern(QUERY_STRING), in 64 KiB
            chunks, with Content-Length
  /raise    raises RuntimeError before start_response (a 500)
  /pid      the worker's pid
  /param    ?name=NAME: "param LENGTH CRC32" of environ[NAME] (latin-1)
  /count    ?prefix=P: "count N", the environ keys starting with P
anything else: 404.
"""
import os
import zlib
from urllib.parse import parse_qs

CHUNK = 65536


def pattern(tag, n):
    """n bytes that depend on tag (a client can rebuild and compare them)."""
    seed = (tag.encode("latin-1") + b"|") * 8
    unit = (seed * (CHUNK // len(seed) + 1))[:CHUNK]
    whole, rest = divmod(n, CHUNK)
    return [unit] * whole + ([unit[:rest]] if rest else [])


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    headers = [("Content-Type", "application/octet-stream")]
    if path == "/hello":
        out = [b"hello " + query.encode("latin-1")]
    elif path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        out = [b"echo " + query.encode("latin-1") + b" " + body]
    elif path == "/up":
        inp = environ["wsgi.input"]
        crc = 0
        total = 0
        while True:
            piece = inp.read(CHUNK)
            if not piece:
                break
            total += len(piece)
            crc = zlib.crc32(piece, crc)
        out = [b"up %d %08x" % (total, crc)]
    elif path == "/down":
        n = int(parse_qs(query).get("n", [str(1 << 20)])[0])
        out = pattern(query, n)
        headers.append(("Content-Length", str(n)))
        start_response("200 OK", headers)
        return out
    elif path == "/raise":
        raise RuntimeError("soak: deliberate exception for " + query)
    elif path == "/param":
        val = environ.get(parse_qs(query)["name"][0], "").encode("latin-1")
        out = [b"param %d %08x" % (len(val), zlib.crc32(val))]
    elif path == "/count":
        prefix = parse_qs(query)["prefix"][0]
        out = [b"count %d" % sum(1 for k in environ if k.startswith(prefix))]
    elif path == "/pid":
        out = [str(os.getpid()).encode()]
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    headers.append(("Content-Length", str(sum(len(x) for x in out))))
    start_response("200 OK", headers)
    return out
