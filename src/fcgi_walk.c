/*
 * fcgi_walk.c - see fcgi_walk.h.  A byte-exact state machine: header bytes
 * are collected until the record's eight are there, then its content and
 * padding are counted off in bulk; only PARAMS content is looked at byte by
 * byte, for the pair lengths.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "fcgi_walk.h"

void wf_fcgi_walk_init(struct wf_fcgi_walk *w, size_t max_head)
{
    memset(w, 0, sizeof *w);
    w->max_head = max_head;
    w->phase = WF_FW_PH_BEGIN;
}

void wf_fcgi_walk_next(struct wf_fcgi_walk *w)
{
    uint64_t offset = w->offset;
    size_t max_head = w->max_head;

    wf_fcgi_walk_init(w, max_head);
    w->offset = offset;
}

static enum wf_fw_event fail(struct wf_fcgi_walk *w, const char *why)
{
    w->phase = WF_FW_PH_FAILED;
    w->why = why;
    return WF_FW_ERROR;
}

/* Counts a record of the head; -1 once the head is longer than allowed. */
static int add_head(struct wf_fcgi_walk *w)
{
    w->head_len += WF_FCGI_HEADER_LEN + w->content_left + w->padding_left;
    return w->head_len > w->max_head ? -1 : 0;
}

/* The eight header bytes are in: is this record allowed here? */
static enum wf_fw_event record_begins(struct wf_fcgi_walk *w)
{
    const unsigned char *h = w->hdr;

    w->type = h[1];
    w->id = ((unsigned)h[2] << 8) | h[3];
    w->content_left = ((uint32_t)h[4] << 8) | h[5];
    w->padding_left = h[6];

    switch (w->phase) {
    case WF_FW_PH_BEGIN:
        if (w->id == 0) {
            if (w->type == WF_FCGI_BEGIN_REQUEST)
                return fail(w, "FCGI_BEGIN_REQUEST with request id 0");
            w->mgmt_type = w->type;
            return WF_FW_MORE;
        }
        if (w->type != WF_FCGI_BEGIN_REQUEST)
            return fail(w, "a request does not start with FCGI_BEGIN_REQUEST");
        if (w->content_left != 8)
            return fail(w, "an FCGI_BEGIN_REQUEST body that is not 8 bytes long");
        /* libfcgi forgets the padding still to skip when it moves on to
         * the PARAMS stream, and would read it as the next record header
         * (the same for the empty PARAMS record below).  No web server pads
         * these two records. */
        if (w->padding_left != 0)
            return fail(w, "a padded FCGI_BEGIN_REQUEST (libfcgi would misread its padding)");
        w->req_id = w->id;
        w->head_len = 0;
        w->begin_len = 0;
        if (add_head(w) < 0)
            return fail(w, "a request head longer than --max-header-size");
        return WF_FW_MORE;
    case WF_FW_PH_PARAMS:
    case WF_FW_PH_STDIN:
        if (w->id == 0)
            return fail(w, "a management record (request id 0) inside a request");
        if (w->type == WF_FCGI_BEGIN_REQUEST)
            return fail(w, "a second FCGI_BEGIN_REQUEST inside a request (multiplexing is not supported)");
        if (w->id != w->req_id)
            return fail(w, "a record for another request id (multiplexing is not supported)");
        if (w->type == WF_FCGI_ABORT_REQUEST)
            return WF_FW_MORE;
        if (w->phase == WF_FW_PH_PARAMS) {
            if (w->type != WF_FCGI_PARAMS)
                return fail(w, "a record other than FCGI_PARAMS before the params ended");
            if (w->content_left == 0 && w->padding_left != 0)
                return fail(w, "a padded empty FCGI_PARAMS record (libfcgi would misread its padding)");
            if (add_head(w) < 0)
                return fail(w, "a request head longer than --max-header-size");
            return WF_FW_MORE;
        }
        if (w->type != WF_FCGI_STDIN)
            return fail(w, "a record other than FCGI_STDIN in the request body");
        return WF_FW_MORE;
    default:
        return fail(w, "bytes after the end of the walk");
    }
}

/* The offset of the first NUL or '=' among n bytes, or n.  Eight bytes at
 * a time (a byte is zero in x exactly when the high bit survives
 * (x - 0x01..) & ~x & 0x80..); the byte loop finds which one. */
