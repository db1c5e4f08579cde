"""--config FILE, black box.

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

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load

ACTIVATE = "/usr/bin/systemd-socket-activate"


def config_text(name, extra=""):
    return ("# wsgi-fcgi test configuration\n"
            "\n"
            "app = %s\n"
            "socket = unix:%s\n"
            "   stats=unix:%s   \n"
            "processes = 2\n"
            "threads\t=\t2\n"
            "graceful_timeout = 10\n"
            "%s" % (w.app("pm_app"), w.tmp(name + ".sock"), w.tmp(name + ".stats"), extra))


def from_file(name, conf, args=(), server=None):
    """wsgi-fcgi --config CONF [ARGS] (its log: TMP/SERVER.log): the socket
    and the stats socket are the file's, those config_text(name) writes."""
    srv = w.Server(name=server or name, addr="unix:" + w.tmp(name + ".sock"), wait=False,
                   argv=[w.WSGI_FCGI, "--config", conf] + list(args))
    srv.stats_addr = "unix:" + w.tmp(name + ".stats")
    srv.wait_ready()
    return srv


def wsgi_fcgi(args, timeout=30):
    return w.run([w.WSGI_FCGI] + args, timeout=timeout)


def test_serves_what_the_file_says():
    conf = w.write(w.tmp("cfg.conf"), config_text("cfg"))
    srv = from_file("cfg", conf)
    st = srv.stats()
    w.eq(len(w.ready_pids(st)), 2, "processes = 2 from the file: two workers")
    w.eq(st["master"]["threads"], 2, "threads = 2 from the file")
    load = Load(srv.addr, clients=4, count=50)
    w.check(load.run(60), "200 requests done")
    w.log("# %s" % load.summary())
    w.eq(load.failed, 0, "no request failed")
    w.eq(load.ok, 200, "200 exact answers")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")

    # The command line wins over the file.
    srv = from_file("cfg", conf, ["-p", "1"], server="cfg-p1")
    w.eq(len(w.ready_pids(srv.stats())), 1, "--config FILE -p 1: one worker")
    w.check("1 process x 2 threads" in srv.text(),
            "the start-up line says 1 process x 2 threads")
    r = fc.get(srv.addr, "/echo", "x=1")
    w.eq(r.status, 200, "served")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_check_reports_merged_settings():
    conf = w.write(w.tmp("chk.conf"),
                   config_text("chk", "pythonpath = /p1\npythonpath = /p2\n"))
    p = wsgi_fcgi(["--check", "--config", conf, "-t", "3"])
    out = p.stdout.decode()
    w.log(out)
    w.eq(p.returncode, 0, "--check --config exits 0 for a loadable app")
    lines = {l.split("(")[0].strip(): l.rsplit("(", 1)[-1].rstrip(")")
             for l in out.splitlines() if l.startswith("  ")}
    w.eq(lines.get("app = " + w.app("pm_app")), "%s:3" % conf, "app: from FILE:3")
    w.eq(lines.get("processes = 2"), "%s:6" % conf, "processes: from FILE:6")
    w.eq(lines.get("threads = 3"), "command line", "threads: the command line's")
    w.eq(lines.get("graceful-timeout = 10"), "%s:8" % conf,
         "graceful_timeout written with '_': from FILE:8")
    w.eq(lines.get("pythonpath = /p1"), "%s:9" % conf, "pythonpath /p1: FILE:9")
    w.eq(lines.get("pythonpath = /p2"), "%s:10" % conf, "pythonpath /p2: FILE:10")
    w.eq(lines.get("backlog = 1024"), "default", "backlog: the default")
    w.eq(lines.get("pidfile"), "not set", "pidfile: not set")
    w.check("is loadable" in out, "the application was loaded")

    bad = w.write(w.tmp("chkbad.conf"), "app = %s\nprocesses = 4\n" % w.app("bad_syntax"))
    p = wsgi_fcgi(["--check", "--config", bad])
    out = p.stdout.decode()
    w.eq(p.returncode, 1, "--check exits 1 when the app cannot be loaded")
    w.check("processes = 4" in out, "... after reporting the settings")
    w.check("SyntaxError" in p.stderr.decode(), "... with the cause on stderr")


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
        conf = w.write(w.tmp("bad%d.conf" % i), text)
        p = wsgi_fcgi(["--config", conf, w.app("pm_app")], timeout=10)
        err = p.stderr.decode()
        w.eq(p.returncode, 2, "bad file #%d: exit 2" % i)
        w.check(err.count("\n") == 1 and ("%s:%d: " % (conf, line)) in err and needle in err,
                "bad file #%d: one line naming %s:%d (%s)" % (i, os.path.basename(conf), line,
                                                             needle), err)
    p = wsgi_fcgi(["--config", w.tmp("missing.conf"), w.app("pm_app")], timeout=10)
    w.eq(p.returncode, 2, "a missing file: exit 2")
    w.check("missing.conf" in p.stderr.decode(), "... naming the file")


def test_socket_from_systemd():
    """What a template unit does: wsgi-fcgi --config /etc/wsgi-fcgi/%i.conf
    under socket activation, the file naming no socket."""
    w.need_program(ACTIVATE)
    sock = w.tmp("act.sock")
    stats = "unix:" + w.tmp("act.stats")
    conf = w.write(w.tmp("act.conf"),
                   "app = %s\nprocesses = 2\nstats = %s\n" % (w.app("pm_app"), stats))
    srv = w.Server(name="act", addr="unix:" + sock, wait=False,
                   argv=[ACTIVATE, "-l", sock, w.WSGI_FCGI, "--config", conf])
    srv.stats_addr = stats
    w.check(w.wait_for(lambda: os.path.exists(sock), 20), "the socket exists")
    srv.wait_ready(workers=2, timeout=30)
    w.check("(systemd)" in srv.text(), "the socket came from systemd")
    r = fc.get(srv.addr, "/echo", "act=1")
    w.check(r.status == 200 and bytes(r.body) == b"echo act=1 ", "served", repr(r))
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=180)
