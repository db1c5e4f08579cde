/*
 * filewrapper.h - wsgi.file_wrapper(filelike, blksize=8192): an iterable of
 * blocks read from filelike, whose close() closes filelike.  GIL held.
 */
#ifndef WF_FILEWRAPPER_H
#define WF_FILEWRAPPER_H

#include <Python.h>

extern PyTypeObject wf_filewrapper_type;
int wf_filewrapper_type_init(void);

#endif
