"""Memcheck over the main request paths (see tests/t-valgrind.sh)."""
import glob
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("srcdir", "."), "tests"))
import fcgi_client as fc  # noqa: E402
import scgi_client as sc  # noqa: E402

SRC = os.environ.get("srcdir", ".")
WSGI_FCGI = os.environ["WSGI_FCGI"]
APPS = os.path.join(SRC, "tests", "apps")
TMP = os.environ.get("WF_TMP") or __import__("tempfile").mkdtemp(prefix="wf-vg-")
SUPP = os.path.join(SRC, "tests", "valgrind.supp")
VALGRIND = ["valgrind", "--tool=memcheck", "--trace-children=yes", "--leak-check=full",
            "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
            "--num-callers=40", "--suppressions=" + SUPP]
ENV = dict(os.environ, PYTHONMALLOC="malloc")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def start(name, args, app):
    log = os.path.join(TMP, name + ".vg.%p")
    cmd = VALGRIND + ["--log-file=" + log, WSGI_FCGI] + args + [os.path.join(APPS, app)]
    errf = open(os.path.join(TMP, name + ".log"), "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline:
        with open(os.path.join(TMP, name + ".log"), "rb") as f:
            if b" serving " in f.read():
                return p
        if p.poll() is not None:
            break
        time.sleep(0.3)
    p.kill()
    raise SystemExit("server %s did not start under valgrind" % name)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(180)
    except subprocess.TimeoutExpired:
        p.kill()
        return None


def memcheck_clean(name):
    logs = glob.glob(os.path.join(TMP, name + ".vg.*"))
    check(len(logs) >= 2, "%s: memcheck followed master and worker (%d logs)" % (name, len(logs)))
    for path in logs:
        text = open(path, encoding="latin-1").read()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        check(m is not None and m.group(1) == "0",
              "%s: no memcheck error in %s" % (name, os.path.basename(path)))
        if m is None or m.group(1) != "0":
            print(text[-6000:])
        lost = re.search(r"definitely lost: ([\d,]+) bytes", text)
        check(lost is None or lost.group(1) == "0",
              "%s: no definite leak in %s" % (name, os.path.basename(path)))


def fcgi_paths():
    sock = os.path.join(TMP, "f.sock")
    p = start("fcgi", ["-t", "2", "-s", "unix:" + sock], "any_app.py")
    addr = "unix:" + sock
    body = os.urandom(200000) + b"\nline two\nlast"
    r = fc.get(addr, path="/x", query="app=echo_environ", timeout=120,
               extra=[(b"HTTP_X_BYTES", bytes(range(0x80, 0x100)))])
    check(r.status == 200, "environ 200")
    for mode in ("read", "readn&n=777", "readline", "readlinen&n=5", "readlines", "iter", "mixed"):
        r = fc.request(addr, fc.default_params(method="POST", query="app=echo_body&echo=0&mode=" + mode,
                                               body=body), body, timeout=120)
        check(r.status == 200, "input mode %s" % mode)
    for app in ("raise_before_headers", "raise_after_headers", "returns_str", "no_start_response",
                "write_callable", "exc_info", "content_length_excess", "file_wrapper", "wsgi_errors",
                "stream", "close_counter"):
        r = fc.get(addr, query="app=" + app, timeout=120)
        check(r.status is not None, "app %s answered (%s)" % (app, r.status))
    for case in ("crlf_value", "nul_name", "hop_connection", "status_crlf", "nonlatin_value", "triple"):
        r = fc.get(addr, query="app=bad_header&case=" + case, timeout=120)
        check(r.status == 500, "bad header %s -> 500" % case)
    with fc.Connection(addr, timeout=120) as c:
        for i in range(10):
            r = c.request(fc.default_params(query="app=echo_environ"), keep=True)
            check(r.status == 200, "kept request %d" % i)
    c = fc.Connection(addr, timeout=120)
    c.begin()
    c.params(fc.default_params(query="app=big_download&n=4000000"))
    c.stdin(b"")
    c.read_record(time.time() + 60)
    c.close()
    c = fc.Connection(addr, timeout=120)
    c.begin()
    c.params(fc.default_params(method="POST", query="app=echo_body&mode=read", body=b"x" * 100000))
    c.stdin(b"x" * 1000, end=False)
    c.close()
    time.sleep(1)
    r = fc.get(addr, query="app=echo_environ", timeout=120)
    check(r.status == 200, "serving after hostile clients")
    check(stop(p) == 0, "fcgi server exits 0 on SIGTERM")
    memcheck_clean("fcgi")


def scgi_paths():
    sock = os.path.join(TMP, "s.sock")
    p = start("scgi", ["--scgi", "-s", "unix:" + sock], "echo_body.py")
    body = os.urandom(100000)
    r = sc.request("unix:" + sock, sc.default_params(method="POST", query="mode=readline&echo=0", body=body),
                   body, timeout=120)
    check(r.status == 200, "scgi POST")
    for raw in (b"abc", b"01:x,", b"5:ab\0cd,", b"9999999999:"):
        sc.request_raw("unix:" + sock, raw, timeout=60)
    check(stop(p) == 0, "scgi server exits 0 on SIGTERM")
    memcheck_clean("scgi")


def main():
    fcgi_paths()
    scgi_paths()
    print("%d failed check(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
