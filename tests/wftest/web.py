"""The one launcher of nginx, lighttpd and Apache httpd for the tests.

Every web-server configuration the tests use is a contrib/ file, filled in
by render(): its @PLACEHOLDERS@ replaced, and only the small deliberate
variations a test passes as parameters (each must apply, so a contrib file
that drifts away from what a test relies on fails loudly).  The main
configuration around those files (pid file, logs, temp paths: everything in
the test's temp dir) is tests/web/{nginx,lighttpd,apache2}.conf, filled in
the same way.  Each server runs in the foreground as our child, on
127.0.0.1 and a free port, and is stopped by its PID with the test.

    site = web.nginx_site("wsgi-fcgi.conf", port, "unix:" + sock)
    ng = web.start_nginx("nginx", [site])
"""

import os
import pwd
import re
import subprocess
import textwrap

import wftest as w
from wftest import http_client

WEB = os.path.join(w.TESTS, "web")
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
LIGHTTPD = os.environ.get("LIGHTTPD", "/usr/sbin/lighttpd")
APACHE = os.environ.get("APACHE", "/usr/sbin/apache2")
APACHE_MODULES = "/usr/lib/apache2/modules"


# ------------------------------------------------------------------ templates

def contrib(relpath):
    return os.path.join(w.CONTRIB, relpath)


def render(template, values=None, replace=(), drop=(), insert_after=()):
    """The text of TEMPLATE (a path) with:

    replace       (old, new) literal substitutions, each must occur;
    drop          substrings: every line containing one is removed (each
                  must remove at least one line);
    insert_after  (substring, text): text inserted after every line
                  containing substring (each must match);
    values        {KEY: value} for the @KEY@ placeholders, then none may be
                  left."""
    with open(template, encoding="utf-8") as f:
        text = f.read()
    for old, new in replace:
        if old not in text:
            raise AssertionError("%s: %r not found (the test's variation no longer applies)"
                                 % (template, old))
        text = text.replace(old, new)
    lines = text.split("\n")
    for sub in drop:
        kept = [ln for ln in lines if sub not in ln or ln.lstrip().startswith("#")]
        if len(kept) == len(lines):
            raise AssertionError("%s: no line with %r to drop" % (template, sub))
        lines = kept
    for sub, new in insert_after:
        out, hit = [], False
        for ln in lines:
            out.append(ln)
            if sub in ln and not ln.lstrip().startswith("#"):
                indent = ln[:len(ln) - len(ln.lstrip())]
                out += [indent + x for x in new.split("\n")]
                hit = True
        if not hit:
            raise AssertionError("%s: no line with %r to insert after" % (template, sub))
        lines = out
    text = "\n".join(lines)
    for k, v in (values or {}).items():
        text = text.replace("@%s@" % k, str(v))
    code = "\n".join(ln for ln in text.split("\n") if not ln.lstrip().startswith("#"))
    left = sorted(set(re.findall(r"@[A-Z][A-Z0-9_]*@", code)))
    if left:
        raise AssertionError("placeholders left in %s: %s" % (template, left))
    return text


