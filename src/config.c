/*
 * config.c - getopt_long, range-checked numbers, addresses and the APP spec.
 * Pure parsing: no descriptor is opened and nothing is imported.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        if (strchr(addr->host, ':'))
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

void wf_usage(void)
{
    fputs(
"Usage: wsgi-fcgi [OPTIONS] APP\n"
"Serve the WSGI application APP over FastCGI (or CGI).\n"
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
"      --scgi                speak SCGI instead of FastCGI\n"
"      --max-header-size N   longest SCGI header accepted (default 65536)\n"
"Serving:\n"
"  -p, --processes N         worker processes under a supervising master (default 1)\n"
"  -t, --threads N           request threads per process (default 1)\n"
"      --max-requests N      replace a worker after N requests\n"
"      --timeout SEC         kill and replace a worker whose request runs longer\n"
"      --graceful-timeout SEC  time in-flight requests get after SIGTERM/SIGHUP (30)\n"
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
"      --check               load the application, report and exit 0/1\n"
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
    OPT_GRACEFUL_TIMEOUT, OPT_PIDFILE, OPT_USER, OPT_GROUP, OPT_ACCESS_LOG, OPT_LOG_FILE, OPT_STATS, OPT_LOG_TO_SERVER
};

static const struct option long_options[] = {
    { "socket", required_argument, NULL, 's' },
    { "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
    { "socket-owner", required_argument, NULL, OPT_SOCKET_OWNER },
    { "fd", required_argument, NULL, OPT_FD },
    { "backlog", required_argument, NULL, OPT_BACKLOG },
    { "cgi", no_argument, NULL, OPT_CGI },
    { "scgi", no_argument, NULL, OPT_SCGI },
    { "max-header-size", required_argument, NULL, OPT_MAX_HEADER },
    { "threads", required_argument, NULL, 't' },
    { "processes", required_argument, NULL, 'p' },
    { "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "graceful-timeout", required_argument, NULL, OPT_GRACEFUL_TIMEOUT },
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
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
};

enum wf_config_result wf_config_parse(struct wf_config *cfg, int argc, char **argv,
                                      char *err, size_t errlen)
{
    int c;
    unsigned long v;

    memset(cfg, 0, sizeof *cfg);
    cfg->socket_mode = 0660;
    cfg->fd = -1;
    cfg->backlog = 1024;
    cfg->threads = 1;
    cfg->processes = 1;
    cfg->graceful_timeout = 30;
    cfg->callable = "application";
    cfg->max_header = WF_SCGI_DEFAULT_MAX_HEADER;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:t:p:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (wf_addr_parse(optarg, &cfg->addr, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->socket_arg = optarg;
            break;
        case OPT_SOCKET_MODE:
            if (wf_parse_mode("--socket-mode", optarg, &cfg->socket_mode, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->socket_mode_set = 1;
            break;
        case OPT_SOCKET_OWNER:
            if (!*optarg || *optarg == ':') {
                seterr(err, errlen, "--socket-owner: expected USER[:GROUP]");
                return WF_CONFIG_ERROR;
            }
            cfg->socket_owner = optarg;
            break;
        case OPT_FD:
            if (wf_parse_uint("--fd", optarg, 0, 65535, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->fd = (int)v;
            break;
        case OPT_BACKLOG:
            if (wf_parse_uint("--backlog", optarg, 1, 65535, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->backlog = (unsigned)v;
            break;
        case OPT_CGI:
            cfg->cgi = 1;
            break;
        case OPT_SCGI:
            cfg->scgi = 1;
            break;
        case OPT_MAX_HEADER:
            if (wf_parse_uint("--max-header-size", optarg, 256, WF_SCGI_MAX_MAX_HEADER, &v,
                              err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->max_header = v;
            break;
        case 't':
            if (wf_parse_uint("--threads", optarg, 1, 1024, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->threads = (unsigned)v;
            break;
        case 'p':
            if (wf_parse_uint("--processes", optarg, 1, 256, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->processes = (unsigned)v;
            break;
        case OPT_MAX_REQUESTS:
            if (wf_parse_uint("--max-requests", optarg, 1, 1000000000UL, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->max_requests = v;
            break;
        case OPT_TIMEOUT:
            if (wf_parse_uint("--timeout", optarg, 1, 86400, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->timeout = (unsigned)v;
            break;
        case OPT_GRACEFUL_TIMEOUT:
            if (wf_parse_uint("--graceful-timeout", optarg, 0, 86400, &v, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->graceful_timeout = (unsigned)v;
            break;
        case OPT_PIDFILE:
            cfg->pidfile = optarg;
            break;
        case OPT_USER:
            cfg->user = optarg;
            break;
        case OPT_GROUP:
            cfg->group = optarg;
            break;
        case OPT_ACCESS_LOG:
            cfg->access_log = optarg;
            break;
        case OPT_LOG_FILE:
            cfg->log_file = optarg;
            break;
        case OPT_LOG_TO_SERVER:
            cfg->log_to_server = 1;
            break;
        case OPT_STATS:
            if (wf_addr_parse(optarg, &cfg->stats_addr, err, errlen) < 0)
                return WF_CONFIG_ERROR;
            cfg->stats_arg = optarg;
            break;
        case OPT_CHDIR:
            cfg->chdir = optarg;
            break;
        case OPT_PYTHONPATH: {
            const char **p = realloc(cfg->pythonpath, (cfg->npythonpath + 1) * sizeof *p);
            if (!p) {
                seterr(err, errlen, "out of memory");
                return WF_CONFIG_ERROR;
            }
            p[cfg->npythonpath++] = optarg;
            cfg->pythonpath = p;
            break;
        }
        case OPT_VIRTUALENV:
            cfg->virtualenv = optarg;
            break;
        case OPT_CALLABLE:
            if (!is_attr_path(optarg, strlen(optarg))) {
                seterr(err, errlen, "--callable: '%s' is not a Python name", optarg);
                return WF_CONFIG_ERROR;
            }
            cfg->callable = optarg;
            break;
        case OPT_URL_SCHEME:
            if (strcmp(optarg, "http") != 0 && strcmp(optarg, "https") != 0) {
                seterr(err, errlen, "--url-scheme: expected http or https, not '%s'", optarg);
                return WF_CONFIG_ERROR;
            }
            cfg->url_scheme = optarg;
            break;
        case OPT_SCRIPT_NAME:
            if (optarg[0] != '\0' && optarg[0] != '/') {
                seterr(err, errlen, "--script-name: '%s' must be empty or start with '/'", optarg);
                return WF_CONFIG_ERROR;
            }
            cfg->script_name = optarg;
            break;
        case OPT_CHECK:
            cfg->check = 1;
            break;
        case 'h':
            wf_usage();
            return WF_CONFIG_EXIT_OK;
        case 'V':
            /* What the build embeds: configure's interpreter and libfcgi. */
            printf("wsgi-fcgi %s\nPython %s (%s)\nlibfcgi %s\n", PACKAGE_VERSION,
                   WF_PYTHON_VERSION, WF_PYTHON_EXECUTABLE, WF_FCGI_VERSION);
            return WF_CONFIG_EXIT_OK;
        case ':':
            seterr(err, errlen, "option %s requires an argument", argv[optind - 1]);
            return WF_CONFIG_ERROR;
        default:
            if (optopt && optopt < 256)
                seterr(err, errlen, "unknown option -%c (see --help)", optopt);
            else
                seterr(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
            return WF_CONFIG_ERROR;
        }
    }
    if (optind >= argc) {
        seterr(err, errlen, "missing APP (see --help)");
        return WF_CONFIG_ERROR;
    }
    if (argc - optind > 1) {
        seterr(err, errlen, "unexpected argument '%s' after APP", argv[optind + 1]);
        return WF_CONFIG_ERROR;
    }
    cfg->app_arg = argv[optind];
    if (cfg->socket_arg && cfg->fd >= 0) {
        seterr(err, errlen, "-s and --fd are mutually exclusive");
        return WF_CONFIG_ERROR;
    }
    if (cfg->cgi && cfg->scgi) {
        seterr(err, errlen, "--cgi and --scgi are mutually exclusive");
        return WF_CONFIG_ERROR;
    }
    if (cfg->cgi && (cfg->socket_arg || cfg->fd >= 0)) {
        seterr(err, errlen, "--cgi cannot be combined with -s or --fd");
        return WF_CONFIG_ERROR;
    }
    if ((cfg->socket_mode_set || cfg->socket_owner) && cfg->addr.kind != WF_ADDR_UNIX) {
        seterr(err, errlen, "--socket-mode and --socket-owner apply to a unix socket given with -s");
        return WF_CONFIG_ERROR;
    }
    if (cfg->cgi && (cfg->processes > 1 || cfg->stats_arg)) {
        seterr(err, errlen, "--cgi serves one request: -p and --stats do not apply");
        return WF_CONFIG_ERROR;
    }
    if (wf_app_spec_parse(cfg->app_arg, cfg->callable, &cfg->app, err, errlen) < 0)
        return WF_CONFIG_ERROR;
    return WF_CONFIG_RUN;
}

void wf_config_free(struct wf_config *cfg)
{
    free(cfg->pythonpath);
    cfg->pythonpath = NULL;
    wf_app_spec_free(&cfg->app);
}
