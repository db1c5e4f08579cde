/*
 * fcgi.c - the FastCGI front end, on libfcgi.  The only file that includes
 * fcgiapp.h.
 *
 * DESIGN
 * libfcgi parses and writes the records; the project owns the connection and
 * every byte on it.  A thread gets a connection from the dispatcher
 * (dispatch.c) once the whole request head is in the connection's buffer,
 * checked by the record walker (fcgi_walk.c).  libfcgi does its I/O through
 * OS_Read, OS_Write and OS_IpcClose (declared in its public fcgios.h), and
 * this file defines them: the dynamic linker binds libfcgi's own calls to
 * these definitions, which are used for the connection the calling thread
 * serves and fall back to plain read/write/close for anything else.  A
 * self-test at start-up proves the binding (a libfcgi linked with
 * -Bsymbolic-functions would bypass it) and refuses to serve without it.
 *
 *   - OS_Read hands libfcgi the buffered head, then reads the body through
 *     the walker, which refuses hostile records (management records inside
 *     a request, other request ids...) and stops at the request's end.  So
 *     libfcgi never parses a byte the walker did not accept, and never a
 *     byte of the next request: a peer that sends its next request before
 *     the response ended (libfcgi would lose those bytes with the read
 *     buffer it frees in FCGX_Finish_r) is simply served in turn.  A body
 *     that makes no progress for --io-timeout fails the read (ETIMEDOUT).
 *   - OS_Write writes all or fails, waiting at most --io-timeout for
 *     progress.
 *   - OS_IpcClose leaves our connections to us: the dispatcher closes or
 *     keeps them, and libfcgi's close (a shutdown and a wait of up to 2 s
 *     for the peer) never runs.
 *
 * Kept connections (FCGI_KEEP_CONN) go back to the dispatcher after the
 * response, once the rest of the request body (if the application did not
 * read it) has been read and dropped.
 *
 * Large bodies.  libfcgi writes one 8 KiB record per write(2).  Writes of
 * 16 KiB and more flush libfcgi's buffer and go out as 64 KiB records with
 * writev(2), header and data without a copy.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcgios.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fcgi_walk.h"
#include "front.h"
#include "io.h"
#include "log.h"

#define BIG_WRITE 16384
#define RECORD_MAX 65528   /* a multiple of 8: no padding needed */
#define BODY_BUF 65536     /* read the body in chunks this large */

struct fcgi_state {
    struct wf_server *srv;
    FCGX_Request fx;
    struct wf_conn *c;
};

/* The connection libfcgi is working on in this thread, or NULL. */
static __thread struct wf_conn *io_conn;

/* ---- libfcgi's I/O ----------------------------------------------------- */

static void io_failed(struct wf_conn *c, const char *what)
{
    c->broken = 1;
    if (errno == ETIMEDOUT) {
        c->timed_out = 1;
        wf_log(WF_LOG_WARNING, "no progress %s for %d s (--io-timeout); the request ends", what,
               c->io_timeout_ms / 1000);
        errno = ETIMEDOUT;
    }
}

/* Gives libfcgi the next bytes of the request: the buffered head, then the
 * body as the walker accepts it, never past the request's end. */
static int conn_read(struct wf_conn *c, char *buf, size_t len)
{
    if (len > INT_MAX)
        len = INT_MAX;
    for (;;) {
        size_t avail = c->walked - c->start;
        ssize_t r;

        if (avail > 0) {
            if (avail > len)
                avail = len;
            memcpy(buf, c->buf + c->start, avail);
            c->start += avail;
            return (int)avail;
        }
        if (c->walk.phase == WF_FW_PH_ENDED)
            return 0;
        if (c->walked < c->end) {
            size_t used;
            enum wf_fw_event ev = wf_fcgi_walk(&c->walk, c->buf + c->walked, c->end - c->walked, &used);
            c->walked += used;
            if (ev == WF_FW_ERROR) {
                wf_log(WF_LOG_WARNING, "closed a FastCGI connection: %s", c->walk.why);
                c->broken = 1;
                errno = EPROTO;
                return -1;
            }
            if (ev == WF_FW_ABORT) {
                wf_log(WF_LOG_INFO, "the web server aborted the request (FCGI_ABORT_REQUEST)");
                c->broken = 1;
                errno = ECONNRESET;
                return -1;
            }
            continue;
        }
        r = wf_conn_fill(c, BODY_BUF);
        if (r == 0) {
            c->broken = 1;
            errno = ECONNRESET;    /* the peer closed inside the request */
            return -1;
        }
        if (r < 0) {
            io_failed(c, "reading the request body");
            return -1;
        }
    }
}

