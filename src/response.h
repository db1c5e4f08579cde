/*
 * response.h - start_response, write(), and the response's way to the wire.
 *
 * The predicates work on pointer/length pairs and need no interpreter, so
 * they are unit-tested directly.  Everything taking a PyObject needs the GIL;
 * the actual writes release it.
 */
#ifndef WF_RESPONSE_H
#define WF_RESPONSE_H

#include <Python.h>
#include <stddef.h>

#include "request.h"

/* "NNN reason": returns the code (100..999), or -1.  The reason may be
 * empty; CR, LF, NUL and other control characters but TAB are refused. */
int wf_status_check(const char *s, size_t len);
/* An RFC 9110 token. */
int wf_header_name_ok(const char *s, size_t len);
/* No CR, LF or NUL. */
int wf_header_value_ok(const char *s, size_t len);
/* Connection, Keep-Alive, Proxy-Authenticate, Proxy-Authorization, TE,
 * Trailer(s), Transfer-Encoding, Upgrade (any case). */
int wf_header_is_hop_by_hop(const char *s, size_t len);

extern PyTypeObject wf_start_response_type;
int wf_response_type_init(void);

/* A new start_response callable for req (borrowed until detach). */
PyObject *wf_response_new(struct wf_request *req);
void wf_response_detach(PyObject *sr);

/* Sends one body chunk (headers first if not yet sent), never beyond a
 * declared Content-Length.  0, or -1 with an exception set; when the client
 * went away req->client_gone is set and the exception is an OSError. */
int wf_response_write(PyObject *sr, const char *data, size_t len);
/* The body is complete: sends the headers if nothing was sent.  0, or -1
 * with an exception (start_response was never called). */
int wf_response_finish(PyObject *sr);
/* Declares the body length when the application did not (one-chunk
 * results); ignored once headers are sent or a length was declared. */
void wf_response_set_length(PyObject *sr, long long len);
int wf_response_headers_sent(PyObject *sr);

/* Writes the canned error response (wf_req_send_error, e.g. 500) when no
 * header was sent.  GIL held; released around the write. */
void wf_response_send_error(struct wf_request *req, int code);

#endif
