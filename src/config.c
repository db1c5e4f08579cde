/*
 * config.c - getopt_long, the --config file, range-checked numbers,
 * addresses and the APP spec.  Pure parsing: nothing is bound, created or
 * imported; the only descriptor opened is the --config file's, to read it.
 *
 * DESIGN
 * Every option has one entry in long_options and one case in
 * apply_option(), which validates and stores a value.  The command line and
 * the --config file both go through apply_option: first getopt_long
 * collects the command line (and finds --config), then the file is applied,
 * then the collected command line, so the command line wins without a
 * second parser of values.  cfg->origin records, per option, where its
 * value came from, for --check's report.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "scgi.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int wf_parse_uint(const char *opt, const char *arg, unsigned long min,
                  unsigned long max, unsigned long *out, char *err, size_t errlen)
{
    unsigned long v = 0;
    const char *p = arg;

    if (!arg || !*arg) {
        seterr(err, errlen, "%s: empty value", opt);
        return -1;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            seterr(err, errlen, "%s: '%s' is not a non-negative integer", opt, arg);
            return -1;
        }
        if (v > (max - (unsigned long)(*p - '0')) / 10) {
            seterr(err, errlen, "%s: %s is out of range (%lu..%lu)", opt, arg, min, max);
            return -1;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v < min || v > max) {
        seterr(err, errlen, "%s: %s is out of range (%lu..%lu)", opt, arg, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int wf_parse_mode(const char *opt, const char *arg, unsigned *out, char *err, size_t errlen)
{
    unsigned v = 0;
    const char *p = arg;

    if (!arg || !*arg || strlen(arg) > 5) {
        seterr(err, errlen, "%s: '%s' is not an octal mode like 0660", opt, arg ? arg : "");
        return -1;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '7') {
            seterr(err, errlen, "%s: '%s' is not an octal mode like 0660", opt, arg);
            return -1;
        }
        v = v * 8 + (unsigned)(*p - '0');
    }
    if (v > 07777) {
        seterr(err, errlen, "%s: '%s' is out of range (0..07777)", opt, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_port(const char *arg, const char *port, struct wf_addr *out,
                      char *err, size_t errlen)
{
    unsigned long v;
    char msg[200];

    if (wf_parse_uint("port", port, 1, 65535, &v, msg, sizeof msg) < 0) {
        seterr(err, errlen, "bad socket address '%s': %s", arg, msg);
        return -1;
    }
    snprintf(out->port, sizeof out->port, "%lu", v);
    return 0;
}

int wf_addr_parse(const char *arg, struct wf_addr *out, char *err, size_t errlen)
{
    const char *colon;
    size_t hostlen;

    memset(out, 0, sizeof *out);
    if (!arg || !*arg) {
        seterr(err, errlen, "empty socket address");
        return -1;
    }
    if (strncmp(arg, "unix:", 5) == 0 || (strchr(arg, '/') && arg[0] != '[')) {
        const char *path = strncmp(arg, "unix:", 5) == 0 ? arg + 5 : arg;
        if (!*path) {
            seterr(err, errlen, "bad socket address '%s': empty path", arg);
            return -1;
        }
        if (strlen(path) >= sizeof out->path) {
            seterr(err, errlen, "bad socket address '%s': path longer than %zu bytes",
                   arg, sizeof out->path - 1);
            return -1;
        }
        out->kind = WF_ADDR_UNIX;
        strcpy(out->path, path);
        return 0;
    }
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close[1] != ':' || close == arg + 1) {
            seterr(err, errlen, "bad socket address '%s': expected [IPV6]:PORT", arg);
            return -1;
        }
        hostlen = (size_t)(close - arg - 1);
        if (hostlen >= sizeof out->host) {
            seterr(err, errlen, "bad socket address '%s': host too long", arg);
            return -1;
        }
        memcpy(out->host, arg + 1, hostlen);
        out->host[hostlen] = '\0';
        if (strpbrk(out->host, "[]/")) {
            seterr(err, errlen, "bad socket address '%s': '[', ']' or '/' in the host", arg);
            return -1;
        }
        out->kind = WF_ADDR_TCP;
        return parse_port(arg, close + 2, out, err, errlen);
    }
    colon = strrchr(arg, ':');
    if (!colon) {
        seterr(err, errlen,
               "bad socket address '%s': use unix:PATH, a path with '/', HOST:PORT, [IPV6]:PORT or :PORT",
               arg);
        return -1;
    }
    hostlen = (size_t)(colon - arg);
    if (memchr(arg, ':', hostlen)) {
        seterr(err, errlen, "bad socket address '%s': write IPv6 addresses as [ADDR]:PORT", arg);
        return -1;
    }
    if (hostlen >= sizeof out->host) {
        seterr(err, errlen, "bad socket address '%s': host too long", arg);
        return -1;
    }
    memcpy(out->host, arg, hostlen);
    out->host[hostlen] = '\0';
    if (strpbrk(out->host, "[]")) {
        seterr(err, errlen, "bad socket address '%s': '[' or ']' in the host", arg);
        return -1;
    }
    out->kind = WF_ADDR_TCP;
    return parse_port(arg, colon + 1, out, err, errlen);
}

void wf_addr_format(const struct wf_addr *addr, char *buf, size_t len)
{
    switch (addr->kind) {
    case WF_ADDR_UNIX:
        snprintf(buf, len, "unix:%s", addr->path);
        break;
    case WF_ADDR_TCP:
        /* Brackets for IPv6, and for a host named "unix", which
         * "unix:PORT" would make a unix socket path. */
        if (strchr(addr->host, ':') || strcmp(addr->host, "unix") == 0)
            snprintf(buf, len, "[%s]:%s", addr->host, addr->port);
        else
            snprintf(buf, len, "%s:%s", addr->host[0] ? addr->host : "0.0.0.0", addr->port);
        break;
    default:
        snprintf(buf, len, "(none)");
    }
}

