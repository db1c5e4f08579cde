"""the master's housekeeping.

* --access-log FILE: one Apache-combined line (+ duration in µs) per
  request, with method, path, status and bytes; reopened on SIGUSR1.
* --log-file FILE + SIGUSR1 after renaming the file: new lines (master's
  and workers') go to a new file at the old name.
* --pidfile holds the master's pid (and is removed at exit).
* --user nobody --group nogroup, when run as root: workers run as nobody
  (/proc/PID/status Uid and Gid) while the unix socket, created before the
  drop, still works with --socket-mode 0666 and with --socket-owner nobody."""

import os
import pwd
import grp
import re
import shutil
import signal

import wftest as w
from wftest import fcgi as fc
from wftest.load import pm_server

ACCESS = re.compile(
    r'^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" (\d+)$')


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def test_access_log_and_log_file():
    acc = w.tmp("access.log")
    logf = w.tmp("wf.log")
    pidf = w.tmp("wf.pid")
    srv = pm_server("logs", ["-p", "2", "-t", "2", "--access-log", acc,
                             "--log-file", logf, "--pidfile", pidf])
    w.eq(read(pidf).strip(), "%d" % srv.pid, "--pidfile holds the master pid")
    sent = [("GET", "/echo", "a=1", b""), ("POST", "/echo", "b=2", b"x" * 1000),
            ("GET", "/version", "", b""), ("GET", "/nowhere", "q=%C3%A9", b"")]
    sizes = []
    for method, path, query, body in sent:
        r = fc.get(srv.addr, path, query, method=method, body=body)
        sizes.append(len(r.body))
        w.eq(r.status, 200, "%s %s answered" % (method, path))

    def lines():
        return [l for l in read(acc).splitlines() if l]
    w.wait_for(lambda: len(lines()) >= len(sent), 10)
    got = lines()
    w.eq(len(got), len(sent), "one access-log line per request")
    for (method, path, query, body), size, line in zip(sent, sizes, got):
        m = ACCESS.match(line)
        if not w.check(m, "access-log line is combined format + duration: %s" % line):
            continue
        uri = path + ("?" + query if query else "")
        w.eq((m.group(4), m.group(5), m.group(7), m.group(8)),
                    (method, uri, "200", str(size)),
             "access log: method, path, status, bytes of %s %s" % (method, path))
    # Log lines went to the file, not stderr.
    text = read(logf)
    w.check(any(pid == srv.pid for pid, _, _ in w.log_lines(text)),
            "--log-file gets the master's log lines")
    w.check(not w.log_lines(srv.text()), "... and stderr none")
    # Rename both files, SIGUSR1: new lines go to new files.
    os.rename(logf, logf + ".1")
    os.rename(acc, acc + ".1")
    srv.kill(signal.SIGUSR1)
    w.check(w.wait_for(lambda: os.path.exists(logf) and os.path.exists(acc), 10),
            "SIGUSR1: the log files are reopened at their names")
    old_pids = w.ready_pids(srv.stats())
    srv.kill(signal.SIGHUP)          # log lines from the master and new workers
    w.check(w.wait_for(lambda: "reload: new workers ready" in read(logf), 20),
            "after SIGUSR1 the master's new lines go to the new log file")
    new_pids = w.wait_for(lambda: (lambda p: p if len(p) == 2 and not set(p) & set(old_pids)
                                   else None)(w.ready_pids(srv.stats())), 20)
    w.check(new_pids, "reload done")
    worker_lines = [pid for pid, _, m in w.log_lines(read(logf)) if pid in (new_pids or [])]
    w.check(worker_lines, "... and the new workers' lines too")
    w.check("SIGHUP" not in read(logf + ".1"), "the renamed log file gets no new lines")
    r = fc.get(srv.addr, "/echo", "after=usr1")
    w.eq(r.status, 200, "request after SIGUSR1")
    w.wait_for(lambda: "after=usr1" in read(acc), 10)
    w.check("after=usr1" in read(acc) and "after=usr1" not in read(acc + ".1"),
            "the access log's new lines go to the new file")
    # Old workers (before the reload) also reopened theirs: one request
    # each would be needed to prove it; the reload covers the new ones.
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    w.check(not os.path.exists(pidf), "the pidfile is removed at exit")


def status_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid"):
                ids[k] = [int(x) for x in v.split()]
    return ids


def run_as_nobody(name, sock_args):
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup")
    # The workers (nobody) must be able to read the application.
    d = w.tmp(name)
    os.makedirs(d)
    os.chmod(w.tmpdir(), 0o755)
    os.chmod(d, 0o755)
    path = os.path.join(d, "app.py")
    shutil.copy(w.app("pm_app"), path)
    os.chmod(path, 0o644)
    srv = pm_server(name, ["-p", "2", "-t", "1", "--user", "nobody",
                           "--group", "nogroup"] + sock_args, app=path)
    workers = w.ready_pids(srv.stats())
    w.eq(len(workers), 2, "%s: two workers" % name)
    for wk in workers:
        ids = status_ids(wk)
        w.check(set(ids["Uid"]) == {nobody.pw_uid} and set(ids["Gid"]) == {nogroup.gr_gid},
                "%s: worker %d runs as nobody:nogroup (%s)" % (name, wk, ids))
    r = fc.get(srv.addr, "/whoami")
    w.check(r.status == 200 and bytes(r.body).startswith(
        b"uid=%d gid=%d " % (nobody.pw_uid, nogroup.gr_gid)),
        "%s: the app runs as nobody" % name, repr(r))
    st = os.stat(srv.sock)
    w.log("# %s: socket mode %o owner %d:%d" % (name, st.st_mode & 0o7777, st.st_uid, st.st_gid))
    srv.stop()
    return st


def test_user_group():
    if os.geteuid() != 0:
        raise w.Skip("--user/--group need root")
    try:
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
    except KeyError:
        raise w.Skip("no user nobody or group nogroup")
    st = run_as_nobody("user-mode", ["--socket-mode", "0666"])
    w.eq(st.st_mode & 0o777, 0o666, "--socket-mode 0666 applied")
    st = run_as_nobody("user-owner", ["--socket-owner", "nobody"])
    w.eq(st.st_uid, pwd.getpwnam("nobody").pw_uid, "--socket-owner nobody applied")


if __name__ == "__main__":
    w.main(timeout=240)
