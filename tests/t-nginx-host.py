"""HTTP_HOST through contrib/nginx/wsgi-fcgi.conf: the host as the client
sent it, port included exactly when the client named one, and never a Host
header nginx itself did not use.

* A real WebDAV application, Debian's Radicale (python3-radicale), under
  wsgi-fcgi behind the contrib nginx: a MOVE whose Destination names the
  host as the client sent it ("dav.example" as behind port 80 or 443,
  "dav.example:8080" as behind a forwarded port, the real 127.0.0.1:PORT,
  letter case kept) is done (Radicale compares the Destination's host with
  HTTP_HOST).  The same MOVE through the former HTTP_HOST
  $host:$server_port gets Radicale's 502: the reason for the change.
* A non-ASCII path: PEP 3333 gives PATH_INFO as its bytes decoded latin-1;
  Radicale takes it for text, so a collection named "caf\u00e9" comes back
  as "caf\u00c3\u00a9" -- unless the app re-decodes PATH_INFO as UTF-8, the
  one line README.md's troubleshooting section gives.
* An absolute redirect built from the environ (tests/apps/matrix_app.py, as
  wsgiref.util.application_uri does, and Bottle's redirect() when Bottle is
  installed) names the host as the client sent it.
* An absolute request target with another Host header gives the app the
  target's host (nginx's $host), a request without Host (HTTP/1.0) the
  server_name, and nginx refuses an HTTP/1.1 one without Host itself."""

import base64
import os
import socket

import wftest as w
from wftest import check, eq
from wftest import http_client as hc
from wftest import web

AUTH = ("Authorization", "Basic " + base64.b64encode(b"alice:secret").decode())
EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//wsgi-fcgi tests//EN
BEGIN:VEVENT
UID:%(uid)s
DTSTAMP:20240101T000000Z
DTSTART:20240102T100000Z
DTEND:20240102T110000Z
SUMMARY:%(uid)s
END:VEVENT
END:VCALENDAR
"""
OLD_HOST_LINE = ("fastcgi_param HTTP_HOST   $wsgi_host;",
                 "fastcgi_param HTTP_HOST   $host:$server_port;")


def radicale(name="radicale"):
    """Radicale 3 under wsgi-fcgi: module radicale, callable application,
    its configuration from RADICALE_CONFIG, storage in the temp dir, any
    user name accepted, each user owning /NAME/."""
    w.need_module("radicale", "python3-radicale")
    conf = w.write(w.tmp(name + ".conf"), """[auth]
type = none

[rights]
type = owner_only

[storage]
filesystem_folder = %s

[logging]
level = info
""" % w.tmp(name + "-collections"))
    return w.Server("radicale", name=name, env={"RADICALE_CONFIG": conf})


def dav(port, method, path, host, headers=(), body=None):
    return hc.request(method, port, path, [("Host", host), AUTH] + list(headers),
                      body.encode() if isinstance(body, str) else body)


def move(port, host, n, what):
    """PUT an event, MOVE it naming the host as sent; the HTTP status."""
    src, dst = "/alice/cal/ev%d-a.ics" % n, "/alice/cal/ev%d-b.ics" % n
    r = dav(port, "PUT", src, host, [("Content-Type", "text/calendar; charset=utf-8")],
            EVENT % {"uid": "ev%d" % n})
    eq(r.status, 201, "%s: PUT %s" % (what, src))
    r = dav(port, "MOVE", src, host, [("Destination", "http://%s%s" % (host, dst))])
    return r, src, dst


def test_radicale_move():
    srv = radicale()
    port, old_port = w.free_port(), w.free_port()
    web.start_nginx("nginx", [web.nginx_site("wsgi-fcgi.conf", port, srv.addr),
                              web.nginx_site("wsgi-fcgi.conf", old_port, srv.addr,
                                             replace=[OLD_HOST_LINE])],
                    wait_path="/.web/")
    host = "127.0.0.1:%d" % port
    r = dav(port, "PROPFIND", "/alice/", host, [("Depth", "0")])
    check(r.status == 207, "PROPFIND /alice/: 207 (Radicale makes the principal)", repr(r))
    r = dav(port, "MKCALENDAR", "/alice/cal/", host)
    eq(r.status, 201, "MKCALENDAR /alice/cal/")

    n = 0
    for sent, what in (("dav.example", "Host without a port (as behind port 80)"),
                       ("dav.example:8080", "Host with another port (a forwarded port)"),
                       (host, "Host naming nginx's own address"),
                       ("DAV.Example", "Host in mixed case")):
        n += 1
        r, src, dst = move(port, sent, n, what)
        eq(r.status, 201, "%s: MOVE with Destination http://%s%s is done" % (what, sent, dst))
        eq(dav(port, "GET", dst, host).status, 200, "%s: the event is at its new place" % what)
        eq(dav(port, "GET", src, host).status, 404, "%s: and no longer at the old one" % what)

    # What the former HTTP_HOST $host:$server_port did to the same MOVE.
    n += 1
    r, src, dst = move(old_port, "dav.example", n, "HTTP_HOST $host:$server_port")
    eq(r.status, 502, "HTTP_HOST $host:$server_port (\"dav.example:%d\"): Radicale refuses "
       "the MOVE to http://dav.example%s as a remote destination" % (old_port, dst))
    check("Unsupported destination address" in srv.log(),
          "Radicale's log says why", srv.log()[-2000:])
    check("Traceback" not in srv.log(), "no traceback in Radicale's log")


UTF8_WRAPPER = """import radicale


