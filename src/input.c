/*
 * input.c - wsgi.input.
 *
 * remaining counts body bytes still to be taken from the stream: it starts
 * at CONTENT_LENGTH, or -1 when none was sent, in which case the stream's
 * own end of data ends the body.  A read-ahead buffer serves readline; read
 * takes what is buffered and then reads the rest straight into the bytes
 * object it returns, with no intermediate copy.
 *
 * --max-body (req->max_body) for a body of unknown length: the stream is
 * read at most one byte past the limit, and the read that passes it raises
 * OSError (errno EFBIG), as does every read after it; the connection is
 * then closed rather than read to its end (req->no_keep).  A declared
 * length over the limit never gets here: the request was answered 413.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <errno.h>
#include <string.h>

#include "input.h"

#define FILL_SIZE 8192

typedef struct {
    PyObject_HEAD
    struct wf_request *req;  /* NULL once the request is over */
    long long remaining;     /* still in the stream, -1 = until its end */
    long long received;      /* taken from the stream so far */
    long long declared;      /* CONTENT_LENGTH, or -1 */
    unsigned long long max_body;  /* --max-body, 0 = none */
    int eof;                 /* the body is exhausted */
    int failed;              /* the stream broke: every read raises */
    int too_large;           /* passed --max-body: every read raises */
    char *buf;               /* read-ahead for readline */
    size_t pos, len, cap;
} InputObject;

/* Raises OSError(err, msg): the errno-specific subclass where Python has
 * one (TimeoutError for ETIMEDOUT). */
static void raise_errno(int err, const char *msg)
{
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "is", err, msg);

    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
}

/* OSError(EFBIG, "... --max-body N ..."): the body passed the limit. */
static void raise_too_large(InputObject *self)
{
    char msg[128];

    snprintf(msg, sizeof msg, "request body larger than --max-body %llu bytes", self->max_body);
    raise_errno(EFBIG, msg);
}

/* OSError(ETIMEDOUT): the body stopped arriving for --io-timeout. */
static void raise_timed_out(InputObject *self)
{
    char msg[160];

    if (self->declared >= 0)
        snprintf(msg, sizeof msg, "request body incomplete: no progress for --io-timeout after "
                 "%lld of %lld bytes", self->received, self->declared);
    else
        snprintf(msg, sizeof msg, "request body incomplete: no progress for --io-timeout after "
                 "%lld bytes", self->received);
    raise_errno(ETIMEDOUT, msg);
}

static int check_usable(InputObject *self)
{
    if (!self->req) {
        PyErr_SetString(PyExc_ValueError, "wsgi.input used after its request ended");
        return -1;
    }
    if (self->too_large) {
        raise_too_large(self);
        return -1;
    }
    if (self->failed) {
        PyErr_Format(PyExc_OSError, "request body incomplete: the connection was lost after %lld bytes",
                     self->received);
        return -1;
    }
    return 0;
}

/* Takes up to n bytes from the stream into dst (blocking until n or the end
 * of the body).  Returns the count, or -1 with OSError set. */
static Py_ssize_t stream_read(InputObject *self, char *dst, size_t n)
{
    struct wf_request *req = self->req;
    ssize_t got;
    int err;

    if (self->eof)
        return 0;
    if (self->remaining >= 0 && (long long)n > self->remaining)
        n = (size_t)self->remaining;
    if (self->remaining < 0 && self->max_body &&
        (unsigned long long)n > self->max_body - (unsigned long long)self->received + 1)
        n = (size_t)(self->max_body - (unsigned long long)self->received + 1);
    if (n == 0) {
        self->eof = 1;
        return 0;
    }
    Py_BEGIN_ALLOW_THREADS
    got = req->ops->read(req, dst, n);
    err = errno;
    Py_END_ALLOW_THREADS
    if (got < 0) {
        self->failed = 1;
        self->eof = 1;
        req->client_gone = 1;      /* the web server aborted the request */
        errno = err;
        if (req->timed_out) {
            raise_timed_out(self);
            return -1;
        }
        PyErr_Format(PyExc_OSError, "request body incomplete: the connection was lost after %lld bytes (%s)",
                     self->received, strerror(err));
        return -1;
    }
    self->received += got;
    if (self->remaining >= 0) {
        self->remaining -= got;
        if ((size_t)got < n) {
            self->failed = 1;
            self->eof = 1;
            req->client_gone = 1;
            if (req->timed_out) {
                raise_timed_out(self);
                return -1;
            }
            PyErr_Format(PyExc_OSError,
                         "request body incomplete: %lld of %lld bytes received before the stream ended",
                         self->received, self->declared);
            return -1;
        }
        if (self->remaining == 0)
            self->eof = 1;
    } else if (self->max_body && (unsigned long long)self->received > self->max_body) {
        self->too_large = 1;
        self->eof = 1;
        req->no_keep = 1;          /* do not read the rest of it */
        raise_too_large(self);
        return -1;
    } else if ((size_t)got < n) {
        self->eof = 1;
    }
    return got;
}

