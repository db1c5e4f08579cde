"""wfpkg.web: application, api, create_app() -- each answers its own name."""
import os


def _make(text):
    body = text.encode("ascii")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


application = _make("wfpkg.web:application\n")
api = _make("wfpkg.web:api\n")
CALLS = []


def create_app():
    CALLS.append(1)
    return _make("wfpkg.web:create_app() #%d\n" % len(CALLS))


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
