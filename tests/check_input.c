/*
 * check_input.c - unit tests of wsgi.input (src/input.h) over the fake body
 * reader of check_fake.c: exact and unknown lengths, every read shape, line
 * splitting across the 8 KiB read-ahead, bodies cut short or broken, and use
 * after the request ended.
 *
 * Each case compares what the methods return with the body it put in the
 * stream, and checks that nothing past CONTENT_LENGTH is ever returned.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "input.h"

static struct wf_request req;
static struct fake_conn conn;
static PyObject *in;

/* A new wsgi.input over a stream of len bytes with the given CONTENT_LENGTH. */
static void start(const char *stream, size_t len, long long content_length)
{
    if (in) {
        wf_input_detach(in);
        Py_CLEAR(in);
        fake_teardown(&req, &conn);
    }
    fake_setup(&req, &conn, stream, len, content_length);
    in = wf_input_new(&req);
    ck_assert_ptr_nonnull(in);
}

static void in_setup(void)
{
    py_setup();
    in = NULL;
}

static void in_teardown(void)
{
    if (in) {
        wf_input_detach(in);
        Py_CLEAR(in);
        fake_teardown(&req, &conn);
    }
    py_teardown();
}

/* in.method() or in.method(n) (n >= -1; -2 = no argument). */
static PyObject *call(const char *method, Py_ssize_t n)
{
    return n == -2 ? PyObject_CallMethod(in, method, NULL)
                   : PyObject_CallMethod(in, method, "n", n);
}

static void expect(const char *method, Py_ssize_t n, const char *want, size_t want_len)
{
    PyObject *r = call(method, n);

    ck_assert_msg(r != NULL, "%s(%zd) raised %s", method, n, py_pending_type_name());
    ck_assert_pybytes(r, want, want_len);
    Py_DECREF(r);
}
#define EXPECT(method, n, lit) expect((method), (n), LIT(lit))

static void expect_raises(const char *method, Py_ssize_t n, PyObject *exc)
{
    PyObject *r = call(method, n);

    ck_assert_msg(r == NULL, "%s(%zd) returned instead of raising", method, n);
    ck_assert_pyerr(exc);
}

/* A deterministic body of n bytes with a newline every so often. */
static char *make_body(size_t n, unsigned seed)
{
    char *b = malloc(n ? n : 1);
    unsigned x = seed * 2654435761u + 1;
    size_t i;

    ck_assert_ptr_nonnull(b);
    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (x >> 16) % 97 == 0 ? '\n' : (char)(x >> 8);
    }
    return b;
}

/* Reads to the end with read(size), checking no chunk is over size. */
static char *read_all_by(Py_ssize_t size, size_t *total)
{
    size_t cap = 1024, n = 0;
    char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    for (;;) {
        PyObject *r = call("read", size);
        Py_ssize_t k;
        ck_assert_msg(r != NULL, "read(%zd) raised %s", size, py_pending_type_name());
        ck_assert(PyBytes_Check(r));
        k = PyBytes_GET_SIZE(r);
        ck_assert_msg(k <= size, "read(%zd) returned %zd bytes", size, k);
        if (k == 0) {
            Py_DECREF(r);
            break;
        }
        while (n + (size_t)k > cap)
            cap *= 2;
        out = realloc(out, cap);
        ck_assert_ptr_nonnull(out);
        memcpy(out + n, PyBytes_AS_STRING(r), (size_t)k);
        n += (size_t)k;
        Py_DECREF(r);
    }
    *total = n;
    return out;
}

/* ---- read ---------------------------------------------------------------------------- */

START_TEST(read_exact_length)
{
    start(LIT("hello world"), 11);
    EXPECT("read", -2, "hello world");
    EXPECT("read", -2, "");
    EXPECT("read", -2, "");
    EXPECT("read", 5, "");
    EXPECT("readline", -2, "");
    ck_assert_int_eq(req.client_gone, 0);
}
END_TEST

