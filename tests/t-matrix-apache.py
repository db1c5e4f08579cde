"""Matrix cells behind a real Apache httpd (Debian's /usr/sbin/apache2 with
tests/web/apache2.conf around the contrib/apache fragments, -DFOREGROUND,
prefork MPM, every path in the temp dir; User/Group www-data when we are
root, since httpd refuses to serve as root).  One instance per cell:

  * mod_proxy_fcgi, unix socket, at / (contrib/apache/proxy-fcgi.conf) and
    over TCP under /app (its documented prefix form): wsgi-fcgi
    --script-name fixes Apache's split (SCRIPT_NAME = the whole path, no
    PATH_INFO), shown raw first
  * mod_proxy_scgi, TCP at / (contrib/apache/proxy-scgi.conf) and unix under /app
  * mod_fcgid: Apache spawns wsgi-fcgi (contrib/apache/mod_fcgid.conf and
    contrib/apache/wsgi-fcgi-wrapper.sh), socket on fd 0
  * mod_cgi: the same wrapper as a CGI program (contrib/apache/mod_cgi.conf),
    one-shot CGI mode
"""

import os
import pwd

import wftest as w
from wftest import http_client as hc
from wftest import suites, web

APP = w.app("matrix_app")
PROXY_FCGI_ROOT = '"/" "unix:@SOCKET@|fcgi://localhost/"'
PROXY_SCGI_ROOT = '"/" "scgi://127.0.0.1:@PORT@/"'


def owner_args():
    u = web.apache_user()
    return ["--socket-owner", u] if u else []


