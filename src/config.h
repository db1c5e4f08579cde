/*
 * config.h - the command line and the --config file, parsed and validated
 * completely, with no side effects (nothing is bound, created or imported
 * here; the only I/O is reading the --config file).
 *
 * The file holds the same long options, one "name = value" per line.  It is
 * applied first and the command line after it, through the same code (one
 * switch, the same range-checked validators), so the command line wins: a
 * scalar option given there replaces the file's value, and a repeatable one
 * (--pythonpath) given there replaces all of the file's values.
 *
 * Error convention: functions return 0 on success and -1 on failure, having
 * written one human-readable line (without a trailing newline) into the
 * caller's err buffer.
 */
#ifndef WF_CONFIG_H
#define WF_CONFIG_H

#include <stddef.h>

#include "acl.h"
#include <stdio.h>

enum wf_addr_kind { WF_ADDR_NONE = 0, WF_ADDR_UNIX, WF_ADDR_TCP };

/* The values of a repeatable option, in order, and where each came from
 * (arrays owned; the strings are borrowed from argv or the config text). */
struct wf_strlist {
    const char **v;
    unsigned *origin;
    size_t n;
};

/* What the socket speaks; AUTO tells FastCGI and SCGI apart per connection. */
enum wf_protocol { WF_PROTOCOL_FASTCGI = 0, WF_PROTOCOL_SCGI, WF_PROTOCOL_AUTO };

#define WF_DEFAULT_MAX_HEADER (1024 * 1024)
#define WF_DEFAULT_HEADER_TIMEOUT 30
#define WF_DEFAULT_IO_TIMEOUT 120
#define WF_DEFAULT_MAX_CONNECTIONS 1024

/* "FastCGI", "SCGI" or "FastCGI and SCGI", for log lines. */
const char *wf_protocol_name(enum wf_protocol p);

/* What SIGHUP does: a whole new generation of workers first, or one worker
 * after the other. */
enum wf_reload_mode { WF_RELOAD_GENERATION = 0, WF_RELOAD_CHAIN };

/* A listening address as written with -s. */
struct wf_addr {
    enum wf_addr_kind kind;
    char path[108];   /* WF_ADDR_UNIX: the socket path (sun_path size) */
    char host[256];   /* WF_ADDR_TCP: host name or literal; "" = any IPv4 */
    char port[6];     /* WF_ADDR_TCP: decimal port, 1..65535 */
};

/* Room for the origin of every option (and of APP). */
#define WF_CONFIG_MAX_OPTIONS 64
#define WF_ORIGIN_CMDLINE 0xffffffffu

/* The APP argument split into its parts. */
struct wf_app_spec {
    char *target;     /* file path or dotted module name (owned) */
    int is_file;      /* target is a .py file path */
    char *name;       /* attribute path (owned); dotted names allowed */
    int factory;      /* NAME was written as NAME(): call it once */
};

struct wf_config {
    const char *app_arg;          /* APP as given (borrowed from argv) */
    struct wf_app_spec app;

    const char *socket_arg;       /* -s as given, or NULL */
    struct wf_addr addr;
    unsigned socket_mode;         /* default 0660 */
    int socket_mode_set;
    const char *socket_owner;     /* USER[:GROUP] or NULL */
    int fd;                       /* --fd N, or -1 */
    unsigned backlog;             /* default 1024 */

    int cgi;                      /* --cgi */
    enum wf_protocol protocol;    /* --protocol (--scgi), default FastCGI */
    unsigned long max_header;     /* --max-header-size, bytes (FastCGI and SCGI heads) */
    unsigned header_timeout;      /* --header-timeout seconds, default 30 */
    unsigned io_timeout;          /* --io-timeout seconds, default 120 */
    unsigned max_connections;     /* --max-connections per worker, default 1024 */
    unsigned threads;             /* -t, default 1 */
    unsigned processes;           /* -p, default 1 */
    unsigned long max_requests;   /* --max-requests, 0 = never */
    unsigned long long max_body;  /* --max-body bytes, 0 = no limit */
    unsigned long max_rss;        /* --max-rss MiB, 0 = no limit */
    unsigned timeout;             /* --timeout seconds, 0 = none */
    unsigned graceful_timeout;    /* --graceful-timeout seconds, default 30 */
    int preload;                  /* --preload: import once in a zygote */
    enum wf_reload_mode reload_mode;  /* --reload-mode, default generation */
    int reload;                   /* --reload: reload when a module file changes */

