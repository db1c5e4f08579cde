/*
 * listen.h - where the listening socket comes from, in the spec's order:
 * -s ADDR (created and bound here), --fd N, fd 0 when it is a listening
 * socket (the FastCGI FCGI_LISTENSOCK_FILENO contract used by spawn-fcgi and
 * web servers that spawn us), systemd socket activation (LISTEN_FDS and
 * LISTEN_PID, parsed directly), and otherwise one-shot CGI mode.
 */
#ifndef WF_LISTEN_H
#define WF_LISTEN_H

#include <stddef.h>

#include "config.h"

enum wf_listen_source { WF_SRC_SOCKET, WF_SRC_FD, WF_SRC_FD0, WF_SRC_SYSTEMD, WF_SRC_CGI };

struct wf_listener {
    enum wf_listen_source source;
    int fd;                 /* listening descriptor, -1 in CGI mode */
    int family;             /* AF_UNIX, AF_INET, AF_INET6 */
    int inherited;          /* not created by us: more processes may share it */
    char desc[1200];        /* for log lines, e.g. "unix:/run/app.sock" */
    char unlink_path[108];  /* unix socket we created (removed at exit), or "" */
};

/* Finds or creates the listening socket per cfg.  -1 with one line in err. */
int wf_listen_open(const struct wf_config *cfg, struct wf_listener *out,
                   char *err, size_t errlen);

/* Creates a listening socket on addr (unix sockets get mode and, when not
 * NULL, owner USER[:GROUP]).  -1 with one line in err. */
int wf_listen_open_addr(const struct wf_addr *addr, unsigned mode, const char *owner,
                        unsigned backlog, struct wf_listener *out, char *err, size_t errlen);

/* Closes the socket and removes a unix socket file we created. */
void wf_listen_close(struct wf_listener *l);

/* For a TCP listening socket: 1 when it is bound to a loopback address
 * only (127.0.0.0/8, ::1), 0 when peers beyond this host can reach it;
 * -1 for other sockets. */
int wf_listen_loopback_only(int fd);

/* Is fd a listening stream socket?  Returns its family (>0) or 0. */
int wf_listen_fd_is_listening(int fd);

/* Interprets LISTEN_PID/LISTEN_FDS (systemd's protocol) for process pid:
 * returns the first passed descriptor (3) when exactly one is passed,
 * 0 when the variables are absent or meant for another process, -1 with err
 * when they are malformed or pass more than one descriptor. */
int wf_listen_systemd_fd(const char *listen_pid, const char *listen_fds, long pid,
                         char *err, size_t errlen);

#endif
