/*
 * request.h - struct wf_request, the seam between the protocol front ends
 * (fcgi.c, cgi.c) and the WSGI layer (wsgi.c).
 *
 * A front end fills the params as pointer/length pairs (the bytes stay owned
 * by the front end and live until its finish step), sets content_length, and
 * provides the body reader and the response sink through ops.  The WSGI
 * layer reads the body and writes the response only through ops, always with
 * the GIL released.  No PyObject is ever stored here.
 */
#ifndef WF_REQUEST_H
#define WF_REQUEST_H

#include <stddef.h>
#include <sys/types.h>

struct wf_request;

struct wf_param {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct wf_request_ops {
    /* Reads up to n bytes of the raw request body stream, blocking until n
     * bytes or end of stream.  Returns the count (0 = end of stream) or -1
     * with errno set when the stream broke (peer gone, protocol error). */
    ssize_t (*read)(struct wf_request *req, char *buf, size_t n);
    /* Writes response bytes (status line, headers, body alike).  0, or -1
     * with errno set (EPIPE/ECONNRESET when the client went away). */
    int (*write)(struct wf_request *req, const char *buf, size_t n);
    /* Pushes buffered response bytes to the peer.  0 or -1. */
    int (*flush)(struct wf_request *req);
    /* Sends a log line to the web server's error log, or NULL when the
     * protocol has no such channel (FastCGI has FCGI_STDERR). */
    void (*log)(struct wf_request *req, const char *line, size_t len);
};

struct wf_request {
    struct wf_param *params;
    size_t nparams;
    size_t params_cap;

    /* CONTENT_LENGTH as sent, or -1 when absent: then the body is whatever
     * the stream holds (FastCGI) or empty (CGI). */
    long long content_length;

    const struct wf_request_ops *ops;
    void *conn;                 /* the front end's connection state */

    /* Set by the WSGI layer. */
    int status;                 /* response status code sent, 0 if none */
    unsigned long long body_bytes;
    unsigned client_gone : 1;   /* the peer went away (write failed, body cut) */
    /* Set by the front: a body read or response write made no progress
     * for --io-timeout (client_gone is set too once the WSGI layer sees
     * the failure). */
    unsigned timed_out : 1;
    unsigned abort : 1;         /* end the connection without completing */
    /* Complete the response, then close the connection instead of reading
     * the rest of the body or keeping it (e.g. after a 413): the front
     * lingers briefly (wf_linger) and closes. */
    unsigned no_keep : 1;

    /* --max-body, 0 = none: wsgi.input refuses to read past it when no
     * CONTENT_LENGTH was sent (set by wf_req_limit_body). */
    unsigned long long max_body;
};

/* Prepares an empty request (no allocation). */
void wf_req_init(struct wf_request *req);
/* Appends one param (pointers borrowed).  0 or -1 (out of memory). */
int wf_req_add_param(struct wf_request *req, const char *name, size_t name_len,
                     const char *value, size_t value_len);
/* The last value sent for name, or NULL. */
const struct wf_param *wf_req_param(const struct wf_request *req, const char *name);
/* Forgets the params and per-request state, keeping the param array for
 * reuse by the next request on this thread. */
void wf_req_reset(struct wf_request *req);
/* Frees what wf_req_init's request holds. */
void wf_req_release(struct wf_request *req);

/* Writes "METHOD URI" (REQUEST_URI, else PATH_INFO; each cut to a sane
 * length, control bytes shown as '?') into buf, for log lines. */
void wf_req_label(const struct wf_request *req, char *buf, size_t len);

/* Writes a complete canned error response through req->ops->write:
 * "Status: CODE REASON", a text/plain Content-Type, Content-Length and a
 * one-line body ("413 Request Entity Too Large").  The one error response
 * of every front and of the WSGI layer (500, 413, 503; another code gets
 * the reason "Error").  Never touches Python: call it without the GIL.
 * Sets req->status.  0, or -1 with req->client_gone set. */
int wf_req_send_error(struct wf_request *req, int code);

/* --max-body (max_body bytes, 0 = no limit), before the application runs:
 * records the limit on req for wsgi.input, and when the declared
 * CONTENT_LENGTH is larger answers 413 (wf_req_send_error), logs a warning,
 * sets req->no_keep and returns 1: the application must not be called.
 * Returns 0 otherwise. */
int wf_req_limit_body(struct wf_request *req, unsigned long long max_body);

/* Parses a CONTENT_LENGTH value: -1 when absent or not a valid decimal. */
long long wf_parse_content_length(const char *s, size_t len);

#endif
