/*
 * dispatch.h - a worker's event loop: it owns the listening socket and every
 * connection that is not running a request, and hands request threads only
 * connections whose whole request head has arrived.  See dispatch.c.
 *
 * No Python, no libfcgi here.  The front ends (fcgi.c, scgi.c) read the rest
 * of a request from the connection's buffer and socket through the struct
 * below, bounded by the I/O deadline.
 */
#ifndef WF_DISPATCH_H
#define WF_DISPATCH_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "acl.h"
#include "fcgi_walk.h"

enum wf_proto { WF_PROTO_AUTO = 0, WF_PROTO_FCGI, WF_PROTO_SCGI };

enum wf_conn_state {
    WF_CONN_READING,    /* a request head is arriving (under --header-timeout) */
    WF_CONN_IDLE,       /* kept open between requests */
    WF_CONN_READY,      /* a whole head is buffered; waiting for a thread */
    WF_CONN_BUSY        /* a request thread has it */
};

struct wf_dispatch;

/* Counts of a worker's connections, for --stats and metrics. */
struct wf_dispatch_counts {
    unsigned reading, idle, ready, busy;
    unsigned kept;                    /* of all those, kept at least once */
    unsigned long long accepted, timed_out, evicted, refused;
    unsigned long long handed;        /* kept connections given to other workers */
};

struct wf_conn {
    int fd;                     /* non-blocking, close-on-exec */
    enum wf_proto proto;        /* known once the first byte is in */
    enum wf_conn_state state;
    struct wf_conn *prev, *next;
    long long since_ms;         /* READING: when the head began; IDLE: when it went idle */

    /* Bytes read from the socket: [start, end) are not yet consumed by the
     * front end; [start, walked) have been checked (FastCGI: walked). */
    unsigned char *buf;
    size_t cap, start, walked, end;

    struct wf_fcgi_walk walk;   /* FastCGI: the record walker (fcgi_walk.h) */
    size_t head_end;            /* SCGI: the netstring ends here in buf */

    int io_timeout_ms;          /* --io-timeout, for the front's reads and writes */
    unsigned long served;       /* requests served on this connection */
    unsigned broken : 1;        /* the front must not keep it */
    unsigned timed_out : 1;     /* a read or write made no progress for --io-timeout */
    unsigned kept : 1;          /* has been kept for another request */
    unsigned in_epoll : 1;      /* registered with the loop's epoll */
};

struct wf_dispatch_opts {
    int listen_fd;              /* made non-blocking */
    int listen_family;
    int shared;                 /* other processes accept on it too (-p > 1, inherited) */
    const struct wf_acl *acl;   /* TCP peers allowed (empty or NULL: all) */
    int wake_fd;                /* readable once *stopping is set */
    volatile sig_atomic_t *stopping;
    enum wf_proto protocol;     /* WF_PROTO_AUTO tells them apart by the first byte */
    size_t max_head;            /* --max-header-size */
    unsigned header_timeout_ms; /* --header-timeout */
    unsigned io_timeout_ms;     /* --io-timeout */
    unsigned max_conns;         /* --max-connections, per worker */
    unsigned long fcgi_max_conns, fcgi_max_reqs;   /* FCGI_GET_VALUES answers */

    /* Kept connections of a stopping worker go to the other workers (a
     * datagram socket pair shared by all: [0] sends, [1] receives), so a
     * reload or a recycle closes none under the web server.  -1, -1: none;
     * they are closed. */
    int handoff_fd[2];

    /* Optional hooks, called with the loop's lock held: publish gets the
     * counts whenever they may have changed; successor says whether, now
     * that this worker stops, other workers will serve on (not when the
     * whole server shuts down). */
    void *hook_ctx;
    void (*publish)(void *ctx, const struct wf_dispatch_counts *counts);
    int (*successor)(void *ctx);
};

/* Creates the loop (epoll) for one worker.  NULL with err on failure. */
struct wf_dispatch *wf_dispatch_new(const struct wf_dispatch_opts *opts, char *err, size_t errlen);

/* Blocks until a connection with a whole request head is ready for the
 * calling thread, taking a turn at running the loop when no other thread
 * does.  NULL once the worker stops and nothing ready is left.  Call without
 * the GIL. */
struct wf_conn *wf_dispatch_next(struct wf_dispatch *d);

/* Gives back a connection taken with wf_dispatch_next: kept (the next
 * request is watched for, or queued at once when its head is already
 * buffered) or closed. */
void wf_dispatch_done(struct wf_dispatch *d, struct wf_conn *c, int keep);

void wf_dispatch_counts(struct wf_dispatch *d, struct wf_dispatch_counts *out);

/* Closes every connection and the loop.  No thread may be inside. */
void wf_dispatch_free(struct wf_dispatch *d);

/* Reads more bytes into c's buffer (growing it up to max, compacting
 * consumed bytes away), waiting up to c->io_timeout_ms when none are there.
 * Returns the count, 0 at end of stream, or -1 with errno (ETIMEDOUT when
 * the deadline passed, ENOBUFS when the buffer is at max). */
ssize_t wf_conn_fill(struct wf_conn *c, size_t max);

#endif
