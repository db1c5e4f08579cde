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

/* --preload: the zygote (zygote.h).  Loads the application once, tells
 * the master on ctl_fd, then forks a worker for each command it receives
 * there until SIGTERM/SIGINT/SIGQUIT or the master closes its end.  Returns
 * the exit status in the zygote (1: the application could not be loaded)
 * and, in each worker forked from it, the worker's. */
int wf_zygote_run(const struct wf_config *cfg, struct wf_listener *l, int ctl_fd);

#endif
