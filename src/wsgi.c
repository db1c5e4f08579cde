/*
 * wsgi.c - one request through the application, as a straight line:
 *
 *   enter (GIL) -> environ -> app(environ, start_response) -> for each chunk:
 *   validate, write (GIL released inside) -> finish -> close() once -> leave
 *
 * Every PyObject local starts NULL and is released at the single exit; every
 * failure goes through fail(), which decides between a 500 (nothing sent
 * yet), an aborted response (headers already sent) and a quiet end (the
 * client went away).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "environ.h"
#include "errors.h"
#include "filewrapper.h"
#include "input.h"
#include "log.h"
#include "py.h"
#include "response.h"
#include "scoreboard.h"
#include "wsgi.h"

static PyObject *application;
static int log_to_server;
static PyObject *s_close;

static int types_init(void)
{
    if (wf_input_type_init() < 0 || wf_errors_type_init() < 0 || wf_response_type_init() < 0 ||
        wf_filewrapper_type_init() < 0)
        return -1;
    s_close = PyUnicode_InternFromString("close");
    return s_close ? 0 : -1;
}

/* --timeout tracebacks (scoreboard.h): faulthandler.register(
 * WF_SIG_TRACEBACK, file=wf_dump_fd, all_threads=True, chain=False).
 * Without a master (wf_dump_fd < 0) nothing is registered.  A failure is
 * logged; the worker serves anyway (a stuck request is then killed
 * without its tracebacks). */
static void register_tracebacks(void)
{
    PyObject *mod = NULL, *reg = NULL, *args = NULL, *kw = NULL, *res = NULL;

    if (wf_dump_fd < 0)
        return;
    mod = PyImport_ImportModule("faulthandler");
    if (mod)
        reg = PyObject_GetAttrString(mod, "register");
    if (reg)
        args = Py_BuildValue("(i)", (int)WF_SIG_TRACEBACK);
    if (args)
        kw = Py_BuildValue("{s:i,s:O,s:O}", "file", wf_dump_fd, "all_threads", Py_True,
                           "chain", Py_False);
    if (kw)
        res = PyObject_Call(reg, args, kw);
    if (!res)
        wf_py_log_exception("faulthandler.register failed: a request killed by --timeout "
                            "will be logged without its tracebacks");
    Py_XDECREF(res);
    Py_XDECREF(kw);
    Py_XDECREF(args);
    Py_XDECREF(reg);
    Py_XDECREF(mod);
}

/* --reload: which files are the application's.  Every module in
 * sys.modules whose __file__ is a .py file outside the standard library and
 * outside any site-packages or dist-packages directory (installed
 * packages): the application's own modules, wherever they are (its
 * directory, --pythonpath, --chdir).  Paths are made absolute and real. */
static const char watch_source[] =
"import os, sys, sysconfig\n"
"def files():\n"
"    skip = set()\n"
"    for key in ('stdlib', 'platstdlib'):\n"
"        try:\n"
"            skip.add(os.path.realpath(sysconfig.get_path(key)) + os.sep)\n"
"        except Exception:\n"
"            pass\n"
"    out = set()\n"
"    for mod in list(sys.modules.values()):\n"
"        f = getattr(mod, '__file__', None)\n"
"        if not isinstance(f, str) or not f.endswith('.py'):\n"
"            continue\n"
"        f = os.path.realpath(f)\n"
"        if '/site-packages/' in f or '/dist-packages/' in f:\n"
"            continue\n"
"        if any(f.startswith(s) for s in skip):\n"
"            continue\n"
"        out.add(f)\n"
"    return sorted(out)\n";

static PyObject *watch_files;      /* files() above, with --reload */
static Py_ssize_t watch_modules = -1;   /* len(sys.modules) when last sent */

/* Sends the application's module files to the master (wf_watch_fd), when
 * sys.modules has changed since the last time.  GIL held; errors logged. */
