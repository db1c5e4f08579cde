/*
 * front.h - the table a protocol front end fills in.
 *
 * The worker (worker.c) runs every request thread as the same loop:
 *
 *     state = front->thread_new(srv)
 *     while front->accept(state, &req) == WF_ACCEPT_OK:
 *         wf_wsgi_handle(&req)            -- takes and drops the GIL
 *         front->finish(state, &req)
 *         wf_req_reset(&req)
 *     front->thread_free(state)
 *
 * accept and finish run without the GIL and must never touch Python.  They
 * block; they return promptly once srv->stopping is set and a byte has been
 * written to srv->wake_fd's pipe.
 */
#ifndef WF_FRONT_H
#define WF_FRONT_H

#include <signal.h>
#include <stddef.h>

#include "request.h"

struct wf_server {
    int listen_fd;                   /* -1 in CGI mode */
    int listen_family;
    int wake_fd;                     /* readable once stopping is set */
    volatile sig_atomic_t stopping;  /* stop accepting; finish in flight */
    unsigned threads;
    size_t max_header;               /* SCGI: --max-header-size */
};

enum wf_accept_result {
    WF_ACCEPT_OK = 0,      /* req holds a request for wf_wsgi_handle */
    WF_ACCEPT_STOP = 1,    /* the server is stopping: leave the loop */
};

struct wf_front {
    const char *name;
    /* Once per process, before threads start.  0, or -1 with err. */
    int (*init)(struct wf_server *srv, char *err, size_t errlen);
    void *(*thread_new)(struct wf_server *srv);
    enum wf_accept_result (*accept)(void *state, struct wf_request *req);
    void (*finish)(void *state, struct wf_request *req);
    void (*thread_free)(void *state);
};

/* accept.c: the accept loop every socket front end shares.  Accepting is
 * serialised between the threads of a process by a mutex (taken without the
 * GIL); the listening socket is non-blocking, so a connection taken by
 * another process just sends us back to poll(). */
int wf_accept_init(struct wf_server *srv, char *err, size_t errlen);
/* A new connection (blocking, close-on-exec, TCP_NODELAY on TCP), or -1
 * once the server is stopping. */
int wf_accept(struct wf_server *srv);
/* Whether a thread of this process is waiting in wf_accept right now. */
int wf_accept_waiting(void);

extern const struct wf_front wf_front_fcgi;
extern const struct wf_front wf_front_scgi;
extern const struct wf_front wf_front_cgi;

/* The CGI front end's response descriptor (stdout as it was at start-up),
 * or -1 before its init. */
int wf_front_cgi_out_fd(void);

#endif
