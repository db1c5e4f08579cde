"""Reference server for the framework matrix: an APP file (wsgi-fcgi's
"path/to/file.py" form, callable `application`) under Python's
wsgiref.simple_server on 127.0.0.1, quiet, one request at a time.

    wsgiref_server.py APP.py PORTFILE

Binds port 0 and writes the port to PORTFILE once listening.  Requests
under /app/ are mounted there (SCRIPT_NAME /app, PATH_INFO the rest), as
nginx's fastcgi_split_path_info does in front of wsgi-fcgi."""

import importlib.util
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

MOUNT = "/app"


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.application


def mounted(app):
    def wrapper(environ, start_response):
        pi = environ.get("PATH_INFO", "")
        if pi.startswith(MOUNT + "/"):
            environ["SCRIPT_NAME"] = MOUNT
            environ["PATH_INFO"] = pi[len(MOUNT):]
        return app(environ, start_response)
    return wrapper


def main():
    app = mounted(load(os.path.abspath(sys.argv[1])))
    httpd = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(httpd.server_address[1]))
    os.rename(tmp, sys.argv[2])
    httpd.serve_forever()


if __name__ == "__main__":
    main()
