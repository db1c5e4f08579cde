"""SCGI through a real nginx with contrib/nginx/wsgi-scgi.conf as shipped
(placeholders filled in), scgi_pass to wsgi-fcgi --scgi on a unix socket:
GET with a query string and a non-ASCII percent-encoded path, the environ
the app sees (SCRIPT_NAME, PATH_INFO), POST 1 MiB, a 10 MiB download, HEAD;
every answer must match the same request sent directly over SCGI and over
FastCGI (wftest.suites.ScgiHttp)."""

import wftest as w
from wftest import suites, web


def test_through_nginx_scgi_pass():
    w.need_program("curl")
    w.need_file("/etc/nginx/scgi_params", "nginx-common")
    scgi = w.Server(w.app("combo"), name="scgi", scgi=True)
    fcgi = w.Server(w.app("combo"), name="fcgi")
    port = w.free_port()
    web.start_nginx("nginx", [web.nginx_site("wsgi-scgi.conf", port, scgi.addr)],
                    wait_path="/?app=hello")
    suites.ScgiHttp("http://127.0.0.1:%d" % port, port, "nginx", scgi.addr, fcgi.addr,
                    scgi.logpath).run()


if __name__ == "__main__":
    w.main()
