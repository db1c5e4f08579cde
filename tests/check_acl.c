/*
 * check_acl.c - unit tests of who may connect (src/acl.h): --allow-from
 * entries, the FCGI_WEB_SERVER_ADDRS list, and matching IPv4, IPv6 and
 * IPv4-mapped IPv6 peers.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "check_suites.h"

static char err[256];

static int allows(const struct wf_acl *acl, const char *addr)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;

    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, addr, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        return wf_acl_allows(acl, (struct sockaddr *)&v4, sizeof v4);
    }
    ck_assert_msg(inet_pton(AF_INET6, addr, &v6.sin6_addr) == 1, "bad test address %s", addr);
    v6.sin6_family = AF_INET6;
    return wf_acl_allows(acl, (struct sockaddr *)&v6, sizeof v6);
}

START_TEST(acl_empty_allows_all)
{
    struct wf_acl acl = { NULL, 0 };

    ck_assert(allows(&acl, "192.0.2.1"));
    ck_assert(allows(&acl, "2001:db8::1"));
    ck_assert(allows(NULL, "127.0.0.1"));
}
END_TEST

START_TEST(acl_ipv4_prefixes)
{
    struct wf_acl acl = { NULL, 0 };

    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "10.0.0.0/8", err, sizeof err), 0);
    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "192.0.2.7", err, sizeof err), 0);
    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "198.51.100.130/25", err, sizeof err), 0);
    ck_assert(allows(&acl, "10.1.2.3"));
    ck_assert(allows(&acl, "10.255.255.255"));
    ck_assert(!allows(&acl, "11.0.0.0"));
    ck_assert(allows(&acl, "192.0.2.7"));
    ck_assert(!allows(&acl, "192.0.2.8"));
    ck_assert(allows(&acl, "198.51.100.128"));   /* host bits of the entry masked off */
    ck_assert(allows(&acl, "198.51.100.255"));
    ck_assert(!allows(&acl, "198.51.100.127"));
    /* IPv4 peers seen on a dual-stack socket. */
    ck_assert(allows(&acl, "::ffff:10.9.8.7"));
    ck_assert(!allows(&acl, "::ffff:11.9.8.7"));
    ck_assert(!allows(&acl, "2001:db8::1"));
    wf_acl_free(&acl);
}
END_TEST

START_TEST(acl_ipv6_prefixes)
{
    struct wf_acl acl = { NULL, 0 };

    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "2001:db8:aa::/48", err, sizeof err), 0);
    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "::1", err, sizeof err), 0);
    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "fe80::/3", err, sizeof err), 0);
    ck_assert(allows(&acl, "2001:db8:aa::1"));
    ck_assert(allows(&acl, "2001:db8:aa:ffff::1"));
    ck_assert(!allows(&acl, "2001:db8:ab::1"));
    ck_assert(allows(&acl, "::1"));
    ck_assert(!allows(&acl, "::2"));
    ck_assert(allows(&acl, "ffff::1"));          /* /3: e000::/3 after masking */
    ck_assert(!allows(&acl, "127.0.0.1"));
    wf_acl_free(&acl);
}
END_TEST

START_TEST(acl_zero_prefix)
{
    struct wf_acl acl = { NULL, 0 };

    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "0.0.0.0/0", err, sizeof err), 0);
    ck_assert(allows(&acl, "203.0.113.9"));
    ck_assert(allows(&acl, "::ffff:203.0.113.9"));
    ck_assert(!allows(&acl, "2001:db8::9"));
    wf_acl_free(&acl);
}
END_TEST

START_TEST(acl_bad_entries)
{
    static const char *const bad[] = {
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0.0/-1", "10.0.0.0/8x",
        "localhost", "10.0.0", "10.0.0.256", "1.2.3.4 ", "::1::2", "[::1]",
        "1234567890123456789012345678901234567890123456789012345",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct wf_acl acl = { NULL, 0 };
        err[0] = '\0';
        ck_assert_msg(wf_acl_add(&acl, "--allow-from", bad[i], err, sizeof err) == -1,
                      "'%s' accepted", bad[i]);
        ck_assert_msg(strstr(err, "--allow-from") != NULL, "'%s': message %s", bad[i], err);
        ck_assert_uint_eq(acl.n, 0);
        wf_acl_free(&acl);
    }
}
END_TEST

START_TEST(acl_env_list)
{
    struct wf_acl acl = { NULL, 0 };

    ck_assert_int_eq(wf_acl_add_list(&acl, "FCGI_WEB_SERVER_ADDRS", " 127.0.0.1, 192.0.2.1 ,,::1",
                                     err, sizeof err), 0);
    ck_assert_uint_eq(acl.n, 3);
    ck_assert(allows(&acl, "127.0.0.1"));
    ck_assert(allows(&acl, "192.0.2.1"));
    ck_assert(allows(&acl, "::1"));
    ck_assert(!allows(&acl, "127.0.0.2"));
    wf_acl_free(&acl);
    ck_assert_int_eq(wf_acl_add_list(&acl, "FCGI_WEB_SERVER_ADDRS", "127.0.0.1,nope", err, sizeof err), -1);
    ck_assert(strstr(err, "FCGI_WEB_SERVER_ADDRS") && strstr(err, "nope"));
    wf_acl_free(&acl);
}
END_TEST

START_TEST(acl_unknown_family_refused)
{
    struct wf_acl acl = { NULL, 0 };
    struct sockaddr sa;

    ck_assert_int_eq(wf_acl_add(&acl, "--allow-from", "0.0.0.0/0", err, sizeof err), 0);
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    ck_assert(!wf_acl_allows(&acl, &sa, sizeof sa));
    wf_acl_free(&acl);
}
END_TEST

Suite *suite_acl(void)
{
    Suite *s = suite_create("acl");
    TCase *t = tcase_create("acl");

    tcase_add_test(t, acl_empty_allows_all);
    tcase_add_test(t, acl_ipv4_prefixes);
    tcase_add_test(t, acl_ipv6_prefixes);
    tcase_add_test(t, acl_zero_prefix);
    tcase_add_test(t, acl_bad_entries);
    tcase_add_test(t, acl_env_list);
    tcase_add_test(t, acl_unknown_family_refused);
    suite_add_tcase(s, t);
    return s;
}
