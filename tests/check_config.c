/*
 * check_config.c - unit tests of the command line (src/config.h): numbers,
 * modes, socket addresses, the APP spec, whole argv arrays, and --config
 * files merged under the command line.
 *
 * Each failure must return -1 (or WF_CONFIG_ERROR) and leave one line in
 * err; each success must leave err alone and produce exactly the parsed
 * value.  Outputs are pre-filled with a sentinel so a function that fails
 * but writes anyway is caught.
 */
#include "autoconfig.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "config.h"

/* A mutable, NULL-terminated argv (getopt_long permutes it). */
#define ARGV(...) ((char *[]){ "wsgi-fcgi", __VA_ARGS__, NULL })

static char err[512];

/* Larger than the 1 MiB a --config file may have. */
#define CONFIG_TEST_BIG (1024 * 1024 + 1)

static int argc_of(char **argv)
{
    int n = 0;

    while (argv[n])
        n++;
    return n;
}

static enum wf_config_result parse(struct wf_config *cfg, char **argv)
{
    err[0] = '\0';
    return wf_config_parse(cfg, argc_of(argv), argv, err, sizeof err);
}

/* argv must be rejected, with a message containing needle. */
static void parse_bad(char **argv, const char *needle)
{
    struct wf_config cfg;
    enum wf_config_result r = parse(&cfg, argv);

    ck_assert_msg(r == WF_CONFIG_ERROR, "accepted %s ... (result %d)", argv[1], (int)r);
    ck_assert_msg(err[0] != '\0', "no message for %s", argv[1]);
    ck_assert_msg(strchr(err, '\n') == NULL, "message is not one line: %s", err);
    if (needle)
        ck_assert_msg(strstr(err, needle) != NULL, "message '%s' does not mention '%s'", err, needle);
    wf_config_free(&cfg);
}

/* stdout goes to /dev/null: --help and --version print there. */
static void quiet_stdout(void)
{
    int fd = open("/dev/null", O_WRONLY);

    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    ck_assert_int_ge(dup2(fd, 1), 0);
    close(fd);
}

/* ---- wf_parse_uint ------------------------------------------------------------ */

static int uint_of(const char *arg, unsigned long min, unsigned long max, unsigned long *out)
{
    err[0] = '\0';
    *out = 12345;
    return wf_parse_uint("--opt", arg, min, max, out, err, sizeof err);
}

static void uint_bad(const char *arg, unsigned long min, unsigned long max)
{
    unsigned long v;

    ck_assert_msg(uint_of(arg, min, max, &v) == -1, "'%s' accepted as %lu", arg, v);
    ck_assert_msg(v == 12345, "'%s': output written on failure", arg);
    ck_assert_msg(strstr(err, "--opt") != NULL, "'%s': message does not name the option: %s", arg, err);
}

