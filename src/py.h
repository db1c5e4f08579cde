/*
 * py.h - the embedded interpreter's lifecycle.  Deliberately free of
 * Python.h so that worker.c and main.c stay Python-agnostic.
 *
 * Thread model (see worker.c): the main thread initialises the interpreter,
 * loads the application and then releases the GIL (wf_py_release_main).
 * Each request thread calls wf_py_thread_attach once (a thread state that
 * persists for the thread's life, so threading.local survives between
 * requests), then brackets each request's Python work with wf_py_enter /
 * wf_py_leave, and calls wf_py_thread_detach before it exits.
 */
#ifndef WF_PY_H
#define WF_PY_H

#include <stddef.h>

#include "config.h"

/* Initialises Python (signal handlers off, sys.path per cfg) and returns
 * with the GIL held by the calling thread.  -1 with err on failure. */
int wf_py_init(const struct wf_config *cfg, char *err, size_t errlen);
/* "3.11.2", valid after wf_py_init. */
const char *wf_py_version(void);
void wf_py_release_main(void);
void wf_py_reacquire_main(void);
void wf_py_finalize(void);

/* --preload, in the zygote (the only thread, GIL held): the collector is
 * switched off while the application is imported (no freed holes among the
 * pages the workers will share); before each fork what exists is moved to
 * the permanent generation (gc.freeze: a worker's collections never write
 * to the objects it shares); the worker switches collection back on.
 * wf_py_gc_freeze returns gc.get_freeze_count(), or -1 (logged). */
void wf_py_gc_disable(void);
void wf_py_gc_enable(void);
long wf_py_gc_freeze(void);
/* The fork protocol of an embedding application: wf_py_before_fork with
 * the GIL held, then fork, then wf_py_after_fork_parent in the parent or
 * wf_py_after_fork_child in the child (which then holds the GIL). */
void wf_py_before_fork(void);
void wf_py_after_fork_parent(void);
void wf_py_after_fork_child(void);
/* threading.active_count(), or -1 (GIL held). */
long wf_py_thread_count(void);

void wf_py_thread_attach(void);
void wf_py_thread_detach(void);
void wf_py_enter(void);
void wf_py_leave(void);

/* Logs the pending Python exception with its traceback at error level,
 * after a line "context", and clears it.  Call with the GIL held. */
void wf_py_log_exception(const char *context);
/* Writes "Type: message" of the pending exception into buf without
 * clearing it.  GIL held. */
void wf_py_exception_summary(char *buf, size_t len);

#endif
