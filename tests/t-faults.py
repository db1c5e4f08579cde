"""Faults (issue 10): what a dead process, a full disk or a closed stderr
cost.

* workers killed by SIGKILL, SIGSEGV and SIGABRT under load (-p 2 -t 4, 8
  clients on kept connections): the failed requests are at most those in
  flight on that worker (the connections it held), the master replaces it
  and logs why, then the service is fully back (every request of a fresh
  batch answered, two workers ready);
* SIGQUIT to one worker: the socket file stays, new connections are
  answered, the worker is replaced;
* the master killed with SIGKILL (also with --preload, whose workers are
  the zygote's children): every worker is gone within a bound (they notice
  their parent's death), and a new server on the same unix path replaces
  the stale socket file and serves;
* the log file on a full tmpfs (needs root and mount): requests are
  answered while no line can be written; then the file is removed, space
  freed and SIGUSR1 sent: the reopened file's first lines say how many lines
  were lost, and serving goes on;
* started with stderr (and with all of stdin, stdout, stderr) closed:
  serves, stops cleanly, no crash."""

import os
import re
import signal
import socket
import stat
import subprocess
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load, pm_server

THREADS = 4
CLIENTS = 8


def fresh_batch(addr, n, what):
    """n requests on new connections, every one answered exactly."""
    bad = []
    for i in range(n):
        q = "fresh=%d" % i
        r = fc.get(addr, "/echo", q, timeout=30)
        if not (r.ended and r.status == 200 and bytes(r.body) == b"echo " + q.encode() + b" "):
            bad.append(repr(r)[:300])
    return w.eq(bad, [], "%s: a batch of %d fresh requests, all answered" % (what, n))


def two_ready_without(srv, gone, timeout=30):
    def ok():
        try:
            pids = w.ready_pids(srv.stats())
        except (OSError, ValueError):
            return None
        return pids if len(pids) == 2 and not set(pids) & set(gone) else None
    return w.wait_for(ok, timeout)


def test_workers_killed_under_load():
    srv = pm_server("kills", ["-p", "2", "-t", str(THREADS)])
    load = Load(srv.addr, clients=CLIENTS, retry_stale=False).start()
    w.check(load.wait_for(500), "load running (500 requests)")
    figures = []
    for sig in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT):
        name = signal.Signals(sig).name
        pids = w.ready_pids(srv.stats())
        if not w.check(len(pids) == 2, "%s: two workers before" % name):
            break
        victim = pids[0]
        failed0, lost0 = load.failed, dict(load.lost_on)
        ok0 = load.ok
        off = srv.log_size()
        os.kill(victim, sig)
        back = two_ready_without(srv, [victim])
        w.check(back, "%s: the master replaced worker %d (%s)" % (name, victim, back))
        w.check(load.wait_for(1000, 120), "%s: the load goes on (1,000 more)" % name)
        failed = load.failed - failed0
        w.log("# %s: %d request(s) failed with worker %d; %d answered meanwhile"
              % (name, failed, victim, load.ok - ok0))
        figures.append((name, failed))
        # In flight on that worker: at most one request per client
        # connection it held (a worker holds kept connections beyond its
        # threads).
        w.check(failed <= CLIENTS, "%s: failures (%d) <= requests in flight on the worker (%d)"
                % (name, failed, CLIENTS))
        lost_elsewhere = sum(n - lost0.get(p, 0) for p, n in load.lost_on.items() if p != victim)
        w.eq(lost_elsewhere, 0, "%s: no request lost on a live worker's connection" % name)
        how = r"worker %d (was killed by signal %d|exited with status)" % (victim, int(sig))
        w.check(srv.log_has(how, off, 10), "%s: the log says how worker %d died" % (name, victim),
                srv.log_since(off)[-2000:])
        fresh_batch(srv.addr, 50, name)
    load.stop()
    w.check(load.join(60), "clients stopped")
    w.log("# %s" % load.summary())
    w.log("# lost per signal: %s" % figures)
    w.check(two_ready_without(srv, []), "two workers ready at the end")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_sigquit_to_one_worker_keeps_socket():
    srv = pm_server("quit1", ["-p", "2", "-t", "2"])
    path = srv.sock
    ino = os.stat(path).st_ino
    victim = w.ready_pids(srv.stats())[0]
    os.kill(victim, signal.SIGQUIT)
    w.check(w.wait_for(lambda: not w.alive(victim), 20), "the worker stopped on SIGQUIT")
    w.check(os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode)
            and os.stat(path).st_ino == ino, "the socket file is still there, the same one")
    w.check(two_ready_without(srv, [victim]), "the master replaced the worker")
    fresh_batch(srv.addr, 20, "after SIGQUIT to one worker")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    w.check(not os.path.exists(path), "the master removed its socket file on exit")


