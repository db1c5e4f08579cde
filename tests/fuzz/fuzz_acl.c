/*
 * fuzz_acl.c - who may connect (src/acl.c): --allow-from ADDR[/BITS] and
 * the FCGI_WEB_SERVER_ADDRS list, parsed and matched against peers.
 *
 * Input: the list's text up to the first 0x01 byte (given to
 * wf_acl_add_list as FCGI_WEB_SERVER_ADDRS is), then peers of 17 bytes
 * each: a byte choosing IPv4, IPv6 or IPv4-mapped IPv6, and the address.
 *
 * Invariants:
 *   - an entry accepted is IPv4 with at most 32 bits or IPv6 with at most
 *     128, and its address has no bit set past the prefix;
 *   - an entry refused leaves a message; a list accepted adds one entry per
 *     non-blank element;
 *   - wf_acl_allows agrees with a reference matcher written here
 *     (bit-by-bit prefix comparison, IPv4 entries also matching
 *     IPv4-mapped IPv6 peers), and allows everything when the list is
 *     empty;
 *   - a peer printed by wf_acl_format_peer parses back as an entry that
 *     allows that peer.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "acl.h"
#include "fuzz.h"

static int bit(const unsigned char *a, unsigned i)
{
    return (a[i / 8] >> (7 - i % 8)) & 1;
}

static int ref_match(const struct wf_acl_entry *e, int family, const unsigned char *a)
{
    unsigned i;

    if (e->family != family)
        return 0;
    for (i = 0; i < e->bits; i++)
        if (bit(e->addr, i) != bit(a, i))
            return 0;
    return 1;
}

static int ref_allows(const struct wf_acl *acl, int family, const unsigned char *a)
{
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    size_t i;

    if (acl->n == 0)
        return 1;
    for (i = 0; i < acl->n; i++) {
        if (ref_match(&acl->entries[i], family, a))
            return 1;
        if (family == AF_INET6 && memcmp(a, v4mapped, 12) == 0 &&
            ref_match(&acl->entries[i], AF_INET, a + 12))
            return 1;
    }
    return 0;
}

/* Elements of the list that are not blank. */
static size_t elements(const char *s)
{
    size_t n = 0;
    int blank = 1;

    for (;; s++) {
        if (*s == ',' || *s == '\0') {
            n += !blank;
            blank = 1;
            if (!*s)
                return n;
        } else if (*s != ' ' && *s != '\t') {
            blank = 0;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *stop = memchr(data, 1, size);
    size_t tlen = stop ? (size_t)(stop - data) : size, i, pos;
    char *text = malloc(tlen + 1), err[512];
    struct wf_acl acl = { NULL, 0 };
    int rc;

    if (!text)
        abort();
    memcpy(text, data, tlen);
    text[tlen] = '\0';
    err[0] = '\0';
    rc = wf_acl_add_list(&acl, "FCGI_WEB_SERVER_ADDRS", text, err, sizeof err);
    if (rc < 0) {
        FUZZ_CHECK(rc == -1 && err[0], "refused without a message");
    } else {
        FUZZ_CHECK(rc == 0, "rc %d", rc);
        FUZZ_CHECK(acl.n == elements(text), "%zu entries for %zu elements of '%s'", acl.n,
                   elements(text), text);
    }
    for (i = 0; i < acl.n; i++) {
        const struct wf_acl_entry *e = &acl.entries[i];
        unsigned len = e->family == AF_INET ? 32 : 128, b;
        FUZZ_CHECK(e->family == AF_INET || e->family == AF_INET6, "family %d", e->family);
        FUZZ_CHECK(e->bits <= len, "%u bits", e->bits);
        for (b = e->bits; b < 128; b++)
            FUZZ_CHECK(!bit(e->addr, b), "bit %u set past a /%u prefix", b, e->bits);
    }

    for (pos = tlen + (stop ? 1 : 0); size - pos >= 17; pos += 17) {
        const uint8_t *p = data + pos;
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
        const struct sockaddr *sa;
        socklen_t salen;
        int family, allows;
        unsigned char a[16];
        char text2[INET6_ADDRSTRLEN + 8];
        struct wf_acl one = { NULL, 0 };

        memcpy(a, p + 1, 16);
        if ((p[0] % 3) == 0) {
            family = AF_INET;
            memset(&sin, 0, sizeof sin);
            sin.sin_family = AF_INET;
            memcpy(&sin.sin_addr, a, 4);
            sa = (const struct sockaddr *)&sin;
            salen = sizeof sin;
        } else {
            family = AF_INET6;
            if ((p[0] % 3) == 2) {       /* IPv4-mapped */
                memset(a, 0, 10);
                a[10] = a[11] = 0xff;
            }
            memset(&sin6, 0, sizeof sin6);
            sin6.sin6_family = AF_INET6;
            memcpy(&sin6.sin6_addr, a, 16);
            sa = (const struct sockaddr *)&sin6;
            salen = sizeof sin6;
        }
        allows = wf_acl_allows(&acl, sa, salen);
        FUZZ_CHECK(allows == ref_allows(&acl, family, a), "the matcher says %d, the reference %d",
                   allows, !allows);
        FUZZ_CHECK(wf_acl_allows(&acl, sa, salen - 1) == (acl.n == 0), "a short address matched");

        wf_acl_format_peer(sa, salen, text2, sizeof text2);
        FUZZ_CHECK(wf_acl_add(&one, "--allow-from", text2, err, sizeof err) == 0,
                   "the peer printed as '%s' does not parse: %s", text2, err);
        FUZZ_CHECK(wf_acl_allows(&one, sa, salen), "'%s' does not allow itself", text2);
        wf_acl_free(&one);
    }
    wf_acl_free(&acl);
    free(text);
    return 0;
}
