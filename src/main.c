/*
 * main.c - wsgi-fcgi: parse the command line, find the socket, serve.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "worker.h"
#include "wsgi.h"

/* A process started with stdin, stdout or stderr closed would hand the
 * first descriptors it opens (the listening socket, a connection) to code
 * that writes to 1 or 2 (the log, Python's stderr): fill the gaps with
 * /dev/null first. */
static void keep_stdio_open(void)
{
    int fd;

    for (fd = 0; fd <= 2; fd++) {
        int null;
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (null >= 0 && null != fd) {
            dup2(null, fd);
            close(null);
        }
    }
}

int main(int argc, char **argv)
{
    struct wf_config cfg;
    struct wf_listener listener;
    char err[1024];
    int rc;

    keep_stdio_open();
    switch (wf_config_parse(&cfg, argc, argv, err, sizeof err)) {
    case WF_CONFIG_EXIT_OK:
        wf_config_free(&cfg);
        return 0;
    case WF_CONFIG_ERROR:
        fprintf(stderr, "wsgi-fcgi: %s\n", err);
        wf_config_free(&cfg);
        return 2;
    case WF_CONFIG_RUN:
        break;
    }
    if (wf_config_build_acl(&cfg, getenv("FCGI_WEB_SERVER_ADDRS"), err, sizeof err) < 0) {
        fprintf(stderr, "wsgi-fcgi: %s\n", err);
        wf_config_free(&cfg);
        return 2;
    }
    if (cfg.chdir && chdir(cfg.chdir) < 0) {
        fprintf(stderr, "wsgi-fcgi: --chdir %s: %s\n", cfg.chdir, strerror(errno));
        wf_config_free(&cfg);
        return 1;
    }
    if (cfg.check) {
        wf_config_report(&cfg, stdout);
        fflush(stdout);
        rc = wf_wsgi_check(&cfg);
        wf_config_free(&cfg);
        return rc;
    }
    if (cfg.log_file && wf_log_open_file(cfg.log_file) < 0) {
        fprintf(stderr, "wsgi-fcgi: --log-file %s: %s\n", cfg.log_file, strerror(errno));
        wf_config_free(&cfg);
        return 1;
    }
    if (cfg.access_log && wf_access_log_open(cfg.access_log) < 0) {
        fprintf(stderr, "wsgi-fcgi: --access-log %s: %s\n", cfg.access_log, strerror(errno));
        wf_config_free(&cfg);
        return 1;
    }
    if (wf_listen_open(&cfg, &listener, err, sizeof err) < 0) {
        fprintf(stderr, "wsgi-fcgi: %s\n", err);
        wf_config_free(&cfg);
        return 1;
    }
    if (listener.source == WF_SRC_CGI && !cfg.cgi && !getenv("REQUEST_METHOD") &&
        !getenv("GATEWAY_INTERFACE")) {
        fprintf(stderr, "wsgi-fcgi: no listening socket: give -s ADDR or --fd N, start under a "
                        "spawner (fd 0) or systemd, or run as CGI (--cgi)\n");
        wf_config_free(&cfg);
        return 2;
    }
    /* A master supervises the workers whenever there is a socket: it
     * restores a worker that dies, recycles, reloads and reports. */
    if (listener.source == WF_SRC_CGI)
        rc = wf_worker_run(&cfg, &listener);
    else
        rc = wf_master_run(&cfg, &listener);
    wf_listen_close(&listener);
    wf_config_free(&cfg);
    return rc;
}