def gone(pid):
    """pid has exited, every thread of it (a zombie leader may still have
    threads exiting, holding its descriptors)."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return True
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in "ZX":
                    return False
        except (OSError, IndexError):
            pass
    return True


def refuses(addr):
    try:
        fc.connect(addr, 5).close()
        return False
    except OSError:
        return True


def master_sigkill(args, name):
    srv = pm_server(name, ["-p", "2", "-t", "2"] + args)
    load = Load(srv.addr, clients=2, pause=0.01).start()
    load.wait_for(50, 30)
    srv.record()
    family = [p for p in srv.known if w.alive(p)]
    w.check(len(family) >= 2, "%s: the master's descendants: %s" % (name, family))
    srv.killed_ok = True
    srv.kill(signal.SIGKILL)
    srv.wait(10)
    t0 = time.monotonic()
    done = w.wait_for(lambda: all(gone(p) for p in family), 20)
    w.check(done, "%s: every worker exited after the master's SIGKILL (%.1f s)"
            % (name, time.monotonic() - t0), repr([p for p in family if not gone(p)]))
    load.stop()
    load.join(60)
    for p in family:            # never leave one behind, even on failure
        if not gone(p):
            os.kill(p, signal.SIGKILL)
    path = srv.sock
    w.check(os.path.exists(path), "%s: the dead master's socket file is left behind" % name)
    w.check(w.wait_for(lambda: refuses(srv.addr), 10),
            "%s: the stale socket refuses connections (nobody holds it)" % name)
    # a restart on the same path
    again = w.Server(w.app("pm_app"), ["-p", "2", "-t", "2"] + args, name=name + "-again",
                     addr=srv.addr, stats=True)
    fresh_batch(again.addr, 20, "%s: a new server on the stale path" % name)
    w.eq(again.stop(), 0, "%s: the new server exits 0 on SIGTERM" % name)


def test_master_sigkill():
    master_sigkill([], "mkill")


def test_master_sigkill_preload():
    if "--preload" not in w.run([w.WSGI_FCGI, "--help"]).stdout.decode("latin-1"):
        raise w.Skip("this build has no --preload")
    master_sigkill(["--preload"], "mkill-preload")


# ------------------------------------------------------------------ full disk

def test_log_on_full_filesystem():
    w.need_root("mounting a small tmpfs")
    mnt = w.tmp("fullfs")
    os.makedirs(mnt, exist_ok=True)
    r = w.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt])
    if r.returncode != 0:
        raise w.Skip("cannot mount a tmpfs: %s" % r.stderr.decode("latin-1").strip())
    try:
        full_fs(mnt)
    finally:
        for _ in range(20):
            if w.run(["umount", mnt]).returncode == 0:
                break
            time.sleep(0.5)   # a process may still hold the log open


def fill(path):
    """Fill the file system of path to the last byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 64)
    except OSError:
        pass
    finally:
        os.close(fd)


def requests_on_full_disk(srv, n, what):
    bad = []
    for i in range(n):
        q = "%s=%d" % (what, i)
        path = "/raise" if i % 4 == 0 else "/hello"      # tracebacks to the log
        r = fc.get(srv.addr, path, q, timeout=30)
        want = 500 if path == "/raise" else 200
        if not r.ended or r.status != want or (want == 200 and
                                               bytes(r.body) != b"hello " + q.encode()):
            bad.append(repr(r)[:200])
    w.eq(bad, [], "%s: %d requests answered (a quarter 500s with tracebacks) on a full disk"
         % (what, n))


def lost_reports(text):
    return re.findall(r"\[(\d+)\] \[warning\] (\d+) log lines? and (\d+) access log lines? "
                      r"could not be written \(([^)]*)\)", text)


def well_formed(text):
    """The lines of text that are not well-formed log lines, but for a
    line a full disk cut short, which must stand alone, followed by the
    line that says lines were lost."""
    lines = text.splitlines()
    bad = []
    for i, ln in enumerate(lines):
        if ln.strip() and not w.LOG_LINE.match(ln):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if not (ln.startswith("[") and lost_reports(nxt)):
                bad.append(ln)
    return bad


