"""no_start_response: returns a body without calling start_response
(?empty=1: returns an empty list).  Must become a 500.

Deliberately broken: never wrapped by wsgiref.validate."""
from urllib.parse import parse_qs


def application(environ, start_response):
    if parse_qs(environ.get("QUERY_STRING", "")).get("empty", ["0"])[0] == "1":
        return []
    return [b"no start_response was called\n"]