static void report_modules(void)
{
    PyObject *modules = PySys_GetObject("modules");   /* borrowed */
    PyObject *list = NULL;
    Py_ssize_t n, i;

    if (!watch_files || wf_watch_fd < 0 || !modules || !PyDict_Check(modules))
        return;
    n = PyDict_Size(modules);
    if (n == watch_modules)
        return;
    watch_modules = n;
    list = PyObject_CallNoArgs(watch_files);
    if (!list || !PyList_Check(list)) {
        wf_py_log_exception("--reload: listing the application's module files failed");
        Py_XDECREF(list);
        return;
    }
    for (i = 0; i < PyList_GET_SIZE(list); i++) {
        char line[4097];
        Py_ssize_t len;
        const char *path = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(list, i), &len);
        if (!path) {
            PyErr_Clear();
            continue;
        }
        if ((size_t)len + 1 > sizeof line || (size_t)len + 1 > PIPE_BUF)
            continue;
        memcpy(line, path, (size_t)len);
        line[len] = '\n';
        if (write(wf_watch_fd, line, (size_t)len + 1) < 0 && errno != EAGAIN)
            break;
    }
    Py_DECREF(list);
}

static int watch_setup(void)
{
    PyObject *globals = NULL, *res = NULL;

    if (wf_watch_fd < 0)
        return 0;
    globals = PyDict_New();
    if (globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0)
        res = PyRun_String(watch_source, Py_file_input, globals, globals);
    if (res)
        watch_files = Py_XNewRef(PyDict_GetItemString(globals, "files"));
    if (!watch_files)
        wf_py_log_exception("--reload: setting up the module list failed");
    Py_XDECREF(res);
    Py_XDECREF(globals);
    report_modules();
    return 0;
}

/* app_stderr: sys.stderr becomes a log stream like wsgi.errors, and the
 * tracebacks of --timeout are registered (a serving process; --check
 * leaves both alone). */
static int setup(const struct wf_config *cfg, const struct wf_wsgi_opts *opts, int app_stderr,
                 char *err, size_t errlen)
{
    struct wf_environ_opts eo = { cfg->url_scheme, cfg->script_name, opts->multithread,
                                  opts->multiprocess, opts->run_once };
    char summary[512];

    if (types_init() < 0 || wf_environ_init(&eo) < 0 ||
        (app_stderr && wf_errors_install_stderr() < 0)) {
        wf_py_exception_summary(summary, sizeof summary);
        snprintf(err, errlen, "internal set-up failed: %s", summary);
        wf_py_log_exception(NULL);
        return -1;
    }
    log_to_server = cfg->log_to_server;
    if (app_stderr)
        register_tracebacks();
    application = wf_app_load(&cfg->app);
    if (!application) {
        wf_py_exception_summary(summary, sizeof summary);
        snprintf(err, errlen, "cannot load application %s: %s", cfg->app_arg, summary);
        wf_py_log_exception(NULL);
        return -1;
    }
    if (app_stderr)
        watch_setup();
    return 0;
}

int wf_wsgi_setup(const struct wf_config *cfg, const struct wf_wsgi_opts *opts,
                  char *err, size_t errlen)
{
    return setup(cfg, opts, 1, err, errlen);
}

void wf_wsgi_teardown(void)
{
    Py_CLEAR(application);
    Py_CLEAR(s_close);
    Py_CLEAR(watch_files);
    wf_environ_fini();
}

static void mirror_to_server(void *ctx, const char *line, size_t len)
{
    struct wf_request *req = ctx;

    req->ops->log(req, line, len);
}

static void fail(struct wf_request *req, PyObject *sr)
{
    char label[256], context[400];

    wf_req_label(req, label, sizeof label);
    if (req->client_gone) {
        PyErr_Clear();
        if (req->timed_out)
            wf_log(WF_LOG_INFO, "gave up on %s: the web server made no progress for --io-timeout; "
                   "response abandoned", label);
        else
            wf_log(WF_LOG_INFO, "client went away during %s; response abandoned", label);
        return;
    }
    if (!sr || !wf_response_headers_sent(sr)) {
        snprintf(context, sizeof context, "error in the application serving %s; answered 500", label);
        wf_py_log_exception(context);
        wf_response_send_error(req, 500);
        return;
    }
    snprintf(context, sizeof context,
             "error in the application serving %s after the response started; response aborted", label);
    wf_py_log_exception(context);
    req->abort = 1;
}