int OS_Read(int fd, char *buf, size_t len)
{
    struct wf_conn *c = io_conn;
    ssize_t r;

    if (c && c->fd == fd)
        return conn_read(c, buf, len);
    do
        r = read(fd, buf, len);
    while (r < 0 && errno == EINTR);
    return (int)r;
}

int OS_Write(int fd, char *buf, size_t len)
{
    struct wf_conn *c = io_conn;

    if (c && c->fd == fd) {
        if (wf_send_all(fd, buf, len, c->io_timeout_ms) < 0) {
            io_failed(c, "writing the response");
            return -1;
        }
        return (int)len;
    }
    return wf_write_all(fd, buf, len) < 0 ? -1 : (int)len;
}

int OS_IpcClose(int ipcFd, int shutdown)
{
    struct wf_conn *c = io_conn;

    if (c && c->fd == ipcFd) {
        c->broken = 1;       /* the dispatcher closes it */
        return 0;
    }
    return ipcFd >= 0 ? close(ipcFd) : 0;
}

/* Proves that libfcgi's reads go through OS_Read above: a request sits in a
 * probe connection's buffer while its socket holds nothing but end of file,
 * so FCGX_Accept_r succeeds only if it read the buffer. */
static int check_interposition(char *err, size_t errlen)
{
    static const unsigned char req[] = {
        1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,    /* BEGIN_REQUEST, responder */
        1, 4, 0, 1, 0, 8, 0, 0, 3, 3, 'O', 'N', 'E', 'o', 'n', 'e',   /* PARAMS ONE=one */
        1, 4, 0, 1, 0, 0, 0, 0,                              /* end of PARAMS */
    };
    unsigned char buf[sizeof req];
    struct wf_conn probe;
    FCGX_Request fx;
    int sv[2], rc;
    size_t used;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    close(sv[1]);
    memcpy(buf, req, sizeof req);
    memset(&probe, 0, sizeof probe);
    probe.fd = sv[0];
    probe.buf = buf;
    probe.cap = probe.end = sizeof req;
    probe.io_timeout_ms = 1000;
    wf_fcgi_walk_init(&probe.walk, 1024);
    if (wf_fcgi_walk(&probe.walk, buf, sizeof req, &used) != WF_FW_HEAD) {
        close(sv[0]);
        snprintf(err, errlen, "the FastCGI self-test request is malformed");
        return -1;
    }
    probe.walked = used;
    FCGX_InitRequest(&fx, -1, 0);
    fx.ipcFd = sv[0];
    fx.keepConnection = 1;
    io_conn = &probe;
    rc = FCGX_Accept_r(&fx);
    if (rc == 0 && !(fx.envp && fx.envp[0] && fx.envp[1] && strcmp(fx.envp[1], "ONE=one") == 0))
        rc = -1;
    FCGX_Free(&fx, 0);
    io_conn = NULL;
    close(sv[0]);
    if (rc != 0) {
        snprintf(err, errlen, "this libfcgi does not do its I/O through OS_Read/OS_Write as "
                 "wsgi-fcgi requires (was it linked with -Bsymbolic-functions?)");
        return -1;
    }
    return 0;
}

/* ---- the request body and the response ----------------------------------- */

