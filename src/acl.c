/*
 * acl.c - see acl.h.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"

static void mask(unsigned char *a, size_t len, unsigned bits)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (bits >= 8) {
            bits -= 8;
        } else {
            a[i] &= (unsigned char)(0xff << (8 - bits));
            bits = 0;
        }
    }
}

int wf_acl_add(struct wf_acl *acl, const char *opt, const char *arg, char *err, size_t errlen)
{
    struct wf_acl_entry e, *grown;
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(arg, '/');
    size_t hlen = slash ? (size_t)(slash - arg) : strlen(arg);
    unsigned long bits;

    memset(&e, 0, sizeof e);
    if (hlen == 0 || hlen >= sizeof host) {
        snprintf(err, errlen, "%s: '%s' is not an IPv4 or IPv6 address", opt, arg);
        return -1;
    }
    memcpy(host, arg, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, e.addr) == 1) {
        e.family = AF_INET;
    } else if (inet_pton(AF_INET6, host, e.addr) == 1) {
        e.family = AF_INET6;
    } else {
        snprintf(err, errlen, "%s: '%s' is not an IPv4 or IPv6 address", opt, host);
        return -1;
    }
    e.bits = e.family == AF_INET ? 32 : 128;
    if (slash) {
        char what[64];
        snprintf(what, sizeof what, "%s (prefix length)", opt);
        if (wf_parse_uint(what, slash + 1, 0, e.bits, &bits, err, errlen) < 0)
            return -1;
        e.bits = (unsigned)bits;
    }
    mask(e.addr, e.family == AF_INET ? 4 : 16, e.bits);
    grown = realloc(acl->entries, (acl->n + 1) * sizeof *grown);
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    acl->entries = grown;
    acl->entries[acl->n++] = e;
    return 0;
}

int wf_acl_add_list(struct wf_acl *acl, const char *opt, const char *list, char *err, size_t errlen)
{
    const char *p = list;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char one[128];

        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len >= sizeof one) {
            snprintf(err, errlen, "%s: an entry of %zu characters is not an address", opt, len);
            return -1;
        }
        if (len) {
            memcpy(one, p, len);
            one[len] = '\0';
            if (wf_acl_add(acl, opt, one, err, errlen) < 0)
                return -1;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, full) != 0)
        return 0;
    return rest == 0 || ((a[full] ^ b[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

int wf_acl_allows(const struct wf_acl *acl, const struct sockaddr *sa, socklen_t len)
{
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    const unsigned char *v4 = NULL, *v6 = NULL;
    size_t i;

    if (!acl || acl->n == 0)
        return 1;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        v4 = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        v6 = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (memcmp(v6, v4mapped, sizeof v4mapped) == 0)
            v4 = v6 + 12;
    } else {
        return 0;
    }
    for (i = 0; i < acl->n; i++) {
        const struct wf_acl_entry *e = &acl->entries[i];
        if (e->family == AF_INET && v4 && prefix_equal(v4, e->addr, e->bits))
            return 1;
        if (e->family == AF_INET6 && v6 && prefix_equal(v6, e->addr, e->bits))
            return 1;
    }
    return 0;
}

void wf_acl_format_peer(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
    const void *a = NULL;

    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
        a = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
        a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!a || !inet_ntop(sa->sa_family, a, buf, (socklen_t)buflen))
        snprintf(buf, buflen, "an unknown address");
}

void wf_acl_free(struct wf_acl *acl)
{
    free(acl->entries);
    acl->entries = NULL;
    acl->n = 0;
}
