"""--preload: the application is imported once, in a zygote, and the
workers are forked from it.

tests/apps/ops_preload.py appends its pid to a file at import, so each
test counts the imports and knows the zygote's pid:
* -p 4 serves, every worker answers, and the app was imported once, by a
  process that is none of the workers (the zygote); the start-up log says
  preload;
* a worker that crashes is replaced by a worker forked from the same
  zygote: no new import;
* --max-requests recycles workers without importing again;
* SIGHUP makes a new zygote, which imports once; all workers are new;
* a zygote killed with SIGKILL: the workers keep serving, the master logs
  it and starts a new zygote (one import, counted in
  wsgi_fcgi_zygote_restarts_total), whose workers then serve;
* --timeout kills a stuck worker of a zygote after logging its
  traceback, and --max-rss replaces a grown one: the replacements are
  forked from the zygote;
* an application that cannot be loaded: the master exits non-zero;
* --config: preload, reload-mode and reload from a file, --check shows
  them with their origin, the command line wins, bad values exit 2;
  --help names the three options."""

import os
import signal

import wftest as w
from wftest.load import every_worker_serves


def imports(path):
    try:
        with open(path, encoding="ascii") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def server(name, args, app=None):
    log = w.tmp(name + ".imports")
    srv = w.Server(app or w.app("ops_preload"), ["--preload"] + args, name=name, stats=True,
                   env={"WF_IMPORT_LOG": log})
    return srv, log


def answer(srv, path="/"):
    r = srv.get(path, timeout=30)
    if r.status != 200:
        return None
    return dict(kv.split("=", 1) for kv in bytes(r.body).decode().split())


def test_preload_imports_once():
    srv, log = server("preload", ["-p", "4", "-t", "2"])
    pids = w.ready_pids(srv.stats())
    w.eq(len(pids), 4, "four workers ready")
    w.check(every_worker_serves(srv, pids, threads=2), "every worker answers")
    got = imports(log)
    w.eq(len(got), 1, "the application was imported once for -p 4")
    w.check(got and got[0] not in pids, "by a process that is not a worker (the zygote)")
    w.eq(srv.stats()["master"]["zygote"], got[0], "--stats names the zygote")
    a = answer(srv)
    w.check(a and int(a["imported_by"]) == got[0], "the workers run the zygote's import", a)
    text = srv.text()
    w.check("preload (one import in a zygote" in text, "the master's start-up line says preload")
    w.check("--preload: zygote %d ready" % got[0] in text, "the zygote's ready line")
    w.eq(text.count("forked from zygote %d" % got[0]), 4, "four workers forked from it")
    for p in pids:
        w.eq(w._stat(p)[1], str(srv.pid), "worker %d is the master's child" % p)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    w.check(not w.alive(got[0]), "the zygote is gone after SIGTERM")


