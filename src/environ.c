/*
 * environ.c - building the environ dict on every request, so it is kept
 * lean: the names of the usual CGI variables are interned once at start-up
 * and reused; values are decoded straight from the front end's bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "environ.h"
#include "filewrapper.h"

static const char *const common_names[] = {
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    "SERVER_ADDR", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_HOST", "REMOTE_USER", "AUTH_TYPE",
    "REQUEST_URI", "DOCUMENT_URI", "DOCUMENT_ROOT", "SCRIPT_FILENAME", "GATEWAY_INTERFACE",
    "REQUEST_SCHEME", "HTTPS", "PATH_TRANSLATED", "REDIRECT_STATUS",
    "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE",
    "HTTP_ACCEPT_ENCODING", "HTTP_CONNECTION", "HTTP_COOKIE", "HTTP_REFERER",
    "HTTP_CACHE_CONTROL", "HTTP_AUTHORIZATION", "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP", "HTTP_ORIGIN", "HTTP_PRAGMA",
    "HTTP_UPGRADE_INSECURE_REQUESTS", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_NONE_MATCH",
    "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH",
};
#define NCOMMON (sizeof common_names / sizeof common_names[0])

static struct { const char *name; size_t len; PyObject *key; } keys[NCOMMON];

static PyObject *k_script_name, *k_path_info, *k_query_string, *k_server_name, *k_server_port,
    *k_server_protocol, *k_request_method;
static PyObject *k_wsgi_version, *k_wsgi_url_scheme, *k_wsgi_input, *k_wsgi_errors,
    *k_wsgi_multithread, *k_wsgi_multiprocess, *k_wsgi_run_once, *k_wsgi_input_terminated,
    *k_wsgi_file_wrapper;
static PyObject *v_version, *v_http, *v_https, *v_empty;
static struct wf_environ_opts opts;

static PyObject *intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

int wf_environ_init(const struct wf_environ_opts *o)
{
    size_t i;

    opts = *o;
    for (i = 0; i < NCOMMON; i++) {
        keys[i].name = common_names[i];
        keys[i].len = strlen(common_names[i]);
        if (!(keys[i].key = intern(common_names[i])))
            return -1;
    }
    if (!(k_script_name = intern("SCRIPT_NAME")) || !(k_path_info = intern("PATH_INFO")) ||
        !(k_query_string = intern("QUERY_STRING")) || !(k_server_name = intern("SERVER_NAME")) ||
        !(k_server_port = intern("SERVER_PORT")) ||
        !(k_server_protocol = intern("SERVER_PROTOCOL")) ||
        !(k_request_method = intern("REQUEST_METHOD")) ||
        !(k_wsgi_version = intern("wsgi.version")) ||
        !(k_wsgi_url_scheme = intern("wsgi.url_scheme")) ||
        !(k_wsgi_input = intern("wsgi.input")) || !(k_wsgi_errors = intern("wsgi.errors")) ||
        !(k_wsgi_multithread = intern("wsgi.multithread")) ||
        !(k_wsgi_multiprocess = intern("wsgi.multiprocess")) ||
        !(k_wsgi_run_once = intern("wsgi.run_once")) ||
        !(k_wsgi_input_terminated = intern("wsgi.input_terminated")) ||
        !(k_wsgi_file_wrapper = intern("wsgi.file_wrapper")))
        return -1;
    if (!(v_version = Py_BuildValue("(ii)", 1, 0)) || !(v_http = intern("http")) ||
        !(v_https = intern("https")) || !(v_empty = PyUnicode_FromStringAndSize("", 0)))
        return -1;
    return 0;
}

void wf_environ_fini(void)
{
    size_t i;

    for (i = 0; i < NCOMMON; i++)
        Py_CLEAR(keys[i].key);
    Py_CLEAR(k_script_name); Py_CLEAR(k_path_info); Py_CLEAR(k_query_string);
    Py_CLEAR(k_server_name); Py_CLEAR(k_server_port); Py_CLEAR(k_server_protocol);
    Py_CLEAR(k_request_method); Py_CLEAR(k_wsgi_version); Py_CLEAR(k_wsgi_url_scheme);
    Py_CLEAR(k_wsgi_input); Py_CLEAR(k_wsgi_errors); Py_CLEAR(k_wsgi_multithread);
    Py_CLEAR(k_wsgi_multiprocess); Py_CLEAR(k_wsgi_run_once); Py_CLEAR(k_wsgi_input_terminated);
    Py_CLEAR(k_wsgi_file_wrapper); Py_CLEAR(v_version); Py_CLEAR(v_http); Py_CLEAR(v_https);
    Py_CLEAR(v_empty);
}

/* New reference to the key for a param name. */
static PyObject *key_for(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NCOMMON; i++) {
        if (keys[i].len == len && memcmp(keys[i].name, name, len) == 0)
            return Py_NewRef(keys[i].key);
    }
    return PyUnicode_DecodeLatin1(name, (Py_ssize_t)len, NULL);
}