START_TEST(uint_valid)
{
    unsigned long v;

    ck_assert_int_eq(uint_of("0", 0, 10, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(uint_of("7", 0, 10, &v), 0);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(uint_of("10", 0, 10, &v), 0);
    ck_assert_uint_eq(v, 10);
    ck_assert_int_eq(uint_of("007", 0, 10, &v), 0);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(uint_of("1024", 1, 1024, &v), 0);
    ck_assert_uint_eq(v, 1024);
    ck_assert_int_eq(uint_of("1", 1, 1024, &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(uint_of("18446744073709551615", 0, ULONG_MAX, &v), 0);
    ck_assert_uint_eq(v, ULONG_MAX);
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(uint_garbage)
{
    uint_bad("abc", 0, 100);
    uint_bad("4x", 0, 100);
    uint_bad("x4", 0, 100);
    uint_bad("", 0, 100);
    uint_bad(NULL, 0, 100);
    uint_bad("-1", 0, 100);
    uint_bad("+1", 0, 100);
    uint_bad(" 1", 0, 100);
    uint_bad("1 ", 0, 100);
    uint_bad("0x10", 0, 100);
    uint_bad("1.5", 0, 100);
    uint_bad("1e3", 0, 10000);
}
END_TEST

START_TEST(uint_overflow)
{
    uint_bad("99999999999999999999", 0, ULONG_MAX);
    uint_bad("18446744073709551616", 0, ULONG_MAX);
    uint_bad("99999999999999999999999999999999999999", 0, ULONG_MAX);
    /* A value that wraps to something in range must not sneak through. */
    uint_bad("18446744073709551617", 0, 100);
    uint_bad("36893488147419103232", 0, 100);    /* 2^65: wraps to 0 */
}
END_TEST

START_TEST(uint_bounds)
{
    uint_bad("0", 1, 1024);
    uint_bad("1025", 1, 1024);
    uint_bad("4", 5, 9);
    uint_bad("10", 5, 9);
    uint_bad("100000", 1, 65535);
    uint_bad("65536", 1, 65535);
}
END_TEST

/* ---- wf_parse_mode ------------------------------------------------------------ */

static void mode_ok(const char *arg, unsigned want)
{
    unsigned m = 0xdead;

    err[0] = '\0';
    ck_assert_msg(wf_parse_mode("--socket-mode", arg, &m, err, sizeof err) == 0,
                  "'%s' rejected: %s", arg, err);
    ck_assert_msg(m == want, "'%s' gave %o, not %o", arg, m, want);
}

static void mode_bad(const char *arg)
{
    unsigned m = 0xdead;

    err[0] = '\0';
    ck_assert_msg(wf_parse_mode("--socket-mode", arg, &m, err, sizeof err) == -1,
                  "'%s' accepted as %o", arg, m);
    ck_assert_msg(m == 0xdead, "'%s': output written on failure", arg);
    ck_assert_msg(err[0] != '\0', "'%s': no message", arg);
}

START_TEST(mode_forms)
{
    mode_ok("0660", 0660);
    mode_ok("660", 0660);
    mode_ok("0600", 0600);
    mode_ok("0", 0);
    mode_ok("777", 0777);
    mode_ok("7777", 07777);
    mode_ok("07777", 07777);
    mode_bad("8");
    mode_bad("0668");
    mode_bad("077777");
    mode_bad("10000");
    mode_bad("");
    mode_bad(NULL);
    mode_bad("-660");
    mode_bad("+660");
    mode_bad("0x1b6");
    mode_bad("rw-rw----");
    mode_bad("660 ");
}
END_TEST

/* ---- wf_addr_parse -------------------------------------------------------------- */

static struct wf_addr addr_ok(const char *arg)
{
    struct wf_addr a;

    err[0] = '\0';
    memset(&a, 0x5a, sizeof a);
    ck_assert_msg(wf_addr_parse(arg, &a, err, sizeof err) == 0, "'%s' rejected: %s", arg, err);
    return a;
}

static void addr_bad(const char *arg, const char *needle)
{
    struct wf_addr a;

    err[0] = '\0';
    ck_assert_msg(wf_addr_parse(arg, &a, err, sizeof err) == -1, "'%s' accepted", arg);
    ck_assert_msg(err[0] != '\0', "'%s': no message", arg);
    if (needle)
        ck_assert_msg(strstr(err, needle) != NULL, "'%s': message '%s' lacks '%s'", arg, err, needle);
}

START_TEST(addr_unix)
{
    struct wf_addr a = addr_ok("unix:/run/app.sock");

    ck_assert_int_eq(a.kind, WF_ADDR_UNIX);
    ck_assert_str_eq(a.path, "/run/app.sock");

    a = addr_ok("unix:relative.sock");     /* unix: needs no slash */
    ck_assert_int_eq(a.kind, WF_ADDR_UNIX);
    ck_assert_str_eq(a.path, "relative.sock");

    a = addr_ok("/tmp/x.sock");
    ck_assert_int_eq(a.kind, WF_ADDR_UNIX);
    ck_assert_str_eq(a.path, "/tmp/x.sock");

    a = addr_ok("./x.sock");
    ck_assert_int_eq(a.kind, WF_ADDR_UNIX);
    ck_assert_str_eq(a.path, "./x.sock");

    a = addr_ok("run/x:80");                /* a '/' makes it a path, colon or not */
    ck_assert_int_eq(a.kind, WF_ADDR_UNIX);
    ck_assert_str_eq(a.path, "run/x:80");

    addr_bad("unix:", NULL);
    addr_bad("", NULL);
    addr_bad(NULL, NULL);
}
END_TEST

START_TEST(addr_unix_path_length)
{
    char arg[300];
    struct wf_addr a;

    /* sun_path holds 107 bytes plus the NUL. */
    memset(arg, 0, sizeof arg);
    arg[0] = '/';
    memset(arg + 1, 'a', 106);
    a = addr_ok(arg);
    ck_assert_uint_eq(strlen(a.path), 107);
    ck_assert_str_eq(a.path, arg);

    arg[107] = 'a';
    addr_bad(arg, NULL);

    snprintf(arg, sizeof arg, "unix:/%0200d", 0);
    addr_bad(arg, NULL);
}
END_TEST

START_TEST(addr_tcp)
{
    struct wf_addr a = addr_ok("127.0.0.1:9000");

    ck_assert_int_eq(a.kind, WF_ADDR_TCP);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_str_eq(a.port, "9000");

    a = addr_ok("localhost:1");
    ck_assert_int_eq(a.kind, WF_ADDR_TCP);
    ck_assert_str_eq(a.host, "localhost");
    ck_assert_str_eq(a.port, "1");

    a = addr_ok("example.org:65535");
    ck_assert_str_eq(a.host, "example.org");
    ck_assert_str_eq(a.port, "65535");

    a = addr_ok(":9000");
    ck_assert_int_eq(a.kind, WF_ADDR_TCP);
    ck_assert_str_eq(a.host, "");
    ck_assert_str_eq(a.port, "9000");

    a = addr_ok("[::1]:8080");
    ck_assert_int_eq(a.kind, WF_ADDR_TCP);
    ck_assert_str_eq(a.host, "::1");
    ck_assert_str_eq(a.port, "8080");

    a = addr_ok("[fe80::1:2]:443");
    ck_assert_str_eq(a.host, "fe80::1:2");
    ck_assert_str_eq(a.port, "443");
}
END_TEST

START_TEST(addr_tcp_bad)
{
    addr_bad("host", NULL);
    addr_bad("host:", NULL);
    addr_bad("host:0", NULL);
    addr_bad("host:65536", NULL);
    addr_bad("host:99999999999999999999", NULL);
    addr_bad("host:-1", NULL);
    addr_bad("host:80x", NULL);
    addr_bad("host:http", NULL);
    addr_bad(":", NULL);
    addr_bad(":0", NULL);
    addr_bad("[::1]", NULL);
    addr_bad("[::1]:", NULL);
    addr_bad("[::1]80", NULL);
    addr_bad("[]:80", NULL);
    addr_bad("[::1:80", NULL);
    addr_bad("::1:80", NULL);
    addr_bad("::1", NULL);
    /* Found by tests/fuzz/fuzz_config (tests/data/fuzz/config/): hosts that
     * wf_addr_format printed as another address, or as none. */
    addr_bad("[[]:5", "host");
    addr_bad("[a]b]:5", NULL);
    addr_bad("[a/b]:80", "host");
    addr_bad("a]b:80", "host");
    addr_bad("[x:80", NULL);
}
END_TEST

START_TEST(addr_format_roundtrip)
{
    static const char *const forms[][2] = {
        { "unix:/run/a.sock", "unix:/run/a.sock" },
        { "/run/a.sock", "unix:/run/a.sock" },
        { "127.0.0.1:9000", "127.0.0.1:9000" },
        { "[::1]:9000", "[::1]:9000" },
        /* Found by tests/fuzz/fuzz_config (tests/data/fuzz/config/): the
         * TCP host "unix" printed as "unix:9", a unix socket path. */
        { "[unix]:9", "[unix]:9" },
        { "[localhost]:9", "localhost:9" },
    };
    size_t i;

    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct wf_addr a = addr_ok(forms[i][0]), b;
        char buf[400], err[256];
        wf_addr_format(&a, buf, sizeof buf);
        ck_assert_str_eq(buf, forms[i][1]);
        ck_assert_int_eq(wf_addr_parse(buf, &b, err, sizeof err), 0);
        ck_assert_int_eq(b.kind, a.kind);
        ck_assert_str_eq(b.host, a.host);
        ck_assert_str_eq(b.path, a.path);
    }
}
END_TEST

/* ---- wf_app_spec_parse ----------------------------------------------------------- */

static void spec_ok(const char *arg, const char *target, int is_file, const char *name, int factory)
{
    struct wf_app_spec s;

    err[0] = '\0';
    ck_assert_msg(wf_app_spec_parse(arg, "application", &s, err, sizeof err) == 0,
                  "'%s' rejected: %s", arg, err);
    ck_assert_str_eq(s.target, target);
    ck_assert_msg(s.is_file == is_file, "'%s': is_file %d", arg, s.is_file);
    ck_assert_str_eq(s.name, name);
    ck_assert_msg(s.factory == factory, "'%s': factory %d", arg, s.factory);
    wf_app_spec_free(&s);
    ck_assert_ptr_null(s.target);
    ck_assert_ptr_null(s.name);
}

static void spec_bad(const char *arg)
{
    struct wf_app_spec s;

    err[0] = '\0';
    ck_assert_msg(wf_app_spec_parse(arg, "application", &s, err, sizeof err) == -1,
                  "'%s' accepted", arg);
    ck_assert_msg(err[0] != '\0', "'%s': no message", arg);
    wf_app_spec_free(&s);   /* must be safe after a failure */
}

START_TEST(spec_forms)
{
    spec_ok("app.py", "app.py", 1, "application", 0);
    spec_ok("dir/file.py:NAME", "dir/file.py", 1, "NAME", 0);
    spec_ok("/srv/www/wsgi.py:app", "/srv/www/wsgi.py", 1, "app", 0);
    spec_ok("dir/file.py:make()", "dir/file.py", 1, "make", 1);
    spec_ok("pkg.mod", "pkg.mod", 0, "application", 0);
    spec_ok("mod", "mod", 0, "application", 0);
    spec_ok("pkg.mod:NAME", "pkg.mod", 0, "NAME", 0);
    spec_ok("pkg.mod:factory()", "pkg.mod", 0, "factory", 1);
    spec_ok("pkg.mod:obj.attr.app", "pkg.mod", 0, "obj.attr.app", 0);
    spec_ok("pkg.mod:_private1", "pkg.mod", 0, "_private1", 0);
    spec_ok("pkg.mod:obj.make()", "pkg.mod", 0, "obj.make", 1);
}
END_TEST

START_TEST(spec_default_name)
{
    struct wf_app_spec s;

    ck_assert_int_eq(wf_app_spec_parse("pkg.mod", "other", &s, err, sizeof err), 0);
    ck_assert_str_eq(s.name, "other");
    ck_assert_int_eq(s.factory, 0);
    wf_app_spec_free(&s);
    ck_assert_int_eq(wf_app_spec_parse("pkg.mod:given", "other", &s, err, sizeof err), 0);
    ck_assert_str_eq(s.name, "given");
    wf_app_spec_free(&s);
}
END_TEST

START_TEST(spec_bad_forms)
{
    spec_bad("");
    spec_bad(NULL);
    spec_bad("mod:1x");
    spec_bad("mod:");
    spec_bad(":x");
    spec_bad("a b");
    spec_bad("mod:a b");
    spec_bad("mod:a.");
    spec_bad("mod:.a");
    spec_bad("mod:a..b");
    spec_bad("mod:()");
    spec_bad("mod:f(x)");
    spec_bad("mod:f(");
    spec_bad("pkg..mod");
    spec_bad(".mod");
    spec_bad("mod.");
    spec_bad("1mod");
    spec_bad("mod-name");
    spec_bad("file.py:1x");
}
END_TEST

/* ---- wf_config_parse ------------------------------------------------------------- */

START_TEST(cfg_defaults)
{
    struct wf_config cfg;

    ck_assert_int_eq(parse(&cfg, ARGV("app.py")), WF_CONFIG_RUN);
    ck_assert_str_eq(cfg.app_arg, "app.py");
    ck_assert_str_eq(cfg.app.target, "app.py");
    ck_assert_int_eq(cfg.app.is_file, 1);
    ck_assert_str_eq(cfg.app.name, "application");
    ck_assert_str_eq(cfg.callable, "application");
    ck_assert_uint_eq(cfg.socket_mode, 0660);
    ck_assert_int_eq(cfg.socket_mode_set, 0);
    ck_assert_uint_eq(cfg.backlog, 1024);
    ck_assert_uint_eq(cfg.threads, 1);
    ck_assert_uint_eq(cfg.processes, 1);
    ck_assert_int_eq(cfg.fd, -1);
    ck_assert_ptr_null(cfg.socket_arg);
    ck_assert_int_eq(cfg.addr.kind, WF_ADDR_NONE);
    ck_assert_int_eq(cfg.cgi, 0);
    ck_assert_int_eq(cfg.protocol, WF_PROTOCOL_FASTCGI);
    ck_assert_int_eq(cfg.check, 0);
    ck_assert_uint_eq(cfg.max_requests, 0);
    ck_assert_uint_eq(cfg.timeout, 0);
    ck_assert_ptr_null(cfg.url_scheme);
    ck_assert_ptr_null(cfg.script_name);
    ck_assert_ptr_null(cfg.socket_owner);
    ck_assert_uint_eq(cfg.pythonpath.n, 0);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_every_option)
{
    struct wf_config cfg;
    char **argv = ARGV("-s", "unix:/tmp/a.sock", "--socket-mode", "0600", "--socket-owner", "www:www",
                       "--backlog", "16", "--scgi", "--max-header-size", "4096", "-t", "8",
                       "-p", "4", "--max-requests", "1000", "--timeout", "30",
                       "--graceful-timeout", "5", "--pidfile", "/tmp/p.pid", "--user", "nobody",
                       "--group", "nogroup", "--access-log", "-", "--log-file", "/tmp/log",
                       "--stats", "127.0.0.1:9191", "--chdir", "/srv", "--pythonpath", "/a",
                       "--pythonpath", "/b", "--virtualenv", "/venv", "--callable", "app",
                       "--url-scheme", "https", "--script-name", "/mount", "--check", "pkg.mod");

    ck_assert_msg(parse(&cfg, argv) == WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_str_eq(cfg.socket_arg, "unix:/tmp/a.sock");
    ck_assert_int_eq(cfg.addr.kind, WF_ADDR_UNIX);
    ck_assert_str_eq(cfg.addr.path, "/tmp/a.sock");
    ck_assert_uint_eq(cfg.socket_mode, 0600);
    ck_assert_int_eq(cfg.socket_mode_set, 1);
    ck_assert_str_eq(cfg.socket_owner, "www:www");
    ck_assert_uint_eq(cfg.backlog, 16);
    ck_assert_int_eq(cfg.protocol, WF_PROTOCOL_SCGI);
    ck_assert_uint_eq(cfg.max_header, 4096);
    ck_assert_uint_eq(cfg.threads, 8);
    ck_assert_uint_eq(cfg.processes, 4);
    ck_assert_uint_eq(cfg.max_requests, 1000);
    ck_assert_uint_eq(cfg.timeout, 30);
    ck_assert_uint_eq(cfg.graceful_timeout, 5);
    ck_assert_str_eq(cfg.pidfile, "/tmp/p.pid");
    ck_assert_str_eq(cfg.user, "nobody");
    ck_assert_str_eq(cfg.group, "nogroup");
    ck_assert_str_eq(cfg.access_log, "-");
    ck_assert_str_eq(cfg.log_file, "/tmp/log");
    ck_assert_str_eq(cfg.stats_arg, "127.0.0.1:9191");
    ck_assert_int_eq(cfg.stats_addr.kind, WF_ADDR_TCP);
    ck_assert_str_eq(cfg.stats_addr.port, "9191");
    ck_assert_str_eq(cfg.chdir, "/srv");
    ck_assert_uint_eq(cfg.pythonpath.n, 2);
    ck_assert_str_eq(cfg.pythonpath.v[0], "/a");
    ck_assert_str_eq(cfg.pythonpath.v[1], "/b");
    ck_assert_str_eq(cfg.virtualenv, "/venv");
    ck_assert_str_eq(cfg.callable, "app");
    ck_assert_str_eq(cfg.url_scheme, "https");
    ck_assert_str_eq(cfg.script_name, "/mount");
    ck_assert_int_eq(cfg.check, 1);
    /* --callable is the default NAME of the APP spec. */
    ck_assert_str_eq(cfg.app.target, "pkg.mod");
    ck_assert_str_eq(cfg.app.name, "app");
    ck_assert_int_eq(cfg.app.is_file, 0);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_short_and_joined_forms)
{
    struct wf_config cfg;

    ck_assert_msg(parse(&cfg, ARGV("-s127.0.0.1:9000", "-t4", "--threads=2", "app.py:x")) ==
                  WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_int_eq(cfg.addr.kind, WF_ADDR_TCP);
    ck_assert_str_eq(cfg.addr.port, "9000");
    ck_assert_uint_eq(cfg.threads, 2);          /* the last one wins */
    ck_assert_str_eq(cfg.app.name, "x");
    wf_config_free(&cfg);

    /* Options after APP are still options (GNU argument permutation). */
    ck_assert_msg(parse(&cfg, ARGV("app.py", "--threads", "3")) == WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_uint_eq(cfg.threads, 3);
    ck_assert_str_eq(cfg.app_arg, "app.py");
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_fd_and_cgi)
{
    struct wf_config cfg;

    ck_assert_msg(parse(&cfg, ARGV("--fd", "0", "app.py")) == WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_int_eq(cfg.fd, 0);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--fd", "7", "app.py")) == WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_int_eq(cfg.fd, 7);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--cgi", "app.py")) == WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_int_eq(cfg.cgi, 1);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_errors)
{
    parse_bad(ARGV("--no-such-option", "app.py"), "no-such-option");
    parse_bad(ARGV("-x", "app.py"), "-x");
    parse_bad(ARGV("app.py", "-s"), NULL);                  /* missing argument */
    parse_bad(ARGV("app.py", "--threads"), NULL);
    parse_bad(ARGV("-t"), NULL);
    parse_bad(ARGV("-s", "unix:/tmp/a.sock"), "APP");       /* missing APP */
    parse_bad(ARGV("app.py", "other.py"), "other.py");     /* extra argument */
    parse_bad(ARGV("-s", "unix:/tmp/a.sock", "--fd", "3", "app.py"), NULL);
    parse_bad(ARGV("--cgi", "-s", "unix:/tmp/a.sock", "app.py"), NULL);
    parse_bad(ARGV("--cgi", "--fd", "3", "app.py"), NULL);
    parse_bad(ARGV("--cgi", "--scgi", "app.py"), NULL);
    parse_bad(ARGV("--socket-mode", "0600", "app.py"), NULL);
    parse_bad(ARGV("-s", "127.0.0.1:9000", "--socket-mode", "0600", "app.py"), NULL);
    parse_bad(ARGV("-s", "127.0.0.1:9000", "--socket-owner", "www", "app.py"), NULL);
    parse_bad(ARGV("-s", "unix:/tmp/a.sock", "--socket-mode", "999", "app.py"), NULL);
    parse_bad(ARGV("--threads", "0", "app.py"), "--threads");
    parse_bad(ARGV("--threads", "1025", "app.py"), "--threads");
    parse_bad(ARGV("--threads", "4x", "app.py"), "--threads");
    parse_bad(ARGV("-t", "-1", "app.py"), NULL);
    parse_bad(ARGV("-p", "0", "app.py"), NULL);
    parse_bad(ARGV("--backlog", "0", "app.py"), NULL);
    parse_bad(ARGV("--fd", "x", "app.py"), NULL);
    parse_bad(ARGV("--fd", "-1", "app.py"), NULL);
    parse_bad(ARGV("--max-requests", "0x10", "app.py"), NULL);
    parse_bad(ARGV("--timeout", "99999999999999999999", "app.py"), NULL);
    parse_bad(ARGV("--url-scheme", "ftp", "app.py"), "ftp");
    parse_bad(ARGV("--script-name", "app", "app.py"), "--script-name");
    parse_bad(ARGV("--callable", "1x", "app.py"), NULL);
    parse_bad(ARGV("-s", "host", "app.py"), NULL);
    parse_bad(ARGV("-s", "host:0", "app.py"), NULL);
    parse_bad(ARGV("--stats", "nowhere", "app.py"), NULL);
    parse_bad(ARGV("mod:1x"), NULL);
    parse_bad(ARGV("--max-body", "0", "app.py"), "--max-body");
    parse_bad(ARGV("--max-body", "1k", "app.py"), "--max-body");
    parse_bad(ARGV("--max-body", "-5", "app.py"), "--max-body");
    parse_bad(ARGV("--max-rss", "0", "app.py"), "--max-rss");
    parse_bad(ARGV("--max-rss", "1048577", "app.py"), "--max-rss");
    parse_bad(ARGV("--max-rss", "256M", "app.py"), "--max-rss");
}
END_TEST

START_TEST(cfg_script_name_forms)
{
    struct wf_config cfg;

    ck_assert_msg(parse(&cfg, ARGV("--script-name", "/app", "app.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_str_eq(cfg.script_name, "/app");
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--script-name", "", "app.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_str_eq(cfg.script_name, "");
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--url-scheme", "http", "app.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_str_eq(cfg.url_scheme, "http");
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_limits)
{
    struct wf_config cfg;

    ck_assert_int_eq(parse(&cfg, ARGV("app.py")), WF_CONFIG_RUN);
    ck_assert_uint_eq(cfg.max_body, 0);
    ck_assert_uint_eq(cfg.max_rss, 0);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--max-body", "1048576", "app.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_uint_eq(cfg.max_body, 1048576);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--max-body", "1", "app.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_uint_eq(cfg.max_body, 1);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--max-rss", "256", "app.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_uint_eq(cfg.max_rss, 256);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_preload_reload)
{
    struct wf_config cfg;

    ck_assert_int_eq(parse(&cfg, ARGV("app.py")), WF_CONFIG_RUN);
    ck_assert_int_eq(cfg.preload, 0);
    ck_assert_int_eq(cfg.reload, 0);
    ck_assert_int_eq(cfg.reload_mode, WF_RELOAD_GENERATION);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--preload", "--reload", "--reload-mode", "chain", "app.py"))
                  == WF_CONFIG_RUN, "%s", err);
    ck_assert_int_eq(cfg.preload, 1);
    ck_assert_int_eq(cfg.reload, 1);
    ck_assert_int_eq(cfg.reload_mode, WF_RELOAD_CHAIN);
    wf_config_free(&cfg);
    ck_assert_msg(parse(&cfg, ARGV("--reload-mode", "generation", "app.py")) == WF_CONFIG_RUN,
                  "%s", err);
    ck_assert_int_eq(cfg.reload_mode, WF_RELOAD_GENERATION);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--reload-mode", "Chain", "app.py")), WF_CONFIG_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "--reload-mode"));
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--reload-mode", "app.py")), WF_CONFIG_ERROR);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--cgi", "--preload", "app.py")), WF_CONFIG_ERROR);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--cgi", "--reload", "app.py")), WF_CONFIG_ERROR);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_threads_bounds)
{
    struct wf_config cfg;

    ck_assert_int_eq(parse(&cfg, ARGV("--threads", "1", "app.py")), WF_CONFIG_RUN);
    ck_assert_uint_eq(cfg.threads, 1);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--threads", "1024", "app.py")), WF_CONFIG_RUN);
    ck_assert_uint_eq(cfg.threads, 1024);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_help_version)
{
    struct wf_config cfg;

    quiet_stdout();
    ck_assert_int_eq(parse(&cfg, ARGV("-h")), WF_CONFIG_EXIT_OK);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--help")), WF_CONFIG_EXIT_OK);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("-V")), WF_CONFIG_EXIT_OK);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--version")), WF_CONFIG_EXIT_OK);
    wf_config_free(&cfg);
    /* No APP needed, and what follows is not looked at. */
    ck_assert_int_eq(parse(&cfg, ARGV("--help", "a.py", "b.py")), WF_CONFIG_EXIT_OK);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_reparse)
{
    /* Parsing twice in one process (getopt state reset between runs). */
    struct wf_config cfg;

    ck_assert_int_eq(parse(&cfg, ARGV("-t", "2", "a.py")), WF_CONFIG_RUN);
    ck_assert_uint_eq(cfg.threads, 2);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("-t", "3", "b.py")), WF_CONFIG_RUN);
    ck_assert_uint_eq(cfg.threads, 3);
    ck_assert_str_eq(cfg.app_arg, "b.py");
    wf_config_free(&cfg);
}
END_TEST

START_TEST(cfg_reparse_after_cluster)
{
    /* Found by tests/fuzz/fuzz_config (tests/data/fuzz/config/): a parse
     * that stopped inside a cluster of short options ("-hV", an unknown
     * "-xy") left getopt pointing into that argv, and the next parse went
     * on reading it. */
    struct wf_config cfg;

    quiet_stdout();
    ck_assert_int_eq(parse(&cfg, ARGV("-\x0e`")), WF_CONFIG_ERROR);
    ck_assert_msg(strstr(err, "-\x0e") != NULL, "%s", err);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("-\x0e`")), WF_CONFIG_ERROR);
    ck_assert_msg(strstr(err, "-\x0e") != NULL, "the second parse says: %s", err);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("-hV")), WF_CONFIG_EXIT_OK);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("-t", "2", "a.py")), WF_CONFIG_RUN);
    ck_assert_uint_eq(cfg.threads, 2);
    wf_config_free(&cfg);
}
END_TEST

