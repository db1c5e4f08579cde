/*
 * fuzz_fcgi_walk.c - the FastCGI record walker (src/fcgi_walk.c) that
 * every byte of a FastCGI connection passes before libfcgi sees it.
 *
 * Input: one control byte (bits 0-2: which max_head), then the bytes a peer
 * sends on one connection.  The stream is walked the way the dispatcher and
 * fcgi.c walk it: management records are answered (wf_fcgi_mgmt_reply) and
 * dropped, each request's end starts the next (wf_fcgi_walk_next), and the
 * walk stops at an abort or a refusal.  It is walked twice: whole, and in
 * pieces cut at places drawn from the input.
 *
 * Invariants:
 *   - the walker never reports more bytes consumed than it was given, and
 *     WF_FW_MORE only when it consumed them all;
 *   - events, their stream offsets and what the walker knows at each
 *     (request id, role, keep_conn, pairs, refusal reason) are the same cut
 *     anywhere as whole;
 *   - a refusal or an end is sticky (the next call consumes nothing);
 *   - at WF_FW_HEAD the bytes since the previous event are, as checked here
 *     by an independent decoder, one BEGIN_REQUEST and PARAMS records of
 *     the same request id whose content is whole name/value pairs, none
 *     longer than max_head, no name holding a NUL or '=' byte (libfcgi's
 *     "NAME=VALUE" strings cannot carry one), the whole head at most
 *     max_head, and neither
 *     the BEGIN_REQUEST nor the empty PARAMS record padded; between
 *     WF_FW_HEAD and WF_FW_END only STDIN records of that request: so
 *     libfcgi is handed nothing else;
 *   - at WF_FW_MGMT the record is one management record (id 0) and its
 *     answer is a well-formed FCGI_GET_VALUES_RESULT or FCGI_UNKNOWN_TYPE.
 */
#include "autoconfig.h"

#include "fcgi_walk.h"
#include "fuzz.h"

static const size_t max_heads[8] = { 8, 16, 40, 100, 1024, 8192, 65536, 1 << 20 };

#define MAX_EVENTS 4096

struct event {
    enum wf_fw_event ev;
    uint64_t offset;         /* stream offset right after the event */
    unsigned req_id, role, keep_conn, nparams, mgmt_type;
    const char *why;
};

struct walk_log {
    struct event e[MAX_EVENTS];
    size_t n;
};

