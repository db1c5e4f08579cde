"""Log levels people can grep.

What the application writes itself (wsgi.errors, logging on wsgi.errors,
the root logger on sys.stderr, print to sys.stderr, also at import time)
is logged at level [app], one well-formed log line per line of text,
never [error].  What the server finds wrong (an exception the app did not
handle, answered 500) stays [error], with its traceback.  No line of the
log lacks the "[time] [pid] [level]" prefix."""

import wftest as w
from wftest import fcgi as fc
from wftest.load import pm_server

APP = w.app("ops_logging")


def test_levels():
    srv = pm_server("levels", ["-p", "1", "-t", "2"], app=APP)
    routes = {"/errors": ["errors-line T1"], "/multi": ["multi-a T2", "multi-b T2"],
              "/logging": ["WARNING logging-line T3"], "/root": ["INFO myapp: root-line T4"],
              "/print": ["print-line T5"]}
    for i, (path, _) in enumerate(routes.items()):
        r = fc.get(srv.addr, path, "t=T%d" % (i + 1))
        w.eq(r.status, 200, "%s answered" % path)
    r = fc.get(srv.addr, "/raise", "t=T6")
    w.eq(r.status, 500, "/raise: 500")

    def complete():
        text = srv.text()
        return all(s in text for ss in routes.values() for s in ss) and "boom T6" in text
    w.wait_for(complete, 10)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    text = srv.text()
    lines = w.log_lines(text)
    raw = [l for l in text.splitlines() if l.strip() and not w.LOG_LINE.match(l)]
    w.eq(raw, [], "every line of the log has the [time] [pid] [level] prefix")
    for path, wants in routes.items():
        for want in wants:
            got = [(lvl, m) for _, lvl, m in lines if want in m]
            w.eq(got, [("app", want)], "%s: '%s' is one [app] line" % (path, want))
    got = [lvl for _, lvl, m in lines if m == "import-line"]
    w.eq(got, ["app"], "stderr output at import time: [app]")
    boom = [lvl for _, lvl, m in lines if "boom T6" in m]
    w.check(boom and set(boom) == {"error"},
            "the unhandled exception (the server's finding) is [error]", boom)
    w.check(any(lvl == "error" and "answered 500" in m for _, lvl, m in lines),
            "... after an [error] line saying it answered 500")
    w.check(any(lvl == "error" and m.startswith("Traceback") for _, lvl, m in lines),
            "... with its traceback at [error]")
    apps = [m for _, lvl, m in lines if lvl == "app"]
    w.check(not any("Traceback" in m or "boom" in m for m in apps),
            "no server finding is tagged [app]")


if __name__ == "__main__":
    w.main(timeout=120)
