/*
 * check_environ.c - unit tests of the environ (src/environ.h, the param
 * helpers of src/request.h) and of the wsgi.errors stream (src/errors.h).
 *
 * The path and scheme rules and the param lookups are pure C and run
 * without an interpreter; wf_environ_build and wsgi.errors run under the
 * checked Python fixture (check_fake.c), on requests built by hand.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "environ.h"
#include "errors.h"
#include "filewrapper.h"
#include "input.h"
#include "log.h"
#include "request.h"

/* ---- wf_environ_split_path ---------------------------------------------------------- */

/* Splits with exact-size heap copies of the inputs and of buf. */
static void split(const char *prefix, const char *sn, const char *pi, const char *want_sn,
                  const char *want_pi)
{
    size_t sn_len = sn ? strlen(sn) : 0, pi_len = pi ? strlen(pi) : 0;
    char *csn = sn ? dup_bytes(sn, sn_len) : NULL, *cpi = pi ? dup_bytes(pi, pi_len) : NULL;
    char *buf = malloc(sn_len + pi_len ? sn_len + pi_len : 1);
    const char *osn = NULL, *opi = NULL;
    size_t osn_len = 99999, opi_len = 99999;

    ck_assert_ptr_nonnull(buf);
    wf_environ_split_path(prefix, csn, sn_len, cpi, pi_len, buf, &osn, &osn_len, &opi, &opi_len);
    ck_assert_msg(osn_len <= sn_len + pi_len && opi_len <= sn_len + pi_len,
                  "lengths %zu/%zu out of range", osn_len, opi_len);
    ck_assert_msg(osn_len == strlen(want_sn) && (osn_len == 0 || memcmp(osn, want_sn, osn_len) == 0),
                  "prefix '%s', '%s' + '%s': SCRIPT_NAME '%.*s', want '%s'", prefix, sn ? sn : "(null)",
                  pi ? pi : "(null)", (int)osn_len, osn ? osn : "", want_sn);
    ck_assert_msg(opi_len == strlen(want_pi) && (opi_len == 0 || memcmp(opi, want_pi, opi_len) == 0),
                  "prefix '%s', '%s' + '%s': PATH_INFO '%.*s', want '%s'", prefix, sn ? sn : "(null)",
                  pi ? pi : "(null)", (int)opi_len, opi ? opi : "", want_pi);
    free(csn);
    free(cpi);
    free(buf);
}

START_TEST(split_under_prefix)
{
    split("/app", "/app/x", NULL, "/app", "/x");
    split("/app", "/app/x", "", "/app", "/x");
    split("/app", "/app/x/y", NULL, "/app", "/x/y");
    split("/app", "/app", "", "/app", "");
    split("/app", "/app", NULL, "/app", "");
    split("/app", "/app/", NULL, "/app", "/");
    split("/a/b", "/a/b/c", NULL, "/a/b", "/c");
}
END_TEST

START_TEST(split_concatenates_first)
{
    split("/app", "/app", "/x/y", "/app", "/x/y");
    split("/app", "", "/app/x", "/app", "/x");
    split("/app", NULL, "/app/x", "/app", "/x");
    split("/app", "/ap", "p/x", "/app", "/x");
    split("/app/x", "/app", "/x/y", "/app/x", "/y");
    split("/app", "/index.php", "/app/x", "", "/index.php/app/x");
}
END_TEST

START_TEST(split_not_under_prefix)
{
    /* Nothing is lost and "/app" is not claimed as SCRIPT_NAME. */
    split("/app", "/application", NULL, "", "/application");
    split("/app", "/application", "/x", "", "/application/x");
    split("/app", "/other/app", NULL, "", "/other/app");
    split("/app", "/ap", NULL, "", "/ap");
    split("/app/sub", "/app", NULL, "", "/app");
    split("/app", "", "", "", "");
    split("/app", NULL, NULL, "", "");
}
END_TEST

START_TEST(split_root_prefix)
{
    split("", "/app/x", NULL, "", "/app/x");
    split("", "/app", "/x", "", "/app/x");
    split("/", "/app/x", NULL, "", "/app/x");
    split("/", "/app", "/x", "", "/app/x");
    split("/", "", "", "", "");
    split("", NULL, "/", "", "/");
}
END_TEST