START_TEST(read_size_forms)
{
    start(LIT("abcdefghij"), 10);
    EXPECT("read", 0, "");
    EXPECT("read", 3, "abc");
    EXPECT("read", -1, "defghij");       /* -1 means all */
    start(LIT("abcdefghij"), 10);
    {
        PyObject *r = PyObject_CallMethod(in, "read", "O", Py_None);
        ck_assert_pybytes(r, LIT("abcdefghij"));
        Py_DECREF(r);
        r = PyObject_CallMethod(in, "read", "s", "3");
        ck_assert_ptr_null(r);
        ck_assert_pyerr(PyExc_TypeError);
        r = PyObject_CallMethod(in, "read", "ii", 1, 2);
        ck_assert_ptr_null(r);
        ck_assert_pyerr(PyExc_TypeError);
    }
}
END_TEST

START_TEST(read_odd_sizes)
{
    static const Py_ssize_t sizes[] = { 1, 2, 3, 7, 100, 4095, 8191, 8192, 8193, 65537, 1 << 20 };
    size_t len = 100003, i;
    char *body = make_body(len, 1);

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t got;
        char *out;

        start(body, len, (long long)len);
        out = read_all_by(sizes[i], &got);
        ck_assert_msg(got == len, "read(%zd) loop gave %zu of %zu bytes", sizes[i], got, len);
        ck_assert_msg(memcmp(out, body, len) == 0, "read(%zd) loop: bytes differ", sizes[i]);
        free(out);
        EXPECT("read", -2, "");
    }
    free(body);
}
END_TEST

START_TEST(read_huge_size_argument)
{
    /* A size far past the body must not try to allocate it. */
    start(LIT("small body"), 10);
    EXPECT("read", (Py_ssize_t)1 << 40, "small body");
    EXPECT("read", (Py_ssize_t)1 << 40, "");
    start(LIT("unknown length"), -1);
    {
        /* Unknown length: the stream's end is the body's end, and the
         * result grows with the data, so a huge size costs nothing. */
        PyObject *r = call("read", (Py_ssize_t)1 << 50);
        ck_assert_pybytes(r, LIT("unknown length"));
        Py_DECREF(r);
    }
}
END_TEST

START_TEST(read_never_past_content_length)
{
    static const char stream[] = "0123456789EXTRA-BYTES-NOT-BODY\n";
    PyObject *r;

    start(LIT(stream), 10);
    EXPECT("read", -2, "0123456789");
    EXPECT("read", -2, "");
    ck_assert_uint_le(conn.in_pos, 10);

    start(LIT(stream), 10);
    EXPECT("read", 4, "0123");
    EXPECT("read", 100, "456789");
    EXPECT("read", 100, "");
    ck_assert_uint_le(conn.in_pos, 10);

    start(LIT(stream), 10);
    EXPECT("readline", -2, "0123456789");
    EXPECT("readline", -2, "");
    ck_assert_uint_le(conn.in_pos, 10);

    start(LIT(stream), 10);
    r = call("readlines", -2);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(PyList_GET_SIZE(r), 1);
    ck_assert_pybytes(PyList_GET_ITEM(r, 0), LIT("0123456789"));
    Py_DECREF(r);
    ck_assert_uint_le(conn.in_pos, 10);

    start(LIT(stream), 0);                 /* CONTENT_LENGTH 0 */
    EXPECT("read", -2, "");
    EXPECT("read", 10, "");
    EXPECT("readline", -2, "");
    ck_assert_uint_eq(conn.in_pos, 0);
}
END_TEST

START_TEST(read_streams)
{
    /* A big body is not taken from the stream before it is asked for. */
    size_t len = 4u << 20;
    char *body = make_body(len, 2);
    PyObject *r;

    start(body, len, (long long)len);
    r = call("read", 10);
    ck_assert_pybytes(r, body, 10);
    Py_DECREF(r);
    ck_assert_msg(conn.in_pos <= 65536, "read(10) took %zu bytes from the stream", conn.in_pos);
    r = call("readline", -2);
    ck_assert_ptr_nonnull(r);
    Py_DECREF(r);
    ck_assert_msg(conn.in_pos <= 65536 + 8192, "readline() took %zu bytes", conn.in_pos);
    r = call("read", -2);
    ck_assert_ptr_nonnull(r);
    Py_DECREF(r);
    ck_assert_uint_eq(conn.in_pos, len);
    free(body);
}
END_TEST

/* ---- readline, readlines, iteration --------------------------------------------------------- */

