/*
 * fuzz_config.c - option and address parsing (src/config.c): wf_config_parse
 * on a fuzzed command line and --config file, wf_addr_parse and
 * wf_app_spec_parse on every argument.
 *
 * Input: a control byte (bit 0: there is a --config file), then, when there
 * is one, the file's text up to the first 0x01 byte; the rest is the
 * command line, NUL-separated (at most 32 arguments).  The file is given as
 * /proc/self/fd/N of a memfd, so nothing touches the disk.
 *
 * Invariants:
 *   - wf_config_parse returns RUN, EXIT_OK or ERROR, with a one-line
 *     message on ERROR, and is repeatable: parsing the same input again in
 *     the same process gives the same result (getopt's state is reset);
 *   - a configuration accepted holds only values the options allow (the
 *     ranges of --help), an address that parses again to the same thing,
 *     and an APP spec whose parts rebuild the argument;
 *   - an address accepted prints (wf_addr_format) as an address that parses
 *     back to the same one;
 *   - an APP spec accepted has a non-empty target and a dotted Python name.
 */
#define _GNU_SOURCE
#include "autoconfig.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

#define MAX_ARGS 32

static FILE *devnull;

static int same_addr(const struct wf_addr *a, const struct wf_addr *b)
{
    return a->kind == b->kind && strcmp(a->path, b->path) == 0 && strcmp(a->host, b->host) == 0 &&
           strcmp(a->port, b->port) == 0;
}

static void check_addr(const char *arg)
{
    struct wf_addr a, b;
    char err[512], text[512];

    err[0] = '\0';
    if (wf_addr_parse(arg, &a, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0], "refused without a reason");
        return;
    }
    FUZZ_CHECK(a.kind == WF_ADDR_UNIX || a.kind == WF_ADDR_TCP, "kind %d", (int)a.kind);
    if (a.kind == WF_ADDR_UNIX) {
        FUZZ_CHECK(a.path[0] != '\0' && strlen(a.path) < sizeof a.path, "unix path '%s'", a.path);
    } else {
        unsigned long port = strtoul(a.port, NULL, 10);
        char p[8];
        snprintf(p, sizeof p, "%lu", port);
        FUZZ_CHECK(port >= 1 && port <= 65535 && strcmp(p, a.port) == 0, "port '%s'", a.port);
    }
    wf_addr_format(&a, text, sizeof text);
    FUZZ_CHECK(wf_addr_parse(text, &b, err, sizeof err) == 0, "'%s' printed as '%s', which is refused: %s",
               arg, text, err);
    if (a.kind == WF_ADDR_TCP && a.host[0] == '\0')
        strcpy(a.host, "0.0.0.0");      /* ":PORT" prints as 0.0.0.0:PORT */
    FUZZ_CHECK(same_addr(&a, &b), "'%s' printed as '%s', which parses differently", arg, text);
}

static int attr_path(const char *s)
{
    int start = 1;

    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '.') {
            if (start)
                return 0;
            start = 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80 ||
              (!start && c >= '0' && c <= '9')))
            return 0;
        start = 0;
    }
    return !start;
}

static void check_app(const char *arg)
{
    struct wf_app_spec s, t;
    char err[512], again[4096];

    err[0] = '\0';
    if (wf_app_spec_parse(arg, "application", &s, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0], "refused without a reason");
        FUZZ_CHECK(!s.target && !s.name, "a refused spec holds memory");
        return;
    }
    FUZZ_CHECK(s.target && s.target[0] && s.name && attr_path(s.name), "spec '%s' -> '%s' : '%s'", arg,
               s.target ? s.target : "(null)", s.name ? s.name : "(null)");
    FUZZ_CHECK(s.is_file || attr_path(s.target), "module '%s' is not a dotted name", s.target);
    snprintf(again, sizeof again, "%s:%s%s", s.target, s.name, s.factory ? "()" : "");
    FUZZ_CHECK(wf_app_spec_parse(again, "application", &t, err, sizeof err) == 0, "'%s' rebuilt as '%s' is refused",
               arg, again);
    FUZZ_CHECK(strcmp(s.target, t.target) == 0 && strcmp(s.name, t.name) == 0 && s.is_file == t.is_file &&
               s.factory == t.factory, "'%s' rebuilt as '%s' parses differently", arg, again);
    wf_app_spec_free(&s);
    wf_app_spec_free(&t);
}

