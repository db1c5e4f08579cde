"""no_start_response: returns a body without calling start_response
(?empty=1: returns an empty list).  Must become a 500.  ?ok=1: the
control case (start_response called).

Deliberately broken: never wrapped by wsgiref.validate."""
from urllib.parse import parse_qs


def application(environ, start_response):
    if environ.get("QUERY_STRING") == "ok=1":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"start_response was called\n"]
    if parse_qs(environ.get("QUERY_STRING", "")).get("empty", ["0"])[0] == "1":
        return []
    return [b"no start_response was called\n"]