/* NAME: a dotted path of Python identifiers (ASCII subset checked here;
 * Python itself rejects the rest at load time). */
static int is_attr_path(const char *s, size_t len)
{
    size_t i;
    int at_start = 1;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (at_start)
                return 0;
            at_start = 1;
            continue;
        }
        if (!(isalpha(c) || c == '_' || c >= 0x80 || (!at_start && isdigit(c))))
            return 0;
        at_start = 0;
    }
    return !at_start;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int wf_app_spec_parse(const char *arg, const char *default_name,
                      struct wf_app_spec *out, char *err, size_t errlen)
{
    const char *colon;
    size_t tlen;
    const char *name = default_name;
    size_t nlen = strlen(default_name);

    memset(out, 0, sizeof *out);
    if (!arg || !*arg) {
        seterr(err, errlen, "missing APP (file.py[:NAME] or package.module[:NAME])");
        return -1;
    }
    colon = strrchr(arg, ':');
    tlen = strlen(arg);
    if (colon) {
        const char *n = colon + 1;
        size_t l = strlen(n);
        int factory = 0;

        if (l >= 2 && strcmp(n + l - 2, "()") == 0) {
            factory = 1;
            l -= 2;
        }
        if (is_attr_path(n, l)) {
            tlen = (size_t)(colon - arg);
            name = n;
            nlen = l;
            out->factory = factory;
        } else {
            seterr(err, errlen, "bad APP '%s': '%s' is not a Python name (NAME or NAME())", arg, n);
            return -1;
        }
    }
    if (tlen == 0) {
        seterr(err, errlen, "bad APP '%s': nothing before ':'", arg);
        return -1;
    }
    out->target = strndup(arg, tlen);
    out->name = strndup(name, nlen);
    if (!out->target || !out->name) {
        wf_app_spec_free(out);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    out->is_file = ends_with(out->target, ".py") || strchr(out->target, '/') != NULL;
    if (!out->is_file && !is_attr_path(out->target, strlen(out->target))) {
        seterr(err, errlen, "bad APP '%s': '%s' is neither a .py file nor a module name",
               arg, out->target);
        wf_app_spec_free(out);
        return -1;
    }
    return 0;
}

void wf_app_spec_free(struct wf_app_spec *spec)
{
    free(spec->target);
    free(spec->name);
    spec->target = spec->name = NULL;
}

int wf_config_build_acl(struct wf_config *cfg, const char *env, char *err, size_t errlen)
{
    size_t i;

    wf_acl_free(&cfg->acl);
    for (i = 0; i < cfg->allow_from.n; i++)
        if (wf_acl_add(&cfg->acl, "--allow-from", cfg->allow_from.v[i], err, errlen) < 0)
            return -1;
    if (env && wf_acl_add_list(&cfg->acl, "FCGI_WEB_SERVER_ADDRS", env, err, errlen) < 0)
        return -1;
    return 0;
}

const char *wf_protocol_name(enum wf_protocol p)
{
    return p == WF_PROTOCOL_SCGI ? "SCGI" : p == WF_PROTOCOL_AUTO ? "FastCGI and SCGI" : "FastCGI";
}

void wf_usage(void)
{
    fputs(
"Usage: wsgi-fcgi [OPTIONS] APP\n"
"Serve the WSGI application APP over FastCGI or SCGI (or as CGI).\n"
"\n"
"APP is file.py[:NAME], package.module[:NAME] or package.module:factory()\n"
"(NAME defaults to 'application').\n"
"\n"
"Socket:\n"
"  -s, --socket ADDR         listen on unix:PATH, PATH, HOST:PORT, [IPV6]:PORT or :PORT\n"
"      --socket-mode MODE    permissions of a unix socket (octal, default 0660)\n"
"      --socket-owner USER[:GROUP]  owner of a unix socket\n"
"      --fd N                serve on the inherited listening descriptor N\n"
"      --backlog N           listen backlog (default 1024)\n"
"      --cgi                 run once as a CGI program\n"
"      --protocol PROTO      fastcgi (default), scgi, or auto: both on one socket,\n"
"                            told apart by each connection's first byte\n"
"      --scgi                speak SCGI instead of FastCGI (--protocol scgi)\n"
"      --max-header-size N   longest request head accepted, FastCGI params or SCGI\n"
"                            header (default 1048576)\n"
"Connections:\n"
"      --header-timeout SEC  close a connection whose request head is not complete\n"
"                            SEC seconds after it began (default 30)\n"
"      --io-timeout SEC      end a request whose body read or response write makes\n"
"                            no progress for SEC seconds (default 120)\n"
"      --max-connections N   connections a worker holds; past it the longest idle\n"
"                            kept one is closed for a new one (default 1024)\n"
"      --allow-from ADDR[/BITS]  only these peers may use a TCP socket (repeatable;\n"
"                            FCGI_WEB_SERVER_ADDRS is honoured too)\n""Serving:\n"
"  -p, --processes N         worker processes under a supervising master (default 1)\n"
"  -t, --threads N           request threads per process (default 1)\n"
"      --max-requests N      replace a worker after N requests\n"
"      --max-body BYTES      answer 413 to a larger CONTENT_LENGTH (a longer body\n"
"                            without one: OSError in wsgi.input.read)\n"
"      --max-rss MIB         replace a worker whose resident memory exceeds MIB\n"
"                            after a request (its replacement starts first)\n"
"      --timeout SEC         kill and replace a worker whose request runs longer\n"
"      --graceful-timeout SEC  time in-flight requests get after SIGTERM/SIGHUP (30)\n"
"      --preload             import the application once, in a zygote process that\n"
"                            forks the workers (copy-on-write memory)\n"
"      --reload-mode MODE    what SIGHUP does: generation (default: all new workers,\n"
"                            then the old ones stop) or chain (one at a time)\n"
"      --reload              development: reload when a file of an imported module\n"
"                            of the application changes (see wsgi-fcgi(1))\n"
"Housekeeping:\n"
"      --pidfile FILE        write the master's pid to FILE\n"
"      --user USER, --group GROUP  drop privileges to these after binding\n"
"      --access-log FILE     one line per request (- = stderr)\n"
"      --log-file FILE       log here instead of stderr (reopened on SIGUSR1)\n"
"      --log-to-server       also send a request's log lines (wsgi.errors, tracebacks)\n"
"                            to the web server as FCGI_STDERR (FastCGI only)\n"
"      --stats ADDR          serve a JSON snapshot of the workers on ADDR\n"
"Application:\n"
"      --chdir DIR           change to DIR before loading the application\n"
"      --pythonpath DIR      prepend DIR to sys.path (repeatable)\n"
"      --virtualenv DIR      use the packages of the virtualenv DIR\n"
"      --callable NAME       name of the WSGI callable (default application)\n"
"      --url-scheme SCHEME   force wsgi.url_scheme to http or https\n"
"      --script-name PREFIX  mount point: SCRIPT_NAME=PREFIX, PATH_INFO=the rest\n"
"      --config FILE         read options from FILE, one 'name = value' per line\n"
"                            (long option names; the command line wins)\n"
"      --check               report the settings, load the application, exit 0/1\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"Without -s or --fd the listening socket is fd 0 when it is one (spawn-fcgi),\n"
"else the systemd socket (LISTEN_FDS); otherwise wsgi-fcgi runs as CGI.\n"
"See wsgi-fcgi(1).\n", stdout);
}

enum {
    OPT_SOCKET_MODE = 256, OPT_SOCKET_OWNER, OPT_FD, OPT_BACKLOG, OPT_CGI,
    OPT_CHDIR, OPT_PYTHONPATH, OPT_VIRTUALENV, OPT_CALLABLE, OPT_URL_SCHEME,
    OPT_SCRIPT_NAME, OPT_CHECK, OPT_SCGI, OPT_MAX_HEADER, OPT_MAX_REQUESTS, OPT_TIMEOUT,
    OPT_GRACEFUL_TIMEOUT, OPT_PIDFILE, OPT_USER, OPT_GROUP, OPT_ACCESS_LOG, OPT_LOG_FILE, OPT_STATS,
    OPT_LOG_TO_SERVER, OPT_CONFIG, OPT_MAX_BODY, OPT_MAX_RSS,
    OPT_PROTOCOL, OPT_HEADER_TIMEOUT, OPT_IO_TIMEOUT, OPT_MAX_CONNECTIONS, OPT_ALLOW_FROM,
    OPT_PRELOAD, OPT_RELOAD_MODE, OPT_RELOAD
};

static const struct option long_options[] = {
    { "socket", required_argument, NULL, 's' },
    { "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
    { "socket-owner", required_argument, NULL, OPT_SOCKET_OWNER },
    { "fd", required_argument, NULL, OPT_FD },
    { "backlog", required_argument, NULL, OPT_BACKLOG },
    { "cgi", no_argument, NULL, OPT_CGI },
    { "scgi", no_argument, NULL, OPT_SCGI },
    { "protocol", required_argument, NULL, OPT_PROTOCOL },
    { "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
    { "io-timeout", required_argument, NULL, OPT_IO_TIMEOUT },
    { "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
    { "allow-from", required_argument, NULL, OPT_ALLOW_FROM },
    { "max-header-size", required_argument, NULL, OPT_MAX_HEADER },
    { "threads", required_argument, NULL, 't' },
    { "processes", required_argument, NULL, 'p' },
    { "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
    { "max-body", required_argument, NULL, OPT_MAX_BODY },
    { "max-rss", required_argument, NULL, OPT_MAX_RSS },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "graceful-timeout", required_argument, NULL, OPT_GRACEFUL_TIMEOUT },
    { "preload", no_argument, NULL, OPT_PRELOAD },
    { "reload-mode", required_argument, NULL, OPT_RELOAD_MODE },
    { "reload", no_argument, NULL, OPT_RELOAD },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "user", required_argument, NULL, OPT_USER },
    { "group", required_argument, NULL, OPT_GROUP },
    { "access-log", required_argument, NULL, OPT_ACCESS_LOG },
    { "log-file", required_argument, NULL, OPT_LOG_FILE },
    { "stats", required_argument, NULL, OPT_STATS },
    { "log-to-server", no_argument, NULL, OPT_LOG_TO_SERVER },
    { "chdir", required_argument, NULL, OPT_CHDIR },
    { "pythonpath", required_argument, NULL, OPT_PYTHONPATH },
    { "virtualenv", required_argument, NULL, OPT_VIRTUALENV },
    { "callable", required_argument, NULL, OPT_CALLABLE },
    { "url-scheme", required_argument, NULL, OPT_URL_SCHEME },
    { "script-name", required_argument, NULL, OPT_SCRIPT_NAME },
    { "check", no_argument, NULL, OPT_CHECK },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
};

#define NOPTIONS (sizeof long_options / sizeof long_options[0] - 1)
#define APP_ORIGIN NOPTIONS          /* cfg->origin slot of APP */
_Static_assert(NOPTIONS + 1 <= WF_CONFIG_MAX_OPTIONS, "raise WF_CONFIG_MAX_OPTIONS");

/* A --config file larger than this is refused (it is a list of options). */
#define CONFIG_MAX_BYTES (1024 * 1024)

static int option_index(int id)
{
    size_t i;

    for (i = 0; i < NOPTIONS; i++)
        if (long_options[i].val == id)
            return (int)i;
    return -1;
}

/* Options that may be given several times, each value kept. */
/* Appends a value (its origin is set by the caller).  0 or -1. */
static int strlist_add(struct wf_strlist *l, const char *arg)
{
    const char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    unsigned *o;

    if (!v)
        return -1;
    l->v = v;
    o = realloc(l->origin, (l->n + 1) * sizeof *o);
    if (!o)
        return -1;
    l->origin = o;
    o[l->n] = 0;
    v[l->n++] = arg;
    return 0;
}

static void strlist_free(struct wf_strlist *l)
{
    free(l->v);
    free(l->origin);
    l->v = NULL;
    l->origin = NULL;
    l->n = 0;
}

static int repeatable(int id)
{
    return id == OPT_PYTHONPATH || id == OPT_ALLOW_FROM;
}

/* The list of a repeatable option. */
static struct wf_strlist *list_of(struct wf_config *cfg, int id)
{
    return id == OPT_PYTHONPATH ? &cfg->pythonpath : id == OPT_ALLOW_FROM ? &cfg->allow_from : NULL;
}

/* Forgets every value of a repeatable option (the command line replaces
 * the file's). */
static void reset_option(struct wf_config *cfg, int id)
{
    if (list_of(cfg, id))
        list_of(cfg, id)->n = 0;
}

/* A flag: NULL (given on the command line) is true; in a file the value is
 * true/false, yes/no, on/off or 1/0, in any case. */
static int parse_flag(const char *opt, const char *arg, int *out, char *err, size_t errlen)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    size_t i;

    if (!arg) {
        *out = 1;
        return 0;
    }
    for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(arg, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(arg, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    seterr(err, errlen, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)", opt, arg);
    return -1;
}

/* Validates and stores one option's value: the single code path of the
 * command line and the --config file.  arg is NULL for a flag given on the
 * command line. */
static int apply_option(struct wf_config *cfg, int id, const char *arg, char *err, size_t errlen)
{
    unsigned long v;

    switch (id) {
    case 's':
        if (wf_addr_parse(arg, &cfg->addr, err, errlen) < 0)
            return -1;
        cfg->socket_arg = arg;
        break;
    case OPT_SOCKET_MODE:
        if (wf_parse_mode("--socket-mode", arg, &cfg->socket_mode, err, errlen) < 0)
            return -1;
        cfg->socket_mode_set = 1;
        break;
    case OPT_SOCKET_OWNER:
        if (!*arg || *arg == ':') {
            seterr(err, errlen, "--socket-owner: expected USER[:GROUP]");
            return -1;
        }
        cfg->socket_owner = arg;
        break;
    case OPT_FD:
        if (wf_parse_uint("--fd", arg, 0, 65535, &v, err, errlen) < 0)
            return -1;
        cfg->fd = (int)v;
        break;
    case OPT_BACKLOG:
        if (wf_parse_uint("--backlog", arg, 1, 65535, &v, err, errlen) < 0)
            return -1;
        cfg->backlog = (unsigned)v;
        break;
    case OPT_CGI:
        return parse_flag("--cgi", arg, &cfg->cgi, err, errlen);
    case OPT_SCGI: {
        int on = 0;
        if (parse_flag("--scgi", arg, &on, err, errlen) < 0)
            return -1;
        if (on)
            cfg->protocol = WF_PROTOCOL_SCGI;
        else if (cfg->protocol == WF_PROTOCOL_SCGI)
            cfg->protocol = WF_PROTOCOL_FASTCGI;
        return 0;
    }
    case OPT_PROTOCOL:
        if (strcmp(arg, "fastcgi") == 0) {
            cfg->protocol = WF_PROTOCOL_FASTCGI;
        } else if (strcmp(arg, "scgi") == 0) {
            cfg->protocol = WF_PROTOCOL_SCGI;
        } else if (strcmp(arg, "auto") == 0) {
            cfg->protocol = WF_PROTOCOL_AUTO;
        } else {
            seterr(err, errlen, "--protocol: expected fastcgi, scgi or auto, not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_HEADER_TIMEOUT:
        if (wf_parse_uint("--header-timeout", arg, 1, 86400, &v, err, errlen) < 0)
            return -1;
        cfg->header_timeout = (unsigned)v;
        return 0;
    case OPT_IO_TIMEOUT:
        if (wf_parse_uint("--io-timeout", arg, 1, 86400, &v, err, errlen) < 0)
            return -1;
        cfg->io_timeout = (unsigned)v;
        return 0;
    case OPT_MAX_CONNECTIONS:
        if (wf_parse_uint("--max-connections", arg, 1, 1000000, &v, err, errlen) < 0)
            return -1;
        cfg->max_connections = (unsigned)v;
        return 0;
    case OPT_MAX_HEADER:
        if (wf_parse_uint("--max-header-size", arg, 256, WF_SCGI_MAX_MAX_HEADER, &v, err, errlen) < 0)
            return -1;
        cfg->max_header = v;
        break;
    case 't':
        if (wf_parse_uint("--threads", arg, 1, 1024, &v, err, errlen) < 0)
            return -1;
        cfg->threads = (unsigned)v;
        break;
    case 'p':
        if (wf_parse_uint("--processes", arg, 1, 256, &v, err, errlen) < 0)
            return -1;
        cfg->processes = (unsigned)v;
        break;
    case OPT_MAX_REQUESTS:
        if (wf_parse_uint("--max-requests", arg, 1, 1000000000UL, &v, err, errlen) < 0)
            return -1;
        cfg->max_requests = v;
        break;
    case OPT_MAX_BODY:
        if (wf_parse_uint("--max-body", arg, 1, ULONG_MAX, &v, err, errlen) < 0)
            return -1;
        cfg->max_body = v;
        break;
    case OPT_MAX_RSS:
        if (wf_parse_uint("--max-rss", arg, 1, 1048576, &v, err, errlen) < 0)
            return -1;
        cfg->max_rss = v;
        break;
    case OPT_TIMEOUT:
        if (wf_parse_uint("--timeout", arg, 1, 86400, &v, err, errlen) < 0)
            return -1;
        cfg->timeout = (unsigned)v;
        break;
    case OPT_GRACEFUL_TIMEOUT:
        if (wf_parse_uint("--graceful-timeout", arg, 0, 86400, &v, err, errlen) < 0)
            return -1;
        cfg->graceful_timeout = (unsigned)v;
        break;
    case OPT_PRELOAD:
        return parse_flag("--preload", arg, &cfg->preload, err, errlen);
    case OPT_RELOAD:
        return parse_flag("--reload", arg, &cfg->reload, err, errlen);
    case OPT_RELOAD_MODE:
        if (strcmp(arg, "generation") == 0) {
            cfg->reload_mode = WF_RELOAD_GENERATION;
        } else if (strcmp(arg, "chain") == 0) {
            cfg->reload_mode = WF_RELOAD_CHAIN;
        } else {
            seterr(err, errlen, "--reload-mode: '%s' is not generation or chain", arg);
            return -1;
        }
        break;
    case OPT_PIDFILE:
        cfg->pidfile = arg;
        break;
    case OPT_USER:
        cfg->user = arg;
        break;
    case OPT_GROUP:
        cfg->group = arg;
        break;
    case OPT_ACCESS_LOG:
        cfg->access_log = arg;
        break;
    case OPT_LOG_FILE:
        cfg->log_file = arg;
        break;
    case OPT_LOG_TO_SERVER:
        return parse_flag("--log-to-server", arg, &cfg->log_to_server, err, errlen);
    case OPT_STATS:
        if (wf_addr_parse(arg, &cfg->stats_addr, err, errlen) < 0)
            return -1;
        cfg->stats_arg = arg;
        break;
    case OPT_CHDIR:
        cfg->chdir = arg;
        break;
    case OPT_ALLOW_FROM: {
        struct wf_acl probe = { NULL, 0 };
        int rc = wf_acl_add(&probe, "--allow-from", arg, err, errlen);
        wf_acl_free(&probe);
        if (rc < 0)
            return -1;
    }
        /* fall through */
    case OPT_PYTHONPATH:
        if (strlist_add(list_of(cfg, id), arg) < 0) {
            seterr(err, errlen, "out of memory");
            return -1;
        }
        break;
    case OPT_VIRTUALENV:
        cfg->virtualenv = arg;
        break;
    case OPT_CALLABLE:
        if (!is_attr_path(arg, strlen(arg))) {
            seterr(err, errlen, "--callable: '%s' is not a Python name", arg);
            return -1;
        }
        cfg->callable = arg;
        break;
    case OPT_URL_SCHEME:
        if (strcmp(arg, "http") != 0 && strcmp(arg, "https") != 0) {
            seterr(err, errlen, "--url-scheme: expected http or https, not '%s'", arg);
            return -1;
        }
        cfg->url_scheme = arg;
        break;
    case OPT_SCRIPT_NAME:
        if (arg[0] != '\0' && arg[0] != '/') {
            seterr(err, errlen, "--script-name: '%s' must be empty or start with '/'", arg);
            return -1;
        }
        cfg->script_name = arg;
        break;
    case OPT_CHECK:
        return parse_flag("--check", arg, &cfg->check, err, errlen);
    default:
        seterr(err, errlen, "internal error: option %d has no handler", id);
        return -1;
    }
    return 0;
}

/* Records where the value just applied for option idx came from. */
static void set_origin(struct wf_config *cfg, int idx, unsigned origin)
{
    struct wf_strlist *l = list_of(cfg, long_options[idx].val);

    cfg->origin[idx] = origin;
    if (l)
        l->origin[l->n - 1] = origin;
}

static void set_defaults(struct wf_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->socket_mode = 0660;
    cfg->fd = -1;
    cfg->backlog = 1024;
    cfg->threads = 1;
    cfg->processes = 1;
    cfg->graceful_timeout = 30;
    cfg->callable = "application";
    cfg->max_header = WF_DEFAULT_MAX_HEADER;
    cfg->header_timeout = WF_DEFAULT_HEADER_TIMEOUT;
    cfg->io_timeout = WF_DEFAULT_IO_TIMEOUT;
    cfg->max_connections = WF_DEFAULT_MAX_CONNECTIONS;
}

/* Reads the whole file (at most CONFIG_MAX_BYTES) into a NUL-terminated
 * buffer the caller frees. */
static char *read_config(const char *path, size_t *lenp, char *err, size_t errlen)
{
    size_t cap = 4096, len = 0;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        seterr(err, errlen, "--config %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        ssize_t n;
        if (len + 1 >= cap || !buf) {
            char *b;
            if (buf)
                cap *= 2;
            b = realloc(buf, cap);
            if (!b) {
                seterr(err, errlen, "out of memory");
                goto fail;
            }
            buf = b;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            seterr(err, errlen, "--config %s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CONFIG_MAX_BYTES) {
            seterr(err, errlen, "--config %s: larger than %d bytes", path, CONFIG_MAX_BYTES);
            goto fail;
        }
    }
    close(fd);
    buf[len] = '\0';
    *lenp = len;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims blanks around [s, end) in place; returns the new start. */
static char *trim(char *s, char *end)
{
    while (s < end && is_blank(*s))
        s++;
    while (end > s && is_blank(end[-1]))
        end--;
    *end = '\0';
    return s;
}

/* Applies the --config file: "name = value" lines, '#' comment lines and
 * blank lines.  Errors name FILE:LINE. */
static int load_config(struct wf_config *cfg, const char *path, char *err, size_t errlen)
{
    char msg[512];
    char *text, *p, *end;
    size_t len;
    unsigned line = 0;

    text = read_config(path, &len, err, errlen);
    if (!text)
        return -1;
    cfg->config_file = path;
    cfg->config_text = text;
    end = text + len;
    for (p = text; p < end; ) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        char *name, *value, *eq, *c;
        int idx, id;

        line++;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            seterr(err, errlen, "%s:%u: a NUL byte in the line", path, line);
            return -1;
        }
        name = trim(p, eol);
        p = nl ? nl + 1 : end;
        if (*name == '\0' || *name == '#')
            continue;
        eq = strchr(name, '=');
        if (!eq) {
            seterr(err, errlen, "%s:%u: expected 'name = value', not '%.100s'", path, line, name);
            return -1;
        }
        value = trim(eq + 1, eq + 1 + strlen(eq + 1));
        name = trim(name, eq);
        for (c = name; *c; c++)
            if (*c == '_')
                *c = '-';
        if (*name == '\0') {
            seterr(err, errlen, "%s:%u: no option name before '='", path, line);
            return -1;
        }
        if (strcmp(name, "app") == 0) {
            if (cfg->origin[APP_ORIGIN]) {
                seterr(err, errlen, "%s:%u: 'app' given twice (first on line %u)", path, line,
                       cfg->origin[APP_ORIGIN]);
                return -1;
            }
            cfg->app_arg = value;
            cfg->origin[APP_ORIGIN] = line;
            continue;
        }
        for (idx = 0; idx < (int)NOPTIONS; idx++)
            if (strcmp(long_options[idx].name, name) == 0)
                break;
        if (idx == (int)NOPTIONS) {
            seterr(err, errlen, "%s:%u: unknown option '%.100s' (see --help)", path, line, name);
            return -1;
        }
        id = long_options[idx].val;
        if (id == OPT_CONFIG || id == 'h' || id == 'V') {
            seterr(err, errlen, "%s:%u: '%s' cannot be used in a configuration file", path, line, name);
            return -1;
        }
        if (cfg->origin[idx] && !repeatable(id)) {
            seterr(err, errlen, "%s:%u: '%s' given twice (first on line %u)", path, line, name,
                   cfg->origin[idx]);
            return -1;
        }
        if (apply_option(cfg, id, value, msg, sizeof msg) < 0) {
            seterr(err, errlen, "%s:%u: %s", path, line, msg);
            return -1;
        }
        set_origin(cfg, idx, line);
    }
    return 0;
}

struct given {
    int id;
    const char *arg;
};

enum wf_config_result wf_config_parse(struct wf_config *cfg, int argc, char **argv,
                                      char *err, size_t errlen)
{
    struct given *given = NULL;
    size_t ngiven = 0, i;
    const char *config = NULL;
    enum wf_config_result rc = WF_CONFIG_ERROR;
    int c;

    set_defaults(cfg);
    given = calloc((size_t)argc + 1, sizeof *given);
    if (!given) {
        seterr(err, errlen, "out of memory");
        return WF_CONFIG_ERROR;
    }
    /* 1. Collect the command line (values are checked when applied). */
    /* 0, not 1: glibc then resets all of getopt's state, including where
     * it was inside a cluster of short options when the previous parse
     * stopped ("-hV"); with 1 it would go on reading that old argv. */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:t:p:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            wf_usage();
            rc = WF_CONFIG_EXIT_OK;
            goto out;
        case 'V':
            /* What the build embeds: configure's interpreter and libfcgi. */
            printf("wsgi-fcgi %s\nPython %s (%s)\nlibfcgi %s\n", PACKAGE_VERSION,
                   WF_PYTHON_VERSION, WF_PYTHON_EXECUTABLE, WF_FCGI_VERSION);
            rc = WF_CONFIG_EXIT_OK;
            goto out;
        case ':':
            seterr(err, errlen, "option %s requires an argument", argv[optind - 1]);
            goto out;
        case '?':
            if (optopt && optopt < 256)
                seterr(err, errlen, "unknown option -%c (see --help)", optopt);
            else
                seterr(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
            goto out;
        case OPT_CONFIG:
            if (config) {
                seterr(err, errlen, "--config given twice");
                goto out;
            }
            config = optarg;
            cfg->origin[option_index(OPT_CONFIG)] = WF_ORIGIN_CMDLINE;
            break;
        default:
            given[ngiven].id = c;
            given[ngiven++].arg = optarg;
        }
    }
    if (argc - optind > 1) {
        seterr(err, errlen, "unexpected argument '%s' after APP", argv[optind + 1]);
        goto out;
    }
    /* 2. The file, 3. the command line over it. */
    if (config && load_config(cfg, config, err, errlen) < 0)
        goto out;
    for (i = 0; i < ngiven; i++) {
        int idx = option_index(given[i].id);
        if (repeatable(given[i].id) && cfg->origin[idx] != 0 && cfg->origin[idx] != WF_ORIGIN_CMDLINE)
            reset_option(cfg, given[i].id);
        if (apply_option(cfg, given[i].id, given[i].arg, err, errlen) < 0)
            goto out;
        set_origin(cfg, idx, WF_ORIGIN_CMDLINE);
    }
    if (optind < argc) {
        cfg->app_arg = argv[optind];
        cfg->origin[APP_ORIGIN] = WF_ORIGIN_CMDLINE;
    }
    if (!cfg->app_arg) {
        if (config)
            seterr(err, errlen, "missing APP: give it after the options or as 'app = ...' in %s", config);
        else
            seterr(err, errlen, "missing APP (see --help)");
        goto out;
    }
    if (cfg->socket_arg && cfg->fd >= 0) {
        seterr(err, errlen, "-s and --fd are mutually exclusive");
        goto out;
    }
    if (cfg->cgi && cfg->protocol != WF_PROTOCOL_FASTCGI) {
        seterr(err, errlen, "--cgi and --scgi/--protocol are mutually exclusive");
        goto out;
    }
    if (cfg->cgi && (cfg->socket_arg || cfg->fd >= 0)) {
        seterr(err, errlen, "--cgi cannot be combined with -s or --fd");
        goto out;
    }
    if ((cfg->socket_mode_set || cfg->socket_owner) && cfg->addr.kind != WF_ADDR_UNIX) {
        seterr(err, errlen, "--socket-mode and --socket-owner apply to a unix socket given with -s");
        goto out;
    }
    if (cfg->cgi && (cfg->processes > 1 || cfg->stats_arg || cfg->preload || cfg->reload)) {
        seterr(err, errlen, "--cgi serves one request: -p, --stats, --preload and --reload do not apply");
        goto out;
    }
    if (wf_app_spec_parse(cfg->app_arg, cfg->callable, &cfg->app, err, errlen) < 0)
        goto out;
    rc = WF_CONFIG_RUN;
out:
    free(given);
    return rc;
}

void wf_config_free(struct wf_config *cfg)
{
    strlist_free(&cfg->pythonpath);
    strlist_free(&cfg->allow_from);
    wf_acl_free(&cfg->acl);
    free(cfg->config_text);
    cfg->config_text = NULL;
    wf_app_spec_free(&cfg->app);
}

/* ---- --check's report ------------------------------------------------------ */

static const char *bool_str(int b)
{
    return b ? "true" : "false";
}

/* The value of option id as it would be written in a --config file; NULL
 * when it is not set (buf holds numbers). */
static const char *option_value(const struct wf_config *cfg, int id, char *buf, size_t len)
{
    switch (id) {
    case 's': return cfg->socket_arg;
    case OPT_SOCKET_MODE: snprintf(buf, len, "%04o", cfg->socket_mode); return buf;
    case OPT_SOCKET_OWNER: return cfg->socket_owner;
    case OPT_FD:
        if (cfg->fd < 0)
            return NULL;
        snprintf(buf, len, "%d", cfg->fd);
        return buf;
    case OPT_BACKLOG: snprintf(buf, len, "%u", cfg->backlog); return buf;
    case OPT_CGI: return bool_str(cfg->cgi);
    case OPT_SCGI: return bool_str(cfg->protocol == WF_PROTOCOL_SCGI);
    case OPT_PROTOCOL:
        return cfg->protocol == WF_PROTOCOL_SCGI ? "scgi" : cfg->protocol == WF_PROTOCOL_AUTO ? "auto" : "fastcgi";
    case OPT_HEADER_TIMEOUT: snprintf(buf, len, "%u", cfg->header_timeout); return buf;
    case OPT_IO_TIMEOUT: snprintf(buf, len, "%u", cfg->io_timeout); return buf;
    case OPT_MAX_CONNECTIONS: snprintf(buf, len, "%u", cfg->max_connections); return buf;
    case OPT_MAX_HEADER: snprintf(buf, len, "%lu", cfg->max_header); return buf;
    case 't': snprintf(buf, len, "%u", cfg->threads); return buf;
    case 'p': snprintf(buf, len, "%u", cfg->processes); return buf;
    case OPT_MAX_REQUESTS:
        if (!cfg->max_requests)
            return NULL;
        snprintf(buf, len, "%lu", cfg->max_requests);
        return buf;
    case OPT_MAX_BODY:
        if (!cfg->max_body)
            return NULL;
        snprintf(buf, len, "%llu", cfg->max_body);
        return buf;
    case OPT_MAX_RSS:
        if (!cfg->max_rss)
            return NULL;
        snprintf(buf, len, "%lu", cfg->max_rss);
        return buf;
    case OPT_TIMEOUT:
        if (!cfg->timeout)
            return NULL;
        snprintf(buf, len, "%u", cfg->timeout);
        return buf;
    case OPT_GRACEFUL_TIMEOUT: snprintf(buf, len, "%u", cfg->graceful_timeout); return buf;
    case OPT_PRELOAD: return bool_str(cfg->preload);
    case OPT_RELOAD_MODE: return cfg->reload_mode == WF_RELOAD_CHAIN ? "chain" : "generation";
    case OPT_RELOAD: return bool_str(cfg->reload);
    case OPT_PIDFILE: return cfg->pidfile;
    case OPT_USER: return cfg->user;
    case OPT_GROUP: return cfg->group;
    case OPT_ACCESS_LOG: return cfg->access_log;
    case OPT_LOG_FILE: return cfg->log_file;
    case OPT_LOG_TO_SERVER: return bool_str(cfg->log_to_server);
    case OPT_STATS: return cfg->stats_arg;
    case OPT_CHDIR: return cfg->chdir;
    case OPT_VIRTUALENV: return cfg->virtualenv;
    case OPT_CALLABLE: return cfg->callable;
    case OPT_URL_SCHEME: return cfg->url_scheme;
    case OPT_SCRIPT_NAME: return cfg->script_name;
    case OPT_CHECK: return bool_str(cfg->check);
    case OPT_CONFIG: return cfg->config_file;
    default: return "(not shown)";
    }
}

static void report_line(const struct wf_config *cfg, FILE *out, const char *name,
                        const char *value, unsigned origin)
{
    char where[512], setting[1024];

    if (!value)
        snprintf(where, sizeof where, "not set");
    else if (origin == 0)
        snprintf(where, sizeof where, "default");
    else if (origin == WF_ORIGIN_CMDLINE)
        snprintf(where, sizeof where, "command line");
    else
        snprintf(where, sizeof where, "%s:%u", cfg->config_file, origin);
    if (value)
        snprintf(setting, sizeof setting, "%s = %s", name, value);
    else
        snprintf(setting, sizeof setting, "%s", name);
    fprintf(out, "  %-44s (%s)\n", setting, where);
}

void wf_config_report(const struct wf_config *cfg, FILE *out)
{
    char buf[64];
    size_t i, k;

    fprintf(out, "wsgi-fcgi: settings (name = value, and where each comes from):\n");
    report_line(cfg, out, "app", cfg->app_arg, cfg->origin[APP_ORIGIN]);
    for (i = 0; i < NOPTIONS; i++) {
        int id = long_options[i].val;
        if (id == 'h' || id == 'V')
            continue;
        if (repeatable(id)) {
            const struct wf_strlist *l = list_of((struct wf_config *)cfg, id);
            for (k = 0; k < l->n; k++)
                report_line(cfg, out, long_options[i].name, l->v[k], l->origin[k]);
            if (l->n == 0)
                report_line(cfg, out, long_options[i].name, NULL, 0);
            continue;
        }
        report_line(cfg, out, long_options[i].name, option_value(cfg, id, buf, sizeof buf),
                    cfg->origin[i]);
    }
}
