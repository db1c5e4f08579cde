/*
 * check_fcgi_walk.c - unit tests of the FastCGI record walker that every
 * byte passes before libfcgi sees it (src/fcgi_walk.h), and of the answers
 * to management records.
 *
 * Streams are assembled record by record into a byte buffer; every case is
 * then fed through an exact-size heap copy (so a sanitizer build catches a
 * read past the bytes given), in one piece, byte by byte, and, for the
 * cut-anywhere promise, once per prefix length.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "fcgi_walk.h"

enum {
    BEGIN_REQUEST = 1, ABORT_REQUEST = 2, END_REQUEST = 3, PARAMS = 4, STDIN = 5,
    GET_VALUES = 9, UNKNOWN_TYPE = 11
};

#define MAX_HEAD 65536

struct stream {
    unsigned char b[1 << 16];
    size_t len;
};

static void put(struct stream *s, const void *p, size_t n)
{
    ck_assert_uint_le(s->len + n, sizeof s->b);
    memcpy(s->b + s->len, p, n);
    s->len += n;
}

/* One record of the given version, type, request id and content, with padding. */
static void record_vi(struct stream *s, int version, int type, unsigned id, const void *content,
                      size_t clen, size_t pad)
{
    unsigned char h[8] = { (unsigned char)version, (unsigned char)type, (unsigned char)(id >> 8),
                           (unsigned char)id,
                           (unsigned char)(clen >> 8), (unsigned char)clen, (unsigned char)pad, 0 };
    static const unsigned char zeros[255];

    ck_assert_uint_le(clen, 0xffff);
    ck_assert_uint_le(pad, 255);
    put(s, h, sizeof h);
    if (clen)
        put(s, content, clen);
    put(s, zeros, pad);
}

static void record_v(struct stream *s, int version, int type, const void *content, size_t clen,
                     size_t pad)
{
    record_vi(s, version, type, 1, content, clen, pad);
}

static void record(struct stream *s, int type, const void *content, size_t clen, size_t pad)
{
    record_v(s, 1, type, content, clen, pad);
}

static void begin_request(struct stream *s)
{
    static const unsigned char body[8] = { 0, 1 /* RESPONDER */, 1 /* KEEP_CONN */, 0, 0, 0, 0, 0 };

    record(s, BEGIN_REQUEST, body, sizeof body, 0);
}

/* Appends one name/value pair in FastCGI's length encoding to p. */
static size_t encode_len(unsigned char *p, uint32_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = (unsigned char)(0x80 | (n >> 24));
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

static size_t pair(unsigned char *p, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), n = 0;

    n += encode_len(p + n, (uint32_t)nl);
    n += encode_len(p + n, (uint32_t)vl);
    memcpy(p + n, name, nl);
    n += nl;
    memcpy(p + n, value, vl);
    return n + vl;
}

/* A complete, ordinary request: begin, params, empty params, stdin. */
static void valid_request(struct stream *s)
{
    unsigned char params[4096];
    char longval[300];
    size_t n = 0;

    memset(longval, 'v', sizeof longval - 1);
    longval[sizeof longval - 1] = '\0';
    begin_request(s);
    n += pair(params + n, "REQUEST_METHOD", "POST");
    n += pair(params + n, "SCRIPT_NAME", "/app");
    n += pair(params + n, "QUERY_STRING", "");
    n += pair(params + n, "CONTENT_LENGTH", "5");
    n += pair(params + n, "HTTP_X_LONG", longval);        /* a 4-byte value length */
    record(s, PARAMS, params, n / 2, 3);                  /* pairs split across records */
    record(s, PARAMS, params + n / 2, n - n / 2, 0);
    record(s, PARAMS, NULL, 0, 0);
    record(s, STDIN, "hello", 5, 3);
    record(s, STDIN, NULL, 0, 0);
}


/* What walking a stream reported: each event and the stream offset just
 * after it; walking stops at the first error or abort. */
struct walked {
    enum wf_fw_event ev[64];
    size_t at[64];
    unsigned n;
    int stopped;             /* an error or an abort ended the walk */
    const char *why;
};

/* Walks len bytes fed in pieces of step bytes (0: all at once), each piece
 * an exact-size heap copy. */
static void walk_pieces(const unsigned char *buf, size_t len, size_t step, size_t max_head,
                        struct walked *out)
{
    struct wf_fcgi_walk w;
    size_t pos = 0;

