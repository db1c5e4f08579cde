"""big_download: ?n=BYTES&chunk=SIZE[&cl=1] streams a deterministic pattern
(byte i is i % 251) in chunks from a generator; cl=1 declares
Content-Length."""
import os
from urllib.parse import parse_qs

PRIME = 251


def pattern(offset, size):
    base = bytes(range(PRIME))
    start = offset % PRIME
    reps = (start + size) // PRIME + 1
    return (base * reps)[start:start + size]


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    n = int(q.get("n", ["1048576"])[0])
    chunk = int(q.get("chunk", ["65536"])[0])
    headers = [("Content-Type", "application/octet-stream")]
    if q.get("cl", ["0"])[0] == "1":
        headers.append(("Content-Length", str(n)))
    start_response("200 OK", headers)

    def gen():
        off = 0
        while off < n:
            size = min(chunk, n - off)
            yield pattern(off, size)
            off += size
    return gen()


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
