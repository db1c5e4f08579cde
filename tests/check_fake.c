/*
 * check_fake.c - helpers shared by the suites: a fake front end whose body
 * reader serves bytes from a C buffer and whose sink appends to one, and
 * the checked fixture that brings up the embedded interpreter.
 *
 * The fake reader honours the contract of wf_request_ops.read: it returns
 * all n bytes asked for, or fewer only at the end of the stream, or -1 with
 * errno set.  It records how many reads there were and the largest size
 * asked for, so tests can tell that wsgi.input streams instead of slurping.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "environ.h"
#include "errors.h"
#include "filewrapper.h"
#include "input.h"
#include "response.h"

/* ---- the fake front end -------------------------------------------------- */

static ssize_t fake_read(struct wf_request *req, char *buf, size_t n)
{
    struct fake_conn *c = req->conn;
    size_t avail = c->in_len - c->in_pos;
    size_t take = n < avail ? n : avail;

    c->nreads++;
    if (n > c->largest_read)
        c->largest_read = n;
    if (c->read_fail_at >= 0 && n > 0 && (long long)(c->in_pos + n) > c->read_fail_at) {
        /* The stream breaks before this read can be served in full. */
        errno = ECONNRESET;
        return -1;
    }
    if (take)
        memcpy(buf, c->in + c->in_pos, take);
    c->in_pos += take;
    return (ssize_t)take;
}

static int fake_write(struct wf_request *req, const char *buf, size_t n)
{
    struct fake_conn *c = req->conn;

    c->nwrites++;
    if (c->write_errno) {
        errno = c->write_errno;
        return -1;
    }
    if (c->out_len + n + 1 > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 256;
        char *p;
        while (cap < c->out_len + n + 1)
            cap *= 2;
        p = realloc(c->out, cap);
        ck_assert_ptr_nonnull(p);
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, buf, n);
    c->out_len += n;
    c->out[c->out_len] = '\0';
    return 0;
}

static int fake_flush(struct wf_request *req)
{
    struct fake_conn *c = req->conn;

    c->nflushes++;
    return c->write_errno ? -1 : 0;
}

const struct wf_request_ops fake_ops = { fake_read, fake_write, fake_flush };

void fake_setup(struct wf_request *req, struct fake_conn *c, const char *in, size_t in_len,
                long long content_length)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->in_len = in_len;
    c->read_fail_at = -1;
    wf_req_init(req);
    req->content_length = content_length;
    req->ops = &fake_ops;
    req->conn = c;
}

void fake_teardown(struct wf_request *req, struct fake_conn *c)
{
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    wf_req_release(req);
}

void fake_param(struct wf_request *req, const char *name, const char *value)
{
    ck_assert_int_eq(wf_req_add_param(req, name, strlen(name), value, strlen(value)), 0);
}

char *dup_bytes(const void *p, size_t n)
{
    char *b = malloc(n ? n : 1);

    ck_assert_ptr_nonnull(b);
    if (n)
        memcpy(b, p, n);
    return b;
}

char *slurp_fd(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);

    ck_assert_ptr_nonnull(b);
    for (;;) {
        ssize_t r;
        if (n + 1 == cap) {
            cap *= 2;
            b = realloc(b, cap);
            ck_assert_ptr_nonnull(b);
        }
        r = pread(fd, b + n, cap - n - 1, (off_t)n);
        ck_assert_int_ge(r, 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

int temp_fd(void)
{
    char path[] = "/tmp/wf-check-XXXXXX";
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

/* ---- the Python fixture ------------------------------------------------------ */

void py_setup(void)
{
    static const struct wf_environ_opts opts;   /* all defaults */

    Py_InitializeEx(0);
    ck_assert(Py_IsInitialized());
    ck_assert_int_eq(wf_input_type_init(), 0);
    ck_assert_int_eq(wf_errors_type_init(), 0);
    ck_assert_int_eq(wf_response_type_init(), 0);
    ck_assert_int_eq(wf_filewrapper_type_init(), 0);
    ck_assert_int_eq(wf_environ_init(&opts), 0);
}

void py_teardown(void)
{
    wf_environ_fini();
    ck_assert_no_pyerr();
    Py_FinalizeEx();
}

void py_environ_reinit(const struct wf_environ_opts *opts)
{
    wf_environ_fini();
    ck_assert_int_eq(wf_environ_init(opts), 0);
}

const char *py_pending_type_name(void)
{
    PyObject *t = PyErr_Occurred();

    return t ? ((PyTypeObject *)t)->tp_name : "(none)";
}

void ck_assert_pybytes(PyObject *o, const char *p, size_t n)
{
    ck_assert_msg(o != NULL, "NULL instead of bytes (%s)", py_pending_type_name());
    ck_assert_msg(PyBytes_Check(o), "not bytes but %s", Py_TYPE(o)->tp_name);
    ck_assert_uint_eq((size_t)PyBytes_GET_SIZE(o), n);
    if (n)
        ck_assert_mem_eq(PyBytes_AS_STRING(o), p, n);
}
