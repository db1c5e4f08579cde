/*
 * fcgi.c - the FastCGI front end, on libfcgi.  The only file that includes
 * fcgiapp.h.
 *
 * DESIGN
 * libfcgi parses and writes the records; this file owns the connections.
 * Every FCGX_Request is initialised with listen socket -1, and accept(2) is
 * done here: FCGX_Accept_r only accepts when the request holds no connection,
 * so handing it a connection we accepted ourselves makes it go straight to
 * reading BEGIN_REQUEST and PARAMS.  This gives us, instead of libfcgi's
 * OS_Accept: IPv6 peers with TCP_NODELAY, no 2-second wait for data after an
 * AF_UNIX accept, accept serialised by our own mutex with the GIL released,
 * prompt wake-up on shutdown, and a look at the first bytes before libfcgi
 * parses them (fcgi_guard.c).  If libfcgi fails on a connection it closes it
 * and tries to accept on socket -1, which fails at once: we count that as
 * "connection dropped" and go back to our own accept.
 *
 * Kept connections (FCGI_KEEP_CONN).  libfcgi would block reading a kept
 * connection while new connections wait in the backlog.  Instead, a thread
 * holding an idle kept connection waits in poll() on it and on the listening
 * socket.  If the kept connection brings a request, it is served.  If a new
 * connection arrives and no other thread of this process is waiting to accept
 * it, the idle kept connection is closed (the web server opens a new one when
 * it needs it) and the thread accepts.  So an idle kept connection never
 * starves a new one, while a busy one keeps its connection.  A connection
 * is given up only after it has been idle YIELD_IDLE_MS, or once the new
 * connection has waited YIELD_PENDING_MS: an active client sends its next
 * request well within the first, which keeps rare the one race FastCGI
 * keep-alive cannot avoid (a request sent just as the server closes; the
 * web server retries it, as nginx does for its cached connections).
 *
 * Closing.  When the peer did not ask to keep the connection, libfcgi would
 * shutdown() and wait for the peer to close; here the unread rest of the
 * request body is drained first (so close() cannot reset the connection
 * under a response still in flight) and the socket is closed at once.
 *
 * Large bodies.  libfcgi writes one 8 KiB record per write(2).  Writes of
 * 16 KiB and more flush libfcgi's buffer and go out as 64 KiB records with
 * writev(2), header and data without a copy.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcgiapp.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fcgi_guard.h"
#include "front.h"
#include "io.h"
#include "log.h"
#include "scoreboard.h"

/* From the FastCGI specification (libfcgi does not install fastcgi.h). */
#define REC_STDOUT 6
#define ROLE_RESPONDER 1
#define ROLE_AUTHORIZER 2
#define ROLE_FILTER 3

#define BIG_WRITE 16384
#define RECORD_MAX 65528   /* a multiple of 8: no padding needed */

struct fcgi_state {
    struct wf_server *srv;
    FCGX_Request fx;
    int keep;                 /* the peer asked to keep the connection */
    long long idle_since;     /* when the kept connection last went idle */
    long long pending_since;  /* when a waiting new connection was first seen */
};

/* An idle kept connection is given up for a new one once it has been idle
 * this long (an active client sends its next request well within it, so
 * closing under its feet is rare), or once the new connection has waited
 * this long in any case (so it never starves). */
#define YIELD_IDLE_MS 2
#define YIELD_PENDING_MS 50

static int fcgi_init(struct wf_server *srv, char *err, size_t errlen)
{
    int rc = FCGX_Init();

    if (rc != 0) {
        snprintf(err, errlen, "libfcgi initialisation failed (%d)", rc);
        return -1;
    }
    return wf_accept_init(srv, err, errlen);
}

static void *fcgi_thread_new(struct wf_server *srv)
{
    struct fcgi_state *st = calloc(1, sizeof *st);

    if (!st)
        return NULL;
    st->srv = srv;
    FCGX_InitRequest(&st->fx, -1, 0);
    return st;
}

static void fcgi_thread_free(void *state)
{
    struct fcgi_state *st = state;

    if (!st)
        return;
    if (st->fx.ipcFd >= 0) {
        close(st->fx.ipcFd);
        st->fx.ipcFd = -1;
    }
    FCGX_Free(&st->fx, 0);
    free(st);
}

/* ---- the request body and the response ---------------------------------- */

static ssize_t fcgi_read(struct wf_request *req, char *buf, size_t n)
{
    struct fcgi_state *st = req->conn;
    int want = n > INT_MAX ? INT_MAX : (int)n;
    int got = FCGX_GetStr(buf, want, st->fx.in);

    if (got < want && FCGX_GetError(st->fx.in) != 0) {
        if (got > 0)
            return got;
        errno = ECONNRESET;
        return -1;
    }
    return got;
}

static int out_error(struct fcgi_state *st)
{
    int e = FCGX_GetError(st->fx.out);
    errno = e > 0 ? e : EPIPE;
    return -1;
}

/* Writes data as STDOUT records of up to RECORD_MAX bytes, bypassing the
 * stream buffer (flushed first, so record order is kept). */
