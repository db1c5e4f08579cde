/*
 * fuzz_response.c - status and header validation (src/response.c): the pure
 * C predicates, and start_response itself with the embedded interpreter.
 *
 * Input: a control byte (bits 4-7: how many headers; bit 0: the server
 * declares the body's length as for a one-chunk result; bit 1: headers as a
 * tuple; bit 2: a second start_response with exc_info, headers reversed),
 * then strings, each a length byte (bit 7: decode as UTF-8, so the str may
 * hold characters beyond latin-1) and its bytes: the status, then a name
 * and a value per header; the rest is the body, written in two chunks.
 *
 * Invariants:
 *   - each predicate agrees with a reference written from its contract
 *     (wf_status_check: "NNN reason", 100..999, no control character but
 *     TAB; a token; no CR, LF or NUL; the hop-by-hop names in any case);
 *   - start_response accepts exactly what the rules accept (latin-1 str,
 *     a valid status, token names, clean values, no hop-by-hop or Status
 *     header, Content-Length decimal and not conflicting), and raises
 *     TypeError or ValueError otherwise;
 *   - what reaches the wire is exactly "Status: S\r\n", "Name: value\r\n" per
 *     header in order, the server's Content-Length when it set one and the
 *     application did not (0 for an empty body where the status allows
 *     one), "\r\n", then the body cut at the declared length;
 *   - a rejected second call leaves the first headers in force.
 */
#include "fuzz_py.h"

#include "autoconfig.h"

#include <errno.h>
#include <strings.h>

#include "fuzz.h"

/* ---- references ------------------------------------------------------------ */

static int ref_status(const unsigned char *s, size_t n)
{
    size_t i;

    if (n < 4 || s[3] != ' ')
        return -1;
    for (i = 0; i < 3; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    if (s[0] == '0')
        return -1;
    for (i = 4; i < n; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return -1;
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

static int ref_token(const unsigned char *s, size_t n)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] == 0 || !memchr(tchar, s[i], sizeof tchar - 1))
            return 0;
    return 1;
}

static int ref_value(const unsigned char *s, size_t n)
{
    return !memchr(s, '\r', n) && !memchr(s, '\n', n) && !memchr(s, '\0', n);
}

static int ieq(const unsigned char *s, size_t n, const char *lit)
{
    size_t i;

    if (n != strlen(lit))
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)lit[i])
            return 0;
    }
    return 1;
}

static int ref_hop(const unsigned char *s, size_t n)
{
    static const char *const hop[] = { "connection", "keep-alive", "proxy-authenticate",
                                       "proxy-authorization", "te", "trailer", "trailers",
                                       "transfer-encoding", "upgrade" };
    size_t i;

    for (i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (ieq(s, n, hop[i]))
            return 1;
    return 0;
}

/* Content-Length: blanks around 1..18 digits; -1 otherwise. */
static long long ref_length(const unsigned char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return fuzz_ref_digits(s, n);
}

static void predicates(const unsigned char *p, size_t n)
{
    unsigned char *b = fuzz_dup(p, n);
    const char *s = (const char *)b;

    FUZZ_CHECK(wf_status_check(s, n) == ref_status(b, n), "wf_status_check %d, expected %d",
               wf_status_check(s, n), ref_status(b, n));
    FUZZ_CHECK(!wf_header_name_ok(s, n) == !ref_token(b, n), "wf_header_name_ok");
    FUZZ_CHECK(!wf_header_value_ok(s, n) == !ref_value(b, n), "wf_header_value_ok");
    FUZZ_CHECK(!wf_header_is_hop_by_hop(s, n) == !ref_hop(b, n), "wf_header_is_hop_by_hop");
    free(b);
}

/* ---- start_response --------------------------------------------------------- */

struct sink {
    char *b;
    size_t n, cap;
};

static int sink_write(struct wf_request *req, const char *buf, size_t n)
{
    struct sink *s = req->conn;

    if (s->n + n > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->n + n)
            cap *= 2;
        s->b = realloc(s->b, cap);
        if (!s->b)
            abort();
        s->cap = cap;
    }
    memcpy(s->b + s->n, buf, n);
    s->n += n;
    return 0;
}

static int sink_flush(struct wf_request *req)
{
    return 0;
}

static ssize_t no_read(struct wf_request *req, char *buf, size_t n)
{
    return 0;
}

static const struct wf_request_ops sink_ops = { no_read, sink_write, sink_flush, NULL };

#define MAX_STR 17          /* status + 8 headers */

struct str {
    PyObject *o;
    const unsigned char *latin1;   /* the bytes, when the str is latin-1 */
    size_t len;
};

