"""matrix_app: the application every cell of the front-end matrix serves.

It routes on the first segment of PATH_INFO, so a front (or a fix-up) that
splits SCRIPT_NAME/PATH_INFO wrongly gets a 404 with the route it saw:

  /env/...        200, the environ as JSON (its str and bool values)
  /upload         200, JSON {"length": N, "sha256": HEX} of the request body
  /stream?n=N     200, N bytes (bytes(range(251)) repeated) in 64 KiB chunks
                  from a generator, no Content-Length
  /redirect       302, Location = the application's absolute URL + "/target"
                  (built like wsgiref.util.application_uri: scheme, HTTP_HOST
                  or SERVER_NAME:SERVER_PORT, quoted SCRIPT_NAME)
  /target         200, "target"
  /pid            200, the serving process's PID (which backend answered)
  anything else   404, "no route for PATH_INFO=..."
"""
import hashlib
import json
import os
from urllib.parse import parse_qs, quote

PATTERN = bytes(range(251))


def app_url(environ):
    scheme = environ["wsgi.url_scheme"]
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ["SERVER_NAME"]
        port = environ["SERVER_PORT"]
        if (scheme, port) not in (("http", "80"), ("https", "443")):
            host += ":" + port
    sn = environ.get("SCRIPT_NAME", "").encode("latin-1")
    return scheme + "://" + host + quote(sn)


def stream(n):
    chunk = PATTERN * (65536 // len(PATTERN) + 1)
    done = 0
    while done < n:
        k = min(n - done, 65536)
        start = done % len(PATTERN)
        yield (chunk[start:] + chunk)[:k]
        done += k


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    route = path.split("/")[1] if path.startswith("/") else ""
    if route == "env":
        env = {k: v for k, v in environ.items() if isinstance(v, (str, bool))}
        body = json.dumps(env, sort_keys=True).encode("ascii")
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if route == "upload":
        h = hashlib.sha256()
        n = 0
        inp = environ["wsgi.input"]
        while True:
            b = inp.read(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
        body = json.dumps({"length": n, "sha256": h.hexdigest()}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if route == "stream":
        q = parse_qs(environ.get("QUERY_STRING", ""))
        n = int(q.get("n", ["1048576"])[0])
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return stream(n)
    if route == "redirect":
        start_response("302 Found", [("Location", app_url(environ) + "/target"),
                                     ("Content-Type", "text/plain"),
                                     ("Content-Length", "5")])
        return [b"moved"]
    if route == "pid":
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if route == "target":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"target"]
    body = ("no route for PATH_INFO=%r SCRIPT_NAME=%r"
            % (path, environ.get("SCRIPT_NAME"))).encode("utf-8", "replace")
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))])
    return [body]
