"""Matrix cells behind a real Apache httpd (Debian's /usr/sbin/apache2 with
a minimal configuration of our own: -f CONF -DFOREGROUND, prefork MPM,
LoadModule lines from /usr/lib/apache2/modules, every path in the temp dir;
User/Group www-data when we are root, since httpd refuses to serve as root).
One instance per cell:

  * mod_proxy_fcgi, unix socket, at / (contrib/apache/proxy-fcgi.conf) and
    over TCP under /app: wsgi-fcgi --script-name fixes Apache's split
    (SCRIPT_NAME = the whole path, no PATH_INFO), shown raw first
  * mod_proxy_scgi, TCP at / (contrib/apache/proxy-scgi.conf) and unix under /app
  * mod_fcgid: Apache spawns wsgi-fcgi (contrib/apache/mod_fcgid.conf and
    contrib/apache/wsgi-fcgi-wrapper.sh), socket on fd 0
  * mod_cgi: the same wrapper as a CGI program (contrib/apache/mod_cgi.conf),
    one-shot CGI mode
"""

import os
import pwd
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix_common as mc  # noqa: E402

APACHE = os.environ.get("APACHE", "/usr/sbin/apache2")
MODDIR = "/usr/lib/apache2/modules"
APP = os.path.join(mc.APPS, "matrix_app.py")
BASE_MODS = ["mpm_prefork", "authz_core", "mime", "alias", "env", "setenvif"]

BASE = """ServerRoot "%(d)s"
Listen 127.0.0.1:%(port)d
ServerName 127.0.0.1
PidFile "%(d)s/httpd.pid"
ErrorLog "%(d)s/error.log"
LogLevel warn
Mutex file:%(d)s default
DefaultRuntimeDir "%(d)s"
DocumentRoot "%(d)s/htdocs"
TypesConfig /etc/mime.types
StartServers 1
MinSpareServers 1
MaxSpareServers 3
MaxRequestWorkers 8
# what a TLS VirtualHost (mod_ssl) would set, switched on by a test header
SetEnvIf X-Matrix-Https "^on$" HTTPS=on
"""


def www_user():
    """The user Apache's children run as, or None when we are not root."""
    if not mc.IS_ROOT:
        return None
    try:
        pwd.getpwnam("www-data")
    except KeyError:
        raise mc.Skip("running as root and there is no www-data user for Apache")
    return "www-data"


def apache_start(name, port, body, mods=()):
    d = mc.path(name)
    os.makedirs(os.path.join(d, "htdocs"), exist_ok=True)
    conf = BASE % {"d": d, "port": port}
    for m in BASE_MODS + list(mods):
        conf += "LoadModule %s_module %s/mod_%s.so\n" % (m, MODDIR, m)
    if www_user():
        conf += "User www-data\nGroup www-data\n"
    conf += "\n" + body
    cpath = mc.write(os.path.join(d, "httpd.conf"), conf)
    t = mc.subprocess.run([APACHE, "-t", "-f", cpath], stdout=mc.subprocess.PIPE,
                          stderr=mc.subprocess.STDOUT, timeout=30)
    if t.returncode != 0:
        raise AssertionError("apache2 -t rejected %s:\n%s" % (cpath, t.stdout.decode("latin-1")))
    p = mc.start(name, [APACHE, "-f", cpath, "-DFOREGROUND"])
    mc.wait_http(port, p, "/")
    return p


def include(f):
    return 'Include "%s"\n' % f


def owner_args():
    u = www_user()
    return ["--socket-owner", u] if u else []


def contrib(name):
    return os.path.join(mc.CONTRIB, "apache", name)


