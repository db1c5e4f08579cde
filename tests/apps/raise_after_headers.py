"""raise_after_headers: sends "partial-body\n" then raises
RuntimeError("boom-after-headers").  ?ok=1: the control case (no error)."""
import os


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"partial-body\n"
        if environ.get("QUERY_STRING") == "ok=1":
            return
        raise RuntimeError("boom-after-headers")
    return gen()


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