static void check_config(const struct wf_config *c)
{
    struct wf_addr a;
    char err[512];

    FUZZ_CHECK(c->threads >= 1 && c->threads <= 1024 && c->processes >= 1 && c->processes <= 256,
               "-t %u -p %u", c->threads, c->processes);
    FUZZ_CHECK(c->max_header >= 256 && c->max_header <= 16 * 1024 * 1024, "--max-header-size %lu", c->max_header);
    FUZZ_CHECK(c->header_timeout >= 1 && c->header_timeout <= 86400 && c->io_timeout >= 1 &&
               c->io_timeout <= 86400, "timeouts");
    FUZZ_CHECK(c->max_connections >= 1 && c->max_connections <= 1000000, "--max-connections");
    FUZZ_CHECK(c->backlog >= 1 && c->backlog <= 65535 && c->socket_mode <= 07777, "backlog or mode");
    FUZZ_CHECK(c->fd >= -1 && c->fd <= 65535, "--fd %d", c->fd);
    FUZZ_CHECK(c->timeout <= 86400 && c->graceful_timeout <= 86400 && c->max_rss <= 1048576, "limits");
    FUZZ_CHECK(c->max_requests <= 1000000000UL, "--max-requests");
    FUZZ_CHECK(!(c->socket_arg && c->fd >= 0) && !(c->cgi && c->protocol != WF_PROTOCOL_FASTCGI),
               "exclusive options accepted together");
    FUZZ_CHECK(!c->url_scheme || strcmp(c->url_scheme, "http") == 0 || strcmp(c->url_scheme, "https") == 0,
               "--url-scheme");
    FUZZ_CHECK(!c->script_name || c->script_name[0] == '\0' || c->script_name[0] == '/', "--script-name");
    FUZZ_CHECK(attr_path(c->callable), "--callable '%s'", c->callable);
    FUZZ_CHECK(c->app_arg && c->app.target && c->app.name, "no APP");
    if (c->socket_arg) {
        FUZZ_CHECK(wf_addr_parse(c->socket_arg, &a, err, sizeof err) == 0 && same_addr(&a, &c->addr),
                   "-s %s", c->socket_arg);
    }
    if (c->stats_arg) {
        FUZZ_CHECK(wf_addr_parse(c->stats_arg, &a, err, sizeof err) == 0 && same_addr(&a, &c->stats_addr),
                   "--stats %s", c->stats_arg);
    }
    FUZZ_CHECK(c->pythonpath.n == 0 || (c->pythonpath.v && c->pythonpath.origin), "pythonpath");
    FUZZ_CHECK(c->allow_from.n == 0 || (c->allow_from.v && c->allow_from.origin), "allow_from");
}

/* Parses argv (copied, since getopt permutes it); the result and message. */
static enum wf_config_result parse(int argc, char **argv, char *err, size_t errlen, int check)
{
    char *copy[MAX_ARGS + 4];
    struct wf_config cfg;
    enum wf_config_result r;

    memcpy(copy, argv, sizeof(char *) * (size_t)(argc + 1));
    err[0] = '\0';
    r = wf_config_parse(&cfg, argc, copy, err, errlen);
    FUZZ_CHECK(r == WF_CONFIG_RUN || r == WF_CONFIG_EXIT_OK || r == WF_CONFIG_ERROR, "result %d", (int)r);
    if (r == WF_CONFIG_ERROR)
        FUZZ_CHECK(err[0], "an error without a message");
    if (r == WF_CONFIG_RUN && check) {
        check_config(&cfg);
        wf_config_report(&cfg, devnull);
    }
    wf_config_free(&cfg);
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* --help and --version print to stdout. */
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    if (fd < 0 || dup2(fd, 1) < 0)
        abort();
    close(fd);
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);
    char *args[MAX_ARGS + 4], *text, *p, *end, cfgarg[64], err1[1024], err2[1024];
    int argc = 0, memfd = -1;
    enum wf_config_result r1, r2;

    args[argc++] = "wsgi-fcgi";
    if (ctl & 1) {
        const uint8_t *stop = memchr(in.p, 1, in.n);
        size_t flen = stop ? (size_t)(stop - in.p) : in.n;
        memfd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (memfd < 0 || (flen && write(memfd, in.p, flen) != (ssize_t)flen))
            abort();
        snprintf(cfgarg, sizeof cfgarg, "--config=/proc/self/fd/%d", memfd);
        args[argc++] = cfgarg;
        in.p += flen;
        in.n -= flen;
        if (in.n) {
            in.p++;
            in.n--;
        }
    }
    /* The command line: NUL-separated strings, each its own heap block. */
    text = (char *)fuzz_dup(in.p, in.n);
    for (p = text, end = text + in.n; p < end && argc < MAX_ARGS; ) {
        char *z = memchr(p, '\0', (size_t)(end - p));
        size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
        char *a = malloc(n + 1);
        if (!a)
            abort();
        memcpy(a, p, n);
        a[n] = '\0';
        args[argc++] = a;
        check_addr(a);
        check_app(a);
        p += n + 1;
    }
    args[argc] = NULL;

    r1 = parse(argc, args, err1, sizeof err1, 1);
    r2 = parse(argc, args, err2, sizeof err2, 0);
    FUZZ_CHECK(r1 == r2 && strcmp(err1, err2) == 0, "parsed twice: %d '%s', then %d '%s'", (int)r1, err1,
               (int)r2, err2);

    while (argc > 1 + ((ctl & 1) ? 1 : 0))
        free(args[--argc]);
    free(text);
    if (memfd >= 0)
        close(memfd);
    return 0;
}
