/*
 * response.c - validation and serialisation of the status and headers,
 * the Content-Length cap, and the headers-sent state.
 *
 * Headers are validated when start_response is called, and serialised at
 * once into a C buffer ("Status: ...\r\nName: value\r\n..."), so nothing
 * unvalidated can reach the wire and sending them later is a plain write.
 * str objects of the 1-byte kind hold latin-1 bytes: they are copied as they
 * are, with no encoding step.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "response.h"

/* ---- pure predicates ----------------------------------------------------- */

int wf_status_check(const char *s, size_t len)
{
    size_t i;
    int code;

    if (len < 4 || s[3] != ' ')
        return -1;
    for (i = 0; i < 3; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (code < 100)
        return -1;
    for (i = 4; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -1;
    }
    return code;
}

int wf_header_name_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        if (!c || !strchr("!#$%&'*+-.^_`|~", c))
            return 0;
    }
    return 1;
}

int wf_header_value_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 0;
    return 1;
}

int wf_header_is_hop_by_hop(const char *s, size_t len)
{
    static const char *const names[] = {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade"
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
            return 1;
    return 0;
}

/* ---- the start_response object ----------------------------------------- */

typedef struct {
    PyObject_HEAD
    struct wf_request *req;     /* NULL once the request is over */
    int called;                 /* start_response succeeded at least once */
    int headers_sent;
    int status;
    char *head;                 /* serialised status and headers */
    size_t head_len, head_cap;
    long long declared;         /* Content-Length from the app, or -1 */
    long long computed;         /* length set by the server, or -1 */
    unsigned long long sent;    /* body bytes written */
    int excess_logged;
    vectorcallfunc vectorcall;
} StartResponseObject;

static PyObject *sr_write(StartResponseObject *self, PyObject *data);
static PyMethodDef write_def = {
    "write", (PyCFunction)sr_write, METH_O, "write(data): send bytes of the response body."
};

static int head_append(StartResponseObject *self, const char *s, size_t n)
{
    if (self->head_len + n > self->head_cap) {
        size_t cap = self->head_cap ? self->head_cap : 256;
        char *h;
        while (cap < self->head_len + n)
            cap *= 2;
        h = PyMem_Realloc(self->head, cap);
        if (!h) {
            PyErr_NoMemory();
            return -1;
        }
        self->head = h;
        self->head_cap = cap;
    }
    memcpy(self->head + self->head_len, s, n);
    self->head_len += n;
    return 0;
}

/* The latin-1 bytes of a str, or NULL with TypeError/ValueError. */
static const char *latin1_of(PyObject *o, const char *what, Py_ssize_t *len)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(o)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    /* Only a str made by the legacy Py_UNICODE API can be unready; 3.12
     * removed that API and made PyUnicode_READY a deprecated no-op. */
    if (PyUnicode_READY(o) < 0)
        return NULL;
#endif
    if (PyUnicode_KIND(o) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "%s must be latin-1 text: %R", what, o);
        return NULL;
    }
    *len = PyUnicode_GET_LENGTH(o);
    return (const char *)PyUnicode_1BYTE_DATA(o);
}

static long long parse_length(const char *s, size_t len)
{
    /* Surrounding blanks are tolerated, as HTTP allows. */
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return wf_parse_content_length(s, len);
}

/* Validates status and headers and serialises them; on failure the
 * object's previous state is kept. */
