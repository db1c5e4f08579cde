/*
 * log.h - log lines: "[YYYY-MM-DD HH:MM:SS +0000] [PID] [level] message".
 *
 * Every line is assembled in a local buffer and written with one write(2), so
 * lines from several threads or processes sharing the descriptor never
 * interleave.  The destination is stderr (fd 2) unless wf_log_set_fd says
 * otherwise.  Safe to call from any thread; it never touches Python.
 */
#ifndef WF_LOG_H
#define WF_LOG_H

#include <stddef.h>

/* The levels, as written in a line's third field:
 *   debug, info     what the server does (start-up, reloads, a client gone);
 *   warning         something unusual the server coped with (a malformed
 *                   request closed, a worker that died and was replaced);
 *   error           what the server itself found wrong (an application
 *                   exception answered 500, a request killed by --timeout);
 *   app             not a severity: text the application wrote itself (to
 *                   wsgi.errors or sys.stderr, e.g. through logging), one
 *                   line per line of text, never filtered. */
enum wf_log_level { WF_LOG_DEBUG, WF_LOG_INFO, WF_LOG_WARNING, WF_LOG_ERROR, WF_LOG_APP };

/* Lines below this level are dropped (default WF_LOG_INFO). */
void wf_log_set_level(enum wf_log_level level);
/* Where lines go; the descriptor is borrowed, never closed here. */
void wf_log_set_fd(int fd);
int wf_log_get_fd(void);

void wf_log(enum wf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes text of a given length; every '\n'-separated line gets its own
 * prefix.  A trailing newline does not produce an empty line. */
void wf_log_text(enum wf_log_level level, const char *text, size_t len);

/* A per-thread mirror: while set, every line this thread logs is also
 * passed (prefix included, newline-terminated) to fn.  Used to forward a
 * request's log lines to the web server (FCGI_STDERR). */
typedef void (*wf_log_mirror_fn)(void *ctx, const char *line, size_t len);
void wf_log_set_mirror(wf_log_mirror_fn fn, void *ctx);

/* --log-file: opens path for appending and makes it both the log and fd 2
 * (so Python's own stderr lands there too).  0 or -1 (errno). */
int wf_log_open_file(const char *path);
/* Opens path again (after rotation); the same descriptors stay in use.
 * Lines that could not be written before (a full disk) are reported in the
 * new file, counted, as the first line that can be written always does. */
int wf_log_reopen(const char *path);

/* --access-log: FILE, or "-" for stderr.  0 or -1 (errno). */
int wf_access_log_open(const char *path);
void wf_access_log_reopen(void);
int wf_access_log_enabled(void);
/* Writes one complete line (with its newline) with a single write(2). */
void wf_access_log_write(const char *line, size_t len);

#endif