static ssize_t fcgi_read(struct wf_request *req, char *buf, size_t n)
{
    struct fcgi_state *st = req->conn;
    int want = n > INT_MAX ? INT_MAX : (int)n;
    int got = FCGX_GetStr(buf, want, st->fx.in);
    int e;

    req->timed_out |= st->c->timed_out;
    if (got < want && (e = FCGX_GetError(st->fx.in)) != 0) {
        if (got > 0)
            return got;
        errno = e > 0 ? e : ECONNRESET;
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

    if (FCGX_FFlush(st->fx.out) < 0)
        return out_error(st);
    while (n > 0) {
        size_t clen = n < RECORD_MAX ? n : RECORD_MAX;
        struct iovec iov[2];

        hdr[0] = 1;
        hdr[1] = WF_FCGI_STDOUT;
        hdr[2] = (unsigned char)(st->fx.requestId >> 8);
        hdr[3] = (unsigned char)st->fx.requestId;
        hdr[4] = (unsigned char)(clen >> 8);
        hdr[5] = (unsigned char)clen;
        hdr[6] = 0;
        hdr[7] = 0;
        iov[0].iov_base = hdr;
        iov[0].iov_len = sizeof hdr;
        iov[1].iov_base = (void *)buf;
        iov[1].iov_len = clen;
        if (wf_sendv_all(st->c->fd, iov, 2, st->c->io_timeout_ms) < 0) {
            io_failed(st->c, "writing the response");
            return -1;
        }
        buf += clen;
        n -= clen;
    }
    return 0;
}

static int fcgi_write(struct wf_request *req, const char *buf, size_t n)
{
    struct fcgi_state *st = req->conn;
    int rc = 0;

    if (n >= BIG_WRITE)
        rc = write_records(st, buf, n);
    else if (FCGX_PutStr(buf, (int)n, st->fx.out) < 0)
        rc = out_error(st);
    req->timed_out |= st->c->timed_out;
    return rc;
}

static int fcgi_flush(struct wf_request *req)
{
    struct fcgi_state *st = req->conn;
    int rc = FCGX_FFlush(st->fx.out) < 0 ? out_error(st) : 0;

    req->timed_out |= st->c->timed_out;
    return rc;
}

static void fcgi_log(struct wf_request *req, const char *line, size_t len)
{
    struct fcgi_state *st = req->conn;

    if (st->fx.err && !req->client_gone)
        FCGX_PutStr(line, (int)len, st->fx.err);
}

static const struct wf_request_ops fcgi_ops = { fcgi_read, fcgi_write, fcgi_flush, fcgi_log };

/* ---- requests -------------------------------------------------------------- */

static int fcgi_init(struct wf_server *srv, char *err, size_t errlen)
{
    int rc = FCGX_Init();

    if (rc != 0) {
        snprintf(err, errlen, "libfcgi initialisation failed (%d)", rc);
        return -1;
    }
    return check_interposition(err, errlen);
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
    FCGX_Free(&st->fx, 0);
    free(st);
}

/* Copies libfcgi's "NAME=VALUE" params into req (pointers stay valid until
 * FCGX_Finish_r).  The first entry is libfcgi's own FCGI_ROLE; then one
 * entry per pair, in order.  A value holding a NUL ends there as a C
 * string, but libfcgi copied all of it (its entry is name + value + 2 bytes
 * long): the walker noted its length, so it is taken whole. */
static int collect_params(struct fcgi_state *st, struct wf_request *req)
{
    const struct wf_fcgi_walk *wk = &st->c->walk;
    char **e = st->fx.envp;
    unsigned pair = 0, k = 0;

    if (e && *e && strncmp(*e, "FCGI_ROLE=", 10) == 0)
        e++;
    for (; e && *e; e++, pair++) {
        const char *eq = strchr(*e, '=');
        size_t name_len, value_len;
        if (!eq)
            continue;
        name_len = (size_t)(eq - *e);
        value_len = strlen(eq + 1);
        while (k < wk->n_nul_values && wk->nul_values[k].pair < pair)
            k++;
        if (k < wk->n_nul_values && wk->nul_values[k].pair == pair &&
            wk->nul_values[k].name_len == name_len && wk->nul_values[k].value_len > value_len)
            value_len = wk->nul_values[k].value_len;
        if (wf_req_add_param(req, *e, name_len, eq + 1, value_len) < 0)
            return -1;
    }
    if (wk->nul_values_lost)
        wf_log(WF_LOG_WARNING, "%u more FastCGI param values hold a NUL byte: they end at it "
               "(only the first %d are kept whole)", wk->nul_values_lost, WF_FW_NUL_VALUES);
    return 0;
}

/* Lets go of libfcgi's request and of the connection in this thread. */
static void release(struct fcgi_state *st)
{
    st->fx.ipcFd = -1;
    io_conn = NULL;
    st->c = NULL;
}

static int fcgi_start(void *state, struct wf_conn *c, struct wf_request *req)
{
    struct fcgi_state *st = state;
    const struct wf_param *cl;

    st->c = c;
    io_conn = c;
    st->fx.ipcFd = c->fd;
    st->fx.keepConnection = 1;       /* FCGX_Accept_r must not close it first */
    if (FCGX_Accept_r(&st->fx) < 0) {
        /* The walker accepted this head, so libfcgi should have too. */
        wf_log(WF_LOG_ERROR, "closed a FastCGI connection: libfcgi refused a request head");
        c->broken = 1;
        FCGX_Free(&st->fx, 0);
        release(st);
        return -1;
    }
    req->conn = st;
    req->ops = &fcgi_ops;
    if (collect_params(st, req) < 0) {
        wf_log(WF_LOG_ERROR, "out of memory reading params");
        c->broken = 1;
        FCGX_Free(&st->fx, 0);
        release(st);
        return -1;
    }
    cl = wf_req_param(req, "CONTENT_LENGTH");
    req->content_length = cl ? wf_parse_content_length(cl->value, cl->value_len) : -1;
    return 0;
}

static int fcgi_finish(void *state, struct wf_request *req)
{
    struct fcgi_state *st = state;
    struct wf_conn *c = st->c;
    int keep = 0;

    /* The rest of the body, unread by the application: read and drop it,
     * so the connection can carry the next request.  A body that breaks
     * here (a hostile record, the peer gone, --io-timeout) ends the request
     * as one that broke while the application read it. */
    if (!req->abort && !req->client_gone && !req->no_keep && !c->broken) {
        char sink[8192];
        while (FCGX_GetStr(sink, sizeof sink, st->fx.in) > 0)
            ;
    }
    if (req->abort || req->client_gone || c->broken) {
        /* No END_REQUEST: the web server must see an incomplete response. */
        if (!req->client_gone && !c->broken && st->fx.out)
            FCGX_FFlush(st->fx.out);
        c->broken = 1;
        FCGX_Free(&st->fx, 0);
    } else {
        int failed = FCGX_FClose(st->fx.err) != 0;
        failed |= FCGX_FClose(st->fx.out) != 0;     /* END_REQUEST goes out here */
        failed |= FCGX_GetError(st->fx.in) != 0;
        st->fx.keepConnection = 1;   /* the dispatcher keeps or closes it */
        FCGX_Finish_r(&st->fx);
        keep = !failed && !req->no_keep && !c->broken && c->walk.keep_conn &&
               c->walk.phase == WF_FW_PH_ENDED;
        if (keep)
            wf_fcgi_walk_next(&c->walk);
        else if (req->no_keep && !failed)
            wf_linger(c->fd, WF_LINGER_MS);   /* e.g. a 413: the body is not read */
    }
    release(st);
    return keep;
}

const struct wf_front wf_front_fcgi = {
    "FastCGI", fcgi_init, fcgi_thread_new, fcgi_start, fcgi_finish, fcgi_thread_free
};