START_TEST(split_trailing_slash_prefix)
{
    split("/app/", "/app/x", NULL, "/app", "/x");
    split("/app/", "/app", NULL, "/app", "");
    split("/app/", "/app/", NULL, "/app", "/");
    split("/app//", "/app/x", "/y", "/app", "/x/y");
    split("/app/", "/application", NULL, "", "/application");
}
END_TEST

/* ---- wf_environ_scheme, wf_req_param, wf_parse_content_length ---------------------- */

static const char *scheme_of(const char *const *nv)
{
    static struct wf_request r;
    const char *s;
    size_t i;

    wf_req_init(&r);
    for (i = 0; nv[i]; i += 2)
        ck_assert_int_eq(wf_req_add_param(&r, nv[i], strlen(nv[i]), nv[i + 1], strlen(nv[i + 1])), 0);
    s = wf_environ_scheme(&r);
    wf_req_release(&r);
    return s;
}
#define SCHEME(...) scheme_of((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(scheme_rules)
{
    ck_assert_str_eq(scheme_of((const char *const[]){ NULL }), "http");
    ck_assert_str_eq(SCHEME("HTTPS", "on"), "https");
    ck_assert_str_eq(SCHEME("HTTPS", "ON"), "https");
    ck_assert_str_eq(SCHEME("HTTPS", "On"), "https");
    ck_assert_str_eq(SCHEME("HTTPS", "1"), "https");
    ck_assert_str_eq(SCHEME("HTTPS", "off"), "http");
    ck_assert_str_eq(SCHEME("HTTPS", "OFF"), "http");
    ck_assert_str_eq(SCHEME("HTTPS", "0"), "http");
    ck_assert_str_eq(SCHEME("HTTPS", ""), "http");
    ck_assert_str_eq(SCHEME("HTTPS", "onx"), "http");
    ck_assert_str_eq(SCHEME("REQUEST_SCHEME", "https"), "https");
    ck_assert_str_eq(SCHEME("REQUEST_SCHEME", "http"), "http");
    ck_assert_str_eq(SCHEME("HTTPS", "off", "REQUEST_SCHEME", "https"), "https");
    ck_assert_str_eq(SCHEME("HTTPS", "on", "REQUEST_SCHEME", "http"), "https");
    /* Duplicates: the last value wins. */
    ck_assert_str_eq(SCHEME("HTTPS", "on", "HTTPS", "off"), "http");
    ck_assert_str_eq(SCHEME("HTTPS", "off", "HTTPS", "on"), "https");
    /* Names must match exactly. */
    ck_assert_str_eq(SCHEME("HTTP_HTTPS", "on"), "http");
    ck_assert_str_eq(SCHEME("https", "on"), "http");
}
END_TEST

START_TEST(req_param_last_wins)
{
    struct wf_request r;
    const struct wf_param *p;
    /* Names and values packed without terminators, as a front end has them. */
    static const char packed[] = "HOSTaHOSTbHOSTSc";

    wf_req_init(&r);
    ck_assert_int_eq(r.content_length, -1);
    ck_assert_ptr_null(wf_req_param(&r, "HOST"));
    ck_assert_int_eq(wf_req_add_param(&r, packed, 4, packed + 4, 1), 0);
    ck_assert_int_eq(wf_req_add_param(&r, packed + 5, 4, packed + 9, 1), 0);
    ck_assert_int_eq(wf_req_add_param(&r, packed + 10, 5, packed + 15, 1), 0);
    p = wf_req_param(&r, "HOST");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value_len, 1);
    ck_assert_int_eq(p->value[0], 'b');
    p = wf_req_param(&r, "HOSTS");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->value[0], 'c');
    ck_assert_ptr_null(wf_req_param(&r, "HOS"));
    ck_assert_ptr_null(wf_req_param(&r, "host"));
    ck_assert_ptr_null(wf_req_param(&r, ""));
    wf_req_release(&r);
    ck_assert_ptr_null(r.params);
    ck_assert_uint_eq(r.nparams, 0);
}
END_TEST

