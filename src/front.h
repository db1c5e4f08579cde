/*
 * front.h - the table a protocol front end fills in.
 *
 * The worker (worker.c) runs every request thread as the same loop:
 *
 *     fcgi = wf_front_fcgi.thread_new(srv), scgi = wf_front_scgi.thread_new(srv)
 *     while (c = wf_dispatch_next(dispatch)):      -- a whole head is buffered
 *         front = c->proto is SCGI ? scgi : fcgi
 *         if front->start(state, c, &req) == 0:     -- params, body reader, sink
 *             wf_wsgi_handle(&req)                  -- takes and drops the GIL
 *             keep = front->finish(state, &req)
 *         wf_dispatch_done(dispatch, c, keep)
 *         wf_req_reset(&req)
 *
 * start and finish run without the GIL and never touch Python.  Their reads
 * and writes wait at most --io-timeout for progress.  CGI mode runs start,
 * wf_wsgi_handle and finish once, with no connection.
 */
#ifndef WF_FRONT_H
#define WF_FRONT_H

#include <signal.h>
#include <stddef.h>

#include "dispatch.h"
#include "request.h"

struct wf_server {
    int listen_fd;                   /* -1 in CGI mode */
    int listen_family;
    int wake_fd;                     /* readable once stopping is set */
    int wake_wr;                     /* its write end */
    volatile sig_atomic_t stopping;  /* stop accepting; finish in flight */
    unsigned threads;
    struct wf_dispatch *dispatch;    /* NULL in CGI mode */
};

struct wf_front {
    const char *name;
    /* Once per process, before threads start.  0, or -1 with err. */
    int (*init)(struct wf_server *srv, char *err, size_t errlen);
    void *(*thread_new)(struct wf_server *srv);
    /* Starts the request whose head c holds (NULL in CGI mode): fills req.
     * 0, or -1 when the connection must be closed (the front logged why). */
    int (*start)(void *state, struct wf_conn *c, struct wf_request *req);
    /* Ends the request: 1 when the connection may serve another. */
    int (*finish)(void *state, struct wf_request *req);
    void (*thread_free)(void *state);
};

extern const struct wf_front wf_front_fcgi;
extern const struct wf_front wf_front_scgi;
extern const struct wf_front wf_front_cgi;

/* The CGI front end's response descriptor (stdout as it was at start-up),
 * or -1 before its init. */
int wf_front_cgi_out_fd(void);

#endif
