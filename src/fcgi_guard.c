/*
 * fcgi_guard.c - see fcgi_guard.h.  Walks whole and partial records; the
 * PARAMS content of successive records is treated as one stream, so a pair
 * whose length bytes straddle two records is still decoded.
 */
#include "autoconfig.h"

#include <stdint.h>

#include "fcgi_guard.h"

enum { REC_HEADER = 8, TYPE_PARAMS = 4, TYPE_GET_VALUES = 9 };

struct pairs {
    int state;          /* 0 name length, 1 value length, 2 skipping data */
    unsigned char lenbuf[4];
    int lenpos;
    int lenneed;
    uint32_t lens[2];
    uint64_t skip;
};

/* Feeds params bytes; -1 when a declared length is over the limit. */
static int pairs_feed(struct pairs *p, const unsigned char *b, size_t n)
{
    while (n > 0) {
        if (p->state == 2) {
            uint64_t take = p->skip < n ? p->skip : n;
            p->skip -= take;
            b += take;
            n -= (size_t)take;
            if (p->skip == 0)
                p->state = 0;
            continue;
        }
        if (p->lenpos == 0) {
            p->lenneed = (b[0] & 0x80) ? 4 : 1;
        }
        p->lenbuf[p->lenpos++] = *b++;
        n--;
        if (p->lenpos < p->lenneed)
            continue;
        {
            uint32_t v = p->lenneed == 1
                ? p->lenbuf[0]
                : ((uint32_t)(p->lenbuf[0] & 0x7f) << 24) | ((uint32_t)p->lenbuf[1] << 16) |
                  ((uint32_t)p->lenbuf[2] << 8) | p->lenbuf[3];
            if (v > WF_FCGI_MAX_PARAM_LEN)
                return -1;
            p->lens[p->state] = v;
        }
        p->lenpos = 0;
        if (p->state == 0) {
            p->state = 1;
        } else {
            p->skip = (uint64_t)p->lens[0] + p->lens[1];
            p->state = p->skip ? 2 : 0;
        }
    }
    return 0;
}

int wf_fcgi_guard(const unsigned char *buf, size_t len, const char **why)
{
    struct pairs pairs = { 0 };
    size_t pos = 0;

    while (len - pos >= REC_HEADER) {
        const unsigned char *h = buf + pos;
        size_t clen = ((size_t)h[4] << 8) | h[5];
        size_t plen = h[6];
        size_t avail;

        if (h[0] != 1) {
            *why = "unsupported FastCGI version";
            return -1;
        }
        if (h[1] == TYPE_GET_VALUES) {
            *why = "FCGI_GET_VALUES is not served (use the process's own health checks)";
            return -1;
        }
        pos += REC_HEADER;
        avail = len - pos < clen ? len - pos : clen;
        if (h[1] == TYPE_PARAMS && pairs_feed(&pairs, buf + pos, avail) < 0) {
            *why = "a FastCGI param declares a name or value longer than 1 MiB";
            return -1;
        }
        if (avail < clen)
            return 0;
        pos += clen;
        pos += (len - pos < plen) ? len - pos : plen;
    }
    return 0;
}