START_TEST(req_many_params_and_reset)
{
    struct wf_request r;
    char names[300][16];
    size_t i;
    struct wf_param *kept;

    wf_req_init(&r);
    for (i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "P%zu", i);
        ck_assert_int_eq(wf_req_add_param(&r, names[i], strlen(names[i]), names[i], strlen(names[i])), 0);
    }
    ck_assert_uint_eq(r.nparams, 300);
    for (i = 0; i < 300; i++) {
        const struct wf_param *p = wf_req_param(&r, names[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p->value_len, strlen(names[i]));
        ck_assert_mem_eq(p->value, names[i], p->value_len);
    }
    r.content_length = 10;
    r.status = 200;
    r.client_gone = 1;
    kept = r.params;
    wf_req_reset(&r);
    ck_assert_uint_eq(r.nparams, 0);
    ck_assert_ptr_eq(r.params, kept);          /* the array is kept for reuse */
    ck_assert_int_eq(r.content_length, -1);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(r.client_gone, 0);
    ck_assert_ptr_null(wf_req_param(&r, "P1"));
    ck_assert_int_eq(wf_req_add_param(&r, "A", 1, "1", 1), 0);
    ck_assert_ptr_nonnull(wf_req_param(&r, "A"));
    wf_req_release(&r);
}
END_TEST

#define CL(lit) wf_parse_content_length(LIT(lit))

START_TEST(content_length_parse)
{
    ck_assert_int_eq(CL("0"), 0);
    ck_assert_int_eq(CL("5"), 5);
    ck_assert_int_eq(CL("1048576"), 1048576);
    ck_assert_int_eq(CL("007"), 7);
    ck_assert_int_eq(CL("999999999999999999"), 999999999999999999LL);
    ck_assert_int_eq(CL(""), -1);
    ck_assert_int_eq(wf_parse_content_length(NULL, 0), -1);
    ck_assert_int_eq(CL("-1"), -1);
    ck_assert_int_eq(CL("+1"), -1);
    ck_assert_int_eq(CL(" 1"), -1);
    ck_assert_int_eq(CL("1 "), -1);
    ck_assert_int_eq(CL("1x"), -1);
    ck_assert_int_eq(CL("0x10"), -1);
    ck_assert_int_eq(CL("1.0"), -1);
    ck_assert_int_eq(CL("99999999999999999999"), -1);       /* overflow */
    ck_assert_int_eq(CL("9223372036854775808"), -1);
    /* Only len bytes are read: no terminator needed. */
    ck_assert_int_eq(wf_parse_content_length("12345", 3), 123);
    ck_assert_int_eq(wf_parse_content_length("12x", 2), 12);
}
END_TEST

/* ---- wf_environ_build (Python) ------------------------------------------------------ */

static struct wf_request req;
static struct fake_conn conn;
static PyObject *input, *errors;

static void env_setup(void)
{
    py_setup();
    fake_setup(&req, &conn, "", 0, -1);
    input = wf_input_new(&req);
    errors = wf_errors_new();
    ck_assert_ptr_nonnull(input);
    ck_assert_ptr_nonnull(errors);
}

static void env_teardown(void)
{
    wf_input_detach(input);
    Py_CLEAR(input);
    Py_CLEAR(errors);
    fake_teardown(&req, &conn);
    py_teardown();
}

static PyObject *build(void)
{
    PyObject *env = wf_environ_build(&req, input, errors);

    ck_assert_msg(env != NULL, "wf_environ_build failed: %s", py_pending_type_name());
    ck_assert(PyDict_CheckExact(env));
    return env;
}

/* env[key] as a str equal to want (latin-1 bytes). */
static void env_str(PyObject *env, const char *key, const char *want, size_t want_len)
{
    PyObject *v = PyDict_GetItemString(env, key), *b;

    ck_assert_msg(v != NULL, "environ has no %s", key);
    ck_assert_msg(PyUnicode_CheckExact(v), "environ[%s] is %s, not str", key, Py_TYPE(v)->tp_name);
    b = PyUnicode_AsLatin1String(v);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg((size_t)PyBytes_GET_SIZE(b) == want_len &&
                      memcmp(PyBytes_AS_STRING(b), want, want_len) == 0,
                  "environ[%s] = '%s', want '%.*s'", key, PyBytes_AS_STRING(b), (int)want_len, want);
    Py_DECREF(b);
}
#define ENV_STR(env, key, lit) env_str((env), (key), LIT(lit))

