"""Transitional: the client moved to tests/wftest/scgi.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wftest.scgi import *  # noqa: E402,F401,F403
from wftest.scgi import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
