"""A small Flask app: one route answering a short JSON document.

The body is {"hello":"world","items":[1,2,3]} (34 bytes with Flask 3's
compact JSON and its trailing newline; bench/run checks the exact bytes).
"""
from flask import Flask, jsonify

app = Flask(__name__)
application = app


@app.route("/")
def index():
    return jsonify(hello="world", items=[1, 2, 3])
