/*
 * py.c - interpreter start-up, per-thread attach, per-request enter/leave,
 * and the single route from a Python exception to the log.
 *
 * Python is started with install_signal_handlers = 0: signals belong to the
 * C process (worker.c waits for them with sigwait), and Python would
 * otherwise install a SIGINT handler that only runs when its main thread
 * executes bytecode, which ours never does after start-up.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "py.h"

static PyThreadState *main_tstate;
static __thread PyThreadState *thread_tstate;
static __thread PyGILState_STATE thread_gilstate;
static PyObject *format_exception;   /* traceback.format_exception */
static char version[32];

/* Sets up sys.path and the virtualenv; runs once at start-up. */
static const char setup_source[] =
"import os, sys\n"
"def setup(pythonpath, app_dir, venv):\n"
"    if venv:\n"
"        import site\n"
"        venv = os.path.abspath(venv)\n"
"        lib = 'python%d.%d' % sys.version_info[:2]\n"
"        sp = os.path.join(venv, 'lib', lib, 'site-packages')\n"
"        if not os.path.isdir(sp):\n"
"            raise FileNotFoundError('virtualenv %s has no %s' % (venv, sp))\n"
"        before = list(sys.path)\n"
"        site.addsitedir(sp)\n"
"        added = [p for p in sys.path if p not in before]\n"
"        sys.path[:] = added + before\n"
"        sys.prefix = sys.exec_prefix = venv\n"
"        os.environ['VIRTUAL_ENV'] = venv\n"
"    front = [os.path.abspath(p) for p in pythonpath]\n"
"    if app_dir is not None:\n"
"        front.append(os.path.abspath(app_dir))\n"
"    for p in reversed(front):\n"
"        if p in sys.path:\n"
"            sys.path.remove(p)\n"
"        sys.path.insert(0, p)\n";

static int run_setup(const struct wf_config *cfg, char *err, size_t errlen)
{
    PyObject *globals = NULL, *res = NULL, *setup = NULL, *paths = NULL, *app_dir = NULL;
    PyObject *venv = NULL, *out = NULL;
    int rc = -1;
    size_t i;

    globals = PyDict_New();
    if (!globals)
        goto out;
    if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto out;
    res = PyRun_String(setup_source, Py_file_input, globals, globals);
    if (!res)
        goto out;
    setup = PyDict_GetItemString(globals, "setup");   /* borrowed */
    paths = PyList_New(0);
    if (!setup || !paths)
        goto out;
    for (i = 0; i < cfg->pythonpath.n; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(cfg->pythonpath.v[i]);
        if (!s || PyList_Append(paths, s) < 0) {
            Py_XDECREF(s);
            goto out;
        }
        Py_DECREF(s);
    }
    if (cfg->app.is_file) {
        char *copy = strdup(cfg->app.target);
        char *slash = copy ? strrchr(copy, '/') : NULL;
        if (!copy) {
            PyErr_NoMemory();
            goto out;
        }
        if (slash)
            *(slash == copy ? slash + 1 : slash) = '\0';
        app_dir = PyUnicode_DecodeFSDefault(slash ? copy : ".");
        free(copy);
    } else {
        app_dir = PyUnicode_FromString(".");
    }
    if (!app_dir)
        goto out;
    if (cfg->virtualenv) {
        venv = PyUnicode_DecodeFSDefault(cfg->virtualenv);
        if (!venv)
            goto out;
    } else {
        venv = Py_NewRef(Py_None);
    }
    out = PyObject_CallFunctionObjArgs(setup, paths, app_dir, venv, NULL);
    if (out)
        rc = 0;
out:
    if (rc < 0) {
        wf_py_exception_summary(err, errlen);
        wf_py_log_exception("setting up sys.path failed");
    }
    Py_XDECREF(out);
    Py_XDECREF(venv);
    Py_XDECREF(app_dir);
    Py_XDECREF(paths);
    Py_XDECREF(res);
    Py_XDECREF(globals);
    return rc;
}

