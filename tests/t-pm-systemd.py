"""Socket activation (LISTEN_FDS/LISTEN_PID) with the master.

* systemd-socket-activate -l TMP/s.sock $WSGI_FCGI -p 2 APP: requests
  served by both workers, SIGTERM exits 0 and leaves systemd's socket file.
* contrib/systemd/wsgi-fcgi.{socket,service}: ListenStream, SocketMode,
  ExecStart, ExecReload, KillSignal and Restart are read from the files;
  ExecStart is run under systemd-socket-activate exactly as written except
  for two documented substitutions (/usr/local/bin/wsgi-fcgi -> the built
  binary, /etc/wsgi-fcgi/app.conf -> a copy of contrib/systemd/app.conf
  with /srv/app/app.py -> a test app) and the ListenStream path moved into
  the temp dir; ExecReload (with $MAINPID) reloads, KillSignal stops."""

import os
import shlex
import signal

import wftest as w
from wftest.load import Load, every_worker_serves

ACTIVATE = "/usr/bin/systemd-socket-activate"
UNITS = os.path.join(w.TOP, "contrib", "systemd")


def parse_unit(path):
    """{section: {key: [values]}} of a systemd unit file."""
    out = {}
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = out.setdefault(line[1:-1], {})
                continue
            k, _, v = line.partition("=")
            section.setdefault(k.strip(), []).append(v.strip())
    return out


def serve_and_check(srv, what):
    load = Load(srv.addr, clients=4, count=100)
    w.check(load.run(60), "%s: 400 requests done" % what)
    w.log("# %s: %s" % (what, load.summary()))
    w.eq(load.failed, 0, "%s: no request failed" % what)
    w.eq(load.ok, 400, "%s: 400 exact answers" % what)
    return load


def test_socket_activate():
    w.need_program(ACTIVATE)
    sock = w.tmp("s.sock")
    stats = "unix:" + w.tmp("sa.stats")
    srv = w.Server(name="activate", addr="unix:" + sock, wait=False,
                   argv=[ACTIVATE, "-l", sock, w.WSGI_FCGI, "-p", "2",
                         "--stats", stats, w.app("pm_app")])
    srv.stats_addr = stats
    # The first connection makes systemd-socket-activate exec wsgi-fcgi.
    w.check(w.wait_for(lambda: os.path.exists(sock), 20), "the socket exists")
    srv.wait_ready(workers=2, timeout=30)
    w.check("(systemd)" in srv.text(), "the master says the socket came from systemd")
    st = srv.stats()
    w.eq(st["master"]["pid"], srv.pid,
         "the master is the process systemd-socket-activate became (LISTEN_PID)")
    workers = w.ready_pids(st)
    load = serve_and_check(srv, "socket-activated")
    w.log("# requests per worker: %s" % load.pids)
    # Both workers accept on systemd's socket: with one worker's thread
    # busy, the next connection goes to the other.
    w.check(every_worker_serves(srv, workers), "both workers answered")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    w.check(os.path.exists(sock), "the socket file, systemd's, is left in place")


def test_contrib_units():
    w.need_program(ACTIVATE)
    sock_unit = parse_unit(os.path.join(UNITS, "wsgi-fcgi.socket"))
    svc_unit = parse_unit(os.path.join(UNITS, "wsgi-fcgi.service"))
    listen = sock_unit["Socket"]["ListenStream"]
    w.eq(listen, ["/run/wsgi-fcgi/app.sock"], "socket unit: ListenStream")
    w.eq(sock_unit["Socket"].get("SocketMode"), ["0660"], "socket unit: SocketMode=0660")
    svc = svc_unit["Service"]
    w.eq(svc.get("KillSignal"), ["SIGTERM"], "service: KillSignal=SIGTERM")
    w.eq(svc.get("Restart"), ["on-failure"], "service: Restart=on-failure")
    w.eq(svc.get("ExecReload"), ["/bin/kill -HUP $MAINPID"],
         "service: ExecReload sends SIGHUP to the master")
    w.check("wsgi-fcgi.socket" in " ".join(svc_unit["Unit"].get("Requires", [])),
            "service: Requires=wsgi-fcgi.socket")
    argv = shlex.split(svc["ExecStart"][0])
    w.log("# ExecStart: %s" % argv)
    w.eq(argv[0], "/usr/local/bin/wsgi-fcgi", "ExecStart runs /usr/local/bin/wsgi-fcgi")
    w.eq(argv[1:3], ["--config", "/etc/wsgi-fcgi/app.conf"],
         "ExecStart reads /etc/wsgi-fcgi/app.conf")
    w.check(not any(a in ("-s", "--socket", "--fd") or a.startswith("--socket=")
                    for a in argv), "ExecStart takes the socket from systemd")
    with open(os.path.join(UNITS, "app.conf"), encoding="utf-8") as f:
        conf_text = f.read()
    settings = dict(l.split("=", 1) for l in conf_text.splitlines()
                    if l.strip() and not l.lstrip().startswith("#"))
    settings = {k.strip(): v.strip() for k, v in settings.items()}
    w.eq(settings.get("app"), "/srv/app/app.py", "app.conf serves /srv/app/app.py")
    w.check("socket" not in settings, "app.conf takes the socket from systemd")
    conf = w.write(w.tmp("app.conf"), conf_text.replace("/srv/app/app.py", w.app("pm_app")))
    argv = [w.WSGI_FCGI if a == "/usr/local/bin/wsgi-fcgi" else
            conf if a == "/etc/wsgi-fcgi/app.conf" else a for a in argv]
    procs = int(settings.get("processes", "1"))
    sock = w.tmp(os.path.basename(listen[0]))
    srv = w.Server(name="units", addr="unix:" + sock, wait=False,
                   argv=[ACTIVATE, "-l", sock] + argv)
    w.check(w.wait_for(lambda: os.path.exists(sock), 20), "the socket exists")
    srv.wait_ready(timeout=30)
    kids = w.wait_for(lambda: (lambda c: c if len(c) == procs else None)(
        w.children(srv.pid)), 20)
    w.check(kids, "the master runs the %d workers of ExecStart" % procs, w.children(srv.pid))
    serve_and_check(srv, "contrib units")
    # ExecReload, $MAINPID substituted as systemd does
    reload_argv = [str(srv.pid) if a == "$MAINPID" else a
                   for a in shlex.split(svc["ExecReload"][0])]
    rc = os.spawnv(os.P_WAIT, reload_argv[0], reload_argv)
    w.eq(rc, 0, "ExecReload ran")
    new = w.wait_for(lambda: (lambda c: c if len(c) == procs and not set(c) & set(kids or [])
                              else None)(w.children(srv.pid)), 30)
    w.check(new, "ExecReload: new workers replaced the old ones")
    serve_and_check(srv, "after ExecReload")
    rc = srv.stop(getattr(signal, svc["KillSignal"][0]))
    w.eq(rc, 0, "KillSignal: the master exits 0")
    w.check(os.path.exists(sock), "the socket file, systemd's, is left in place")


if __name__ == "__main__":
    w.main(timeout=240)