static int set_headers(StartResponseObject *self, PyObject *status, PyObject *headers)
{
    const char *st;
    Py_ssize_t st_len, i, n;
    int code;
    char *old_head = self->head;
    size_t old_len = self->head_len, old_cap = self->head_cap;
    long long declared = -1;
    PyObject *seq = NULL;

    st = latin1_of(status, "status", &st_len);
    if (!st)
        return -1;
    code = wf_status_check(st, (size_t)st_len);
    if (code < 0) {
        PyErr_Format(PyExc_ValueError, "status must be 'NNN reason' (three digits, a space, "
                     "a reason without control characters), not %R", status);
        return -1;
    }
    if (!PyList_Check(headers) && !PyTuple_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "response headers must be a list of (name, value) tuples, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    seq = PySequence_Fast(headers, "response headers must be a list");
    if (!seq)
        return -1;
    self->head = NULL;
    self->head_len = self->head_cap = 0;
    if (head_append(self, "Status: ", 8) < 0 || head_append(self, st, (size_t)st_len) < 0 ||
        head_append(self, "\r\n", 2) < 0)
        goto fail;
    n = PySequence_Fast_GET_SIZE(seq);
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        const char *name, *value;
        Py_ssize_t name_len, value_len;

        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError, "each response header must be a (name, value) tuple, not %R", item);
            goto fail;
        }
        name = latin1_of(PyTuple_GET_ITEM(item, 0), "header name", &name_len);
        if (!name)
            goto fail;
        value = latin1_of(PyTuple_GET_ITEM(item, 1), "header value", &value_len);
        if (!value)
            goto fail;
        if (!wf_header_name_ok(name, (size_t)name_len)) {
            PyErr_Format(PyExc_ValueError, "invalid header name %R", PyTuple_GET_ITEM(item, 0));
            goto fail;
        }
        if (!wf_header_value_ok(value, (size_t)value_len)) {
            PyErr_Format(PyExc_ValueError, "header %R has a value with CR, LF or NUL: %R",
                         PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1));
            goto fail;
        }
        if (wf_header_is_hop_by_hop(name, (size_t)name_len)) {
            PyErr_Format(PyExc_ValueError, "hop-by-hop header %R is not allowed in a WSGI response",
                         PyTuple_GET_ITEM(item, 0));
            goto fail;
        }
        if (name_len == 6 && strncasecmp(name, "status", 6) == 0) {
            PyErr_SetString(PyExc_ValueError, "a 'Status' header is not allowed: pass the status to start_response");
            goto fail;
        }
        if (name_len == 14 && strncasecmp(name, "content-length", 14) == 0) {
            long long v = parse_length(value, (size_t)value_len);
            if (v < 0) {
                PyErr_Format(PyExc_ValueError, "invalid Content-Length %R", PyTuple_GET_ITEM(item, 1));
                goto fail;
            }
            if (declared >= 0 && declared != v) {
                PyErr_SetString(PyExc_ValueError, "conflicting Content-Length headers");
                goto fail;
            }
            declared = v;
        }
        if (head_append(self, name, (size_t)name_len) < 0 || head_append(self, ": ", 2) < 0 ||
            head_append(self, value, (size_t)value_len) < 0 || head_append(self, "\r\n", 2) < 0)
            goto fail;
    }
    Py_DECREF(seq);
    PyMem_Free(old_head);
    self->status = code;
    self->declared = declared;
    return 0;
fail:
    Py_DECREF(seq);
    PyMem_Free(self->head);
    self->head = old_head;
    self->head_len = old_len;
    self->head_cap = old_cap;
    return -1;
}

static PyObject *sr_start(StartResponseObject *self, PyObject *status, PyObject *headers,
                          PyObject *exc_info);

/* start_response(status, headers, exc_info=None), by vectorcall: the
 * arguments are taken as they come, without building a tuple. */
static PyObject *sr_vectorcall(PyObject *obj, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *slots[3] = { NULL, NULL, NULL };
    static const char *const names[3] = { "status", "headers", "exc_info" };

    if (nargs > 3) {
        PyErr_Format(PyExc_TypeError, "start_response() takes at most 3 arguments (%zd given)", nargs);
        return NULL;
    }
    for (i = 0; i < nargs; i++)
        slots[i] = args[i];
    for (i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int j;
        for (j = 0; j < 3; j++)
            if (PyUnicode_CompareWithASCIIString(name, names[j]) == 0)
                break;
        if (j == 3 || slots[j]) {
            PyErr_Format(PyExc_TypeError, "start_response() got an unexpected or repeated argument %R", name);
            return NULL;
        }
        slots[j] = args[nargs + i];
    }
    if (!slots[0] || !slots[1]) {
        PyErr_SetString(PyExc_TypeError, "start_response() needs status and headers");
        return NULL;
    }
    return sr_start((StartResponseObject *)obj, slots[0], slots[1], slots[2] ? slots[2] : Py_None);
}

