"""stream: a generator of several chunks; ?empty=N yields N empty chunks
first (headers must wait for the first non-empty one)."""
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    empty = int(q.get("empty", ["0"])[0])
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        for _ in range(empty):
            yield b""
        yield b"one\n"
        yield b""
        yield b"two\n"
        yield b"three\n"
    return gen()


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