static int take_str(struct fuzz_in *in, struct str *s)
{
    unsigned l;

    if (in->n == 0)
        return 0;
    l = fuzz_byte(in);
    if ((l & 0x7f) > in->n)
        return 0;
    s->o = (l & 0x80) ? PyUnicode_DecodeUTF8((const char *)in->p, l & 0x7f, "replace")
                      : PyUnicode_DecodeLatin1((const char *)in->p, l & 0x7f, NULL);
    if (!s->o)
        abort();
    in->p += l & 0x7f;
    in->n -= l & 0x7f;
    if (PyUnicode_KIND(s->o) == PyUnicode_1BYTE_KIND) {
        s->latin1 = PyUnicode_1BYTE_DATA(s->o);
        s->len = (size_t)PyUnicode_GET_LENGTH(s->o);
    } else {
        s->latin1 = NULL;
    }
    return 1;
}

/* Whether the rules accept status and headers; fills the expected head
 * (without the final blank line) and the declared length. */
static int expect_head(const struct str *st, const struct str *h, size_t nh, int reversed, struct sink *head,
                       long long *declared)
{
    size_t k;

    *declared = -1;
    head->n = 0;
    if (!st->latin1 || ref_status(st->latin1, st->len) < 0)
        return 0;
    sink_write(&(struct wf_request){ .conn = head }, "Status: ", 8);
    sink_write(&(struct wf_request){ .conn = head }, (const char *)st->latin1, st->len);
    sink_write(&(struct wf_request){ .conn = head }, "\r\n", 2);
    for (k = 0; k < nh; k++) {
        const struct str *n = &h[2 * (reversed ? nh - 1 - k : k)], *v = n + 1;
        struct wf_request r = { .conn = head };
        if (!n->latin1 || !v->latin1 || !ref_token(n->latin1, n->len) || !ref_value(v->latin1, v->len) ||
            ref_hop(n->latin1, n->len) || ieq(n->latin1, n->len, "status"))
            return 0;
        if (ieq(n->latin1, n->len, "content-length")) {
            long long l = ref_length(v->latin1, v->len);
            if (l < 0 || (*declared >= 0 && *declared != l))
                return 0;
            *declared = l;
        }
        sink_write(&r, (const char *)n->latin1, n->len);
        sink_write(&r, ": ", 2);
        sink_write(&r, (const char *)v->latin1, v->len);
        sink_write(&r, "\r\n", 2);
    }
    return 1;
}

static PyObject *headers_obj(const struct str *h, size_t nh, int as_tuple, int reversed)
{
    PyObject *seq = as_tuple ? PyTuple_New((Py_ssize_t)nh) : PyList_New((Py_ssize_t)nh);
    size_t k;

    if (!seq)
        abort();
    for (k = 0; k < nh; k++) {
        const struct str *n = &h[2 * (reversed ? nh - 1 - k : k)];
        PyObject *t = PyTuple_Pack(2, n->o, n[1].o);
        if (!t)
            abort();
        if (as_tuple)
            PyTuple_SET_ITEM(seq, (Py_ssize_t)k, t);
        else
            PyList_SET_ITEM(seq, (Py_ssize_t)k, t);
    }
    return seq;
}

/* Calls start_response; 1 accepted, 0 refused (TypeError/ValueError). */
static int call(PyObject *sr, PyObject *status, PyObject *headers, PyObject *exc_info)
{
    PyObject *w = exc_info ? PyObject_CallFunctionObjArgs(sr, status, headers, exc_info, NULL)
                           : PyObject_CallFunctionObjArgs(sr, status, headers, NULL);

    if (w) {
        FUZZ_CHECK(PyCallable_Check(w), "start_response did not return write");
        Py_DECREF(w);
        return 1;
    }
    FUZZ_CHECK(PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_ValueError),
               "refused with another exception");
    PyErr_Clear();
    return 0;
}