static inline size_t name_scan(const unsigned char *b, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t eqs = ones * '=';
    size_t i = 0;

    uint64_t x, y;

    for (; i + 8 <= n; i += 8) {
        memcpy(&x, b + i, 8);
        y = x ^ eqs;
        if (((x - ones) & ~x & highs) | ((y - ones) & ~y & highs))
            break;
    }
    if (i < n && n >= 8 && i + 8 > n) {
        /* the last bytes, as the eight that end the name */
        memcpy(&x, b + n - 8, 8);
        y = x ^ eqs;
        if (!(((x - ones) & ~x & highs) | ((y - ones) & ~y & highs)))
            return n;
    }
    for (; i < n; i++)
        if (b[i] == '\0' || b[i] == '=')
            return i;
    return n;
}

/* Reads a pair length at *at of b[0..n) into *v: 1, or 0 when its bytes are
 * not all there. */
static inline int get_len_at(const unsigned char *b, size_t n, size_t *at, uint32_t *v)
{
    const unsigned char *p = b + *at;

    if (*at >= n)
        return 0;
    if (!(p[0] & 0x80)) {
        *v = p[0];
        *at += 1;
        return 1;
    }
    if (n - *at < 4)
        return 0;
    *v = ((uint32_t)(p[0] & 0x7f) << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    *at += 4;
    return 1;
}

/* Notes that pair number pair (0 = the first) has a NUL in its value. */
static void note_nul_value(struct wf_fcgi_walk *w, unsigned pair, uint32_t name_len,
                           uint32_t value_len)
{
    if (w->n_nul_values < WF_FW_NUL_VALUES) {
        w->nul_values[w->n_nul_values].pair = pair;
        w->nul_values[w->n_nul_values].name_len = name_len;
        w->nul_values[w->n_nul_values++].value_len = value_len;
    } else {
        w->nul_values_lost++;
    }
}

/* Feeds PARAMS content to the pair decoder.  -1 when a declared length is
 * longer than a head may be, -2 when a name holds a NUL or '=' byte (libfcgi
 * hands params over as "NAME=VALUE" C strings: such a name would be dropped
 * or split elsewhere); *bad is then the bytes up to and including the
 * offending byte.  Lengths whose bytes are all at hand are read directly;
 * one split between two records is gathered in lenbuf. */
static int pairs_feed(struct wf_fcgi_walk *w, const unsigned char *b, size_t n, size_t *bad)
{
    const unsigned char *first = b;

    while (n > 0) {
        uint32_t v;

        if (w->pair_state == 0 && w->lenpos == 0) {
            /* A whole pair at hand, as in nearly every head: at once. */
            size_t at = 0, i;
            uint32_t nl, vl;
            if (get_len_at(b, n, &at, &nl) && get_len_at(b, n, &at, &vl) &&
                nl <= w->max_head && vl <= w->max_head && (uint64_t)nl + vl <= n - at) {
                w->nparams++;        /* as below: a pair counts once its lengths are read */
                if ((i = name_scan(b + at, nl)) < nl) {
                    *bad = (size_t)(b - first) + at + i + 1;
                    return -2;
                }
                if (vl && memchr(b + at + nl, 0, vl))
                    note_nul_value(w, w->nparams - 1, nl, vl);
                b += at + nl + vl;
                n -= at + nl + vl;
                continue;
            }
        }
        if (w->pair_state == 2) {
            size_t take = w->name_len < n ? w->name_len : n, i = name_scan(b, take);
            if (i < take) {
                *bad = (size_t)(b - first) + i + 1;
                return -2;
            }
            w->name_len -= (uint32_t)take;
            b += take;
            n -= take;
            if (w->name_len == 0)
                w->pair_state = w->pair_skip ? 3 : 0;
            continue;
        }
        if (w->pair_state == 3) {
            uint64_t take = w->pair_skip < n ? w->pair_skip : n;
            if (!w->value_nul && memchr(b, 0, (size_t)take)) {
                w->value_nul = 1;
                note_nul_value(w, w->nparams - 1, w->pair_name_len, w->value_len);
            }
            w->pair_skip -= take;
            b += take;
            n -= (size_t)take;
            if (w->pair_skip == 0)
                w->pair_state = 0;
            continue;
        }
        if (w->lenpos == 0 && !(b[0] & 0x80)) {
            v = b[0];
            b++;
            n--;
        } else if (w->lenpos == 0 && n >= 4) {
            v = ((uint32_t)(b[0] & 0x7f) << 24) | ((uint32_t)b[1] << 16) |
                ((uint32_t)b[2] << 8) | b[3];
            b += 4;
            n -= 4;
        } else {
            w->lenbuf[w->lenpos++] = *b++;    /* a four-byte length, split */
            n--;
            if (w->lenpos < 4)
                continue;
            w->lenpos = 0;
            v = ((uint32_t)(w->lenbuf[0] & 0x7f) << 24) | ((uint32_t)w->lenbuf[1] << 16) |
                ((uint32_t)w->lenbuf[2] << 8) | w->lenbuf[3];
        }
        if (v > w->max_head) {
            *bad = (size_t)(b - first);
            return -1;
        }
        if (w->pair_state == 0) {
            w->name_len = v;
            w->pair_name_len = v;
            w->pair_state = 1;
        } else {
            w->pair_skip = v;
            w->value_len = v;
            w->value_nul = 0;
            w->pair_state = w->name_len ? 2 : v ? 3 : 0;
            w->nparams++;
        }
    }
    return 0;
}

/* The record's content and padding are consumed. */
static enum wf_fw_event record_ends(struct wf_fcgi_walk *w, uint32_t clen)
{
    switch (w->phase) {
    case WF_FW_PH_BEGIN:
        if (w->id == 0)
            return WF_FW_MGMT;
        w->role = ((unsigned)w->begin[0] << 8) | w->begin[1];
        w->keep_conn = w->begin[2] & 1;
        w->phase = WF_FW_PH_PARAMS;
        w->pair_state = 0;
        w->lenpos = 0;
        w->nparams = 0;
        return WF_FW_MORE;
    case WF_FW_PH_PARAMS:
        if (w->type == WF_FCGI_ABORT_REQUEST)
            return WF_FW_ABORT;
        if (clen != 0)
            return WF_FW_MORE;
        if (w->pair_state != 0 || w->lenpos != 0)
            return fail(w, "the params end inside a name/value pair");
        w->phase = WF_FW_PH_STDIN;
        return WF_FW_HEAD;
    case WF_FW_PH_STDIN:
        if (w->type == WF_FCGI_ABORT_REQUEST)
            return WF_FW_ABORT;
        if (clen != 0)
            return WF_FW_MORE;
        w->phase = WF_FW_PH_ENDED;
        return WF_FW_END;
    default:
        return fail(w, "bytes after the end of the walk");
    }
}

enum wf_fw_event wf_fcgi_walk(struct wf_fcgi_walk *w, const unsigned char *buf, size_t len,
                              size_t *used)
{
    enum wf_fw_event ev = WF_FW_MORE;
    size_t pos = 0;

    if (w->phase == WF_FW_PH_FAILED || w->phase == WF_FW_PH_ENDED) {
        *used = 0;
        return w->phase == WF_FW_PH_FAILED ? WF_FW_ERROR : WF_FW_END;
    }
    while (pos < len && ev == WF_FW_MORE) {
        if (w->hdr_len < WF_FCGI_HEADER_LEN) {
            size_t take = WF_FCGI_HEADER_LEN - w->hdr_len;
            if (take > len - pos)
                take = len - pos;
            if (w->hdr_len == 0) {
                w->rec_start = w->offset + pos;
                if (buf[pos] != 1) {
                    pos++;
                    ev = fail(w, "not FastCGI version 1");
                    break;
                }
            }
            memcpy(w->hdr + w->hdr_len, buf + pos, take);
            w->hdr_len += (unsigned)take;
            pos += take;
            if (w->hdr_len < WF_FCGI_HEADER_LEN)
                break;
            ev = record_begins(w);
            if (ev != WF_FW_MORE)
                break;
        }
        if (w->content_left > 0 && pos < len) {
            size_t take = w->content_left < len - pos ? w->content_left : len - pos, bad = 0;
            int rc;
            if (w->phase == WF_FW_PH_BEGIN && w->id != 0) {
                memcpy(w->begin + w->begin_len, buf + pos, take);
                w->begin_len += (unsigned)take;
            } else if (w->phase == WF_FW_PH_PARAMS && w->type == WF_FCGI_PARAMS &&
                       (rc = pairs_feed(w, buf + pos, take, &bad)) < 0) {
                pos += bad;
                ev = fail(w, rc == -1
                          ? "a FastCGI param declares a name or value longer than --max-header-size"
                          : "a FastCGI param name holds a NUL or '=' byte");
                break;
            }
            w->content_left -= (uint32_t)take;
            pos += take;
        }
        if (w->content_left == 0 && w->padding_left > 0 && pos < len) {
            size_t take = w->padding_left < len - pos ? w->padding_left : len - pos;
            w->padding_left -= (unsigned)take;
            pos += take;
        }
        if (w->content_left == 0 && w->padding_left == 0) {
            uint32_t clen = ((uint32_t)w->hdr[4] << 8) | w->hdr[5];   /* as declared */
            w->hdr_len = 0;
            ev = record_ends(w, clen);
        }
    }
    w->offset += pos;
    *used = pos;
    return ev;
}

/* ---- answers the walker's caller writes ---------------------------------- */

static void put_header(unsigned char *h, unsigned type, unsigned id, size_t clen, unsigned pad)
{
    h[0] = 1;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(clen >> 8);
    h[5] = (unsigned char)clen;
    h[6] = (unsigned char)pad;
    h[7] = 0;
}

void wf_fcgi_end_request(unsigned char out[16], unsigned req_id, uint32_t app_status,
                         unsigned protocol_status)
{
    put_header(out, WF_FCGI_END_REQUEST, req_id, 8, 0);
    out[8] = (unsigned char)(app_status >> 24);
    out[9] = (unsigned char)(app_status >> 16);
    out[10] = (unsigned char)(app_status >> 8);
    out[11] = (unsigned char)app_status;
    out[12] = (unsigned char)protocol_status;
    memset(out + 13, 0, 3);
}

/* Reads one pair length at *pos; -1 when it runs past end. */
static long get_len(const unsigned char *c, size_t end, size_t *pos)
{
    if (*pos >= end)
        return -1;
    if (!(c[*pos] & 0x80))
        return c[(*pos)++];
    if (end - *pos < 4)
        return -1;
    *pos += 4;
    return ((long)(c[*pos - 4] & 0x7f) << 24) | ((long)c[*pos - 3] << 16) |
           ((long)c[*pos - 2] << 8) | c[*pos - 1];
}

long wf_fcgi_mgmt_reply(const unsigned char *rec, size_t len, unsigned long max_conns,
                        unsigned long max_reqs, unsigned char *out, size_t cap)
{
    static const char *const names[3] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
    unsigned long values[3];
    int asked[3] = { 0, 0, 0 };
    size_t clen, pos = WF_FCGI_HEADER_LEN, end, o;
    unsigned i, pad;

    if (len < WF_FCGI_HEADER_LEN)
        return -1;
    clen = ((size_t)rec[4] << 8) | rec[5];
    if (len < WF_FCGI_HEADER_LEN + clen)
        return -1;
    if (rec[1] != WF_FCGI_GET_VALUES) {
        if (cap < 16)
            return -1;
        put_header(out, WF_FCGI_UNKNOWN_TYPE, 0, 8, 0);
        out[8] = rec[1];
        memset(out + 9, 0, 7);
        return 16;
    }
    end = WF_FCGI_HEADER_LEN + clen;
    while (pos < end) {
        long nlen = get_len(rec, end, &pos), vlen;
        if (nlen < 0 || (vlen = get_len(rec, end, &pos)) < 0 ||
            (size_t)nlen > end - pos || (size_t)vlen > end - pos - (size_t)nlen)
            return -1;
        for (i = 0; i < 3; i++)
            if ((size_t)nlen == strlen(names[i]) && memcmp(rec + pos, names[i], (size_t)nlen) == 0)
                asked[i] = 1;
        pos += (size_t)nlen + (size_t)vlen;
    }
    values[0] = max_conns;
    values[1] = max_reqs;
    values[2] = 0;
    o = WF_FCGI_HEADER_LEN;
    for (i = 0; i < 3; i++) {
        char v[24];
        size_t nl = strlen(names[i]);
        int vl;
        if (!asked[i])
            continue;
        vl = snprintf(v, sizeof v, "%lu", values[i]);
        if (vl < 0 || o + 2 + nl + (size_t)vl > cap)
            return -1;
        out[o++] = (unsigned char)nl;
        out[o++] = (unsigned char)vl;
        memcpy(out + o, names[i], nl);
        o += nl;
        memcpy(out + o, v, (size_t)vl);
        o += (size_t)vl;
    }
    clen = o - WF_FCGI_HEADER_LEN;
    pad = (unsigned)((8 - clen % 8) % 8);
    if (o + pad > cap)
        return -1;
    memset(out + o, 0, pad);
    put_header(out, WF_FCGI_GET_VALUES_RESULT, 0, clen, pad);
    return (long)(o + pad);
}
