"""t-ops-logs: log levels people can grep.

What the application writes itself (wsgi.errors, logging on wsgi.errors,
the root logger on sys.stderr, print to sys.stderr, also at import time)
is logged at level [app], one well-formed log line per line of text,
never [error].  What the server finds wrong (an exception the app did not
handle, answered 500) stays [error], with its traceback.  No line of the
log lacks the "[time] [pid] [level]" prefix."""

import pm_lib as pm

APP = pm.app("ops_logging")


def test_levels():
    srv = pm.Server("levels", ["-p", "1", "-t", "2"], app_path=APP)
    routes = {"/errors": ["errors-line T1"], "/multi": ["multi-a T2", "multi-b T2"],
              "/logging": ["WARNING logging-line T3"], "/root": ["INFO myapp: root-line T4"],
              "/print": ["print-line T5"]}
    for i, (path, _) in enumerate(routes.items()):
        r = pm.get(srv.addr, path, "t=T%d" % (i + 1))
        pm.check_eq(200, r.status, "%s answered" % path)
    r = pm.get(srv.addr, "/raise", "t=T6")
    pm.check_eq(500, r.status, "/raise: 500")

    def complete():
        text = srv.log_text()
        return all(w in text for ws in routes.values() for w in ws) and "boom T6" in text
    pm.wait_until(complete, 10)
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")
    text = srv.log_text()
    lines = pm.log_lines(text)
    raw = [l for l in text.splitlines() if l.strip() and not pm.LOG_LINE.match(l)]
    pm.check_eq([], raw, "every line of the log has the [time] [pid] [level] prefix")
    for path, wants in routes.items():
        for want in wants:
            got = [(lvl, m) for _, lvl, m in lines if want in m]
            pm.check_eq([("app", want)], got, "%s: '%s' is one [app] line" % (path, want))
    got = [lvl for _, lvl, m in lines if m == "import-line"]
    pm.check_eq(["app"], got, "stderr output at import time: [app]")
    boom = [lvl for _, lvl, m in lines if "boom T6" in m]
    pm.check(boom and set(boom) == {"error"},
             "the unhandled exception (the server's finding) is [error]", boom)
    pm.check(any(lvl == "error" and "answered 500" in m for _, lvl, m in lines),
             "... after an [error] line saying it answered 500")
    pm.check(any(lvl == "error" and m.startswith("Traceback") for _, lvl, m in lines),
             "... with its traceback at [error]")
    apps = [m for _, lvl, m in lines if lvl == "app"]
    pm.check(not any("Traceback" in m or "boom" in m for m in apps),
             "no server finding is tagged [app]")


if __name__ == "__main__":
    pm.main(test_levels)
