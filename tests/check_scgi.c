/*
 * check_scgi.c - unit tests of the SCGI header parser (src/scgi.h).
 *
 * The parser is two pure functions over bytes, so every case here is data:
 * a byte string, what wf_scgi_parse_netstring must answer for it (need more,
 * malformed, or the size of a complete netstring), and what
 * wf_scgi_parse_header must make of the header inside it.
 *
 * Every input is copied into a heap block of exactly its length before it is
 * parsed, so a build with --enable-sanitizers turns any read past the bytes
 * the parser was given into a failure.  The truncation cases feed every
 * prefix of a valid request, one byte at a time: each must be "need more"
 * (0), never "malformed" (-1), and only the whole netstring its size.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "request.h"
#include "scgi.h"

#define MAX 65536

#ifndef LIT   /* check_suites.h has it too */
/* A string literal with its length, NULs included (minus the final one). */
#define LIT(s) (s), (sizeof(s) - 1)
#endif

/* A heap copy of exactly n bytes (n = 0 still gives a valid pointer). */
static char *dup_exact(const char *p, size_t n)
{
    char *b = malloc(n ? n : 1);

    ck_assert_ptr_nonnull(b);
    if (n)
        memcpy(b, p, n);
    return b;
}

/* wf_scgi_parse_netstring on an exact heap copy of buf[0..len). */
static long netstring(const char *buf, size_t len, size_t max, size_t *hdr_off,
                      size_t *hdr_len, const char **why)
{
    char *b = dup_exact(buf, len);
    const char *hdr = NULL;
    size_t hl = 0;
    long rc;

    *why = NULL;
    rc = wf_scgi_parse_netstring(b, len, max, &hdr, &hl, why);
    if (rc > 0) {
        ck_assert_ptr_nonnull(hdr);
        ck_assert(hdr >= b && hdr + hl <= b + len);
        if (hdr_off)
            *hdr_off = (size_t)(hdr - b);
        if (hdr_len)
            *hdr_len = hl;
    }
    free(b);
    return rc;
}

/* Builds "LEN:HEADER," (plus an optional body) into a new heap block. */
static char *make_request(const char *hdr, size_t hdr_len, const char *body, size_t body_len,
                          size_t *out_len)
{
    char digits[32];
    int d = snprintf(digits, sizeof digits, "%zu:", hdr_len);
    size_t n = (size_t)d + hdr_len + 1 + body_len;
    char *b = malloc(n);

    ck_assert_ptr_nonnull(b);
    memcpy(b, digits, (size_t)d);
    memcpy(b + d, hdr, hdr_len);
    b[(size_t)d + hdr_len] = ',';
    if (body_len)
        memcpy(b + d + hdr_len + 1, body, body_len);
    *out_len = n;
    return b;
}

static void assert_why(const char *why, const char *what)
{
    ck_assert_msg(why != NULL && why[0] != '\0', "%s: -1 without a reason", what);
}

/* wf_scgi_parse_header on an exact heap copy; the copy is kept in *copy so
 * that the params (pointers into it) can be inspected, then freed by the
 * caller. */
static int header(const char *hdr, size_t len, struct wf_request *req, const char **why,
                  char **copy)
{
    char *b = dup_exact(hdr, len);
    int rc;

    *why = NULL;
    rc = wf_scgi_parse_header(b, len, req, why);
    if (copy)
        *copy = b;
    else
        free(b);
    return rc;
}

/* The header is refused with a reason, and the request is still safe to
 * reset and release. */
static void header_rejected(const char *hdr, size_t len, const char *what)
{
    struct wf_request req;
    const char *why;
    int rc;

    wf_req_init(&req);
    rc = header(hdr, len, &req, &why, NULL);
    ck_assert_msg(rc == -1, "%s: accepted (rc %d)", what, rc);
    assert_why(why, what);
    wf_req_reset(&req);
    ck_assert_uint_eq(req.nparams, 0);
    wf_req_release(&req);
}

/* The netstring is refused with a reason. */
static void netstring_rejected(const char *buf, size_t len, size_t max, const char *what)
{
    const char *why;
    long rc = netstring(buf, len, max, NULL, NULL, &why);

    ck_assert_msg(rc == -1, "%s: expected -1, got %ld", what, rc);
    assert_why(why, what);
}