    memset(out, 0, sizeof *out);
    wf_fcgi_walk_init(&w, max_head);
    while (pos < len && !out->stopped) {
        size_t piece = step && len - pos > step ? step : len - pos, off = 0;
        unsigned char *chunk = (unsigned char *)dup_bytes(buf + pos, piece);

        while (off < piece) {
            size_t used;
            enum wf_fw_event ev = wf_fcgi_walk(&w, chunk + off, piece - off, &used);

            ck_assert_uint_le(used, piece - off);
            off += used;
            ck_assert_uint_eq(w.offset, pos + off);
            if (ev == WF_FW_MORE) {
                ck_assert_uint_eq(off, piece);
                break;
            }
            ck_assert_uint_lt(out->n, 64);
            out->ev[out->n] = ev;
            out->at[out->n++] = pos + off;
            if (ev == WF_FW_MGMT)
                ck_assert_uint_lt(w.rec_start, w.offset);
            if (ev == WF_FW_END)
                wf_fcgi_walk_next(&w);
            if (ev == WF_FW_ERROR || ev == WF_FW_ABORT) {
                out->stopped = 1;
                out->why = w.why;
                if (ev == WF_FW_ERROR)
                    ck_assert_msg(w.why && *w.why, "refused without a reason");
                break;
            }
        }
        free(chunk);
        pos += piece;
    }
}

/* Walks the stream whole and byte by byte; both must report the same. */
static void walk(const struct stream *s, size_t max_head, struct walked *out)
{
    struct walked bytewise;
    unsigned i;

    walk_pieces(s->b, s->len, 0, max_head, out);
    walk_pieces(s->b, s->len, 1, max_head, &bytewise);
    ck_assert_uint_eq(bytewise.n, out->n);
    for (i = 0; i < out->n; i++) {
        ck_assert_int_eq(bytewise.ev[i], out->ev[i]);
        ck_assert_uint_eq(bytewise.at[i], out->at[i]);
    }
}

static int has_error(const struct walked *w)
{
    return w->n > 0 && w->ev[w->n - 1] == WF_FW_ERROR;
}

/* Every prefix shorter than bad_from walks without an error; every one
 * from it on is refused. */
static void prefixes(const struct stream *s, size_t bad_from, size_t max_head)
{
    size_t k;

    for (k = 0; k <= s->len; k++) {
        struct walked w;
        walk_pieces(s->b, k, 0, max_head, &w);
        if (k < bad_from)
            ck_assert_msg(!has_error(&w), "prefix of %zu bytes refused: %s", k, w.why);
        else
            ck_assert_msg(has_error(&w), "prefix of %zu bytes (hostile from %zu) accepted", k, bad_from);
    }
}

/* The events expected, as a string: H head, E end, M management, A abort, X error. */
static void expect_events(const struct walked *w, const char *want)
{
    char got[65];
    unsigned i;

    for (i = 0; i < w->n; i++)
        got[i] = "?HMEAX"[w->ev[i]];
    got[w->n] = '\0';
    ck_assert_msg(strcmp(got, want) == 0, "events %s, expected %s (%s)", got, want, w->why ? w->why : "");
}

START_TEST(walk_empty)
{
    struct walked w;

    walk_pieces((const unsigned char *)"", 0, 0, MAX_HEAD, &w);
    ck_assert_uint_eq(w.n, 0);
}
END_TEST

START_TEST(walk_valid_stream)
{
    static struct stream s;
    struct walked w;
    size_t end_of_head;

    valid_request(&s);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "HE");
    ck_assert_uint_eq(w.at[1], s.len);
    /* The head ends right after the empty PARAMS record. */
    end_of_head = s.len - (8 + 5 + 3) - 8;
    ck_assert_uint_eq(w.at[0], end_of_head);
}
END_TEST

START_TEST(walk_valid_every_prefix)
{
    static struct stream s;

    valid_request(&s);
    prefixes(&s, s.len + 1, MAX_HEAD);
}
END_TEST

START_TEST(walk_two_requests_kept_conn)
{
    /* Back to back in one buffer (pipelined): each event stops the walk at
     * its exact end, so the next request's bytes are left for later. */
    static struct stream s;
    struct walked w;
    size_t one;

    valid_request(&s);
    one = s.len;
    valid_request(&s);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "HEHE");
    ck_assert_uint_eq(w.at[1], one);
    ck_assert_uint_eq(w.at[3], s.len);
    prefixes(&s, s.len + 1, MAX_HEAD);
}
END_TEST

START_TEST(walk_body_bytes_not_params)
{
    /* Bytes that would be hostile as params are harmless as body. */
    static struct stream s;
    static const unsigned char evil[] = { 0xC0, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00 };
    struct walked w;

    begin_request(&s);
    record(&s, PARAMS, NULL, 0, 0);
    record(&s, STDIN, evil, sizeof evil, 0);
    record(&s, STDIN, NULL, 0, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "HE");
    prefixes(&s, s.len + 1, MAX_HEAD);
}
END_TEST

