/*
 * environ.h - params to the WSGI environ dict (PEP 3333).  GIL held.
 *
 * Every param becomes a str decoded as latin-1 (so any byte round-trips);
 * when a name is sent twice the last value wins.  Missing SCRIPT_NAME,
 * PATH_INFO and QUERY_STRING become ''; SERVER_NAME, SERVER_PORT,
 * SERVER_PROTOCOL and REQUEST_METHOD are always present (derived from
 * HTTP_HOST and the scheme, or HTTP/1.0 and GET, when not sent).
 */
#ifndef WF_ENVIRON_H
#define WF_ENVIRON_H

#include <Python.h>

#include "config.h"
#include "request.h"

struct wf_environ_opts {
    const char *url_scheme;     /* forced scheme or NULL */
    const char *script_name;    /* --script-name PREFIX or NULL */
    int multithread, multiprocess, run_once;
};

/* Prepares the cached keys and constant values.  0, or -1 with an
 * exception set. */
int wf_environ_init(const struct wf_environ_opts *opts);
void wf_environ_fini(void);

/* Returns a new dict for req, with wsgi.input and wsgi.errors set to the
 * given objects (borrowed; the dict takes its own references), or NULL with
 * an exception set.  Borrows req and never keeps it. */
PyObject *wf_environ_build(const struct wf_request *req, PyObject *input, PyObject *errors);

/* Applies the --script-name rule to the request path.  Given the prefix and
 * the SCRIPT_NAME and PATH_INFO as sent (either may be NULL), writes the
 * split into out_sn, out_sn_len, out_pi and out_pi_len, pointing into buf (of size
 * sn_len + pi_len of the inputs, at least).  Pure C, unit-tested. */
void wf_environ_split_path(const char *prefix, const char *sn, size_t sn_len,
                           const char *pi, size_t pi_len, char *buf,
                           const char **out_sn, size_t *out_sn_len,
                           const char **out_pi, size_t *out_pi_len);

/* wsgi.url_scheme per the spec: "https" when HTTPS is on/1 (any case) or
 * REQUEST_SCHEME is https, else "http".  Pure C. */
const char *wf_environ_scheme(const struct wf_request *req);

#endif