/* Makes sure at least one more byte is buffered unless at the end.
 * Returns bytes added (0 at the end) or -1. */
static Py_ssize_t fill(InputObject *self)
{
    size_t want;
    Py_ssize_t got;

    if (self->pos > 0 && self->pos == self->len) {
        self->pos = self->len = 0;
    }
    if (self->len == self->cap) {
        if (self->pos > 0) {
            memmove(self->buf, self->buf + self->pos, self->len - self->pos);
            self->len -= self->pos;
            self->pos = 0;
        } else {
            size_t cap = self->cap ? self->cap * 2 : FILL_SIZE;
            char *b = PyMem_Realloc(self->buf, cap);
            if (!b) {
                PyErr_NoMemory();
                return -1;
            }
            self->buf = b;
            self->cap = cap;
        }
    }
    want = self->cap - self->len;
    if (want > FILL_SIZE)
        want = FILL_SIZE;
    got = stream_read(self, self->buf + self->len, want);
    if (got > 0)
        self->len += (size_t)got;
    return got;
}

static int parse_size(PyObject *arg, Py_ssize_t *out)
{
    if (arg == NULL || arg == Py_None) {
        *out = -1;
        return 0;
    }
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "size must be an integer or None, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    *out = PyLong_AsSsize_t(arg);
    if (*out == -1 && PyErr_Occurred())
        return -1;
    if (*out < 0)
        *out = -1;
    return 0;
}

/* Reads up to limit bytes (or all, limit < 0) when the body's length is
 * unknown: the result grows as data arrives, so a huge limit costs nothing
 * until the bytes are really there. */
static PyObject *read_growing(InputObject *self, Py_ssize_t limit)
{
    size_t buffered = self->len - self->pos;
    size_t cap, have;
    PyObject *out;

    if (limit >= 0 && (size_t)limit <= buffered) {
        out = PyBytes_FromStringAndSize(self->buf + self->pos, limit);
        if (out)
            self->pos += (size_t)limit;
        return out;
    }
    cap = buffered + 65536;
    if (limit >= 0 && (size_t)limit < cap)
        cap = (size_t)limit;
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (!out)
        return NULL;
    if (buffered)
        memcpy(PyBytes_AS_STRING(out), self->buf + self->pos, buffered);
    self->pos = self->len = 0;
    have = buffered;
    while (!self->eof && (limit < 0 || have < (size_t)limit)) {
        Py_ssize_t got;
        if (have == cap) {
            size_t next = cap * 2;
            if (limit >= 0 && next > (size_t)limit)
                next = (size_t)limit;
            cap = next;
            if (_PyBytes_Resize(&out, (Py_ssize_t)cap) < 0)
                return NULL;
        }
        got = stream_read(self, PyBytes_AS_STRING(out) + have, cap - have);
        if (got < 0) {
            Py_DECREF(out);
            return NULL;
        }
        have += (size_t)got;
    }
    if (have != cap && _PyBytes_Resize(&out, (Py_ssize_t)have) < 0)
        return NULL;
    return out;
}

static PyObject *read_all(InputObject *self)
{
    size_t buffered = self->len - self->pos;
    PyObject *out;

    if (self->remaining >= 0) {
        /* Known length: one allocation of exactly what is left. */
        long long total = (long long)buffered + (self->eof ? 0 : self->remaining);
        if (total > PY_SSIZE_T_MAX)
            return PyErr_NoMemory();
        out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
        if (!out)
            return NULL;
        if (buffered)
            memcpy(PyBytes_AS_STRING(out), self->buf + self->pos, buffered);
        self->pos = self->len = 0;
        if ((size_t)total > buffered &&
            stream_read(self, PyBytes_AS_STRING(out) + buffered, (size_t)total - buffered) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        return out;
    }
    return read_growing(self, -1);
}

static PyObject *input_read(InputObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;
    size_t buffered, take, want;
    PyObject *out;
    Py_ssize_t got = 0;

    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "read() takes at most one argument");
        return NULL;
    }
    if (parse_size(nargs ? args[0] : NULL, &size) < 0 || check_usable(self) < 0)
        return NULL;
    if (size < 0)
        return read_all(self);
    if (self->remaining < 0 && !self->eof)
        return read_growing(self, size);
    buffered = self->len - self->pos;
    want = (size_t)size;
    if (self->remaining >= 0 && !self->eof && (long long)(want - (want < buffered ? want : buffered)) > self->remaining)
        want = buffered + (size_t)self->remaining;
    if (self->eof && want > buffered)
        want = buffered;
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)want);
    if (!out)
        return NULL;
    take = want < buffered ? want : buffered;
    if (take) {
        memcpy(PyBytes_AS_STRING(out), self->buf + self->pos, take);
        self->pos += take;
    }
    if (want > take) {
        got = stream_read(self, PyBytes_AS_STRING(out) + take, want - take);
        if (got < 0) {
            Py_DECREF(out);
            return NULL;
        }
        if ((size_t)got < want - take && _PyBytes_Resize(&out, (Py_ssize_t)(take + (size_t)got)) < 0)
            return NULL;
    }
    return out;
}

