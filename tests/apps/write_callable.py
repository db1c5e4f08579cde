"""write_callable: uses the write() that start_response returns.

?mode=mixed   write(b"part1,"), write(b"part2,"), returns [b"part3"]
?mode=only    write(b"only-write") and returns []
?mode=empty   write(b""), then returns a generator of b"after-empty"
"""
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    mode = parse_qs(environ.get("QUERY_STRING", "")).get("mode", ["mixed"])[0]
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    if mode == "only":
        write(b"only-write")
        return []
    if mode == "empty":
        write(b"")

        def gen():
            yield b"after-empty"
        return gen()
    write(b"part1,")
    write(b"part2,")
    return [b"part3"]


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
