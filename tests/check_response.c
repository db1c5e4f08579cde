/*
 * check_response.c - unit tests of src/response.h: the pure predicates on
 * status lines and headers (no interpreter), then the start_response object,
 * wf_response_write and friends against a fake sink (see check_fake.c).
 *
 * What reaches the sink is compared byte for byte: "Status: ...\r\n", the
 * headers as given, an added Content-Length where the server computes one,
 * the blank line, then the body.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "log.h"
#include "response.h"

/* ---- predicates ------------------------------------------------------------------- */

#define STATUS(lit) wf_status_check(LIT(lit))

START_TEST(status_forms)
{
    ck_assert_int_eq(STATUS("200 OK"), 200);
    ck_assert_int_eq(STATUS("404 Not Found"), 404);
    ck_assert_int_eq(STATUS("100 Continue"), 100);
    ck_assert_int_eq(STATUS("999 Whatever"), 999);
    ck_assert_int_eq(STATUS("200 "), 200);                 /* empty reason */
    ck_assert_int_eq(STATUS("200 OK\tfine"), 200);         /* TAB is allowed */
    ck_assert_int_eq(STATUS("200 Caf\xe9"), 200);          /* latin-1 reason */
    ck_assert_int_eq(STATUS("599 a b  c"), 599);
}
END_TEST

START_TEST(status_bad)
{
    ck_assert_int_eq(STATUS(""), -1);
    ck_assert_int_eq(STATUS("200"), -1);
    ck_assert_int_eq(STATUS("200OK"), -1);
    ck_assert_int_eq(STATUS("2000 OK"), -1);
    ck_assert_int_eq(STATUS("20 OK"), -1);
    ck_assert_int_eq(STATUS("abc OK"), -1);
    ck_assert_int_eq(STATUS("2x0 OK"), -1);
    ck_assert_int_eq(STATUS("099 X"), -1);
    ck_assert_int_eq(STATUS("000 X"), -1);
    ck_assert_int_eq(STATUS(" 200 OK"), -1);
    ck_assert_int_eq(STATUS("-20 OK"), -1);
    ck_assert_int_eq(STATUS("+20 OK"), -1);
    ck_assert_int_eq(STATUS("200\tOK"), -1);
    ck_assert_int_eq(STATUS("200 OK\r\nX: y"), -1);
    ck_assert_int_eq(STATUS("200 OK\n"), -1);
    ck_assert_int_eq(STATUS("200 OK\r"), -1);
    ck_assert_int_eq(STATUS("200 O\0K"), -1);               /* NUL inside */
    ck_assert_int_eq(STATUS("200 OK\x7f"), -1);
    ck_assert_int_eq(STATUS("200 OK\x1b[1m"), -1);
    /* The length is obeyed: a valid line followed by junk past len. */
    ck_assert_int_eq(wf_status_check("200 OK\r\n", 6), 200);
    ck_assert_int_eq(wf_status_check("200 OK", 3), -1);
}
END_TEST

#define NAME_OK(lit) wf_header_name_ok(LIT(lit))

START_TEST(header_names)
{
    ck_assert(NAME_OK("Content-Type"));
    ck_assert(NAME_OK("X-Custom_1"));
    ck_assert(NAME_OK("x"));
    ck_assert(NAME_OK("!#$%&'*+-.^_`|~"));
    ck_assert(NAME_OK("ETag"));
    ck_assert(!NAME_OK(""));
    ck_assert(!NAME_OK("Content Type"));
    ck_assert(!NAME_OK(" X"));
    ck_assert(!NAME_OK("X "));
    ck_assert(!NAME_OK("X:"));
    ck_assert(!NAME_OK("X:Y"));
    ck_assert(!NAME_OK("X\r"));
    ck_assert(!NAME_OK("X\n"));
    ck_assert(!NAME_OK("X\tY"));
    ck_assert(!NAME_OK("X\0Y"));
    ck_assert(!NAME_OK("Caf\xe9"));
    ck_assert(!NAME_OK("\xff"));
    ck_assert(!NAME_OK("X(Y)"));
    ck_assert(!NAME_OK("X\"Y"));
    ck_assert(!NAME_OK("X/Y"));
    ck_assert(!NAME_OK("X@Y"));
    ck_assert(!NAME_OK("X{Y}"));
    ck_assert(!NAME_OK("X=Y"));
    ck_assert(!NAME_OK("X,Y"));
    ck_assert(!NAME_OK("X\x7f"));
    /* Only len bytes count. */
    ck_assert(wf_header_name_ok("Ok: junk", 2));
}
END_TEST

