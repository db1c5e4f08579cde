/*
 * scgi.c - the SCGI front end: the netstring header, the body by
 * CONTENT_LENGTH, the response, then the connection is closed.
 *
 * One request per connection.  The dispatcher reads the header into the
 * connection's buffer (bounded by --max-header-size) and hands the
 * connection over once the whole netstring is there; its pairs are parsed
 * here, in the request thread.  Malformed input closes the connection with
 * one log line and never reaches the application.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front.h"
#include "io.h"
#include "log.h"
#include "scgi.h"

#define OUT_BUF 16384

/* ---- the parser ---------------------------------------------------------- */

long wf_scgi_parse_netstring(const char *buf, size_t len, size_t max_header,
                             const char **hdr, size_t *hdr_len, const char **why)
{
    size_t i = 0, n = 0;

    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
        if (i == 1 && buf[0] == '0') {
            *why = "netstring length has a leading zero";
            return -1;
        }
        n = n * 10 + (size_t)(buf[i] - '0');
        if (n > max_header) {
            *why = "header longer than --max-header-size";
            return -1;
        }
        i++;
    }
    if (i == len)
        return 0;               /* digits so far: need more */
    if (i == 0) {
        *why = "not an SCGI netstring (no length)";
        return -1;
    }
    if (buf[i] != ':') {
        *why = "netstring length not followed by ':'";
        return -1;
    }
    i++;
    if (len - i < n + 1)
        return 0;
    if (buf[i + n] != ',') {
        *why = "netstring not terminated by ','";
        return -1;
    }
    *hdr = buf + i;
    *hdr_len = n;
    return (long)(i + n + 1);
}

int wf_scgi_parse_header(const char *hdr, size_t len, struct wf_request *req, const char **why)
{
    size_t pos = 0;
    int have_scgi = 0, have_cl = 0;

    if (len == 0 || hdr[len - 1] != '\0') {
        *why = "header is not NUL-terminated";
        return -1;
    }
    while (pos < len) {
        const char *name = hdr + pos, *value, *end;
        size_t name_len, value_len;

        end = memchr(name, '\0', len - pos);
        name_len = (size_t)(end - name);
        pos += name_len + 1;
        if (pos >= len) {
            *why = "odd number of header strings (a name without a value)";
            return -1;
        }
        value = hdr + pos;
        end = memchr(value, '\0', len - pos);
        value_len = (size_t)(end - value);
        pos += value_len + 1;
        if (name_len == 0) {
            *why = "empty header name";
            return -1;
        }
        if (name_len == 14 && memcmp(name, "CONTENT_LENGTH", 14) == 0) {
            /* The specification puts it first; every web server's SCGI
             * client is read as if it could be anywhere: so are we. */
            if (have_cl) {
                *why = "CONTENT_LENGTH sent twice";
                return -1;
            }
            req->content_length = wf_parse_content_length(value, value_len);
            if (req->content_length < 0) {
                *why = "CONTENT_LENGTH is not a decimal number";
                return -1;
            }
            have_cl = 1;
        } else if (name_len == 4 && memcmp(name, "SCGI", 4) == 0) {
            if (value_len != 1 || value[0] != '1') {
                *why = "SCGI is not 1";
                return -1;
            }
            have_scgi = 1;
        }
        if (wf_req_add_param(req, name, name_len, value, value_len) < 0) {
            *why = "out of memory";
            return -1;
        }
    }
    if (!have_cl) {
        *why = "CONTENT_LENGTH missing";
        return -1;
    }
    if (!have_scgi) {
        *why = "SCGI=1 missing";
        return -1;
    }
    return 0;
}

/* ---- the connection ------------------------------------------------------ */

struct scgi_state {
    struct wf_server *srv;
    struct wf_conn *c;      /* the header and the first body bytes are in its buffer */
    size_t body_pos;        /* unread body bytes start here in c->buf */
    long long body_left;    /* body bytes not yet read (buffer + socket) */
    char out[OUT_BUF];
    size_t out_len;
};

static int scgi_init(struct wf_server *srv, char *err, size_t errlen)
{
    return 0;
}

static void *scgi_thread_new(struct wf_server *srv)
{
    struct scgi_state *st = calloc(1, sizeof *st);

    if (st)
        st->srv = srv;
    return st;
}

