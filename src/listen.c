/*
 * listen.c - creating, finding and closing the listening socket.
 *
 * libfcgi's FCGX_OpenSocket is not used: it is IPv4-only, exit()s on errors
 * and unlinks a unix socket path even when a live server owns it.  Here a
 * unix path that exists is probed with connect(): a refused connection means
 * a stale file, which is replaced; an answer means another server is alive,
 * which is an error.  Files that are not sockets are never removed.
 */
#include "autoconfig.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"
#include "listen.h"
#include "log.h"

int wf_listen_fd_is_listening(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
        return 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0)
        return 0;
    return ss.ss_family;
}

int wf_listen_systemd_fd(const char *listen_pid, const char *listen_fds, long pid,
                         char *err, size_t errlen)
{
    unsigned long p, n;
    char msg[128];

    if (!listen_pid || !listen_fds)
        return 0;
    if (wf_parse_uint("LISTEN_PID", listen_pid, 1, 0x7fffffffUL, &p, msg, sizeof msg) < 0) {
        snprintf(err, errlen, "socket activation: %s", msg);
        return -1;
    }
    if ((long)p != pid)
        return 0;
    if (wf_parse_uint("LISTEN_FDS", listen_fds, 0, 1024, &n, msg, sizeof msg) < 0) {
        snprintf(err, errlen, "socket activation: %s", msg);
        return -1;
    }
    if (n == 0)
        return 0;
    if (n > 1) {
        snprintf(err, errlen, "socket activation: %lu sockets passed, wsgi-fcgi serves exactly one", n);
        return -1;
    }
    return 3;
}

static void describe_fd(int fd, char *buf, size_t len, const char *how)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
        if (ss.ss_family == AF_UNIX) {
            struct sockaddr_un *un = (struct sockaddr_un *)&ss;
            if (sslen > offsetof(struct sockaddr_un, sun_path) && un->sun_path[0]) {
                snprintf(buf, len, "unix:%.*s (%s)", (int)sizeof un->sun_path, un->sun_path, how);
                return;
            }
        } else if (getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof host, serv,
                               sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            if (ss.ss_family == AF_INET6)
                snprintf(buf, len, "[%s]:%s (%s)", host, serv, how);
            else
                snprintf(buf, len, "%s:%s (%s)", host, serv, how);
            return;
        }
    }
    snprintf(buf, len, "fd %d (%s)", fd, how);
}

/* A new unix stream socket and the address of path, or -1 with err. */
static int unix_socket(const char *path, struct sockaddr_un *un, char *err, size_t errlen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, strlen(path));
    return fd;
}

/* 1 when a server answers on path, 0 when the file is a stale socket or
 * absent, -1 when it is something else (err set). */
static int unix_path_in_use(const char *path, char *err, size_t errlen)
{
    struct stat st;
    struct sockaddr_un un;
    int fd, rc;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "stat %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "bind unix:%s: the path exists and is not a socket", path);
        return -1;
    }
    fd = unix_socket(path, &un, err, errlen);
    if (fd < 0)
        return -1;
    rc = connect(fd, (struct sockaddr *)&un, sizeof un);
    close(fd);
    if (rc == 0) {
        snprintf(err, errlen, "bind unix:%s: another server is listening on it", path);
        return 1;
    }
    if (errno == ECONNREFUSED || errno == ENOENT)
        return 0;
    snprintf(err, errlen, "probe unix:%s: %s", path, strerror(errno));
    return -1;
}

static int resolve_owner(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    char user[256];
    const char *colon = strchr(spec, ':');
    size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
    struct passwd *pw;
    unsigned long v;
    char msg[128];

    if (ulen >= sizeof user) {
        snprintf(err, errlen, "--socket-owner: user name too long");
        return -1;
    }
    memcpy(user, spec, ulen);
    user[ulen] = '\0';
    pw = getpwnam(user);
    if (pw) {
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
    } else if (wf_parse_uint("--socket-owner", user, 0, 0x7fffffffUL, &v, msg, sizeof msg) == 0) {
        *uid = (uid_t)v;
        *gid = (gid_t)-1;
    } else {
        snprintf(err, errlen, "--socket-owner: no such user '%s'", user);
        return -1;
    }
    if (colon && colon[1]) {
        struct group *gr = getgrnam(colon + 1);
        if (gr)
            *gid = gr->gr_gid;
        else if (wf_parse_uint("--socket-owner", colon + 1, 0, 0x7fffffffUL, &v, msg, sizeof msg) == 0)
            *gid = (gid_t)v;
        else {
            snprintf(err, errlen, "--socket-owner: no such group '%s'", colon + 1);
            return -1;
        }
    }
    return 0;
}

static int open_unix(const struct wf_addr *addr, unsigned mode, const char *owner, unsigned backlog,
                     struct wf_listener *out, char *err, size_t errlen)
{
    const char *path = addr->path;
    struct sockaddr_un un;
    int fd = -1, in_use;
    mode_t old_umask;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;

