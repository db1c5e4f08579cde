/*
 * request.c - the request structure shared by every front end.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
