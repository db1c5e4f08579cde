"""no_application: defines no `application` (for --check)."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app\n"]