static void env_is(PyObject *env, const char *key, PyObject *want)
{
    PyObject *v = PyDict_GetItemString(env, key);

    ck_assert_msg(v != NULL, "environ has no %s", key);
    ck_assert_msg(PyObject_RichCompareBool(v, want, Py_EQ) == 1, "environ[%s] has the wrong value", key);
}

START_TEST(env_latin1_roundtrip)
{
    char high[128], name[] = "HTTP_X_\xe9";
    PyObject *env;
    size_t i;

    for (i = 0; i < sizeof high; i++)
        high[i] = (char)(0x80 + i);
    ck_assert_int_eq(wf_req_add_param(&req, LIT("HTTP_X_HIGH"), high, sizeof high), 0);
    ck_assert_int_eq(wf_req_add_param(&req, LIT("HTTP_X_NUL"), LIT("a\0b")), 0);
    ck_assert_int_eq(wf_req_add_param(&req, name, strlen(name), LIT("v")), 0);
    ck_assert_int_eq(wf_req_add_param(&req, LIT("QUERY_STRING"), LIT("q=caf\xe9&x=%20")), 0);
    ck_assert_int_eq(wf_req_add_param(&req, LIT("HTTP_X_EMPTY"), "", 0), 0);
    env = build();
    env_str(env, "HTTP_X_HIGH", high, sizeof high);
    ENV_STR(env, "HTTP_X_NUL", "a\0b");
    ENV_STR(env, "QUERY_STRING", "q=caf\xe9&x=%20");
    ENV_STR(env, "HTTP_X_EMPTY", "");
    {
        PyObject *k = PyUnicode_DecodeLatin1(name, (Py_ssize_t)strlen(name), NULL);
        ck_assert_ptr_nonnull(PyDict_GetItem(env, k));
        Py_DECREF(k);
    }
    Py_DECREF(env);
}
END_TEST

START_TEST(env_duplicates_last_wins)
{
    PyObject *env;

    fake_param(&req, "REQUEST_METHOD", "GET");
    fake_param(&req, "HTTP_X_DUP", "first");
    fake_param(&req, "REQUEST_METHOD", "POST");
    fake_param(&req, "HTTP_X_DUP", "second");
    fake_param(&req, "PATH_INFO", "/one");
    fake_param(&req, "PATH_INFO", "/two");
    env = build();
    ENV_STR(env, "REQUEST_METHOD", "POST");
    ENV_STR(env, "HTTP_X_DUP", "second");
    ENV_STR(env, "PATH_INFO", "/two");
    Py_DECREF(env);
}
END_TEST

START_TEST(env_defaults)
{
    PyObject *env = build();    /* no params at all */
    static const char *const present[] = { "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
                                           "REQUEST_METHOD" };
    size_t i;

    ENV_STR(env, "SCRIPT_NAME", "");
    ENV_STR(env, "PATH_INFO", "");
    ENV_STR(env, "QUERY_STRING", "");
    for (i = 0; i < sizeof present / sizeof present[0]; i++) {
        PyObject *v = PyDict_GetItemString(env, present[i]);
        ck_assert_msg(v != NULL && PyUnicode_CheckExact(v), "%s missing or not str", present[i]);
        ck_assert_msg(PyUnicode_GET_LENGTH(v) > 0, "%s is empty", present[i]);
    }
    Py_DECREF(env);
}
END_TEST