/* A body of lines of these lengths (newline included, except the last). */
static char *lines_body(const size_t *lens, size_t nlines, size_t *total)
{
    size_t n = 0, i;
    char *b;

    for (i = 0; i < nlines; i++)
        n += lens[i];
    b = malloc(n);
    ck_assert_ptr_nonnull(b);
    n = 0;
    for (i = 0; i < nlines; i++) {
        memset(b + n, 'a' + (int)(i % 26), lens[i]);
        if (i + 1 < nlines)
            b[n + lens[i] - 1] = '\n';
        n += lens[i];
    }
    *total = n;
    return b;
}

static const size_t line_lens[] = { 6, 1, 1, 8191, 8192, 8193, 8194, 16384, 20000, 3, 1, 70000, 9 };
#define NLINES (sizeof line_lens / sizeof line_lens[0])

static void check_lines_by_readline(const char *body, size_t total)
{
    size_t off = 0, i;

    for (i = 0; i < NLINES; i++) {
        PyObject *r = call("readline", -2);
        ck_assert_msg(r != NULL, "readline %zu raised %s", i, py_pending_type_name());
        ck_assert_msg((size_t)PyBytes_GET_SIZE(r) == line_lens[i], "line %zu: %zd bytes, want %zu", i,
                      PyBytes_GET_SIZE(r), line_lens[i]);
        ck_assert(memcmp(PyBytes_AS_STRING(r), body + off, line_lens[i]) == 0);
        off += line_lens[i];
        Py_DECREF(r);
    }
    ck_assert_uint_eq(off, total);
    EXPECT("readline", -2, "");
    EXPECT("readline", -2, "");
    EXPECT("read", -2, "");
}

START_TEST(readline_lines)
{
    size_t total;
    char *body = lines_body(line_lens, NLINES, &total);

    ck_assert_int_ne(body[total - 1], '\n');       /* the last line has no newline */
    start(body, total, (long long)total);
    check_lines_by_readline(body, total);
    start(body, total, -1);                         /* unknown length: the same */
    check_lines_by_readline(body, total);
    free(body);
}
END_TEST

static void check_lines_list(PyObject *list, const char *body, size_t total)
{
    size_t off = 0, i;

    ck_assert_ptr_nonnull(list);
    ck_assert_int_eq(PyList_GET_SIZE(list), (Py_ssize_t)NLINES);
    for (i = 0; i < NLINES; i++) {
        PyObject *r = PyList_GET_ITEM(list, i);
        ck_assert_pybytes(r, body + off, line_lens[i]);
        off += line_lens[i];
    }
    ck_assert_uint_eq(off, total);
}

START_TEST(readlines_and_iteration)
{
    size_t total;
    char *body = lines_body(line_lens, NLINES, &total);
    PyObject *list, *it, *line;

    start(body, total, (long long)total);
    list = call("readlines", -2);
    check_lines_list(list, body, total);
    Py_DECREF(list);
    list = call("readlines", -2);
    ck_assert_ptr_nonnull(list);
    ck_assert_int_eq(PyList_GET_SIZE(list), 0);
    Py_DECREF(list);

    start(body, total, (long long)total);
    it = PyObject_GetIter(in);
    ck_assert_ptr_nonnull(it);
    list = PyList_New(0);
    while ((line = PyIter_Next(it)) != NULL) {
        ck_assert_int_eq(PyList_Append(list, line), 0);
        Py_DECREF(line);
    }
    ck_assert_no_pyerr();
    check_lines_list(list, body, total);
    Py_DECREF(list);
    ck_assert_ptr_null(PyIter_Next(it));            /* stays exhausted */
    ck_assert_no_pyerr();
    Py_DECREF(it);

    start(body, total, -1);
    list = PySequence_List(in);
    check_lines_list(list, body, total);
    Py_DECREF(list);
    free(body);
}
END_TEST

START_TEST(readline_limit)
{
    start(LIT("abcdef\nxyz"), 10);
    EXPECT("readline", 3, "abc");
    EXPECT("readline", 10, "def\n");
    EXPECT("readline", 0, "");
    EXPECT("readline", 2, "xy");
    EXPECT("readline", -1, "z");
    EXPECT("readline", -2, "");
    EXPECT("readline", 5, "");

    start(LIT("line\nnext\n"), 10);
    EXPECT("readline", 5, "line\n");
    EXPECT("readline", 4, "next");
    EXPECT("readline", 4, "\n");
    {
        PyObject *r = PyObject_CallMethod(in, "readline", "O", Py_None);
        ck_assert_pybytes(r, LIT(""));
        Py_DECREF(r);
    }
}
END_TEST

