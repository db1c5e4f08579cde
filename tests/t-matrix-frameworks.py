"""Framework matrix: Flask, Django and Bottle apps (tests/frameworks/) served
by nginx -> wsgi-fcgi must answer byte-identically to the same app under
Python's wsgiref.simple_server (tests/wftest/wsgiref_server.py) on another
loopback port: status code and reason, body, and headers other than Date,
Server and hop-by-hop ones (Connection, Keep-Alive, Transfer-Encoding; nginx
streams with chunked encoding to an HTTP/1.1 client, wsgiref closes),
compared as sorted (lower-cased name, value) pairs (Allow as a sorted set).  One difference is
tolerated and noted (see EMPTY_CL): wsgiref's Content-Length: 0 on a response
with an empty body and no Content-Length from the app.

Data-driven: SPECS is a list of requests; each is sent to both servers, at
the root and again under the /app mount.  Adding a request is one line.
Every request sends the same Host header to both (contrib/nginx/wsgi-fcgi.conf
passes it on as the client sent it), so absolute URLs match too.  nginx
serves each framework twice: at "/" with contrib/nginx/wsgi-fcgi.conf and
under "/app" with the location that file documents.
"""

import http.client
import os
import urllib.parse

import wftest as w
from wftest import http_client as hc
from wftest import web

FRAMEWORKS = os.path.join(w.TESTS, "frameworks")
APPS = {
    "flask": ("flask", "flask_app.py"),
    "django": ("django", "django_app.py"),
    "bottle": ("bottle", "bottle_app.py"),
}
HOST = "matrix.example:8080"
FORM = urllib.parse.urlencode([("name", "caf\u00e9"), ("x", "1"), ("x", "2")]).encode()
MULTIPART = (b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\n"
             b"value \xc3\xa9\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n"
             b"42\r\n--BOUNDARY--\r\n")

# (name, method, path, extra headers, body, acceptable statuses): the status
# check keeps "identical" from passing on two equal failures.  Django's
# FileResponse ignores Range and If-Modified-Since without middleware.
SPECS = [
    ("json with a query", "GET", "/json?a=1&b=caf%C3%A9&b=2", [], None, (200,)),
    ("json, no query", "GET", "/json", [], None, (200,)),
    ("HEAD json", "HEAD", "/json?h=1", [], None, (200,)),
    ("form POST", "POST", "/form",
     [("Content-Type", "application/x-www-form-urlencoded")], FORM, (200,)),
    ("multipart POST", "POST", "/form",
     [("Content-Type", "multipart/form-data; boundary=BOUNDARY")], MULTIPART, (200,)),
    ("redirect", "GET", "/redirect", [], None, (302,)),
    ("non-ASCII path parameter", "GET", "/hello/caf%C3%A9", [], None, (200,)),
    ("cookies", "GET", "/cookies", [("Cookie", "a=1; b=two")], None, (200,)),
    ("streamed response", "GET", "/stream", [], None, (200,)),
    ("file download", "GET", "/download", [], None, (200,)),
    ("file download, a range", "GET", "/download", [("Range", "bytes=100-1099")], None,
     (206, 200)),
    ("file download, not modified", "GET", "/download",
     [("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")], None, (304, 200)),
    ("404", "GET", "/no/such/page", [], None, (404,)),
    ("405", "POST", "/json", [("Content-Type", "text/plain")], b"x", (405,)),
    ("many headers", "GET", "/json?m=1",
     [("X-Matrix-H%02d" % i, "v" * 50) for i in range(30)], None, (200,)),
]

DROP = {"date", "server", "connection", "keep-alive", "transfer-encoding"}

# The one known difference, tolerated narrowly and reported: for an empty
# response whose app set no Content-Length and returned no chunk at all (a
# Flask/Bottle 304), wsgiref adds "Content-Length: 0" (its finish_content);
# wsgi-fcgi computes one only for a one-chunk result (SPEC.md) and sends
# none.  nginx passes either through unchanged.
EMPTY_CL = ("content-length", "0")


def tolerate(na, nb):
    if na[3] == b"" and nb[3] == b"" and EMPTY_CL in nb[2] and \
            not any(k == "content-length" for k, _ in na[2]):
        nb = (nb[0], nb[1], [h for h in nb[2] if h != EMPTY_CL], nb[3])
        if na == nb:
            w.log("note: identical but for wsgiref's Content-Length: 0 on an empty body")
    return na, nb


