"""raise_before_headers: raises ValueError("boom-before-headers") before any
body byte.  ?where=call (before start_response), sr (after start_response,
before returning), iter (in the first step of the iteration); where=none is
the control case (a normal 200)."""
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    where = parse_qs(environ.get("QUERY_STRING", "")).get("where", ["call"])[0]
    if where == "none":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"no error\n"]
    if where == "call":
        raise ValueError("boom-before-headers")
    start_response("200 OK", [("Content-Type", "text/plain")])
    if where == "sr":
        raise ValueError("boom-before-headers")

    def gen():
        raise ValueError("boom-before-headers")
        yield b"never"
    return gen()


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
