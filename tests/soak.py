#!/usr/bin/env python3
"""make soak: >= 1,000,000 mixed requests (tests/wftest/soak.py says which)
against wsgi-fcgi -p 2 -t 4 --protocol auto serving tests/apps/soak_app.py:
zero unexpected errors, each worker's RSS flat within +-2 MiB after the
warm-up rounds, open descriptors flat at rest.  Not part of make check (it
takes a while); a 10,000-request version runs under valgrind in
tests/t-soak-valgrind.py.

Environment: SOAK_REQUESTS (default 1000000), SOAK_CLIENTS (4),
SOAK_ROUNDS (20), SOAK_TIME_LIMIT (seconds, default 14400), SOAK_JSON (a
file for the figures)."""

import json
import os

import wftest as w
from wftest import soak

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "1000000"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "4"))
ROUNDS = int(os.environ.get("SOAK_ROUNDS", "20"))
TIME_LIMIT = float(os.environ.get("SOAK_TIME_LIMIT", "14400"))


def test_soak():
    srv = w.Server(w.app("soak_app"), ["-p", "2", "-t", "4", "--protocol", "auto",
                                       "--log-file", w.tmp("soak.log")],
                   name="soak", stats=True)
    srv.files.append(w.tmp("soak.log"))
    srv.text = lambda: w.read(w.tmp("soak.log"), "replace")
    res = soak.run(srv, REQUESTS, clients=CLIENTS, rounds=ROUNDS, time_limit=TIME_LIMIT,
                   check_rss=not w.SANITIZERS)
    if os.environ.get("SOAK_JSON"):
        with open(os.environ["SOAK_JSON"], "w") as f:
            json.dump(res, f, indent=1, default=str)
    w.eq(srv.stop(), 0, "SIGTERM: the master exits 0")
    text = srv.text()
    w.check("Sanitizer" not in text, "no sanitizer report (leaks at exit included)",
            "\n".join(ln for ln in text.splitlines() if "Sanitizer" in ln)[:2000])


if __name__ == "__main__":
    w.main(timeout=TIME_LIMIT + 600)