/* Calls result.close() if it has one: exactly once per request. */
static void close_result(struct wf_request *req, PyObject *result)
{
    PyObject *close = NULL, *res = NULL;

    if (!result || PyBytes_CheckExact(result) || PyList_CheckExact(result) || PyTuple_CheckExact(result))
        return;
    close = PyObject_GetAttr(result, s_close);
    if (!close) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError))
            PyErr_Clear();
        else
            wf_py_log_exception("looking up close() on the application's result failed");
        return;
    }
    res = PyObject_CallNoArgs(close);
    if (!res) {
        char label[256], context[400];
        wf_req_label(req, label, sizeof label);
        snprintf(context, sizeof context, "close() of the application's result raised while serving %s", label);
        wf_py_log_exception(context);
    }
    Py_XDECREF(res);
    Py_DECREF(close);
}

void wf_wsgi_handle(struct wf_request *req)
{
    PyObject *input = NULL, *errors = NULL, *sr = NULL, *environ = NULL;
    PyObject *result = NULL, *iter = NULL, *item = NULL;
    PyObject *args[2];

    if (log_to_server && req->ops->log)
        wf_log_set_mirror(mirror_to_server, req);
    wf_py_enter();
    input = wf_input_new(req);
    errors = wf_errors_new();
    sr = wf_response_new(req);
    if (!input || !errors || !sr)
        goto error;
    environ = wf_environ_build(req, input, errors);
    if (!environ)
        goto error;
    args[0] = environ;
    args[1] = sr;
    result = PyObject_Vectorcall(application, args, 2, NULL);
    if (!result)
        goto error;
    if ((PyList_CheckExact(result) || PyTuple_CheckExact(result)) &&
        PySequence_Fast_GET_SIZE(result) == 1 &&
        PyBytes_Check(PySequence_Fast_GET_ITEM(result, 0)))
        wf_response_set_length(sr, PyBytes_GET_SIZE(PySequence_Fast_GET_ITEM(result, 0)));
    iter = PyObject_GetIter(result);
    if (!iter)
        goto error;
    while ((item = PyIter_Next(iter)) != NULL) {
        if (!PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "the application yielded %.100s; body chunks must be bytes",
                         Py_TYPE(item)->tp_name);
            goto error;
        }
        if (wf_response_write(sr, PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item)) < 0)
            goto error;
        Py_CLEAR(item);
    }
    if (PyErr_Occurred())
        goto error;
    if (wf_response_finish(sr) < 0)
        goto error;
    goto done;
error:
    fail(req, sr);
done:
    Py_CLEAR(item);
    Py_CLEAR(iter);
    close_result(req, result);
    if (input)
        wf_input_detach(input);
    if (sr)
        wf_response_detach(sr);
    if (errors)
        wf_errors_flush(errors);
    Py_XDECREF(result);
    Py_XDECREF(environ);
    Py_XDECREF(sr);
    Py_XDECREF(errors);
    Py_XDECREF(input);
    if (PyErr_Occurred())
        wf_py_log_exception("unexpected pending exception after a request");
    if (watch_files)
        report_modules();              /* --reload: modules imported since */
    wf_py_leave();
    wf_log_set_mirror(NULL, NULL);
}

int wf_wsgi_check(const struct wf_config *cfg)
{
    char err[1024];
    struct wf_wsgi_opts opts = { cfg->threads > 1, 0, 0 };
    PyObject *repr = NULL;
    int rc = 1;

    if (wf_py_init(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "wsgi-fcgi: %s\n", err);
        return 1;
    }
    if (setup(cfg, &opts, 0, err, sizeof err) < 0) {
        fprintf(stderr, "wsgi-fcgi: %s\n", err);
    } else {
        repr = PyObject_Repr(application);
        printf("wsgi-fcgi: %s is loadable: %s:%s%s is %s (Python %s)\n", cfg->app_arg,
               cfg->app.target, cfg->app.name, cfg->app.factory ? "()" : "",
               repr ? PyUnicode_AsUTF8(repr) : "callable", wf_py_version());
        PyErr_Clear();
        rc = 0;
    }
    Py_XDECREF(repr);
    wf_wsgi_teardown();
    wf_py_finalize();
    return rc;
}
