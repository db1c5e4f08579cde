/*
 * filewrapper.c - wsgi.file_wrapper.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <structmember.h>

#include "filewrapper.h"

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} FileWrapperObject;

static int fw_init(FileWrapperObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "filelike", "blksize", NULL };
    PyObject *filelike;
    Py_ssize_t blksize = 8192;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:file_wrapper", kwlist, &filelike, &blksize))
        return -1;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return -1;
    }
    Py_XSETREF(self->filelike, Py_NewRef(filelike));
    self->blksize = blksize;
    return 0;
}

static PyObject *fw_iternext(FileWrapperObject *self)
{
    PyObject *data;

    if (!self->filelike)
        return NULL;
    data = PyObject_CallMethod(self->filelike, "read", "n", self->blksize);
    if (!data)
        return NULL;
    if ((PyBytes_Check(data) && PyBytes_GET_SIZE(data) == 0) ||
        (PyUnicode_Check(data) && PyUnicode_GET_LENGTH(data) == 0)) {
        Py_DECREF(data);
        return NULL;
    }
    return data;
}

static PyObject *fw_close(FileWrapperObject *self, PyObject *unused)
{
    PyObject *close, *res;

    if (!self->filelike)
        Py_RETURN_NONE;
    close = PyObject_GetAttrString(self->filelike, "close");
    if (!close) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    res = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    return res;
}

static int fw_traverse(FileWrapperObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->filelike);
    return 0;
}

static int fw_clear(FileWrapperObject *self)
{
    Py_CLEAR(self->filelike);
    return 0;
}

static void fw_dealloc(FileWrapperObject *self)
{
    PyObject_GC_UnTrack(self);
    fw_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef fw_methods[] = {
    { "close", (PyCFunction)fw_close, METH_NOARGS, "close(): close the wrapped file." },
    { NULL, NULL, 0, NULL }
};

static PyMemberDef fw_members[] = {
    { "filelike", T_OBJECT, offsetof(FileWrapperObject, filelike), READONLY, "the wrapped file" },
    { "blksize", T_PYSSIZET, offsetof(FileWrapperObject, blksize), READONLY, "block size" },
    { NULL, 0, 0, 0, NULL }
};

PyTypeObject wf_filewrapper_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wsgi_fcgi.FileWrapper",
    .tp_basicsize = sizeof(FileWrapperObject),
    .tp_dealloc = (destructor)fw_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "file_wrapper(filelike, blksize=8192): iterate a file in blocks.",
    .tp_traverse = (traverseproc)fw_traverse,
    .tp_clear = (inquiry)fw_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)fw_iternext,
    .tp_methods = fw_methods,
    .tp_members = fw_members,
    .tp_init = (initproc)fw_init,
    .tp_new = PyType_GenericNew,
};

int wf_filewrapper_type_init(void)
{
    return PyType_Ready(&wf_filewrapper_type);
}