#define VALUE_OK(lit) wf_header_value_ok(LIT(lit))

START_TEST(header_values)
{
    ck_assert(VALUE_OK(""));
    ck_assert(VALUE_OK("text/html; charset=utf-8"));
    ck_assert(VALUE_OK("a\tb"));
    ck_assert(VALUE_OK("caf\xe9 \xff\x80"));
    ck_assert(VALUE_OK("  spaced  "));
    ck_assert(!VALUE_OK("a\rb"));
    ck_assert(!VALUE_OK("a\nb"));
    ck_assert(!VALUE_OK("a\r\nX-Injected: 1"));
    ck_assert(!VALUE_OK("a\0b"));
    ck_assert(!VALUE_OK("\n"));
    ck_assert(wf_header_value_ok("ok\r\n", 2));
}
END_TEST

START_TEST(hop_by_hop)
{
    static const char *const hop[] = {
        "Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive", "KEEP-alive",
        "Proxy-Authenticate", "proxy-authenticate", "Proxy-Authorization", "PROXY-AUTHORIZATION",
        "TE", "te", "Te", "Trailer", "trailer", "Transfer-Encoding", "transfer-encoding",
        "TRANSFER-ENCODING", "Upgrade", "upgrade", "uPgRaDe",
    };
    static const char *const end_to_end[] = {
        "Content-Type", "Content-Length", "X-Connection", "Connections", "Upgrade-Insecure-Requests",
        "T", "TEE", "Keep", "Proxy", "Set-Cookie", "Location", "",
    };
    size_t i;

    for (i = 0; i < sizeof hop / sizeof hop[0]; i++)
        ck_assert_msg(wf_header_is_hop_by_hop(hop[i], strlen(hop[i])), "%s not hop-by-hop", hop[i]);
    for (i = 0; i < sizeof end_to_end / sizeof end_to_end[0]; i++)
        ck_assert_msg(!wf_header_is_hop_by_hop(end_to_end[i], strlen(end_to_end[i])),
                      "%s taken for hop-by-hop", end_to_end[i]);
    /* Length-bounded: "Connection" inside a longer buffer. */
    ck_assert(wf_header_is_hop_by_hop("Connection: close", 10));
    ck_assert(!wf_header_is_hop_by_hop("Connection", 9));
}
END_TEST

/* ---- the start_response object ------------------------------------------------------ */

static struct wf_request req;
static struct fake_conn conn;
static PyObject *sr;
static int logfd = -1;

static void resp_setup(void)
{
    py_setup();
    fake_setup(&req, &conn, "", 0, 0);
    fake_param(&req, "REQUEST_METHOD", "GET");
    sr = wf_response_new(&req);
    ck_assert_ptr_nonnull(sr);
    ck_assert(PyCallable_Check(sr));
    logfd = temp_fd();
    wf_log_set_fd(logfd);
}

static void resp_teardown(void)
{
    wf_response_detach(sr);
    Py_CLEAR(sr);
    fake_teardown(&req, &conn);
    wf_log_set_fd(2);
    close(logfd);
    py_teardown();
}

/* Builds [(name, value), ...] from a NULL-terminated list of C strings
 * (latin-1 decoded, so any byte can be given). */
static PyObject *headers_v(const char *const *nv)
{
    PyObject *list = PyList_New(0);
    size_t i;

    ck_assert_ptr_nonnull(list);
    for (i = 0; nv[i]; i += 2) {
        PyObject *t = Py_BuildValue("(NN)", PyUnicode_DecodeLatin1(nv[i], (Py_ssize_t)strlen(nv[i]), NULL),
                                    PyUnicode_DecodeLatin1(nv[i + 1], (Py_ssize_t)strlen(nv[i + 1]), NULL));
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(PyList_Append(list, t), 0);
        Py_DECREF(t);
    }
    return list;
}
#define HEADERS(...) headers_v((const char *const[]){ __VA_ARGS__, NULL })
#define NO_HEADERS headers_v((const char *const[]){ NULL })

/* start_response(status, headers[, exc_info]); steals headers.  Returns
 * the result (new reference) or NULL with the exception pending. */
static PyObject *call_sr(const char *status, PyObject *headers, PyObject *exc_info)
{
    PyObject *st = PyUnicode_DecodeLatin1(status, (Py_ssize_t)strlen(status), NULL);
    PyObject *r;

    ck_assert_ptr_nonnull(st);
    if (exc_info)
        r = PyObject_CallFunctionObjArgs(sr, st, headers, exc_info, NULL);
    else
        r = PyObject_CallFunctionObjArgs(sr, st, headers, NULL);
    Py_DECREF(st);
    Py_DECREF(headers);
    return r;
}