START_TEST(env_sent_values_kept)
{
    PyObject *env;

    fake_param(&req, "SCRIPT_NAME", "/s");
    fake_param(&req, "PATH_INFO", "/p");
    fake_param(&req, "QUERY_STRING", "a=1");
    fake_param(&req, "SERVER_NAME", "srv.example");
    fake_param(&req, "SERVER_PORT", "8443");
    fake_param(&req, "SERVER_PROTOCOL", "HTTP/1.1");
    fake_param(&req, "REQUEST_METHOD", "DELETE");
    fake_param(&req, "HTTP_HOST", "other.example:9999");
    fake_param(&req, "REMOTE_USER", "alice");
    fake_param(&req, "AUTH_TYPE", "Basic");
    fake_param(&req, "HTTP_AUTHORIZATION", "Basic YWxpY2U6cw==");
    env = build();
    ENV_STR(env, "SCRIPT_NAME", "/s");
    ENV_STR(env, "PATH_INFO", "/p");
    ENV_STR(env, "QUERY_STRING", "a=1");
    ENV_STR(env, "SERVER_NAME", "srv.example");
    ENV_STR(env, "SERVER_PORT", "8443");
    ENV_STR(env, "SERVER_PROTOCOL", "HTTP/1.1");
    ENV_STR(env, "REQUEST_METHOD", "DELETE");
    ENV_STR(env, "HTTP_HOST", "other.example:9999");
    ENV_STR(env, "REMOTE_USER", "alice");
    ENV_STR(env, "AUTH_TYPE", "Basic");
    ENV_STR(env, "HTTP_AUTHORIZATION", "Basic YWxpY2U6cw==");
    Py_DECREF(env);
}
END_TEST

START_TEST(env_nothing_invented)
{
    /* Every CGI key is one that was sent; the rest are the 9 wsgi.* keys. */
    static const char *const sent[] = { "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
                                        "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
                                        "HTTP_X_ONE", "CONTENT_TYPE" };
    static const char *const wsgi[] = { "wsgi.version", "wsgi.url_scheme", "wsgi.input", "wsgi.errors",
                                        "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
                                        "wsgi.input_terminated", "wsgi.file_wrapper" };
    PyObject *env;
    size_t i;

    for (i = 0; i < sizeof sent / sizeof sent[0]; i++)
        fake_param(&req, sent[i], "v");
    env = build();
    for (i = 0; i < sizeof sent / sizeof sent[0]; i++)
        ENV_STR(env, sent[i], "v");
    for (i = 0; i < sizeof wsgi / sizeof wsgi[0]; i++)
        ck_assert_msg(PyDict_GetItemString(env, wsgi[i]) != NULL, "no %s", wsgi[i]);
    ck_assert_int_eq(PyDict_Size(env), (Py_ssize_t)(sizeof sent / sizeof sent[0] + sizeof wsgi / sizeof wsgi[0]));
    Py_DECREF(env);
}
END_TEST

static void server_from_host(const char *host, const char *https, const char *want_name,
                             const char *want_port)
{
    PyObject *env;

    wf_req_reset(&req);
    fake_param(&req, "HTTP_HOST", host);
    if (https)
        fake_param(&req, "HTTPS", https);
    env = build();
    env_str(env, "SERVER_NAME", want_name, strlen(want_name));
    env_str(env, "SERVER_PORT", want_port, strlen(want_port));
    Py_DECREF(env);
}

START_TEST(env_server_from_host)
{
    server_from_host("example.com:8080", NULL, "example.com", "8080");
    server_from_host("example.com", NULL, "example.com", "80");
    server_from_host("example.com", "on", "example.com", "443");
    server_from_host("example.com:8443", "on", "example.com", "8443");
    server_from_host("[::1]:8080", NULL, "[::1]", "8080");
    server_from_host("[::1]", NULL, "[::1]", "80");
    server_from_host("[2001:db8::1]:443", "1", "[2001:db8::1]", "443");
    server_from_host("127.0.0.1:81", NULL, "127.0.0.1", "81");
}
END_TEST

START_TEST(env_server_partial)
{
    /* A sent SERVER_NAME is kept even when only the port is derived. */
    PyObject *env;

    fake_param(&req, "SERVER_NAME", "sent.example");
    fake_param(&req, "HTTP_HOST", "host.example:8080");
    env = build();
    ENV_STR(env, "SERVER_NAME", "sent.example");
    {
        PyObject *v = PyDict_GetItemString(env, "SERVER_PORT");
        ck_assert_msg(v != NULL && PyUnicode_CheckExact(v), "SERVER_PORT missing");
    }
    Py_DECREF(env);
}
END_TEST

