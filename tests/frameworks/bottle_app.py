"""A small Bottle application for the framework matrix (tests/t-matrix-frameworks.py).

The same routes as flask_app.py; static_file serves the download (through
wsgi.file_wrapper when the server offers it)."""
import json
import os

import bottle
from bottle import Bottle, redirect, request, response, static_file

HERE = os.path.dirname(os.path.abspath(__file__))
application = Bottle()


@application.route("/json")
def json_view():
    response.content_type = "application/json"
    return json.dumps({"framework": "bottle", "args": {k: request.query.getall(k)
                                                       for k in request.query},
                       "script_name": request.script_name, "path": request.path},
                      sort_keys=True)


@application.post("/form")
def form():
    response.content_type = "application/json"
    return json.dumps({"form": {k: request.forms.getall(k) for k in request.forms},
                       "content_type": request.content_type}, sort_keys=True)


@application.route("/redirect")
def go():
    # bottle answers 303 to HTTP/1.1 clients unless told otherwise
    redirect(request.script_name.rstrip("/") + "/json?to=here", 302)


@application.route("/hello/<name>")
def hello(name):
    return "hello %s from bottle\n" % name


@application.route("/cookies")
def cookies():
    response.set_cookie("seen", "yes", path="/")
    response.content_type = "application/json"
    return json.dumps({"cookies": dict(request.cookies)}, sort_keys=True)


@application.route("/stream")
def stream():
    response.content_type = "text/plain"
    for i in range(200):
        yield "line %d %s\n" % (i, "x" * 100)


@application.route("/download")
def download():
    return static_file("download.txt", root=HERE, mimetype="text/plain",
                       download="download.txt")


bottle.debug(False)
