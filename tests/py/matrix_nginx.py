"""Matrix cells behind a real nginx (Debian's /usr/sbin/nginx, one process,
master_process off, everything in the temp dir): fastcgi_pass on a unix
socket and on TCP, each with and without fastcgi_keep_conn (an upstream
with keepalive), mounted at "/" and under "/app" (fastcgi_split_path_info,
as contrib/nginx/wsgi-fcgi.conf documents, and Debian's plain fastcgi_params
fixed up by --script-name), and scgi_pass to wsgi-fcgi --scgi.

Also a library: nginx_start() for the other matrix drivers."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix_common as mc  # noqa: E402

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")

# What a TLS front sends, switched on per request by a test header.
HTTPS_MAP = """
    map $http_x_matrix_https $matrix_https { default ""; on on; }
"""

# The root-mount FastCGI parameters of contrib/nginx/wsgi-fcgi.conf, plus HTTPS.
FCGI_ROOT = """
        include /etc/nginx/fastcgi_params;
        fastcgi_param SCRIPT_NAME "";
        fastcgi_param PATH_INFO   $uri;
        fastcgi_param HTTP_HOST   $host:$server_port;
        fastcgi_param HTTPS       $matrix_https if_not_empty;
"""


def nginx_start(name, servers, http_extra=""):
    """nginx with the given server/upstream blocks in its http {} context."""
    if not os.path.exists(NGINX):
        raise mc.Skip("nginx not installed (%s)" % NGINX)
    d = mc.path(name)
    os.makedirs(os.path.join(d, "temp"), exist_ok=True)
    conf = """daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log notice;
events { worker_connections 256; }
http {
    access_log %(d)s/access.log;
    client_body_temp_path %(d)s/temp/body;
    fastcgi_temp_path %(d)s/temp/fastcgi;
    proxy_temp_path %(d)s/temp/proxy;
    uwsgi_temp_path %(d)s/temp/uwsgi;
    scgi_temp_path %(d)s/temp/scgi;
    client_max_body_size 100m;
%(extra)s
%(servers)s
}
""" % {"d": d, "extra": HTTPS_MAP + http_extra, "servers": servers}
    cpath = mc.write(os.path.join(d, "nginx.conf"), conf)
    t = mc.subprocess.run([NGINX, "-t", "-q", "-p", d, "-c", cpath, "-e", "stderr"],
                          stdout=mc.subprocess.PIPE, stderr=mc.subprocess.STDOUT, timeout=30)
    if t.returncode != 0:
        raise AssertionError("nginx -t rejected %s:\n%s\n%s"
                             % (cpath, t.stdout.decode("latin-1"), conf))
    return mc.start(name, [NGINX, "-p", d, "-c", cpath, "-e", "stderr"])


def server_block(port, locations, name="localhost"):
    return """
    server {
        listen 127.0.0.1:%d;
        server_name %s;
%s
    }
""" % (port, name, locations)


def fcgi_root_location(target, extra=""):
    return "        location / {%s%s        fastcgi_pass %s;\n        }\n" % (FCGI_ROOT, extra, target)


def run():
    unix = "unix:" + mc.path("fcgi.sock")
    tport = mc.free_port()
    kunix = "unix:" + mc.path("fcgi-keep.sock")
    ktport = mc.free_port()
    sn = "unix:" + mc.path("fcgi-sn.sock")
    scgi = "unix:" + mc.path("scgi.sock")
    mc.start_wsgi("wsgi-unix", unix)
    mc.start_wsgi("wsgi-tcp", "127.0.0.1:%d" % tport)
    # a kept connection holds a thread: two threads, two kept connections
    mc.start_wsgi("wsgi-keep-unix", kunix, args=["-t", "2"])
    mc.start_wsgi("wsgi-keep-tcp", "127.0.0.1:%d" % ktport, args=["-t", "2"])
    mc.start_wsgi("wsgi-script-name", sn, args=["--script-name", "/app"])
    mc.start_wsgi("wsgi-scgi", scgi, args=["--scgi"])

    ports = {k: mc.free_port() for k in
             ("unix", "tcp", "keep-unix", "keep-tcp", "split", "script-name", "scgi", "scgi-app")}
    upstreams = """
    upstream keep_unix { server %s; keepalive 2; }
    upstream keep_tcp { server 127.0.0.1:%d; keepalive 2; }
