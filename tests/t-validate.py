"""The environ, input and response tests once more with every correct app
wrapped by wsgiref.validate.validator (WF_TEST_VALIDATE=1): every expected
status must stay the same and no AssertionError may reach a server log
(wftest.Server.stop() checks each log)."""

import os
import subprocess

import wftest as w


def run_validated(name):
    print("== %s under wsgiref.validate ==" % name, flush=True)
    try:
        r = subprocess.run([w.PYTHON, os.path.join(w.TESTS, name)], stdin=subprocess.DEVNULL,
                           env=dict(os.environ, WF_TEST_VALIDATE="1"), timeout=900)
        rc = r.returncode
    except subprocess.TimeoutExpired:
        rc = "killed after 900 s"
    w.eq(rc, 0, "%s under wsgiref.validate: exit status" % name)


def test_environ():
    run_validated("t-environ.py")


def test_input():
    run_validated("t-input.py")


def test_response():
    run_validated("t-response.py")


if __name__ == "__main__":
    w.main()