START_TEST(readline_limit_long_line)
{
    /* readline(n) on a line longer than the read-ahead, in pieces. */
    size_t len = 30000, off = 0;
    char *body = malloc(len + 1);

    ck_assert_ptr_nonnull(body);
    memset(body, 'q', len);
    body[len] = '\n';
    start(body, len + 1, (long long)len + 1);
    while (off < len + 1) {
        PyObject *r = call("readline", 9000);
        size_t want = len + 1 - off < 9000 ? len + 1 - off : 9000;
        ck_assert_pybytes(r, body + off, want);
        Py_DECREF(r);
        off += want;
    }
    EXPECT("readline", 9000, "");
    free(body);
}
END_TEST

START_TEST(readlines_hint)
{
    PyObject *list;

    start(LIT("a\nbb\nccc\ndddd\n"), 14);
    list = call("readlines", 1);
    ck_assert_ptr_nonnull(list);
    ck_assert_int_eq(PyList_GET_SIZE(list), 1);
    ck_assert_pybytes(PyList_GET_ITEM(list, 0), LIT("a\n"));
    Py_DECREF(list);
    list = call("readlines", 4);
    ck_assert_ptr_nonnull(list);
    ck_assert_int_eq(PyList_GET_SIZE(list), 2);
    ck_assert_pybytes(PyList_GET_ITEM(list, 1), LIT("ccc\n"));
    Py_DECREF(list);
    list = call("readlines", 0);                      /* no hint: the rest */
    ck_assert_ptr_nonnull(list);
    ck_assert_int_eq(PyList_GET_SIZE(list), 1);
    ck_assert_pybytes(PyList_GET_ITEM(list, 0), LIT("dddd\n"));
    Py_DECREF(list);
}
END_TEST

START_TEST(mixed_readline_and_read)
{
    size_t len = 50000;
    char *body = make_body(len, 3);
    PyObject *r;
    size_t first;

    memcpy(body, "head\n", 5);
    start(body, len, (long long)len);
    EXPECT("readline", -2, "head\n");
    r = call("read", 7);
    ck_assert_pybytes(r, body + 5, 7);
    Py_DECREF(r);
    r = call("readline", -2);
    ck_assert_ptr_nonnull(r);
    first = (size_t)PyBytes_GET_SIZE(r);
    ck_assert_pybytes(r, body + 12, first);
    Py_DECREF(r);
    r = call("read", -2);                     /* the rest, exactly */
    ck_assert_pybytes(r, body + 12 + first, len - 12 - first);
    Py_DECREF(r);
    EXPECT("read", -2, "");
    free(body);
}
END_TEST

/* ---- unknown length -------------------------------------------------------------------------- */

START_TEST(unknown_length_to_end)
{
    size_t len = 300001, got;
    char *body = make_body(len, 4), *out;
    PyObject *r;

    start(body, len, -1);
    r = call("read", -2);
    ck_assert_pybytes(r, body, len);
    Py_DECREF(r);
    EXPECT("read", -2, "");
    EXPECT("read", 10, "");

    start(body, len, -1);
    out = read_all_by(777, &got);
    ck_assert_uint_eq(got, len);
    ck_assert(memcmp(out, body, len) == 0);
    free(out);

    start("", 0, -1);
    EXPECT("read", -2, "");
    EXPECT("readline", -2, "");
    free(body);
}
END_TEST

/* ---- cut short, broken, detached ------------------------------------------------------------ */

START_TEST(short_stream_read_raises)
{
    start(LIT("12345"), 10);
    expect_raises("read", -2, PyExc_OSError);
    ck_assert_int_eq(req.client_gone, 1);
    expect_raises("read", -2, PyExc_OSError);       /* and again */
    expect_raises("read", 1, PyExc_OSError);
    expect_raises("readline", -2, PyExc_OSError);
    expect_raises("readlines", -2, PyExc_OSError);

    start(LIT("12345"), 10);
    EXPECT("read", 3, "123");
    expect_raises("read", 10, PyExc_OSError);
    expect_raises("read", -2, PyExc_OSError);

    start("", 0, 1);
    expect_raises("read", -2, PyExc_OSError);
}
END_TEST