static int set_latin1(PyObject *env, PyObject *key, const char *s, size_t len)
{
    PyObject *v = PyUnicode_DecodeLatin1(s, (Py_ssize_t)len, NULL);
    int rc;

    if (!v)
        return -1;
    rc = PyDict_SetItem(env, key, v);
    Py_DECREF(v);
    return rc;
}

static int is_on(const struct wf_param *p)
{
    return p && ((p->value_len == 2 && strncasecmp(p->value, "on", 2) == 0) ||
                 (p->value_len == 1 && p->value[0] == '1'));
}

const char *wf_environ_scheme(const struct wf_request *req)
{
    const struct wf_param *p;

    if (is_on(wf_req_param(req, "HTTPS")))
        return "https";
    p = wf_req_param(req, "REQUEST_SCHEME");
    if (p && p->value_len == 5 && strncasecmp(p->value, "https", 5) == 0)
        return "https";
    return "http";
}

void wf_environ_split_path(const char *prefix, const char *sn, size_t sn_len,
                           const char *pi, size_t pi_len, char *buf,
                           const char **out_sn, size_t *out_sn_len,
                           const char **out_pi, size_t *out_pi_len)
{
    size_t plen = strlen(prefix), full_len = sn_len + pi_len;

    /* A trailing slash on the prefix does not count: "/app/" mounts "/app". */
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    if (sn_len)
        memcpy(buf, sn, sn_len);
    if (pi_len)
        memcpy(buf + sn_len, pi, pi_len);
    if (plen <= full_len && memcmp(buf, prefix, plen) == 0 &&
        (plen == full_len || buf[plen] == '/')) {
        *out_sn = buf;
        *out_sn_len = plen;
        *out_pi = buf + plen;
        *out_pi_len = full_len - plen;
    } else {
        /* Not under the mount point: the whole path is PATH_INFO. */
        *out_sn = buf;
        *out_sn_len = 0;
        *out_pi = buf;
        *out_pi_len = full_len;
    }
}

static int apply_script_name(PyObject *env, const struct wf_request *req)
{
    const struct wf_param *sn = wf_req_param(req, "SCRIPT_NAME");
    const struct wf_param *pi = wf_req_param(req, "PATH_INFO");
    size_t sn_len = sn ? sn->value_len : 0, pi_len = pi ? pi->value_len : 0;
    char small[1024], *buf = small;
    const char *osn, *opi;
    size_t osn_len, opi_len;
    int rc = -1;

    if (sn_len + pi_len > sizeof small) {
        buf = malloc(sn_len + pi_len);
        if (!buf) {
            PyErr_NoMemory();
            return -1;
        }
    }
    wf_environ_split_path(opts.script_name, sn ? sn->value : NULL, sn_len,
                          pi ? pi->value : NULL, pi_len, buf, &osn, &osn_len, &opi, &opi_len);
    if (set_latin1(env, k_script_name, osn, osn_len) == 0 &&
        set_latin1(env, k_path_info, opi, opi_len) == 0)
        rc = 0;
    if (buf != small)
        free(buf);
    return rc;
}

