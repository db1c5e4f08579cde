/*
 * scgi.c - the SCGI front end: accept, read and check the netstring header,
 * serve the body by CONTENT_LENGTH, write the response, close.
 *
 * One request per connection.  The header is read into a per-thread buffer
 * that grows up to --max-header-size and is reused, so hostile input costs
 * no memory beyond that bound.  Malformed input closes the connection with
 * one log line and never reaches the application.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front.h"
#include "io.h"
#include "log.h"
#include "scgi.h"

#define HEADER_TIMEOUT_MS 30000
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
    int index = 0, have_scgi = 0, have_cl = 0;

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
            if (have_cl) {
                *why = "CONTENT_LENGTH sent twice";
                return -1;
            }
            if (index != 0) {
                *why = "CONTENT_LENGTH is not the first header";
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
        index++;
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
    int fd;
    char *buf;              /* header, then the first body bytes */
    size_t cap, len;
    size_t body_pos;        /* unread body bytes start here in buf */
    long long body_left;    /* body bytes not yet read (buffer + socket) */
    char out[OUT_BUF];
    size_t out_len;
};

static int scgi_init(struct wf_server *srv, char *err, size_t errlen)
{
    return wf_accept_init(srv, err, errlen);
}

static void *scgi_thread_new(struct wf_server *srv)
{
    struct scgi_state *st = calloc(1, sizeof *st);

    if (st) {
        st->srv = srv;
        st->fd = -1;
    }
    return st;
}

static void scgi_thread_free(void *state)
{
    struct scgi_state *st = state;

    if (!st)
        return;
    if (st->fd >= 0)
        close(st->fd);
    free(st->buf);
    free(st);
}

static ssize_t scgi_read(struct wf_request *req, char *buf, size_t n)
{
    struct scgi_state *st = req->conn;
    size_t got = 0;

    if (st->body_pos < st->len) {
        size_t take = st->len - st->body_pos;
        if (take > n)
            take = n;
        memcpy(buf, st->buf + st->body_pos, take);
        st->body_pos += take;
        got = take;
    }
    if (got < n) {
        ssize_t r = wf_read_full(st->fd, buf + got, n - got);
        if (r < 0) {
            if (got > 0)
                return (ssize_t)got;
            return -1;
        }
        got += (size_t)r;
    }
    st->body_left -= (long long)got;
    return (ssize_t)got;
}

static int scgi_flush(struct wf_request *req)
{
    struct scgi_state *st = req->conn;

    if (st->out_len == 0)
        return 0;
    if (wf_write_all(st->fd, st->out, st->out_len) < 0)
        return -1;
    st->out_len = 0;
    return 0;
}

static int scgi_write(struct wf_request *req, const char *buf, size_t n)
{
    struct scgi_state *st = req->conn;

    if (st->out_len + n > OUT_BUF && scgi_flush(req) < 0)
        return -1;
    if (n >= OUT_BUF)
        return wf_write_all(st->fd, buf, n);
    memcpy(st->out + st->out_len, buf, n);
    st->out_len += n;
    return 0;
}

static const struct wf_request_ops scgi_ops = { scgi_read, scgi_write, scgi_flush, NULL };

static void close_conn(struct scgi_state *st)
{
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
}

/* Reads until a whole netstring is buffered.  Returns its size, or -1 after
 * logging why the connection is dropped (0 bytes and EOF: silently). */
static long read_header(struct scgi_state *st, const char **hdr, size_t *hdr_len)
{
    size_t max = st->srv->max_header;

    st->len = 0;
    for (;;) {
        const char *why = NULL;
        long rc = st->len ? wf_scgi_parse_netstring(st->buf, st->len, max, hdr, hdr_len, &why) : 0;
        struct pollfd p = { st->fd, POLLIN, 0 };
        ssize_t r;

        if (rc > 0)
            return rc;
        if (rc < 0) {
            wf_log(WF_LOG_WARNING, "closed an SCGI connection: %s", why);
            return -1;
        }
        if (st->len == st->cap) {
            /* Room for the longest header, its length digits, ':' and ','. */
            size_t limit = max + 16 + 4096, cap = st->cap ? st->cap * 2 : 8192;
            char *b;
            if (cap > limit)
                cap = limit;
            if (cap <= st->cap) {
                wf_log(WF_LOG_WARNING, "closed an SCGI connection: header longer than --max-header-size");
                return -1;
            }
            b = realloc(st->buf, cap);
            if (!b) {
                wf_log(WF_LOG_ERROR, "closed an SCGI connection: out of memory");
                return -1;
            }
            st->buf = b;
            st->cap = cap;
        }
        /* Read what is there; wait (bounded) only when nothing is. */
        r = recv(st->fd, st->buf + st->len, st->cap - st->len, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            r = poll(&p, 1, HEADER_TIMEOUT_MS);
            if (r == 0) {
                wf_log(WF_LOG_WARNING, "closed an SCGI connection: no complete header within %d s",
                       HEADER_TIMEOUT_MS / 1000);
                return -1;
            }
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (st->len > 0)
                wf_log(WF_LOG_WARNING, "closed an SCGI connection: it ended inside the header");
            return -1;
        }
        st->len += (size_t)r;
    }
}

static enum wf_accept_result scgi_accept(void *state, struct wf_request *req)
{
    struct scgi_state *st = state;

    for (;;) {
        const char *hdr, *why = NULL;
        size_t hdr_len;
        long used;

        close_conn(st);
        if (st->srv->stopping)
            return WF_ACCEPT_STOP;
        st->fd = wf_accept(st->srv);
        if (st->fd < 0)
            return WF_ACCEPT_STOP;
        used = read_header(st, &hdr, &hdr_len);
        if (used < 0)
            continue;
        if (wf_scgi_parse_header(hdr, hdr_len, req, &why) < 0) {
            wf_log(WF_LOG_WARNING, "closed an SCGI connection: %s", why);
            wf_req_reset(req);
            continue;
        }
        st->body_pos = (size_t)used;
        st->body_left = req->content_length;
        st->out_len = 0;
        req->conn = st;
        req->ops = &scgi_ops;
        return WF_ACCEPT_OK;
    }
}

static void scgi_finish(void *state, struct wf_request *req)
{
    struct scgi_state *st = state;
    char sink[8192];

    if (!req->client_gone && scgi_flush(req) < 0)
        req->client_gone = 1;
    if (req->no_keep && !req->client_gone && st->fd >= 0) {
        /* e.g. a 413: close without reading the body. */
        wf_linger_close(st->fd, WF_LINGER_MS);
        st->fd = -1;
        return;
    }
    if (!req->client_gone && !req->abort && st->body_left > 0) {
        /* Read what the application left of the body, so closing cannot
         * reset the connection under the response. */
        shutdown(st->fd, SHUT_WR);
        while (st->body_left > 0) {
            size_t n = st->body_left < (long long)sizeof sink ? (size_t)st->body_left : sizeof sink;
            if (scgi_read(req, sink, n) <= 0)
                break;
        }
    }
    close_conn(st);
}

const struct wf_front wf_front_scgi = {
    "SCGI", scgi_init, scgi_thread_new, scgi_accept, scgi_finish, scgi_thread_free
};
