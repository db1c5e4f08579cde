"""SCGI through a real lighttpd with contrib/lighttpd/wsgi-scgi.conf as
shipped (placeholder filled in), mod_scgi to wsgi-fcgi --scgi on a unix
socket: the same requests as tests/t-nginx-scgi.py (SCRIPT_NAME '' and
PATH_INFO the path thanks to fix-root-scriptname); every answer must match
the same request sent directly over SCGI and over FastCGI."""

import wftest as w
from wftest import suites, web


def test_through_lighttpd_mod_scgi():
    w.need_program("curl")
    scgi = w.Server(w.app("combo"), name="scgi", scgi=True)
    fcgi = w.Server(w.app("combo"), name="fcgi")
    port = w.free_port()
    web.start_lighttpd("lighttpd", port, web.lighttpd_site("wsgi-scgi.conf",
                                                           {"SOCKET": scgi.sock}),
                       wait_path="/?app=hello")
    suites.ScgiHttp("http://127.0.0.1:%d" % port, port, "lighttpd", scgi.addr, fcgi.addr,
                    scgi.logpath).run()


if __name__ == "__main__":
    w.main()