/* A minimal valid header, reused below. */
static const char VALID_HDR[] = "CONTENT_LENGTH\0" "5\0" "SCGI\0" "1\0"
                                "REQUEST_METHOD\0" "POST\0"
                                "REQUEST_URI\0" "/caf\xc3\xa9?a=1\0"
                                "HTTP_X_EMPTY\0" "\0"
                                "HTTP_X_BYTES\0" "\x01\x7f\x80\xff\0";

/* ---- netstring ----------------------------------------------------------- */

START_TEST(ns_valid_whole)
{
    size_t n, off = 0, hl = 0;
    const char *why;
    char *req = make_request(LIT(VALID_HDR), "hello", 5, &n);
    long rc = netstring(req, n, MAX, &off, &hl, &why);
    size_t ns = n - 5;

    ck_assert_int_eq(rc, (long)ns);
    ck_assert_uint_eq(hl, sizeof VALID_HDR - 1);
    ck_assert_uint_eq(off, (size_t)(strchr(req, ':') - req) + 1);
    ck_assert_mem_eq(req + off, VALID_HDR, hl);
    /* Without the body bytes: the same answer. */
    ck_assert_int_eq(netstring(req, ns, MAX, NULL, NULL, &why), (long)ns);
    free(req);
}
END_TEST

START_TEST(ns_empty_input_needs_more)
{
    const char *why;

    ck_assert_int_eq(netstring("", 0, MAX, NULL, NULL, &why), 0);
}
END_TEST

START_TEST(ns_zero_length)
{
    size_t off = 0, hl = 99;
    const char *why;

    /* "0:," is a well-formed (empty) netstring; its header is then refused. */
    ck_assert_int_eq(netstring(LIT("0:,"), MAX, &off, &hl, &why), 3);
    ck_assert_uint_eq(off, 2);
    ck_assert_uint_eq(hl, 0);
    header_rejected("", 0, "empty header");
}
END_TEST

START_TEST(ns_bad_length)
{
    netstring_rejected(LIT("x"), MAX, "a letter first");
    netstring_rejected(LIT(":"), MAX, "':' without digits");
    netstring_rejected(LIT(","), MAX, "',' first");
    netstring_rejected(LIT(" 5:hello,"), MAX, "a space before the length");
    netstring_rejected(LIT("+5:hello,"), MAX, "a sign before the length");
    netstring_rejected(LIT("-5:hello,"), MAX, "a negative length");
    netstring_rejected(LIT("0x5:hello,"), MAX, "a hex length");
    netstring_rejected(LIT("GET / HTTP/1.1\r\n"), MAX, "an HTTP request");
    netstring_rejected(LIT("\x01\x01\x00\x01"), MAX, "a FastCGI record");
    netstring_rejected(LIT("\0"), MAX, "a NUL byte");
}
END_TEST

START_TEST(ns_leading_zeros)
{
    netstring_rejected(LIT("01:a,"), MAX, "01:");
    netstring_rejected(LIT("00:,"), MAX, "00:");
    netstring_rejected(LIT("007:abcdefg,"), MAX, "007:");
    /* Rejected as soon as the second digit arrives. */
    netstring_rejected(LIT("01"), MAX, "01 (no colon yet)");
    netstring_rejected(LIT("00"), MAX, "00 (no colon yet)");
}
END_TEST

START_TEST(ns_missing_colon)
{
    netstring_rejected(LIT("5hello,"), MAX, "no ':'");
    netstring_rejected(LIT("5,hello,"), MAX, "',' for ':'");
    netstring_rejected(LIT("5;hello,"), MAX, "';' for ':'");
    netstring_rejected(LIT("5 :hello,"), MAX, "a space before ':'");
    netstring_rejected(LIT("12\0"), MAX, "a NUL for ':'");
}
END_TEST

START_TEST(ns_missing_comma)
{
    netstring_rejected(LIT("5:helloX"), MAX, "'X' for ','");
    netstring_rejected(LIT("5:hello;"), MAX, "';' for ','");
    netstring_rejected(LIT("5:hello\0"), MAX, "NUL for ','");
    netstring_rejected(LIT("4:hello,"), MAX, "length one short");
    netstring_rejected(LIT("0:x,"), MAX, "zero length, then a byte");
    /* One too long is "need more" until the byte where ',' belongs. */
    {
        const char *why;
        ck_assert_int_eq(netstring(LIT("6:hello,"), MAX, NULL, NULL, &why), 0);
    }
    netstring_rejected(LIT("6:hello,X"), MAX, "length one long");
}
END_TEST

