/*
 * input.h - the wsgi.input object: read(), read(n), readline(), readline(n),
 * readlines(), iteration.  It streams from the request's body reader with
 * the GIL released, never returns more than CONTENT_LENGTH bytes (b'' at the
 * end of the body), and raises OSError when the body is cut short.  GIL held
 * for every call here.
 */
#ifndef WF_INPUT_H
#define WF_INPUT_H

#include <Python.h>

#include "request.h"

extern PyTypeObject wf_input_type;

/* 0, or -1 with an exception set. */
int wf_input_type_init(void);
/* New reference; borrows req until wf_input_detach. */
PyObject *wf_input_new(struct wf_request *req);
/* Ends the borrow: later reads raise ValueError. */
void wf_input_detach(PyObject *input);

#endif
