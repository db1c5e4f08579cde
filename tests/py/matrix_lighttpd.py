"""Matrix cells behind a real lighttpd (Debian's /usr/sbin/lighttpd -D, one
instance per cell, everything in the temp dir):

  * mod_fastcgi "socket" to a wsgi-fcgi we start (contrib/lighttpd/wsgi-fcgi.conf)
  * mod_fastcgi "socket" + "bin-path": lighttpd spawns wsgi-fcgi with the
    listening socket on fd 0 (contrib/lighttpd/wsgi-fcgi-spawn.conf)
  * mod_fastcgi "host"/"port" + "bin-path" mounted under /app (TCP on fd 0)
  * lighttpd's raw root-mount split (after the first path segment: /env/x
    gives SCRIPT_NAME /env, PATH_INFO /x), shown, and fixed by
    wsgi-fcgi --script-name /
  * mod_scgi to wsgi-fcgi --scgi, at / and under /app
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix_common as mc  # noqa: E402

LIGHTTPD = os.environ.get("LIGHTTPD", "/usr/sbin/lighttpd")
APP = os.path.join(mc.APPS, "matrix_app.py")

BASE = """
server.port = %(port)d
server.bind = "127.0.0.1"
server.document-root = "%(d)s/htdocs"
server.errorlog = "%(d)s/error.log"
server.pid-file = "%(d)s/lighttpd.pid"
server.upload-dirs = ( "%(d)s/upload" )
server.max-request-size = 102400
server.modules += ( "mod_setenv" )
# what a TLS front would send, switched on per request by a test header
$REQUEST_HEADER["X-Matrix-Https"] == "on" {
    setenv.set-environment = ( "HTTPS" => "on" )
}
"""


def lighttpd_start(name, port, fragment):
    d = mc.path(name)
    for sub in ("htdocs", "upload"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    conf = BASE % {"port": port, "d": d} + "\n" + fragment
    cpath = mc.write(os.path.join(d, "lighttpd.conf"), conf)
    t = mc.subprocess.run([LIGHTTPD, "-tt", "-f", cpath], stdout=mc.subprocess.PIPE,
                          stderr=mc.subprocess.STDOUT, timeout=30)
    if t.returncode != 0:
        raise AssertionError("lighttpd -tt rejected %s:\n%s" % (cpath, t.stdout.decode("latin-1")))
    p = mc.start(name, [LIGHTTPD, "-D", "-f", cpath])
    mc.wait_http(port, p, "/env")
    return p


def include(path_):
    return 'include "%s"\n' % path_


def run():
    if not os.path.exists(LIGHTTPD):
        raise mc.Skip("lighttpd not installed")
    cells = []

    # --- socket: wsgi-fcgi started by us, contrib/lighttpd/wsgi-fcgi.conf
    sock = mc.path("fcgi.sock")
    mc.start_wsgi("wsgi-socket", "unix:" + sock)
    frag = mc.render(os.path.join(mc.CONTRIB, "lighttpd", "wsgi-fcgi.conf"),
                     mc.path("contrib-socket.conf"), {"SOCKET": sock})
    port = mc.free_port()
    lighttpd_start("lighttpd-socket", port, include(frag))
    cells.append(("lighttpd fastcgi socket / (contrib)", port, ""))

    # --- socket + bin-path: lighttpd spawns wsgi-fcgi on fd 0
    frag = mc.render(os.path.join(mc.CONTRIB, "lighttpd", "wsgi-fcgi-spawn.conf"),
                     mc.path("contrib-spawn.conf"),
                     {"SOCKET": mc.path("spawn.sock"), "WSGI_FCGI": mc.WSGI_FCGI, "APP": APP})
    port = mc.free_port()
    lighttpd_start("lighttpd-spawn", port, include(frag))
    cells.append(("lighttpd fastcgi bin-path+socket / (contrib)", port, ""))

    # --- host/port + bin-path, mounted under /app (no fix-up needed)
    bport = mc.free_port()
    port = mc.free_port()
    lighttpd_start("lighttpd-spawn-tcp", port, """
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/app" => ((
    "host" => "127.0.0.1", "port" => %d,
    "bin-path" => "%s %s", "max-procs" => 1, "check-local" => "disable",
)))
""" % (bport, mc.WSGI_FCGI, APP))
    cells.append(("lighttpd fastcgi bin-path+host:port /app", port, "/app"))

    # --- the raw root split, fixed by --script-name /
    sock = mc.path("fcgi-sn.sock")
    mc.start_wsgi("wsgi-script-name", "unix:" + sock, args=["--script-name", "/"])
    port = mc.free_port()
    lighttpd_start("lighttpd-script-name", port, """
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/" => (( "socket" => "%s", "check-local" => "disable" )))
""" % sock)
    cells.append(("lighttpd fastcgi socket / --script-name /", port, ""))

    # --- the same without any fix-up: what the fix-ups are for
    sock = mc.path("fcgi-raw.sock")
    mc.start_wsgi("wsgi-raw", "unix:" + sock)
    port = mc.free_port()
    lighttpd_start("lighttpd-raw", port, """
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/" => (( "socket" => "%s", "check-local" => "disable" )))
""" % sock)
    mc._cell[0] = "lighttpd fastcgi / raw split"
    r = mc.request("GET", port, "/env/x?q=1")
    mc.eq((r.status, r.body), (404, b"no route for PATH_INFO='/x' SCRIPT_NAME='/env'"),
          "without fix-root-scriptname or --script-name: lighttpd splits after the "
          "first path segment (SCRIPT_NAME /env, PATH_INFO /x)")

    # --- mod_scgi
    sock = mc.path("scgi.sock")
    mc.start_wsgi("wsgi-scgi", "unix:" + sock, args=["--scgi"])
    port = mc.free_port()
    lighttpd_start("lighttpd-scgi", port, """
server.modules += ( "mod_scgi" )
scgi.server = ( "/" => (( "socket" => "%s", "check-local" => "disable",
                          "fix-root-scriptname" => "enable" )))
""" % sock)
    cells.append(("lighttpd scgi /", port, ""))
    port = mc.free_port()
    lighttpd_start("lighttpd-scgi-app", port, """
server.modules += ( "mod_scgi" )
scgi.server = ( "/app" => (( "socket" => "%s", "check-local" => "disable" )))
""" % sock)
    cells.append(("lighttpd scgi /app", port, "/app"))

    for name, port, mount in cells:
        mc.cell_checks(name, port, mount, "127.0.0.1")

    # the spawned wsgi-fcgi really was lighttpd's child, on fd 0
    mc._cell[0] = "lighttpd bin-path"
    for p in mc._procs:
        if p.name.startswith("lighttpd-spawn"):
            p.record()
            kids = [d for d in p.known if mc.alive(d)]
            exes = []
            for k in kids:
                try:
                    exes.append(os.path.realpath("/proc/%d/exe" % k))
                except OSError:
                    pass
            mc.check(os.path.realpath(mc.WSGI_FCGI) in exes,
                     "%s: wsgi-fcgi runs as lighttpd's child" % p.name, repr(exes))
    for p in mc._procs:
        mc._cell[0] = p.name
        mc.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)
        if p.name.startswith("lighttpd"):
            err = open(os.path.join(mc.path(p.name), "error.log"), "rb").read().decode("latin-1")
            mc.check("Traceback" not in err, "no traceback in %s's error.log" % p.name)


if __name__ == "__main__":
    sys.exit(mc.main(run, needs=[LIGHTTPD]))
