/*
 * errors.h - the wsgi.errors stream: text written to it reaches the log at
 * level "app" (the application's own text, not a server error), one log
 * line per line of text (line-buffered).  GIL held.
 */
#ifndef WF_ERRORS_H
#define WF_ERRORS_H

#include <Python.h>

extern PyTypeObject wf_errors_type;
int wf_errors_type_init(void);
PyObject *wf_errors_new(void);
/* Logs any unterminated last line (end of the request). */
void wf_errors_flush(PyObject *errors);
/* Makes sys.stderr such a stream too (sys.__stderr__ stays fd 2).  0, or
 * -1 with an exception set. */
int wf_errors_install_stderr(void);

#endif
