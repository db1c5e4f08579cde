"""A small Flask application for the framework matrix (tests/t-matrix-frameworks.py).

Routes: JSON with query arguments, a form POST, a redirect, a non-ASCII path
parameter, cookies, a streamed response, a file download (send_file, which
uses wsgi.file_wrapper), and Flask's own 404 and 405 pages."""
import os

from flask import Flask, Response, jsonify, redirect, request, send_file, url_for

HERE = os.path.dirname(os.path.abspath(__file__))
application = Flask(__name__)


@application.route("/json")
def json_view():
    return jsonify(framework="flask", args=request.args.to_dict(flat=False),
                   script_root=request.script_root, path=request.path)


@application.route("/form", methods=["POST"])
def form():
    return jsonify(form=request.form.to_dict(flat=False),
                   content_type=request.content_type)


@application.route("/redirect")
def go():
    return redirect(url_for("json_view", to="here"))


@application.route("/hello/<name>")
def hello(name):
    return "hello %s from flask\n" % name


@application.route("/cookies")
def cookies():
    resp = jsonify(cookies=request.cookies)
    resp.set_cookie("seen", "yes", path="/")
    return resp


@application.route("/stream")
def stream():
    def gen():
        for i in range(200):
            yield ("line %d %s\n" % (i, "x" * 100)).encode()
    return Response(gen(), mimetype="text/plain")


@application.route("/download")
def download():
    return send_file(os.path.join(HERE, "download.txt"), as_attachment=True,
                     download_name="download.txt", mimetype="text/plain")