static void scgi_thread_free(void *state)
{
    free(state);
}

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

/* Reads up to n body bytes: the buffered ones first, then from the socket
 * until n or the end of the stream. */
static ssize_t scgi_read(struct wf_request *req, char *buf, size_t n)
{
    struct scgi_state *st = req->conn;
    struct wf_conn *c = st->c;
    size_t got = 0;

    if (st->body_pos < c->end) {
        size_t take = c->end - st->body_pos;
        if (take > n)
            take = n;
        memcpy(buf, c->buf + st->body_pos, take);
        st->body_pos += take;
        got = take;
    }
    while (got < n) {
        ssize_t r = wf_recv_some(c->fd, buf + got, n - got, c->io_timeout_ms);
        if (r < 0) {
            io_failed(c, "reading the request body");
            if (got > 0)
                break;
            req->timed_out |= c->timed_out;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    st->body_left -= (long long)got;
    req->timed_out |= c->timed_out;
    return (ssize_t)got;
}

static int scgi_flush(struct wf_request *req)
{
    struct scgi_state *st = req->conn;

    if (st->out_len == 0)
        return 0;
    if (wf_send_all(st->c->fd, st->out, st->out_len, st->c->io_timeout_ms) < 0) {
        io_failed(st->c, "writing the response");
        req->timed_out |= st->c->timed_out;
        return -1;
    }
    st->out_len = 0;
    return 0;
}

static int scgi_write(struct wf_request *req, const char *buf, size_t n)
{
    struct scgi_state *st = req->conn;

    if (st->out_len + n > OUT_BUF && scgi_flush(req) < 0)
        return -1;
    if (n >= OUT_BUF) {
        if (wf_send_all(st->c->fd, buf, n, st->c->io_timeout_ms) < 0) {
            io_failed(st->c, "writing the response");
            req->timed_out |= st->c->timed_out;
            return -1;
        }
        return 0;
    }
    memcpy(st->out + st->out_len, buf, n);
    st->out_len += n;
    return 0;
}

static const struct wf_request_ops scgi_ops = { scgi_read, scgi_write, scgi_flush, NULL };

static int scgi_start(void *state, struct wf_conn *c, struct wf_request *req)
{
    struct scgi_state *st = state;
    const char *hdr, *why = NULL;
    size_t hdr_len;

    /* The dispatcher found the whole netstring: parse it again for its
     * bounds, then its pairs. */
    if (wf_scgi_parse_netstring((const char *)c->buf + c->start, c->head_end - c->start,
                                c->head_end - c->start, &hdr, &hdr_len, &why) <= 0 ||
        wf_scgi_parse_header(hdr, hdr_len, req, &why) < 0) {
        wf_log(WF_LOG_WARNING, "closed an SCGI connection: %s", why ? why : "bad netstring");
        wf_req_reset(req);
        return -1;
    }
    st->c = c;
    st->body_pos = c->head_end;
    st->body_left = req->content_length;
    st->out_len = 0;
    req->conn = st;
    req->ops = &scgi_ops;
    return 0;
}

static int scgi_finish(void *state, struct wf_request *req)
{
    struct scgi_state *st = state;
    char sink[8192];

    if (!req->client_gone && scgi_flush(req) < 0)
        req->client_gone = 1;
    if (req->no_keep && !req->client_gone && !st->c->broken) {
        /* e.g. a 413: close without reading the body. */
        wf_linger(st->c->fd, WF_LINGER_MS);
    } else if (!req->client_gone && !req->abort && !st->c->broken && st->body_left > 0) {
        /* Read what the application left of the body, so closing cannot
         * reset the connection under the response. */
        shutdown(st->c->fd, SHUT_WR);
        while (st->body_left > 0) {
            size_t n = st->body_left < (long long)sizeof sink ? (size_t)st->body_left : sizeof sink;
            if (scgi_read(req, sink, n) <= 0)
                break;
        }
    }
    st->c = NULL;
    return 0;      /* one request per connection */
}

const struct wf_front wf_front_scgi = {
    "SCGI", scgi_init, scgi_thread_new, scgi_start, scgi_finish, scgi_thread_free
};
