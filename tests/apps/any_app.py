"""any_app: dispatches ?app=NAME to tests/apps/NAME.py's application (the
rest of the query string is passed on), so one server can run every test
app, e.g. under valgrind (tests/t-valgrind.py)."""
import importlib
import os
import sys
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Import every app now, at load time: Debian's libpython trips memcheck's
# uninitialised-value check inside int.from_bytes while importing (a known
# false positive, suppressed for the start-up phase only), so nothing is
# imported on the request path.
MODULES = {}
for _f in sorted(os.listdir(HERE)):
    _name = _f[:-3]
    if _f.endswith(".py") and _name.isidentifier() and _name != "any_app" and \
            _name not in ("bad_import", "bad_syntax", "no_application", "not_callable"):
        try:
            MODULES[_name] = importlib.import_module(_name)
        except Exception:   # an app that needs a framework this Python lacks
            pass


def application(environ, start_response):
    name = parse_qs(environ.get("QUERY_STRING", "")).get("app", ["hello"])[0]
    mod = MODULES.get(name)
    if mod is None or not hasattr(mod, "application"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such app\n"]
    return mod.application(environ, start_response)
