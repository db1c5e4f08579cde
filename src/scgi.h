/*
 * scgi.h - the SCGI header parser: pure functions over bytes, bounded by a
 * maximum header size, never reading past the buffer they are given.
 *
 * An SCGI request starts with a netstring "LEN:HEADER," whose HEADER is a
 * sequence of NUL-terminated strings alternating name and value.  A pair
 * CONTENT_LENGTH (decimal digits; the specification puts it first, web
 * servers' clients are read as if it could be anywhere) and a pair SCGI=1
 * must be present, and the body of CONTENT_LENGTH bytes follows the comma.
 */
#ifndef WF_SCGI_H
#define WF_SCGI_H

#include <stddef.h>

#include "request.h"

#define WF_SCGI_MAX_MAX_HEADER (16 * 1024 * 1024)

/* Looks at the first len bytes of a connection.  Returns the size of the
 * whole netstring (digits, ':', header, ',') once it is complete and well
 * formed, with *hdr and *hdr_len locating the header; 0 when more bytes are
 * needed; -1 when it is malformed or its header is longer than max_header,
 * with *why naming the fault. */
long wf_scgi_parse_netstring(const char *buf, size_t len, size_t max_header,
                             const char **hdr, size_t *hdr_len, const char **why);

/* Splits a header into req's params (pointers into hdr) and sets
 * req->content_length.  0, or -1 with *why (odd number of strings, header
 * not NUL-terminated, empty name, CONTENT_LENGTH missing, sent twice or
 * not decimal, SCGI missing or not 1). */
int wf_scgi_parse_header(const char *hdr, size_t len, struct wf_request *req, const char **why);

#endif
