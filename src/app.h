/*
 * app.h - resolving the APP spec to a WSGI callable.  GIL held.
 */
#ifndef WF_APP_H
#define WF_APP_H

#include <Python.h>

#include "config.h"

/* Returns a new reference to the callable named by spec (calling the
 * factory when spec->factory), or NULL with a Python exception set. */
PyObject *wf_app_load(const struct wf_app_spec *spec);

#endif
