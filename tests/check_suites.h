/*
 * check_suites.h - the unit test suites collected by check_wsgi_fcgi.c, one
 * per tests/check_<module>.c, and the helpers they share (check_fake.c).
 *
 * Check runs every test in a forked child (CK_FORK, the default), so a
 * test may change process state freely: the environment, umask, fd 0, the
 * log descriptor.  Python is initialised by a *checked* fixture, which runs
 * inside that child, never in the runner's main (STYLE 3.3).
 *
 * Python.h is not included here: it must come first in a translation unit.
 * A file that includes it first also gets the Python helpers below.
 */
#ifndef WF_CHECK_SUITES_H
#define WF_CHECK_SUITES_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

#include "request.h"

Suite *suite_config(void);
Suite *suite_listen(void);
Suite *suite_fcgi_walk(void);
Suite *suite_acl(void);
Suite *suite_scgi(void);
Suite *suite_response(void);
Suite *suite_environ(void);
Suite *suite_input(void);

/* A string literal with its length (embedded NULs included). */
#define LIT(s) (s), (sizeof(s) - 1)

/* ---- a fake front end: body from a C buffer, response into a C buffer ---- */

struct fake_conn {
    /* The raw body stream. */
    const char *in;
    size_t in_len;
    size_t in_pos;
    /* When >= 0: a read reaching past this many stream bytes fails with
     * -1/ECONNRESET (the peer went away mid-body). */
    long long read_fail_at;
    unsigned nreads;
    size_t largest_read;       /* biggest n a read was asked for */

    /* The response sink. */
    char *out;
    size_t out_len, out_cap;
    unsigned nwrites;
    unsigned nflushes;
    /* When non-zero, every write fails with -1 and this errno. */
    int write_errno;
};

extern const struct wf_request_ops fake_ops;

/* Prepares req and c: a stream of in_len bytes at in (borrowed), the given
 * CONTENT_LENGTH (-1 = none sent), reads never failing, writes succeeding. */
void fake_setup(struct wf_request *req, struct fake_conn *c, const char *in, size_t in_len,
                long long content_length);
/* Frees the sink buffer and the request's params. */
void fake_teardown(struct wf_request *req, struct fake_conn *c);
/* Adds a NUL-terminated name=value param (both borrowed). */
void fake_param(struct wf_request *req, const char *name, const char *value);

/* A heap copy of n bytes (valid even for n = 0). */
char *dup_bytes(const void *p, size_t n);

/* Reads everything written so far to fd (a regular file, from offset 0),
 * NUL-terminated; the caller frees it. */
char *slurp_fd(int fd, size_t *len);
/* A fresh temporary file, unlinked; the descriptor is returned. */
int temp_fd(void);

#ifdef Py_PYTHON_H
#include "environ.h"

/* The checked fixture: Py_InitializeEx(0), the wsgi types, and
 * wf_environ_init with py_env_opts (all zero: no forced scheme, no
 * --script-name, single-threaded, not run_once). */
void py_setup(void);
void py_teardown(void);
/* Re-initialises environ.c with other options. */
void py_environ_reinit(const struct wf_environ_opts *opts);

/* Asserts that an exception of type exc is pending, then clears it. */
#define ck_assert_pyerr(exc)                                                     \
    do {                                                                         \
        ck_assert_msg(PyErr_Occurred() != NULL, "no exception was raised");      \
        ck_assert_msg(PyErr_ExceptionMatches(exc), "wrong exception type: %s",   \
                      py_pending_type_name());                                   \
        PyErr_Clear();                                                           \
    } while (0)
/* Asserts no exception is pending (printing it when there is one). */
#define ck_assert_no_pyerr()                                                     \
    ck_assert_msg(PyErr_Occurred() == NULL, "unexpected exception: %s",          \
                  py_pending_type_name())
const char *py_pending_type_name(void);

/* Bytes object o equals the n bytes at p. */
void ck_assert_pybytes(PyObject *o, const char *p, size_t n);
#endif

#endif