static void sr_ok(const char *status, PyObject *headers)
{
    PyObject *w = call_sr(status, headers, NULL);

    ck_assert_msg(w != NULL, "start_response('%s') raised %s", status, py_pending_type_name());
    ck_assert(PyCallable_Check(w));
    Py_DECREF(w);
}

static void body(const char *s)
{
    ck_assert_msg(wf_response_write(sr, s, strlen(s)) == 0, "write failed: %s", py_pending_type_name());
}

static void out_is(const char *want)
{
    ck_assert_msg(conn.out_len == strlen(want) && memcmp(conn.out ? conn.out : "", want, conn.out_len) == 0,
                  "sink holds [%.*s], not [%s]", (int)conn.out_len, conn.out ? conn.out : "", want);
}

/* The pending exception instance (new reference), the indicator cleared. */
static PyObject *take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *t, *v, *tb;

    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v && tb)
        PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return v;
#endif
}

/* An exc_info tuple for a freshly raised exc("boom"). */
static PyObject *make_exc_info(PyObject *exc, PyObject **value_out)
{
    PyObject *v, *tb, *info;

    PyErr_SetString(exc, "boom");
    v = take_exception();
    ck_assert_ptr_nonnull(v);
    tb = PyException_GetTraceback(v);
    info = PyTuple_Pack(3, (PyObject *)Py_TYPE(v), v, tb ? tb : Py_None);
    ck_assert_ptr_nonnull(info);
    *value_out = v;          /* borrowed through info */
    Py_DECREF(v);
    Py_XDECREF(tb);
    return info;
}

START_TEST(sr_returns_write)
{
    PyObject *w = call_sr("200 OK", HEADERS("Content-Type", "text/plain"), NULL);
    PyObject *r, *data;

    ck_assert_ptr_nonnull(w);
    ck_assert(PyCallable_Check(w));
    ck_assert_uint_eq(conn.out_len, 0);            /* nothing sent yet */
    ck_assert_int_eq(wf_response_headers_sent(sr), 0);
    ck_assert_int_eq(req.status, 0);

    data = PyBytes_FromString("hello");
    r = PyObject_CallFunctionObjArgs(w, data, NULL);
    ck_assert_ptr_nonnull(r);
    Py_DECREF(r);
    Py_DECREF(data);
    out_is("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello");
    ck_assert_int_eq(req.status, 200);
    ck_assert_uint_eq(req.body_bytes, 5);
    ck_assert_int_eq(wf_response_headers_sent(sr), 1);

    /* write() takes bytes only. */
    data = PyUnicode_FromString("text");
    ck_assert_ptr_null(PyObject_CallFunctionObjArgs(w, data, NULL));
    ck_assert_pyerr(PyExc_TypeError);
    Py_DECREF(data);
    data = PyByteArray_FromStringAndSize("ba", 2);
    ck_assert_ptr_null(PyObject_CallFunctionObjArgs(w, data, NULL));
    ck_assert_pyerr(PyExc_TypeError);
    Py_DECREF(data);
    out_is("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello");
    Py_DECREF(w);
}
END_TEST

START_TEST(sr_keyword_exc_info_none)
{
    PyObject *args = Py_BuildValue("(s[])", "204 No Content");
    PyObject *kw = Py_BuildValue("{sO}", "exc_info", Py_None);
    PyObject *w = PyObject_Call(sr, args, kw);

    ck_assert_ptr_nonnull(w);
    Py_DECREF(w);
    Py_DECREF(args);
    Py_DECREF(kw);
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 204 No Content\r\n\r\n");
}
END_TEST

/* Each bad call raises exc, and leaves start_response uncalled. */
static void sr_bad(PyObject *status, PyObject *headers, PyObject *exc)
{
    PyObject *r = PyObject_CallFunctionObjArgs(sr, status, headers, NULL);

    ck_assert_msg(r == NULL, "accepted");
    ck_assert_pyerr(exc);
    Py_DECREF(status);
    Py_DECREF(headers);
}