def normal_value(name, value):
    # Werkzeug builds Allow from a set: its order follows the process's
    # string hash seed, so it differs between any two processes.
    if name == "allow":
        return ", ".join(sorted(m.strip() for m in value.split(",")))
    return value


def normal(r):
    heads = sorted((k.lower(), normal_value(k.lower(), v)) for k, v in r.headers
                   if k.lower() not in DROP)
    return (r.status, r.reason, heads, r.body)


def start_reference(fw, app):
    portfile = w.tmp("ref-%s.port" % fw)
    p = w.spawn("ref-" + fw, [w.PYTHON, os.path.join(w.LIB, "wsgiref_server.py"), app, portfile])

    def up():
        if not p.running():
            raise AssertionError("wsgiref for %s exited (status %s)\n%s"
                                 % (fw, p.returncode, p.text()[-4000:]))
        return os.path.exists(portfile)
    if not w.wait_for(up, 30):
        raise AssertionError("wsgiref for %s: not ready after 30s" % fw)
    return int(w.read(portfile))


def test_frameworks():
    w.need_program(web.NGINX)
    present = []
    for fw, (mod, _f) in APPS.items():
        try:
            w.need_module(mod, "python3-" + mod)
            present.append(fw)
        except w.Skip as e:
            w.log("SKIP [%s]: %s" % (fw, e))
    if not present:
        raise w.Skip("none of flask, django, bottle is importable by %s" % w.PYTHON)

    servers, refs = {}, {}
    for fw in present:
        app = os.path.join(FRAMEWORKS, APPS[fw][1])
        servers[fw] = w.Server(app, ["-t", "2"], name="wsgi-" + fw)
        refs[fw] = start_reference(fw, app)
    # nginx's ports are picked once every reference server is bound (each
    # binds port 0 itself, and could otherwise get a port picked for nginx).
    sites, ports = [], {}
    for fw in present:
        ports[fw] = ({"": w.free_port(), "/app": w.free_port()}, refs[fw])
        sites.append(web.nginx_site("wsgi-fcgi.conf", ports[fw][0][""], servers[fw].addr))
        sites.append(web.nginx_site("wsgi-fcgi.conf", ports[fw][0]["/app"], servers[fw].addr,
                                    prefix="/app"))
    ng = web.start_nginx("nginx", sites, wait_path="/json")
    for fw in present:
        for port in ports[fw][0].values():
            hc.wait_http(port, ng, "/json")

    for fw in present:
        fronts, ref = ports[fw]
        for mount in ("", "/app"):
            front = fronts[mount]
            w.label("%s %s" % (fw, mount or "/"))
            for name, method, target, headers, body, statuses in SPECS:
                hdrs = [("Host", HOST)] + headers
                try:
                    a = hc.request(method, front, mount + target, hdrs, body)
                    b = hc.request(method, ref, mount + target, hdrs, body)
                except (OSError, http.client.HTTPException) as e:
                    w.fail("%s %s%s: %s" % (method, mount, target, e))
                    continue
                na, nb = tolerate(normal(a), normal(b))
                if a.status not in statuses:
                    w.fail("%s %s%s (%s): status %d, expected one of %s\n    %r"
                            % (method, mount, target, name, a.status, statuses, a.body[:300]))
                if na == nb:
                    w.ok("%s %s%s (%s): identical, status %d" % (method, mount, target, name,
                                                                 a.status))
                else:
                    w.fail("%s %s%s (%s): differs from wsgiref\n    nginx->wsgi-fcgi: %r\n"
                            "    wsgiref:          %r"
                            % (method, mount, target, name, na[:3] + (na[3][:300],),
                               nb[:3] + (nb[3][:300],)))
            # the framework really saw the mount
            r = hc.request("GET", front, mount + "/json", [("Host", HOST)])
            j = r.json() if r.status == 200 else {}
            got = j.get("script_root", j.get("script_name"))
            want = {"flask": mount, "django": mount, "bottle": mount + "/"}[fw]
            if fw == "django" and mount == "":
                want = ""
            w.eq(got, want, "the framework's own idea of the mount point")

    for p in w._procs:
        if p.name.startswith("wsgi-"):
            w.label(p.name)
            w.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)


if __name__ == "__main__":
    w.main()
