/*
 * fuzz_environ.c - the environ builder (src/environ.c) with the embedded
 * interpreter, and its pure helpers (wf_environ_split_path,
 * wf_environ_scheme).
 *
 * Input: a control byte (bits 0-2: --script-name, bits 3-4: --url-scheme),
 * then NUL-separated strings, alternately a param's name and value (as
 * FastCGI and SCGI deliver them: no NUL inside).
 *
 * Invariants:
 *   - every param becomes a str key with its latin-1 value, the last value
 *     winning; nothing else but what PEP 3333 requires is added (the key
 *     count is exact);
 *   - the server's own wsgi.* entries are what the server says, whatever
 *     the peer sends: wsgi.input and wsgi.errors are the objects given,
 *     wsgi.url_scheme follows --url-scheme or the HTTPS / REQUEST_SCHEME rule
 *     (checked against a reference), wsgi.version is (1, 0);
 *   - SCRIPT_NAME, PATH_INFO, QUERY_STRING, SERVER_NAME, SERVER_PORT,
 *     SERVER_PROTOCOL and REQUEST_METHOD are always str;
 *   - with --script-name, SCRIPT_NAME + PATH_INFO is the path sent, split
 *     at the prefix (without its trailing slashes) only at a '/' boundary;
 *   - building the same request twice gives equal dicts (the value cache).
 */
#include "fuzz_py.h"

#include "autoconfig.h"

#include <strings.h>

#include "fuzz.h"

static const char *const script_names[8] = { NULL, NULL, "", "/", "/app", "/app/", "/a/b", "/app//" };
static const char *const schemes[4] = { NULL, NULL, "http", "https" };
static unsigned current = 0xffffffffu;
static struct wf_environ_opts opts;

#define MAX_PARAMS 64

static void configure(unsigned ctl)
{
    unsigned want = ctl & 0x1f;

    if (want == current)
        return;
    memset(&opts, 0, sizeof opts);
    opts.script_name = script_names[want & 7];
    opts.url_scheme = schemes[(want >> 3) & 3];
    opts.multithread = 1;
    wf_environ_fini();
    if (wf_environ_init(&opts) < 0) {
        PyErr_Print();
        abort();
    }
    current = want;
}

static const struct wf_param *last(const struct wf_request *req, const char *name)
{
    return wf_req_param(req, name);
}

static int is_on(const struct wf_param *p)
{
    return p && ((p->value_len == 2 && strncasecmp(p->value, "on", 2) == 0) ||
                 (p->value_len == 1 && p->value[0] == '1'));
}

static const char *ref_scheme(const struct wf_request *req)
{
    const struct wf_param *h = last(req, "HTTPS"), *r = last(req, "REQUEST_SCHEME");

    if (is_on(h) || (r && r->value_len == 5 && strncasecmp(r->value, "https", 5) == 0))
        return "https";
    return "http";
}

/* env[name] (name taken as latin-1) as latin-1 bytes; NULL when absent or
 * not a latin-1 str. */
static const char *get_n(PyObject *env, const char *name, size_t name_len, size_t *len)
{
    PyObject *k = PyUnicode_DecodeLatin1(name, (Py_ssize_t)name_len, NULL), *v;

    if (!k)
        abort();
    v = PyDict_GetItemWithError(env, k);
    Py_DECREF(k);

    if (!v || !PyUnicode_Check(v) || PyUnicode_KIND(v) != PyUnicode_1BYTE_KIND)
        return NULL;
    *len = (size_t)PyUnicode_GET_LENGTH(v);
    return (const char *)PyUnicode_1BYTE_DATA(v);
}

static const char *get(PyObject *env, const char *name, size_t *len)
{
    return get_n(env, name, strlen(name), len);
}