def test_apache_cells():
    w.need_program(web.APACHE)
    w.need_file(web.APACHE_MODULES + "/mod_proxy_fcgi.so", "apache2")
    cells = []

    # --- mod_proxy_fcgi, unix socket, root (contrib)
    sock = w.tmp("fcgi.sock")
    w.Server(APP, ["--script-name", "/"] + owner_args(), name="wsgi-fcgi-unix",
             addr="unix:" + sock)
    port = w.free_port()
    web.start_apache("apache-proxy-fcgi", port,
                     [web.apache_site("proxy-fcgi.conf", {"SOCKET": sock})],
                     ["proxy", "proxy_fcgi"])
    cells.append(("apache proxy_fcgi unix / (contrib, --script-name /)", port, ""))

    # --- mod_proxy_fcgi, TCP, under /app; and the raw split without a fix-up
    tport, rport = w.free_port(), w.free_port()
    w.Server(APP, ["--script-name", "/app"], name="wsgi-fcgi-tcp", addr="127.0.0.1:%d" % tport)
    w.Server(APP, name="wsgi-fcgi-raw", addr="127.0.0.1:%d" % rport)
    port = w.free_port()
    web.start_apache("apache-proxy-fcgi-app", port, [
        web.apache_site("proxy-fcgi.conf", replace=[
            (PROXY_FCGI_ROOT, '"/app/" "fcgi://127.0.0.1:%d/"' % tport)]),
        web.apache_site("proxy-fcgi.conf", replace=[
            (PROXY_FCGI_ROOT, '"/raw/" "fcgi://127.0.0.1:%d/"' % rport)]),
    ], ["proxy", "proxy_fcgi"])
    cells.append(("apache proxy_fcgi tcp /app (--script-name /app)", port, "/app"))
    w.label("apache proxy_fcgi raw split")
    r = hc.request("GET", port, "/raw/env/x?q=1")
    w.eq((r.status, r.body), (404, b"no route for PATH_INFO='' SCRIPT_NAME='/raw/env/x'"),
         "without --script-name: SCRIPT_NAME is the whole path, PATH_INFO empty "
         "(why contrib/apache/proxy-fcgi.conf needs --script-name)")

    # --- mod_proxy_scgi, TCP, root (contrib)
    sport = w.free_port()
    w.Server(APP, ["--script-name", "/"], name="wsgi-scgi-tcp", addr="127.0.0.1:%d" % sport,
             scgi=True)
    port = w.free_port()
    web.start_apache("apache-proxy-scgi", port,
                     [web.apache_site("proxy-scgi.conf", {"PORT": sport})],
                     ["proxy", "proxy_scgi"])
    cells.append(("apache proxy_scgi tcp / (contrib, --script-name /)", port, ""))

    # --- mod_proxy_scgi, unix socket, under /app
    ssock = w.tmp("scgi.sock")
    w.Server(APP, ["--script-name", "/app"] + owner_args(), name="wsgi-scgi-unix",
             addr="unix:" + ssock, scgi=True)
    port = w.free_port()
    web.start_apache("apache-proxy-scgi-app", port, [web.apache_site("proxy-scgi.conf", replace=[
        (PROXY_SCGI_ROOT, '"/app/" "unix:%s|scgi://localhost/"' % ssock)])],
        ["proxy", "proxy_scgi"])
    cells.append(("apache proxy_scgi unix /app (--script-name /app)", port, "/app"))

    # --- the wrapper for mod_fcgid and mod_cgi (contrib)
    root = w.tmp("wrapper")
    os.makedirs(root)
    os.chmod(root, 0o755)
    wrapper = w.write(os.path.join(root, "wsgi-fcgi-wrapper.sh"),
                      web.render(web.contrib("apache/wsgi-fcgi-wrapper.sh"),
                                 {"WSGI_FCGI": w.WSGI_FCGI, "APP": APP}), 0o755)

    # --- mod_fcgid: Apache spawns wsgi-fcgi
    have_fcgid = os.path.exists(web.APACHE_MODULES + "/mod_fcgid.so")
    if not have_fcgid:
        w.log("SKIP [apache mod_fcgid]: %s/mod_fcgid.so missing (libapache2-mod-fcgid)"
              % web.APACHE_MODULES)
    else:
        d = w.tmp("apache-fcgid")
        os.makedirs(os.path.join(d, "ipc"))
        if web.apache_user():
            pw = pwd.getpwnam(web.apache_user())
            os.chown(os.path.join(d, "ipc"), pw.pw_uid, pw.pw_gid)
        port = w.free_port()
        ap = web.start_apache("apache-fcgid", port,
                              [web.apache_site("mod_fcgid.conf", {"ROOT": root})], ["fcgid"],
                              extra='FcgidIPCDir "%s/ipc"\nFcgidProcessTableFile "%s/fcgid_shm"'
                              % (d, d))
        cells.append(("apache mod_fcgid /app (contrib)", port, "/app"))

    # --- mod_cgi: the same wrapper, one-shot CGI mode
    port = w.free_port()
    web.start_apache("apache-cgi", port, [web.apache_site("mod_cgi.conf", {"ROOT": root})],
                     ["cgi"])
    cells.append(("apache mod_cgi /app (contrib)", port, "/app"))

    for name, port, mount in cells:
        suites.cell_checks(name, port, mount, "127.0.0.1")

    # mode markers: mod_fcgid's wsgi-fcgi serves many requests in one
    # process (FastCGI on fd 0); mod_cgi's runs once per request.
    if have_fcgid:
        w.label("apache mod_fcgid")
        env = hc.request("GET", cells[-2][1], "/app/env").json()
        w.eq(env.get("wsgi.run_once"), False, "mod_fcgid: FastCGI mode (wsgi.run_once false)")
        ap.record()
        exes = []
        for k in ap.known:
            try:
                exes.append(os.path.realpath("/proc/%d/exe" % k))
            except OSError:
                pass
        w.check(os.path.realpath(w.WSGI_FCGI) in exes,
                "wsgi-fcgi runs as a descendant of Apache (spawned by mod_fcgid)", repr(exes))
    w.label("apache mod_cgi")
    env = hc.request("GET", cells[-1][1], "/app/env").json()
    w.eq((env.get("GATEWAY_INTERFACE"), env.get("wsgi.run_once")), ("CGI/1.1", True),
         "mod_cgi: one-shot CGI mode (GATEWAY_INTERFACE CGI/1.1, wsgi.run_once true)")

    for p in list(w._procs):
        w.label(p.name)
        w.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)
        if p.name.startswith("apache"):
            w.check("Traceback" not in web.error_log(p), "no traceback in %s's error.log" % p.name)


if __name__ == "__main__":
    w.main()