START_TEST(walk_padding_not_params)
{
    /* Padding bytes of a PARAMS record are not pair data. */
    static struct stream s;
    unsigned char params[64];
    size_t n = pair(params, "A", "b");
    unsigned char h[8] = { 1, PARAMS, 0, 1, 0, (unsigned char)n, 4, 0 };
    static const unsigned char evil_pad[4] = { 0xC0, 0x00, 0x00, 0x00 };
    struct walked w;

    begin_request(&s);
    put(&s, h, sizeof h);
    put(&s, params, n);
    put(&s, evil_pad, sizeof evil_pad);
    n = pair(params, "C", "d");
    record(&s, PARAMS, params, n, 0);
    record(&s, PARAMS, NULL, 0, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "H");
}
END_TEST

/* Found by tests/fuzz/fuzz_fcgi_libfcgi (tests/data/fcgi/padded_*.rec):
 * libfcgi drops the padding still to skip when it moves from the
 * BEGIN_REQUEST to the PARAMS stream and from PARAMS to STDIN, and reads
 * those padding bytes as a record header: the params are lost, or records
 * the walker never saw (a management record, GET_VALUES) reach libfcgi.
 * Such padding is refused as soon as the record's header is in. */
START_TEST(walk_padded_begin)
{
    static struct stream s;
    static const unsigned char body[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    unsigned char p[64];
    size_t n = pair(p, "A", "b");
    struct walked w;

    record(&s, BEGIN_REQUEST, body, sizeof body, 1);
    record(&s, PARAMS, p, n, 0);
    record(&s, PARAMS, NULL, 0, 0);
    record(&s, STDIN, NULL, 0, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    ck_assert_msg(strstr(w.why, "padded FCGI_BEGIN_REQUEST") != NULL, "%s", w.why);
    prefixes(&s, 8, MAX_HEAD);
}
END_TEST

START_TEST(walk_padded_end_of_params)
{
    static struct stream s;
    unsigned char p[64];
    size_t n = pair(p, "A", "b"), bad;
    /* Padding that libfcgi would take for a GET_VALUES record. */
    static const unsigned char smuggled[8] = { 1, GET_VALUES, 0, 0, 0, 0, 0, 0 };
    unsigned char h[8] = { 1, PARAMS, 0, 1, 0, 0, sizeof smuggled, 0 };
    struct walked w;

    begin_request(&s);
    record(&s, PARAMS, p, n, 7);       /* padding inside the stream is fine */
    bad = s.len + 8;
    put(&s, h, sizeof h);
    put(&s, smuggled, sizeof smuggled);
    record(&s, STDIN, NULL, 0, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    ck_assert_msg(strstr(w.why, "padded empty FCGI_PARAMS") != NULL, "%s", w.why);
    prefixes(&s, bad, MAX_HEAD);
}
END_TEST

/* Found by tests/fuzz/fuzz_fcgi_libfcgi (tests/data/fuzz/fcgi_libfcgi/): a
 * name holding a NUL or '=' byte cannot pass through libfcgi's NAME=VALUE
 * strings intact, so the walker refuses it at that byte.  A value may hold
 * '=' (and '=' is fine in every value). */
START_TEST(walk_param_name_nul_or_equals)
{
    static const char *const names[3] = { "AB\0CD", "REMOTE_USER=admin", "=" };
    static const size_t lens[3] = { 5, 17, 1 }, bad_at[3] = { 2, 11, 0 };
    unsigned i;

    for (i = 0; i < 3; i++) {
        static struct stream s;
        unsigned char p[64];
        size_t n = 0, bad;
        struct walked w;

        s.len = 0;
        begin_request(&s);
        n += encode_len(p + n, (uint32_t)lens[i]);
        n += encode_len(p + n, 3);
        memcpy(p + n, names[i], lens[i]);
        n += lens[i];
        memcpy(p + n, "v=1", 3);
        n += 3;
        bad = s.len + 8 + 2 + bad_at[i] + 1;
        record(&s, PARAMS, p, n, 0);
        record(&s, PARAMS, NULL, 0, 0);
        record(&s, STDIN, NULL, 0, 0);
        walk(&s, MAX_HEAD, &w);
        expect_events(&w, "X");
        ck_assert_msg(strstr(w.why, "NUL or '='") != NULL, "%s", w.why);
        ck_assert_uint_eq(w.at[0], bad);
        prefixes(&s, bad, MAX_HEAD);
    }
}
END_TEST

/* The name check reads eight bytes at a time: a NUL or '=' is found at every
 * position of a long name, and a clean long name passes. */
START_TEST(walk_param_name_bad_byte_every_position)
{
    unsigned at, bad_byte;

    for (bad_byte = 0; bad_byte < 2; bad_byte++) {
        for (at = 0; at <= 41; at++) {
            static struct stream s;
            unsigned char p[128];
            char name[41];
            size_t n = 0;
            struct walked w;

            memset(name, 'N', sizeof name);
            if (at < sizeof name)
                name[at] = bad_byte ? '=' : '\0';
            s.len = 0;
            begin_request(&s);
            n += encode_len(p + n, sizeof name);
            n += encode_len(p + n, 1);
            memcpy(p + n, name, sizeof name);
            n += sizeof name;
            p[n++] = 'v';
            record(&s, PARAMS, p, n, 0);
            record(&s, PARAMS, NULL, 0, 0);
            record(&s, STDIN, NULL, 0, 0);
            walk(&s, MAX_HEAD, &w);
            if (at == sizeof name) {
                expect_events(&w, "HE");
            } else {
                expect_events(&w, "X");
                ck_assert_uint_eq(w.at[0], 8 + 8 + 8 + 2 + at + 1);
            }
        }
    }
}
END_TEST

/* Values holding a NUL are noted (place, name and value length), whole
 * pairs at hand or split across records and pieces; past the room for
 * them they are counted. */
START_TEST(walk_param_value_with_nul)
{
    static const size_t steps[] = { 0, 1, 3, 7, 64 };
    static struct stream s;
    unsigned char p[4096];
    char longval[300];
    size_t n = 0, k;
    unsigned i;

    memset(longval, 'v', sizeof longval);
    longval[150] = '\0';
    s.len = 0;
    begin_request(&s);
    memcpy(p + n, "\x01\x03" "Ax\0y", 6);                  /* pair 0 */
    n += 6;
    n += pair(p + n, "BB", "plain");                        /* pair 1 */
    n += encode_len(p + n, 3);                              /* pair 2: 4-byte length */
    n += encode_len(p + n, sizeof longval);
    memcpy(p + n, "CCC", 3);
    memcpy(p + n + 3, longval, sizeof longval);
    n += 3 + sizeof longval;
    memcpy(p + n, "\x01\x01" "D\0", 4);                    /* pair 3: a lone NUL */
    n += 4;
    for (i = 0; i < WF_FW_NUL_VALUES + 2; i++) {            /* pairs 4..: two too many */
        memcpy(p + n, "\x01\x02" "E\0e", 5);
        n += 5;
    }
    record(&s, PARAMS, p, n / 3, 0);
    record(&s, PARAMS, p + n / 3, n - n / 3, 5);
    record(&s, PARAMS, NULL, 0, 0);
    record(&s, STDIN, NULL, 0, 0);
    for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        struct wf_fcgi_walk w;
        size_t pos = 0, used;
        enum wf_fw_event ev = WF_FW_MORE;

        wf_fcgi_walk_init(&w, MAX_HEAD);
        while (pos < s.len && ev == WF_FW_MORE) {
            size_t piece = steps[k] && s.len - pos > steps[k] ? steps[k] : s.len - pos;
            ev = wf_fcgi_walk(&w, s.b + pos, piece, &used);
            pos += used;
        }
        ck_assert_int_eq(ev, WF_FW_HEAD);
        ck_assert_uint_eq(w.nparams, 4 + WF_FW_NUL_VALUES + 2);
        ck_assert_uint_eq(w.n_nul_values, WF_FW_NUL_VALUES);
        ck_assert_uint_eq(w.nul_values_lost, 5);    /* pairs 0, 2, 3 and 16 E's fill 16 */
        ck_assert_uint_eq(w.nul_values[0].pair, 0);
        ck_assert_uint_eq(w.nul_values[0].name_len, 1);
        ck_assert_uint_eq(w.nul_values[0].value_len, 3);
        ck_assert_uint_eq(w.nul_values[1].pair, 2);
        ck_assert_uint_eq(w.nul_values[1].name_len, 3);
        ck_assert_uint_eq(w.nul_values[1].value_len, sizeof longval);
        ck_assert_uint_eq(w.nul_values[2].pair, 3);
        ck_assert_uint_eq(w.nul_values[2].value_len, 1);
        ck_assert_uint_eq(w.nul_values[3].pair, 4);
        ck_assert_uint_eq(w.nul_values[WF_FW_NUL_VALUES - 1].pair, WF_FW_NUL_VALUES);
    }
}
END_TEST

START_TEST(walk_param_value_with_equals)
{
    static struct stream s;
    unsigned char p[64];
    size_t n = pair(p, "QUERY_STRING", "a=1&b==2");
    struct walked w;

    begin_request(&s);
    record(&s, PARAMS, p, n, 0);
    record(&s, PARAMS, NULL, 0, 0);
    record(&s, STDIN, NULL, 0, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "HE");
}
END_TEST

START_TEST(walk_abort)
{
    static struct stream in_params, in_body;
    unsigned char p[64];
    size_t n = pair(p, "A", "b");
    struct walked w;

    begin_request(&in_params);
    record(&in_params, PARAMS, p, n, 0);
    record(&in_params, ABORT_REQUEST, NULL, 0, 0);
    walk(&in_params, MAX_HEAD, &w);
    expect_events(&w, "A");

    begin_request(&in_body);
    record(&in_body, PARAMS, NULL, 0, 0);
    record(&in_body, STDIN, "x", 1, 7);
    record(&in_body, ABORT_REQUEST, NULL, 0, 0);
    walk(&in_body, MAX_HEAD, &w);
    expect_events(&w, "HA");
    ck_assert_uint_eq(w.at[1], in_body.len);
}
END_TEST

/* A PARAMS record whose first pair declares name length nlen (4-byte form). */
static size_t huge_name_stream(struct stream *s, uint32_t nlen, int split)
{
    unsigned char p[16];
    size_t n = encode_len(p, nlen), at;

    n += encode_len(p + n, 1);
    begin_request(s);
    at = s->len + 8;            /* where the PARAMS content starts */
    if (!split) {
        record(s, PARAMS, p, n, 0);
        return at + 4;          /* hostile once all 4 length bytes are in */
    }
    /* The 4 length bytes straddle two records: 2 + 2. */
    record(s, PARAMS, p, 2, 0);
    at = s->len + 8;
    record(s, PARAMS, p + 2, n - 2, 0);
    return at + 2;
}

START_TEST(walk_huge_name_length)
{
    static struct stream s;
    struct walked w;
    size_t bad = huge_name_stream(&s, 0x40000000u, 0);

    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    ck_assert_uint_eq(w.at[0], bad);
    prefixes(&s, bad, MAX_HEAD);
}
END_TEST

START_TEST(walk_huge_name_length_split)
{
    static struct stream s;
    struct walked w;
    size_t bad = huge_name_stream(&s, 0x40000000u, 1);

    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    prefixes(&s, bad, MAX_HEAD);
}
END_TEST

START_TEST(walk_huge_value_length)
{
    static struct stream s;
    unsigned char p[16];
    size_t n = 0, bad;
    struct walked w;

    begin_request(&s);
    n += encode_len(p + n, 4);
    n += encode_len(p + n, 0x7fffffffu);
    memcpy(p + n, "NAME", 4);
    n += 4;
    bad = s.len + 8 + 5;
    record(&s, PARAMS, p, n, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    prefixes(&s, bad, MAX_HEAD);
}
END_TEST

START_TEST(walk_huge_after_valid_pairs)
{
    /* The hostile pair comes after ordinary ones, in a later record. */
    static struct stream s;
    unsigned char p[256];
    size_t n = 0, bad;
    struct walked w;

    begin_request(&s);
    n += pair(p + n, "REQUEST_METHOD", "GET");
    n += pair(p + n, "SCRIPT_NAME", "/");
    record(&s, PARAMS, p, n, 1);
    n = pair(p, "PATH_INFO", "/x");
    n += encode_len(p + n, 0x40000000u);
    bad = s.len + 8 + n;
    n += encode_len(p + n, 1);
    record(&s, PARAMS, p, n, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    prefixes(&s, bad, MAX_HEAD);
}
END_TEST

START_TEST(walk_huge_deep_in_params)
{
    /* LIBFCGI.md #16: a corrupt pair length far past the first 8 KiB of the
     * connection, after many ordinary pairs in many records. */
    static struct stream s;
    unsigned char p[512];
    size_t n, bad;
    int i;
    struct walked w;

    begin_request(&s);
    for (i = 0; i < 60; i++) {
        char name[32], value[200];
        snprintf(name, sizeof name, "HTTP_X_%d", i);
        memset(value, 'a' + i % 26, sizeof value - 1);
        value[sizeof value - 1] = '\0';
        n = pair(p, name, value);
        record(&s, PARAMS, p, n, (8 - n % 8) % 8);
    }
    ck_assert_uint_gt(s.len, 8192);
    n = encode_len(p, 0x7ffffff0u);
    bad = s.len + 8 + n;
    n += encode_len(p + n, 1);
    record(&s, PARAMS, p, n, 0);
    walk(&s, 1024 * 1024, &w);
    expect_events(&w, "X");
    ck_assert_uint_eq(w.at[0], bad);
}
END_TEST

START_TEST(walk_limit_exact)
{
    /* A declared length of max_head exactly is accepted; one byte more is not. */
    static struct stream ok, over, ok_v, over_v;
    unsigned char p[16];
    size_t n;
    struct walked w;
    const size_t max = 1024 * 1024;

    huge_name_stream(&ok, (uint32_t)max, 0);
    walk(&ok, max, &w);
    ck_assert_msg(!has_error(&w), "a name of max_head bytes refused: %s", w.why);
    huge_name_stream(&over, (uint32_t)max + 1, 0);
    walk(&over, max, &w);
    expect_events(&w, "X");

    begin_request(&ok_v);
    n = encode_len(p, 1);
    n += encode_len(p + n, (uint32_t)max);
    record(&ok_v, PARAMS, p, n, 0);
    walk(&ok_v, max, &w);
    ck_assert_msg(!has_error(&w), "a value of max_head bytes refused: %s", w.why);

    begin_request(&over_v);
    n = encode_len(p, 1);
    n += encode_len(p + n, (uint32_t)max + 1);
    record(&over_v, PARAMS, p, n, 0);
    walk(&over_v, max, &w);
    expect_events(&w, "X");
}
END_TEST

START_TEST(walk_head_too_long)
{
    /* The head (BEGIN_REQUEST through the empty PARAMS) is bounded: the
     * record that would pass the bound is refused at its header. */
    static struct stream s, fits;
    unsigned char p[600];
    size_t n = pair(p, "HTTP_X", "0123456789"), bad = 0;
    int i;
    struct walked w;

    begin_request(&s);
    for (i = 0; i < 40; i++) {
        if (!bad && s.len + 8 + n > 512)
            bad = s.len + 8;
        record(&s, PARAMS, p, n, 0);
    }
    walk(&s, 512, &w);
    expect_events(&w, "X");
    ck_assert_uint_eq(w.at[0], bad);
    prefixes(&s, bad, 512);

    begin_request(&fits);
    record(&fits, PARAMS, p, n, 0);
    record(&fits, PARAMS, NULL, 0, 0);
    walk(&fits, fits.len, &w);
    expect_events(&w, "H");
    walk(&fits, fits.len - 1, &w);
    expect_events(&w, "X");
}
END_TEST

START_TEST(walk_get_values_between_requests)
{
    /* Management records before a request or between two are reported for
     * the caller to answer; the walk goes on. */
    static struct stream s, late;
    unsigned char p[64];
    size_t n = pair(p, "FCGI_MAX_CONNS", "");
    struct walked w;

    record_vi(&s, 1, GET_VALUES, 0, p, n, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "M");
    ck_assert_uint_eq(w.at[0], s.len);
    prefixes(&s, s.len + 1, MAX_HEAD);
    valid_request(&s);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "MHE");

    valid_request(&late);
    record_vi(&late, 1, GET_VALUES, 0, p, n, 0);
    record_vi(&late, 1, 12, 0, "zzzz", 4, 4);
    valid_request(&late);
    walk(&late, MAX_HEAD, &w);
    expect_events(&w, "HEMMHE");
}
END_TEST

START_TEST(walk_management_inside_request)
{
    /* LIBFCGI.md #15: libfcgi reads a management record's content as
     * name/value lengths, even inside a request.  Types 3, 9, 11, 12, 255
     * with request id 0 are refused at their header, in the params and in
     * the body. */
    static const int types[] = { 3, 9, 11, 12, 255 };
    static const unsigned char evil[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    unsigned i;

    for (i = 0; i < sizeof types / sizeof types[0]; i++) {
        static struct stream a, b;
        size_t bad;
        struct walked w;

        a.len = b.len = 0;
        begin_request(&a);
        bad = a.len + 8;
        record_vi(&a, 1, types[i], 0, evil, sizeof evil, 0);
        walk(&a, MAX_HEAD, &w);
        expect_events(&w, "X");
        prefixes(&a, bad, MAX_HEAD);

        begin_request(&b);
        record(&b, PARAMS, NULL, 0, 0);
        record(&b, STDIN, "abc", 3, 5);
        bad = b.len + 8;
        record_vi(&b, 1, types[i], 0, evil, sizeof evil, 0);
        walk(&b, MAX_HEAD, &w);
        expect_events(&w, "HX");
        ck_assert_uint_eq(w.at[1], bad);
    }
}
END_TEST

START_TEST(walk_out_of_place_records)
{
    static struct stream first_params, stdin_early, other_id, second_begin, begin_zero, begin_short,
        pair_cut, data_in_body;
    unsigned char p[64];
    size_t n;
    struct walked w;
    static const unsigned char body[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };

    record(&first_params, PARAMS, NULL, 0, 0);
    walk(&first_params, MAX_HEAD, &w);
    expect_events(&w, "X");
    prefixes(&first_params, 8, MAX_HEAD);

    begin_request(&stdin_early);
    record(&stdin_early, STDIN, "x", 1, 7);
    walk(&stdin_early, MAX_HEAD, &w);
    expect_events(&w, "X");

    begin_request(&other_id);
    record_vi(&other_id, 1, PARAMS, 2, NULL, 0, 0);
    walk(&other_id, MAX_HEAD, &w);
    expect_events(&w, "X");

    begin_request(&second_begin);
    record(&second_begin, PARAMS, NULL, 0, 0);
    record_vi(&second_begin, 1, BEGIN_REQUEST, 2, body, sizeof body, 0);
    walk(&second_begin, MAX_HEAD, &w);
    expect_events(&w, "HX");

    record_vi(&begin_zero, 1, BEGIN_REQUEST, 0, body, sizeof body, 0);
    walk(&begin_zero, MAX_HEAD, &w);
    expect_events(&w, "X");

    record(&begin_short, BEGIN_REQUEST, body, 4, 4);
    walk(&begin_short, MAX_HEAD, &w);
    expect_events(&w, "X");

    begin_request(&pair_cut);
    n = encode_len(p, 4);
    n += encode_len(p + n, 10);
    memcpy(p + n, "NAMEval", 7);    /* 3 of the value's 10 bytes */
    n += 7;
    record(&pair_cut, PARAMS, p, n, 0);
    record(&pair_cut, PARAMS, NULL, 0, 0);
    walk(&pair_cut, MAX_HEAD, &w);
    expect_events(&w, "X");
    ck_assert_uint_eq(w.at[0], pair_cut.len);

    begin_request(&data_in_body);
    record(&data_in_body, PARAMS, NULL, 0, 0);
    record(&data_in_body, 8 /* DATA */, "x", 1, 7);
    walk(&data_in_body, MAX_HEAD, &w);
    expect_events(&w, "HX");
}
END_TEST

START_TEST(walk_bad_version)
{
    static struct stream s, late;
    static const unsigned char body[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    struct walked w;

    record_v(&s, 2, BEGIN_REQUEST, body, sizeof body, 0);
    walk(&s, MAX_HEAD, &w);
    expect_events(&w, "X");
    /* Known from its first byte. */
    prefixes(&s, 1, MAX_HEAD);

    valid_request(&late);
    {
        size_t bad = late.len + 1;
        record_v(&late, 0, STDIN, "x", 1, 0);
        prefixes(&late, bad, MAX_HEAD);
    }
}
END_TEST

/* ---- answers to management records ---------------------------------------- */

static long reply_to(const struct stream *s, unsigned char *out, size_t cap)
{
    unsigned char *copy = (unsigned char *)dup_bytes(s->b, s->len);
    long n = wf_fcgi_mgmt_reply(copy, s->len, 1024, 8, out, cap);

    free(copy);
    if (n > 0) {
        ck_assert_int_eq(n % 8, 0);
        ck_assert_int_eq(out[0], 1);
        ck_assert_int_eq(out[2], 0);
        ck_assert_int_eq(out[3], 0);
        ck_assert_int_eq(((long)out[4] << 8 | out[5]) + out[6] + 8, n);
    }
    return n;
}

START_TEST(mgmt_get_values_all)
{
    static struct stream s;
    unsigned char p[128], out[128];
    size_t n = 0;
    long len;
    static const char want[] =
        "\x0e\x04" "FCGI_MAX_CONNS" "1024"
        "\x0d\x01" "FCGI_MAX_REQS" "8"
        "\x0f\x01" "FCGI_MPXS_CONNS" "0";

    n += pair(p + n, "FCGI_MPXS_CONNS", "");
    n += pair(p + n, "FCGI_MAX_REQS", "");
    n += pair(p + n, "FCGI_MAX_CONNS", "");
    record_vi(&s, 1, GET_VALUES, 0, p, n, 0);
    len = reply_to(&s, out, sizeof out);
    ck_assert_int_gt(len, 0);
    ck_assert_int_eq(out[1], 10 /* GET_VALUES_RESULT */);
    ck_assert_int_eq((out[4] << 8 | out[5]), sizeof want - 1);
    ck_assert(memcmp(out + 8, want, sizeof want - 1) == 0);
}
END_TEST

START_TEST(mgmt_get_values_repeated_and_unknown)
{
    /* LIBFCGI.md #2: FCGI_MAX_CONNS named four times overflows libfcgi's
     * reply; ours names it once, and skips names it does not know. */
    static struct stream s, none;
    unsigned char p[512], out[128];
    size_t n = 0;
    int i;
    long len;

    for (i = 0; i < 20; i++)
        n += pair(p + n, "FCGI_MAX_CONNS", "");
    n += pair(p + n, "NO_SUCH_VARIABLE", "x");
    record_vi(&s, 1, GET_VALUES, 0, p, n, 0);
    len = reply_to(&s, out, sizeof out);
    ck_assert_int_gt(len, 0);
    ck_assert_int_eq((out[4] << 8 | out[5]), 2 + 14 + 4);
    ck_assert(memcmp(out + 10, "FCGI_MAX_CONNS1024", 18) == 0);

    n = pair(p, "NO_SUCH_VARIABLE", "");
    record_vi(&none, 1, GET_VALUES, 0, p, n, 0);
    len = reply_to(&none, out, sizeof out);
    ck_assert_int_eq(len, 8);
    ck_assert_int_eq(out[1], 10);
}
END_TEST

START_TEST(mgmt_get_values_malformed)
{
    static struct stream overrun, cut;
    unsigned char p[16], out[128];
    size_t n = encode_len(p, 0x40000000u);

    n += encode_len(p + n, 0);
    record_vi(&overrun, 1, GET_VALUES, 0, p, n, 0);
    ck_assert_int_eq(reply_to(&overrun, out, sizeof out), -1);

    p[0] = 0x80;      /* a 4-byte length cut after one byte */
    record_vi(&cut, 1, GET_VALUES, 0, p, 1, 7);
    ck_assert_int_eq(reply_to(&cut, out, sizeof out), -1);
    ck_assert_int_eq(wf_fcgi_mgmt_reply(cut.b, 4, 1, 1, out, sizeof out), -1);
    {
        /* Too little room for the answer. */
        static struct stream all;
        size_t k = pair(p, "FCGI_MAX_CONNS", "");
        record_vi(&all, 1, GET_VALUES, 0, p, k, 0);
        ck_assert_int_eq(wf_fcgi_mgmt_reply(all.b, all.len, 1, 1, out, 16), -1);
        ck_assert_int_gt(wf_fcgi_mgmt_reply(all.b, all.len, 1, 1, out, 32), 0);
    }
}
END_TEST

START_TEST(mgmt_unknown_type)
{
    static struct stream s;
    unsigned char out[128];

    record_vi(&s, 1, 200, 0, "abc", 3, 5);
    ck_assert_int_eq(reply_to(&s, out, sizeof out), 16);
    ck_assert_int_eq(out[1], 11 /* UNKNOWN_TYPE */);
    ck_assert_int_eq(out[8], 200);
}
END_TEST

START_TEST(mgmt_end_request)
{
    unsigned char out[16];
    static const unsigned char want[16] = { 1, 3, 0x12, 0x34, 0, 8, 0, 0, 0, 0, 0, 7, 3, 0, 0, 0 };

    wf_fcgi_end_request(out, 0x1234, 7, 3);
    ck_assert(memcmp(out, want, sizeof want) == 0);
}
END_TEST

Suite *suite_fcgi_walk(void)
{
    Suite *s = suite_create("fcgi_walk");
    TCase *ok = tcase_create("benign");
    TCase *bad = tcase_create("hostile");
    TCase *mgmt = tcase_create("management");

    tcase_add_test(ok, walk_empty);
    tcase_add_test(ok, walk_valid_stream);
    tcase_add_test(ok, walk_valid_every_prefix);
    tcase_add_test(ok, walk_two_requests_kept_conn);
    tcase_add_test(ok, walk_body_bytes_not_params);
    tcase_add_test(ok, walk_padding_not_params);
    tcase_add_test(ok, walk_abort);
    tcase_add_test(ok, walk_get_values_between_requests);
    suite_add_tcase(s, ok);

    tcase_add_test(bad, walk_huge_name_length);
    tcase_add_test(bad, walk_huge_name_length_split);
    tcase_add_test(bad, walk_param_name_bad_byte_every_position);
    tcase_add_test(bad, walk_param_value_with_nul);
    tcase_add_test(bad, walk_huge_value_length);
    tcase_add_test(bad, walk_huge_after_valid_pairs);
    tcase_add_test(bad, walk_huge_deep_in_params);
    tcase_add_test(bad, walk_limit_exact);
    tcase_add_test(bad, walk_head_too_long);
    tcase_add_test(bad, walk_management_inside_request);
    tcase_add_test(bad, walk_out_of_place_records);
    tcase_add_test(bad, walk_bad_version);
    tcase_add_test(bad, walk_padded_begin);
    tcase_add_test(bad, walk_padded_end_of_params);
    tcase_add_test(bad, walk_param_name_nul_or_equals);
    tcase_add_test(bad, walk_param_value_with_equals);
    suite_add_tcase(s, bad);

    tcase_add_test(mgmt, mgmt_get_values_all);
    tcase_add_test(mgmt, mgmt_get_values_repeated_and_unknown);
    tcase_add_test(mgmt, mgmt_get_values_malformed);
    tcase_add_test(mgmt, mgmt_unknown_type);
    tcase_add_test(mgmt, mgmt_end_request);
    suite_add_tcase(s, mgmt);
    return s;
}
