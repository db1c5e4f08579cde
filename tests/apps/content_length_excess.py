"""content_length_excess: declares Content-Length: 5 and produces more.
?mode=one (one chunk b"123456789"), ?mode=many (b"12", b"345", b"6789")."""
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    mode = parse_qs(environ.get("QUERY_STRING", "")).get("mode", ["one"])[0]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", "5")])
    if mode == "many":
        return iter([b"12", b"345", b"6789"])
    return [b"123456789"]


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
