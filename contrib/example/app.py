"""The wsgi-fcgi example application: a small page that shows a few environ
values and echoes a form POST.  Plain WSGI (PEP 3333), standard library only.

    wsgi-fcgi -s unix:/run/wsgi-fcgi/app.sock contrib/example/app.py

GET  /        the page, with the request's environ values and a form
POST /        the same page, echoing the submitted form fields
GET  /health  "ok" (text/plain)
anything else 404
"""

import html
from urllib.parse import parse_qsl

MAX_FORM = 64 * 1024

SHOWN = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
         "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
         "HTTP_HOST", "HTTP_USER_AGENT", "wsgi.url_scheme", "wsgi.multithread",
         "wsgi.multiprocess", "wsgi.run_once")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsgi-fcgi example</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; color: #222; }}
h1 {{ font-size: 1.4rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; font-size: .9rem; }}
th {{ width: 12rem; color: #555; font-weight: normal; font-family: monospace; }}
form {{ margin: 1.5rem 0; }}
.echo {{ background: #f4f8f4; padding: .5rem 1rem; border-left: 3px solid #6a6; }}
</style>
</head>
<body>
<h1>wsgi-fcgi is serving this page</h1>
{echo}
<form method="post" action="{action}">
<label>Name <input name="name" value=""></label>
<label>Message <input name="message" value=""></label>
<button type="submit">Send</button>
</form>
<table>
{rows}
</table>
</body>
</html>
"""


def _text(v):
    if isinstance(v, str):
        # environ strings are latin-1 decoded bytes; show them as UTF-8
        try:
            return v.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return v
    return repr(v)


def _read_form(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0 or length > MAX_FORM:
        return None
    data = environ["wsgi.input"].read(length)
    ctype = environ.get("CONTENT_TYPE", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        return None
    return parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True)


def _page(environ, fields):
    rows = "\n".join("<tr><th>%s</th><td>%s</td></tr>" %
                     (html.escape(k), html.escape(_text(environ.get(k, ""))))
                     for k in SHOWN)
    echo = ""
    if fields is not None:
        items = "".join("<li><b>%s</b>: %s</li>" % (html.escape(k), html.escape(v))
                        for k, v in fields)
        echo = '<div class="echo"><p>You sent:</p><ul>%s</ul></div>' % (items or "<li>(nothing)</li>")
    action = html.escape(_text(environ.get("SCRIPT_NAME", "")) + "/", quote=True)
    return PAGE.format(echo=echo, rows=rows, action=action).encode("utf-8")


def application(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "") or "/"
    if path == "/health":
        body = b"ok\n"
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path != "/":
        body = b"not found\n"
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]
    if method not in ("GET", "HEAD", "POST"):
        body = b"method not allowed\n"
        start_response("405 Method Not Allowed",
                       [("Content-Type", "text/plain; charset=utf-8"),
                        ("Allow", "GET, HEAD, POST"),
                        ("Content-Length", str(len(body)))])
        return [body]
    fields = _read_form(environ) if method == "POST" else None
    body = _page(environ, fields)
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