/* ---- --config FILE ----------------------------------------------------------- */

static char conf_path[256];

/* Writes len bytes of text to a new temp file (conf_path). */
static const char *write_conf_n(const char *text, size_t len)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(conf_path, sizeof conf_path, "%s/wf-check-conf.XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(conf_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return conf_path;
}

static const char *write_conf(const char *text)
{
    return write_conf_n(text, strlen(text));
}

/* The file text must be rejected with a message naming FILE:LINE and
 * containing needle. */
static void conf_bad(const char *text, unsigned line, const char *needle)
{
    char where[300];
    const char *path = write_conf(text);

    snprintf(where, sizeof where, "%s:%u: ", path, line);
    parse_bad(ARGV("--config", (char *)path, "app.py"), where);
    if (needle) {
        struct wf_config again;
        ck_assert_int_eq(parse(&again, ARGV("--config", (char *)path, "app.py")), WF_CONFIG_ERROR);
        ck_assert_msg(strstr(err, needle) != NULL, "'%s' does not mention '%s'", err, needle);
        wf_config_free(&again);
    }
    unlink(path);
}

START_TEST(file_basic)
{
    struct wf_config cfg;
    const char *path = write_conf(
        "# a comment\n"
        "\n"
        "   # an indented comment\n"
        "app = pkg.mod:make()\n"
        "socket = unix:/run/x.sock\n"
        "  processes=3  \n"
        "\tthreads =\t4\r\n"
        "max_requests = 500\n"
        "log-to-server = yes\n"
        "pythonpath = /a\n"
        "pythonpath = /b b\n"
        "script-name =\n"
        "timeout = 7");                  /* no final newline */

    ck_assert_msg(parse(&cfg, ARGV("--config", (char *)path)) == WF_CONFIG_RUN, "rejected: %s", err);
    ck_assert_str_eq(cfg.app_arg, "pkg.mod:make()");
    ck_assert_str_eq(cfg.app.target, "pkg.mod");
    ck_assert_int_eq(cfg.app.factory, 1);
    ck_assert_str_eq(cfg.socket_arg, "unix:/run/x.sock");
    ck_assert_int_eq(cfg.addr.kind, WF_ADDR_UNIX);
    ck_assert_uint_eq(cfg.processes, 3);
    ck_assert_uint_eq(cfg.threads, 4);
    ck_assert_uint_eq(cfg.max_requests, 500);
    ck_assert_int_eq(cfg.log_to_server, 1);
    ck_assert_uint_eq(cfg.pythonpath.n, 2);
    ck_assert_str_eq(cfg.pythonpath.v[0], "/a");
    ck_assert_str_eq(cfg.pythonpath.v[1], "/b b");
    ck_assert_uint_eq(cfg.pythonpath.origin[0], 10);
    ck_assert_uint_eq(cfg.pythonpath.origin[1], 11);
    ck_assert_str_eq(cfg.script_name, "");
    ck_assert_uint_eq(cfg.timeout, 7);
    ck_assert_uint_eq(cfg.graceful_timeout, 30);     /* untouched default */
    ck_assert_str_eq(cfg.config_file, path);
    wf_config_free(&cfg);
    unlink(path);
}
END_TEST