START_TEST(ns_longer_than_max)
{
    const size_t max = 100;
    char big[200];
    const char *why;
    size_t n;

    /* 101 > 100: refused from the digits alone, before any header byte. */
    netstring_rejected(LIT("101"), max, "101 digits only, max 100");
    netstring_rejected(LIT("101:"), max, "101:, max 100");
    netstring_rejected(LIT("1000"), max, "1000, max 100");
    netstring_rejected(LIT("99999999999999999999999999999999:"), max, "a huge length");
    netstring_rejected(LIT("18446744073709551617:"), MAX, "2^64 + 1");
    netstring_rejected(LIT("16777217:"), WF_SCGI_MAX_MAX_HEADER, "16 MiB + 1");
    {
        char b[16];
        int d = snprintf(b, sizeof b, "%d:", MAX + 1);
        netstring_rejected(b, (size_t)d, MAX, "default max + 1");
    }
    /* Exactly max is accepted. */
    n = (size_t)snprintf(big, sizeof big, "100:");
    memset(big + n, 'a', 100);
    big[n + 100] = ',';
    ck_assert_int_eq(netstring(big, n + 101, max, NULL, NULL, &why), (long)(n + 101));
    /* A prefix of the digits of a length within max is "need more". */
    ck_assert_int_eq(netstring(LIT("10"), max, NULL, NULL, &why), 0);
    ck_assert_int_eq(netstring(LIT("100"), max, NULL, NULL, &why), 0);
}
END_TEST

/* Once a prefix is refused, every longer prefix is refused too, and no
 * prefix of a malformed netstring is ever reported complete. */
START_TEST(ns_malformed_prefixes_monotonic)
{
    static const struct { const char *s; size_t n; } bad[] = {
        { LIT("01:a,") }, { LIT("5:helloX") }, { LIT("5hello,") },
        { LIT("x:,") }, { LIT("3:abcd") }, { LIT("101:") },
    };
    size_t i, k;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int refused = 0;
        for (k = 0; k <= bad[i].n; k++) {
            const char *why;
            long rc = netstring(bad[i].s, k, 100, NULL, NULL, &why);
            ck_assert_msg(rc == 0 || rc == -1, "case %zu prefix %zu: rc %ld", i, k, rc);
            if (refused)
                ck_assert_msg(rc == -1, "case %zu prefix %zu: accepted again", i, k);
            if (rc == -1)
                refused = 1;
        }
        ck_assert_msg(refused, "case %zu never refused", i);
    }
}
END_TEST

/* ---- every byte boundary ------------------------------------------------- */

static void check_all_prefixes(const char *hdr, size_t hdr_len, const char *body,
                               size_t body_len, size_t max)
{
    size_t n, k, ns;
    char *req = make_request(hdr, hdr_len, body, body_len, &n);
    const char *why;

    ns = n - body_len;
    for (k = 0; k < ns; k++) {
        long rc = netstring(req, k, max, NULL, NULL, &why);
        ck_assert_msg(rc == 0, "prefix of %zu of %zu bytes: expected 0 (need more), got %ld%s%s",
                      k, ns, rc, rc < 0 ? ": " : "", rc < 0 && why ? why : "");
    }
    for (k = ns; k <= n; k++) {
        size_t off = 0, hl = 0;
        long rc = netstring(req, k, max, &off, &hl, &why);
        ck_assert_msg(rc == (long)ns, "%zu bytes (netstring %zu): got %ld", k, ns, rc);
        ck_assert_uint_eq(hl, hdr_len);
        ck_assert_mem_eq(req + off, hdr, hdr_len);
    }
    free(req);
}

START_TEST(split_every_byte_valid)
{
    check_all_prefixes(LIT(VALID_HDR), "hello", 5, MAX);
}
END_TEST

START_TEST(split_every_byte_no_body)
{
    static const char h[] = "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0";

    check_all_prefixes(LIT(h), NULL, 0, MAX);
}
END_TEST

