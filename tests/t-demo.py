"""The README's main job, contrib/demo.sh, in its one-shot mode with the
binary under test (no package installation, no build): nginx in front of
wsgi-fcgi serving contrib/example/app.py must answer the example page, and
both processes must be gone afterwards."""

import os

import wftest as w
from wftest import check, eq


def test_demo_oneshot():
    w.need_program("/usr/sbin/nginx")
    w.need_program("curl")
    w.need_program("bash")
    r = w.run(["bash", os.path.join(w.CONTRIB, "demo.sh")], timeout=120,
              env={"DEMO_ONESHOT": "1", "DEMO_BIN": w.WSGI_FCGI, "PORT": str(w.free_port())})
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    print("\n".join(out.splitlines()[-40:]))
    eq(r.returncode, 0, "demo.sh exit status")
    check("wsgi.url_scheme" in out, "demo.sh printed the example page")
    check("master exiting" in out, "wsgi-fcgi stopped")


if __name__ == "__main__":
    w.main()
