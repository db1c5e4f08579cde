"""t-pm-systemd: socket activation (LISTEN_FDS/LISTEN_PID) with the master.

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

import pm_lib as pm

ACTIVATE = "/usr/bin/systemd-socket-activate"
UNITS = os.path.join(pm.TOP, "contrib", "systemd")


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
    load = pm.Load(srv.addr, clients=4, count=100, retry_stale=True)
    pm.check(load.run(60), "%s: 400 requests done" % what)
    pm.log("# %s: %s" % (what, load.summary()))
    pm.check_eq(0, load.failed, "%s: no request failed" % what)
    pm.check_eq(400, load.ok, "%s: 400 exact answers" % what)
    return load


def test_socket_activate():
    pm.need(ACTIVATE)
    sock = pm.tmp("s.sock")
    stats = "unix:" + pm.tmp("sa.stats")
    srv = pm.Server("activate", [], sock=sock, stats=False, wait=False,
                    cmd=[ACTIVATE, "-l", sock, pm.WSGI_FCGI, "-p", "2",
                         "--stats", stats, pm.app()])
    srv.stats_addr = stats
    # The first connection makes systemd-socket-activate exec wsgi-fcgi.
    pm.check(pm.wait_until(lambda: os.path.exists(sock), 20), "the socket exists")
    srv.wait_ready(workers=2, timeout=30)
    pm.check("(systemd)" in srv.log_text(), "the master says the socket came from systemd")
    st = srv.stats()
    pm.check_eq(srv.pid, st["master"]["pid"],
                "the master is the process systemd-socket-activate became (LISTEN_PID)")
    workers = pm.ready_pids(st)
    load = serve_and_check(srv, "socket-activated")
    # With 4 kept clients on 2 x 1 thread both workers answer.
    pm.check_eq(workers, sorted(int(p) for p in load.pids), "both workers answered")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")
    pm.check(os.path.exists(sock), "the socket file, systemd's, is left in place")


def test_contrib_units():
    pm.need(ACTIVATE)
    sock_unit = parse_unit(os.path.join(UNITS, "wsgi-fcgi.socket"))
    svc_unit = parse_unit(os.path.join(UNITS, "wsgi-fcgi.service"))
    listen = sock_unit["Socket"]["ListenStream"]
    pm.check_eq(["/run/wsgi-fcgi/app.sock"], listen, "socket unit: ListenStream")
    pm.check_eq(["0660"], sock_unit["Socket"].get("SocketMode"), "socket unit: SocketMode=0660")
    svc = svc_unit["Service"]
    pm.check_eq(["SIGTERM"], svc.get("KillSignal"), "service: KillSignal=SIGTERM")
    pm.check_eq(["on-failure"], svc.get("Restart"), "service: Restart=on-failure")
    pm.check_eq(["/bin/kill -HUP $MAINPID"], svc.get("ExecReload"),
                "service: ExecReload sends SIGHUP to the master")
    pm.check("wsgi-fcgi.socket" in " ".join(svc_unit["Unit"].get("Requires", [])),
             "service: Requires=wsgi-fcgi.socket")
    argv = shlex.split(svc["ExecStart"][0])
    pm.log("# ExecStart: %s" % argv)
    pm.check_eq("/usr/local/bin/wsgi-fcgi", argv[0], "ExecStart runs /usr/local/bin/wsgi-fcgi")
    pm.check_eq(["--config", "/etc/wsgi-fcgi/app.conf"], argv[1:3],
                "ExecStart reads /etc/wsgi-fcgi/app.conf")
    pm.check(not any(a in ("-s", "--socket", "--fd") or a.startswith("--socket=")
                     for a in argv), "ExecStart takes the socket from systemd")
    with open(os.path.join(UNITS, "app.conf"), encoding="utf-8") as f:
        conf_text = f.read()
    settings = dict(l.split("=", 1) for l in conf_text.splitlines()
                    if l.strip() and not l.lstrip().startswith("#"))
    settings = {k.strip(): v.strip() for k, v in settings.items()}
    pm.check_eq("/srv/app/app.py", settings.get("app"), "app.conf serves /srv/app/app.py")
    pm.check("socket" not in settings, "app.conf takes the socket from systemd")
    conf = pm.tmp("app.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(conf_text.replace("/srv/app/app.py", pm.app()))
    argv = [pm.WSGI_FCGI if a == "/usr/local/bin/wsgi-fcgi" else
            conf if a == "/etc/wsgi-fcgi/app.conf" else a for a in argv]
    procs = int(settings.get("processes", "1"))
    sock = pm.tmp(os.path.basename(listen[0]))
    srv = pm.Server("units", [], sock=sock, stats=False, wait=False,
                    cmd=[ACTIVATE, "-l", sock] + argv)
    pm.check(pm.wait_until(lambda: os.path.exists(sock), 20), "the socket exists")
    srv.wait_ready(timeout=30)
    kids = pm.wait_until(lambda: (lambda c: c if len(c) == procs else None)(
        pm.children(srv.pid)), 20)
    pm.check(kids, "the master runs the %d workers of ExecStart" % procs, pm.children(srv.pid))
    serve_and_check(srv, "contrib units")
    # ExecReload, $MAINPID substituted as systemd does
    reload_argv = [str(srv.pid) if a == "$MAINPID" else a
                   for a in shlex.split(svc["ExecReload"][0])]
    rc = os.spawnv(os.P_WAIT, reload_argv[0], reload_argv)
    pm.check_eq(0, rc, "ExecReload ran")
    new = pm.wait_until(lambda: (lambda c: c if len(c) == procs and not set(c) & set(kids or [])
                                 else None)(pm.children(srv.pid)), 30)
    pm.check(new, "ExecReload: new workers replaced the old ones")
    serve_and_check(srv, "after ExecReload")
    rc = srv.stop(getattr(signal, svc["KillSignal"][0]))
    pm.check_eq(0, rc, "KillSignal: the master exits 0")
    pm.check(os.path.exists(sock), "the socket file, systemd's, is left in place")


if __name__ == "__main__":
    pm.main(test_socket_activate, test_contrib_units)
