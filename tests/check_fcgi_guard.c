/*
 * check_fcgi_guard.c - unit tests of the pre-libfcgi look at a connection's
 * first bytes (src/fcgi_guard.h).
 *
 * Streams are assembled record by record into a byte buffer; every case is
 * then fed through an exact-size heap copy (so a sanitizer build catches a
 * read past the bytes given) and, for the cut-anywhere promise, once per
 * prefix length.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "fcgi_guard.h"

enum {
    BEGIN_REQUEST = 1, ABORT_REQUEST = 2, END_REQUEST = 3, PARAMS = 4, STDIN = 5,
    GET_VALUES = 9, UNKNOWN_TYPE = 11
};

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

/* One record of the given version, type and content, with padding. */
static void record_v(struct stream *s, int version, int type, const void *content, size_t clen,
                     size_t pad)
{
    unsigned char h[8] = { (unsigned char)version, (unsigned char)type, 0, 1,
                           (unsigned char)(clen >> 8), (unsigned char)clen, (unsigned char)pad, 0 };
    static const unsigned char zeros[255];

    ck_assert_uint_le(clen, 0xffff);
    ck_assert_uint_le(pad, 255);
    put(s, h, sizeof h);
    if (clen)
        put(s, content, clen);
    put(s, zeros, pad);
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

static int guard(const unsigned char *buf, size_t len, const char **why)
{
    unsigned char *copy = (unsigned char *)dup_bytes(buf, len);
    int rc;

    *why = NULL;
    rc = wf_fcgi_guard(copy, len, why);
    free(copy);
    if (rc == -1)
        ck_assert_msg(*why != NULL && **why != '\0', "rejected without a reason");
    else
        ck_assert_int_eq(rc, 0);
    return rc;
}

/* Every prefix shorter than bad_from passes; every one from it on fails. */
static void prefixes(const struct stream *s, size_t bad_from)
{
    size_t k;
    const char *why;

    for (k = 0; k <= s->len; k++) {
        int rc = guard(s->b, k, &why);
        if (k < bad_from)
            ck_assert_msg(rc == 0, "prefix of %zu bytes rejected: %s", k, why);
        else
            ck_assert_msg(rc == -1, "prefix of %zu bytes (hostile from %zu) accepted", k, bad_from);
    }
}

START_TEST(guard_empty)
{
    const char *why;

    ck_assert_int_eq(guard((const unsigned char *)"", 0, &why), 0);
}
END_TEST

START_TEST(guard_valid_stream)
{
    static struct stream s;
    const char *why;

    valid_request(&s);
    ck_assert_msg(guard(s.b, s.len, &why) == 0, "rejected: %s", why);
}
END_TEST

START_TEST(guard_valid_every_prefix)
{
    static struct stream s;

    valid_request(&s);
    prefixes(&s, s.len + 1);
}
END_TEST

START_TEST(guard_two_requests_kept_conn)
{
    static struct stream s;

    valid_request(&s);
    valid_request(&s);
    prefixes(&s, s.len + 1);
}
END_TEST

START_TEST(guard_other_records_not_params)
{
    /* Bytes that would be hostile as params are harmless elsewhere. */
    static struct stream s;
    static const unsigned char evil[] = { 0xC0, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00 };
    const char *why;

    begin_request(&s);
    record(&s, PARAMS, NULL, 0, 0);
    record(&s, STDIN, evil, sizeof evil, 0);
    record(&s, UNKNOWN_TYPE, evil, sizeof evil, 0);
    record(&s, ABORT_REQUEST, NULL, 0, 0);
    ck_assert_msg(guard(s.b, s.len, &why) == 0, "rejected: %s", why);
    prefixes(&s, s.len + 1);
}
END_TEST

START_TEST(guard_padding_not_params)
{
    /* Padding bytes of a PARAMS record are not pair data. */
    static struct stream s;
    unsigned char params[64];
    size_t n = pair(params, "A", "b");
    unsigned char h[8] = { 1, PARAMS, 0, 1, 0, (unsigned char)n, 4, 0 };
    static const unsigned char evil_pad[4] = { 0xC0, 0x00, 0x00, 0x00 };
    const char *why;

    begin_request(&s);
    put(&s, h, sizeof h);
    put(&s, params, n);
    put(&s, evil_pad, sizeof evil_pad);
    n = pair(params, "C", "d");
    record(&s, PARAMS, params, n, 0);
    record(&s, PARAMS, NULL, 0, 0);
    ck_assert_msg(guard(s.b, s.len, &why) == 0, "padding read as params: %s", why);
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

START_TEST(guard_huge_name_length)
{
    static struct stream s;
    const char *why;
    size_t bad = huge_name_stream(&s, 0x40000000u, 0);

    ck_assert_int_eq(guard(s.b, s.len, &why), -1);
    prefixes(&s, bad);
}
END_TEST

START_TEST(guard_huge_name_length_split)
{
    static struct stream s;
    const char *why;
    size_t bad = huge_name_stream(&s, 0x40000000u, 1);

    ck_assert_int_eq(guard(s.b, s.len, &why), -1);
    prefixes(&s, bad);
}
END_TEST

START_TEST(guard_huge_value_length)
{
    static struct stream s;
    unsigned char p[16];
    size_t n = 0, bad;
    const char *why;

    begin_request(&s);
    n += encode_len(p + n, 4);
    n += encode_len(p + n, 0x7fffffffu);
    memcpy(p + n, "NAME", 4);
    n += 4;
    bad = s.len + 8 + 5;
    record(&s, PARAMS, p, n, 0);
    ck_assert_int_eq(guard(s.b, s.len, &why), -1);
    prefixes(&s, bad);
}
END_TEST

START_TEST(guard_huge_after_valid_pairs)
{
    /* The hostile pair comes after ordinary ones, in a later record. */
    static struct stream s;
    unsigned char p[256];
    size_t n = 0, bad;
    const char *why;

    begin_request(&s);
    n += pair(p + n, "REQUEST_METHOD", "GET");
    n += pair(p + n, "SCRIPT_NAME", "/");
    record(&s, PARAMS, p, n, 1);
    n = pair(p, "PATH_INFO", "/x");
    n += encode_len(p + n, 0x40000000u);
    bad = s.len + 8 + n;
    n += encode_len(p + n, 1);
    record(&s, PARAMS, p, n, 0);
    ck_assert_int_eq(guard(s.b, s.len, &why), -1);
    prefixes(&s, bad);
}
END_TEST

START_TEST(guard_limit_exact)
{
    /* 1 MiB exactly is accepted; one byte more is not. */
    static struct stream ok, over, ok_v, over_v;
    unsigned char p[16];
    size_t n;
    const char *why;

    huge_name_stream(&ok, WF_FCGI_MAX_PARAM_LEN, 0);
    ck_assert_msg(guard(ok.b, ok.len, &why) == 0, "1 MiB name rejected: %s", why);
    huge_name_stream(&over, WF_FCGI_MAX_PARAM_LEN + 1, 0);
    ck_assert_int_eq(guard(over.b, over.len, &why), -1);

    begin_request(&ok_v);
    n = encode_len(p, 1);
    n += encode_len(p + n, WF_FCGI_MAX_PARAM_LEN);
    record(&ok_v, PARAMS, p, n, 0);
    ck_assert_msg(guard(ok_v.b, ok_v.len, &why) == 0, "1 MiB value rejected: %s", why);

    begin_request(&over_v);
    n = encode_len(p, 1);
    n += encode_len(p + n, WF_FCGI_MAX_PARAM_LEN + 1);
    record(&over_v, PARAMS, p, n, 0);
    ck_assert_int_eq(guard(over_v.b, over_v.len, &why), -1);
}
END_TEST

START_TEST(guard_get_values)
{
    static struct stream s, late;
    unsigned char p[64];
    size_t n = pair(p, "FCGI_MAX_CONNS", "");
    const char *why;

    record(&s, GET_VALUES, p, n, 0);
    ck_assert_int_eq(guard(s.b, s.len, &why), -1);
    /* Known as soon as its header is in. */
    prefixes(&s, 8);

    /* Also after a complete request on a kept connection. */
    valid_request(&late);
    {
        size_t bad = late.len + 8;
        record(&late, GET_VALUES, p, n, 0);
        prefixes(&late, bad);
    }
}
END_TEST

START_TEST(guard_bad_version)
{
    static struct stream s, late;
    static const unsigned char body[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    const char *why;

    record_v(&s, 2, BEGIN_REQUEST, body, sizeof body, 0);
    ck_assert_int_eq(guard(s.b, s.len, &why), -1);
    prefixes(&s, 8);

    valid_request(&late);
    {
        size_t bad = late.len + 8;
        record_v(&late, 0, STDIN, "x", 1, 0);
        prefixes(&late, bad);
    }
}
END_TEST

Suite *suite_fcgi_guard(void)
{
    Suite *s = suite_create("fcgi_guard");
    TCase *ok = tcase_create("benign");
    TCase *bad = tcase_create("hostile");

    tcase_add_test(ok, guard_empty);
    tcase_add_test(ok, guard_valid_stream);
    tcase_add_test(ok, guard_valid_every_prefix);
    tcase_add_test(ok, guard_two_requests_kept_conn);
    tcase_add_test(ok, guard_other_records_not_params);
    tcase_add_test(ok, guard_padding_not_params);
    suite_add_tcase(s, ok);

    tcase_add_test(bad, guard_huge_name_length);
    tcase_add_test(bad, guard_huge_name_length_split);
    tcase_add_test(bad, guard_huge_value_length);
    tcase_add_test(bad, guard_huge_after_valid_pairs);
    tcase_add_test(bad, guard_limit_exact);
    tcase_add_test(bad, guard_get_values);
    tcase_add_test(bad, guard_bad_version);
    suite_add_tcase(s, bad);
    return s;
}