def test_crash_and_recycle_do_not_import():
    srv, log = server("crash", ["-p", "2", "--max-requests", "5"])
    zygote = imports(log)[0]
    before = w.ready_pids(srv.stats())
    r = srv.get("/exit", timeout=30)
    w.check(r.status != 200, "the /exit request fails (its worker died)")
    w.check(w.wait_for(lambda: len(w.ready_pids(srv.stats())) == 2 and
                       w.ready_pids(srv.stats()) != before, 30),
            "the crashed worker is replaced")
    for _ in range(30):                      # past --max-requests, several times
        answer(srv)
    w.check(w.wait_for(lambda: len(w.ready_pids(srv.stats())) == 2, 30), "two workers again")
    w.eq(imports(log), [zygote], "no new import after a crash and --max-requests recycling")
    text = srv.text()
    w.check("exited with status 3" in text, "the crash is logged")
    w.check(text.count("forked from zygote %d" % zygote) >= 4,
            "the replacements were forked from the zygote")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_sighup_new_zygote():
    srv, log = server("hup", ["-p", "3"])
    old = w.ready_pids(srv.stats())
    first = imports(log)
    srv.kill(signal.SIGHUP)

    def reloaded():
        st = srv.stats()
        return (st["master"]["generation"] == 2 and len(w.ready_pids(st)) == 3 and
                not set(w.ready_pids(st)) & set(old))
    w.check(w.wait_for(reloaded, 60), "SIGHUP: three new workers")
    got = imports(log)
    w.eq(len(got), 2, "the new zygote imported the application once")
    w.check(w.wait_for(lambda: not w.alive(first[0]), 30), "the old zygote exited")
    w.check(w.wait_for(lambda: not any(w.alive(p) for p in old), 30), "the old workers exited")
    a = answer(srv)
    w.check(a and int(a["imported_by"]) == got[-1], "answers come from the new import", a)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_zygote_killed():
    srv, log = server("zkill", ["-p", "2"])
    zygote = imports(log)[0]
    workers = w.ready_pids(srv.stats())
    os.kill(zygote, signal.SIGKILL)
    w.check(srv.log_has(r"zygote %d \(generation 1\) was killed by signal 9" % zygote, timeout=30),
            "the master logs the zygote's death")
    w.check(w.wait_for(lambda: len(imports(log)) == 2, 30), "a new zygote imports the application")
    w.eq(w.metrics(srv.stats_addr).get("wsgi_fcgi_zygote_restarts_total"), 1.0,
         "/metrics: wsgi_fcgi_zygote_restarts_total 1")
    w.eq(w.ready_pids(srv.stats()), workers, "the workers kept serving")
    w.check(every_worker_serves(srv, workers, threads=2), "and answer")
    new_zygote = imports(log)[1]
    os.kill(workers[0], signal.SIGKILL)
    w.check(srv.log_has("forked from zygote %d" % new_zygote, timeout=30),
            "a replacement worker is forked from the new zygote")
    w.check(w.wait_for(lambda: len(w.ready_pids(srv.stats())) == 2, 30), "two workers again")
    a = answer(srv)
    w.check(a is not None, "the server answers")
    w.eq(len(imports(log)), 2, "no further import")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_timeout_and_max_rss():
    srv = w.Server(w.app("ops_stuck"), ["--preload", "-p", "2", "--timeout", "2"],
                   name="stuck", stats=True)
    r = srv.get("/stuck", timeout=60)
    w.check(r.status != 200, "the stuck request ends without an answer")
    w.check(srv.log_has("stuck_in_here", timeout=30), "--timeout: the traceback names the function")
    w.check(w.wait_for(lambda: srv.text().count("forked from zygote") >= 3, 30),
            "the killed worker is replaced by a fork of the zygote")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    log = w.tmp("grow.imports")
    srv = w.Server(w.app("ops_grow"), ["--preload", "-p", "2", "--max-rss", "64"],
                   name="grow", stats=True, env={"WF_GROW_MB": "8"})
    for _ in range(40):
        srv.get("/echo", timeout=30)
    w.check(srv.log_has(r"> --max-rss 64 MiB after a request; replacing it", timeout=30),
            "--max-rss: a grown worker is replaced")
    w.check(w.wait_for(lambda: srv.text().count("forked from zygote") >= 3, 30),
            "by a fork of the zygote")
    w.check(w.wait_for(lambda: len(w.ready_pids(srv.stats())) == 2, 30), "two workers again")
    w.check(srv.text().count("imported in") == 1, "one import in all")
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")


def test_bad_app_exits():
    srv = w.Server(w.app("bad_syntax"), ["--preload", "-p", "2"], name="bad", wait=False)
    rc = srv.wait(30)
    w.check(rc not in (0, None), "an application that cannot be loaded: exit status %r" % rc)
    w.check("the application cannot be loaded" in srv.text(), "the log says why")
    w.check("SyntaxError" in srv.text(), "with the SyntaxError")
    w.untrack(srv)


def test_config_and_check():
    conf = w.tmp("ops.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("app = %s\npreload = yes\nreload-mode = chain\nreload = off\n" % w.app("hello"))
    r = w.run([w.WSGI_FCGI, "--check", "--config", conf])
    out = r.stdout.decode()
    w.eq(r.returncode, 0, "--check --config: exit 0")
    w.check("preload = true" in out and "%s:2" % conf in out, "--check: preload from the file", out)
    w.check("reload-mode = chain" in out and "%s:3" % conf in out, "--check: reload-mode", out)
    w.check("reload = false" in out and "%s:4" % conf in out, "--check: reload", out)
    r = w.run([w.WSGI_FCGI, "--check", "--config", conf, "--reload-mode", "generation", "--reload"])
    out = r.stdout.decode()
    w.check("reload-mode = generation" in out and "reload = true" in out,
            "the command line wins", out)
    with open(conf, "a", encoding="utf-8") as f:
        f.write("reload-mode = sideways\n")
    r = w.run([w.WSGI_FCGI, "--check", "--config", conf])
    w.eq(r.returncode, 2, "a bad reload-mode in the file: exit 2")
    w.check(b"reload-mode" in r.stderr and (b"%s:5" % conf.encode()) in r.stderr,
            "naming FILE:LINE", r.stderr)
    r = w.run([w.WSGI_FCGI, "--reload-mode", "x", w.app("hello")])
    w.eq(r.returncode, 2, "a bad --reload-mode: exit 2")
    r = w.run([w.WSGI_FCGI, "--cgi", "--preload", w.app("hello")])
    w.eq(r.returncode, 2, "--cgi --preload: exit 2")
    h = w.run([w.WSGI_FCGI, "--help"]).stdout.decode()
    w.check(all(o in h for o in ("--preload", "--reload-mode", "--reload ")), "--help names them")


if __name__ == "__main__":
    w.main(timeout=300)