def application(environ, start_response):
    environ["PATH_INFO"] = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
    return radicale.application(environ, start_response)
"""


def test_radicale_non_ascii_path():
    plain = radicale("radicale-utf8-test")
    wrapper = w.write(w.tmp("radicale_utf8.py"), UTF8_WRAPPER)
    fixed = w.Server(wrapper, name="radicale-utf8", env=plain.env)
    port, fport = w.free_port(), w.free_port()
    web.start_nginx("nginx", [web.nginx_site("wsgi-fcgi.conf", port, plain.addr),
                              web.nginx_site("wsgi-fcgi.conf", fport, fixed.addr)],
                    wait_path="/.web/")
    for p, name, want in ((port, "caf%C3%A9", "caf%C3%83%C2%A9"),
                          (fport, "caf%C3%A92", "caf%C3%A92")):
        what = "as served" if p == port else "PATH_INFO re-decoded as UTF-8"
        host = "127.0.0.1:%d" % p
        dav(p, "PROPFIND", "/alice/", host, [("Depth", "0")])
        eq(dav(p, "MKCALENDAR", "/alice/%s/" % name, host).status, 201,
           "%s: MKCALENDAR /alice/%s/" % (what, name))
        r = dav(p, "PROPFIND", "/alice/", host, [("Depth", "1")])
        check(("<href>/alice/%s/</href>" % want).encode() in r.body.replace(b"D:href", b"href"),
              "%s: Radicale lists /alice/%s/ as /alice/%s/" % (what, name, want),
              repr(r.body[:1500]))
    eq(sorted(os.listdir(w.tmp("radicale-utf8-test-collections", "collection-root", "alice"))),
       ["caf\u00c3\u00a9", "caf\u00e92"], "the collections on disk")


def raw_http(port, data):
    """Send raw bytes, read the answer to EOF: (status line, body)."""
    out = w.exchange(socket.create_connection(("127.0.0.1", port), 30), data)
    head, _, body = out.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode("latin-1"), body


def test_redirects_and_spoofing():
    srv = w.Server(w.app("matrix_app"), name="matrix")
    port = w.free_port()
    sites = [web.nginx_site("wsgi-fcgi.conf", port, srv.addr)]
    bottle = None
    try:
        w.need_module("bottle", "python3-bottle")
        bottle = w.Server(os.path.join(w.TESTS, "frameworks", "bottle_app.py"), name="bottle")
        bport = w.free_port()
        sites.append(web.nginx_site("wsgi-fcgi.conf", bport, bottle.addr))
    except w.Skip as e:
        w.log("SKIP [bottle]: %s" % e)
    web.start_nginx("nginx", sites, wait_path="/env")
    real = "127.0.0.1:%d" % port

    for sent in ("dav.example", "dav.example:8080", real, "DAV.Example"):
        r = hc.request("GET", port, "/redirect", [("Host", sent)])
        eq((r.status, r.header("Location")), (302, "http://%s/target" % sent),
           "matrix_app's absolute redirect for Host %s" % sent)
        env = hc.request("GET", port, "/env", [("Host", sent)]).json()
        eq(env.get("HTTP_HOST"), sent, "HTTP_HOST for Host %s" % sent)
        if bottle:
            r = hc.request("GET", bport, "/redirect", [("Host", sent)])
            eq((r.status, r.header("Location")), (302, "http://%s/json?to=here" % sent),
               "Bottle's redirect() for Host %s" % sent)

    # An absolute request target names the host; nginx serves the request
    # for it, and so does HTTP_HOST, whatever the Host header says.
    r = hc.request("GET", port, "http://dav.example/redirect", [("Host", "evil.example")])
    eq(r.header("Location"), "http://dav.example/target",
       "absolute target http://dav.example/ with Host evil.example: the redirect names "
       "dav.example")
    env = hc.request("GET", port, "http://dav.example:8080/env",
                     [("Host", "dav.example:8080")]).json()
    eq(env.get("HTTP_HOST"), "dav.example:8080",
       "absolute target with the same Host: HTTP_HOST as the client sent it")
    # No Host at all: HTTP/1.0 gets nginx's $host, the server_name ...
    status, body = raw_http(port, b"GET /env HTTP/1.0\r\n\r\n")
    if eq(status.split(" ")[1:2], ["200"], "HTTP/1.0 without Host: answered"):
        env = hc.Resp(200, [], body).json()
        eq(env.get("HTTP_HOST"), "localhost", "HTTP/1.0 without Host: HTTP_HOST is the "
           "server_name")
    # ... and HTTP/1.1 requires one (nginx answers 400 itself).
    status, _ = raw_http(port, b"GET /env HTTP/1.1\r\nConnection: close\r\n\r\n")
    eq(status.split(" ")[1:2], ["400"], "HTTP/1.1 without Host: nginx's 400")
    check("Traceback" not in srv.log(), "no traceback in the matrix_app log")


if __name__ == "__main__":
    w.main()