static int write_records(struct fcgi_state *st, const char *buf, size_t n)
{
    unsigned char hdr[8];
    int fd = st->fx.ipcFd;

    if (FCGX_FFlush(st->fx.out) < 0)
        return out_error(st);
    while (n > 0) {
        size_t clen = n < RECORD_MAX ? n : RECORD_MAX;
        struct iovec iov[2];
        size_t total = 8 + clen, done = 0;

        hdr[0] = 1;
        hdr[1] = REC_STDOUT;
        hdr[2] = (unsigned char)(st->fx.requestId >> 8);
        hdr[3] = (unsigned char)st->fx.requestId;
        hdr[4] = (unsigned char)(clen >> 8);
        hdr[5] = (unsigned char)clen;
        hdr[6] = 0;
        hdr[7] = 0;
        while (done < total) {
            ssize_t w;
            int cnt = 0;
            if (done < 8) {
                iov[cnt].iov_base = hdr + done;
                iov[cnt++].iov_len = 8 - done;
                iov[cnt].iov_base = (void *)buf;
                iov[cnt++].iov_len = clen;
            } else {
                iov[cnt].iov_base = (void *)(buf + (done - 8));
                iov[cnt++].iov_len = clen - (done - 8);
            }
            w = writev(fd, iov, cnt);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            done += (size_t)w;
        }
        buf += clen;
        n -= clen;
    }
    return 0;
}

static int fcgi_write(struct wf_request *req, const char *buf, size_t n)
{
    struct fcgi_state *st = req->conn;

    if (n >= BIG_WRITE)
        return write_records(st, buf, n);
    if (FCGX_PutStr(buf, (int)n, st->fx.out) < 0)
        return out_error(st);
    return 0;
}

static int fcgi_flush(struct wf_request *req)
{
    struct fcgi_state *st = req->conn;

    if (FCGX_FFlush(st->fx.out) < 0)
        return out_error(st);
    return 0;
}

static void fcgi_log(struct wf_request *req, const char *line, size_t len)
{
    struct fcgi_state *st = req->conn;

    if (st->fx.err && !req->client_gone)
        FCGX_PutStr(line, (int)len, st->fx.err);
}

static const struct wf_request_ops fcgi_ops = { fcgi_read, fcgi_write, fcgi_flush, fcgi_log };

/* ---- connections -------------------------------------------------------- */

static void close_conn(struct fcgi_state *st)
{
    if (st->fx.ipcFd >= 0) {
        close(st->fx.ipcFd);
        st->fx.ipcFd = -1;
    }
}

/* Waits on an idle kept connection.  Returns 1 when it has data, 0 when it
 * should be given up (a new connection waits and nobody else will take it
 * soon, or the server stops). */
static int wait_kept(struct fcgi_state *st)
{
    struct wf_server *srv = st->srv;
    int wait_ms = -1;          /* -1: also watch the listening socket */

    while (!srv->stopping) {
        struct pollfd p[3] = {
            { st->fx.ipcFd, POLLIN, 0 }, { srv->wake_fd, POLLIN, 0 }, { srv->listen_fd, POLLIN, 0 }
        };
        int rc = poll(p, wait_ms < 0 ? 3 : 2, wait_ms);
        long long now, idle, pending;

        if (rc < 0 && errno != EINTR)
            return 0;
        if (p[0].revents)
            return 1;
        if (wait_ms >= 0) {
            wait_ms = -1;      /* look at the listening socket again */
            continue;
        }
        if (!(p[2].revents & POLLIN)) {
            st->pending_since = 0;
            continue;
        }
        now = wf_now_ms();
        if (wf_accept_waiting()) {
            st->pending_since = 0;
            wait_ms = 10;      /* another thread is about to accept it */
            continue;
        }
        if (!st->pending_since)
            st->pending_since = now;
        idle = now - st->idle_since;
        pending = now - st->pending_since;
        if (idle >= YIELD_IDLE_MS || pending >= YIELD_PENDING_MS) {
            st->pending_since = 0;
            return 0;
        }
        wait_ms = (int)(YIELD_IDLE_MS - idle < YIELD_PENDING_MS - pending
                        ? YIELD_IDLE_MS - idle : YIELD_PENDING_MS - pending);
        if (wait_ms < 1)
            wait_ms = 1;
    }
    return 0;
}

/* Copies libfcgi's "NAME=VALUE" params into req (pointers stay valid until
 * FCGX_Finish_r).  The first entry is libfcgi's own FCGI_ROLE. */
static int collect_params(struct fcgi_state *st, struct wf_request *req)
{
    char **e = st->fx.envp;

    if (e && *e && strncmp(*e, "FCGI_ROLE=", 10) == 0)
        e++;
    for (; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        if (wf_req_add_param(req, *e, (size_t)(eq - *e), eq + 1, strlen(eq + 1)) < 0)
            return -1;
    }
    return 0;
}

