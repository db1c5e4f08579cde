/*
 * request.c - the request structure shared by every front end.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "request.h"

void wf_req_init(struct wf_request *req)
{
    memset(req, 0, sizeof *req);
    req->content_length = -1;
}

int wf_req_add_param(struct wf_request *req, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    struct wf_param *p;

    if (req->nparams == req->params_cap) {
        size_t cap = req->params_cap ? req->params_cap * 2 : 64;
        p = realloc(req->params, cap * sizeof *p);
        if (!p)
            return -1;
        req->params = p;
        req->params_cap = cap;
    }
    p = &req->params[req->nparams++];
    p->name = name;
    p->name_len = name_len;
    p->value = value;
    p->value_len = value_len;
    return 0;
}

const struct wf_param *wf_req_param(const struct wf_request *req, const char *name)
{
    size_t len = strlen(name);
    size_t i = req->nparams;

    while (i-- > 0) {
        const struct wf_param *p = &req->params[i];
        if (p->name_len == len && memcmp(p->name, name, len) == 0)
            return p;
    }
    return NULL;
}

void wf_req_reset(struct wf_request *req)
{
    struct wf_param *params = req->params;
    size_t cap = req->params_cap;

    memset(req, 0, sizeof *req);
    req->params = params;
    req->params_cap = cap;
    req->content_length = -1;
}

void wf_req_release(struct wf_request *req)
{
    free(req->params);
    wf_req_init(req);
}

void wf_req_label(const struct wf_request *req, char *buf, size_t len)
{
    const struct wf_param *m = wf_req_param(req, "REQUEST_METHOD");
    const struct wf_param *u = wf_req_param(req, "REQUEST_URI");
    const struct wf_param *p = u ? u : wf_req_param(req, "PATH_INFO");
    int ml = m ? (int)(m->value_len > 16 ? 16 : m->value_len) : 1;
    int pl = p ? (int)(p->value_len > 200 ? 200 : p->value_len) : 1;
    size_t i;

    snprintf(buf, len, "%.*s %.*s", ml, m ? m->value : "-", pl, p ? p->value : "-");
    for (i = 0; buf[i]; i++)      /* keep the log one line per event */
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = '?';
}

long long wf_parse_content_length(const char *s, size_t len)
{
    long long v = 0;
    size_t i;

    if (!s || len == 0 || len > 18)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static const char *reason_of(int code)
{
    switch (code) {
    case 413: return "Request Entity Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

int wf_req_send_error(struct wf_request *req, int code)
{
    char buf[256], body[96];
    const char *reason = reason_of(code);
    int blen = snprintf(body, sizeof body, "%d %s\n", code, reason);
    int n = snprintf(buf, sizeof buf,
                     "Status: %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %d\r\n\r\n%s", code, reason, blen, body);

    req->status = code;
    req->body_bytes = (unsigned long long)blen;
    if (req->ops->write(req, buf, (size_t)n) < 0) {
        req->client_gone = 1;
        return -1;
    }
    return 0;
}

int wf_req_limit_body(struct wf_request *req, unsigned long long max_body)
{
    char label[256];

    req->max_body = max_body;
    if (!max_body || req->content_length < 0 || (unsigned long long)req->content_length <= max_body)
        return 0;
    wf_req_label(req, label, sizeof label);
    wf_log(WF_LOG_WARNING, "request %s: CONTENT_LENGTH %lld is larger than --max-body %llu; "
           "answered 413 without calling the application", label, req->content_length, max_body);
    wf_req_send_error(req, 413);
    req->no_keep = 1;
    return 1;
}
