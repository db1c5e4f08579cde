# tests/local.mk: the black-box tests (included by the top Makefile.am).
#
# One list: each test is named once, here.  A tests/t-NAME.py is one test,
# run by $(PYTHON) (PY_LOG_COMPILER: the interpreter whose libpython the
# binary embeds) with the library tests/wftest/; tests/README.md says how to
# add one.  A test whose peer program is missing exits 77 (skipped) and says
# why in its log.

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
	tests/t-fuzz-replay.py \
	tests/t-cgi.py \
	tests/t-validate.py \
	tests/t-example.py \
	tests/t-spawn-fcgi.py \
	tests/t-nginx.py \
	tests/t-nginx-host.py \
	tests/t-scgi.py \
	tests/t-nginx-scgi.py \
	tests/t-lighttpd-scgi.py \
	tests/t-valgrind.py \
	tests/t-pm-load.py \
	tests/t-pm-crash.py \
	tests/t-pm-keepalive.py \
	tests/t-pm-signals.py \
	tests/t-pm-stats.py \
	tests/t-pm-handoff.py \
	tests/t-pm-reload.py \
	tests/t-pm-recycle.py \
	tests/t-pm-logs.py \
	tests/t-pm-startup.py \
	tests/t-pm-systemd.py \
	tests/t-matrix-nginx.py \
	tests/t-matrix-lighttpd.py \
	tests/t-matrix-apache.py \
	tests/t-matrix-spawn-fcgi.py \
	tests/t-matrix-upstream.py \
	tests/t-matrix-frameworks.py \
	tests/t-demo.py \
	tests/t-ops-config.py \
	tests/t-ops-logs.py \
	tests/t-ops-max-body.py \
	tests/t-ops-max-rss.py \
	tests/t-ops-timeout.py \
	tests/t-ops-preload.py \
	tests/t-ops-reload.py \
	tests/t-conn.py \
	tests/t-acl.py \
	tests/t-conn-nginx.py \
	tests/t-hostile.py \
	tests/t-faults.py \
	tests/t-netns.py

TESTS += $(WF_TESTS)
EXTRA_DIST += $(WF_TESTS) tests/local.mk tests/README.md tests/wftest tests/web \
	tests/frameworks tests/valgrind.supp