START_TEST(sr_bad_status)
{
    sr_bad(PyUnicode_FromString("200"), NO_HEADERS, PyExc_ValueError);
    sr_bad(PyUnicode_FromString("2000 OK"), NO_HEADERS, PyExc_ValueError);
    sr_bad(PyUnicode_FromString("abc OK"), NO_HEADERS, PyExc_ValueError);
    sr_bad(PyUnicode_FromString("200 OK\r\nX-Injected: 1"), NO_HEADERS, PyExc_ValueError);
    sr_bad(PyUnicode_FromString("200 OK\n"), NO_HEADERS, PyExc_ValueError);
    sr_bad(PyUnicode_FromStringAndSize("200 O\0K", 7), NO_HEADERS, PyExc_ValueError);
    sr_bad(PyUnicode_FromString("200 \xe2\x82\xac"), NO_HEADERS, PyExc_ValueError);  /* not latin-1 */
    sr_bad(PyBytes_FromString("200 OK"), NO_HEADERS, PyExc_TypeError);
    sr_bad(PyLong_FromLong(200), NO_HEADERS, PyExc_TypeError);

    /* Still uncalled: a valid call now succeeds, and is the first. */
    sr_ok("200 OK", NO_HEADERS);
    body("x");
    out_is("Status: 200 OK\r\n\r\nx");
}
END_TEST