static void drain_input(struct fcgi_state *st)
{
    char buf[8192];

    if (!st->fx.in)
        return;
    while (FCGX_GetStr(buf, sizeof buf, st->fx.in) > 0)
        ;
}

/* Ends the request: END_REQUEST, then keep or close the connection. */
static void end_request(struct fcgi_state *st, int abort)
{
    int keep = st->keep;

    if (abort) {
        /* No END_REQUEST: the web server must see an incomplete response. */
        if (st->fx.out)
            FCGX_FFlush(st->fx.out);
        if (st->fx.ipcFd >= 0)
            shutdown(st->fx.ipcFd, SHUT_RDWR);
        FCGX_Free(&st->fx, 1);
        st->fx.ipcFd = -1;
        return;
    }
    drain_input(st);
    if (st->fx.in && FCGX_GetError(st->fx.in) != 0)
        keep = 0;
    st->fx.keepConnection = 1;   /* libfcgi must not close: we decide */
    FCGX_Finish_r(&st->fx);
    if (!keep)
        close_conn(st);
    else
        st->idle_since = wf_now_ms();
}

static void refuse_role(struct fcgi_state *st)
{
    static const char body[] = "wsgi-fcgi serves the FastCGI Responder role only.\n";
    char msg[256];
    int len = snprintf(msg, sizeof msg,
                       "Status: 500 Internal Server Error\r\n"
                       "Content-Type: text/plain\r\n"
                       "Content-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
    const char *role = st->fx.role == ROLE_AUTHORIZER ? "AUTHORIZER"
                     : st->fx.role == ROLE_FILTER ? "FILTER" : "unknown";

    wf_log(WF_LOG_WARNING, "refused a FastCGI %s request: only the Responder role is served", role);
    FCGX_PutStr(msg, len, st->fx.out);
    end_request(st, 0);
}

static enum wf_accept_result fcgi_accept(void *state, struct wf_request *req)
{
    struct fcgi_state *st = state;
    struct wf_server *srv = st->srv;

    for (;;) {
        unsigned char peek[8192];
        ssize_t n;
        const char *why = NULL;
        int rc;

        if (srv->stopping) {
            close_conn(st);
            return WF_ACCEPT_STOP;
        }
        if (st->fx.ipcFd >= 0 && !wait_kept(st))
            close_conn(st);
        if (st->fx.ipcFd < 0) {
            int fd = wf_accept(srv);
            if (fd < 0)
                return WF_ACCEPT_STOP;
            st->fx.ipcFd = fd;
        }
        /* Wait for the first bytes and look at them before libfcgi does. */
        do
            n = recv(st->fx.ipcFd, peek, sizeof peek, MSG_PEEK);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            close_conn(st);       /* the peer closed: nothing to serve */
            continue;
        }
        if (wf_fcgi_guard(peek, (size_t)n, &why) < 0) {
            wf_log(WF_LOG_WARNING, "closed a FastCGI connection: %s", why);
            close_conn(st);
            continue;
        }
        st->fx.keepConnection = 1;   /* FCGX_Accept_r must not close our fd */
        rc = FCGX_Accept_r(&st->fx);
        if (rc < 0) {
            wf_log(WF_LOG_WARNING, "closed a FastCGI connection: malformed or truncated records");
            st->fx.ipcFd = -1;       /* libfcgi closed it */
            continue;
        }
        if (FCGX_GetError(st->fx.in) != 0) {
            /* libfcgi ends the params at end of file as if at the empty
             * PARAMS record: a request cut short must not reach the app. */
            wf_log(WF_LOG_WARNING, "closed a FastCGI connection: it ended before the params were complete");
            end_request(st, 1);
            continue;
        }
        st->keep = st->fx.keepConnection;
        if (st->fx.role != ROLE_RESPONDER) {
            refuse_role(st);
            continue;
        }
        req->conn = st;
        req->ops = &fcgi_ops;
        if (collect_params(st, req) < 0) {
            wf_log(WF_LOG_ERROR, "out of memory reading params");
            end_request(st, 1);
            wf_req_reset(req);
            continue;
        }
        {
            const struct wf_param *cl = wf_req_param(req, "CONTENT_LENGTH");
            req->content_length = cl ? wf_parse_content_length(cl->value, cl->value_len) : -1;
        }
        return WF_ACCEPT_OK;
    }
}

static void fcgi_finish(void *state, struct wf_request *req)
{
    struct fcgi_state *st = state;

    if (req->no_keep && !req->abort && !req->client_gone) {
        /* e.g. a 413: END_REQUEST, then close without reading the body. */
        st->fx.keepConnection = 1;
        FCGX_Finish_r(&st->fx);
        if (st->fx.ipcFd >= 0)
            wf_linger_close(st->fx.ipcFd, WF_LINGER_MS);
        st->fx.ipcFd = -1;
        return;
    }
    end_request(st, req->abort || req->client_gone);
}

const struct wf_front wf_front_fcgi = {
    "FastCGI", fcgi_init, fcgi_thread_new, fcgi_accept, fcgi_finish, fcgi_thread_free
};
