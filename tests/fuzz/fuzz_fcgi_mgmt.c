/*
 * fuzz_fcgi_mgmt.c - the answer to a management record
 * (wf_fcgi_mgmt_reply, src/fcgi_walk.c), which the dispatcher writes itself
 * so that libfcgi never sees FCGI_GET_VALUES.
 *
 * Input: a control byte (bit 0: make the header's content length match the
 * bytes given, so the fuzzer reaches the pairs; bit 1: the type is
 * FCGI_GET_VALUES), the output room (one byte), FCGI_MAX_CONNS and
 * FCGI_MAX_REQS (two bytes each), then the record.
 *
 * Invariants: the answer fits the room given (an exact-size buffer: ASan
 * sees any overflow); it is -1 or one well-formed record of id 0 padded to
 * a multiple of 8; FCGI_UNKNOWN_TYPE names the type asked about; an
 * FCGI_GET_VALUES_RESULT holds whole pairs, each a known variable named
 * once, exactly the known ones the (well-formed) request asked for, with
 * the value given (decimal) or 0 for FCGI_MPXS_CONNS; a well-formed
 * request is answered whenever the room suffices (128 bytes).
 */
#include "autoconfig.h"

#include "fcgi_walk.h"
#include "fuzz.h"

static const char *const names[3] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };

static uint32_t be16(const unsigned char *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static int get_len(const unsigned char *c, size_t end, size_t *pos, uint32_t *v)
{
    if (*pos >= end)
        return 0;
    if (!(c[*pos] & 0x80)) {
        *v = c[(*pos)++];
        return 1;
    }
    if (end - *pos < 4)
        return 0;
    *v = ((uint32_t)(c[*pos] & 0x7f) << 24) | ((uint32_t)c[*pos + 1] << 16) |
         ((uint32_t)c[*pos + 2] << 8) | c[*pos + 3];
    *pos += 4;
    return 1;
}

/* Which known names a request asks for; 0 when its pairs are malformed. */
static int asked_for(const unsigned char *rec, size_t len, int asked[3])
{
    size_t clen, pos = 8, end;

    asked[0] = asked[1] = asked[2] = 0;
    if (len < 8)
        return 0;
    clen = be16(rec + 4);
    if (len < 8 + clen)
        return 0;
    end = 8 + clen;
    while (pos < end) {
        uint32_t nl, vl;
        int i;
        if (!get_len(rec, end, &pos, &nl) || !get_len(rec, end, &pos, &vl) || nl > end - pos ||
            vl > end - pos - nl)
            return 0;
        for (i = 0; i < 3; i++)
            if (nl == strlen(names[i]) && memcmp(rec + pos, names[i], nl) == 0)
                asked[i] = 1;
        pos += (size_t)nl + vl;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);
    size_t cap = fuzz_byte(&in);
    unsigned long values[3];
    unsigned char *rec, *out;
    int asked[3], well_formed, seen[3] = { 0, 0, 0 };
    long r;

    values[0] = fuzz_u16(&in);
    values[1] = fuzz_u16(&in);
    values[2] = 0;
    rec = fuzz_dup(in.p, in.n);
    if ((ctl & 1) && in.n >= 8 && in.n - 8 <= 0xffff) {
        rec[4] = (unsigned char)((in.n - 8) >> 8);
        rec[5] = (unsigned char)(in.n - 8);
    }
    if ((ctl & 2) && in.n >= 8)
        rec[1] = WF_FCGI_GET_VALUES;
    out = malloc(cap ? cap : 1);
    if (!out)
        abort();
    well_formed = asked_for(rec, in.n, asked);
    r = wf_fcgi_mgmt_reply(rec, in.n, values[0], values[1], out, cap);
    if (r < 0) {
        FUZZ_CHECK(r == -1, "r %ld", r);
        FUZZ_CHECK(cap < 128 || in.n < 8 || in.n < 8 + be16(rec + 4) ||
                   (rec[1] == WF_FCGI_GET_VALUES && !well_formed),
                   "a well-formed record not answered");
    } else {
        size_t clen, pos = 8;
        FUZZ_CHECK((size_t)r <= cap && r >= 8 && r % 8 == 0, "an answer of %ld bytes in %zu", r, cap);
        clen = be16(out + 4);
        FUZZ_CHECK(out[0] == 1 && be16(out + 2) == 0 && out[7] == 0 && 8 + clen + out[6] == (size_t)r &&
                   out[6] < 8, "a malformed answer header");
        if (rec[1] != WF_FCGI_GET_VALUES) {
            FUZZ_CHECK(out[1] == WF_FCGI_UNKNOWN_TYPE && clen == 8 && out[8] == rec[1],
                       "not FCGI_UNKNOWN_TYPE for type %u", rec[1]);
        } else {
            FUZZ_CHECK(out[1] == WF_FCGI_GET_VALUES_RESULT, "answer type %u", out[1]);
            FUZZ_CHECK(well_formed, "a malformed FCGI_GET_VALUES answered");
            while (pos < 8 + clen) {
                uint32_t nl, vl;
                char want[24];
                int i;
                FUZZ_CHECK(get_len(out, 8 + clen, &pos, &nl) && get_len(out, 8 + clen, &pos, &vl) &&
                           nl + vl <= 8 + clen - pos, "a malformed pair in the answer");
                for (i = 0; i < 3; i++)
                    if (nl == strlen(names[i]) && memcmp(out + pos, names[i], nl) == 0)
                        break;
                FUZZ_CHECK(i < 3, "an unknown name answered");
                FUZZ_CHECK(!seen[i] && asked[i], "%s answered twice or unasked", names[i]);
                seen[i] = 1;
                snprintf(want, sizeof want, "%lu", values[i]);
                FUZZ_CHECK(vl == strlen(want) && memcmp(out + pos + nl, want, vl) == 0,
                           "%s has the wrong value", names[i]);
                pos += nl + vl;
            }
            FUZZ_CHECK(seen[0] == asked[0] && seen[1] == asked[1] && seen[2] == asked[2],
                       "a name asked for is not answered");
        }
    }
    free(out);
    free(rec);
    return 0;
}
