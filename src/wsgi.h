/*
 * wsgi.h - the only caller of the application.
 */
#ifndef WF_WSGI_H
#define WF_WSGI_H

#include <stddef.h>

#include "config.h"
#include "request.h"

struct wf_wsgi_opts {
    int multithread, multiprocess, run_once;
};

/* With the GIL held, after wf_py_init: prepares the types and the environ
 * cache, makes sys.stderr a log stream (text tagged [app], like
 * wsgi.errors) and loads the application.  On failure the Python traceback has
 * been logged and err holds one line naming the cause; returns -1. */
int wf_wsgi_setup(const struct wf_config *cfg, const struct wf_wsgi_opts *opts,
                  char *err, size_t errlen);
/* Releases the application (GIL held). */
void wf_wsgi_teardown(void);

/* Serves one request: environ, call, iterate, close() exactly once, errors
 * to a 500 or an aborted response.  Called WITHOUT the GIL (it takes and
 * drops it).  Borrows req. */
void wf_wsgi_handle(struct wf_request *req);

/* --check: loads the application and reports on stdout.  Returns the exit
 * status (0 or 1).  Initialises and finalises Python itself. */
int wf_wsgi_check(const struct wf_config *cfg);

#endif
