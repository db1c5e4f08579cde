/*
 * dispatch.c - the worker's event loop (see dispatch.h).
 *
 * DESIGN
 * Connections belong to this loop, requests to the threads.  One epoll
 * instance per worker watches the listening socket (shared by every worker,
 * registered with EPOLLEXCLUSIVE so one connection wakes one worker), a wake
 * pipe, connections whose request head is still arriving and idle kept
 * connections.  A connection is handed to a request thread only once its
 * whole head is in our buffer: FastCGI's BEGIN_REQUEST and PARAMS up to the
 * empty record, every byte checked by the record walker (fcgi_walk.c); SCGI's
 * whole netstring.  So a slow or silent peer costs a descriptor and a small
 * struct (an idle one holds no buffer), never a thread.
 *
 * Leader/follower: there is no dispatcher thread.  The request threads take
 * turns at the loop: the one free thread that holds the leader role waits
 * in epoll_wait; when a head completes it gives the role to a waiting
 * follower (if any) and serves the request itself, so at -t 1 a request
 * costs no hand-off between threads.  Measured against a dedicated loop
 * thread handing connections to the request threads (a throwaway variant,
 * -p 1 -t 1, 8 kept FastCGI connections, hello, medians of 3 on a busy
 * 2-CPU machine): 67,700 against 52,400 requests/s and 8.5 against 16.5 us
 * of CPU per request.  Heads that complete while
 * their thread is elsewhere wait on a FIFO ready queue, which free threads
 * empty before they lead.  One mutex guards the lists and counts; it is
 * never held in epoll_wait or while a request runs.
 *
 * A worker accepts only while it can serve: only a free thread leads, and a
 * leader accepts only when the ready queue does not already need every free
 * thread.  A busy worker has nobody in epoll_wait, so the kernel's exclusive
 * wake-up passes new connections to the other workers.  Each wake-up accepts
 * one connection and reads it at once (web servers send the head right
 * after connecting), which spreads kept connections across workers.
 *
 * Connections are registered EPOLLONESHOT: an event disarms them, so a
 * connection in a thread's hands is never seen by the loop; it is re-armed
 * when it goes back to waiting.  Every wait has a deadline: a head must
 * complete within --header-timeout (a FIFO, since every head gets the same
 * time); the threads' body reads and response writes give up after
 * --io-timeout without progress (wf_conn_fill, io.c).  Idle kept connections
 * have no deadline (web servers reuse them, and closing one races with a
 * request the web server is already sending on it); only when the worker
 * holds --max-connections is the longest idle one closed for a newcomer.
 * A worker that stops while the server goes on hands its kept connections
 * to the others instead of closing them (see "handing kept connections
 * over" below).
 * TCP connections inherit SO_KEEPALIVE from the listening socket, so those
 * of a vanished host go away.  accept() failing for lack of descriptors or
 * memory pauses accepting for a moment, with one log line a second at most.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dispatch.h"
#include "io.h"
#include "log.h"
#include "scgi.h"
#include "scoreboard.h"

#define FIRST_BUF 16384          /* a head usually fits; idle connections hold none */
#define MGMT_ROOM (8 + 65535 + 255)  /* one management record before a head */
#define NEVENTS 64
#define ACCEPT_PAUSE_MS 100
#define STOP_GRACE_MS 1000       /* on stopping: heads on their way may still arrive */
#define FRESH_MS 50              /* a head begun this recently will soon need a thread */
#define SPARE_BUFS 16            /* buffers kept for reuse, each at most SPARE_MAX */
#define SPARE_MAX 65536
#define KEEPIDLE_S 60            /* TCP keep-alive: probe after 60 s idle, */
#define KEEPINTVL_S 10           /* every 10 s, */
#define KEEPCNT 6                /* 6 unanswered probes and the connection is gone */
#define HANDOFF_BATCH 64         /* kept connections handed over in one datagram */

struct conn_list {
    struct wf_conn *head, *tail;
    unsigned n;
};

struct wf_dispatch {
    struct wf_dispatch_opts o;
    int epfd;
    int listen_armed;
    long long accept_resume_ms;      /* accepting paused (EMFILE...) until then */
    long long accept_logged_ms;
    long long evict_logged_ms;
    unsigned long long evict_unlogged;
    long long refuse_logged_ms;
    unsigned long long refuse_unlogged;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    int leader;                      /* a thread runs the loop */
    long long stopping_ms;           /* when the loop saw the worker stopping */
    int stopped;                     /* stopped: nothing new is taken */
    unsigned waiting;                /* threads waiting for work or the role */
    struct conn_list reading, idle, ready;
    unsigned nconns, busy, nkept;
    unsigned long long accepted, timed_out, evicted, refused, handed;
    long long handoff_logged_ms;
    struct { unsigned char *buf; size_t cap; } spare[SPARE_BUFS];
    unsigned nspare;

