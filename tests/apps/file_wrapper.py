"""file_wrapper: returns environ['wsgi.file_wrapper'](this file, blksize).
?blksize=N (default 4096)."""
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    blk = int(parse_qs(environ.get("QUERY_STRING", "")).get("blksize", ["4096"])[0])
    f = open(__file__, "rb")
    start_response("200 OK", [("Content-Type", "text/x-python")])
    return environ["wsgi.file_wrapper"](f, blk)


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