START_TEST(file_flags)
{
    static const char *const yes[] = { "true", "TRUE", "yes", "Yes", "on", "1" };
    static const char *const no[] = { "false", "False", "no", "NO", "off", "0" };
    struct wf_config cfg;
    char text[64];
    size_t i;

    for (i = 0; i < 6; i++) {
        snprintf(text, sizeof text, "scgi = %s\n", yes[i]);
        ck_assert_msg(parse(&cfg, ARGV("--config", (char *)write_conf(text), "a.py")) == WF_CONFIG_RUN,
                      "'%s' rejected: %s", yes[i], err);
        ck_assert_msg(cfg.protocol == WF_PROTOCOL_SCGI, "'%s' is not true", yes[i]);
        wf_config_free(&cfg);
        unlink(conf_path);
        snprintf(text, sizeof text, "scgi = %s\n", no[i]);
        ck_assert_msg(parse(&cfg, ARGV("--config", (char *)write_conf(text), "a.py")) == WF_CONFIG_RUN,
                      "'%s' rejected: %s", no[i], err);
        ck_assert_msg(cfg.protocol == WF_PROTOCOL_FASTCGI, "'%s' is not false", no[i]);
        wf_config_free(&cfg);
        unlink(conf_path);
    }
}
END_TEST

START_TEST(file_cmdline_wins)
{
    struct wf_config cfg;
    const char *path = write_conf("app = file.py\nthreads = 4\nprocesses = 2\n"
                                  "pythonpath = /f1\npythonpath = /f2\ntimeout = 9\n");

    /* Scalars: the command line's value; repeatable: the command line's
     * values replace the file's; APP: the command line's. */
    ck_assert_msg(parse(&cfg, ARGV("-t", "8", "--config", (char *)path, "--pythonpath", "/c1",
                                   "--pythonpath", "/c2", "cmd.py")) == WF_CONFIG_RUN, "%s", err);
    ck_assert_uint_eq(cfg.threads, 8);
    ck_assert_uint_eq(cfg.processes, 2);
    ck_assert_uint_eq(cfg.timeout, 9);
    ck_assert_uint_eq(cfg.pythonpath.n, 2);
    ck_assert_str_eq(cfg.pythonpath.v[0], "/c1");
    ck_assert_str_eq(cfg.pythonpath.v[1], "/c2");
    ck_assert_uint_eq(cfg.pythonpath.origin[0], WF_ORIGIN_CMDLINE);
    ck_assert_str_eq(cfg.app_arg, "cmd.py");
    wf_config_free(&cfg);

    /* Without them on the command line, the file's stay. */
    ck_assert_msg(parse(&cfg, ARGV("--config", (char *)path)) == WF_CONFIG_RUN, "%s", err);
    ck_assert_uint_eq(cfg.threads, 4);
    ck_assert_uint_eq(cfg.pythonpath.n, 2);
    ck_assert_str_eq(cfg.pythonpath.v[1], "/f2");
    ck_assert_str_eq(cfg.app_arg, "file.py");
    wf_config_free(&cfg);

    /* --config=FILE form; a value that is wrong on the command line is an
     * error even though the file's is good. */
    ck_assert_msg(parse(&cfg, ARGV("--config=x", "a.py")) == WF_CONFIG_ERROR, "missing file accepted");
    ck_assert_msg(strstr(err, "--config x") != NULL, "%s", err);
    wf_config_free(&cfg);
    parse_bad(ARGV("--config", (char *)path, "-t", "0"), "--threads");
    /* Cross-option checks run on the merged settings. */
    parse_bad(ARGV("--config", (char *)write_conf("socket = unix:/tmp/s\n"), "--fd", "3", "a.py"),
              "mutually exclusive");
    unlink(conf_path);
    unlink(path);
}
END_TEST