START_TEST(split_every_byte_exact_max)
{
    /* The header is exactly max bytes: no prefix is refused as too long. */
    check_all_prefixes(LIT(VALID_HDR), NULL, 0, sizeof VALID_HDR - 1);
}
END_TEST

START_TEST(split_every_byte_long_header)
{
    /* A header whose length has several digits (a few KiB), like nginx's
     * with many request headers. */
    char *h = malloc(8192);
    size_t n = 0;
    int i;

    ck_assert_ptr_nonnull(h);
    memcpy(h, "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0", 22);
    n = 22;
    for (i = 0; i < 150; i++) {
        n += (size_t)snprintf(h + n, 8192 - n, "HTTP_X_H%03d", i) + 1;
        n += (size_t)snprintf(h + n, 8192 - n, "value-%d-%s", i, "abcdefghijklmnopqrstuvwxyz") + 1;
    }
    ck_assert_uint_lt(n, 8192);
    check_all_prefixes(h, n, "xyz", 3, MAX);
    free(h);
}
END_TEST

/* ---- header -------------------------------------------------------------- */

START_TEST(hdr_valid)
{
    struct wf_request req;
    const struct wf_param *p;
    const char *why;
    char *copy;

    wf_req_init(&req);
    ck_assert_int_eq(header(LIT(VALID_HDR), &req, &why, &copy), 0);
    ck_assert_int_eq(req.content_length, 5);
    ck_assert_uint_eq(req.nparams, 6);

    p = wf_req_param(&req, "CONTENT_LENGTH");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value_len, 1);
    ck_assert_mem_eq(p->value, "5", 1);
    /* params point into the header bytes, not into copies */
    ck_assert(p->value >= copy && p->value < copy + sizeof VALID_HDR - 1);

    p = wf_req_param(&req, "SCGI");
    ck_assert_ptr_nonnull(p);
    ck_assert_mem_eq(p->value, "1", 1);

    p = wf_req_param(&req, "REQUEST_URI");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value_len, 10);
    ck_assert_mem_eq(p->value, "/caf\xc3\xa9?a=1", 10);

    p = wf_req_param(&req, "HTTP_X_EMPTY");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value_len, 0);

    p = wf_req_param(&req, "HTTP_X_BYTES");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value_len, 4);
    ck_assert_mem_eq(p->value, "\x01\x7f\x80\xff", 4);

    /* the order sent is kept */
    ck_assert_uint_eq(req.params[0].name_len, 14);
    ck_assert_mem_eq(req.params[0].name, "CONTENT_LENGTH", 14);
    ck_assert_mem_eq(req.params[5].name, "HTTP_X_BYTES", 12);

    ck_assert_ptr_null(wf_req_param(&req, "PATH_INFO"));
    wf_req_release(&req);
    free(copy);
}
END_TEST

START_TEST(hdr_minimal_and_big_length)
{
    struct wf_request req;
    const char *why;

    wf_req_init(&req);
    ck_assert_int_eq(header(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"), &req, &why, NULL), 0);
    ck_assert_int_eq(req.content_length, 0);
    ck_assert_uint_eq(req.nparams, 2);
    wf_req_reset(&req);
    ck_assert_int_eq(header(LIT("CONTENT_LENGTH\0" "10737418240\0" "SCGI\0" "1\0"),
                            &req, &why, NULL), 0);
    ck_assert_int_eq(req.content_length, 10737418240LL);
    wf_req_release(&req);
}
END_TEST

START_TEST(hdr_duplicate_other_names_last_wins)
{
    struct wf_request req;
    const struct wf_param *p;
    const char *why;
    char *copy;

    wf_req_init(&req);
    ck_assert_int_eq(header(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"
                                "HTTP_X\0" "first\0" "HTTP_X\0" "second\0"),
                            &req, &why, &copy), 0);
    ck_assert_uint_eq(req.nparams, 4);
    p = wf_req_param(&req, "HTTP_X");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value_len, 6);
    ck_assert_mem_eq(p->value, "second", 6);
    wf_req_release(&req);
    free(copy);
}
END_TEST

START_TEST(hdr_not_nul_terminated)
{
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1"), "last value without NUL");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI"), "last name without NUL");
    header_rejected(LIT("CONTENT_LENGTH"), "one string, no NUL");
    header_rejected(LIT("x"), "one byte");
    header_rejected("", 0, "empty");
}
END_TEST

