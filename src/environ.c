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

/* The known names: interned keys, found through a small hash table, each
 * with the last value seen for it.  Web servers send the same values again
 * and again (SERVER_NAME, HTTP_HOST, HTTP_USER_AGENT...), and a str is
 * immutable, so an equal value is shared instead of decoded anew.  All of
 * this is touched only with the GIL held. */
#define VALUE_CACHE_MAX 512
#define HASH_SIZE 256
static struct {
    const char *name;
    size_t len;
    PyObject *key;
    PyObject *last;      /* last value decoded for this key, or NULL */
} keys[NCOMMON];
static unsigned char hash_slot[HASH_SIZE];   /* index + 1 into keys, 0 = empty */

/* A few bytes and the length tell the known names apart well enough (at
 * most 3 per slot); the table compares whole names anyway. */
static unsigned name_hash(const char *s, size_t len)
{
    const unsigned char *b = (const unsigned char *)s;

    if (len == 0)
        return 0;
    return (unsigned)(len * 0x9E37u) ^ (b[len - 1] * 0x3Bu) ^ (b[len / 2] * 0x61u) ^ (b[5 % len] * 0x1Fu);
}

/* Index into keys of a known name, or -1. */
static int known_index(const char *name, size_t len)
{
    unsigned h = name_hash(name, len) & (HASH_SIZE - 1);

    while (hash_slot[h]) {
        int i = hash_slot[h] - 1;
        if (keys[i].len == len && memcmp(keys[i].name, name, len) == 0)
            return i;
        h = (h + 1) & (HASH_SIZE - 1);
    }
    return -1;
}

static PyObject *k_script_name, *k_path_info, *k_query_string, *k_server_name, *k_server_port,
    *k_server_protocol, *k_request_method;
static PyObject *k_wsgi_version, *k_wsgi_url_scheme, *k_wsgi_input, *k_wsgi_errors,
    *k_wsgi_multithread, *k_wsgi_multiprocess, *k_wsgi_run_once, *k_wsgi_input_terminated,
    *k_wsgi_file_wrapper;
static PyObject *v_version, *v_http, *v_https, *v_empty;
static PyObject *template_env;
static int idx_https, idx_request_scheme, idx_server_name, idx_server_port;
static struct wf_environ_opts opts;

static PyObject *intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

int wf_environ_init(const struct wf_environ_opts *o)
{
    size_t i;

    opts = *o;
    memset(hash_slot, 0, sizeof hash_slot);
    for (i = 0; i < NCOMMON; i++) {
        unsigned h;
        keys[i].name = common_names[i];
        keys[i].len = strlen(common_names[i]);
        keys[i].last = NULL;
        if (!(keys[i].key = intern(common_names[i])))
            return -1;
        h = name_hash(keys[i].name, keys[i].len) & (HASH_SIZE - 1);
        while (hash_slot[h])
            h = (h + 1) & (HASH_SIZE - 1);
        hash_slot[h] = (unsigned char)(i + 1);
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
    idx_https = known_index("HTTPS", 5);
    idx_request_scheme = known_index("REQUEST_SCHEME", 14);
    idx_server_name = known_index("SERVER_NAME", 11);
    idx_server_port = known_index("SERVER_PORT", 11);
    /* Sized for 42 entries, so copies take the params without resizing. */
    template_env = _PyDict_NewPresized(42);
    if (!template_env)
        return -1;
    {
        PyObject *scheme = opts.url_scheme && strcmp(opts.url_scheme, "https") == 0 ? v_https : v_http;
        PyObject *proto = PyUnicode_FromString("HTTP/1.0"), *get = PyUnicode_FromString("GET");
        int rc = !proto || !get ||
            PyDict_SetItem(template_env, k_wsgi_version, v_version) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_url_scheme, scheme) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_input, Py_None) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_errors, Py_None) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_multithread, opts.multithread ? Py_True : Py_False) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_multiprocess, opts.multiprocess ? Py_True : Py_False) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_run_once, opts.run_once ? Py_True : Py_False) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_input_terminated, Py_True) < 0 ||
            PyDict_SetItem(template_env, k_wsgi_file_wrapper, (PyObject *)&wf_filewrapper_type) < 0 ||
            PyDict_SetItem(template_env, k_script_name, v_empty) < 0 ||
            PyDict_SetItem(template_env, k_path_info, v_empty) < 0 ||
            PyDict_SetItem(template_env, k_query_string, v_empty) < 0 ||
            PyDict_SetItem(template_env, k_server_protocol, proto) < 0 ||
            PyDict_SetItem(template_env, k_request_method, get) < 0;
        Py_XDECREF(proto);
        Py_XDECREF(get);
        if (rc)
            return -1;
    }
    return 0;
}