START_TEST(file_errors)
{
    static char big[CONFIG_TEST_BIG];
    struct wf_config cfg;
    const char *path;

    conf_bad("threads = x\n", 1, "--threads");
    conf_bad("# ok\n\nthreads = 0\n", 3, "out of range");
    conf_bad("threads = 99999999999999999999999\n", 1, "--threads");
    conf_bad("threads = 2\nthreads = 3\n", 2, "twice");
    conf_bad("app = a.py\napp = b.py\n", 2, "twice");
    conf_bad("no-such-option = 1\n", 1, "no-such-option");
    conf_bad("threads\n", 1, "name = value");
    conf_bad(" = 4\n", 1, "name");
    conf_bad("--threads = 4\n", 1, "unknown option");
    conf_bad("t = 4\n", 1, "unknown option");            /* long names only */
    conf_bad("config = other.conf\n", 1, "config");
    conf_bad("help = true\n", 1, "help");
    conf_bad("version = true\n", 1, "version");
    conf_bad("cgi = maybe\n", 1, "boolean");
    conf_bad("cgi =\n", 1, "boolean");
    conf_bad("socket = nowhere\n", 1, "nowhere");
    conf_bad("url-scheme = ftp\n", 1, "ftp");
    conf_bad("socket-mode = 0999\n", 1, "octal");
    conf_bad("callable = 1x\n", 1, "callable");
    path = write_conf_n("threads = 2\nprocesses = 2\0\n", 27);
    parse_bad(ARGV("--config", (char *)path, "a.py"), ":2: ");
    unlink(path);
    /* A missing file; a file too large to be a list of options. */
    parse_bad(ARGV("--config", "/nonexistent/wf.conf", "a.py"), "/nonexistent/wf.conf");
    memset(big, '#', sizeof big);
    path = write_conf_n(big, sizeof big);
    parse_bad(ARGV("--config", (char *)path, "a.py"), "larger");
    unlink(path);
    /* --config twice; no APP anywhere. */
    path = write_conf("threads = 2\n");
    parse_bad(ARGV("--config", (char *)path, "--config", (char *)path, "a.py"), "twice");
    parse_bad(ARGV("--config", (char *)path), "app = ");
    ck_assert_int_eq(parse(&cfg, ARGV("--config", (char *)path, "a.py")), WF_CONFIG_RUN);
    wf_config_free(&cfg);
    unlink(path);
}
END_TEST

