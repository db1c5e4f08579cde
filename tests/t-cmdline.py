"""Bad command lines exit non-zero, quickly, with one line on stderr and
nothing on stdout; -h/--help and -V/--version exit 0."""

import os

import wftest as w
from wftest import check, eq


def bad(what, *args):
    """Non-zero, not hanging, exactly one line on stderr, nothing on stdout."""
    r = w.run([w.WSGI_FCGI] + list(args), timeout=20)
    if r.returncode in (124, -9):
        w.fail("%s: did not exit (killed by timeout)" % what)
        return
    check(r.returncode != 0, "%s: %s (exit %s)" % (what, " ".join(args), r.returncode))
    err = [ln for ln in r.stderr.decode("latin-1").splitlines() if ln]
    eq(len(err), 1, "%s: one line on stderr" % what)
    if len(err) != 1:
        print("\n".join("    stderr| " + ln for ln in err))
    eq(r.stdout, b"", "%s: nothing on stdout" % what)


def test_bad_command_lines():
    app = w.app("hello")
    s = "unix:" + w.tmp("s.sock")
    bad("unknown option", "--no-such-option", app)
    bad("unknown short option", "-Z", app)
    bad("missing APP", "-s", s)
    bad("two APPs", "-s", s, app, app)
    bad("missing option argument", app, "--socket")
    bad("--backlog 4x", "--backlog", "4x", "-s", s, app)
    bad("--backlog empty", "--backlog", "", "-s", s, app)
    bad("--backlog -1", "--backlog", "-1", "-s", s, app)
    bad("--backlog overflow", "--backlog", "99999999999999999999999", "-s", s, app)
    bad("--threads 0", "--threads", "0", "-s", s, app)
    bad("--threads x", "-t", "x", "-s", s, app)
    bad("--threads 2.5", "-t", "2.5", "-s", s, app)
    bad("--threads huge", "-t", "1000000000", "-s", s, app)
    bad("--fd abc", "--fd", "abc", app)
    bad("--fd -3", "--fd", "-3", app)
    bad("--socket-mode 999", "--socket-mode", "999", "-s", s, app)
    bad("--socket-mode abc", "--socket-mode", "abc", "-s", s, app)
    bad("--url-scheme ftp", "--url-scheme", "ftp", "-s", s, app)
    bad("port too big", "-s", "127.0.0.1:99999", app)
    bad("port not a number", "-s", "127.0.0.1:http0", app)
    bad("port missing", "-s", "127.0.0.1:", app)
    bad("IPv6 without ]", "-s", "[::1:9000", app)
    bad("IPv6 without port", "-s", "[::1]", app)
    bad("not an address", "-s", "nohostnoport", app)
    bad("bad IPv4 host", "-s", "999.1.2.3:9000", app)
    bad("unix socket in a missing dir", "-s", "unix:" + w.tmp("no", "such", "dir", "s.sock"), app)
    bad("empty unix path", "-s", "unix:", app)
    bad("--chdir missing dir", "--chdir", w.tmp("no-such-dir"), "-s", s, app)
    bad("--socket-owner unknown user", "--socket-owner", "no_such_user_wf", "-s", s, app)
    # nothing was left listening or lying around
    check(not os.path.exists(w.tmp("s.sock")), "no failed start left %s behind" % w.tmp("s.sock"))


def test_help_and_version():
    r = w.run([w.WSGI_FCGI, "--help"], timeout=20)
    eq(r.returncode, 0, "--help exits 0")
    check(b"--socket" in r.stdout, "--help lists --socket")
    eq(w.run([w.WSGI_FCGI, "-h"], timeout=20).returncode, 0, "-h exits 0")
    r = w.run([w.WSGI_FCGI, "--version"], timeout=20)
    eq(r.returncode, 0, "--version exits 0")
    check(b"wsgi-fcgi" in r.stdout, "--version names the program")
    eq(w.run([w.WSGI_FCGI, "-V"], timeout=20).returncode, 0, "-V exits 0")


if __name__ == "__main__":
    w.main()