    const char *pidfile;
    const char *user;
    const char *group;
    const char *access_log;       /* FILE or "-" (stderr) */
    const char *log_file;
    int log_to_server;            /* --log-to-server: FCGI_STDERR too */
    const char *stats_arg;        /* --stats ADDR or NULL */
    struct wf_addr stats_addr;

    const char *chdir;
    struct wf_strlist pythonpath; /* --pythonpath, in order */
    struct wf_strlist allow_from; /* --allow-from ADDR[/BITS], checked (acl.h) */
    struct wf_acl acl;            /* --allow-from and FCGI_WEB_SERVER_ADDRS
                                   * (wf_config_build_acl) */
    const char *virtualenv;
    const char *callable;         /* --callable, default "application" */
    const char *url_scheme;       /* NULL (from the request), "http", "https" */
    const char *script_name;      /* --script-name PREFIX or NULL */
    int check;                    /* --check */

    /* --config: the file's name and text; values set from it point into
     * config_text (owned). */
    const char *config_file;
    char *config_text;
    /* Where each option's value came from, by option index (see
     * wf_config_report): 0 = default, WF_ORIGIN_CMDLINE, else the line of
     * config_file. */
    unsigned origin[WF_CONFIG_MAX_OPTIONS];
};

/* What wf_config_parse asks the caller to do next. */
enum wf_config_result { WF_CONFIG_RUN = 0, WF_CONFIG_EXIT_OK = 1, WF_CONFIG_ERROR = -1 };

/* Parses argv into cfg (which it initialises first), after the file named
 * by --config FILE if there is one.  --help and --version print to stdout
 * and return WF_CONFIG_EXIT_OK.  On WF_CONFIG_ERROR err holds one line (for
 * the file: "FILE:LINE: what is wrong").  wf_config_free releases what was
 * allocated either way. */
enum wf_config_result wf_config_parse(struct wf_config *cfg, int argc, char **argv,
                                      char *err, size_t errlen);
void wf_config_free(struct wf_config *cfg);

/* Writes the merged settings to out, one "name = value  # origin" line per
 * option (origin: default, command line or FILE:LINE; unset options as a
 * comment), so the output is itself a valid --config file.  For --check. */
void wf_config_report(const struct wf_config *cfg, FILE *out);

/* Parses a decimal unsigned integer in [min, max]; rejects empty strings,
 * signs, trailing garbage and overflow.  opt names the option in messages. */
int wf_parse_uint(const char *opt, const char *arg, unsigned long min,
                  unsigned long max, unsigned long *out, char *err, size_t errlen);

/* Parses an octal file mode (e.g. "0660", "660"), at most 07777. */
int wf_parse_mode(const char *opt, const char *arg, unsigned *out, char *err, size_t errlen);

/* Parses a socket address: unix:PATH, PATH (contains '/'), HOST:PORT,
 * [IPV6]:PORT or :PORT. */
int wf_addr_parse(const char *arg, struct wf_addr *out, char *err, size_t errlen);

/* Splits APP (file.py[:NAME], pkg.mod[:NAME], NAME may end in "()") using
 * default_name when no NAME is given.  Allocates the spec's strings. */
int wf_app_spec_parse(const char *arg, const char *default_name,
                      struct wf_app_spec *out, char *err, size_t errlen);
void wf_app_spec_free(struct wf_app_spec *spec);

/* A printable description of an address, e.g. "unix:/run/a.sock". */
void wf_addr_format(const struct wf_addr *addr, char *buf, size_t len);

/* Builds cfg->acl from --allow-from and the FCGI_WEB_SERVER_ADDRS list
 * (env, may be NULL).  0, or -1 with one line in err. */
int wf_config_build_acl(struct wf_config *cfg, const char *env, char *err, size_t errlen);

void wf_usage(void);

#endif