START_TEST(file_report)
{
    struct wf_config cfg;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    char want[400];
    const char *path = write_conf("app = a.py\nprocesses = 3\nthreads = 2\npythonpath = /p\n");

    ck_assert_msg(parse(&cfg, ARGV("--config", (char *)path, "-t", "5", "--check")) == WF_CONFIG_RUN,
                  "%s", err);
    f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    wf_config_report(&cfg, f);
    fclose(f);
    ck_assert_msg(strstr(buf, "threads = 5 ") && strstr(buf, "(command line)"), "%s", buf);
    snprintf(want, sizeof want, "(%s:2)", path);
    ck_assert_msg(strstr(buf, "processes = 3 ") && strstr(buf, want), "no '%s' in %s", want, buf);
    snprintf(want, sizeof want, "(%s:4)", path);
    ck_assert_msg(strstr(buf, "pythonpath = /p ") && strstr(buf, want), "no '%s' in %s", want, buf);
    ck_assert_msg(strstr(buf, "app = a.py ") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "graceful-timeout = 30 ") && strstr(buf, "(default)"), "%s", buf);
    ck_assert_msg(strstr(buf, "pidfile ") && strstr(buf, "(not set)"), "%s", buf);
    ck_assert_msg(strstr(buf, "help") == NULL, "--help is not a setting: %s", buf);
    free(buf);
    wf_config_free(&cfg);
    unlink(path);
}
END_TEST