    if (owner && resolve_owner(owner, &uid, &gid, err, errlen) < 0)
        return -1;
    in_use = unix_path_in_use(path, err, errlen);
    if (in_use != 0)
        return -1;
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "remove stale socket %s: %s", path, strerror(errno));
        return -1;
    }
    fd = unix_socket(path, &un, err, errlen);
    if (fd < 0)
        return -1;
    /* Bind with a restrictive umask so the socket is never more open than
     * asked for, not even for the moment before chmod. */
    old_umask = umask(0777 & ~(mode & 0777));
    if (bind(fd, (struct sockaddr *)&un, sizeof un) < 0) {
        int e = errno;
        umask(old_umask);
        snprintf(err, errlen, "bind unix:%s: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    umask(old_umask);
    snprintf(out->unlink_path, sizeof out->unlink_path, "%s", path);
    if (chmod(path, mode) < 0) {
        snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
        goto fail;
    }
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
        snprintf(err, errlen, "chown %s to %s: %s", path, owner, strerror(errno));
        goto fail;
    }
    if (listen(fd, (int)backlog) < 0) {
        snprintf(err, errlen, "listen unix:%s: %s", path, strerror(errno));
        goto fail;
    }
    if (mode & 0002)
        wf_log(WF_LOG_WARNING, "unix socket %s is world-writable (mode %04o): any local user can talk to the application",
               path, mode);
    out->fd = fd;
    out->family = AF_UNIX;
    snprintf(out->desc, sizeof out->desc, "unix:%s", path);
    return 0;
fail:
    close(fd);
    unlink(out->unlink_path);
    out->unlink_path[0] = '\0';
    return -1;
}

static int open_tcp(const struct wf_addr *addr, unsigned backlog, struct wf_listener *out,
                    char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc, fd = -1, last_errno = 0;
    const char *host = addr->host[0] ? addr->host : NULL;
    char where[300];
    _Static_assert(sizeof where < sizeof ((struct wf_listener *)0)->desc, "desc holds where");

    wf_addr_format(addr, where, sizeof where);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = host ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, addr->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "resolve %s: %s", where, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, (int)backlog) == 0) {
            out->family = ai->ai_family;
            break;
        }
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "bind %s: %s", where, strerror(last_errno));
        return -1;
    }
    out->fd = fd;
    snprintf(out->desc, sizeof out->desc, "%s", where);
    return 0;
}

static int adopt_fd(int fd, enum wf_listen_source src, const char *how,
                    struct wf_listener *out, char *err, size_t errlen)
{
    int family = wf_listen_fd_is_listening(fd);

    if (!family) {
        snprintf(err, errlen, "%s: descriptor %d is not a listening socket", how, fd);
        return -1;
    }
    wf_set_cloexec(fd, 1);
    out->fd = fd;
    out->family = family;
    out->source = src;
    out->inherited = 1;
    describe_fd(fd, out->desc, sizeof out->desc, how);
    return 0;
}

int wf_listen_open(const struct wf_config *cfg, struct wf_listener *out,
                   char *err, size_t errlen)
{
    int sd;

    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (cfg->cgi) {
        out->source = WF_SRC_CGI;
        snprintf(out->desc, sizeof out->desc, "CGI");
        return 0;
    }
    if (cfg->socket_arg) {
        return wf_listen_open_addr(&cfg->addr, cfg->socket_mode, cfg->socket_owner, cfg->backlog,
                                   out, err, errlen);
    }
    if (cfg->fd >= 0)
        return adopt_fd(cfg->fd, WF_SRC_FD, "--fd", out, err, errlen);
    if (wf_listen_fd_is_listening(0))
        return adopt_fd(0, WF_SRC_FD0, "fd 0", out, err, errlen);
    sd = wf_listen_systemd_fd(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), (long)getpid(),
                              err, errlen);
    if (sd < 0)
        return -1;
    if (sd > 0) {
        /* The variables are for us alone: children must not see them. */
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        return adopt_fd(sd, WF_SRC_SYSTEMD, "systemd", out, err, errlen);
    }
    out->source = WF_SRC_CGI;
    snprintf(out->desc, sizeof out->desc, "CGI");
    return 0;
}

int wf_listen_open_addr(const struct wf_addr *addr, unsigned mode, const char *owner,
                        unsigned backlog, struct wf_listener *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    out->source = WF_SRC_SOCKET;
    return addr->kind == WF_ADDR_UNIX ? open_unix(addr, mode, owner, backlog, out, err, errlen)
                                      : open_tcp(addr, backlog, out, err, errlen);
}

int wf_listen_loopback_only(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET) {
        const unsigned char *a = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
        return a[0] == 127;
    }
    if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) ||
               (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return -1;
}

void wf_listen_close(struct wf_listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    if (l->unlink_path[0]) {
        if (unlink(l->unlink_path) < 0 && errno != ENOENT)
            wf_log(WF_LOG_WARNING, "cannot remove socket %s: %s", l->unlink_path, strerror(errno));
        l->unlink_path[0] = '\0';
    }
}
