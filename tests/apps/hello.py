"""hello: the smallest correct app, plus extra names for the APP forms.

  application  -> "Hello, world!\n"
  other        -> "other\n"            (file.py:other, --callable other)
  factory()    -> an app saying "factory\n"
  not_callable -> 42
"""
import os


def _make(text):
    body = text.encode("ascii")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


application = _make("Hello, world!\n")
other = _make("other\n")
not_callable = 42


def factory():
    return _make("factory\n")


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
