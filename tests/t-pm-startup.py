"""an application that cannot be loaded at start-up under
-p N makes the master exit non-zero quickly (bounded wait), with a clear
line naming the cause, without a fork storm, leaving no socket file."""

import os
import subprocess
import time

import wftest as w


def run_broken(name, app_path, procs, cause):
    sock = w.tmp(name + ".sock")
    cmd = [w.WSGI_FCGI, "-s", "unix:" + sock, "-p", str(procs), "-t", "2",
           "--pidfile", w.tmp(name + ".pid"), app_path]
    w.log("# running: %s" % " ".join(cmd))
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
    except subprocess.TimeoutExpired as e:
        w.fail("%s: still running after 20 s" % name)
        w.log((e.output or b"").decode("utf-8", "replace")[-5000:])
        return
    took = time.monotonic() - t0
    out = p.stdout.decode("utf-8", "replace")
    w.check(p.returncode != 0, "%s: -p %d exits non-zero (%d, after %.2f s, "
            "bounded wait 20 s)" % (name, procs, p.returncode, took))
    lines = w.log_lines(out)
    causes = [m for _, lvl, m in lines
              if lvl == "error" and m.startswith("cannot load application") and cause in m]
    w.check(causes, "%s: an error line names the cause (%s)" % (name, cause))
    if causes:
        w.log("# %s" % causes[0])
    w.check(1 <= len(causes) <= procs,
            "%s: the cause is reported at most once per worker started "
            "(%d line(s) for -p %d)" % (name, len(causes), procs))
    exited = sum(1 for _, _, m in lines if " exited " in m or "killed by" in m)
    w.check(exited < 10, "%s: no fork storm (%d worker exits logged)" % (name, exited))
    w.check(any("cannot be loaded" in m and "exiting" in m for _, _, m in lines),
            "%s: the master says it exits because the app cannot be loaded" % name)
    w.check(not os.path.exists(sock), "%s: no socket file left" % name)
    w.check(not os.path.exists(w.tmp(name + ".pid")), "%s: no pidfile left" % name)
    if w.failed_so_far():
        w.log(out[-5000:])


def test_syntax_error():
    run_broken("syntax", os.path.join(w.APPS, "bad_syntax.py"), 2, "SyntaxError")


def test_syntax_error_p4():
    run_broken("syntax4", os.path.join(w.APPS, "bad_syntax.py"), 4, "SyntaxError")


def test_import_error():
    run_broken("import", os.path.join(w.APPS, "bad_import.py"), 2, "Error")


if __name__ == "__main__":
    w.main(timeout=240)
