"""wsgi_errors: writes to wsgi.errors.  ?token=T is embedded in the lines:
"wsgi-errors-write-T" (write), "wsgi-errors-lines-T-a"/"-b" (writelines)
and "wsgi-errors-partial-T" (no newline, then flush)."""
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    token = parse_qs(environ.get("QUERY_STRING", "")).get("token", ["x"])[0]
    err = environ["wsgi.errors"]
    err.write("wsgi-errors-write-%s\n" % token)
    err.writelines(["wsgi-errors-lines-%s-a\n" % token,
                    "wsgi-errors-lines-%s-b\n" % token])
    err.write("wsgi-errors-partial-%s" % token)
    err.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged\n"]


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
