/*
 * fuzz_scgi.c - the SCGI netstring and header parsers (src/scgi.c).
 *
 * Input: one control byte (bit 7: the rest is a header given straight to
 * wf_scgi_parse_header; bits 0-2: which --max-header-size), then the bytes a
 * peer sends.
 *
 * Invariants:
 *   - a netstring accepted has the declared length: "LEN:" then LEN header
 *     bytes then ',', LEN <= max_header, no leading zero, inside the buffer;
 *   - every shorter prefix of an accepted netstring asks for more (0), never
 *     a refusal, and every longer buffer gives the same answer;
 *   - a refusal is final: appending bytes never turns it into an answer;
 *   - a header accepted splits into pairs that rebuild it byte for byte,
 *     with non-empty names, exactly one CONTENT_LENGTH whose value is the
 *     request's content_length, and SCGI=1;
 *   - a header that every peer sends (CONTENT_LENGTH first and decimal,
 *     SCGI=1, well-formed pairs) is never refused.
 */
#include "autoconfig.h"

#include "fuzz.h"
#include "request.h"
#include "scgi.h"

static const size_t max_headers[8] = { 0, 1, 9, 64, 256, 4096, 1 << 20, WF_SCGI_MAX_MAX_HEADER };

static long netstring(const unsigned char *b, size_t len, size_t max, size_t *off, size_t *hlen)
{
    unsigned char *copy = fuzz_dup(b, len);
    const char *hdr = NULL, *why = NULL;
    size_t hl = 0;
    long rc = wf_scgi_parse_netstring((const char *)copy, len, max, &hdr, &hl, &why);

    if (rc > 0) {
        FUZZ_CHECK((size_t)rc <= len, "rc %ld len %zu", rc, len);
        FUZZ_CHECK(hdr >= (const char *)copy && hdr + hl < (const char *)copy + len,
                   "header outside the buffer");
        *off = (size_t)(hdr - (const char *)copy);
        *hlen = hl;
    } else if (rc < 0) {
        FUZZ_CHECK(rc == -1 && why != NULL, "refused without a reason (rc %ld)", rc);
    } else {
        FUZZ_CHECK(rc == 0, "rc %ld", rc);
    }
    free(copy);
    return rc;
}

/* The netstring by hand: "DIGITS:" + LEN bytes + ",". */
static void check_accepted(const unsigned char *b, size_t len, size_t max, long rc, size_t off,
                           size_t hlen)
{
    size_t i = 0, n = 0;

    while (i < len && b[i] >= '0' && b[i] <= '9') {
        n = n * 10 + (size_t)(b[i] - '0');
        FUZZ_CHECK(n <= max, "length beyond max_header accepted");
        i++;
    }
    FUZZ_CHECK(i >= 1 && i < len && b[i] == ':', "no LEN: before the header");
    FUZZ_CHECK(i == 1 || b[0] != '0', "a leading zero accepted");
    FUZZ_CHECK(off == i + 1, "header at %zu, expected %zu", off, i + 1);
    FUZZ_CHECK(hlen == n, "header length %zu, declared %zu", hlen, n);
    FUZZ_CHECK((size_t)rc == i + 1 + n + 1 && b[rc - 1] == ',', "netstring size %ld", rc);
}

/* What a peer sends: pairs, CONTENT_LENGTH first with 1..18 digits, SCGI=1
 * (every SCGI value 1), no empty name, CONTENT_LENGTH once. */
static int textbook(const char *h, size_t len)
{
    size_t pos = 0, idx = 0;
    int cl = 0, scgi = 0;

    if (len == 0 || h[len - 1] != '\0')
        return 0;
    while (pos < len) {
        const char *name = h + pos, *value;
        size_t nl = strlen(name), vl;
        if (pos + nl + 1 >= len)
            return 0;
        value = name + nl + 1;
        vl = strlen(value);
        pos += nl + 1 + vl + 1;
        if (nl == 0)
            return 0;
        if (nl == 14 && memcmp(name, "CONTENT_LENGTH", 14) == 0) {
            size_t k;
            if (idx != 0 || cl || vl == 0 || vl > 18)
                return 0;
            for (k = 0; k < vl; k++)
                if (value[k] < '0' || value[k] > '9')
                    return 0;
            cl = 1;
        } else if (nl == 4 && memcmp(name, "SCGI", 4) == 0) {
            if (vl != 1 || value[0] != '1')
                return 0;
            scgi = 1;
        }
        idx++;
    }
    return cl && scgi;
}

