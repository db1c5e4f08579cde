/*
 * fuzz_py.h - the embedded interpreter for the targets that need it
 * (environ, response): started once, from LLVMFuzzerInitialize, with the
 * wsgi types ready; the GIL stays with the fuzzing thread.
 *
 * Python's allocator is plain malloc here, so ASan sees every object and
 * LeakSanitizer reports a reference leaked by the code under test (an object
 * nothing points to any more).
 */
#ifndef WF_FUZZ_PY_H
#define WF_FUZZ_PY_H

#include <Python.h>
#include <fcntl.h>

#include "environ.h"
#include "errors.h"
#include "filewrapper.h"
#include "input.h"
#include "log.h"
#include "response.h"

static void fuzz_py_init(void)
{
    PyPreConfig pre;
    PyConfig config;
    PyStatus st;
    static const struct wf_environ_opts opts;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    /* Log lines are formatted as usual, and dropped. */
    if (devnull >= 0)
        wf_log_set_fd(devnull);
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.allocator = PYMEM_ALLOCATOR_MALLOC;
    st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st))
        Py_ExitStatusException(st);
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st))
        Py_ExitStatusException(st);
    if (wf_input_type_init() < 0 || wf_errors_type_init() < 0 || wf_response_type_init() < 0 ||
        wf_filewrapper_type_init() < 0 || wf_environ_init(&opts) < 0) {
        PyErr_Print();
        abort();
    }
}

#endif