def run():
    if not os.path.exists(APACHE):
        raise mc.Skip("apache2 not installed")
    cells = []

    # --- mod_proxy_fcgi, unix socket, root (contrib)
    sock = mc.path("fcgi.sock")
    mc.start_wsgi("wsgi-fcgi-unix", "unix:" + sock, args=["--script-name", "/"] + owner_args())
    frag = mc.render(contrib("proxy-fcgi.conf"), mc.path("proxy-fcgi.conf"), {"SOCKET": sock})
    port = mc.free_port()
    apache_start("apache-proxy-fcgi", port, include(frag), ["proxy", "proxy_fcgi"])
    cells.append(("apache proxy_fcgi unix / (contrib, --script-name /)", port, ""))

    # --- mod_proxy_fcgi, TCP, under /app; and the raw split without a fix-up
    tport = mc.free_port()
    mc.start_wsgi("wsgi-fcgi-tcp", "127.0.0.1:%d" % tport, args=["--script-name", "/app"])
    rport = mc.free_port()
    mc.start_wsgi("wsgi-fcgi-raw", "127.0.0.1:%d" % rport)
    port = mc.free_port()
    apache_start("apache-proxy-fcgi-app", port, """
ProxyPass "/app/" "fcgi://127.0.0.1:%d/"
ProxyPass "/raw/" "fcgi://127.0.0.1:%d/"
""" % (tport, rport), ["proxy", "proxy_fcgi"])
    cells.append(("apache proxy_fcgi tcp /app (--script-name /app)", port, "/app"))
    mc._cell[0] = "apache proxy_fcgi raw split"
    r = mc.request("GET", port, "/raw/env/x?q=1")
    mc.eq((r.status, r.body), (404, b"no route for PATH_INFO='' SCRIPT_NAME='/raw/env/x'"),
          "without --script-name: SCRIPT_NAME is the whole path, PATH_INFO empty "
          "(why contrib/apache/proxy-fcgi.conf needs --script-name)")

    # --- mod_proxy_scgi, TCP, root (contrib)
    sport = mc.free_port()
    mc.start_wsgi("wsgi-scgi-tcp", "127.0.0.1:%d" % sport, args=["--scgi", "--script-name", "/"])
    frag = mc.render(contrib("proxy-scgi.conf"), mc.path("proxy-scgi.conf"), {"PORT": sport})
    port = mc.free_port()
    apache_start("apache-proxy-scgi", port, include(frag), ["proxy", "proxy_scgi"])
    cells.append(("apache proxy_scgi tcp / (contrib, --script-name /)", port, ""))

    # --- mod_proxy_scgi, unix socket, under /app
    ssock = mc.path("scgi.sock")
    mc.start_wsgi("wsgi-scgi-unix", "unix:" + ssock,
                  args=["--scgi", "--script-name", "/app"] + owner_args())
    port = mc.free_port()
    apache_start("apache-proxy-scgi-app", port, """
ProxyPass "/app/" "unix:%s|scgi://localhost/"
""" % ssock, ["proxy", "proxy_scgi"])
    cells.append(("apache proxy_scgi unix /app (--script-name /app)", port, "/app"))

    # --- the wrapper for mod_fcgid and mod_cgi (contrib)
    root = mc.path("wrapper")
    os.makedirs(root)
    os.chmod(root, 0o755)
    wrapper = mc.render(contrib("wsgi-fcgi-wrapper.sh"),
                        os.path.join(root, "wsgi-fcgi-wrapper.sh"),
                        {"WSGI_FCGI": mc.WSGI_FCGI, "APP": APP})
    os.chmod(wrapper, 0o755)

    # --- mod_fcgid: Apache spawns wsgi-fcgi
    have_fcgid = os.path.exists(MODDIR + "/mod_fcgid.so")
    if not have_fcgid:
        print("SKIP [apache mod_fcgid]: %s/mod_fcgid.so missing (libapache2-mod-fcgid)" % MODDIR)
    else:
        d = mc.path("apache-fcgid")
        os.makedirs(os.path.join(d, "ipc"))
        if www_user():
            pw = pwd.getpwnam(www_user())
            os.chown(os.path.join(d, "ipc"), pw.pw_uid, pw.pw_gid)
        frag = mc.render(contrib("mod_fcgid.conf"), mc.path("mod_fcgid.conf"), {"ROOT": root})
        port = mc.free_port()
        ap = apache_start("apache-fcgid", port, """
FcgidIPCDir "%(d)s/ipc"
FcgidProcessTableFile "%(d)s/fcgid_shm"
%(inc)s""" % {"d": d, "inc": include(frag)}, ["fcgid"])
        cells.append(("apache mod_fcgid /app (contrib)", port, "/app"))

    # --- mod_cgi: the same wrapper, one-shot CGI mode
    frag = mc.render(contrib("mod_cgi.conf"), mc.path("mod_cgi.conf"), {"ROOT": root})
    port = mc.free_port()
    apache_start("apache-cgi", port, include(frag), ["cgi"])
    cells.append(("apache mod_cgi /app (contrib)", port, "/app"))

    for name, port, mount in cells:
        mc.cell_checks(name, port, mount, "127.0.0.1")

    # mode markers: mod_fcgid's wsgi-fcgi serves many requests in one
    # process (FastCGI on fd 0); mod_cgi's runs once per request.
    if have_fcgid:
        mc._cell[0] = "apache mod_fcgid"
        env = mc.request("GET", cells[-2][1], "/app/env").json()
        mc.eq(env.get("wsgi.run_once"), False, "mod_fcgid: FastCGI mode (wsgi.run_once false)")
        ap.record()
        exes = []
        for k in ap.known:
            try:
                exes.append(os.path.realpath("/proc/%d/exe" % k))
            except OSError:
                pass
        mc.check(os.path.realpath(mc.WSGI_FCGI) in exes,
                 "wsgi-fcgi runs as a descendant of Apache (spawned by mod_fcgid)", repr(exes))
    mc._cell[0] = "apache mod_cgi"
    env = mc.request("GET", cells[-1][1], "/app/env").json()
    mc.eq((env.get("GATEWAY_INTERFACE"), env.get("wsgi.run_once")), ("CGI/1.1", True),
          "mod_cgi: one-shot CGI mode (GATEWAY_INTERFACE CGI/1.1, wsgi.run_once true)")

    for p in mc._procs:
        mc._cell[0] = p.name
        mc.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)
        if p.name.startswith("apache"):
            err = open(os.path.join(mc.path(p.name), "error.log"), "rb").read().decode("latin-1")
            mc.check("Traceback" not in err, "no traceback in %s's error.log" % p.name)


if __name__ == "__main__":
    sys.exit(mc.main(run, needs=[APACHE, MODDIR + "/mod_proxy_fcgi.so"]))