static uint32_t be16(const unsigned char *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

/* ---- an independent reading of the bytes the walker let through -------- */

/* Reads one pair length; 0 when it runs past n. */
static int pair_len(const unsigned char *c, size_t n, size_t *pos, uint32_t *v)
{
    if (*pos >= n)
        return 0;
    if (!(c[*pos] & 0x80)) {
        *v = c[(*pos)++];
        return 1;
    }
    if (n - *pos < 4)
        return 0;
    *v = ((uint32_t)(c[*pos] & 0x7f) << 24) | ((uint32_t)c[*pos + 1] << 16) |
         ((uint32_t)c[*pos + 2] << 8) | c[*pos + 3];
    *pos += 4;
    return 1;
}

/* The head [b, b+n): BEGIN_REQUEST, then PARAMS records ending with an
 * empty one, of one request id, carrying whole pairs. */
static void check_head(const unsigned char *b, size_t n, size_t max_head, const struct event *e)
{
    size_t pos = 0, plen = 0, cpos = 0;
    unsigned char *params = malloc(n + 1);
    unsigned id, pairs = 0;
    int ended = 0;

    if (!params)
        abort();
    FUZZ_CHECK(n >= 24, "a head of %zu bytes", n);
    FUZZ_CHECK(b[0] == 1 && b[1] == WF_FCGI_BEGIN_REQUEST && be16(b + 4) == 8,
               "the head does not start with BEGIN_REQUEST");
    id = be16(b + 2);
    FUZZ_CHECK(id != 0 && id == e->req_id, "request id %u, walker says %u", id, e->req_id);
    FUZZ_CHECK(e->role == be16(b + 8) && e->keep_conn == (b[10] & 1u), "role or flags differ");
    /* libfcgi drops the padding of these two records (LIBFCGI-NOTES.md). */
    FUZZ_CHECK(b[6] == 0, "a padded BEGIN_REQUEST let through");
    pos = 8 + 8;
    FUZZ_CHECK(n <= max_head, "a head of %zu bytes passed max_head %zu", n, max_head);
    while (pos < n) {
        size_t clen, pad;
        FUZZ_CHECK(!ended, "bytes after the empty PARAMS record");
        FUZZ_CHECK(n - pos >= 8, "a record header cut at the head's end");
        FUZZ_CHECK(b[pos] == 1 && b[pos + 1] == WF_FCGI_PARAMS && be16(b + pos + 2) == id,
                   "a record of type %u id %u in the head", b[pos + 1], be16(b + pos + 2));
        clen = be16(b + pos + 4);
        pad = b[pos + 6];
        FUZZ_CHECK(n - pos - 8 >= clen + pad, "a record cut at the head's end");
        memcpy(params + plen, b + pos + 8, clen);
        plen += clen;
        ended = clen == 0;
        FUZZ_CHECK(!ended || pad == 0, "a padded empty PARAMS record let through");
        pos += 8 + clen + pad;
    }
    FUZZ_CHECK(ended, "the head does not end with an empty PARAMS record");
    while (cpos < plen) {
        uint32_t nl, vl;
        FUZZ_CHECK(pair_len(params, plen, &cpos, &nl) && pair_len(params, plen, &cpos, &vl),
                   "the params end inside a pair's lengths");
        FUZZ_CHECK(nl <= max_head && vl <= max_head, "a pair of %u+%u bytes, max_head %zu", nl, vl,
                   max_head);
        FUZZ_CHECK((uint64_t)nl + vl <= plen - cpos, "a pair runs past the params");
        FUZZ_CHECK(!memchr(params + cpos, '\0', nl) && !memchr(params + cpos, '=', nl),
                   "a name with a NUL or '=' let through");
        cpos += (size_t)nl + vl;
        pairs++;
    }
    FUZZ_CHECK(pairs == e->nparams, "%u pairs, the walker counted %u", pairs, e->nparams);
    free(params);
}

/* The body [b, b+n): STDIN records of the request, the last one empty. */
static void check_body(const unsigned char *b, size_t n, unsigned id)
{
    size_t pos = 0;
    int ended = 0;

    while (pos < n) {
        size_t clen;
        FUZZ_CHECK(!ended, "bytes after the empty STDIN record");
        FUZZ_CHECK(n - pos >= 8, "a record header cut at the body's end");
        FUZZ_CHECK(b[pos] == 1 && b[pos + 1] == WF_FCGI_STDIN && be16(b + pos + 2) == id,
                   "a record of type %u id %u in the body", b[pos + 1], be16(b + pos + 2));
        clen = be16(b + pos + 4);
        FUZZ_CHECK(n - pos - 8 >= clen + b[pos + 6], "a record cut at the body's end");
        ended = clen == 0;
        pos += 8 + clen + b[pos + 6];
    }
    FUZZ_CHECK(ended, "the body does not end with an empty STDIN record");
}

/* A management record and the walker's caller's answer to it. */
static void check_mgmt(const unsigned char *rec, size_t n, unsigned mgmt_type)
{
    unsigned char *copy = fuzz_dup(rec, n), out[128];
    long r;

    FUZZ_CHECK(n >= 8 && rec[0] == 1 && be16(rec + 2) == 0 && rec[1] == mgmt_type,
               "not a management record");
    FUZZ_CHECK(n == 8 + be16(rec + 4) + rec[6], "the record is %zu bytes", n);
    r = wf_fcgi_mgmt_reply(copy, n, 1, 2, out, sizeof out);
    if (r >= 0) {
        FUZZ_CHECK(r >= 8 && r % 8 == 0 && (size_t)r <= sizeof out, "an answer of %ld bytes", r);
        FUZZ_CHECK(out[0] == 1 && be16(out + 2) == 0 && 8 + be16(out + 4) + out[6] == (size_t)r,
                   "a malformed answer");
        FUZZ_CHECK(mgmt_type == WF_FCGI_GET_VALUES ? out[1] == WF_FCGI_GET_VALUES_RESULT
                                                   : out[1] == WF_FCGI_UNKNOWN_TYPE && out[8] == mgmt_type,
                   "answer type %u to type %u", out[1], mgmt_type);
    } else {
        FUZZ_CHECK(mgmt_type == WF_FCGI_GET_VALUES, "no answer to type %u", mgmt_type);
    }
    free(copy);
}

/* ---- the walk ------------------------------------------------------------- */

/* Walks b[0..n) in pieces (all of it when rnd is NULL); logs the events. */
static void walk(const unsigned char *b, size_t n, size_t max_head, uint64_t *rnd, struct walk_log *log,
                 int check)
{
    struct wf_fcgi_walk w;
    size_t pos = 0, last = 0, head_end = 0;
    unsigned req_id = 0;

    wf_fcgi_walk_init(&w, max_head);
    log->n = 0;
    while (pos <= n && log->n < MAX_EVENTS) {
        size_t piece = n - pos, used = 0;
        enum wf_fw_event ev;
        unsigned char *copy;
        struct event *e;

        if (rnd) {
            uint64_t r = fuzz_rand(rnd);
            size_t want = (r & 3) == 0 ? (size_t)(r >> 8) % 4096 : (size_t)(r >> 8) % 17;
            if (want < piece)
                piece = want;
        }
        copy = fuzz_dup(b + pos, piece);
        ev = wf_fcgi_walk(&w, copy, piece, &used);
        free(copy);
        FUZZ_CHECK(used <= piece, "consumed %zu of %zu bytes", used, piece);
        FUZZ_CHECK(ev != WF_FW_MORE || used == piece, "MORE after %zu of %zu bytes", used, piece);
        FUZZ_CHECK(w.offset == pos + used, "offset %llu, walked %zu", (unsigned long long)w.offset,
                   pos + used);
        pos += used;
        if (ev == WF_FW_MORE) {
            if (pos == n)
                break;
            continue;
        }
        e = &log->e[log->n++];
        memset(e, 0, sizeof *e);
        e->ev = ev;
        e->offset = pos;
        e->req_id = w.req_id;
        e->role = w.role;
        e->keep_conn = (unsigned)w.keep_conn;
        e->nparams = w.nparams;
        e->mgmt_type = ev == WF_FW_MGMT ? w.mgmt_type : 0;
        e->why = ev == WF_FW_ERROR ? w.why : NULL;
        switch (ev) {
        case WF_FW_MGMT:
            FUZZ_CHECK(w.rec_start >= last && w.rec_start < pos, "the record starts at %llu",
                       (unsigned long long)w.rec_start);
            if (check)
                check_mgmt(b + w.rec_start, pos - (size_t)w.rec_start, w.mgmt_type);
            last = pos;
            break;
        case WF_FW_HEAD:
            if (check)
                check_head(b + last, pos - last, max_head, e);
            head_end = pos;
            req_id = w.req_id;
            break;
        case WF_FW_END:
            if (check)
                check_body(b + head_end, pos - head_end, req_id);
            /* Sticky until the next request is asked for. */
            FUZZ_CHECK(wf_fcgi_walk(&w, b, n, &used) == WF_FW_END && used == 0, "END not sticky");
            wf_fcgi_walk_next(&w);
            FUZZ_CHECK(w.offset == pos && w.phase == WF_FW_PH_BEGIN, "next request not ready");
            last = pos;
            break;
        case WF_FW_ABORT:
            return;
        case WF_FW_ERROR:
            FUZZ_CHECK(w.why != NULL, "refused without a reason");
            FUZZ_CHECK(wf_fcgi_walk(&w, b, n, &used) == WF_FW_ERROR && used == 0, "ERROR not sticky");
            return;
        default:
            FUZZ_CHECK(0, "unknown event %d", (int)ev);
        }
        if (pos == n)
            break;
    }
}

static struct walk_log whole, pieces;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    size_t max_head = max_heads[fuzz_byte(&in) & 7], i;
    uint64_t rnd = fuzz_seed(data, size);

    walk(in.p, in.n, max_head, NULL, &whole, 1);
    walk(in.p, in.n, max_head, &rnd, &pieces, 0);
    FUZZ_CHECK(whole.n == pieces.n, "%zu events whole, %zu in pieces", whole.n, pieces.n);
    for (i = 0; i < whole.n; i++) {
        const struct event *a = &whole.e[i], *b = &pieces.e[i];
        FUZZ_CHECK(a->ev == b->ev && a->offset == b->offset, "event %zu: %d at %llu whole, %d at %llu cut",
                   i, (int)a->ev, (unsigned long long)a->offset, (int)b->ev,
                   (unsigned long long)b->offset);
        FUZZ_CHECK(a->req_id == b->req_id && a->role == b->role && a->keep_conn == b->keep_conn &&
                   a->nparams == b->nparams && a->mgmt_type == b->mgmt_type,
                   "event %zu: the walker's view differs cut", i);
        FUZZ_CHECK((a->why == NULL) == (b->why == NULL) && (!a->why || strcmp(a->why, b->why) == 0),
                   "event %zu: refused for '%s' whole, '%s' cut", i, a->why ? a->why : "-",
                   b->why ? b->why : "-");
    }
    return 0;
}