    unsigned char scratch[FIRST_BUF];    /* the leader's first read of a connection */
    struct epoll_event events[NEVENTS];
};

/* epoll tags for the descriptors that are not connections */
static char listen_tag, wake_tag, handoff_tag;

enum head { HEAD_MORE, HEAD_READY, HEAD_CLOSE };

/* ---- lists ---------------------------------------------------------------- */

static void list_append(struct conn_list *l, struct wf_conn *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->n++;
}

static void list_remove(struct conn_list *l, struct wf_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    l->n--;
}

static struct conn_list *list_of(struct wf_dispatch *d, struct wf_conn *c)
{
    switch (c->state) {
    case WF_CONN_READING: return &d->reading;
    case WF_CONN_IDLE: return &d->idle;
    case WF_CONN_READY: return &d->ready;
    default: return NULL;
    }
}

static void set_state(struct wf_dispatch *d, struct wf_conn *c, enum wf_conn_state state,
                      long long now)
{
    struct conn_list *l = list_of(d, c);

    if (l)
        list_remove(l, c);
    c->state = state;
    c->since_ms = now;
    if ((l = list_of(d, c)))
        list_append(l, c);
}

/* ---- connections ------------------------------------------------------- */

/* Lets go of c's buffer, keeping it for reuse when it is not too big. */
static void conn_free_buf(struct wf_dispatch *d, struct wf_conn *c)
{
    if (c->buf && c->cap <= SPARE_MAX && d->nspare < SPARE_BUFS) {
        d->spare[d->nspare].buf = c->buf;
        d->spare[d->nspare++].cap = c->cap;
    } else {
        free(c->buf);
    }
    c->buf = NULL;
    c->cap = c->start = c->walked = c->end = c->head_end = 0;
}

static void conn_close(struct wf_dispatch *d, struct wf_conn *c)
{
    struct conn_list *l = list_of(d, c);

    if (l)
        list_remove(l, c);
    if (c->fd >= 0)
        close(c->fd);
    if (c->kept)
        d->nkept--;
    conn_free_buf(d, c);
    free(c);
    d->nconns--;
}