START_TEST(env_wsgi_keys)
{
    PyObject *env, *want;
    Py_ssize_t in_refs = Py_REFCNT(input), err_refs = Py_REFCNT(errors);

    env = build();
    want = Py_BuildValue("(ii)", 1, 0);
    env_is(env, "wsgi.version", want);
    ck_assert(PyTuple_CheckExact(PyDict_GetItemString(env, "wsgi.version")));
    Py_DECREF(want);
    ENV_STR(env, "wsgi.url_scheme", "http");
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.input"), input);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.errors"), errors);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.input_terminated"), Py_True);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.run_once"), Py_False);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.multithread"), Py_False);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.multiprocess"), Py_False);
    ck_assert(PyCallable_Check(PyDict_GetItemString(env, "wsgi.file_wrapper")));
    ck_assert_int_eq(Py_REFCNT(input), in_refs + 1);
    Py_DECREF(env);
    /* The dict's references are its own: none leaked, none stolen. */
    ck_assert_int_eq(Py_REFCNT(input), in_refs);
    ck_assert_int_eq(Py_REFCNT(errors), err_refs);
}
END_TEST

/* Found by tests/fuzz/fuzz_environ (tests/data/fuzz/environ/): a param
 * named like a server-defined wsgi.* entry must not replace it. */
START_TEST(env_wsgi_keys_not_replaced)
{
    PyObject *env;

    fake_param(&req, "wsgi.url_scheme", "");
    fake_param(&req, "wsgi.file_wrapper", "x");
    fake_param(&req, "wsgi.multithread", "1");
    fake_param(&req, "wsgi.input", "x");
    fake_param(&req, "wsgi.version", "2");
    fake_param(&req, "wsgi.other", "kept");
    fake_param(&req, "HTTPS", "on");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "https");
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.file_wrapper"), (PyObject *)&wf_filewrapper_type);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.multithread"), Py_False);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.input"), input);
    ck_assert(PyTuple_CheckExact(PyDict_GetItemString(env, "wsgi.version")));
    ENV_STR(env, "wsgi.other", "kept");
    Py_DECREF(env);

    wf_req_reset(&req);
    fake_param(&req, "wsgi.url_scheme", "gopher");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "http");
    Py_DECREF(env);
}
END_TEST

START_TEST(env_url_scheme)
{
    PyObject *env;

    fake_param(&req, "HTTPS", "on");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "https");
    Py_DECREF(env);

    wf_req_reset(&req);
    fake_param(&req, "REQUEST_SCHEME", "https");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "https");
    ENV_STR(env, "REQUEST_SCHEME", "https");
    ck_assert_ptr_null(PyDict_GetItemString(env, "HTTPS"));    /* not invented */
    Py_DECREF(env);

    wf_req_reset(&req);
    fake_param(&req, "HTTPS", "off");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "http");
    ENV_STR(env, "HTTPS", "off");
    Py_DECREF(env);
}
END_TEST

START_TEST(env_forced_scheme_and_flags)
{
    struct wf_environ_opts o = { .url_scheme = "https", .multithread = 1, .multiprocess = 1,
                                 .run_once = 1 };
    PyObject *env;

    py_environ_reinit(&o);
    fake_param(&req, "HTTPS", "off");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "https");
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.run_once"), Py_True);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.multithread"), Py_True);
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.multiprocess"), Py_True);
    Py_DECREF(env);

    o.url_scheme = "http";
    o.run_once = 0;
    py_environ_reinit(&o);
    wf_req_reset(&req);
    fake_param(&req, "HTTPS", "on");
    env = build();
    ENV_STR(env, "wsgi.url_scheme", "http");
    ck_assert_ptr_eq(PyDict_GetItemString(env, "wsgi.run_once"), Py_False);
    Py_DECREF(env);
}
END_TEST