static PyObject *sr_start(StartResponseObject *self, PyObject *status, PyObject *headers,
                          PyObject *exc_info)
{
    if (!self->req) {
        PyErr_SetString(PyExc_RuntimeError, "start_response called after its request ended");
        return NULL;
    }
    if (exc_info != Py_None) {
        if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
            PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple or None");
            return NULL;
        }
        if (self->headers_sent) {
            /* PEP 3333: too late to change anything; re-raise. */
            PyObject *v = PyTuple_GET_ITEM(exc_info, 1), *tb = PyTuple_GET_ITEM(exc_info, 2);
            if (!PyExceptionInstance_Check(v)) {
                PyErr_SetString(PyExc_TypeError, "exc_info[1] is not an exception");
                return NULL;
            }
            if (PyTraceBack_Check(tb) && PyException_SetTraceback(v, tb) < 0)
                return NULL;
#if PY_VERSION_HEX >= 0x030C0000
            PyErr_SetRaisedException(Py_NewRef(v));
#else
            PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(v)), Py_NewRef(v), PyException_GetTraceback(v));
#endif
            return NULL;
        }
    } else if (self->called) {
        PyErr_SetString(PyExc_RuntimeError,
                        "start_response called a second time without exc_info");
        return NULL;
    }
    if (set_headers(self, status, headers) < 0)
        return NULL;
    self->called = 1;
    /* A fresh bound function: the object never holds it, so no cycle. */
    return PyCFunction_NewEx(&write_def, (PyObject *)self, NULL);
}

/* Writes with the GIL released.  0 or -1 (errno kept). */
static int wire_write(struct wf_request *req, const char *a, size_t alen, const char *b, size_t blen)
{
    int rc = 0, err = 0;

    Py_BEGIN_ALLOW_THREADS
    if (alen && req->ops->write(req, a, alen) < 0) {
        rc = -1;
        err = errno;
    }
    if (rc == 0 && blen && req->ops->write(req, b, blen) < 0) {
        rc = -1;
        err = errno;
    }
    Py_END_ALLOW_THREADS
    errno = err;
    return rc;
}

static int write_failed(StartResponseObject *self)
{
    int err = errno;

    self->req->client_gone = 1;
    errno = err;
    PyErr_Format(PyExc_OSError, "client disconnected (%s)", strerror(err ? err : EPIPE));
    return -1;
}

static int send_headers(StartResponseObject *self, const char *body, size_t body_len)
{
    char tail[64];
    int n;

    if (self->declared < 0 && self->computed >= 0)
        n = snprintf(tail, sizeof tail, "Content-Length: %lld\r\n\r\n", self->computed);
    else
        n = snprintf(tail, sizeof tail, "\r\n");
    if (head_append(self, tail, (size_t)n) < 0)
        return -1;
    self->headers_sent = 1;
    self->req->status = self->status;
    if (wire_write(self->req, self->head, self->head_len, body, body_len) < 0)
        return write_failed(self);
    return 0;
}