/* SERVER_NAME/SERVER_PORT from HTTP_HOST when the front end sent none. */
static int default_server(PyObject *env, const struct wf_request *req, const char *scheme)
{
    const struct wf_param *host = wf_req_param(req, "HTTP_HOST");
    const char *name = "localhost", *port = strcmp(scheme, "https") == 0 ? "443" : "80";
    size_t name_len = 9, port_len = strlen(port);

    if (host && host->value_len > 0) {
        const char *h = host->value, *end = h + host->value_len, *colon = NULL, *p;
        if (h[0] == '[') {
            const char *close = memchr(h, ']', host->value_len);
            if (close && close + 1 < end && close[1] == ':')
                colon = close + 1;
        } else {
            for (p = h; p < end; p++)
                if (*p == ':')
                    colon = p;
        }
        name = h;
        name_len = colon ? (size_t)(colon - h) : host->value_len;
        if (colon && colon + 1 < end) {
            port = colon + 1;
            port_len = (size_t)(end - port);
        }
    }
    if (!PyDict_Contains(env, k_server_name) && set_latin1(env, k_server_name, name, name_len) < 0)
        return -1;
    if (!PyDict_Contains(env, k_server_port) && set_latin1(env, k_server_port, port, port_len) < 0)
        return -1;
    return 0;
}

static int set_default(PyObject *env, PyObject *key, const char *value)
{
    PyObject *v;
    int rc;

    if (PyDict_Contains(env, key))
        return 0;
    v = PyUnicode_FromString(value);
    if (!v)
        return -1;
    rc = PyDict_SetItem(env, key, v);
    Py_DECREF(v);
    return rc;
}

PyObject *wf_environ_build(const struct wf_request *req, PyObject *input, PyObject *errors)
{
    PyObject *env = PyDict_New();
    const char *scheme;
    size_t i;

    if (!env)
        return NULL;
    for (i = 0; i < req->nparams; i++) {
        const struct wf_param *p = &req->params[i];
        PyObject *k = key_for(p->name, p->name_len);
        int rc;
        if (!k)
            goto fail;
        rc = set_latin1(env, k, p->value, p->value_len);
        Py_DECREF(k);
        if (rc < 0)
            goto fail;
    }
    scheme = opts.url_scheme ? opts.url_scheme : wf_environ_scheme(req);
    if (opts.script_name) {
        if (apply_script_name(env, req) < 0)
            goto fail;
    } else {
        if (PyDict_SetDefault(env, k_script_name, v_empty) == NULL ||
            PyDict_SetDefault(env, k_path_info, v_empty) == NULL)
            goto fail;
    }
    if (PyDict_SetDefault(env, k_query_string, v_empty) == NULL)
        goto fail;
    if ((!PyDict_Contains(env, k_server_name) || !PyDict_Contains(env, k_server_port)) &&
        default_server(env, req, scheme) < 0)
        goto fail;
    if (set_default(env, k_server_protocol, "HTTP/1.0") < 0 ||
        set_default(env, k_request_method, "GET") < 0)
        goto fail;
    if (PyDict_SetItem(env, k_wsgi_version, v_version) < 0 ||
        PyDict_SetItem(env, k_wsgi_url_scheme, scheme[4] == 's' ? v_https : v_http) < 0 ||
        PyDict_SetItem(env, k_wsgi_input, input) < 0 ||
        PyDict_SetItem(env, k_wsgi_errors, errors) < 0 ||
        PyDict_SetItem(env, k_wsgi_multithread, opts.multithread ? Py_True : Py_False) < 0 ||
        PyDict_SetItem(env, k_wsgi_multiprocess, opts.multiprocess ? Py_True : Py_False) < 0 ||
        PyDict_SetItem(env, k_wsgi_run_once, opts.run_once ? Py_True : Py_False) < 0 ||
        PyDict_SetItem(env, k_wsgi_input_terminated, Py_True) < 0 ||
        PyDict_SetItem(env, k_wsgi_file_wrapper, (PyObject *)&wf_filewrapper_type) < 0)
        goto fail;
    return env;
fail:
    Py_DECREF(env);
    return NULL;
}