START_TEST(env_script_name_option)
{
    struct wf_environ_opts o = { .script_name = "/app" };
    PyObject *env;

    py_environ_reinit(&o);
    fake_param(&req, "SCRIPT_NAME", "/app/x/y");
    fake_param(&req, "QUERY_STRING", "q=1");
    env = build();
    ENV_STR(env, "SCRIPT_NAME", "/app");
    ENV_STR(env, "PATH_INFO", "/x/y");
    ENV_STR(env, "QUERY_STRING", "q=1");
    Py_DECREF(env);

    wf_req_reset(&req);
    fake_param(&req, "SCRIPT_NAME", "/app");
    fake_param(&req, "PATH_INFO", "/z");
    env = build();
    ENV_STR(env, "SCRIPT_NAME", "/app");
    ENV_STR(env, "PATH_INFO", "/z");
    Py_DECREF(env);

    wf_req_reset(&req);                  /* nothing sent: both '' */
    env = build();
    ENV_STR(env, "SCRIPT_NAME", "");
    ENV_STR(env, "PATH_INFO", "");
    Py_DECREF(env);
}
END_TEST

START_TEST(env_script_name_long_path)
{
    struct wf_environ_opts o = { .script_name = "/app/" };
    size_t n = 5000;
    char *path = malloc(n + 1);
    PyObject *env;

    ck_assert_ptr_nonnull(path);
    py_environ_reinit(&o);
    memcpy(path, "/app/", 5);
    memset(path + 5, 'a', n - 5);
    path[n] = '\0';
    ck_assert_int_eq(wf_req_add_param(&req, LIT("SCRIPT_NAME"), path, 2000), 0);
    ck_assert_int_eq(wf_req_add_param(&req, LIT("PATH_INFO"), path + 2000, n - 2000), 0);
    env = build();
    ENV_STR(env, "SCRIPT_NAME", "/app");
    env_str(env, "PATH_INFO", path + 4, n - 4);
    Py_DECREF(env);
    free(path);
}
END_TEST

START_TEST(env_many_params)
{
    char names[200][24], values[200][24];
    PyObject *env;
    size_t i;

    for (i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "HTTP_X_H%zu", i);
        snprintf(values[i], sizeof values[i], "value-%zu", i);
        fake_param(&req, names[i], values[i]);
    }
    env = build();
    for (i = 0; i < 200; i++)
        env_str(env, names[i], values[i], strlen(values[i]));
    Py_DECREF(env);
}
END_TEST

/* ---- wsgi.errors ------------------------------------------------------------------------ */

static int logfd = -1;

static void errors_setup(void)
{
    env_setup();
    logfd = temp_fd();
    wf_log_set_fd(logfd);
}

static void errors_teardown(void)
{
    wf_log_set_fd(2);
    close(logfd);
    env_teardown();
}

/* The messages of the log's lines, one per line, prefixes cut off. */
static char *log_messages(void)
{
    size_t len;
    char *log = slurp_fd(logfd, &len), *out = malloc(len + 1), *p = log, *o = out;

    ck_assert_ptr_nonnull(out);
    while (*p) {
        char *nl = strchr(p, '\n'), *msg;
        ck_assert_msg(nl != NULL, "unterminated log line: %s", p);
        *nl = '\0';
        msg = strstr(p, "] [app] ");
        ck_assert_msg(msg != NULL, "not an app-level line: %s", p);
        msg += 8;
        memcpy(o, msg, strlen(msg));
        o += strlen(msg);
        *o++ = '|';
        p = nl + 1;
    }
    *o = '\0';
    free(log);
    return out;
}

static void errors_call(const char *method, PyObject *arg)
{
    PyObject *r = PyObject_CallMethod(errors, method, "O", arg);

    ck_assert_msg(r != NULL, "errors.%s raised %s", method, py_pending_type_name());
    Py_DECREF(r);
    Py_DECREF(arg);
}