START_TEST(hdr_odd_strings)
{
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "EXTRA\0"), "a trailing name");
    header_rejected(LIT("CONTENT_LENGTH\0"), "CONTENT_LENGTH alone");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0"), "SCGI without a value");
    header_rejected(LIT("\0"), "a single empty string");
    header_rejected(LIT("\0\0\0"), "three empty strings");
}
END_TEST

START_TEST(hdr_duplicate_content_length)
{
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"),
                    "CONTENT_LENGTH twice, same value");
    header_rejected(LIT("CONTENT_LENGTH\0" "5\0" "SCGI\0" "1\0" "CONTENT_LENGTH\0" "0\0"),
                    "CONTENT_LENGTH twice, later and smaller");
}
END_TEST

START_TEST(hdr_missing_content_length)
{
    header_rejected(LIT("SCGI\0" "1\0"), "SCGI only");
    header_rejected(LIT("SCGI\0" "1\0" "REQUEST_METHOD\0" "GET\0"), "no CONTENT_LENGTH");
    header_rejected(LIT("CONTENT_LENGTh\0" "0\0" "SCGI\0" "1\0"), "CONTENT_LENGTH misspelt");
    header_rejected(LIT("HTTP_CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"), "HTTP_CONTENT_LENGTH");
    header_rejected(LIT("CONTENT_LENGTH \0" "0\0" "SCGI\0" "1\0"), "CONTENT_LENGTH + space");
}
END_TEST

START_TEST(hdr_content_length_not_first)
{
    /* Accepted anywhere, as web servers' SCGI clients are. */
    struct wf_request req;
    const char *why;
    const struct wf_param *p;
    char *copy;

    wf_req_init(&req);
    ck_assert_int_eq(header(LIT("SCGI\0" "1\0" "CONTENT_LENGTH\0" "7\0"), &req, &why, NULL), 0);
    ck_assert_int_eq(req.content_length, 7);
    wf_req_release(&req);
    wf_req_init(&req);
    ck_assert_int_eq(header(LIT("REQUEST_METHOD\0" "GET\0" "SCGI\0" "1\0" "CONTENT_LENGTH\0" "12\0"),
                            &req, &why, &copy), 0);
    ck_assert_int_eq(req.content_length, 12);
    p = wf_req_param(&req, "REQUEST_METHOD");
    ck_assert_ptr_nonnull(p);
    ck_assert_mem_eq(p->value, "GET", 3);
    wf_req_release(&req);
    free(copy);
    /* Still once only, wherever it is. */
    header_rejected(LIT("REQUEST_METHOD\0" "GET\0" "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"
                        "CONTENT_LENGTH\0" "1\0"), "twice, not first");
}
END_TEST

START_TEST(hdr_content_length_not_decimal)
{
    static const struct { const char *h; size_t n; const char *what; } bad[] = {
        { LIT("CONTENT_LENGTH\0" "\0" "SCGI\0" "1\0"), "empty" },
        { LIT("CONTENT_LENGTH\0" "abc\0" "SCGI\0" "1\0"), "letters" },
        { LIT("CONTENT_LENGTH\0" "-1\0" "SCGI\0" "1\0"), "negative" },
        { LIT("CONTENT_LENGTH\0" "+1\0" "SCGI\0" "1\0"), "a plus sign" },
        { LIT("CONTENT_LENGTH\0" " 1\0" "SCGI\0" "1\0"), "a leading space" },
        { LIT("CONTENT_LENGTH\0" "1 \0" "SCGI\0" "1\0"), "a trailing space" },
        { LIT("CONTENT_LENGTH\0" "1x\0" "SCGI\0" "1\0"), "a trailing letter" },
        { LIT("CONTENT_LENGTH\0" "0x10\0" "SCGI\0" "1\0"), "hex" },
        { LIT("CONTENT_LENGTH\0" "1.5\0" "SCGI\0" "1\0"), "a fraction" },
        { LIT("CONTENT_LENGTH\0" "99999999999999999999999\0" "SCGI\0" "1\0"), "overflow" },
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        header_rejected(bad[i].h, bad[i].n, bad[i].what);
}
END_TEST

START_TEST(hdr_scgi_missing_or_not_1)
{
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0"), "no SCGI");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "REQUEST_METHOD\0" "GET\0"), "no SCGI, other");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "0\0"), "SCGI=0");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "2\0"), "SCGI=2");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "\0"), "SCGI empty");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "11\0"), "SCGI=11");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1.0\0"), "SCGI=1.0");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "scgi\0" "1\0"), "lower-case scgi");
}
END_TEST

