/*
 * cgi.c - the one-shot CGI front end (RFC 3875): the process environment
 * and stdin in, "Status:" + headers + body on stdout.
 *
 * The response goes to a private duplicate of fd 1, and fd 1 itself is
 * pointed at stderr, so that print() in the application lands in the log
 * instead of corrupting the response.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"
#include "io.h"
#include "log.h"

extern char **environ;

#define OUT_BUF 65536

struct cgi_state {
    char **env;          /* private copy of the environment */
    size_t nenv;
    char *out;
    size_t out_len;
};

static int out_fd = -1;

int wf_front_cgi_out_fd(void)
{
    return out_fd;
}

static int cgi_init(struct wf_server *srv, char *err, size_t errlen)
{
    out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (out_fd < 0) {
        snprintf(err, errlen, "CGI: cannot use stdout: %s", strerror(errno));
        return -1;
    }
    if (dup2(2, 1) < 0) {
        snprintf(err, errlen, "CGI: dup2: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void *cgi_thread_new(struct wf_server *srv)
{
    return calloc(1, sizeof(struct cgi_state));
}

static void cgi_thread_free(void *state)
{
    struct cgi_state *st = state;
    size_t i;

    if (!st)
        return;
    for (i = 0; i < st->nenv; i++)
        free(st->env[i]);
    free(st->env);
    free(st->out);
    free(st);
}

static ssize_t cgi_read(struct wf_request *req, char *buf, size_t n)
{
    return wf_read_full(0, buf, n);
}

static int cgi_flush(struct wf_request *req)
{
    struct cgi_state *st = req->conn;

    if (st->out_len == 0)
        return 0;
    if (wf_write_all(out_fd, st->out, st->out_len) < 0)
        return -1;
    st->out_len = 0;
    return 0;
}

static int cgi_write(struct wf_request *req, const char *buf, size_t n)
{
    struct cgi_state *st = req->conn;

    if (!st->out && !(st->out = malloc(OUT_BUF)))
        return wf_write_all(out_fd, buf, n);
    if (st->out_len + n > OUT_BUF && cgi_flush(req) < 0)
        return -1;
    if (n >= OUT_BUF)
        return wf_write_all(out_fd, buf, n);
    memcpy(st->out + st->out_len, buf, n);
    st->out_len += n;
    return 0;
}

static const struct wf_request_ops cgi_ops = { cgi_read, cgi_write, cgi_flush, NULL };

static int cgi_start(void *state, struct wf_conn *c, struct wf_request *req)
{
    struct cgi_state *st = state;
    size_t n = 0, i;
    const struct wf_param *cl;

    while (environ[n])
        n++;
    st->env = calloc(n ? n : 1, sizeof *st->env);
    if (!st->env)
        goto oom;
    for (i = 0; i < n; i++) {
        const char *eq;
        if (!(st->env[st->nenv] = strdup(environ[i])))
            goto oom;
        eq = strchr(st->env[st->nenv], '=');
        if (eq && wf_req_add_param(req, st->env[st->nenv], (size_t)(eq - st->env[st->nenv]),
                                   eq + 1, strlen(eq + 1)) < 0)
            goto oom;
        st->nenv++;
    }
    req->conn = st;
    req->ops = &cgi_ops;
    cl = wf_req_param(req, "CONTENT_LENGTH");
    req->content_length = cl ? wf_parse_content_length(cl->value, cl->value_len) : -1;
    if (req->content_length < 0)
        req->content_length = 0;   /* RFC 3875: no CONTENT_LENGTH, no body */
    return 0;
oom:
    wf_log(WF_LOG_ERROR, "CGI: out of memory reading the environment");
    return -1;
}

static int cgi_finish(void *state, struct wf_request *req)
{
    if (cgi_flush(req) < 0 && !req->client_gone)
        wf_log(WF_LOG_INFO, "CGI: the web server closed stdout before the response was written");
    return 0;
}

const struct wf_front wf_front_cgi = {
    "CGI", cgi_init, cgi_thread_new, cgi_start, cgi_finish, cgi_thread_free
};