START_TEST(errors_line_buffered)
{
    char *m;
    PyObject *r;

    errors_call("write", PyUnicode_FromString("a\nb"));
    m = log_messages();
    ck_assert_str_eq(m, "a|");
    free(m);
    errors_call("write", PyUnicode_FromString("c"));
    m = log_messages();
    ck_assert_str_eq(m, "a|");             /* still held */
    free(m);
    r = PyObject_CallMethod(errors, "flush", NULL);
    ck_assert_ptr_nonnull(r);
    Py_DECREF(r);
    m = log_messages();
    ck_assert_str_eq(m, "a|bc|");
    free(m);
    r = PyObject_CallMethod(errors, "flush", NULL);    /* nothing pending: no line */
    ck_assert_ptr_nonnull(r);
    Py_DECREF(r);
    m = log_messages();
    ck_assert_str_eq(m, "a|bc|");
    free(m);
}
END_TEST

START_TEST(errors_lines_and_writelines)
{
    char *m;
    PyObject *r;

    errors_call("write", PyUnicode_FromString("one\ntwo\n\nthree\n"));
    errors_call("writelines", Py_BuildValue("[sss]", "x", "y\n", "z"));
    m = log_messages();
    ck_assert_str_eq(m, "one|two||three|xy|");
    free(m);
    wf_errors_flush(errors);
    m = log_messages();
    ck_assert_str_eq(m, "one|two||three|xy|z|");
    free(m);

    r = PyObject_CallMethod(errors, "write", "s", "caf\xc3\xa9\n");   /* U+00E9, as UTF-8 */
    ck_assert_ptr_nonnull(r);
    ck_assert(PyLong_Check(r));
    Py_DECREF(r);
    m = log_messages();
    ck_assert_ptr_nonnull(strstr(m, "caf\xc3\xa9|"));
    free(m);
}
END_TEST

START_TEST(errors_type_checked)
{
    PyObject *r = PyObject_CallMethod(errors, "write", "i", 42);

    ck_assert_ptr_null(r);
    ck_assert_pyerr(PyExc_TypeError);
}
END_TEST

START_TEST(errors_pending_line_on_release)
{
    char *m;

    errors_call("write", PyUnicode_FromString("last words"));
    Py_CLEAR(errors);      /* the end of the request */
    m = log_messages();
    ck_assert_str_eq(m, "last words|");
    free(m);
    errors = wf_errors_new();
}
END_TEST

Suite *suite_environ(void)
{
    Suite *s = suite_create("environ");
    TCase *path = tcase_create("split_path");
    TCase *pure = tcase_create("params");
    TCase *env = tcase_create("build");
    TCase *err = tcase_create("errors");

    tcase_add_test(path, split_under_prefix);
    tcase_add_test(path, split_concatenates_first);
    tcase_add_test(path, split_not_under_prefix);
    tcase_add_test(path, split_root_prefix);
    tcase_add_test(path, split_trailing_slash_prefix);
    suite_add_tcase(s, path);

    tcase_add_test(pure, scheme_rules);
    tcase_add_test(pure, req_param_last_wins);
    tcase_add_test(pure, req_many_params_and_reset);
    tcase_add_test(pure, content_length_parse);
    suite_add_tcase(s, pure);

    tcase_add_checked_fixture(env, env_setup, env_teardown);
    tcase_add_test(env, env_latin1_roundtrip);
    tcase_add_test(env, env_duplicates_last_wins);
    tcase_add_test(env, env_defaults);
    tcase_add_test(env, env_sent_values_kept);
    tcase_add_test(env, env_nothing_invented);
    tcase_add_test(env, env_server_from_host);
    tcase_add_test(env, env_server_partial);
    tcase_add_test(env, env_wsgi_keys);
    tcase_add_test(env, env_wsgi_keys_not_replaced);
    tcase_add_test(env, env_url_scheme);
    tcase_add_test(env, env_forced_scheme_and_flags);
    tcase_add_test(env, env_script_name_option);
    tcase_add_test(env, env_script_name_long_path);
    tcase_add_test(env, env_many_params);
    suite_add_tcase(s, env);

    tcase_add_checked_fixture(err, errors_setup, errors_teardown);
    tcase_add_test(err, errors_line_buffered);
    tcase_add_test(err, errors_lines_and_writelines);
    tcase_add_test(err, errors_type_checked);
    tcase_add_test(err, errors_pending_line_on_release);
    suite_add_tcase(s, err);
    return s;
}