static void header(const unsigned char *h, size_t len)
{
    char *copy = (char *)fuzz_dup(h, len);
    struct wf_request req;
    const char *why = NULL;
    int rc, ncl = 0, scgi = 0;
    size_t i, pos = 0;

    wf_req_init(&req);
    rc = wf_scgi_parse_header(copy, len, &req, &why);
    if (rc < 0) {
        FUZZ_CHECK(rc == -1 && why, "refused without a reason");
        FUZZ_CHECK(!textbook(copy, len), "a well-formed header refused: %s", why);
    } else {
        FUZZ_CHECK(rc == 0, "rc %d", rc);
        for (i = 0; i < req.nparams; i++) {
            const struct wf_param *p = &req.params[i];
            FUZZ_CHECK(p->name == copy + pos, "param %zu does not follow the previous one", i);
            FUZZ_CHECK(p->name_len > 0, "empty name accepted");
            FUZZ_CHECK(pos + p->name_len + 1 + p->value_len + 1 <= len, "param past the header");
            FUZZ_CHECK(memchr(p->name, '\0', p->name_len) == NULL && p->name[p->name_len] == '\0',
                       "name not NUL-terminated where it ends");
            FUZZ_CHECK(p->value == p->name + p->name_len + 1, "value does not follow its name");
            FUZZ_CHECK(memchr(p->value, '\0', p->value_len) == NULL && p->value[p->value_len] == '\0',
                       "value not NUL-terminated where it ends");
            pos += p->name_len + 1 + p->value_len + 1;
            if (p->name_len == 14 && memcmp(p->name, "CONTENT_LENGTH", 14) == 0) {
                ncl++;
                FUZZ_CHECK(req.content_length == wf_parse_content_length(p->value, p->value_len),
                           "content_length %lld is not CONTENT_LENGTH", req.content_length);
            }
            if (p->name_len == 4 && memcmp(p->name, "SCGI", 4) == 0)
                scgi = p->value_len == 1 && p->value[0] == '1';
        }
        FUZZ_CHECK(pos == len, "the pairs cover %zu of %zu header bytes", pos, len);
        FUZZ_CHECK(ncl == 1, "%d CONTENT_LENGTH params accepted", ncl);
        FUZZ_CHECK(req.content_length >= 0, "negative content_length accepted");
        FUZZ_CHECK(scgi, "accepted without SCGI=1");
    }
    wf_req_release(&req);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);
    size_t max = max_headers[ctl & 7], off = 0, hlen = 0, k;
    long rc;

    if (ctl & 0x80) {
        header(in.p, in.n);
        return 0;
    }
    rc = netstring(in.p, in.n, max, &off, &hlen);
    if (rc > 0) {
        size_t o2, l2;
        check_accepted(in.p, in.n, max, rc, off, hlen);
        /* Every prefix needs more; the exact netstring gives the same. */
        for (k = 0; k < (size_t)rc; k += 1 + k / 8)
            FUZZ_CHECK(netstring(in.p, k, max, &o2, &l2) == 0, "prefix of %zu refused or answered", k);
        FUZZ_CHECK(netstring(in.p, (size_t)rc, max, &o2, &l2) == rc && o2 == off && l2 == hlen,
                   "the exact netstring answers differently");
        header(in.p + off, hlen);
    } else if (rc < 0) {
        /* Final: more bytes do not change a refusal. */
        static const unsigned char tail[16] = "0:,SCGI\0" "1\0,,,,,,";
        unsigned char *more = malloc(in.n + sizeof tail);
        size_t o2, l2;
        if (!more)
            abort();
        memcpy(more, in.p, in.n);
        memcpy(more + in.n, tail, sizeof tail);
        FUZZ_CHECK(netstring(more, in.n + sizeof tail, max, &o2, &l2) == -1,
                   "a refusal undone by more bytes");
        free(more);
    }
    return 0;
}
