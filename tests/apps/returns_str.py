"""returns_str: yields str instead of bytes.  ?where=first: the first chunk
is a str (before headers: 500); ?where=later: b"ok-bytes\n" first, then a
str (after headers: the request is ended and logged); ?where=none: the
control case (bytes only).

Deliberately broken: never wrapped by wsgiref.validate."""
from urllib.parse import parse_qs


def application(environ, start_response):
    where = parse_qs(environ.get("QUERY_STRING", "")).get("where", ["first"])[0]
    start_response("200 OK", [("Content-Type", "text/plain")])
    if where == "none":
        return [b"bytes only\n"]
    if where == "first":
        return ["a str, not bytes\n"]

    def gen():
        yield b"ok-bytes\n"
        yield "a str, not bytes\n"
    return gen()