/* One line (ending in b'\n', or shorter at the end or at limit). */
static PyObject *readline_impl(InputObject *self, Py_ssize_t limit)
{
    size_t scanned = 0;

    for (;;) {
        size_t avail = self->len - self->pos;
        size_t span = limit >= 0 && (size_t)limit < avail ? (size_t)limit : avail;
        const char *base = self->buf ? self->buf + self->pos : "";
        const char *nl = span > scanned ? memchr(base + scanned, '\n', span - scanned) : NULL;
        size_t n;
        PyObject *out;

        if (nl)
            n = (size_t)(nl - base) + 1;
        else if ((limit >= 0 && avail >= (size_t)limit) || self->eof)
            n = span;
        else {
            Py_ssize_t got;
            scanned = span;
            got = fill(self);
            if (got < 0)
                return NULL;
            continue;
        }
        out = PyBytes_FromStringAndSize(base, (Py_ssize_t)n);
        if (out)
            self->pos += n;
        return out;
    }
}

static PyObject *input_readline(InputObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;

    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "readline() takes at most one argument");
        return NULL;
    }
    if (parse_size(nargs ? args[0] : NULL, &size) < 0 || check_usable(self) < 0)
        return NULL;
    return readline_impl(self, size);
}

static PyObject *input_readlines(InputObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t hint, total = 0;
    PyObject *list;

    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "readlines() takes at most one argument");
        return NULL;
    }
    if (parse_size(nargs ? args[0] : NULL, &hint) < 0 || check_usable(self) < 0)
        return NULL;
    list = PyList_New(0);
    if (!list)
        return NULL;
    for (;;) {
        PyObject *line = readline_impl(self, -1);
        Py_ssize_t n;
        if (!line) {
            Py_DECREF(list);
            return NULL;
        }
        n = PyBytes_GET_SIZE(line);
        if (n == 0) {
            Py_DECREF(line);
            break;
        }
        if (PyList_Append(list, line) < 0) {
            Py_DECREF(line);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(line);
        total += n;
        if (hint > 0 && total >= hint)
            break;
    }
    return list;
}

static PyObject *input_iternext(InputObject *self)
{
    PyObject *line;

    if (check_usable(self) < 0)
        return NULL;
    line = readline_impl(self, -1);
    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL;   /* StopIteration */
    }
    return line;
}

static void input_dealloc(InputObject *self)
{
    PyMem_Free(self->buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef input_methods[] = {
    { "read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL,
      "read(size=-1) -> bytes: up to size bytes of the request body (all when omitted)." },
    { "readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
      "readline(size=-1) -> bytes: one line of the request body." },
    { "readlines", (PyCFunction)(void (*)(void))input_readlines, METH_FASTCALL,
      "readlines(hint=-1) -> list of lines." },
    { NULL, NULL, 0, NULL }
};

PyTypeObject wf_input_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wsgi_fcgi.Input",
    .tp_basicsize = sizeof(InputObject),
    .tp_dealloc = (destructor)input_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The request body (wsgi.input).",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)input_iternext,
    .tp_methods = input_methods,
};

int wf_input_type_init(void)
{
    return PyType_Ready(&wf_input_type);
}

PyObject *wf_input_new(struct wf_request *req)
{
    InputObject *self = PyObject_New(InputObject, &wf_input_type);

    if (!self)
        return NULL;
    self->req = req;
    self->declared = req->content_length;
    self->remaining = req->content_length;
    self->received = 0;
    self->eof = req->content_length == 0;
    self->failed = 0;
    self->too_large = 0;
    self->max_body = req->max_body;
    self->buf = NULL;
    self->pos = self->len = self->cap = 0;
    return (PyObject *)self;
}

void wf_input_detach(PyObject *input)
{
    ((InputObject *)input)->req = NULL;
}
