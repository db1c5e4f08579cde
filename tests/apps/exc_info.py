"""exc_info: start_response called again with exc_info.

?mode=before       200 + X-First, then (exc_info) 503 + X-Second: the
                   replacement wins, body "replaced body"
?mode=after_empty  the same, but from inside the iteration after yielding
                   only b"" (headers not sent yet): replacement wins
?mode=after        yields b"first-chunk", then start_response(exc_info)
                   must re-raise ValueError("exc-info-after")
?mode=twice        start_response twice without exc_info: an error (500)
?mode=ok           the control case: a plain 200
"""
import os
import sys
from urllib.parse import parse_qs

CT = ("Content-Type", "text/plain")


def application(environ, start_response):
    mode = parse_qs(environ.get("QUERY_STRING", "")).get("mode", ["before"])[0]
    if mode == "ok":
        start_response("200 OK", [CT])
        return [b"ok"]
    if mode == "twice":
        start_response("200 OK", [CT])
        start_response("201 Created", [CT])
        return [b"twice"]
    start_response("200 OK", [CT, ("X-First", "1")])
    if mode == "before":
        try:
            raise ValueError("exc-info-before")
        except ValueError:
            start_response("503 Replaced", [CT, ("X-Second", "1")], sys.exc_info())
        return [b"replaced body"]

    def gen():
        if mode == "after_empty":
            yield b""
            try:
                raise ValueError("exc-info-after-empty")
            except ValueError:
                start_response("503 Replaced", [CT, ("X-Second", "1")],
                               sys.exc_info())
            yield b"replaced body"
            return
        yield b"first-chunk"
        try:
            raise ValueError("exc-info-after")
        except ValueError:
            start_response("500 Too Late", [CT], sys.exc_info())
        yield b"must-not-be-sent"
    return gen()


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
