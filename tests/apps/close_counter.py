"""close_counter: an iterable whose close() appends "close PRODUCED" to the
file named by ?file=PATH (or the WF_CLOSE_FILE environ/param).

?mode=ok           three chunks
?mode=raise_mid    one chunk, then RuntimeError("close-counter-mid")
?mode=raise_first  RuntimeError("close-counter-first") before any chunk
?mode=str_first    a str as first chunk (server error before headers)
?mode=big&count=N  N chunks of 64 KiB (for client-disconnect tests)
?mode=close_raises three chunks; close() records, then raises
"""
import os
from urllib.parse import parse_qs

CHUNK = b"x" * 65536


class Body:
    def __init__(self, path, mode, count):
        self.path = path
        self.mode = mode
        self.count = count
        self.produced = 0

    def __iter__(self):
        return self

    def __next__(self):
        m = self.mode
        if m == "raise_first":
            raise RuntimeError("close-counter-first")
        if m == "str_first":
            self.produced += 1
            return "a str"
        if m == "raise_mid" and self.produced == 1:
            raise RuntimeError("close-counter-mid")
        if m == "big":
            if self.produced >= self.count:
                raise StopIteration
            self.produced += 1
            return CHUNK
        if self.produced >= 3:
            raise StopIteration
        self.produced += 1
        return b"chunk%d\n" % self.produced

    def close(self):
        if self.path:
            with open(self.path, "a") as f:
                f.write("close %d\n" % self.produced)
        if self.mode == "close_raises":
            raise RuntimeError("close-counter-close-raises")


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    path = q.get("file", [environ.get("WF_CLOSE_FILE", "")])[0]
    mode = q.get("mode", ["ok"])[0]
    count = int(q.get("count", ["4096"])[0])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Body(path, mode, count)


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