static int eq(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

static void check_split(const char *prefix, const char *sn, size_t sn_len, const char *pi, size_t pi_len)
{
    char *buf = malloc(sn_len + pi_len + 1);
    const char *osn, *opi;
    size_t osn_len, opi_len, plen = strlen(prefix);

    if (!buf)
        abort();
    wf_environ_split_path(prefix, sn, sn_len, pi, pi_len, buf, &osn, &osn_len, &opi, &opi_len);
    while (plen && prefix[plen - 1] == '/')
        plen--;
    FUZZ_CHECK(osn == buf && opi == buf + osn_len && osn_len + opi_len == sn_len + pi_len,
               "the split is not the path");
    FUZZ_CHECK((sn_len == 0 || memcmp(buf, sn, sn_len) == 0) &&
               (pi_len == 0 || memcmp(buf + sn_len, pi, pi_len) == 0), "the path is not SCRIPT_NAME + PATH_INFO");
    FUZZ_CHECK(osn_len == 0 || (osn_len == plen && memcmp(osn, prefix, plen) == 0),
               "SCRIPT_NAME is not the prefix");
    FUZZ_CHECK(osn_len == 0 || opi_len == 0 || opi[0] == '/', "PATH_INFO does not start at a '/'");
    /* Under the mount point exactly when the path is the prefix or goes on
     * with a '/'; an empty prefix (or "/") leaves the whole path in PATH_INFO. */
    {
        size_t full = sn_len + pi_len;
        int under = plen > 0 && plen <= full && memcmp(buf, prefix, plen) == 0 &&
                    (plen == full || buf[plen] == '/');
        FUZZ_CHECK(under == (osn_len > 0), "under the mount point: %d, SCRIPT_NAME of %zu bytes", under,
                   osn_len);
    }
    free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_py_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);
    char *text = (char *)fuzz_dup(in.p, in.n);
    struct wf_request req;
    PyObject *input = NULL, *errors = NULL, *env = NULL, *env2 = NULL, *names = NULL;
    const char *p = text, *end = text + in.n, *scheme;
    const struct wf_param *sn, *pi;
    size_t i, len;
    const char *v;
    Py_ssize_t expected_keys;

    configure(ctl);
    wf_req_init(&req);
    while (p < end && req.nparams < MAX_PARAMS) {
        const char *nz = memchr(p, '\0', (size_t)(end - p)), *val, *vz;
        if (!nz || nz + 1 > end)
            break;
        val = nz + 1;
        vz = memchr(val, '\0', (size_t)(end - val));
        if (!vz)
            vz = end;
        if (wf_req_add_param(&req, p, (size_t)(nz - p), val, (size_t)(vz - val)) < 0)
            abort();
        p = vz + 1;
    }

    scheme = wf_environ_scheme(&req);
    FUZZ_CHECK(strcmp(scheme, ref_scheme(&req)) == 0, "wf_environ_scheme says %s", scheme);

    sn = last(&req, "SCRIPT_NAME");
    pi = last(&req, "PATH_INFO");
    check_split(opts.script_name ? opts.script_name : "/app", sn ? sn->value : NULL, sn ? sn->value_len : 0,
                pi ? pi->value : NULL, pi ? pi->value_len : 0);

    input = PyBytes_FromString("input");
    errors = PyBytes_FromString("errors");
    names = PySet_New(NULL);
    if (!input || !errors || !names)
        abort();
    env = wf_environ_build(&req, input, errors);
    FUZZ_CHECK(env && PyDict_Check(env), "no environ");
    env2 = wf_environ_build(&req, input, errors);
    FUZZ_CHECK(env2 && PyObject_RichCompareBool(env, env2, Py_EQ) == 1, "the same request built twice differs");

    /* The params, last value winning. */
    for (i = 0; i < req.nparams; i++) {
        const struct wf_param *q = &req.params[i];
        PyObject *k = PyUnicode_DecodeLatin1(q->name, (Py_ssize_t)q->name_len, NULL);
        char *name;
        const struct wf_param *w;
        if (!k || PySet_Add(names, k) < 0)
            abort();
        Py_DECREF(k);
        if (memchr(q->name, '\0', q->name_len))
            continue;
        name = strndup(q->name, q->name_len);
        if (!name)
            abort();
        w = last(&req, name);
        if (w == q && strncmp(name, "wsgi.", 5) != 0 &&
            !(opts.script_name && (strcmp(name, "SCRIPT_NAME") == 0 || strcmp(name, "PATH_INFO") == 0))) {
            v = get_n(env, q->name, q->name_len, &len);
            FUZZ_CHECK(v && eq(v, len, q->value, q->value_len), "param %s is not its last value", name);
        }
        free(name);
    }

    /* Always there. */
    {
        static const char *const always[] = { "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
                                              "SERVER_PORT", "SERVER_PROTOCOL", "REQUEST_METHOD" };
        for (i = 0; i < sizeof always / sizeof always[0]; i++) {
            PyObject *k = PyUnicode_FromString(always[i]);
            FUZZ_CHECK(get(env, always[i], &len) != NULL, "%s missing", always[i]);
            if (!k || PySet_Add(names, k) < 0)
                abort();
            Py_DECREF(k);
        }
    }
    if (!last(&req, "QUERY_STRING"))
        FUZZ_CHECK(get(env, "QUERY_STRING", &len) && len == 0, "QUERY_STRING invented");
    if (!last(&req, "REQUEST_METHOD"))
        FUZZ_CHECK((v = get(env, "REQUEST_METHOD", &len)) && eq(v, len, "GET", 3), "REQUEST_METHOD default");
    if (!last(&req, "SERVER_PROTOCOL"))
        FUZZ_CHECK((v = get(env, "SERVER_PROTOCOL", &len)) && eq(v, len, "HTTP/1.0", 8), "SERVER_PROTOCOL default");
    if (!opts.script_name) {
        FUZZ_CHECK((v = get(env, "SCRIPT_NAME", &len)) && (sn ? eq(v, len, sn->value, sn->value_len) : len == 0),
                   "SCRIPT_NAME");
        FUZZ_CHECK((v = get(env, "PATH_INFO", &len)) && (pi ? eq(v, len, pi->value, pi->value_len) : len == 0),
                   "PATH_INFO");
    } else {
        size_t sl, pl;
        const char *s2 = get(env, "SCRIPT_NAME", &sl), *p2 = get(env, "PATH_INFO", &pl);
        size_t plen = strlen(opts.script_name);
        while (plen && opts.script_name[plen - 1] == '/')
            plen--;
        FUZZ_CHECK(s2 && p2, "SCRIPT_NAME or PATH_INFO missing");
        FUZZ_CHECK(sl == 0 || eq(s2, sl, opts.script_name, plen), "SCRIPT_NAME is not the prefix");
        FUZZ_CHECK(sl + pl == (sn ? sn->value_len : 0) + (pi ? pi->value_len : 0), "the path changed length");
    }

    /* The server's own entries. */
    {
        PyObject *o = PyDict_GetItemString(env, "wsgi.url_scheme");
        const char *want = opts.url_scheme ? opts.url_scheme : ref_scheme(&req);
        FUZZ_CHECK(o && PyUnicode_Check(o) && PyUnicode_CompareWithASCIIString(o, want) == 0,
                   "wsgi.url_scheme is not %s", want);
        FUZZ_CHECK(PyDict_GetItemString(env, "wsgi.input") == input &&
                   PyDict_GetItemString(env, "wsgi.errors") == errors, "wsgi.input or wsgi.errors replaced");
        o = PyDict_GetItemString(env, "wsgi.version");
        FUZZ_CHECK(o && PyTuple_Check(o) && PyTuple_GET_SIZE(o) == 2, "wsgi.version is not (1, 0)");
        o = PyDict_GetItemString(env, "wsgi.multithread");
        FUZZ_CHECK(o == Py_True, "wsgi.multithread is not True");
        o = PyDict_GetItemString(env, "wsgi.run_once");
        FUZZ_CHECK(o == Py_False, "wsgi.run_once is not False");
        o = PyDict_GetItemString(env, "wsgi.input_terminated");
        FUZZ_CHECK(o == Py_True, "wsgi.input_terminated is not True");
        o = PyDict_GetItemString(env, "wsgi.file_wrapper");
        FUZZ_CHECK(o == (PyObject *)&wf_filewrapper_type, "wsgi.file_wrapper replaced");
        o = PyDict_GetItemString(env, "wsgi.multiprocess");
        FUZZ_CHECK(o == Py_False, "wsgi.multiprocess is not False");
    }
    {
        static const char *const wsgi_keys[] = { "wsgi.version", "wsgi.url_scheme", "wsgi.input", "wsgi.errors",
                                                 "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
                                                 "wsgi.input_terminated", "wsgi.file_wrapper" };
        for (i = 0; i < sizeof wsgi_keys / sizeof wsgi_keys[0]; i++) {
            PyObject *k = PyUnicode_FromString(wsgi_keys[i]);
            if (!k || PySet_Add(names, k) < 0)
                abort();
            Py_DECREF(k);
        }
    }
    expected_keys = PySet_GET_SIZE(names);
    FUZZ_CHECK(PyDict_GET_SIZE(env) == expected_keys, "%zd keys, expected %zd", PyDict_GET_SIZE(env),
               expected_keys);

    Py_XDECREF(env);
    Py_XDECREF(env2);
    Py_DECREF(input);
    Py_DECREF(errors);
    Py_DECREF(names);
    FUZZ_CHECK(!PyErr_Occurred(), "an exception left pending");
    wf_req_release(&req);
    free(text);
    return 0;
}
