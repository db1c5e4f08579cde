"""echo_environ: the environ as JSON.

{"environ": {key: value}, "types": {key: type name}, "extra": {...}}
str values are kept as they are (JSON escapes make any code point safe),
bools and ints as JSON values, tuples as lists, anything else as repr().
"""
import json
import os


def application(environ, start_response):
    env = {}
    types = {}
    for key, value in environ.items():
        types[key] = type(value).__name__
        if isinstance(value, (str, bool, int)):
            env[key] = value
        elif isinstance(value, tuple):
            env[key] = list(value)
        else:
            env[key] = repr(value)
    inp = environ.get("wsgi.input")
    err = environ.get("wsgi.errors")
    extra = {
        "input_methods": [m for m in ("read", "readline", "readlines", "__iter__")
                          if hasattr(inp, m)],
        "errors_methods": [m for m in ("write", "writelines", "flush")
                           if hasattr(err, m)],
        "file_wrapper_callable": callable(environ.get("wsgi.file_wrapper")),
        "pid": os.getpid(),
    }
    body = json.dumps({"environ": env, "types": types, "extra": extra},
                      sort_keys=True).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


# Under WF_TEST_VALIDATE=1 the suite runs once more with every correct app
# wrapped by wsgiref.validate.validator: no assertion may fire.
if os.environ.get("WF_TEST_VALIDATE") == "1":
    from wsgiref.validate import validator
    application = validator(application)
