#!/bin/sh
# contrib/apache/wsgi-fcgi-wrapper.sh: the script Apache runs, for mod_fcgid
# (contrib/apache/mod_fcgid.conf: wsgi-fcgi is then a FastCGI server with its
# listening socket on fd 0) and for mod_cgi (contrib/apache/mod_cgi.conf:
# one-shot CGI mode, detected because fd 0 is not a listening socket and
# REQUEST_METHOD is set).  The same file serves both.
#
# Install it as an executable file (mode 0755) readable by Apache's user,
# after replacing the placeholders; the test suite (tests/t-matrix-apache.py)
# does exactly this and uses the file otherwise verbatim:
#
#   @WSGI_FCGI@  the binary, e.g. /usr/local/bin/wsgi-fcgi
#   @APP@        the application, any APP form, e.g. /srv/app/app.py
#
# Apache runs it with a clean environment: set here what the application
# needs (the interpreter must not try to write byte code next to the app
# when the directory is not writable by www-data).
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec "@WSGI_FCGI@" "@APP@"
