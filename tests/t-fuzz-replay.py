"""The fuzz targets' invariants in every build: each target of tests/fuzz,
built with the project's compiler and tests/fuzz/replay.c (make check
builds them as tests/fuzz/replay_<target>), runs every past finding
(tests/data/fuzz/<target>/) and its whole seed corpus
(tests/fuzz/corpus/<target>/).  A broken invariant aborts the replay and
names the input; in the sanitizer build ASan and UBSan watch too."""

import os

import wftest as w

TARGETS = ["scgi", "fcgi_walk", "fcgi_mgmt", "fcgi_libfcgi", "response", "environ", "numbers",
           "config", "acl"]
BUILD = os.path.abspath(os.environ.get("top_builddir", "."))


def test_replay():
    for t in TARGETS:
        prog = os.path.join(BUILD, "tests", "fuzz", "replay_" + t)
        w.need_file(prog)
        dirs = [d for d in (os.path.join(w.DATA, "fuzz", t), os.path.join(w.TESTS, "fuzz", "corpus", t))
                if os.path.isdir(d)]
        n = sum(len(os.listdir(d)) for d in dirs)
        r = w.run([prog] + dirs, timeout=600)
        if not w.eq(r.returncode, 0, "replay_%s over %d inputs" % (t, n)):
            print((r.stderr or b"").decode("latin-1")[-3000:])


if __name__ == "__main__":
    w.main()
