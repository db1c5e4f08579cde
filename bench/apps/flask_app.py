"""A small Flask app: one route answering a short JSON document.

The body is {"hello":"world","items":[1,2,3]} (33 bytes with Flask 3's
compact JSON; bench/run checks the length it measures on the first answer).
"""
from flask import Flask, jsonify

app = Flask(__name__)
application = app


@app.route("/")
def index():
    return jsonify(hello="world", items=[1, 2, 3])
