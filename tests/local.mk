# tests/local.mk: the black-box tests (included by the top Makefile.am).
#
# One list: each test is named once here.  A tests/t-NAME.py is run by
# $(PYTHON) (PY_LOG_COMPILER), with the library tests/wftest/; see
# tests/README.md for how to add one.  A test exits 77 (skipped, with the
# reason on its log) when a peer program is missing.

WF_TESTS = \
	tests/t-cmdline.py \
	tests/t-check.py \
	tests/t-appspec.py \
	tests/t-sockets.py \
	tests/t-cgi-fcgi.py \
	tests/t-environ.py \
	tests/t-input.py \
	tests/t-response.py \
	tests/t-protocol.py \
	tests/t-cgi.py \
	tests/t-validate.py \
	tests/t-nginx.py \
	tests/t-scgi.py \
	tests/t-nginx-scgi.py \
	tests/t-lighttpd-scgi.py \
	tests/t-example.py \
	tests/t-spawn-fcgi.py \
	tests/t-valgrind.py \
	tests/t-demo.py \
	tests/t-pm-load.py \
	tests/t-pm-crash.py \
	tests/t-pm-keepalive.py \
	tests/t-pm-signals.py \
	tests/t-pm-stats.py \
	tests/t-pm-reload.py \
	tests/t-pm-recycle.py \
	tests/t-pm-logs.py \
	tests/t-pm-startup.py \
	tests/t-pm-systemd.py

# Not yet ported to tests/wftest (transitional).
WF_OLD_TESTS = \
	tests/t-matrix-nginx.sh \
	tests/t-matrix-lighttpd.sh \
	tests/t-matrix-apache.sh \
	tests/t-matrix-spawn-fcgi.sh \
	tests/t-matrix-upstream.sh \
	tests/t-matrix-frameworks.sh

TESTS += $(WF_TESTS) $(WF_OLD_TESTS)
EXTRA_DIST += $(WF_TESTS) $(WF_OLD_TESTS) tests/local.mk tests/wftest tests/web tests/py \
	tests/frameworks tests/valgrind.supp tests/fcgi_client.py tests/scgi_client.py
