/*
 * master.h - the prefork supervisor.  Never includes Python.h and never
 * runs application code.
 */
#ifndef WF_MASTER_H
#define WF_MASTER_H

#include "config.h"
#include "listen.h"

/* Runs cfg->processes workers on l until SIGTERM/SIGINT (graceful) or
 * SIGQUIT (immediate).  Returns the exit status: 0, or 1 when the workers
 * cannot load the application at start-up. */
int wf_master_run(const struct wf_config *cfg, struct wf_listener *l);

#endif