/* The connection options of the dispatcher, and --allow-from. */
START_TEST(argv_connection_options)
{
    struct wf_config cfg;

    ck_assert_int_eq(parse(&cfg, ARGV("app.py")), WF_CONFIG_RUN);
    ck_assert_int_eq(cfg.protocol, WF_PROTOCOL_FASTCGI);
    ck_assert_uint_eq(cfg.header_timeout, 30);
    ck_assert_uint_eq(cfg.io_timeout, 120);
    ck_assert_uint_eq(cfg.max_connections, 1024);
    ck_assert_uint_eq(cfg.max_header, 1048576);
    ck_assert_uint_eq(cfg.allow_from.n, 0);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--protocol", "auto", "--header-timeout", "5", "--io-timeout", "7",
                                      "--max-connections", "64", "--allow-from", "10.0.0.0/8",
                                      "--allow-from", "::1", "app.py")), WF_CONFIG_RUN);
    ck_assert_int_eq(cfg.protocol, WF_PROTOCOL_AUTO);
    ck_assert_uint_eq(cfg.header_timeout, 5);
    ck_assert_uint_eq(cfg.io_timeout, 7);
    ck_assert_uint_eq(cfg.max_connections, 64);
    ck_assert_uint_eq(cfg.allow_from.n, 2);
    ck_assert_str_eq(cfg.allow_from.v[1], "::1");
    ck_assert_int_eq(wf_config_build_acl(&cfg, "192.0.2.1", err, sizeof err), 0);
    ck_assert_uint_eq(cfg.acl.n, 3);
    ck_assert_int_eq(wf_config_build_acl(&cfg, "192.0.2.1,x", err, sizeof err), -1);
    wf_config_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGV("--protocol", "scgi", "app.py")), WF_CONFIG_RUN);
    ck_assert_int_eq(cfg.protocol, WF_PROTOCOL_SCGI);
    wf_config_free(&cfg);

    parse_bad(ARGV("--protocol", "http", "app.py"), "--protocol");
    parse_bad(ARGV("--header-timeout", "0", "app.py"), "--header-timeout");
    parse_bad(ARGV("--io-timeout", "1x", "app.py"), "--io-timeout");
    parse_bad(ARGV("--max-connections", "0", "app.py"), "--max-connections");
    parse_bad(ARGV("--allow-from", "10.0.0.0/33", "app.py"), "--allow-from");
    parse_bad(ARGV("--allow-from", "example.org", "app.py"), "--allow-from");
    parse_bad(ARGV("--cgi", "--protocol", "auto", "app.py"), "--cgi");
}
END_TEST

