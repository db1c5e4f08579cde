/*
 * errors.c - wsgi.errors: write(str), writelines(iterable), flush(), and
 * the few attributes of a text stream that logging and traceback look at.
 *
 * What an application writes here is its own text, not an error the server
 * found: it is logged at level "app", one log line per line of text.  The
 * same type replaces sys.stderr in a serving process, so print(...,
 * file=sys.stderr), logging's default StreamHandler and warnings reach the
 * log the same way instead of as unprefixed bytes on fd 2.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <string.h>

#include "errors.h"
#include "log.h"

typedef struct {
    PyObject_HEAD
    char *buf;          /* an unterminated line waiting for its end */
    size_t len, cap;
} ErrorsObject;

static void emit_pending(ErrorsObject *self)
{
    if (self->len > 0) {
        wf_log_text(WF_LOG_APP, self->buf, self->len);
        self->len = 0;
    }
}

static int errors_append(ErrorsObject *self, const char *s, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t chunk = nl ? (size_t)(nl - s) + 1 : n;

        if (nl && self->len == 0) {
            wf_log_text(WF_LOG_APP, s, chunk);   /* common case: no copy */
        } else {
            if (self->len + chunk > self->cap) {
                size_t cap = self->cap ? self->cap : 256;
                char *b;
                while (cap < self->len + chunk)
                    cap *= 2;
                b = PyMem_Realloc(self->buf, cap);
                if (!b) {
                    PyErr_NoMemory();
                    return -1;
                }
                self->buf = b;
                self->cap = cap;
            }
            memcpy(self->buf + self->len, s, chunk);
            self->len += chunk;
            if (nl)
                emit_pending(self);
        }
        s += chunk;
        n -= chunk;
    }
    return 0;
}

static int write_one(ErrorsObject *self, PyObject *text)
{
    const char *s;
    Py_ssize_t n;

    if (PyUnicode_Check(text)) {
        s = PyUnicode_AsUTF8AndSize(text, &n);
        if (!s)
            return -1;
    } else if (PyBytes_Check(text)) {
        s = PyBytes_AS_STRING(text);
        n = PyBytes_GET_SIZE(text);
    } else {
        PyErr_Format(PyExc_TypeError, "wsgi.errors.write() takes str, not %.100s", Py_TYPE(text)->tp_name);
        return -1;
    }
    return errors_append(self, s, (size_t)n);
}

static PyObject *errors_write(ErrorsObject *self, PyObject *text)
{
    if (write_one(self, text) < 0)
        return NULL;
    return PyLong_FromSsize_t(PyUnicode_Check(text) ? PyUnicode_GET_LENGTH(text) : PyBytes_GET_SIZE(text));
}

static PyObject *errors_writelines(ErrorsObject *self, PyObject *lines)
{
    PyObject *it = PyObject_GetIter(lines), *item;

    if (!it)
        return NULL;
    while ((item = PyIter_Next(it)) != NULL) {
        int rc = write_one(self, item);
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(it);
            return NULL;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *errors_flush(ErrorsObject *self, PyObject *unused)
{
    emit_pending(self);
    Py_RETURN_NONE;
}

/* The log's descriptor: faulthandler.enable() and the like ask for it. */
static PyObject *errors_fileno(ErrorsObject *self, PyObject *unused)
{
    return PyLong_FromLong(wf_log_get_fd());
}

static PyObject *errors_false(ErrorsObject *self, PyObject *unused)
{
    Py_RETURN_FALSE;
}

static PyObject *errors_true(ErrorsObject *self, PyObject *unused)
{
    Py_RETURN_TRUE;
}

static PyObject *errors_encoding(ErrorsObject *self, void *unused)
{
    return PyUnicode_FromString("utf-8");
}

static PyObject *errors_closed(ErrorsObject *self, void *unused)
{
    Py_RETURN_FALSE;
}

static void errors_dealloc(ErrorsObject *self)
{
    emit_pending(self);
    PyMem_Free(self->buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef errors_methods[] = {
    { "write", (PyCFunction)errors_write, METH_O, "write(str): log text (line-buffered)." },
    { "writelines", (PyCFunction)errors_writelines, METH_O, "writelines(iterable of str)." },
    { "flush", (PyCFunction)errors_flush, METH_NOARGS, "flush(): log a pending partial line." },
    { "fileno", (PyCFunction)errors_fileno, METH_NOARGS, "fileno(): the log's descriptor." },
    { "isatty", (PyCFunction)errors_false, METH_NOARGS, "isatty(): False." },
    { "readable", (PyCFunction)errors_false, METH_NOARGS, "readable(): False." },
    { "seekable", (PyCFunction)errors_false, METH_NOARGS, "seekable(): False." },
    { "writable", (PyCFunction)errors_true, METH_NOARGS, "writable(): True." },
    { NULL, NULL, 0, NULL }
};

static PyGetSetDef errors_getset[] = {
    { "encoding", (getter)errors_encoding, NULL, "Text is written as UTF-8.", NULL },
    { "closed", (getter)errors_closed, NULL, "Never closed.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject wf_errors_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wsgi_fcgi.Errors",
    .tp_basicsize = sizeof(ErrorsObject),
    .tp_dealloc = (destructor)errors_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.errors: text written here goes to the log, tagged [app].",
    .tp_methods = errors_methods,
    .tp_getset = errors_getset,
};

int wf_errors_type_init(void)
{
    return PyType_Ready(&wf_errors_type);
}

PyObject *wf_errors_new(void)
{
    ErrorsObject *self = PyObject_New(ErrorsObject, &wf_errors_type);

    if (!self)
        return NULL;
    self->buf = NULL;
    self->len = self->cap = 0;
    return (PyObject *)self;
}

void wf_errors_flush(PyObject *errors)
{
    emit_pending((ErrorsObject *)errors);
}

int wf_errors_install_stderr(void)
{
    PyObject *stream = wf_errors_new();
    int rc;

    if (!stream)
        return -1;
    rc = PySys_SetObject("stderr", stream);
    Py_DECREF(stream);
    return rc;
}
