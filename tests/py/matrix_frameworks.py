"""Framework matrix: Flask, Django and Bottle apps (tests/frameworks/) served
by nginx -> wsgi-fcgi must answer byte-identically to the same app under
Python's wsgiref.simple_server (tests/py/matrix_wsgiref.py) on another
loopback port: status code and reason, body, and headers other than Date,
Server and hop-by-hop ones (Connection, Keep-Alive, Transfer-Encoding; nginx
streams with chunked encoding to an HTTP/1.1 client, wsgiref closes),
compared as sorted (lower-cased name, value) pairs (Allow as a sorted set).  One difference is
tolerated and noted (see EMPTY_CL): wsgiref's Content-Length: 0 on a response
with an empty body and no Content-Length from the app.

Data-driven: SPECS is a list of requests; each is sent to both servers, at
the root and again under the /app mount.  Adding a request is one line.
Every request sends the same Host header to both (nginx passes it on with
fastcgi_param HTTP_HOST $http_host), so absolute URLs match too.
"""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix_common as mc  # noqa: E402
import matrix_nginx as mn  # noqa: E402

FRAMEWORKS = os.path.join(mc.TESTS, "frameworks")
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
            print("note: identical but for wsgiref's Content-Length: 0 on an empty body")
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
    portfile = mc.path("ref-%s.port" % fw)
    p = mc.start("ref-" + fw, [mc.PYTHON, os.path.join(mc.TESTS, "wftest", "wsgiref_server.py"),
                               app, portfile])
    mc.wait_until(lambda: os.path.exists(portfile), p, 30, "wsgiref for " + fw)
    return int(open(portfile).read())


def location(sock):
    return """
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_NAME "";
            fastcgi_param PATH_INFO   $uri;
            fastcgi_param HTTP_HOST   $http_host;
            fastcgi_pass unix:%(s)s;
        }
        location /app/ {
            include /etc/nginx/fastcgi_params;
            fastcgi_split_path_info ^(/app)(/.*)$;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param PATH_INFO   $fastcgi_path_info;
            fastcgi_param HTTP_HOST   $http_host;
            fastcgi_pass unix:%(s)s;
        }
""" % {"s": sock}


def run():
    present = []
    for fw, (mod, _f) in APPS.items():
        r = mc.subprocess.run([mc.PYTHON, "-c", "import " + mod], stdout=mc.subprocess.DEVNULL,
                              stderr=mc.subprocess.DEVNULL)
        if r.returncode == 0:
            present.append(fw)
        else:
            print("SKIP [%s]: %s cannot import %s (Debian package python3-%s)"
                  % (fw, mc.PYTHON, mod, mod))
    if not present:
        raise mc.Skip("none of flask, django, bottle is importable by %s" % mc.PYTHON)

    servers, ports = "", {}
    for fw in present:
        app = os.path.join(FRAMEWORKS, APPS[fw][1])
        sock = mc.path(fw + ".sock")
        mc.start_wsgi("wsgi-" + fw, "unix:" + sock, app=app, args=["-t", "2"])
        ports[fw] = (mc.free_port(), start_reference(fw, app))
        servers += mn.server_block(ports[fw][0], location(sock))
    ng = mn.nginx_start("nginx", servers)
    for fw in present:
        mc.wait_http(ports[fw][0], ng, "/json")

    for fw in present:
        front, ref = ports[fw]
        for mount in ("", "/app"):
            mc._cell[0] = "%s %s" % (fw, mount or "/")
            for name, method, target, headers, body, statuses in SPECS:
                hdrs = [("Host", HOST)] + headers
                try:
                    a = mc.request(method, front, mount + target, hdrs, body)
                    b = mc.request(method, ref, mount + target, hdrs, body)
                except (OSError, mc.http.client.HTTPException) as e:
                    mc.fail("%s %s%s: %s" % (method, mount, target, e))
                    continue
                na, nb = tolerate(normal(a), normal(b))
                if a.status not in statuses:
                    mc.fail("%s %s%s (%s): status %d, expected one of %s\n    %r"
                            % (method, mount, target, name, a.status, statuses, a.body[:300]))
                if na == nb:
                    mc.ok("%s %s%s (%s): identical, status %d" % (method, mount, target, name,
                                                                 a.status))
                else:
                    mc.fail("%s %s%s (%s): differs from wsgiref\n    nginx->wsgi-fcgi: %r\n"
                            "    wsgiref:          %r"
                            % (method, mount, target, name, na[:3] + (na[3][:300],),
                               nb[:3] + (nb[3][:300],)))
            # the framework really saw the mount
            r = mc.request("GET", front, mount + "/json", [("Host", HOST)])
            j = r.json() if r.status == 200 else {}
            got = j.get("script_root", j.get("script_name"))
            want = {"flask": mount, "django": mount, "bottle": mount + "/"}[fw]
            if fw == "django" and mount == "":
                want = ""
            mc.eq(got, want, "the framework's own idea of the mount point")

    for p in mc._procs:
        if p.name.startswith("wsgi-"):
            mc._cell[0] = p.name
            mc.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)


if __name__ == "__main__":
    sys.exit(mc.main(run, needs=[mn.NGINX]))