void wf_environ_fini(void)
{
    size_t i;

    for (i = 0; i < NCOMMON; i++) {
        Py_CLEAR(keys[i].key);
        Py_CLEAR(keys[i].last);
    }
    Py_CLEAR(k_script_name); Py_CLEAR(k_path_info); Py_CLEAR(k_query_string);
    Py_CLEAR(k_server_name); Py_CLEAR(k_server_port); Py_CLEAR(k_server_protocol);
    Py_CLEAR(k_request_method); Py_CLEAR(k_wsgi_version); Py_CLEAR(k_wsgi_url_scheme);
    Py_CLEAR(k_wsgi_input); Py_CLEAR(k_wsgi_errors); Py_CLEAR(k_wsgi_multithread);
    Py_CLEAR(k_wsgi_multiprocess); Py_CLEAR(k_wsgi_run_once); Py_CLEAR(k_wsgi_input_terminated);
    Py_CLEAR(k_wsgi_file_wrapper); Py_CLEAR(v_version); Py_CLEAR(v_http); Py_CLEAR(v_https);
    Py_CLEAR(v_empty); Py_CLEAR(template_env);
}

/* Sets one param: a known name reuses its interned key and, when the value
 * repeats, the value object too.  Returns the known index, -1 for another
 * name, or -2 with an exception set. */
static int set_param(PyObject *env, const struct wf_param *p)
{
    int k = known_index(p->name, p->name_len);
    PyObject *key, *v;
    int rc;

    if (k < 0) {
        key = PyUnicode_DecodeLatin1(p->name, (Py_ssize_t)p->name_len, NULL);
        if (!key)
            return -2;
        v = PyUnicode_DecodeLatin1(p->value, (Py_ssize_t)p->value_len, NULL);
        rc = v ? PyDict_SetItem(env, key, v) : -1;
        Py_XDECREF(v);
        Py_DECREF(key);
        return rc < 0 ? -2 : -1;
    }
    v = keys[k].last;
    if (v && (size_t)PyUnicode_GET_LENGTH(v) == p->value_len &&
        memcmp(PyUnicode_1BYTE_DATA(v), p->value, p->value_len) == 0)
        return PyDict_SetItem(env, keys[k].key, v) < 0 ? -2 : k;
    v = PyUnicode_DecodeLatin1(p->value, (Py_ssize_t)p->value_len, NULL);
    if (!v)
        return -2;
    rc = PyDict_SetItem(env, keys[k].key, v);
    if (p->value_len <= VALUE_CACHE_MAX)
        Py_XSETREF(keys[k].last, Py_NewRef(v));
    Py_DECREF(v);
    return rc < 0 ? -2 : k;
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

/* The spec's rule, given the HTTPS and REQUEST_SCHEME params (or NULL). */
static const char *scheme_of(const struct wf_param *https, const struct wf_param *request_scheme)
{
    if (is_on(https))
        return "https";
    if (request_scheme && request_scheme->value_len == 5 &&
        strncasecmp(request_scheme->value, "https", 5) == 0)
        return "https";
    return "http";
}

const char *wf_environ_scheme(const struct wf_request *req)
{
    return scheme_of(wf_req_param(req, "HTTPS"), wf_req_param(req, "REQUEST_SCHEME"));
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

/* A param named like one of the server's own wsgi.* entries was set: the
 * server's values go back (PEP 3333 defines them; a peer must not replace
 * wsgi.url_scheme or wsgi.file_wrapper).  Other wsgi.* names stay. */
static int restore_wsgi_keys(PyObject *env)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    while (PyDict_Next(template_env, &pos, &key, &value))
        if (PyUnicode_GET_LENGTH(key) > 5 && memcmp(PyUnicode_1BYTE_DATA(key), "wsgi.", 5) == 0 &&
            PyDict_SetItem(env, key, value) < 0)
            return -1;
    return 0;
}

PyObject *wf_environ_build(const struct wf_request *req, PyObject *input, PyObject *errors)
{
    /* A copy of the template has every constant key already, and room for
     * the params without growing. */
    PyObject *env = PyDict_Copy(template_env);
    const struct wf_param *https = NULL, *scheme_param = NULL;
    int have_name = 0, have_port = 0, wsgi_named = 0;
    const char *scheme;
    size_t i;

    if (!env)
        return NULL;
    for (i = 0; i < req->nparams; i++) {
        const struct wf_param *p = &req->params[i];
        int k = set_param(env, p);
        if (k == -2)
            goto fail;
        if (k == -1 && p->name_len > 5 && memcmp(p->name, "wsgi.", 5) == 0)
            wsgi_named = 1;
        else if (k == idx_https)
            https = p;
        else if (k == idx_request_scheme)
            scheme_param = p;
        else if (k == idx_server_name)
            have_name = 1;
        else if (k == idx_server_port)
            have_port = 1;
    }
    if (wsgi_named && restore_wsgi_keys(env) < 0)
        goto fail;
    scheme = opts.url_scheme ? opts.url_scheme : scheme_of(https, scheme_param);
    if (!opts.url_scheme && scheme[4] == 's' && PyDict_SetItem(env, k_wsgi_url_scheme, v_https) < 0)
        goto fail;
    if (opts.script_name && apply_script_name(env, req) < 0)
        goto fail;
    if ((!have_name || !have_port) && default_server(env, req, scheme) < 0)
        goto fail;
    if (PyDict_SetItem(env, k_wsgi_input, input) < 0 || PyDict_SetItem(env, k_wsgi_errors, errors) < 0)
        goto fail;
    return env;
fail:
    Py_DECREF(env);
    return NULL;
}