int wf_response_write(PyObject *obj, const char *data, size_t len)
{
    StartResponseObject *self = (StartResponseObject *)obj;
    long long limit = self->declared >= 0 ? self->declared : self->computed;

    if (!self->req) {
        PyErr_SetString(PyExc_RuntimeError, "write() called after its request ended");
        return -1;
    }
    if (!self->called) {
        PyErr_SetString(PyExc_RuntimeError, "write() or a body chunk before start_response()");
        return -1;
    }
    if (self->req->client_gone) {
        errno = EPIPE;
        return write_failed(self);
    }
    if (limit >= 0 && self->sent + len > (unsigned long long)limit) {
        size_t keep = (size_t)((unsigned long long)limit - self->sent);
        if (!self->excess_logged) {
            wf_log(WF_LOG_WARNING, "the application sent more than its Content-Length of %lld bytes; "
                   "the excess is dropped", limit);
            self->excess_logged = 1;
        }
        len = keep;
    }
    if (!self->headers_sent) {
        if (len == 0)
            return 0;     /* headers wait for the first non-empty chunk */
        if (send_headers(self, data, len) < 0)
            return -1;
    } else if (len > 0 && wire_write(self->req, data, len, NULL, 0) < 0) {
        return write_failed(self);
    }
    self->sent += len;
    self->req->body_bytes = self->sent;
    return 0;
}

static int is_head(const struct wf_request *req)
{
    const struct wf_param *m = wf_req_param(req, "REQUEST_METHOD");

    return m && m->value_len == 4 && memcmp(m->value, "HEAD", 4) == 0;
}

/* RFC 9110 6.4.1: 1xx, 204 and 304 responses have no content. */
static int status_allows_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

int wf_response_finish(PyObject *obj)
{
    StartResponseObject *self = (StartResponseObject *)obj;

    if (!self->called) {
        PyErr_SetString(PyExc_RuntimeError, "the application returned without calling start_response()");
        return -1;
    }
    if (!self->headers_sent) {
        /* No body at all and no length declared: say so, as wsgiref does,
         * where the status allows a body (otherwise a web server falls
         * back to chunked encoding for an empty 200).  Not for HEAD, whose
         * empty body says nothing of the length of a GET's. */
        if (self->declared < 0 && self->computed < 0 && self->sent == 0 && status_allows_body(self->status) &&
            !is_head(self->req))
            self->computed = 0;
        if (send_headers(self, NULL, 0) < 0)
            return -1;
    }
    if (self->declared >= 0 && self->sent < (unsigned long long)self->declared && !is_head(self->req))
        wf_log(WF_LOG_WARNING, "the response ended after %llu of its %lld declared bytes",
               self->sent, self->declared);
    return 0;
}

void wf_response_set_length(PyObject *obj, long long len)
{
    StartResponseObject *self = (StartResponseObject *)obj;

    if (!self->headers_sent && self->declared < 0)
        self->computed = len;
}

int wf_response_headers_sent(PyObject *obj)
{
    return ((StartResponseObject *)obj)->headers_sent;
}

void wf_response_detach(PyObject *obj)
{
    ((StartResponseObject *)obj)->req = NULL;
}

static PyObject *sr_write(StartResponseObject *self, PyObject *data)
{
    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.100s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (wf_response_write((PyObject *)self, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data)) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static void sr_dealloc(StartResponseObject *self)
{
    PyMem_Free(self->head);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyTypeObject wf_start_response_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wsgi_fcgi.StartResponse",
    .tp_basicsize = sizeof(StartResponseObject),
    .tp_dealloc = (destructor)sr_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(StartResponseObject, vectorcall),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "start_response(status, headers, exc_info=None) -> write",
};

int wf_response_type_init(void)
{
    return PyType_Ready(&wf_start_response_type);
}

PyObject *wf_response_new(struct wf_request *req)
{
    StartResponseObject *self = PyObject_New(StartResponseObject, &wf_start_response_type);

    if (!self)
        return NULL;
    self->req = req;
    self->called = self->headers_sent = self->status = 0;
    self->head = NULL;
    self->head_len = self->head_cap = 0;
    self->declared = self->computed = -1;
    self->sent = 0;
    self->excess_logged = 0;
    self->vectorcall = sr_vectorcall;
    return (PyObject *)self;
}

void wf_response_send_error(struct wf_request *req, int code)
{
    Py_BEGIN_ALLOW_THREADS
    wf_req_send_error(req, code);
    Py_END_ALLOW_THREADS
}
