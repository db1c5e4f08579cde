/*
 * fcgi_guard.h - a cheap look at the first bytes of a FastCGI connection,
 * before libfcgi parses them, for the record streams known to make Debian
 * 12's libfcgi 2.4.2 abort the process (see the man page, SECURITY):
 *   - a PARAMS name/value pair declaring a huge length (CVE-2025-23016,
 *     only half fixed in that build);
 *   - FCGI_GET_VALUES records, whose reply overflows a stack buffer when
 *     FCGI_MAX_CONNS is named repeatedly.
 * Pure function on a byte buffer: no I/O, unit-tested in tests/.
 */
#ifndef WF_FCGI_GUARD_H
#define WF_FCGI_GUARD_H

#include <stddef.h>

/* Longest name or value accepted in one PARAMS pair. */
#define WF_FCGI_MAX_PARAM_LEN (1024 * 1024)

/* Returns 0 when buf (the first len bytes the peer sent, possibly cut
 * anywhere) shows nothing known to be hostile, or -1 with *why naming it. */
int wf_fcgi_guard(const unsigned char *buf, size_t len, const char **why);

#endif
