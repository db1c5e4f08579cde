"""non_ascii: non-ASCII latin-1 in headers, and PATH_INFO echoed.

Headers: X-Latin: "caf\xe9 \xa0\xff", X-Path: PATH_INFO as received.
Body: PATH_INFO encoded back to latin-1 (the original bytes)."""
import os


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    body = path.encode("latin-1")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("X-Latin", "caf\xe9 \xa0\xff"),
                              ("X-Path", path)])
    return [body]


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
