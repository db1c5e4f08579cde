"""Matrix cells behind a real nginx (one process, master_process off,
everything in the temp dir), every server block rendered from
contrib/nginx: fastcgi_pass on a unix socket and on TCP, each with and
without fastcgi_keep_conn (an upstream with keepalive), mounted at "/" and
under "/app" (the file's documented fastcgi_split_path_info location), and
Debian's plain fastcgi_params fixed up by --script-name; scgi_pass to
wsgi-fcgi --scgi at "/" and under "/app" (contrib/nginx/wsgi-scgi.conf and
its documented location).  Each cell runs wftest.suites.cell_checks()."""

import wftest as w
from wftest import suites, web


def test_nginx_cells():
    unix = "unix:" + w.tmp("fcgi.sock")
    tport = w.free_port()
    kunix = "unix:" + w.tmp("fcgi-keep.sock")
    ktport = w.free_port()
    sn = "unix:" + w.tmp("fcgi-sn.sock")
    scgi = "unix:" + w.tmp("scgi.sock")
    app = w.app("matrix_app")
    w.Server(app, name="wsgi-unix", addr=unix)
    w.Server(app, name="wsgi-tcp", addr="127.0.0.1:%d" % tport)
    # a kept connection holds a thread: two threads, two kept connections
    w.Server(app, ["-t", "2"], name="wsgi-keep-unix", addr=kunix)
    w.Server(app, ["-t", "2"], name="wsgi-keep-tcp", addr="127.0.0.1:%d" % ktport)
    w.Server(app, ["--script-name", "/app"], name="wsgi-script-name", addr=sn)
    w.Server(app, name="wsgi-scgi", addr=scgi, scgi=True)

    ports = {k: w.free_port() for k in
             ("unix", "tcp", "keep-unix", "keep-tcp", "split", "script-name", "scgi", "scgi-app")}
    upstreams = ("upstream keep_unix { server %s; keepalive 2; }\n"
                 "    upstream keep_tcp { server 127.0.0.1:%d; keepalive 2; }" % (kunix, ktport))
    fcgi, scgi_conf = "wsgi-fcgi.conf", "wsgi-scgi.conf"
    sites = [
        web.nginx_site(fcgi, ports["unix"], unix, fake_https=True),
        web.nginx_site(fcgi, ports["tcp"], "127.0.0.1:%d" % tport, fake_https=True),
        web.nginx_site(fcgi, ports["keep-unix"], "keep_unix", keep_conn=True, fake_https=True),
        web.nginx_site(fcgi, ports["keep-tcp"], "keep_tcp", keep_conn=True, fake_https=True),
        # mounted under /app the way contrib/nginx/wsgi-fcgi.conf documents
        web.nginx_site(fcgi, ports["split"], unix, prefix="/app", fake_https=True),
        # Debian's fastcgi_params alone (SCRIPT_NAME = the whole path, no
        # PATH_INFO, HTTP_HOST $host) and wsgi-fcgi --script-name /app
        web.nginx_site(fcgi, ports["script-name"], sn, fake_https=True,
                       drop=["fastcgi_param SCRIPT_NAME", "fastcgi_param PATH_INFO",
                             "fastcgi_param HTTP_HOST"]),
        web.nginx_site(scgi_conf, ports["scgi"], scgi, fake_https=True),
        web.nginx_site(scgi_conf, ports["scgi-app"], scgi, prefix="/app", fake_https=True),
    ]
    ng = web.start_nginx("nginx", sites, http_extra=upstreams, wait_port=ports["unix"],
                         wait_path="/env")

    suites.cell_checks("nginx fastcgi unix /", ports["unix"], "", "localhost")
    suites.cell_checks("nginx fastcgi tcp /", ports["tcp"], "", "localhost")
    for i in range(2):  # twice: the second round reuses kept connections
        suites.cell_checks("nginx fastcgi unix keep_conn /", ports["keep-unix"], "", "localhost")
        suites.cell_checks("nginx fastcgi tcp keep_conn /", ports["keep-tcp"], "", "localhost")
    suites.cell_checks("nginx fastcgi /app split_path_info", ports["split"], "/app", "localhost")
    # Debian's fastcgi_params: HTTP_HOST is $host, the port is dropped, so the
    # app's absolute URLs lose it (LIBFCGI.md #13): the redirect check expects
    # no port there.
    suites.cell_checks("nginx fastcgi /app --script-name", ports["script-name"], "/app",
                       "localhost", redirect_host_port=False)
    suites.cell_checks("nginx scgi /", ports["scgi"], "", "localhost")
    suites.cell_checks("nginx scgi /app", ports["scgi-app"], "/app", "localhost")
    ng.record()
    w.label(None)
    if not w.check(ng.running(), "nginx still running"):
        return
    for p in w._procs:
        if p.name.startswith("wsgi"):
            w.label(p.name)
            w.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)


if __name__ == "__main__":
    w.main()