""" % (kunix, ktport)
    keep = "        fastcgi_keep_conn on;\n"
    servers = "".join([
        server_block(ports["unix"], fcgi_root_location(unix)),
        server_block(ports["tcp"], fcgi_root_location("127.0.0.1:%d" % tport)),
        server_block(ports["keep-unix"], fcgi_root_location("keep_unix", keep)),
        server_block(ports["keep-tcp"], fcgi_root_location("keep_tcp", keep)),
        # mounted under /app the way contrib/nginx/wsgi-fcgi.conf documents
        server_block(ports["split"], """
        location /app/ {
            include /etc/nginx/fastcgi_params;
            fastcgi_split_path_info ^(/app)(/.*)$;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param PATH_INFO   $fastcgi_path_info;
            fastcgi_param HTTP_HOST   $host:$server_port;
            fastcgi_param HTTPS       $matrix_https if_not_empty;
            fastcgi_pass %s;
        }
""" % unix),
        # Debian's fastcgi_params alone (SCRIPT_NAME = the whole path, no
        # PATH_INFO) and wsgi-fcgi --script-name /app
        server_block(ports["script-name"], """
        location /app/ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param HTTPS       $matrix_https if_not_empty;
            fastcgi_pass %s;
        }
""" % sn),
        server_block(ports["scgi"], """
        location / {
            include /etc/nginx/scgi_params;
            scgi_param SCRIPT_NAME "";
            scgi_param PATH_INFO   $uri;
            scgi_param HTTP_HOST   $host:$server_port;
            scgi_param HTTPS       $matrix_https if_not_empty;
            scgi_pass %s;
        }
""" % scgi),
        server_block(ports["scgi-app"], """
        location ~ ^/app(?<matrix_pi>/.*)$ {
            include /etc/nginx/scgi_params;
            scgi_param SCRIPT_NAME /app;
            scgi_param PATH_INFO   $matrix_pi;
            scgi_param HTTP_HOST   $host:$server_port;
            scgi_param HTTPS       $matrix_https if_not_empty;
            scgi_pass %s;
        }
""" % scgi),
    ])
    ng = nginx_start("nginx", servers, upstreams)
    mc.wait_http(ports["unix"], ng, "/env")

    mc.cell_checks("nginx fastcgi unix /", ports["unix"], "", "localhost")
    mc.cell_checks("nginx fastcgi tcp /", ports["tcp"], "", "localhost")
    for i in range(2):  # twice: the second round reuses kept connections
        mc.cell_checks("nginx fastcgi unix keep_conn /", ports["keep-unix"], "", "localhost")
        mc.cell_checks("nginx fastcgi tcp keep_conn /", ports["keep-tcp"], "", "localhost")
    mc.cell_checks("nginx fastcgi /app split_path_info", ports["split"], "/app", "localhost")
    # Debian's fastcgi_params: HTTP_HOST is $host, the port is dropped, so the
    # app's absolute URLs lose it (LIBFCGI.md #13): the redirect check sends
    # no port in Host here.
    mc.cell_checks("nginx fastcgi /app --script-name", ports["script-name"], "/app", "localhost",
                   redirect_host_port=False)
    mc.cell_checks("nginx scgi /", ports["scgi"], "", "localhost")
    mc.cell_checks("nginx scgi /app", ports["scgi-app"], "/app", "localhost")
    ng.record()
    if not mc.check(ng.running(), "nginx still running"):
        return
    for p in mc._procs:
        if p.name.startswith("wsgi"):
            mc._cell[0] = p.name
            mc.check("Traceback" not in p.text(), "no traceback in the %s log" % p.name)


if __name__ == "__main__":
    sys.exit(mc.main(run, needs=[NGINX, "/etc/nginx/fastcgi_params"]))
