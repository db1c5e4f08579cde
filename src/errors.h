/*
 * errors.h - the wsgi.errors stream: text written to it reaches the log at
 * error level, one log line per line of text (line-buffered).  GIL held.
 */
#ifndef WF_ERRORS_H
#define WF_ERRORS_H

#include <Python.h>

extern PyTypeObject wf_errors_type;
int wf_errors_type_init(void);
PyObject *wf_errors_new(void);
/* Logs any unterminated last line (end of the request). */
void wf_errors_flush(PyObject *errors);

#endif
