"""Reloads: --reload-mode chain and --reload.

* --reload-mode chain under load (client loops on kept and on one-request
  connections, tests/apps/pm_app.py copied and its VERSION edited): SIGHUP
  replaces the workers one at a time; no request fails; the worker
  processes (every descendant of the master but a zygote and its forking
  intermediate, sampled every few milliseconds from /proc) never number
  more than N+1; at the end every worker is new and answers with the new
  VERSION.  The same with --preload (a new zygote imports first).
* --reload: an edit of the application's file is picked up (new answers
  show it) and the log names the file; with --preload too."""

import os
import shutil
import signal
import threading
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load, pm_server, write_version

SKIP_COMMS = ("wf-zygote", "wf-forker")


def version_of(srv):
    r = fc.get(srv.addr, "/version", timeout=15)
    if r.status != 200:
        return None
    return bytes(r.body).decode().split(" ", 1)[1]


def worker_processes(master):
    """The master's descendants that are workers (not a zygote or its
    forking intermediate)."""
    parent, comm = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        head, rest = st.rsplit(")", 1)
        fields = rest.split()
        if fields[0] in "ZX":
            continue
        parent[int(d)] = int(fields[1])
        comm[int(d)] = head.split("(", 1)[1]
    out, todo = [], [master]
    while todo:
        p = todo.pop()
        for c, pp in parent.items():
            if pp == p:
                todo.append(c)
                if comm[c] not in SKIP_COMMS:
                    out.append(c)
    return out


class Sampler(threading.Thread):
    """Counts worker processes every few ms until stopped: the maximum."""

    def __init__(self, master):
        super().__init__(daemon=True)
        self.master = master
        self.most = 0
        self.samples = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.most = max(self.most, len(worker_processes(self.master)))
            self.samples += 1
            time.sleep(0.003)


def chain_reload(name, extra):
    n = 3
    path = w.tmp(name + "_app.py")
    shutil.copy(w.app("pm_app"), path)
    srv = pm_server(name, ["-p", str(n), "-t", "2", "--reload-mode", "chain"] + extra, app=path)
    old = w.ready_pids(srv.stats())
    w.eq(len(old), n, "%d workers" % n)
    sampler = Sampler(srv.pid)
    sampler.start()
    kept = Load(srv.addr, clients=3, pause=0.002).start()
    short = Load(srv.addr, clients=2, keep=False, pause=0.002).start()
    w.check(kept.wait_for(200) and short.wait_for(200), "client loops running")
    write_version(path, "two-chained")
    srv.kill(signal.SIGHUP)
    w.check(srv.log_has("chain reload: every worker replaced", timeout=90),
            "SIGHUP: the chain reload completes")
    w.check(w.wait_for(lambda: not any(w.alive(p) for p in old), 30), "the old workers exited")
    t_done = time.monotonic()
    w.check(kept.wait_for(200) and short.wait_for(200), "the client loops go on")
    kept.stop()
    short.stop()
    w.check(kept.join(60) and short.join(60), "client loops stopped")
    sampler.halt.set()
    sampler.join(10)
    for what, load in (("kept connections", kept), ("one-request connections", short)):
        w.log("# %s: %s; versions %s" % (what, load.summary(), load.versions))
        w.eq(load.failed, 0, "%s: no request failed during the chain reload" % what)
        late = [v for t, v in load.timeline if t > t_done]
        w.check(late and all(v == "two-chained" for v in late),
                "%s: only the new code once the chain is done" % what)
    w.log("# worker processes: at most %d in %d samples" % (sampler.most, sampler.samples))
    w.check(sampler.samples > 50, "the process count was sampled often")
    w.check(sampler.most <= n + 1, "never more than N+1 = %d worker processes (saw %d)"
            % (n + 1, sampler.most))
    st = srv.stats()
    new = w.ready_pids(st)
    w.eq(len(new), n, "%d workers at the end" % n)
    w.check(not set(new) & set(old), "every worker is new")
    w.check(all(wk["generation"] == 2 for wk in st["workers"]), "all of generation 2")
    w.eq(version_of(srv), "two-chained", "the new code answers")
    text = srv.text()
    w.eq(text.count("chain reload: a new worker is ready; worker"), n,
         "the log shows %d workers replaced one at a time" % n)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_chain_reload_under_load():
    chain_reload("chain", [])


def test_chain_reload_preload():
    chain_reload("chainpre", ["--preload"])


def watch_reload(name, extra):
    path = w.tmp(name + "_app.py")
    shutil.copy(w.app("pm_app"), path)
    srv = pm_server(name, ["-p", "2", "--reload"] + extra, app=path)
    w.eq(version_of(srv), "one", "version one")
    w.check("reload on file changes (--reload)" in srv.text(), "the start-up line says --reload")
    time.sleep(0.5)              # the workers' module lists reach the master
    write_version(path, "edited")
    w.check(w.wait_for(lambda: version_of(srv) == "edited", 60),
            "an edit of the application file is served without a signal")
    real = os.path.realpath(path)
    w.check(("--reload: %s changed" % real) in srv.text(), "the log names the file")
    # A second edit, in place this time (open, write, close).
    with open(w.app("pm_app"), encoding="utf-8") as f:
        src = f.read().replace('VERSION = "one"', 'VERSION = "again"')
    with open(path, "w", encoding="utf-8") as f:
        f.write(src)
    w.check(w.wait_for(lambda: version_of(srv) == "again", 60),
            "an edit in place is picked up too")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_reload_on_change():
    watch_reload("watch", [])


def test_reload_on_change_preload():
    watch_reload("watchpre", ["--preload"])


if __name__ == "__main__":
    w.main(timeout=400)