START_TEST(sr_bad_headers)
{
    PyObject *st = PyUnicode_FromString("200 OK");

#define BAD(headers, exc) sr_bad(Py_NewRef(st), (headers), (exc))
    BAD(PyDict_New(), PyExc_TypeError);
    BAD(PyUnicode_FromString("X: y"), PyExc_TypeError);
    BAD(Py_BuildValue("[[ss]]", "X", "y"), PyExc_TypeError);          /* list, not tuple */
    BAD(Py_BuildValue("[(sss)]", "X", "y", "z"), PyExc_TypeError);
    BAD(Py_BuildValue("[(s)]", "X"), PyExc_TypeError);
    BAD(Py_BuildValue("[(y#s)]", "X", (Py_ssize_t)1, "y"), PyExc_TypeError);  /* bytes name */
    BAD(Py_BuildValue("[(sy#)]", "X", "y", (Py_ssize_t)1), PyExc_TypeError);  /* bytes value */
    BAD(Py_BuildValue("[(si)]", "X", 1), PyExc_TypeError);
    BAD(HEADERS("Bad Name", "v"), PyExc_ValueError);
    BAD(HEADERS("", "v"), PyExc_ValueError);
    BAD(HEADERS("X:", "v"), PyExc_ValueError);
    BAD(HEADERS("X", "a\r\nX-Injected: 1"), PyExc_ValueError);
    BAD(HEADERS("X", "a\nb"), PyExc_ValueError);
    BAD(Py_BuildValue("[(ss#)]", "X", "a\0b", (Py_ssize_t)3), PyExc_ValueError);
    BAD(Py_BuildValue("[(ss)]", "X", "\xe2\x82\xac"), PyExc_ValueError);     /* U+20AC */
    BAD(HEADERS("Connection", "close"), PyExc_ValueError);
    BAD(HEADERS("transfer-encoding", "chunked"), PyExc_ValueError);
    BAD(HEADERS("Keep-Alive", "timeout=5"), PyExc_ValueError);
    BAD(HEADERS("UPGRADE", "h2c"), PyExc_ValueError);
    BAD(HEADERS("Content-Type", "text/plain", "TE", "trailers"), PyExc_ValueError);
    BAD(HEADERS("Content-Length", "abc"), PyExc_ValueError);
    BAD(HEADERS("Content-Length", "-1"), PyExc_ValueError);
#undef BAD
    Py_DECREF(st);

    sr_ok("200 OK", HEADERS("X", "1"));
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nX: 1\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

START_TEST(sr_header_bytes_on_wire)
{
    /* latin-1 str reaches the wire as its single bytes; TAB is kept. */
    sr_ok("200 Gr\xfc\xdf", HEADERS("X-Latin", "caf\xe9 \xff", "X-Tab", "a\tb", "x-lower", "v"));
    body("b");
    out_is("Status: 200 Gr\xfc\xdf\r\nX-Latin: caf\xe9 \xff\r\nX-Tab: a\tb\r\nx-lower: v\r\n\r\nb");
}
END_TEST

START_TEST(sr_header_tuple_form)
{
    PyObject *h = Py_BuildValue("((ss)(ss))", "A", "1", "B", "2");
    PyObject *w = call_sr("200 OK", h, NULL);

    ck_assert_ptr_nonnull(w);
    Py_DECREF(w);
    body("z");
    out_is("Status: 200 OK\r\nA: 1\r\nB: 2\r\n\r\nz");
}
END_TEST

START_TEST(sr_second_call_raises)
{
    PyObject *r;

    sr_ok("200 OK", HEADERS("X", "1"));
    r = call_sr("500 Other", HEADERS("Y", "2"), NULL);
    ck_assert_ptr_null(r);
    ck_assert_msg(PyErr_Occurred() != NULL, "no exception");
    PyErr_Clear();
    r = call_sr("500 Other", HEADERS("Y", "2"), Py_None);
    ck_assert_ptr_null(r);
    ck_assert_msg(PyErr_Occurred() != NULL, "no exception with exc_info=None");
    PyErr_Clear();
    body("a");
    out_is("Status: 200 OK\r\nX: 1\r\n\r\na");
}
END_TEST

START_TEST(sr_exc_info_before_headers_replaces)
{
    PyObject *v, *info, *w;

    sr_ok("200 OK", HEADERS("X", "1", "Content-Length", "100"));
    info = make_exc_info(PyExc_ValueError, &v);
    w = call_sr("500 Internal Server Error", HEADERS("Y", "2"), info);
    ck_assert_msg(w != NULL, "raised %s", py_pending_type_name());
    Py_DECREF(w);
    /* And again: exc_info may be given any number of times before. */
    w = call_sr("503 Unavailable", HEADERS("Z", "3"), info);
    ck_assert_msg(w != NULL, "raised %s", py_pending_type_name());
    Py_DECREF(w);
    Py_DECREF(info);
    body("oops");
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 503 Unavailable\r\nZ: 3\r\n\r\noops");
    ck_assert_int_eq(req.status, 503);
}
END_TEST

START_TEST(sr_exc_info_bad_replacement_keeps_state)
{
    PyObject *v, *info, *r;

    sr_ok("200 OK", HEADERS("X", "1"));
    info = make_exc_info(PyExc_ValueError, &v);
    r = call_sr("bad", HEADERS("Y", "2"), info);
    ck_assert_ptr_null(r);
    ck_assert_pyerr(PyExc_ValueError);
    r = call_sr("500 Error", HEADERS("Y", "a\r\nb"), info);
    ck_assert_ptr_null(r);
    ck_assert_pyerr(PyExc_ValueError);
    r = call_sr("500 Error", HEADERS("Connection", "close"), info);
    ck_assert_ptr_null(r);
    ck_assert_pyerr(PyExc_ValueError);
    Py_DECREF(info);
    body("k");
    out_is("Status: 200 OK\r\nX: 1\r\n\r\nk");
}
END_TEST

START_TEST(sr_exc_info_after_headers_reraises)
{
    PyObject *v, *info, *r, *v2;

    sr_ok("200 OK", NO_HEADERS);
    body("partial");
    info = make_exc_info(PyExc_KeyError, &v);
    Py_INCREF(v);
    r = call_sr("500 Error", HEADERS("Y", "2"), info);
    ck_assert_ptr_null(r);
    ck_assert(PyErr_ExceptionMatches(PyExc_KeyError));
    v2 = take_exception();
    ck_assert_msg(v2 == v, "a different exception object was raised");
    Py_XDECREF(v2);
    Py_DECREF(v);
    Py_DECREF(info);
    /* Nothing was changed or re-sent. */
    out_is("Status: 200 OK\r\n\r\npartial");
    ck_assert_int_eq(req.status, 200);
}
END_TEST

START_TEST(sr_exc_info_not_a_tuple)
{
    PyObject *r = call_sr("500 Error", NO_HEADERS, PyLong_FromLong(1));

    /* (call_sr does not own exc_info; the int leaks harmlessly in the child) */
    ck_assert_ptr_null(r);
    ck_assert_msg(PyErr_Occurred() != NULL, "no exception");
    PyErr_Clear();
}
END_TEST

START_TEST(write_headers_once)
{
    sr_ok("200 OK", HEADERS("Name", "value"));
    body("ab");
    body("cd");
    body("");
    body("e");
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nName: value\r\n\r\nabcde");
    ck_assert_uint_eq(req.body_bytes, 5);
}
END_TEST

START_TEST(write_empty_chunks_hold_headers)
{
    sr_ok("200 OK", HEADERS("Name", "value"));
    body("");
    body("");
    ck_assert_uint_eq(conn.out_len, 0);
    ck_assert_int_eq(wf_response_headers_sent(sr), 0);
    ck_assert_int_eq(req.status, 0);
    /* Headers may still change at this point. */
    {
        PyObject *v, *info = make_exc_info(PyExc_RuntimeError, &v);
        PyObject *w = call_sr("500 Changed", NO_HEADERS, info);
        ck_assert_ptr_nonnull(w);
        Py_DECREF(w);
        Py_DECREF(info);
    }
    ck_assert_int_eq(wf_response_finish(sr), 0);   /* the end sends them */
    out_is("Status: 500 Changed\r\nContent-Length: 0\r\n\r\n");
    ck_assert_int_eq(wf_response_headers_sent(sr), 1);
    ck_assert_int_eq(req.status, 500);
}
END_TEST

/* An empty body without a declared length gets "Content-Length: 0" where
 * the status allows a body, and not for HEAD. */
START_TEST(finish_empty_gets_content_length)
{
    sr_ok("201 Created", NO_HEADERS);
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 201 Created\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

START_TEST(finish_empty_no_length_for_204_304_head)
{
    static const char *const statuses[] = { "204 No Content", "304 Not Modified" };
    size_t i;

    for (i = 0; i < 2; i++) {
        char want[64];
        wf_response_detach(sr);
        Py_CLEAR(sr);
        conn.out_len = 0;
        sr = wf_response_new(&req);
        sr_ok(statuses[i], NO_HEADERS);
        ck_assert_int_eq(wf_response_finish(sr), 0);
        snprintf(want, sizeof want, "Status: %s\r\n\r\n", statuses[i]);
        out_is(want);
    }
    wf_response_detach(sr);
    Py_CLEAR(sr);
    conn.out_len = 0;
    fake_param(&req, "REQUEST_METHOD", "HEAD");
    sr = wf_response_new(&req);
    sr_ok("200 OK", HEADERS("Content-Type", "text/html"));
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nContent-Type: text/html\r\n\r\n");
}
END_TEST

START_TEST(finish_empty_declared_length_kept)
{
    sr_ok("200 OK", HEADERS("Content-Length", "0"));
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

START_TEST(write_before_start_response)
{
    ck_assert_int_eq(wf_response_write(sr, "x", 1), -1);
    ck_assert_msg(PyErr_Occurred() != NULL, "no exception");
    PyErr_Clear();
    ck_assert_int_eq(wf_response_finish(sr), -1);
    ck_assert_msg(PyErr_Occurred() != NULL, "no exception");
    PyErr_Clear();
    ck_assert_uint_eq(conn.out_len, 0);
}
END_TEST

START_TEST(set_length_added)
{
    sr_ok("200 OK", HEADERS("Content-Type", "text/plain"));
    wf_response_set_length(sr, 5);
    body("hello");
    out_is("Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
}
END_TEST

START_TEST(set_length_zero)
{
    sr_ok("200 OK", NO_HEADERS);
    wf_response_set_length(sr, 0);
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

START_TEST(set_length_ignored_when_declared)
{
    sr_ok("200 OK", HEADERS("content-length", "5"));
    wf_response_set_length(sr, 3);
    body("hello");
    out_is("Status: 200 OK\r\ncontent-length: 5\r\n\r\nhello");
}
END_TEST

START_TEST(set_length_ignored_after_headers)
{
    sr_ok("200 OK", NO_HEADERS);
    body("ab");
    wf_response_set_length(sr, 2);
    body("cd");
    out_is("Status: 200 OK\r\n\r\nabcd");
}
END_TEST

START_TEST(content_length_caps_body)
{
    char *log;

    sr_ok("200 OK", HEADERS("Content-Length", "3"));
    body("hello");
    body("more");
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nContent-Length: 3\r\n\r\nhel");
    ck_assert_uint_eq(req.body_bytes, 3);
    log = slurp_fd(logfd, NULL);
    ck_assert_msg(strstr(log, "[warning]") != NULL, "the dropped excess was not logged: '%s'", log);
    free(log);
}
END_TEST

START_TEST(content_length_exact_and_split)
{
    sr_ok("200 OK", HEADERS("Content-Length", "6"));
    body("abc");
    body("def");
    body("g");
    out_is("Status: 200 OK\r\nContent-Length: 6\r\n\r\nabcdef");
}
END_TEST

START_TEST(content_length_zero)
{
    sr_ok("200 OK", HEADERS("Content-Length", "0"));
    body("ignored");
    ck_assert_int_eq(wf_response_finish(sr), 0);
    out_is("Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
}
END_TEST

START_TEST(sink_failure)
{
    PyObject *w;

    sr_ok("200 OK", NO_HEADERS);
    conn.write_errno = EPIPE;
    ck_assert_int_eq(wf_response_write(sr, "abc", 3), -1);
    ck_assert_pyerr(PyExc_OSError);
    ck_assert_int_eq(req.client_gone, 1);
    /* Later chunks raise OSError too, through write() as well. */
    ck_assert_int_eq(wf_response_write(sr, "def", 3), -1);
    ck_assert_pyerr(PyExc_OSError);
    w = call_sr("200 OK", NO_HEADERS, NULL);     /* a second call: raises */
    ck_assert_ptr_null(w);
    PyErr_Clear();
    ck_assert_uint_eq(conn.out_len, 0);
}
END_TEST

START_TEST(sink_failure_later_chunk)
{
    PyObject *w = call_sr("200 OK", NO_HEADERS, NULL);
    PyObject *data = PyBytes_FromString("second");

    ck_assert_ptr_nonnull(w);
    body("first");
    conn.write_errno = ECONNRESET;
    ck_assert_ptr_null(PyObject_CallFunctionObjArgs(w, data, NULL));
    ck_assert_pyerr(PyExc_OSError);
    ck_assert_int_eq(req.client_gone, 1);
    out_is("Status: 200 OK\r\n\r\nfirst");
    Py_DECREF(data);
    Py_DECREF(w);
}
END_TEST

static void check_error_response(int code, const char *reason)
{
    char want_status[128], want_body[128];
    const char *sep;
    const char *cl;
    long declared;

    snprintf(want_status, sizeof want_status, "Status: %d %s\r\n", code, reason);
    snprintf(want_body, sizeof want_body, "%d %s", code, reason);
    ck_assert_ptr_nonnull(conn.out);
    ck_assert_msg(strncmp(conn.out, want_status, strlen(want_status)) == 0, "starts [%s]", conn.out);
    sep = strstr(conn.out, "\r\n\r\n");
    ck_assert_ptr_nonnull(sep);
    cl = strstr(conn.out, "\r\nContent-Length: ");
    ck_assert_msg(cl != NULL && cl < sep, "no Content-Length: [%s]", conn.out);
    declared = strtol(cl + 18, NULL, 10);
    ck_assert_int_eq(declared, (long)(conn.out + conn.out_len - (sep + 4)));
    ck_assert_msg(strstr(sep + 4, want_body) != NULL, "body [%s]", sep + 4);
    ck_assert_int_eq(req.status, code);
}

START_TEST(send_error_500)
{
    wf_response_send_error(&req, 500);
    check_error_response(500, "Internal Server Error");
    ck_assert_int_eq(req.client_gone, 0);
}
END_TEST

START_TEST(send_error_503_and_gone)
{
    wf_response_send_error(&req, 503);
    check_error_response(503, "Service Unavailable");

    conn.write_errno = EPIPE;
    wf_response_send_error(&req, 500);
    ck_assert_int_eq(req.client_gone, 1);
    ck_assert_no_pyerr();
}
END_TEST

START_TEST(send_error_413_without_python)
{
    /* The canned response needs no interpreter state: the GIL is released. */
    PyThreadState *ts = PyEval_SaveThread();

    ck_assert_int_eq(wf_req_send_error(&req, 413), 0);
    PyEval_RestoreThread(ts);
    check_error_response(413, "Request Entity Too Large");
    ck_assert_int_eq((int)req.body_bytes, (int)strlen("413 Request Entity Too Large\n"));
}
END_TEST

START_TEST(limit_body)
{
    char *log;
    size_t len;

    /* Under or at the limit, no length, or no limit: nothing happens. */
    req.content_length = 1000;
    ck_assert_int_eq(wf_req_limit_body(&req, 1000), 0);
    ck_assert_uint_eq(req.max_body, 1000);
    req.content_length = -1;
    ck_assert_int_eq(wf_req_limit_body(&req, 10), 0);
    ck_assert_uint_eq(req.max_body, 10);
    req.content_length = 999999999999LL;
    ck_assert_int_eq(wf_req_limit_body(&req, 0), 0);
    ck_assert_uint_eq(conn.out_len, 0);
    ck_assert_int_eq(req.no_keep, 0);
    /* Over it: 413, logged, the connection not kept. */
    fake_param(&req, "REQUEST_URI", "/upload");
    req.content_length = 1001;
    ck_assert_int_eq(wf_req_limit_body(&req, 1000), 1);
    check_error_response(413, "Request Entity Too Large");
    ck_assert_int_eq(req.no_keep, 1);
    ck_assert_uint_eq(req.max_body, 1000);
    log = slurp_fd(logfd, &len);
    ck_assert_msg(strstr(log, "[warning] ") && strstr(log, "GET /upload") &&
                  strstr(log, "1001") && strstr(log, "--max-body 1000") && strstr(log, "413"),
                  "log: %s", log);
    free(log);
}
END_TEST

START_TEST(detached)
{
    PyObject *w = call_sr("200 OK", NO_HEADERS, NULL);
    PyObject *data = PyBytes_FromString("x");

    ck_assert_ptr_nonnull(w);
    wf_response_detach(sr);
    ck_assert_ptr_null(PyObject_CallFunctionObjArgs(w, data, NULL));
    ck_assert_msg(PyErr_Occurred() != NULL, "write after detach did not raise");
    PyErr_Clear();
    ck_assert_ptr_null(call_sr("200 OK", NO_HEADERS, NULL));
    ck_assert_msg(PyErr_Occurred() != NULL, "start_response after detach did not raise");
    PyErr_Clear();
    ck_assert_uint_eq(conn.out_len, 0);
    Py_DECREF(data);
    Py_DECREF(w);
}
END_TEST

START_TEST(write_outlives_start_response)
{
    /* The write callable keeps the object alive on its own. */
    PyObject *w = call_sr("200 OK", NO_HEADERS, NULL);
    PyObject *data = PyBytes_FromString("late"), *r;

    ck_assert_ptr_nonnull(w);
    Py_CLEAR(sr);
    r = PyObject_CallFunctionObjArgs(w, data, NULL);
    ck_assert_ptr_nonnull(r);
    Py_DECREF(r);
    Py_DECREF(data);
    out_is("Status: 200 OK\r\n\r\nlate");
    sr = PyObject_GetAttrString(w, "__self__");   /* for the teardown */
    ck_assert_ptr_nonnull(sr);
    Py_DECREF(w);
}
END_TEST

Suite *suite_response(void)
{
    Suite *s = suite_create("response");
    TCase *pred = tcase_create("predicates");
    TCase *sro = tcase_create("start_response");
    TCase *wr = tcase_create("write");

    tcase_add_test(pred, status_forms);
    tcase_add_test(pred, status_bad);
    tcase_add_test(pred, header_names);
    tcase_add_test(pred, header_values);
    tcase_add_test(pred, hop_by_hop);
    suite_add_tcase(s, pred);

    tcase_add_checked_fixture(sro, resp_setup, resp_teardown);
    tcase_add_test(sro, sr_returns_write);
    tcase_add_test(sro, sr_keyword_exc_info_none);
    tcase_add_test(sro, sr_bad_status);
    tcase_add_test(sro, sr_bad_headers);
    tcase_add_test(sro, sr_header_bytes_on_wire);
    tcase_add_test(sro, sr_header_tuple_form);
    tcase_add_test(sro, sr_second_call_raises);
    tcase_add_test(sro, sr_exc_info_before_headers_replaces);
    tcase_add_test(sro, sr_exc_info_bad_replacement_keeps_state);
    tcase_add_test(sro, sr_exc_info_after_headers_reraises);
    tcase_add_test(sro, sr_exc_info_not_a_tuple);
    tcase_add_test(sro, detached);
    tcase_add_test(sro, write_outlives_start_response);
    suite_add_tcase(s, sro);

    tcase_add_checked_fixture(wr, resp_setup, resp_teardown);
    tcase_add_test(wr, write_headers_once);
    tcase_add_test(wr, write_empty_chunks_hold_headers);
    tcase_add_test(wr, finish_empty_gets_content_length);
    tcase_add_test(wr, finish_empty_no_length_for_204_304_head);
    tcase_add_test(wr, finish_empty_declared_length_kept);
    tcase_add_test(wr, write_before_start_response);
    tcase_add_test(wr, set_length_added);
    tcase_add_test(wr, set_length_zero);
    tcase_add_test(wr, set_length_ignored_when_declared);
    tcase_add_test(wr, set_length_ignored_after_headers);
    tcase_add_test(wr, content_length_caps_body);
    tcase_add_test(wr, content_length_exact_and_split);
    tcase_add_test(wr, content_length_zero);
    tcase_add_test(wr, sink_failure);
    tcase_add_test(wr, sink_failure_later_chunk);
    tcase_add_test(wr, send_error_500);
    tcase_add_test(wr, send_error_503_and_gone);
    tcase_add_test(wr, send_error_413_without_python);
    tcase_add_test(wr, limit_body);
    suite_add_tcase(s, wr);
    return s;
}
