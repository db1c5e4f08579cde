"""Through a real nginx (Debian's /usr/sbin/nginx) with
contrib/nginx/wsgi-fcgi.conf as shipped (placeholders filled in), curl as
the client: GET with a query string and a non-ASCII percent-encoded path,
the environ a WSGI app sees (SCRIPT_NAME, PATH_INFO, HTTP_HOST ...), POST
1 MiB, a 10 MiB download, HEAD."""

import os

import wftest as w
from wftest import check, eq
from wftest import http_client as hc
from wftest import web


def test_contrib_nginx_conf():
    w.need_program("curl")
    srv = w.Server(w.app("combo"), name="wsgi")
    port = w.free_port()
    web.start_nginx("nginx", [web.nginx_site("wsgi-fcgi.conf", port, srv.addr)],
                    wait_path="/?app=hello")
    url = "http://127.0.0.1:%d" % port

    # --- GET with a query string and a non-ASCII percent-encoded path
    h = hc.curl(url + "/caf%C3%A9/sub%20dir/x?app=environ&q=%C3%A9+1&z=")
    if eq(h.status, 200, "GET environ status"):
        env = h.json()["environ"]
        want = {
            "SCRIPT_NAME": "",
            "PATH_INFO": "/caf\u00e9/sub dir/x".encode("utf-8").decode("latin-1"),
            "QUERY_STRING": "app=environ&q=%C3%A9+1&z=",
            "REQUEST_METHOD": "GET",
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_URI": "/caf%C3%A9/sub%20dir/x?app=environ&q=%C3%A9+1&z=",
            "HTTP_HOST": "127.0.0.1:%d" % port,
            "wsgi.url_scheme": "http",
            "REQUEST_SCHEME": "http",
        }
        for k, v in want.items():
            eq(env.get(k), v, "environ[%r] through nginx" % k)
        for k in ("SERVER_NAME", "REMOTE_ADDR", "wsgi.input", "wsgi.errors"):
            check(k in env, "environ[%r] present" % k)

    # --- the root path
    h = hc.curl(url + "/?app=environ")
    eq(h.status, 200, "GET / status")
    check(b'"PATH_INFO": "/"' in h.body, "GET /: PATH_INFO is /")
    check(b'"SCRIPT_NAME": ""' in h.body, "GET /: SCRIPT_NAME is empty")

    # --- POST 1 MiB
    up = w.tmp("up.bin")
    body = os.urandom(1 << 20)
    with open(up, "wb") as f:
        f.write(body)
    h = hc.curl(url + "/upload?app=body&mode=readn&n=65536",
                "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + up)
    eq(h.status, 200, "POST 1 MiB status")
    check(h.body == body, "POST 1 MiB echoed intact (%d bytes back)" % len(h.body))

    # --- 10 MiB download (streamed by a generator, no Content-Length)
    n = 10485763
    h = hc.curl(url + "/download?app=download&n=%d&chunk=65536" % n)
    eq(h.status, 200, "10 MiB download status")
    check(h.body == hc.pattern(n), "10 MiB download intact (%d bytes, expected %d)"
          % (len(h.body), n))

    # --- HEAD
    h = hc.curl(url + "/?app=hello", "-I")
    eq(h.status, 200, "HEAD status")
    eq(h.header("Content-Type"), "text/plain", "HEAD: Content-Type")
    eq(h.header("Content-Length"), "14", "HEAD: Content-Length")

    # --- still serving, and the log says nothing went wrong
    h = hc.curl(url + "/?app=hello")
    eq(h.status, 200, "GET after the others")
    eq(h.body, b"Hello, world!\n", "hello body through nginx")
    check("Traceback" not in srv.log(), "no traceback in the wsgi-fcgi log")


if __name__ == "__main__":
    w.main()
