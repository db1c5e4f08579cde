/*
 * worker.h - one serving process.
 */
#ifndef WF_WORKER_H
#define WF_WORKER_H

#include "config.h"
#include "listen.h"

/* Serves on l until SIGTERM/SIGINT (graceful) or SIGQUIT (immediate), or
 * after one request in CGI mode.  Returns the exit status: 0, or 1 when the
 * application or the interpreter could not be set up. */
int wf_worker_run(const struct wf_config *cfg, struct wf_listener *l);

#endif