START_TEST(short_stream_lines_raise)
{
    /* Line by line, a cut body must end in OSError, never in b''. */
    PyObject *it, *line;
    int i;

    start(LIT("ab\ncd\nef"), 100);
    for (i = 0; i < 10; i++) {
        PyObject *r = call("readline", -2);
        if (!r)
            break;
        ck_assert_msg(PyBytes_GET_SIZE(r) > 0, "readline returned b'' on a cut body");
        Py_DECREF(r);
    }
    ck_assert_pyerr(PyExc_OSError);
    expect_raises("readline", -2, PyExc_OSError);

    start(LIT("ab\ncd\nef"), 100);
    it = PyObject_GetIter(in);
    ck_assert_ptr_nonnull(it);
    while ((line = PyIter_Next(it)) != NULL)
        Py_DECREF(line);
    ck_assert_pyerr(PyExc_OSError);                 /* not a quiet StopIteration */
    Py_DECREF(it);

    start(LIT("ab\ncd\nef"), 100);
    expect_raises("readlines", -2, PyExc_OSError);
}
END_TEST

START_TEST(broken_stream_raises)
{
    size_t len = 1000;
    char *body = make_body(len, 5);
    PyObject *r;

    start(body, len, (long long)len);
    conn.read_fail_at = 100;
    expect_raises("read", -2, PyExc_OSError);
    ck_assert_int_eq(req.client_gone, 1);
    expect_raises("read", -2, PyExc_OSError);
    expect_raises("read", 1, PyExc_OSError);
    expect_raises("readline", -2, PyExc_OSError);

    start(body, len, (long long)len);
    conn.read_fail_at = 100;
    r = call("read", 50);
    ck_assert_pybytes(r, body, 50);
    Py_DECREF(r);
    expect_raises("read", 100, PyExc_OSError);
    expect_raises("read", 10, PyExc_OSError);

    start(body, len, -1);                   /* unknown length breaks too */
    conn.read_fail_at = 0;
    expect_raises("read", -2, PyExc_OSError);
    expect_raises("read", -2, PyExc_OSError);

    start(body, len, (long long)len);
    conn.read_fail_at = 0;
    {
        PyObject *it = PyObject_GetIter(in);
        ck_assert_ptr_null(PyIter_Next(it));
        ck_assert_pyerr(PyExc_OSError);
        Py_DECREF(it);
    }
    free(body);
}
END_TEST

/* --max-body with no CONTENT_LENGTH: a wsgi.input over the stream with the
 * limit recorded on the request (as wf_req_limit_body does). */
static void start_limited(const char *stream, size_t len, unsigned long long max_body)
{
    start(stream, len, -1);
    wf_input_detach(in);
    Py_CLEAR(in);
    req.max_body = max_body;
    in = wf_input_new(&req);
    ck_assert_ptr_nonnull(in);
}