def full_fs(mnt):
    log = os.path.join(mnt, "wf.log")
    srv = w.Server(w.app("soak_app"), ["-p", "2", "-t", "2", "--log-file", log,
                                       "--access-log", os.path.join(mnt, "access.log")],
                   name="fullfs", stats=True)
    srv.files.append(log)
    # fill the file system
    filler = os.path.join(mnt, "filler")
    fill(filler)
    w.log("# tmpfs full: %r" % (os.statvfs(mnt).f_bavail,))
    size0 = os.path.getsize(log)
    pids = w.worker_pids(srv.stats())
    requests_on_full_disk(srv, 200, "full")
    w.check(srv.running(), "the master is alive")
    w.eq(w.worker_pids(srv.stats()), pids, "the same workers (none died)")
    w.log("# log size %d -> %d while full" % (size0, os.path.getsize(log)))
    w.check(w.read(log, "replace").endswith("\n") and not well_formed(w.read(log, "replace")),
            "while the disk is full, the log holds whole lines only (a line cut short "
            "is taken back)", w.read(log, "replace")[-300:])
    # space freed, the log kept: the next lines say what was lost
    os.unlink(filler)
    for i in range(5):
        r = fc.get(srv.addr, "/raise", "freed=%d" % i, timeout=30)
        w.eq(r.status, 500, "space freed: served (500 with its traceback) %d" % i)
    text = w.wait_for(lambda: "deliberate exception for freed=4" in w.read(log) and
                      w.read(log), 10) or w.read(log)
    lost = lost_reports(text)
    w.log("# lost-lines reports once space is free: %s" % lost)
    w.check(lost and all("No space" in e for _, _, _, e in lost),
            "space freed: the log says how many lines were lost (ENOSPC)", text[-3000:])
    w.eq(well_formed(text)[:5], [], "space freed: every line of the log is well formed (a line "
         "the full disk cut stands alone, before the report of lost lines)")
    # full again; then the log removed, space freed, SIGUSR1: a fresh file
    fill(filler)
    requests_on_full_disk(srv, 100, "again")
    # the log removed, space freed, SIGUSR1: a fresh file
    os.unlink(log)
    os.unlink(filler)
    srv.kill(signal.SIGUSR1)
    w.check(w.wait_for(lambda: os.path.exists(log), 10), "SIGUSR1: the log file reopened")
    for i in range(5):
        r = fc.get(srv.addr, "/raise", "after=%d" % i, timeout=30)
        w.eq(r.status, 500, "after the reopen: served (500 with its traceback) %d" % i)
    text = w.wait_for(lambda: "deliberate exception for after=4" in w.read(log) and w.read(log),
                      10) or w.read(log)
    lost = lost_reports(text)
    w.log("# lost-lines reports after the reopen: %s" % lost)
    w.check(lost, "the reopened log says how many lines were lost", text[:3000])
    w.check(all(p in {str(x) for x in pids + [srv.pid]} for p, _, _, _ in lost) and
            len({p for p, _, _, _ in lost}) == len(lost),
            "one such line per process that lost lines", repr(lost))
    w.check(sum(int(n) for _, n, _, _ in lost) > 0 and
            all("No space" in e for _, _, _, e in lost),
            "... counting the lines lost to ENOSPC", repr(lost))
    w.eq(well_formed(text)[:5], [], "every line of the new log is well formed")
    w.eq(w.worker_pids(srv.stats()), pids, "the same workers throughout")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    w.untrack(srv)


# ------------------------------------------------------------------ stderr closed

def closed_stdio(what, redirs):
    name = "closed-" + what
    sock = w.tmp(name + ".sock")
    stats = "unix:" + w.tmp(name + ".stats")
    argv = ["sh", "-c", 'exec "$@" %s' % redirs, "sh", w.WSGI_FCGI, "-s", "unix:" + sock,
            "--stats", stats, "-p", "2", "-t", "2", w.app("pm_app")]
    srv = w.Server(name=name, addr="unix:" + sock, stats=True, argv=argv)
    w.check(srv.stats_addr == stats, "stats address")
    fresh_batch(srv.addr, 20, "%s closed" % what)
    r = fc.get(srv.addr, "/exit", timeout=15)       # a worker that dies: logged to nowhere
    w.check(not r.ended, "%s closed: the /exit request dies with its worker" % what)
    w.check(w.wait_for(lambda: len(w.ready_pids(srv.stats())) == 2, 30),
            "%s closed: the worker is replaced" % what)
    fresh_batch(srv.addr, 20, "%s closed, after a worker died" % what)
    w.eq(srv.stop(), 0, "%s closed: SIGTERM, exit 0 (no crash)" % what)
    w.untrack(srv)


def test_stderr_closed():
    closed_stdio("stderr", "2>&-")


def test_all_stdio_closed():
    closed_stdio("stdio", "0<&- 1>&- 2>&-")


if __name__ == "__main__":
    w.main(timeout=900)