def commented_example(template, first):
    """The example block documented in a comment of TEMPLATE, uncommented:
    the comment lines indented by more than "# " starting with the one
    containing FIRST (e.g. "location /app/ {")."""
    with open(template, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = None
    for ln in lines:
        if out is None:
            if ln.startswith("#    ") and first in ln:
                out = [ln]
            continue
        if ln.startswith("#    ") and ln[1:].strip():
            out.append(ln)
        else:
            break
    if not out:
        raise AssertionError("%s: no commented example starting with %r" % (template, first))
    return "\n".join(ln[1:] for ln in out)


def _save(text, *path):
    p = w.tmp(*path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return w.write(p, text)


# ------------------------------------------------------------------ nginx

# What a TLS front sends (HTTPS=on), switched on per request by a test
# header instead, since the tests speak plain HTTP.
NGINX_FAKE_HTTPS_MAP = 'map $http_x_matrix_https $matrix_https { default ""; on on; }'
FAKE_HTTPS_HEADER = "X-Matrix-Https"


def nginx_site(conf, port, upstream, prefix=None, keep_conn=False, fake_https=False,
               drop=(), replace=()):
    """A server block from contrib/nginx/CONF (wsgi-fcgi.conf, wsgi-scgi.conf,
    upstream-two.conf ...) on 127.0.0.1:port passing to upstream ("unix:PATH",
    "127.0.0.1:PORT" or an upstream's name).

    prefix "/app": the file's documented "mount under a prefix" location
    replaces its "location /"; keep_conn: fastcgi_keep_conn on (for an
    upstream with keepalive); fake_https: HTTPS=on when the request has the
    X-Matrix-Https: on header (nginx_start adds the map); drop, replace:
    passed to render()."""
    path = contrib(os.path.join("nginx", conf))
    proto = "scgi" if "scgi" in conf else "fastcgi"
    repl = list(replace)
    if prefix:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"\n    location / \{\n.*?\n    \}\n", text, re.S)
        example = commented_example(path, "location ").replace("/app", prefix)
        example = textwrap.indent(textwrap.dedent(example), "    ")
        repl.append((m.group(0), "\n" + example + "\n"))
    extra = []
    if keep_conn:
        extra.append("fastcgi_keep_conn on;")
    if fake_https:
        extra.append("%s_param HTTPS $matrix_https if_not_empty;" % proto)
    ins = [("include /etc/nginx/%s_params;" % proto, "\n".join(extra))] if extra else []
    text = render(path, {"HOST": "127.0.0.1", "PORT": port, "UPSTREAM": upstream},
                  replace=repl, drop=drop, insert_after=ins)
    return text


def start_nginx(name, sites, http_extra="", wait_port=None, wait_path="/", workers=1):
    """One nginx serving the server blocks SITES; waits until wait_port
    (default: the first listen port) answers.  workers: nginx's
    worker_processes; 1 runs one process (master_process off), more a
    master (still in the foreground, our child) with that many workers,
    each with its own upstream keepalive pool; run by root, those workers
    are www-data (nginx_user()), as on Debian: give wsgi-fcgi
    owner_args()."""
    nginx = w.need_program(NGINX)
    w.need_file("/etc/nginx/fastcgi_params", "nginx-common")
    d = w.tmp(name)
    os.makedirs(os.path.join(d, "temp"), exist_ok=True)
    body = [http_extra] if http_extra else []
    if any("$matrix_https" in s for s in sites):
        body.append(NGINX_FAKE_HTTPS_MAP)
    for i, s in enumerate(sites):
        body.append("include %s;" % _save(s, name, "site%d.conf" % i))
    procs = []
    if workers != 1:
        procs = [("master_process off;", "master_process on;"),
                 ("worker_processes 1;", "worker_processes %d;" % workers)]
        if nginx_user():
            procs.append(("daemon off;", "daemon off;\nuser %s;" % nginx_user()))
    conf = render(os.path.join(WEB, "nginx.conf"),
                  {"PREFIX": d, "ERROR_LOG": d + "/error.log",
                   "HTTP": "\n".join("    " + b for b in body)}, replace=procs)
    cpath = _save(conf, name, "nginx.conf")
    t = subprocess.run([nginx, "-t", "-q", "-p", d, "-c", cpath, "-e", "stderr"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    if t.returncode != 0:
        raise AssertionError("nginx -t rejected %s:\n%s\n%s\n%s"
                             % (cpath, t.stdout.decode("latin-1"), conf, "\n".join(sites)))
    p = w.spawn(name, [nginx, "-p", d, "-c", cpath, "-e", "stderr"])
    p.prefix = d
    p.files += [cpath] + [w.tmp(name, "site%d.conf" % i) for i in range(len(sites))] + \
        [d + "/error.log"]
    if wait_port is None:
        wait_port = int(re.search(r"listen 127\.0\.0\.1:(\d+)", sites[0]).group(1))
    http_client.wait_http(wait_port, p, wait_path)
    return p


def nginx_user():
    """The user nginx's worker processes run as under a master started by
    root (www-data), or None (one process, or we are not root)."""
    return apache_user()


def owner_args():
    """wsgi-fcgi's options that let nginx_user() (or Apache's user) reach
    its unix socket: --socket-owner when we are root, else none."""
    u = apache_user()
    return ["--socket-owner", u] if u else []


def nginx_error_log(proc):
    return w.read(os.path.join(proc.prefix, "error.log"), "replace")


# ------------------------------------------------------------------ lighttpd

LIGHTTPD_FAKE_HTTPS = """server.modules += ( "mod_setenv" )
# what a TLS front would send, switched on per request by a test header
$REQUEST_HEADER["X-Matrix-Https"] == "on" {
    setenv.set-environment = ( "HTTPS" => "on" )
}"""


def lighttpd_site(conf, values=None, drop=(), replace=()):
    """contrib/lighttpd/CONF rendered (values: its placeholders)."""
    return render(contrib(os.path.join("lighttpd", conf)), values, replace=replace, drop=drop)


def start_lighttpd(name, port, site, fake_https=False, wait_path="/"):
    lighttpd = w.need_program(LIGHTTPD)
    d = w.tmp(name)
    for sub in ("htdocs", "upload"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    spath = _save(site, name, "site.conf")
    conf = render(os.path.join(WEB, "lighttpd.conf"),
                  {"PREFIX": d, "PORT": port, "SITE": spath,
                   "EXTRA": LIGHTTPD_FAKE_HTTPS if fake_https else ""})
    cpath = _save(conf, name, "lighttpd.conf")
    t = subprocess.run([lighttpd, "-tt", "-f", cpath], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if t.returncode != 0:
        raise AssertionError("lighttpd -tt rejected %s:\n%s\n%s\n%s"
                             % (cpath, t.stdout.decode("latin-1"), conf, site))
    p = w.spawn(name, [lighttpd, "-D", "-f", cpath])
    p.prefix = d
    p.files += [cpath, spath, d + "/error.log"]
    http_client.wait_http(port, p, wait_path)
    return p


# ------------------------------------------------------------------ Apache

APACHE_BASE_MODULES = ["mpm_prefork", "authz_core", "mime", "alias", "env", "setenvif"]
APACHE_FAKE_HTTPS = ('# what a TLS VirtualHost (mod_ssl) would set, switched on by a test header\n'
                     'SetEnvIf X-Matrix-Https "^on$" HTTPS=on')


def apache_user():
    """The user Apache's children run as, or None when we are not root."""
    if not w.IS_ROOT:
        return None
    try:
        pwd.getpwnam("www-data")
    except KeyError:
        raise w.Skip("running as root and there is no www-data user for Apache")
    return "www-data"


def apache_site(conf, values=None, drop=(), replace=()):
    """contrib/apache/CONF rendered (values: its placeholders)."""
    return render(contrib(os.path.join("apache", conf)), values, replace=replace, drop=drop)


def start_apache(name, port, sites, modules=(), extra="", fake_https=True, wait_path="/"):
    apache = w.need_program(APACHE)
    d = w.tmp(name)
    os.makedirs(os.path.join(d, "htdocs"), exist_ok=True)
    mods = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m)
                     for m in APACHE_BASE_MODULES + list(modules))
    user = apache_user()
    paths = [_save(s, name, "site%d.conf" % i) for i, s in enumerate(sites)]
    conf = render(os.path.join(WEB, "apache2.conf"),
                  {"PREFIX": d, "PORT": port, "MODULES": mods,
                   "USER": "User %s\nGroup %s" % (user, user) if user else "",
                   "EXTRA": "\n".join(x for x in (APACHE_FAKE_HTTPS if fake_https else "", extra)
                                      if x),
                   "SITES": "\n".join('Include "%s"' % p for p in paths)})
    cpath = _save(conf, name, "httpd.conf")
    t = subprocess.run([apache, "-t", "-f", cpath], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if t.returncode != 0:
        raise AssertionError("apache2 -t rejected %s:\n%s" % (cpath, t.stdout.decode("latin-1")))
    p = w.spawn(name, [apache, "-f", cpath, "-DFOREGROUND"])
    p.prefix = d
    p.files += [cpath] + paths + [d + "/error.log"]
    http_client.wait_http(port, p, wait_path)
    return p


def error_log(proc):
    """The error.log of a server started here."""
    return w.read(os.path.join(proc.prefix, "error.log"), "replace")
