"""SIGHUP reloads the application in new workers.

* A copy of tests/apps/pm_app.py in the temp dir is edited (its VERSION),
  then SIGHUP: new answers show the new code within a bounded wait, and no
  request fails meanwhile (client loops on kept and on one-request
  connections run throughout).
* An edit with a syntax error, then SIGHUP: the old workers keep serving
  the old code; a fixed edit and SIGHUP then load it."""

import shutil
import signal
import time

import wftest as w
from wftest import fcgi as fc
from wftest.load import Load, pm_server, write_version


def version_of(srv):
    r = fc.get(srv.addr, "/version", timeout=15)
    return header_version(r)


def header_version(r):
    if r.status != 200:
        return None
    return bytes(r.body).decode().split(" ", 1)[1]


def test_reload_under_load():
    path = w.tmp("app.py")
    shutil.copy(w.app("pm_app"), path)
    srv = pm_server("reload", ["-p", "2", "-t", "2"], app=path)
    old = w.ready_pids(srv.stats())
    w.eq(version_of(srv), "one", "version one before the reload")
    kept = Load(srv.addr, clients=3, pause=0.002).start()
    short = Load(srv.addr, clients=2, keep=False, pause=0.002).start()
    w.check(kept.wait_for(300) and short.wait_for(300), "client loops running")

    write_version(path, "two-reloaded")
    t_hup = time.monotonic()
    srv.kill(signal.SIGHUP)
    w.check(w.wait_for(lambda: version_of(srv) == "two-reloaded", 30),
            "after SIGHUP new answers show the new code")
    w.check(w.wait_for(lambda: not any(w.alive(p) for p in old), 30),
            "the old workers exited")
    t_new = time.monotonic()
    w.check(kept.wait_for(300) and short.wait_for(300),
            "the client loops go on after the reload")
    kept.stop()
    short.stop()
    w.check(kept.join(60) and short.join(60), "client loops stopped")
    for name, load in (("kept connections", kept), ("one-request connections", short)):
        w.log("# %s: %s; versions %s" % (name, load.summary(), load.versions))
        w.eq(load.failed, 0, "%s: no request failed during the reload" % name)
        w.check(load.versions.get("one", 0) > 0 and
                load.versions.get("two-reloaded", 0) > 0,
                "%s: answers from the old, then the new code" % name)
        late = [v for t, v in load.timeline if t > t_new]
        w.check(late and all(v == "two-reloaded" for v in late),
                "%s: only the new code once the old workers are gone" % name)
    w.log("# reload: new code answered %.2f s after SIGHUP"
          % (t_new - t_hup))
    st = srv.stats()
    w.eq(st["master"]["generation"], 2, "--stats: generation 2")
    w.check(all(wk["generation"] == 2 for wk in st["workers"]) and
            len(st["workers"]) == 2, "--stats: two workers of generation 2",
            st["workers"])
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_broken_reload_keeps_old_workers():
    path = w.tmp("app2.py")
    shutil.copy(w.app("pm_app"), path)
    srv = pm_server("badreload", ["-p", "2", "-t", "1"], app=path)
    old = w.ready_pids(srv.stats())
    load = Load(srv.addr, clients=2, pause=0.002).start()
    write_version(path, "broken", broken=True)
    srv.kill(signal.SIGHUP)
    w.check(w.wait_for(lambda: "reload failed" in srv.text(), 30),
            "a reload with a syntax error is reported as failed")
    w.check("SyntaxError" in srv.text(), "the log shows the SyntaxError")
    time.sleep(0.5)
    w.eq(w.ready_pids(srv.stats()), old, "the old workers keep serving")
    w.eq(version_of(srv), "one", "with the old code")
    w.check(load.wait_for(200), "the client loop goes on")
    # A fixed edit loads.
    write_version(path, "three-fixed")
    srv.kill(signal.SIGHUP)
    w.check(w.wait_for(lambda: version_of(srv) == "three-fixed", 30),
            "a fixed edit and SIGHUP load the new code")
    load.stop()
    w.check(load.join(60), "client loop stopped")
    w.log("# %s; versions %s" % (load.summary(), load.versions))
    w.eq(load.failed, 0, "no request failed")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


if __name__ == "__main__":
    w.main(timeout=240)