Suite *suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *num = tcase_create("numbers");
    TCase *addr = tcase_create("addr");
    TCase *spec = tcase_create("app_spec");
    TCase *cfg = tcase_create("argv");
    TCase *file = tcase_create("config_file");

    tcase_add_test(num, uint_valid);
    tcase_add_test(num, uint_garbage);
    tcase_add_test(num, uint_overflow);
    tcase_add_test(num, uint_bounds);
    tcase_add_test(num, mode_forms);
    suite_add_tcase(s, num);

    tcase_add_test(addr, addr_unix);
    tcase_add_test(addr, addr_unix_path_length);
    tcase_add_test(addr, addr_tcp);
    tcase_add_test(addr, addr_tcp_bad);
    tcase_add_test(addr, addr_format_roundtrip);
    suite_add_tcase(s, addr);

    tcase_add_test(spec, spec_forms);
    tcase_add_test(spec, spec_default_name);
    tcase_add_test(spec, spec_bad_forms);
    suite_add_tcase(s, spec);

    tcase_add_test(cfg, cfg_defaults);
    tcase_add_test(cfg, cfg_every_option);
    tcase_add_test(cfg, cfg_short_and_joined_forms);
    tcase_add_test(cfg, cfg_fd_and_cgi);
    tcase_add_test(cfg, cfg_errors);
    tcase_add_test(cfg, cfg_script_name_forms);
    tcase_add_test(cfg, cfg_threads_bounds);
    tcase_add_test(cfg, cfg_limits);
    tcase_add_test(cfg, cfg_preload_reload);
    tcase_add_test(cfg, cfg_help_version);
    tcase_add_test(cfg, cfg_reparse);
    tcase_add_test(cfg, cfg_reparse_after_cluster);
    suite_add_tcase(s, cfg);

    tcase_add_test(file, file_basic);
    tcase_add_test(file, file_flags);
    tcase_add_test(file, file_cmdline_wins);
    tcase_add_test(file, file_errors);
    tcase_add_test(file, file_report);
    tcase_add_test(cfg, argv_connection_options);
    suite_add_tcase(s, file);
    return s;
}
