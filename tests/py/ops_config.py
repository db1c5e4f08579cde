"""t-ops-config: --config FILE, black box.

* A file with app, socket, stats, processes and threads (comments, blank
  lines, odd spacing, an underscore name): the server runs exactly what it
  says (2 workers answer 200 requests).
* The command line wins: "--config FILE -p 1" runs one worker.
* --check --config FILE prints every merged setting with its origin
  (FILE:LINE, command line, default) and exits 0; with an app that cannot
  load it still prints them and exits 1.
* A bad line exits 2 at once with one line on stderr naming FILE:LINE.
* The file alone, socket from systemd (as a template unit
  "wsgi-fcgi --config /etc/wsgi-fcgi/%i.conf" runs it): serves."""

import os
import subprocess

import pm_lib as pm

ACTIVATE = "/usr/bin/systemd-socket-activate"


def write(name, text):
    path = pm.tmp(name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def config_text(name, extra=""):
    return ("# wsgi-fcgi test configuration\n"
            "\n"
            "app = %s\n"
            "socket = unix:%s\n"
            "   stats=unix:%s   \n"
            "processes = 2\n"
            "threads\t=\t2\n"
            "graceful_timeout = 10\n"
            "%s" % (pm.app(), pm.tmp(name + ".sock"), pm.tmp(name + ".stats"), extra))


def run(args, timeout=30):
    return subprocess.run([pm.WSGI_FCGI] + args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def test_serves_what_the_file_says():
    conf = write("cfg.conf", config_text("cfg"))
    srv = pm.Server("cfg", [], cmd=[pm.WSGI_FCGI, "--config", conf])
    st = srv.stats()
    pm.check_eq(2, len(pm.ready_pids(st)), "processes = 2 from the file: two workers")
    pm.check_eq(2, st["master"]["threads"], "threads = 2 from the file")
    load = pm.Load(srv.addr, clients=4, count=50, retry_stale=True)
    pm.check(load.run(60), "200 requests done")
    pm.log("# %s" % load.summary())
    pm.check_eq(0, load.failed, "no request failed")
    pm.check_eq(200, load.ok, "200 exact answers")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")

    # The command line wins over the file.
    srv = pm.Server("cfg", [], cmd=[pm.WSGI_FCGI, "--config", conf, "-p", "1"])
    pm.check_eq(1, len(pm.ready_pids(srv.stats())), "--config FILE -p 1: one worker")
    pm.check("1 process x 2 threads" in srv.log_text(),
             "the start-up line says 1 process x 2 threads")
    r = pm.get(srv.addr, "/echo", "x=1")
    pm.check_eq(200, r.status, "served")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


def test_check_reports_merged_settings():
    conf = write("chk.conf", config_text("chk", "pythonpath = /p1\npythonpath = /p2\n"))
    p = run(["--check", "--config", conf, "-t", "3"])
    out = p.stdout.decode()
    pm.log(out)
    pm.check_eq(0, p.returncode, "--check --config exits 0 for a loadable app")
    lines = {l.split("(")[0].strip(): l.rsplit("(", 1)[-1].rstrip(")")
             for l in out.splitlines() if l.startswith("  ")}
    pm.check_eq("%s:3" % conf, lines.get("app = " + pm.app()), "app: from FILE:3")
    pm.check_eq("%s:6" % conf, lines.get("processes = 2"), "processes: from FILE:6")
    pm.check_eq("command line", lines.get("threads = 3"), "threads: the command line's")
    pm.check_eq("%s:8" % conf, lines.get("graceful-timeout = 10"),
                "graceful_timeout written with '_': from FILE:8")
    pm.check_eq("%s:9" % conf, lines.get("pythonpath = /p1"), "pythonpath /p1: FILE:9")
    pm.check_eq("%s:10" % conf, lines.get("pythonpath = /p2"), "pythonpath /p2: FILE:10")
    pm.check_eq("default", lines.get("backlog = 1024"), "backlog: the default")
    pm.check_eq("not set", lines.get("pidfile"), "pidfile: not set")
    pm.check("is loadable" in out, "the application was loaded")

    bad = write("chkbad.conf", "app = %s\nprocesses = 4\n" % pm.app("bad_syntax"))
    p = run(["--check", "--config", bad])
    out = p.stdout.decode()
    pm.check_eq(1, p.returncode, "--check exits 1 when the app cannot be loaded")
    pm.check("processes = 4" in out, "... after reporting the settings")
    pm.check("SyntaxError" in p.stderr.decode(), "... with the cause on stderr")


def test_bad_lines():
    cases = [
        ("threads = many\n", 1, "--threads"),
        ("# fine\nprocesses = 2\nbogus = 1\n", 3, "unknown option 'bogus'"),
        ("\n\nthreads\n", 3, "name = value"),
        ("threads = 2\nthreads = 3\n", 2, "twice"),
        ("scgi = perhaps\n", 1, "boolean"),
        ("config = /etc/other.conf\n", 1, "cannot be used"),
    ]
    for i, (text, line, needle) in enumerate(cases):
        conf = write("bad%d.conf" % i, text)
        p = run(["--config", conf, pm.app()], timeout=10)
        err = p.stderr.decode()
        pm.check_eq(2, p.returncode, "bad file #%d: exit 2" % i)
        pm.check(err.count("\n") == 1 and ("%s:%d: " % (conf, line)) in err and needle in err,
                 "bad file #%d: one line naming %s:%d (%s)" % (i, os.path.basename(conf), line,
                                                              needle), err)
    p = run(["--config", pm.tmp("missing.conf"), pm.app()], timeout=10)
    pm.check_eq(2, p.returncode, "a missing file: exit 2")
    pm.check("missing.conf" in p.stderr.decode(), "... naming the file")


def test_socket_from_systemd():
    """What a template unit does: wsgi-fcgi --config /etc/wsgi-fcgi/%i.conf
    under socket activation, the file naming no socket."""
    pm.need(ACTIVATE)
    sock = pm.tmp("act.sock")
    stats = "unix:" + pm.tmp("act.stats")
    conf = write("act.conf", "app = %s\nprocesses = 2\nstats = %s\n" % (pm.app(), stats))
    srv = pm.Server("act", [], sock=sock, stats=False, wait=False,
                    cmd=[ACTIVATE, "-l", sock, pm.WSGI_FCGI, "--config", conf])
    srv.stats_addr = stats
    pm.check(pm.wait_until(lambda: os.path.exists(sock), 20), "the socket exists")
    srv.wait_ready(workers=2, timeout=30)
    pm.check("(systemd)" in srv.log_text(), "the socket came from systemd")
    r = pm.get(srv.addr, "/echo", "act=1")
    pm.check(r.status == 200 and bytes(r.body) == b"echo act=1 ", "served", repr(r))
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


if __name__ == "__main__":
    pm.main(test_serves_what_the_file_says, test_check_reports_merged_settings,
            test_bad_lines, test_socket_from_systemd)