int wf_py_init(const struct wf_config *cfg, char *err, size_t errlen)
{
    PyStatus status;
    PyConfig config;
    PyObject *tb = NULL;
    char *argv[1] = { "wsgi-fcgi" };

    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    config.buffered_stdio = 0;
    status = PyConfig_SetBytesArgv(&config, 1, argv);
    if (PyStatus_Exception(status))
        goto fail;
    /* Let getpath start from the interpreter we were built for (or the
     * virtualenv's), so sys.executable and sys.prefix are right. */
    if (cfg->virtualenv) {
        char exe[PATH_MAX];
        snprintf(exe, sizeof exe, "%s/bin/python3", cfg->virtualenv);
        if (access(exe, X_OK) != 0) {
            snprintf(err, errlen, "--virtualenv %s: %s is missing", cfg->virtualenv, exe);
            PyConfig_Clear(&config);
            return -1;
        }
        status = PyConfig_SetBytesString(&config, &config.program_name, exe);
    } else {
        status = PyConfig_SetBytesString(&config, &config.program_name, WF_PYTHON_EXECUTABLE);
    }
    if (PyStatus_Exception(status))
        goto fail;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        goto fail;
    PyConfig_Clear(&config);

    snprintf(version, sizeof version, "%d.%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MICRO_VERSION);
    {
        const char *v = Py_GetVersion();
        size_t n = strcspn(v, " ");
        if (n < sizeof version) {
            memcpy(version, v, n);
            version[n] = '\0';
        }
    }
    tb = PyImport_ImportModule("traceback");
    if (tb)
        format_exception = PyObject_GetAttrString(tb, "format_exception");
    Py_XDECREF(tb);
    if (!format_exception) {
        wf_py_exception_summary(err, errlen);
        PyErr_Clear();
        return -1;
    }
    return run_setup(cfg, err, errlen);

fail:
    snprintf(err, errlen, "cannot start Python: %s%s%s", status.func ? status.func : "",
             status.func ? ": " : "", status.err_msg ? status.err_msg : "unknown error");
    PyConfig_Clear(&config);
    return -1;
}

const char *wf_py_version(void)
{
    return version;
}

void wf_py_release_main(void)
{
    main_tstate = PyEval_SaveThread();
}

void wf_py_reacquire_main(void)
{
    if (main_tstate) {
        PyEval_RestoreThread(main_tstate);
        main_tstate = NULL;
    }
}

void wf_py_finalize(void)
{
    Py_CLEAR(format_exception);
    if (Py_FinalizeEx() < 0)
        wf_log(WF_LOG_WARNING, "Python reported errors while shutting down");
}

void wf_py_gc_disable(void)
{
    PyGC_Disable();
}

void wf_py_gc_enable(void)
{
    PyGC_Enable();
}

/* Calls module.name() and returns the result as a long, or -1 (logged). */
static long call_long(const char *module, const char *name)
{
    PyObject *mod = NULL, *res = NULL;
    long v = -1;

    mod = PyImport_ImportModule(module);
    if (mod)
        res = PyObject_CallMethod(mod, name, NULL);
    if (res && res != Py_None)
        v = PyLong_AsLong(res);
    else if (res)
        v = 0;
    if (PyErr_Occurred()) {
        char context[128];
        snprintf(context, sizeof context, "%s.%s() failed", module, name);
        wf_py_log_exception(context);
        v = -1;
    }
    Py_XDECREF(res);
    Py_XDECREF(mod);
    return v;
}

long wf_py_gc_freeze(void)
{
    if (call_long("gc", "freeze") < 0)
        return -1;
    return call_long("gc", "get_freeze_count");
}

long wf_py_thread_count(void)
{
    return call_long("threading", "active_count");
}

void wf_py_before_fork(void)
{
    PyOS_BeforeFork();
}

void wf_py_after_fork_parent(void)
{
    PyOS_AfterFork_Parent();
}

void wf_py_after_fork_child(void)
{
    PyOS_AfterFork_Child();
}

void wf_py_thread_attach(void)
{
    thread_gilstate = PyGILState_Ensure();
    thread_tstate = PyEval_SaveThread();
}

void wf_py_thread_detach(void)
{
    PyEval_RestoreThread(thread_tstate);
    thread_tstate = NULL;
    PyGILState_Release(thread_gilstate);
}

void wf_py_enter(void)
{
    PyEval_RestoreThread(thread_tstate);
}

void wf_py_leave(void)
{
    thread_tstate = PyEval_SaveThread();
}

/* The pending exception as one object, a new reference, with the error
 * indicator cleared.  Python 3.12 keeps only the instance (its traceback in
 * __traceback__) and deprecates the (type, value, traceback) triple, which
 * older versions need normalised into the instance first. */
static PyObject *take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Makes exc (an exception instance, stolen) the pending exception again. */
static void restore_exception(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

void wf_py_exception_summary(char *buf, size_t len)
{
    PyObject *exc, *s = NULL;
    const char *msg = NULL;

    if (!PyErr_Occurred() || !(exc = take_exception())) {
        snprintf(buf, len, "unknown error");
        return;
    }
    s = PyObject_Str(exc);
    if (s)
        msg = PyUnicode_AsUTF8(s);
    if (!msg) {
        PyErr_Clear();
        msg = "";
    }
    snprintf(buf, len, "%s%s%s", Py_TYPE(exc)->tp_name, *msg ? ": " : "", msg);
    Py_XDECREF(s);
    restore_exception(exc);
}

void wf_py_log_exception(const char *context)
{
    PyObject *exc, *lines = NULL, *empty = NULL, *text = NULL;
    const char *utf8;
    Py_ssize_t len;

    if (!PyErr_Occurred() || !(exc = take_exception()))
        return;
    if (context)
        wf_log(WF_LOG_ERROR, "%s", context);
    /* traceback.format_exception(exc): the one-argument form (3.10+). */
    if (format_exception)
        lines = PyObject_CallOneArg(format_exception, exc);
    if (lines)
        empty = PyUnicode_FromString("");
    if (empty)
        text = PyUnicode_Join(empty, lines);
    if (text && (utf8 = PyUnicode_AsUTF8AndSize(text, &len)) != NULL) {
        wf_log_text(WF_LOG_ERROR, utf8, (size_t)len);
    } else {
        char summary[512];
        PyErr_Clear();
        restore_exception(exc);
        exc = NULL;
        wf_py_exception_summary(summary, sizeof summary);
        wf_log(WF_LOG_ERROR, "%s", summary);
    }
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(exc);
}