static void start_response(struct fuzz_in *in, unsigned ctl)
{
    struct str s[MAX_STR];
    size_t ns = 0, nh, k, cut;
    struct wf_request req;
    struct sink out = { NULL, 0, 0 }, head = { NULL, 0, 0 };
    PyObject *sr = NULL, *headers = NULL, *exc = NULL;
    long long declared, limit;
    int ok, ok2 = 0, status;
    const unsigned char *body;
    size_t body_len, sent;

    memset(s, 0, sizeof s);
    nh = (ctl >> 4) & 7;
    while (ns < 1 + 2 * nh && take_str(in, &s[ns]))
        ns++;
    if (ns == 0)
        return;
    nh = (ns - 1) / 2;
    body = in->p;
    body_len = in->n;
    cut = body_len ? (size_t)body[0] % (body_len + 1) : 0;

    wf_req_init(&req);
    req.ops = &sink_ops;
    req.conn = &out;
    sr = wf_response_new(&req);
    if (!sr)
        abort();
    headers = headers_obj(s + 1, nh, ctl & 2, 0);
    ok = call(sr, s[0].o, headers, NULL);
    FUZZ_CHECK(ok == expect_head(&s[0], s + 1, nh, 0, &head, &declared),
               "start_response %s what the rules %s", ok ? "accepted" : "refused", ok ? "refuse" : "accept");
    if (ctl & 4) {
        /* Again with exc_info, before anything is sent: the new headers
         * replace the old, or a refusal leaves the old in force. */
        PyObject *hrev = headers_obj(s + 1, nh, ctl & 2, 1), *st500 = PyUnicode_FromString("500 Oops");
        struct sink head2 = { NULL, 0, 0 };
        long long declared2;
        exc = Py_BuildValue("(OOO)", (PyObject *)PyExc_ValueError, Py_None, Py_None);
        if (!hrev || !st500 || !exc)
            abort();
        ok2 = call(sr, st500, hrev, exc);
        {
            struct str st = { st500, (const unsigned char *)"500 Oops", 8 };
            int want = expect_head(&st, s + 1, nh, 1, &head2, &declared2);
            FUZZ_CHECK(ok2 == want, "start_response with exc_info %s what the rules %s",
                       ok2 ? "accepted" : "refused", ok2 ? "refuse" : "accept");
        }
        if (ok2) {
            free(head.b);
            head = head2;
            declared = declared2;
            ok = 1;
        } else {
            free(head2.b);
        }
        Py_DECREF(hrev);
        Py_DECREF(st500);
    } else if (ok) {
        /* A second call without exc_info is an error. */
        PyObject *w = PyObject_CallFunctionObjArgs(sr, s[0].o, headers, NULL);
        FUZZ_CHECK(!w && PyErr_ExceptionMatches(PyExc_RuntimeError), "a second start_response accepted");
        PyErr_Clear();
    }
    if (ok) {
        char tail[64];
        if (ctl & 1)
            wf_response_set_length(sr, (long long)body_len);
        limit = declared >= 0 ? declared : (ctl & 1) ? (long long)body_len : -1;
        status = (head.b[8] - '0') * 100 + (head.b[9] - '0') * 10 + (head.b[10] - '0');
        if (declared < 0 && (ctl & 1)) {
            int n = snprintf(tail, sizeof tail, "Content-Length: %zu\r\n", body_len);
            sink_write(&(struct wf_request){ .conn = &head }, tail, (size_t)n);
        } else if (declared < 0 && body_len == 0 && status >= 200 && status != 204 && status != 304) {
            /* No body and no length: the server says 0 (not for 1xx, 204
             * and 304, which have no content). */
            sink_write(&(struct wf_request){ .conn = &head }, "Content-Length: 0\r\n", 19);
        }
        sink_write(&(struct wf_request){ .conn = &head }, "\r\n", 2);
        FUZZ_CHECK(wf_response_write(sr, (const char *)body, cut) == 0 &&
                   wf_response_write(sr, (const char *)body + cut, body_len - cut) == 0 &&
                   wf_response_finish(sr) == 0, "writing the body failed");
        sent = limit >= 0 && (unsigned long long)limit < body_len ? (size_t)limit : body_len;
        FUZZ_CHECK(out.n == head.n + sent && memcmp(out.b, head.b, head.n) == 0 &&
                   (sent == 0 || memcmp(out.b + head.n, body, sent) == 0),
                   "the wire holds %zu bytes, expected %zu of head and %zu of body", out.n, head.n, sent);
        FUZZ_CHECK(req.status == status, "req.status %d", req.status);
    } else {
        FUZZ_CHECK(wf_response_finish(sr) < 0 && PyErr_ExceptionMatches(PyExc_RuntimeError),
                   "finished without start_response");
        PyErr_Clear();
        FUZZ_CHECK(out.n == 0, "bytes on the wire without accepted headers");
    }
    FUZZ_CHECK(!PyErr_Occurred(), "an exception left pending");
    wf_response_detach(sr);
    Py_DECREF(sr);
    Py_XDECREF(headers);
    Py_XDECREF(exc);
    for (k = 0; k < ns; k++)
        Py_DECREF(s[k].o);
    free(out.b);
    free(head.b);
    wf_req_release(&req);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_py_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);

    predicates(in.p, in.n);
    start_response(&in, ctl);
    return 0;
}
