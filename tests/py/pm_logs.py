"""t-pm-logs: the master's housekeeping.

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

import pm_lib as pm

ACCESS = re.compile(
    r'^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" (\d+)$')


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def test_access_log_and_log_file():
    acc = pm.tmp("access.log")
    logf = pm.tmp("wf.log")
    pidf = pm.tmp("wf.pid")
    srv = pm.Server("logs", ["-p", "2", "-t", "2", "--access-log", acc,
                             "--log-file", logf, "--pidfile", pidf])
    pm.check_eq("%d" % srv.pid, read(pidf).strip(), "--pidfile holds the master pid")
    sent = [("GET", "/echo", "a=1", b""), ("POST", "/echo", "b=2", b"x" * 1000),
            ("GET", "/version", "", b""), ("GET", "/nowhere", "q=%C3%A9", b"")]
    sizes = []
    for method, path, query, body in sent:
        r = pm.get(srv.addr, path, query, method=method, body=body)
        sizes.append(len(r.body))
        pm.check_eq(200, r.status, "%s %s answered" % (method, path))

    def lines():
        return [l for l in read(acc).splitlines() if l]
    pm.wait_until(lambda: len(lines()) >= len(sent), 10)
    got = lines()
    pm.check_eq(len(sent), len(got), "one access-log line per request")
    for (method, path, query, body), size, line in zip(sent, sizes, got):
        m = ACCESS.match(line)
        if not pm.check(m, "access-log line is combined format + duration: %s" % line):
            continue
        uri = path + ("?" + query if query else "")
        pm.check_eq((method, uri, "200", str(size)),
                    (m.group(4), m.group(5), m.group(7), m.group(8)),
                    "access log: method, path, status, bytes of %s %s" % (method, path))
    # Log lines went to the file, not stderr.
    text = read(logf)
    pm.check(any(pid == srv.pid for pid, _, _ in pm.log_lines(text)),
             "--log-file gets the master's log lines")
    pm.check(not pm.log_lines(srv.log_text()), "... and stderr none")
    # Rename both files, SIGUSR1: new lines go to new files.
    os.rename(logf, logf + ".1")
    os.rename(acc, acc + ".1")
    srv.kill(signal.SIGUSR1)
    pm.check(pm.wait_until(lambda: os.path.exists(logf) and os.path.exists(acc), 10),
             "SIGUSR1: the log files are reopened at their names")
    old_pids = pm.ready_pids(srv.stats())
    srv.kill(signal.SIGHUP)          # log lines from the master and new workers
    pm.check(pm.wait_until(lambda: "reload: new workers ready" in read(logf), 20),
             "after SIGUSR1 the master's new lines go to the new log file")
    new_pids = pm.wait_until(lambda: (lambda p: p if len(p) == 2 and not set(p) & set(old_pids)
                                      else None)(pm.ready_pids(srv.stats())), 20)
    pm.check(new_pids, "reload done")
    worker_lines = [pid for pid, _, m in pm.log_lines(read(logf)) if pid in (new_pids or [])]
    pm.check(worker_lines, "... and the new workers' lines too")
    pm.check("SIGHUP" not in read(logf + ".1"), "the renamed log file gets no new lines")
    r = pm.get(srv.addr, "/echo", "after=usr1")
    pm.check_eq(200, r.status, "request after SIGUSR1")
    pm.wait_until(lambda: "after=usr1" in read(acc), 10)
    pm.check("after=usr1" in read(acc) and "after=usr1" not in read(acc + ".1"),
             "the access log's new lines go to the new file")
    # Old workers (before the reload) also reopened theirs: one request
    # each would be needed to prove it; the reload covers the new ones.
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")
    pm.check(not os.path.exists(pidf), "the pidfile is removed at exit")


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
    d = pm.tmp(name)
    os.makedirs(d)
    os.chmod(pm.tmpdir(), 0o755)
    os.chmod(d, 0o755)
    path = os.path.join(d, "app.py")
    shutil.copy(pm.app(), path)
    os.chmod(path, 0o644)
    srv = pm.Server(name, ["-p", "2", "-t", "1", "--user", "nobody",
                           "--group", "nogroup"] + sock_args, app_path=path)
    workers = pm.ready_pids(srv.stats())
    pm.check_eq(2, len(workers), "%s: two workers" % name)
    for w in workers:
        ids = status_ids(w)
        pm.check(set(ids["Uid"]) == {nobody.pw_uid} and set(ids["Gid"]) == {nogroup.gr_gid},
                 "%s: worker %d runs as nobody:nogroup (%s)" % (name, w, ids))
    r = pm.get(srv.addr, "/whoami")
    pm.check(r.status == 200 and bytes(r.body).startswith(
        b"uid=%d gid=%d " % (nobody.pw_uid, nogroup.gr_gid)),
        "%s: the app runs as nobody" % name, repr(r))
    st = os.stat(srv.sock)
    pm.log("# %s: socket mode %o owner %d:%d" % (name, st.st_mode & 0o7777, st.st_uid, st.st_gid))
    srv.stop()
    return st


def test_user_group():
    if os.geteuid() != 0:
        raise pm.Skip("--user/--group need root")
    try:
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
    except KeyError:
        raise pm.Skip("no user nobody or group nogroup")
    st = run_as_nobody("user-mode", ["--socket-mode", "0666"])
    pm.check_eq(0o666, st.st_mode & 0o777, "--socket-mode 0666 applied")
    st = run_as_nobody("user-owner", ["--socket-owner", "nobody"])
    pm.check_eq(pwd.getpwnam("nobody").pw_uid, st.st_uid, "--socket-owner nobody applied")


if __name__ == "__main__":
    pm.main(test_access_log_and_log_file, test_user_group)
