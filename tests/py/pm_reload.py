"""t-pm-reload: SIGHUP reloads the application in new workers.

* A copy of tests/apps/pm_app.py in the temp dir is edited (its VERSION),
  then SIGHUP: new answers show the new code within a bounded wait, and no
  request fails meanwhile (client loops on kept and on one-request
  connections run throughout).
* An edit with a syntax error, then SIGHUP: the old workers keep serving
  the old code; a fixed edit and SIGHUP then load it."""

import os
import shutil
import signal
import time

import pm_lib as pm


def write_version(path, version, broken=False):
    with open(pm.app(), encoding="utf-8") as f:
        src = f.read()
    src = src.replace('VERSION = "one"', 'VERSION = "%s"' % version)
    if broken:
        src += "\ndef broken(:\n"
    tmp = path + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(src)
    os.replace(tmp, path)


def version_of(srv):
    r = pm.get(srv.addr, "/version", timeout=15)
    return header_version(r)


def header_version(r):
    if r.status != 200:
        return None
    return bytes(r.body).decode().split(" ", 1)[1]


def test_reload_under_load():
    path = pm.tmp("app.py")
    shutil.copy(pm.app(), path)
    srv = pm.Server("reload", ["-p", "2", "-t", "2"], app_path=path)
    old = pm.ready_pids(srv.stats())
    pm.check_eq("one", version_of(srv), "version one before the reload")
    kept = pm.Load(srv.addr, clients=3, retry_stale=True, pause=0.002).start()
    short = pm.Load(srv.addr, clients=2, keep=False, pause=0.002).start()
    pm.check(kept.wait_for(300) and short.wait_for(300), "client loops running")

    write_version(path, "two-reloaded")
    t_hup = time.monotonic()
    srv.kill(signal.SIGHUP)
    pm.check(pm.wait_until(lambda: version_of(srv) == "two-reloaded", 30),
             "after SIGHUP new answers show the new code")
    pm.check(pm.wait_until(lambda: not any(pm.alive(p) for p in old), 30),
             "the old workers exited")
    t_new = time.monotonic()
    pm.check(kept.wait_for(300) and short.wait_for(300),
             "the client loops go on after the reload")
    kept.stop()
    short.stop()
    pm.check(kept.join(60) and short.join(60), "client loops stopped")
    for name, load in (("kept connections", kept), ("one-request connections", short)):
        pm.log("# %s: %s; versions %s" % (name, load.summary(), load.versions))
        pm.check_eq(0, load.failed, "%s: no request failed during the reload" % name)
        pm.check(load.versions.get("one", 0) > 0 and
                 load.versions.get("two-reloaded", 0) > 0,
                 "%s: answers from the old, then the new code" % name)
        late = [v for t, v in load.timeline if t > t_new]
        pm.check(late and all(v == "two-reloaded" for v in late),
                 "%s: only the new code once the old workers are gone" % name)
    pm.log("# reload: new code answered %.2f s after SIGHUP"
           % (t_new - t_hup))
    st = srv.stats()
    pm.check_eq(2, st["master"]["generation"], "--stats: generation 2")
    pm.check(all(w["generation"] == 2 for w in st["workers"]) and
             len(st["workers"]) == 2, "--stats: two workers of generation 2",
             st["workers"])
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


def test_broken_reload_keeps_old_workers():
    path = pm.tmp("app2.py")
    shutil.copy(pm.app(), path)
    srv = pm.Server("badreload", ["-p", "2", "-t", "1"], app_path=path)
    old = pm.ready_pids(srv.stats())
    load = pm.Load(srv.addr, clients=2, retry_stale=True, pause=0.002).start()
    write_version(path, "broken", broken=True)
    srv.kill(signal.SIGHUP)
    pm.check(pm.wait_until(lambda: "reload failed" in srv.log_text(), 30),
             "a reload with a syntax error is reported as failed")
    pm.check("SyntaxError" in srv.log_text(), "the log shows the SyntaxError")
    time.sleep(0.5)
    pm.check_eq(old, pm.ready_pids(srv.stats()), "the old workers keep serving")
    pm.check_eq("one", version_of(srv), "with the old code")
    pm.check(load.wait_for(200), "the client loop goes on")
    # A fixed edit loads.
    write_version(path, "three-fixed")
    srv.kill(signal.SIGHUP)
    pm.check(pm.wait_until(lambda: version_of(srv) == "three-fixed", 30),
             "a fixed edit and SIGHUP load the new code")
    load.stop()
    pm.check(load.join(60), "client loop stopped")
    pm.log("# %s; versions %s" % (load.summary(), load.versions))
    pm.check_eq(0, load.failed, "no request failed")
    pm.check_eq(0, srv.stop(), "SIGTERM: the master exits 0")


if __name__ == "__main__":
    pm.main(test_reload_under_load, test_broken_reload_keeps_old_workers)