/* The pending exception is OSError with errno EFBIG naming --max-body. */
static void expect_too_large(const char *method, Py_ssize_t n)
{
    PyObject *r = call(method, n), *type, *value, *tb, *eno, *s;

    ck_assert_msg(r == NULL, "%s(%zd) returned instead of raising", method, n);
    ck_assert_msg(PyErr_ExceptionMatches(PyExc_OSError), "%s", py_pending_type_name());
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    eno = PyObject_GetAttrString(value, "errno");
    ck_assert_ptr_nonnull(eno);
    ck_assert_int_eq(PyLong_AsLong(eno), EFBIG);
    s = PyObject_Str(value);
    ck_assert_msg(strstr(PyUnicode_AsUTF8(s), "--max-body") != NULL, "%s", PyUnicode_AsUTF8(s));
    Py_DECREF(s);
    Py_DECREF(eno);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

START_TEST(max_body_unknown_length)
{
    char *body = make_body(1 << 20, 7);

    /* Exactly the limit: all of it. */
    start_limited(body, 100, 100);
    expect("read", -2, body, 100);
    EXPECT("read", -2, "");
    ck_assert_int_eq(req.no_keep, 0);

    /* One byte more: read() raises, and keeps raising. */
    start_limited(body, 101, 100);
    expect_too_large("read", -2);
    expect_too_large("read", 1);
    expect_too_large("readline", -2);
    ck_assert_int_eq(req.no_keep, 1);

    /* In pieces: what is under the limit is served, the piece passing it raises. */
    start_limited(body, 1000, 100);
    expect("read", 60, body, 60);
    expect("read", 40, body + 60, 40);
    expect_too_large("read", 1);

    /* A 1 MiB stream with a 1000-byte limit: no more than 1001 bytes are
     * ever taken from it, whichever method reads. */
    start_limited(body, 1 << 20, 1000);
    expect_too_large("read", -2);
    ck_assert_uint_le(conn.in_pos, 1001);
    start_limited(body, 1 << 20, 1000);
    expect_too_large("readlines", -2);
    ck_assert_uint_le(conn.in_pos, 1001);
    start_limited(body, 1 << 20, 1000);
    expect_too_large("read", 1 << 19);
    ck_assert_uint_le(conn.in_pos, 1001);
    free(body);
}
END_TEST

START_TEST(max_body_declared_length_untouched)
{
    /* A declared length within the limit reads normally to its end. */
    start("abcdef", 6, 6);
    wf_input_detach(in);
    Py_CLEAR(in);
    req.max_body = 6;
    in = wf_input_new(&req);
    EXPECT("read", -2, "abcdef");
    ck_assert_int_eq(req.no_keep, 0);
}
END_TEST

START_TEST(detached_raises_value_error)
{
    PyObject *it;

    start(LIT("abc\ndef\n"), 8);
    EXPECT("readline", -2, "abc\n");
    wf_input_detach(in);
    expect_raises("read", -2, PyExc_ValueError);
    expect_raises("read", 1, PyExc_ValueError);
    expect_raises("readline", -2, PyExc_ValueError);
    expect_raises("readlines", -2, PyExc_ValueError);
    it = PyObject_GetIter(in);
    ck_assert_ptr_nonnull(it);
    ck_assert_ptr_null(PyIter_Next(it));
    ck_assert_pyerr(PyExc_ValueError);
    Py_DECREF(it);
}
END_TEST

START_TEST(detached_before_any_read)
{
    start(LIT("abc"), 3);
    wf_input_detach(in);
    expect_raises("read", -2, PyExc_ValueError);
    ck_assert_uint_eq(conn.nreads, 0);
}
END_TEST

Suite *suite_input(void)
{
    Suite *s = suite_create("input");
    TCase *rd = tcase_create("read");
    TCase *ln = tcase_create("lines");
    TCase *bad = tcase_create("broken");

    tcase_add_checked_fixture(rd, in_setup, in_teardown);
    tcase_add_test(rd, read_exact_length);
    tcase_add_test(rd, read_size_forms);
    tcase_add_test(rd, read_odd_sizes);
    tcase_add_test(rd, read_huge_size_argument);
    tcase_add_test(rd, read_never_past_content_length);
    tcase_add_test(rd, read_streams);
    tcase_add_test(rd, unknown_length_to_end);
    suite_add_tcase(s, rd);

    tcase_add_checked_fixture(ln, in_setup, in_teardown);
    tcase_add_test(ln, readline_lines);
    tcase_add_test(ln, readlines_and_iteration);
    tcase_add_test(ln, readline_limit);
    tcase_add_test(ln, readline_limit_long_line);
    tcase_add_test(ln, readlines_hint);
    tcase_add_test(ln, mixed_readline_and_read);
    suite_add_tcase(s, ln);

    tcase_add_checked_fixture(bad, in_setup, in_teardown);
    tcase_add_test(bad, short_stream_read_raises);
    tcase_add_test(bad, short_stream_lines_raise);
    tcase_add_test(bad, broken_stream_raises);
    tcase_add_test(bad, detached_raises_value_error);
    tcase_add_test(bad, detached_before_any_read);
    tcase_add_test(bad, max_body_unknown_length);
    tcase_add_test(bad, max_body_declared_length_untouched);
    suite_add_tcase(s, bad);
    return s;
}