/* Watches c for its next bytes (one event, then disarmed again). */
static int conn_arm(struct wf_dispatch *d, struct wf_conn *c)
{
    struct epoll_event ev;

    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = c;
    if (epoll_ctl(d->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        wf_log(WF_LOG_ERROR, "epoll_ctl on a connection: %s; closing it", strerror(errno));
        return -1;
    }
    c->in_epoll = 1;
    return 0;
}

/* The most a connection may buffer while its head arrives. */
static size_t head_room(const struct wf_dispatch *d)
{
    return d->o.max_head + MGMT_ROOM + FIRST_BUF;
}

/* Moves unconsumed bytes to the front of the buffer. */
static void compact(struct wf_conn *c)
{
    if (c->start == 0)
        return;
    memmove(c->buf, c->buf + c->start, c->end - c->start);
    c->walked -= c->start;
    c->head_end = c->head_end > c->start ? c->head_end - c->start : 0;
    c->end -= c->start;
    c->start = 0;
}

/* Makes room at the end of the buffer, up to max bytes in all, taking a
 * spare buffer of d's when c has none and d is given (its lock held).
 * 0 or -1. */
static int make_room(struct wf_dispatch *d, struct wf_conn *c, size_t max)
{
    unsigned char *b;
    size_t cap;

    if (!c->buf && d && d->nspare) {
        d->nspare--;
        c->buf = d->spare[d->nspare].buf;
        c->cap = d->spare[d->nspare].cap;
        return 0;
    }
    if (!c->buf) {
        cap = FIRST_BUF < max ? FIRST_BUF : max;
        if (!(c->buf = malloc(cap)))
            return -1;
        c->cap = cap;
        return 0;
    }
    if (c->end < c->cap)
        return 0;
    compact(c);
    if (c->end < c->cap)
        return 0;
    if (c->cap >= max)
        return -1;
    cap = c->cap * 2 < max ? c->cap * 2 : max;
    if (!(b = realloc(c->buf, cap)))
        return -1;
    c->buf = b;
    c->cap = cap;
    return 0;
}

ssize_t wf_conn_fill(struct wf_conn *c, size_t max)
{
    ssize_t r;

    if (c->buf && c->start == c->end)
        c->start = c->walked = c->end = c->head_end = 0;
    if (make_room(NULL, c, max) < 0) {
        errno = ENOBUFS;
        return -1;
    }
    r = wf_recv_some(c->fd, c->buf + c->end, c->cap - c->end, c->io_timeout_ms);
    if (r > 0)
        c->end += (size_t)r;
    return r;
}

/* One non-blocking read by the loop: >0 bytes, 0 end of stream, -1 nothing
 * there (EAGAIN), -2 the head would not fit, -3 error. */
static ssize_t conn_read_nb(struct wf_dispatch *d, struct wf_conn *c)
{
    ssize_t r;

    if (!c->buf) {
        /* Read into the loop's scratch space first: a connection that has
         * nothing to say costs no buffer. */
        do
            r = recv(c->fd, d->scratch, sizeof d->scratch, MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
            return r == 0 ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -3;
        if (make_room(d, c, head_room(d)) < 0)
            return -3;
        memcpy(c->buf, d->scratch, (size_t)r);
        c->end = (size_t)r;
        return r;
    }
    if (make_room(d, c, head_room(d)) < 0)
        return -2;
    do
        r = recv(c->fd, c->buf + c->end, c->cap - c->end, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        c->end += (size_t)r;
    return r > 0 ? r : r == 0 ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -3;
}

/* ---- request heads ------------------------------------------------------- */

/* A hint for the log when the first bytes are another protocol. */
static const char *first_bytes_hint(const struct wf_conn *c, const char *ours)
{
    unsigned char b = c->end > c->start ? c->buf[c->start] : 0;

    if (b >= '1' && b <= '9' && strcmp(ours, "FastCGI") == 0)
        return " (this looks like SCGI: see --protocol)";
    if (b == 1 && strcmp(ours, "SCGI") == 0)
        return " (this looks like FastCGI: see --protocol)";
    if (b >= 'A' && b <= 'Z')
        return " (this looks like HTTP: the socket is for a web server's FastCGI/SCGI module)";
    return "";
}

/* Answers a management record (FCGI_GET_VALUES and unknown types) that came
 * between requests, and drops it: libfcgi never sees one. */
static int answer_mgmt(struct wf_dispatch *d, struct wf_conn *c)
{
    size_t rec_len = (size_t)(c->walk.offset - c->walk.rec_start);
    size_t rec = c->walked - rec_len;
    unsigned char out[128];
    long n = wf_fcgi_mgmt_reply(c->buf + rec, rec_len, d->o.fcgi_max_conns, d->o.fcgi_max_reqs,
                                out, sizeof out);

    if (n < 0) {
        wf_log(WF_LOG_WARNING, "closed a FastCGI connection: a malformed FCGI_GET_VALUES record");
        return -1;
    }
    if (send(c->fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
        return -1;    /* a peer that asks and does not read: not worth a wait */
    if (c->walk.mgmt_type != WF_FCGI_GET_VALUES)
        wf_log(WF_LOG_INFO, "answered FCGI_UNKNOWN_TYPE to a management record of type %u",
               c->walk.mgmt_type);
    c->start = c->walked;
    return 0;
}

static void refuse_role(struct wf_conn *c)
{
    unsigned char rec[16];
    unsigned role = c->walk.role;
    const char *name = role == WF_FCGI_AUTHORIZER ? "AUTHORIZER" : role == WF_FCGI_FILTER ? "FILTER" : NULL;

    if (name)
        wf_log(WF_LOG_WARNING, "refused a FastCGI %s request: only the Responder role is served", name);
    else
        wf_log(WF_LOG_WARNING, "refused a FastCGI request of unknown role %u: only the Responder role "
               "is served", role);
    wf_fcgi_end_request(rec, c->walk.req_id, 0, WF_FCGI_UNKNOWN_ROLE);
    if (send(c->fd, rec, sizeof rec, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        wf_log(WF_LOG_DEBUG, "refusing a role: %s", strerror(errno));
}

static enum head fcgi_head(struct wf_dispatch *d, struct wf_conn *c)
{
    for (;;) {
        size_t used;
        enum wf_fw_event ev = wf_fcgi_walk(&c->walk, c->buf + c->walked, c->end - c->walked, &used);

        c->walked += used;
        switch (ev) {
        case WF_FW_MORE:
            return HEAD_MORE;
        case WF_FW_MGMT:
            if (answer_mgmt(d, c) < 0)
                return HEAD_CLOSE;
            continue;
        case WF_FW_HEAD:
            if (c->walk.role != WF_FCGI_RESPONDER) {
                refuse_role(c);
                return HEAD_CLOSE;
            }
            return HEAD_READY;
        case WF_FW_ABORT:
            wf_log(WF_LOG_INFO, "the web server aborted a request before its params were complete");
            return HEAD_CLOSE;
        case WF_FW_ERROR:
            wf_log(WF_LOG_WARNING, "closed a FastCGI connection: %s%s", c->walk.why,
                   c->walk.rec_start == 0 ? first_bytes_hint(c, "FastCGI") : "");
            return HEAD_CLOSE;
        default:
            wf_log(WF_LOG_ERROR, "closed a FastCGI connection: unexpected walker state");
            return HEAD_CLOSE;
        }
    }
}

static enum head scgi_head(struct wf_dispatch *d, struct wf_conn *c)
{
    const char *hdr, *why = NULL;
    size_t hdr_len;
    long rc = wf_scgi_parse_netstring((const char *)c->buf + c->start, c->end - c->start,
                                      d->o.max_head, &hdr, &hdr_len, &why);

    if (rc > 0) {
        c->head_end = c->start + (size_t)rc;
        return HEAD_READY;
    }
    if (rc == 0)
        return HEAD_MORE;
    wf_log(WF_LOG_WARNING, "closed an SCGI connection: %s%s", why, first_bytes_hint(c, "SCGI"));
    return HEAD_CLOSE;
}

static const char *proto_name(const struct wf_conn *c)
{
    return c->proto == WF_PROTO_FCGI ? "a FastCGI" : c->proto == WF_PROTO_SCGI ? "an SCGI" : "a";
}

/* Looks at what is buffered: is the head complete? */
static enum head head_progress(struct wf_dispatch *d, struct wf_conn *c)
{
    if (c->end == c->start)
        return HEAD_MORE;
    if (c->proto == WF_PROTO_AUTO) {
        unsigned char b = c->buf[c->start];
        if (b == 1) {
            c->proto = WF_PROTO_FCGI;
        } else if (b >= '1' && b <= '9') {
            c->proto = WF_PROTO_SCGI;
        } else {
            wf_log(WF_LOG_WARNING, "closed a connection: neither FastCGI nor SCGI%s",
                   b >= 'A' && b <= 'Z' ? " (this looks like HTTP: the socket is for a web "
                   "server's FastCGI/SCGI module)" : "");
            return HEAD_CLOSE;
        }
    }
    return c->proto == WF_PROTO_FCGI ? fcgi_head(d, c) : scgi_head(d, c);
}

/* The connection is readable (or may be): read what is there and advance
 * its head.  c may be closed on return. */
static void conn_input(struct wf_dispatch *d, struct wf_conn *c, long long now)
{
    for (;;) {
        ssize_t r = conn_read_nb(d, c);

        if (r > 0) {
            if (c->state == WF_CONN_IDLE)
                set_state(d, c, WF_CONN_READING, now);   /* the head's clock starts */
            switch (head_progress(d, c)) {
            case HEAD_READY:
                set_state(d, c, WF_CONN_READY, now);
                return;
            case HEAD_CLOSE:
                conn_close(d, c);
                return;
            case HEAD_MORE:
                continue;
            }
        }
        if (r == -1) {
            if (conn_arm(d, c) < 0)
                conn_close(d, c);
            return;
        }
        if (r == 0 && c->end > c->start)
            wf_log(WF_LOG_WARNING, "closed %s connection: it ended inside the request head",
                   proto_name(c));
        else if (r == -2)
            wf_log(WF_LOG_WARNING, "closed %s connection: its request head does not fit in "
                   "--max-header-size %zu", proto_name(c), d->o.max_head);
        conn_close(d, c);
        return;
    }
}

/* ---- accepting ------------------------------------------------------------- */

static void listen_arm(struct wf_dispatch *d, int on)
{
    struct epoll_event ev;

    if (on == d->listen_armed)
        return;
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = &listen_tag;
    if (epoll_ctl(d->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, d->o.listen_fd, &ev) < 0) {
        wf_log(WF_LOG_ERROR, "epoll_ctl on the listening socket: %s", strerror(errno));
        return;
    }
    d->listen_armed = on;
}

/* Closes the longest idle connection (else the oldest unfinished head) to
 * make room for a new one.  0, or -1 when every connection is in use. */
static int evict_one(struct wf_dispatch *d, long long now)
{
    struct wf_conn *victim = d->idle.head ? d->idle.head : d->reading.head;

    if (!victim)
        return -1;
    conn_close(d, victim);
    d->evicted++;
    d->evict_unlogged++;
    if (now - d->evict_logged_ms >= 1000) {
        wf_log(WF_LOG_INFO, "closed %llu connection%s, the longest idle, to stay within "
               "--max-connections %u", d->evict_unlogged, d->evict_unlogged > 1 ? "s" : "",
               d->o.max_conns);
        d->evict_logged_ms = now;
        d->evict_unlogged = 0;
    }
    return 0;
}

/* --allow-from: a peer not on the list is closed at once, with a log line
 * (at most one a second, counting the others). */
static int refused_peer(struct wf_dispatch *d, int fd, const struct sockaddr *sa, socklen_t len,
                        long long now)
{
    char peer[64];

    if (wf_acl_allows(d->o.acl, sa, len))
        return 0;
    close(fd);
    d->refused++;
    d->refuse_unlogged++;
    if (now - d->refuse_logged_ms >= 1000) {
        wf_acl_format_peer(sa, len, peer, sizeof peer);
        wf_log(WF_LOG_WARNING, "refused %llu connection%s from %s%s: not in --allow-from or "
               "FCGI_WEB_SERVER_ADDRS", d->refuse_unlogged, d->refuse_unlogged > 1 ? "s" : "", peer,
               d->refuse_unlogged > 1 ? " (the last)" : "");
        d->refuse_logged_ms = now;
        d->refuse_unlogged = 0;
    }
    return 1;
}

/* A new connection of d in state (READING or IDLE), making room under
 * --max-connections first.  NULL (fd closed, logged) when out of memory. */
static struct wf_conn *conn_new(struct wf_dispatch *d, int fd, enum wf_proto proto,
                                enum wf_conn_state state, long long now)
{
    struct wf_conn *c;

    if (d->nconns >= d->o.max_conns)
        evict_one(d, now);   /* none to evict: over the limit by this one */
    c = calloc(1, sizeof *c);
    if (!c) {
        wf_log(WF_LOG_ERROR, "out of memory taking a connection");
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->proto = proto;
    c->io_timeout_ms = (int)d->o.io_timeout_ms;
    wf_fcgi_walk_init(&c->walk, d->o.max_head);
    c->state = WF_CONN_BUSY;       /* in no list yet */
    set_state(d, c, state, now);
    d->nconns++;
    return c;
}

static void accept_one(struct wf_dispatch *d, long long now)
{
    struct wf_conn *c;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    int check = d->o.acl && d->o.acl->n &&
                (d->o.listen_family == AF_INET || d->o.listen_family == AF_INET6);
    int fd = accept4(d->o.listen_fd, check ? (struct sockaddr *)&ss : NULL, check ? &sslen : NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
        switch (errno) {
        case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT:
        case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
        case ECONNRESET: case ETIMEDOUT:
            return;
        default:
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection waits in the
             * backlog (or goes to another worker); try again shortly. */
            if (now - d->accept_logged_ms >= 1000) {
                wf_log(WF_LOG_ERROR, "accept: %s; pausing new connections for %d ms", strerror(errno),
                       ACCEPT_PAUSE_MS);
                d->accept_logged_ms = now;
            }
            d->accept_resume_ms = now + ACCEPT_PAUSE_MS;
            listen_arm(d, 0);
            return;
        }
    }
    if (check && refused_peer(d, fd, (struct sockaddr *)&ss, sslen, now))
        return;
    if (!(c = conn_new(d, fd, d->o.protocol, WF_CONN_READING, now)))
        return;
    d->accepted++;
    conn_input(d, c, now);
}

/* ---- handing kept connections over ---------------------------------------
 *
 * A worker that stops (a reload, --max-requests, --max-rss, fewer workers)
 * gives its idle kept connections to the workers that go on, over a
 * datagram socket pair every worker inherits from the master: the web
 * server keeps the connection and never sees it closed.  Closing it instead
 * races with the web server: nginx reuses the connection it cached last, and
 * a request it sends just as the close arrives fails (a POST is not retried:
 * a 502).  FastCGI cannot announce a close.  When the whole server stops,
 * there is nobody to give them to and they are closed. */

static int handoff_allowed(const struct wf_dispatch *d)
{
    return d->o.handoff_fd[0] >= 0 && (!d->o.successor || d->o.successor(d->o.hook_ctx));
}

/* A hand-over datagram: one byte, and up to HANDOFF_BATCH descriptors. */
struct handoff_msg {
    struct msghdr msg;
    struct iovec iov;
    char byte;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * HANDOFF_BATCH)];
    } u;
};

static void handoff_msg_init(struct handoff_msg *m, size_t controllen)
{
    memset(m, 0, sizeof *m);
    m->byte = 'k';
    m->iov.iov_base = &m->byte;
    m->iov.iov_len = 1;
    m->msg.msg_iov = &m->iov;
    m->msg.msg_iovlen = 1;
    m->msg.msg_control = m->u.buf;
    m->msg.msg_controllen = controllen;
}

/* One datagram carrying n descriptors.  0, or -1 when nothing was sent. */
static int handoff_send(const struct wf_dispatch *d, const int *fds, unsigned n)
{
    struct handoff_msg m;
    struct cmsghdr *cm;
    ssize_t r;

    handoff_msg_init(&m, CMSG_SPACE(sizeof(int) * n));
    cm = CMSG_FIRSTHDR(&m.msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
    do
        r = sendmsg(d->o.handoff_fd[0], &m.msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r == 1 ? 0 : -1;
}

/* Hands n (at most HANDOFF_BATCH) idle kept connections over; they are
 * closed here either way (a descriptor in flight keeps its connection).
 * Each leaves this loop's epoll first: epoll forgets a registration only
 * when the connection itself goes, not with this process's descriptor. */
static void hand_off(struct wf_dispatch *d, struct wf_conn **cs, unsigned n, long long now)
{
    int fds[HANDOFF_BATCH];
    struct epoll_event ev;
    unsigned i;

    for (i = 0; i < n; i++) {
        fds[i] = cs[i]->fd;
        if (cs[i]->in_epoll)
            epoll_ctl(d->epfd, EPOLL_CTL_DEL, cs[i]->fd, &ev);
        cs[i]->in_epoll = 0;
    }
    if (handoff_send(d, fds, n) == 0) {
        d->handed += n;
    } else if (now - d->handoff_logged_ms >= 1000) {
        wf_log(WF_LOG_WARNING, "could not hand %u kept connection%s to the other workers (%s): "
               "closing %s", n, n > 1 ? "s" : "", strerror(errno), n > 1 ? "them" : "it");
        d->handoff_logged_ms = now;
    }
    for (i = 0; i < n; i++)
        conn_close(d, cs[i]);
}

/* Takes one connection another worker handed over: an idle kept FastCGI
 * connection (the web server may already have sent its next request). */
static void adopt_one(struct wf_dispatch *d, int fd, long long now)
{
    struct wf_conn *c = conn_new(d, fd, WF_PROTO_FCGI, WF_CONN_IDLE, now);

    if (!c)
        return;
    c->kept = 1;
    d->nkept++;
    if (conn_arm(d, c) < 0)
        conn_close(d, c);
}

/* Takes every connection waiting on the hand-over socket. */
static void adopt(struct wf_dispatch *d, long long now)
{
    unsigned taken = 0;

    for (;;) {
        struct handoff_msg m;
        struct cmsghdr *cm;
        ssize_t r;

        handoff_msg_init(&m, sizeof m.u.buf);
        r = recvmsg(d->o.handoff_fd[1], &m.msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;          /* EAGAIN: another worker was quicker, or all taken */
        for (cm = CMSG_FIRSTHDR(&m.msg); cm; cm = CMSG_NXTHDR(&m.msg, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                unsigned k, nfd = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                int fds[HANDOFF_BATCH];
                if (nfd > HANDOFF_BATCH)
                    nfd = HANDOFF_BATCH;
                memcpy(fds, CMSG_DATA(cm), sizeof(int) * nfd);
                for (k = 0; k < nfd; k++)
                    adopt_one(d, fds[k], now);
                taken += nfd;
            }
        }
        if (m.msg.msg_flags & MSG_CTRUNC)
            wf_log(WF_LOG_WARNING, "a hand-over of kept connections was cut short: the kernel "
                   "closed the rest");
    }
    if (taken)
        wf_log(WF_LOG_INFO, "took over %u kept connection%s from a stopping worker", taken,
               taken > 1 ? "s" : "");
}

/* ---- the loop -------------------------------------------------------------- */

static void counts(const struct wf_dispatch *d, struct wf_dispatch_counts *out)
{
    out->reading = d->reading.n;
    out->idle = d->idle.n;
    out->ready = d->ready.n;
    out->busy = d->busy;
    out->kept = d->nkept;
    out->accepted = d->accepted;
    out->timed_out = d->timed_out;
    out->evicted = d->evicted;
    out->refused = d->refused;
    out->handed = d->handed;
}

static void publish(const struct wf_dispatch *d)
{
    struct wf_dispatch_counts c;

    if (!d->o.publish)
        return;
    counts(d, &c);
    d->o.publish(d->o.hook_ctx, &c);
}

/* Stopping: no new connection is accepted; for STOP_GRACE_MS, heads on
 * their way (on new connections, or a request just sent on a kept one) are
 * still served, then every waiting connection is closed. */
static void stop_step(struct wf_dispatch *d, long long now)
{
    struct epoll_event ev;

    if (!d->stopping_ms) {
        d->stopping_ms = now;
        listen_arm(d, 0);
        /* The wake pipe stays readable: stop watching it; and take no more
         * connections from other stopping workers. */
        epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->o.wake_fd, &ev);
        if (d->o.handoff_fd[1] >= 0)
            epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->o.handoff_fd[1], &ev);
        if (d->idle.n && handoff_allowed(d)) {
            while (d->idle.head) {
                struct wf_conn *cs[HANDOFF_BATCH], *c;
                unsigned n = 0;
                for (c = d->idle.head; c && n < HANDOFF_BATCH; c = c->next)
                    cs[n++] = c;
                hand_off(d, cs, n, now);
            }
            publish(d);
        }
    }
    if (d->reading.n + d->idle.n > 0 && now - d->stopping_ms < STOP_GRACE_MS)
        return;
    while (d->idle.head)
        conn_close(d, d->idle.head);
    while (d->reading.head)
        conn_close(d, d->reading.head);
    d->stopped = 1;
}

static void expire_heads(struct wf_dispatch *d, long long now)
{
    unsigned n = 0;

    while (d->reading.head && now - d->reading.head->since_ms >= (long long)d->o.header_timeout_ms) {
        conn_close(d, d->reading.head);
        n++;
    }
    if (n) {
        d->timed_out += n;
        wf_log(WF_LOG_WARNING, "closed %u connection%s: no complete request head within %u s "
               "(--header-timeout)", n, n > 1 ? "s" : "", d->o.header_timeout_ms / 1000);
    }
}

static int next_timeout(const struct wf_dispatch *d, long long now)
{
    long long t = -1;

    /* Not accepting because of heads begun just now: look again soon. */
    if (!d->listen_armed && d->reading.tail && now - d->reading.tail->since_ms < FRESH_MS)
        t = FRESH_MS;
    if (d->reading.head) {
        long long h = d->reading.head->since_ms + d->o.header_timeout_ms - now;
        if (h < 0)
            h = 0;
        if (t < 0 || h < t)
            t = h;
    }
    if (d->accept_resume_ms || d->stopping_ms) {
        long long a = (d->stopping_ms ? d->stopping_ms + STOP_GRACE_MS : d->accept_resume_ms) - now;
        if (a < 0)
            a = 0;
        if (t < 0 || a < t)
            t = a;
    }
    return t > 1000000 ? 1000000 : (int)t;
}

/* Whether to accept now.  With the socket to itself, a worker takes every
 * connection (heads are read and silent peers timed out sooner).  When other
 * workers accept on it too, it takes one only while a thread will be free
 * for it: the queued heads, and heads begun in the last FRESH_MS (a web
 * server sends the head right after it connects), must leave a free thread.
 * Older unfinished heads do not count: a silent peer must not stop a worker
 * from accepting. */
static int can_accept(const struct wf_dispatch *d, long long now)
{
    unsigned pending = d->ready.n;
    const struct wf_conn *c;

    if (!d->o.shared)
        return 1;
    for (c = d->reading.tail; c && now - c->since_ms < FRESH_MS && pending <= d->waiting; c = c->prev)
        pending++;
    return pending <= d->waiting;
}

/* Runs the loop, lock held except in epoll_wait, until a connection is on
 * the ready queue or the worker stops. */
static void lead(struct wf_dispatch *d)
{
    for (;;) {
        long long now = wf_now_ms();
        int n, i, listen_ready = 0;

        if (*d->o.stopping && !d->stopped)
            stop_step(d, now);
        if (d->stopped || d->ready.n)
            return;
        if (d->accept_resume_ms && now >= d->accept_resume_ms)
            d->accept_resume_ms = 0;
        /* Watch the listening socket only while a connection would be
         * taken: with EPOLLEXCLUSIVE a wake-up goes to one worker, so one
         * that is woken must accept. */
        listen_arm(d, !d->stopping_ms && !d->accept_resume_ms &&
                      (d->nconns < d->o.max_conns || d->idle.n + d->reading.n > 0) &&
                      can_accept(d, now));
        publish(d);

        pthread_mutex_unlock(&d->lock);
        n = epoll_wait(d->epfd, d->events, NEVENTS, next_timeout(d, now));
        pthread_mutex_lock(&d->lock);

        if (n < 0 && errno != EINTR) {
            wf_log(WF_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            n = 0;
        }
        now = wf_now_ms();
        for (i = 0; i < n; i++) {
            void *p = d->events[i].data.ptr;
            if (p == &listen_tag)
                listen_ready = 1;
            else if (p == &handoff_tag) {
                if (!*d->o.stopping)
                    adopt(d, now);
            } else if (p != &wake_tag)
                conn_input(d, p, now);
        }
        if (listen_ready && d->listen_armed)
            accept_one(d, now);
        expire_heads(d, now);
    }
}

struct wf_conn *wf_dispatch_next(struct wf_dispatch *d)
{
    struct wf_conn *c = NULL;

    pthread_mutex_lock(&d->lock);
    for (;;) {
        if (d->ready.head) {
            c = d->ready.head;
            set_state(d, c, WF_CONN_BUSY, 0);
            d->busy++;
            publish(d);
            break;
        }
        if (d->stopped)
            break;
        if (d->leader) {
            d->waiting++;
            pthread_cond_wait(&d->cond, &d->lock);
            d->waiting--;
            continue;
        }
        d->leader = 1;
        lead(d);
        d->leader = 0;
        if (d->stopped) {
            pthread_cond_broadcast(&d->cond);
        } else {
            /* One follower for each queued connection beyond the one this
             * thread takes, and one to lead. */
            unsigned k = d->ready.n < d->waiting ? d->ready.n : d->waiting;
            while (k--)
                pthread_cond_signal(&d->cond);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return c;
}

/* Closing a socket whose input has not all been read makes the kernel
 * reset the connection, and a reset can destroy the end of the response
 * the peer has not read yet.  A peer that sent more than its request on a
 * connection that is not kept (a second SCGI request, FastCGI without
 * FCGI_KEEP_CONN, bytes beyond CONTENT_LENGTH) gets its response whole:
 * the input is drained until the peer closes, for a bounded time. */
static void close_gently(struct wf_conn *c)
{
    int pending = 0;

    if (ioctl(c->fd, FIONREAD, &pending) == 0 && pending > 0) {
        wf_log(WF_LOG_INFO, "the %s peer sent more than its request on a connection that is "
               "not kept: closing it after the response", c->proto == WF_PROTO_SCGI ? "SCGI" :
               "FastCGI");
        wf_linger(c->fd, WF_LINGER_MS);
    }
}

void wf_dispatch_done(struct wf_dispatch *d, struct wf_conn *c, int keep)
{
    long long now = wf_now_ms();

    if (!keep && !c->broken)
        close_gently(c);

    pthread_mutex_lock(&d->lock);
    d->busy--;
    if (keep && !c->broken && c->end == c->start &&
        (d->stopped || d->stopping_ms || *d->o.stopping) && handoff_allowed(d)) {
        hand_off(d, &c, 1, now);
    } else if (!keep || c->broken || d->stopped || d->stopping_ms || *d->o.stopping) {
        conn_close(d, c);
    } else if (c->end > c->start) {
        /* The peer sent its next request before this response ended. */
        set_state(d, c, WF_CONN_READING, now);
        switch (head_progress(d, c)) {
        case HEAD_READY:
            set_state(d, c, WF_CONN_READY, now);
            if (d->waiting)
                pthread_cond_signal(&d->cond);
            break;
        case HEAD_CLOSE:
            conn_close(d, c);
            break;
        case HEAD_MORE:
            if (conn_arm(d, c) < 0)
                conn_close(d, c);
            break;
        }
    } else {
        conn_free_buf(d, c);
        set_state(d, c, WF_CONN_IDLE, now);
        if (!c->kept) {
            c->kept = 1;
            d->nkept++;
        }
        if (conn_arm(d, c) < 0)
            conn_close(d, c);
    }
    publish(d);
    pthread_mutex_unlock(&d->lock);
}

void wf_dispatch_counts(struct wf_dispatch *d, struct wf_dispatch_counts *out)
{
    pthread_mutex_lock(&d->lock);
    counts(d, out);
    pthread_mutex_unlock(&d->lock);
}

/* TCP connections inherit these from the listening socket. */
static void tune_listener(const struct wf_dispatch_opts *o)
{
    int one = 1, idle = KEEPIDLE_S, intvl = KEEPINTVL_S, cnt = KEEPCNT;

    if (o->listen_family != AF_INET && o->listen_family != AF_INET6)
        return;
    if (setsockopt(o->listen_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        setsockopt(o->listen_fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0 ||
        setsockopt(o->listen_fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0 ||
        setsockopt(o->listen_fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) < 0 ||
        setsockopt(o->listen_fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) < 0)
        wf_log(WF_LOG_WARNING, "setting TCP_NODELAY and keep-alive on the listening socket: %s",
               strerror(errno));
}

struct wf_dispatch *wf_dispatch_new(const struct wf_dispatch_opts *opts, char *err, size_t errlen)
{
    struct wf_dispatch *d = calloc(1, sizeof *d);
    struct epoll_event ev;

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->o = *opts;
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        free(d);
        return NULL;
    }
    if (wf_set_nonblock(d->o.listen_fd, 1) < 0) {
        snprintf(err, errlen, "listening socket: %s", strerror(errno));
        close(d->epfd);
        free(d);
        return NULL;
    }
    tune_listener(&d->o);
    ev.events = EPOLLIN;
    ev.data.ptr = &wake_tag;
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->o.wake_fd, &ev) < 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        close(d->epfd);
        free(d);
        return NULL;
    }
    /* Level-triggered and not exclusive: a worker that is stopping leaves
     * a hand-over to the others, who must all see it. */
    if (d->o.handoff_fd[1] >= 0) {
        ev.events = EPOLLIN;
        ev.data.ptr = &handoff_tag;
        if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->o.handoff_fd[1], &ev) < 0) {
            wf_log(WF_LOG_WARNING, "epoll_ctl on the hand-over socket: %s: this worker takes "
                   "no kept connections from stopping workers", strerror(errno));
            d->o.handoff_fd[1] = -1;
        }
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    return d;
}

void wf_dispatch_free(struct wf_dispatch *d)
{
    if (!d)
        return;
    if (d->handed)
        wf_log(WF_LOG_INFO, "handed %llu kept connection%s over to the other workers", d->handed,
               d->handed > 1 ? "s" : "");
    while (d->idle.head)
        conn_close(d, d->idle.head);
    while (d->reading.head)
        conn_close(d, d->reading.head);
    while (d->ready.head)
        conn_close(d, d->ready.head);
    while (d->nspare)
        free(d->spare[--d->nspare].buf);
    close(d->epfd);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d);
}
