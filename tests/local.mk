# tests/local.mk: the black-box tests (included by the top Makefile.am).
#
# Each tests/t-*.sh is one feature, run by $(SHELL) with srcdir, top_srcdir,
# top_builddir, WSGI_FCGI and PYTHON exported (see AM_TESTS_ENVIRONMENT).
# The Python-driven ones run tests/py/t_*.py with $(PYTHON).  A test exits
# 77 (skipped) when a peer program (nginx, spawn-fcgi, cgi-fcgi, curl) is
# missing.

TESTS += \
	tests/t-cmdline.sh \
	tests/t-check.sh \
	tests/t-appspec.sh \
	tests/t-sockets.sh \
	tests/t-cgi-fcgi.sh \
	tests/t-environ.sh \
	tests/t-input.sh \
	tests/t-response.sh \
	tests/t-protocol.sh \
	tests/t-cgi.sh \
	tests/t-validate.sh \
	tests/t-example.sh \
	tests/t-spawn-fcgi.sh \
	tests/t-nginx.sh

EXTRA_DIST += \
	tests/local.mk \
	tests/fcgi_client.py \
	tests/t-cmdline.sh \
	tests/t-check.sh \
	tests/t-appspec.sh \
	tests/t-sockets.sh \
	tests/t-cgi-fcgi.sh \
	tests/t-environ.sh \
	tests/t-input.sh \
	tests/t-response.sh \
	tests/t-protocol.sh \
	tests/t-cgi.sh \
	tests/t-validate.sh \
	tests/t-example.sh \
	tests/t-spawn-fcgi.sh \
	tests/t-nginx.sh \
	tests/py/wftest.py \
	tests/py/t_environ.py \
	tests/py/t_input.py \
	tests/py/t_response.py \
	tests/py/t_protocol.py \
	tests/py/t_cgi.py

# SCGI (tests/check_scgi.c is in the Check runner's SOURCES).
TESTS += tests/t-scgi.sh tests/t-nginx-scgi.sh tests/t-lighttpd-scgi.sh
EXTRA_DIST += \
	tests/scgi_client.py \
	tests/t-scgi.sh \
	tests/t-nginx-scgi.sh \
	tests/t-lighttpd-scgi.sh \
	tests/py/t_scgi.py \
	tests/py/t_scgi_http.py

# Memcheck over the main request paths (skipped in the sanitizer build).
TESTS += tests/t-valgrind.sh
EXTRA_DIST += tests/t-valgrind.sh tests/py/t_valgrind.py tests/valgrind.supp tests/scgi_client.py \
	tests/cgi_response.py

# Process model: master, workers, signals, reload, stats, logs, socket
# activation (tests/py/pm_*.py with tests/py/pm_lib.py; app tests/apps/pm_app.py).
TESTS += \
	tests/t-pm-load.sh \
	tests/t-pm-crash.sh \
	tests/t-pm-keepalive.sh \
	tests/t-pm-signals.sh \
	tests/t-pm-stats.sh \
	tests/t-pm-reload.sh \
	tests/t-pm-recycle.sh \
	tests/t-pm-logs.sh \
	tests/t-pm-startup.sh \
	tests/t-pm-systemd.sh
EXTRA_DIST += \
	tests/t-pm-load.sh \
	tests/t-pm-crash.sh \
	tests/t-pm-keepalive.sh \
	tests/t-pm-signals.sh \
	tests/t-pm-stats.sh \
	tests/t-pm-reload.sh \
	tests/t-pm-recycle.sh \
	tests/t-pm-logs.sh \
	tests/t-pm-startup.sh \
	tests/t-pm-systemd.sh \
	tests/py/pm_lib.py \
	tests/py/pm_load.py \
	tests/py/pm_crash.py \
	tests/py/pm_keepalive.py \
	tests/py/pm_signals.py \
	tests/py/pm_stats.py \
	tests/py/pm_reload.py \
	tests/py/pm_recycle.py \
	tests/py/pm_logs.py \
	tests/py/pm_startup.py \
	tests/py/pm_systemd.py

# The front-end matrix (issue 5): real nginx, lighttpd, Apache httpd,
# spawn-fcgi and Flask/Django/Bottle; see "Tested web servers" in README.md.
TESTS += \
	tests/t-matrix-nginx.sh \
	tests/t-matrix-lighttpd.sh \
	tests/t-matrix-apache.sh \
	tests/t-matrix-spawn-fcgi.sh \
	tests/t-matrix-upstream.sh \
	tests/t-matrix-frameworks.sh

EXTRA_DIST += \
	tests/frameworks \
	tests/t-matrix-nginx.sh \
	tests/t-matrix-lighttpd.sh \
	tests/t-matrix-apache.sh \
	tests/t-matrix-spawn-fcgi.sh \
	tests/t-matrix-upstream.sh \
	tests/t-matrix-frameworks.sh \
	tests/py/matrix_common.py \
	tests/py/matrix_nginx.py \
	tests/py/matrix_lighttpd.py \
	tests/py/matrix_apache.py \
	tests/py/matrix_spawn.py \
	tests/py/matrix_upstream.py \
	tests/py/matrix_frameworks.py \
	tests/py/matrix_wsgiref.py

# The README's main job (contrib/demo.sh) in one-shot mode.
TESTS += tests/t-demo.sh
EXTRA_DIST += tests/t-demo.sh

# Operations (issue 11): each test self-contained, named t-ops-*.sh with
# its driver tests/py/ops_*.py (which use tests/py/pm_lib.py).
TESTS += tests/t-ops-config.sh
EXTRA_DIST += tests/t-ops-config.sh tests/py/ops_config.py
TESTS += tests/t-ops-logs.sh
EXTRA_DIST += tests/t-ops-logs.sh tests/py/ops_logs.py
TESTS += tests/t-ops-max-body.sh
EXTRA_DIST += tests/t-ops-max-body.sh tests/py/ops_max_body.py
TESTS += tests/t-ops-max-rss.sh
EXTRA_DIST += tests/t-ops-max-rss.sh tests/py/ops_max_rss.py
TESTS += tests/t-ops-timeout.sh
EXTRA_DIST += tests/t-ops-timeout.sh tests/py/ops_timeout.py
