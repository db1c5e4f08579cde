/*
 * acl.h - who may connect to a TCP socket: --allow-from ADDR[/BITS] and the
 * FCGI_WEB_SERVER_ADDRS list that libfcgi and flup read.
 *
 * Pure code: parsing and matching, no I/O.  An IPv4 entry also matches the
 * same address seen as IPv4-mapped IPv6 (::ffff:a.b.c.d), as a dual-stack
 * socket reports IPv4 peers.
 */
#ifndef WF_ACL_H
#define WF_ACL_H

#include <stddef.h>
#include <sys/socket.h>

struct wf_acl_entry {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* network byte order, masked to bits */
    unsigned bits;              /* prefix length */
};

struct wf_acl {
    struct wf_acl_entry *entries;
    size_t n;
};

/* Adds "ADDR" or "ADDR/BITS" (IPv4 or IPv6, no host names).  0, or -1 with
 * one line in err naming opt. */
int wf_acl_add(struct wf_acl *acl, const char *opt, const char *arg, char *err, size_t errlen);

/* Adds each entry of a comma-separated list (FCGI_WEB_SERVER_ADDRS; blanks
 * around entries ignored).  0, or -1 with err. */
int wf_acl_add_list(struct wf_acl *acl, const char *opt, const char *list, char *err, size_t errlen);

/* Whether the peer address sa may connect.  An empty list allows all. */
int wf_acl_allows(const struct wf_acl *acl, const struct sockaddr *sa, socklen_t len);

/* Writes a printable address (without port) into buf. */
void wf_acl_format_peer(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

void wf_acl_free(struct wf_acl *acl);

#endif