START_TEST(hdr_empty_name)
{
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "\0" "value\0"), "empty name");
    header_rejected(LIT("CONTENT_LENGTH\0" "0\0" "\0" "\0" "SCGI\0" "1\0"), "empty name+value");
    header_rejected(LIT("\0" "0\0" "SCGI\0" "1\0"), "empty first name");
}
END_TEST

/* The request is reusable: a refused header leaves nothing behind after a
 * reset, and the next valid one parses cleanly (as in the accept loop). */
START_TEST(hdr_reuse_after_rejection)
{
    struct wf_request req;
    const char *why;
    int i;

    wf_req_init(&req);
    for (i = 0; i < 1000; i++) {
        ck_assert_int_eq(header(LIT("CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" "X\0"),
                                &req, &why, NULL), -1);
        wf_req_reset(&req);
        ck_assert_uint_eq(req.nparams, 0);
        ck_assert_int_eq(req.content_length, -1);
    }
    ck_assert_int_eq(header(LIT(VALID_HDR), &req, &why, NULL), 0);
    ck_assert_uint_eq(req.nparams, 6);
    ck_assert_int_eq(req.content_length, 5);
    wf_req_release(&req);
    ck_assert_ptr_null(req.params);
}
END_TEST

/* Netstring and header together, as the front end uses them. */
START_TEST(whole_request_pipeline)
{
    struct wf_request req;
    size_t n, off = 0, hl = 0;
    const char *why;
    char *b = make_request(LIT(VALID_HDR), "hello", 5, &n);
    long rc;

    rc = netstring(b, n, MAX, &off, &hl, &why);
    ck_assert_int_eq(rc, (long)(n - 5));
    wf_req_init(&req);
    ck_assert_int_eq(wf_scgi_parse_header(b + off, hl, &req, &why), 0);
    ck_assert_int_eq(req.content_length, 5);
    ck_assert_mem_eq(b + rc, "hello", 5);
    wf_req_release(&req);
    free(b);
}
END_TEST

Suite *suite_scgi(void)
{
    Suite *s = suite_create("scgi");
    TCase *ns = tcase_create("netstring");
    TCase *split = tcase_create("split");
    TCase *hdr = tcase_create("header");

    tcase_add_test(ns, ns_valid_whole);
    tcase_add_test(ns, ns_empty_input_needs_more);
    tcase_add_test(ns, ns_zero_length);
    tcase_add_test(ns, ns_bad_length);
    tcase_add_test(ns, ns_leading_zeros);
    tcase_add_test(ns, ns_missing_colon);
    tcase_add_test(ns, ns_missing_comma);
    tcase_add_test(ns, ns_longer_than_max);
    tcase_add_test(ns, ns_malformed_prefixes_monotonic);
    suite_add_tcase(s, ns);

    tcase_add_test(split, split_every_byte_valid);
    tcase_add_test(split, split_every_byte_no_body);
    tcase_add_test(split, split_every_byte_exact_max);
    tcase_add_test(split, split_every_byte_long_header);
    suite_add_tcase(s, split);

    tcase_add_test(hdr, hdr_valid);
    tcase_add_test(hdr, hdr_minimal_and_big_length);
    tcase_add_test(hdr, hdr_duplicate_other_names_last_wins);
    tcase_add_test(hdr, hdr_not_nul_terminated);
    tcase_add_test(hdr, hdr_odd_strings);
    tcase_add_test(hdr, hdr_duplicate_content_length);
    tcase_add_test(hdr, hdr_missing_content_length);
    tcase_add_test(hdr, hdr_content_length_not_first);
    tcase_add_test(hdr, hdr_content_length_not_decimal);
    tcase_add_test(hdr, hdr_scgi_missing_or_not_1);
    tcase_add_test(hdr, hdr_empty_name);
    tcase_add_test(hdr, hdr_reuse_after_rejection);
    tcase_add_test(hdr, whole_request_pipeline);
    suite_add_tcase(s, hdr);
    return s;
}
