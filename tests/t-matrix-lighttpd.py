"""Matrix cells behind a real lighttpd (lighttpd -D, one instance per cell,
everything in the temp dir), every fragment rendered from contrib/lighttpd:

  * mod_fastcgi "socket" to a wsgi-fcgi we start (wsgi-fcgi.conf)
  * mod_fastcgi "socket" + "bin-path": lighttpd spawns wsgi-fcgi with the
    listening socket on fd 0 (wsgi-fcgi-spawn.conf)
  * mod_fastcgi "host"/"port" + "bin-path" mounted under /app (TCP on fd 0;
    wsgi-fcgi-spawn.conf with those three documented changes)
  * lighttpd's raw root-mount split (after the first path segment: /env/x
    gives SCRIPT_NAME /env, PATH_INFO /x), shown, and fixed by
    wsgi-fcgi --script-name / (wsgi-fcgi.conf without fix-root-scriptname,
    as its comment documents)
  * mod_scgi to wsgi-fcgi --scgi, at / (wsgi-scgi.conf) and under /app (its
    documented prefix form)
"""

import os

import wftest as w
from wftest import http_client as hc
from wftest import suites, web

APP = w.app("matrix_app")
NO_FIX = ['"fix-root-scriptname"']
UNDER_APP = [('"/" =>', '"/app" =>')]


def test_lighttpd_cells():
    w.need_program(web.LIGHTTPD)
    cells = []

    # --- socket: wsgi-fcgi started by us
    sock = w.tmp("fcgi.sock")
    w.Server(APP, name="wsgi-socket", addr="unix:" + sock)
    port = w.free_port()
    web.start_lighttpd("lighttpd-socket", port,
                       web.lighttpd_site("wsgi-fcgi.conf", {"SOCKET": sock}),
                       fake_https=True, wait_path="/env")
    cells.append(("lighttpd fastcgi socket / (contrib)", port, ""))

    # --- socket + bin-path: lighttpd spawns wsgi-fcgi on fd 0
    port = w.free_port()
    web.start_lighttpd("lighttpd-spawn", port, web.lighttpd_site(
        "wsgi-fcgi-spawn.conf", {"SOCKET": w.tmp("spawn.sock"), "WSGI_FCGI": w.WSGI_FCGI,
                                 "APP": APP}), fake_https=True, wait_path="/env")
    cells.append(("lighttpd fastcgi bin-path+socket / (contrib)", port, ""))

    # --- host/port + bin-path, mounted under /app (no fix-up needed)
    bport, port = w.free_port(), w.free_port()
    web.start_lighttpd("lighttpd-spawn-tcp", port, web.lighttpd_site(
        "wsgi-fcgi-spawn.conf", {"WSGI_FCGI": w.WSGI_FCGI, "APP": APP},
        replace=UNDER_APP + [('"socket"              => "@SOCKET@",',
                              '"host" => "127.0.0.1", "port" => %d,' % bport)],
        drop=NO_FIX), fake_https=True, wait_path="/env")
    cells.append(("lighttpd fastcgi bin-path+host:port /app", port, "/app"))

    # --- the raw root split, fixed by --script-name /
    sock = w.tmp("fcgi-sn.sock")
    w.Server(APP, ["--script-name", "/"], name="wsgi-script-name", addr="unix:" + sock)
    port = w.free_port()
    web.start_lighttpd("lighttpd-script-name", port,
                       web.lighttpd_site("wsgi-fcgi.conf", {"SOCKET": sock}, drop=NO_FIX),
                       fake_https=True, wait_path="/env")
    cells.append(("lighttpd fastcgi socket / --script-name /", port, ""))

    # --- the same without any fix-up: what the fix-ups are for
    sock = w.tmp("fcgi-raw.sock")
    w.Server(APP, name="wsgi-raw", addr="unix:" + sock)
    port = w.free_port()
    web.start_lighttpd("lighttpd-raw", port,
                       web.lighttpd_site("wsgi-fcgi.conf", {"SOCKET": sock}, drop=NO_FIX),
                       fake_https=True, wait_path="/env")
    w.label("lighttpd fastcgi / raw split")
    r = hc.request("GET", port, "/env/x?q=1")
    w.eq((r.status, r.body), (404, b"no route for PATH_INFO='/x' SCRIPT_NAME='/env'"),
         "without fix-root-scriptname or --script-name: lighttpd splits after the "
         "first path segment (SCRIPT_NAME /env, PATH_INFO /x)")

    # --- mod_scgi
    sock = w.tmp("scgi.sock")
    w.Server(APP, name="wsgi-scgi", addr="unix:" + sock, scgi=True)
    port = w.free_port()
    web.start_lighttpd("lighttpd-scgi", port,
                       web.lighttpd_site("wsgi-scgi.conf", {"SOCKET": sock}),
                       fake_https=True, wait_path="/env")
    cells.append(("lighttpd scgi /", port, ""))
    port = w.free_port()
    web.start_lighttpd("lighttpd-scgi-app", port,
                       web.lighttpd_site("wsgi-scgi.conf", {"SOCKET": sock}, replace=UNDER_APP,
                                         drop=NO_FIX),
                       fake_https=True, wait_path="/env")
    cells.append(("lighttpd scgi /app", port, "/app"))

    for name, port, mount in cells:
        suites.cell_checks(name, port, mount, "127.0.0.1")

    # the spawned wsgi-fcgi really was lighttpd's child, on fd 0
    w.label("lighttpd bin-path")
    for p in w._procs:
        if p.name.startswith("lighttpd-spawn"):
            p.record()
            exes = []
            for k in [d for d in p.known if w.alive(d)]:
                try:
                    exes.append(os.path.realpath("/proc/%d/exe" % k))
                except OSError:
                    pass
            w.check(os.path.realpath(w.WSGI_FCGI) in exes,
                    "%s: wsgi-fcgi runs as lighttpd's child" % p.name, repr(exes))
    for p in w._procs:
        w.label(p.name)
        w.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)
        if p.name.startswith("lighttpd"):
            w.check("Traceback" not in web.error_log(p),
                    "no traceback in %s's error.log" % p.name)


if __name__ == "__main__":
    w.main()
