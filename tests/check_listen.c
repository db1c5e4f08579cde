/*
 * check_listen.c - unit tests of the listening socket's sources
 * (src/listen.h): socket activation variables, the listening-socket probe,
 * and wf_listen_open on real unix and TCP sockets in a temp directory.
 *
 * The cases that hand a descriptor over at a fixed number (fd 0, systemd's
 * fd 3) run in a grandchild process: Check's forked child keeps its own
 * result channel on a low descriptor, which must not be overwritten.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_suites.h"
#include "config.h"
#include "listen.h"
#include "log.h"

#define ARGV(...) ((char *[]){ "wsgi-fcgi", __VA_ARGS__, NULL })

static char err[512];
static char dir[64];
static char sock_path[96];

static void tmpdir_setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/wf-check-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock_path, sizeof sock_path, "%s/app.sock", dir);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
}

static void tmpdir_teardown(void)
{
    unlink(sock_path);
    rmdir(dir);
}

static int argc_of(char **argv)
{
    int n = 0;

    while (argv[n])
        n++;
    return n;
}

static void cfg_from(struct wf_config *cfg, char **argv)
{
    err[0] = '\0';
    ck_assert_msg(wf_config_parse(cfg, argc_of(argv), argv, err, sizeof err) == WF_CONFIG_RUN,
                  "config rejected: %s", err);
}

/* A unix socket bound to path; listening when backlog >= 0. */
static int unix_socket_at(const char *path, int backlog)
{
    struct sockaddr_un un;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
    if (backlog >= 0)
        ck_assert_int_eq(listen(fd, backlog), 0);
    return fd;
}

/* 0 when a client connects to the unix socket at path. */
static int unix_connect(const char *path)
{
    struct sockaddr_un un;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

    ck_assert_int_ge(fd, 0);
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
    rc = connect(fd, (struct sockaddr *)&un, sizeof un);
    close(fd);
    return rc;
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static unsigned free_port(void)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    close(fd);
    return ntohs(in.sin_port);
}

static int tcp_connect(int family, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, SOCK_STREAM, 0), rc;

    ck_assert_int_ge(fd, 0);
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in->sin_port = htons((unsigned short)port);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        in6->sin6_port = htons((unsigned short)port);
        len = sizeof *in6;
    }
    rc = connect(fd, (struct sockaddr *)&ss, len);
    close(fd);
    return rc;
}

/* Runs fn in a grandchild; fn returns 0, or 1 after a failed CHILD_CHECK. */
static void in_child(int (*fn)(void))
{
    pid_t pid = fork();
    int st;

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(fn());
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "the child died (status %d)", st);
    ck_assert_msg(WEXITSTATUS(st) == 0, "the child failed a check (see its line on stderr)");
}

/* In a grandchild: says which check failed, on stderr, and returns 1. */
#define CHILD_CHECK(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: child check failed: %s (%s)\n", __FILE__,      \
                    __LINE__, #cond, err);                                         \
            return 1;                                                              \
        }                                                                          \
    } while (0)

/* ---- wf_listen_systemd_fd ---------------------------------------------------------- */

START_TEST(systemd_vars)
{
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_systemd_fd(NULL, NULL, 100, err, sizeof err), 0);
    ck_assert_int_eq(wf_listen_systemd_fd("100", NULL, 100, err, sizeof err), 0);
    ck_assert_int_eq(wf_listen_systemd_fd(NULL, "1", 100, err, sizeof err), 0);
    ck_assert_int_eq(wf_listen_systemd_fd("101", "1", 100, err, sizeof err), 0);   /* other pid */
    ck_assert_int_eq(wf_listen_systemd_fd("100", "1", 100, err, sizeof err), 3);
    ck_assert_int_eq(wf_listen_systemd_fd("100", "0", 100, err, sizeof err), 0);
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(systemd_malformed)
{
    static const char *const bad_fds[] = { "2", "3", "1024", "x", "1x", "", "-1", "+1", " 1",
                                           "99999999999999999999" };
    static const char *const bad_pid[] = { "x", "", "-100", "100x", "0" };
    size_t i;

    for (i = 0; i < sizeof bad_fds / sizeof bad_fds[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(wf_listen_systemd_fd("100", bad_fds[i], 100, err, sizeof err) == -1,
                      "LISTEN_FDS='%s' accepted", bad_fds[i]);
        ck_assert_msg(err[0] != '\0', "LISTEN_FDS='%s': no message", bad_fds[i]);
    }
    for (i = 0; i < sizeof bad_pid / sizeof bad_pid[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(wf_listen_systemd_fd(bad_pid[i], "1", 100, err, sizeof err) == -1,
                      "LISTEN_PID='%s' accepted", bad_pid[i]);
        ck_assert_msg(err[0] != '\0', "LISTEN_PID='%s': no message", bad_pid[i]);
    }
}
END_TEST

/* ---- wf_listen_fd_is_listening -------------------------------------------------------- */

START_TEST(probe_kinds)
{
    int sv[2], pfd[2], lfd, bfd, ufd;
    char path2[96];

    lfd = unix_socket_at(sock_path, 5);
    ck_assert_int_eq(wf_listen_fd_is_listening(lfd), AF_UNIX);

    snprintf(path2, sizeof path2, "%s/bound.sock", dir);
    bfd = unix_socket_at(path2, -1);                 /* bound, not listening */
    ck_assert_int_eq(wf_listen_fd_is_listening(bfd), 0);

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(sv[0]), 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(sv[1]), 0);

    ck_assert_int_eq(pipe(pfd), 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(pfd[0]), 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(pfd[1]), 0);

    ufd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(ufd, 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(ufd), 0);

    ck_assert_int_eq(wf_listen_fd_is_listening(-1), 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(987), 0);    /* not open */

    close(lfd);
    close(bfd);
    unlink(path2);
    close(sv[0]);
    close(sv[1]);
    close(pfd[0]);
    close(pfd[1]);
    close(ufd);
}
END_TEST

/* ---- wf_listen_open: unix sockets -------------------------------------------------------- */

START_TEST(unix_create)
{
    struct wf_config cfg;
    struct wf_listener l;
    struct stat st;
    mode_t um;

    umask(022);
    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    err[0] = '\0';
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open failed: %s", err);
    ck_assert_int_eq(l.source, WF_SRC_SOCKET);
    ck_assert_int_ge(l.fd, 0);
    ck_assert_int_eq(l.family, AF_UNIX);
    ck_assert_int_eq(l.inherited, 0);
    ck_assert_str_eq(l.unlink_path, sock_path);
    ck_assert_ptr_nonnull(strstr(l.desc, sock_path));
    ck_assert_int_eq(wf_listen_fd_is_listening(l.fd), AF_UNIX);
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_msg((st.st_mode & 07777) == 0660, "mode %o, not 0660", st.st_mode & 07777);
    /* The umask is restored. */
    um = umask(0);
    ck_assert_uint_eq(um, 022);
    umask(um);
    /* Close on exec: a worker's children must not inherit it. */
    ck_assert(fcntl(l.fd, F_GETFD) & FD_CLOEXEC);
    ck_assert_int_eq(unix_connect(sock_path), 0);

    wf_listen_close(&l);
    ck_assert_int_eq(l.fd, -1);
    ck_assert_int_eq(lstat(sock_path, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
    wf_listen_close(&l);              /* twice is harmless */
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_mode_option)
{
    struct wf_config cfg;
    struct wf_listener l;
    struct stat st;

    umask(077);    /* the requested mode wins over a stricter umask */
    cfg_from(&cfg, ARGV("-s", sock_path, "--socket-mode", "0640", "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open failed: %s", err);
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert_msg((st.st_mode & 07777) == 0640, "mode %o, not 0640", st.st_mode & 07777);
    wf_listen_close(&l);
    wf_config_free(&cfg);

    umask(0);      /* a lax umask must not widen the default */
    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open failed: %s", err);
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert_msg((st.st_mode & 07777) == 0660, "mode %o, not 0660", st.st_mode & 07777);
    wf_listen_close(&l);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_world_writable_warns)
{
    struct wf_config cfg;
    struct wf_listener l;
    int logfd = temp_fd();
    char *log;

    wf_log_set_fd(logfd);
    cfg_from(&cfg, ARGV("-s", sock_path, "--socket-mode", "0666", "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open failed: %s", err);
    log = slurp_fd(logfd, NULL);
    ck_assert_msg(strstr(log, "[warning]") && strstr(log, sock_path),
                  "no warning about a world-writable socket: '%s'", log);
    free(log);
    wf_listen_close(&l);
    wf_config_free(&cfg);

    /* 0660 (the default) says nothing. */
    ck_assert_int_eq(ftruncate(logfd, 0), 0);
    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open failed: %s", err);
    log = slurp_fd(logfd, NULL);
    ck_assert_str_eq(log, "");
    free(log);
    wf_listen_close(&l);
    wf_config_free(&cfg);
    wf_log_set_fd(2);
    close(logfd);
}
END_TEST

START_TEST(unix_socket_owner)
{
    struct wf_config cfg;
    struct wf_listener l;
    struct stat st;
    char owner[64];

    /* Our own uid:gid, by number: chown to oneself needs no privilege. */
    snprintf(owner, sizeof owner, "%ld:%ld", (long)getuid(), (long)getgid());
    cfg_from(&cfg, ARGV("-s", sock_path, "--socket-owner", owner, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open failed: %s", err);
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert_int_eq(st.st_uid, getuid());
    ck_assert_int_eq(st.st_gid, getgid());
    wf_listen_close(&l);
    wf_config_free(&cfg);

    cfg_from(&cfg, ARGV("-s", sock_path, "--socket-owner", "no-such-user-wf", "app.py"));
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no-such-user-wf") != NULL, "message does not name the user: %s", err);
    ck_assert_int_eq(access(sock_path, F_OK), -1);      /* nothing left behind */
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_live_path_refused)
{
    struct wf_config cfg;
    struct wf_listener a, b;

    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &a, err, sizeof err) == 0, "open failed: %s", err);
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_open(&cfg, &b, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no message");
    ck_assert_msg(strstr(err, sock_path) != NULL, "message does not name the path: %s", err);
    /* The live server keeps its socket file and still answers. */
    ck_assert_int_eq(unix_connect(sock_path), 0);
    ck_assert_int_eq(wf_listen_fd_is_listening(a.fd), AF_UNIX);
    wf_listen_close(&a);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_live_foreign_socket_refused)
{
    /* A socket some other program listens on is not ours to replace. */
    struct wf_config cfg;
    struct wf_listener l;
    int other = unix_socket_at(sock_path, 5);

    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no message");
    ck_assert_int_eq(unix_connect(sock_path), 0);
    close(other);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_stale_replaced)
{
    struct wf_config cfg;
    struct wf_listener l;
    int old = unix_socket_at(sock_path, 5);
    struct stat st;

    close(old);                           /* the file stays, nobody listens */
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_int_ne(unix_connect(sock_path), 0);

    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "stale socket not replaced: %s", err);
    ck_assert_int_eq(wf_listen_fd_is_listening(l.fd), AF_UNIX);
    ck_assert_int_eq(unix_connect(sock_path), 0);
    wf_listen_close(&l);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_regular_file_kept)
{
    struct wf_config cfg;
    struct wf_listener l;
    int fd = open(sock_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    char buf[16] = { 0 };
    struct stat st;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "precious", 8), 8);
    close(fd);

    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no message");
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    fd = open(sock_path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, buf, sizeof buf - 1), 8);
    ck_assert_str_eq(buf, "precious");
    close(fd);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_directory_kept)
{
    struct wf_config cfg;
    struct wf_listener l;
    struct stat st;

    ck_assert_int_eq(mkdir(sock_path, 0755), 0);
    cfg_from(&cfg, ARGV("-s", sock_path, "app.py"));
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), -1);
    ck_assert_int_eq(lstat(sock_path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    rmdir(sock_path);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(unix_missing_directory)
{
    struct wf_config cfg;
    struct wf_listener l;
    char path[200];

    snprintf(path, sizeof path, "%s/no/such/dir.sock", dir);
    cfg_from(&cfg, ARGV("-s", path, "app.py"));
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) != NULL, "message does not name the path: %s", err);
    wf_config_free(&cfg);
}
END_TEST

/* ---- wf_listen_open: TCP ------------------------------------------------------------------- */

START_TEST(tcp_loopback)
{
    struct wf_config cfg;
    struct wf_listener l;
    char addr[64];
    unsigned port = free_port();

    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    cfg_from(&cfg, ARGV("-s", addr, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open %s failed: %s", addr, err);
    ck_assert_int_eq(l.source, WF_SRC_SOCKET);
    ck_assert_int_eq(l.family, AF_INET);
    ck_assert_str_eq(l.unlink_path, "");
    ck_assert_int_eq(wf_listen_fd_is_listening(l.fd), AF_INET);
    ck_assert_ptr_nonnull(strstr(l.desc, addr));
    ck_assert_int_eq(tcp_connect(AF_INET, port), 0);

    /* The port is taken now: a second server must fail with a message. */
    {
        struct wf_listener b;
        err[0] = '\0';
        ck_assert_int_eq(wf_listen_open(&cfg, &b, err, sizeof err), -1);
        ck_assert_msg(err[0] != '\0', "no message");
    }
    wf_listen_close(&l);
    ck_assert_int_eq(l.fd, -1);
    ck_assert_int_ne(tcp_connect(AF_INET, port), 0);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(tcp_ipv6_loopback)
{
    struct wf_config cfg;
    struct wf_listener l;
    char addr[64];
    unsigned port = free_port();
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 in6;

    /* Skipped (passes) where the host has no IPv6 loopback. */
    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    in6.sin6_addr = in6addr_loopback;
    if (probe < 0 || bind(probe, (struct sockaddr *)&in6, sizeof in6) < 0) {
        if (probe >= 0)
            close(probe);
        return;
    }
    close(probe);
    snprintf(addr, sizeof addr, "[::1]:%u", port);
    cfg_from(&cfg, ARGV("-s", addr, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "open %s failed: %s", addr, err);
    ck_assert_int_eq(l.family, AF_INET6);
    ck_assert_int_eq(wf_listen_fd_is_listening(l.fd), AF_INET6);
    ck_assert_int_eq(tcp_connect(AF_INET6, port), 0);
    wf_listen_close(&l);
    wf_config_free(&cfg);
}
END_TEST

/* ---- wf_listen_open: other sources ---------------------------------------------------------- */

START_TEST(source_cgi)
{
    struct wf_config cfg;
    struct wf_listener l;

    cfg_from(&cfg, ARGV("--cgi", "app.py"));
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), 0);
    ck_assert_int_eq(l.source, WF_SRC_CGI);
    ck_assert_int_eq(l.fd, -1);
    wf_listen_close(&l);
    wf_config_free(&cfg);
}
END_TEST

START_TEST(source_fd_option)
{
    struct wf_config cfg;
    struct wf_listener l;
    int lfd = unix_socket_at(sock_path, 5), pfd[2];
    char num[16];

    snprintf(num, sizeof num, "%d", lfd);
    cfg_from(&cfg, ARGV("--fd", num, "app.py"));
    ck_assert_msg(wf_listen_open(&cfg, &l, err, sizeof err) == 0, "--fd %d refused: %s", lfd, err);
    ck_assert_int_eq(l.source, WF_SRC_FD);
    ck_assert_int_eq(l.fd, lfd);
    ck_assert_int_eq(l.family, AF_UNIX);
    ck_assert_int_eq(l.inherited, 1);
    ck_assert_str_eq(l.unlink_path, "");       /* not ours to remove */
    wf_listen_close(&l);
    ck_assert_int_eq(access(sock_path, F_OK), 0);
    wf_config_free(&cfg);

    ck_assert_int_eq(pipe(pfd), 0);
    snprintf(num, sizeof num, "%d", pfd[0]);
    cfg_from(&cfg, ARGV("--fd", num, "app.py"));
    err[0] = '\0';
    ck_assert_int_eq(wf_listen_open(&cfg, &l, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no message");
    wf_config_free(&cfg);
    close(pfd[0]);
    close(pfd[1]);
}
END_TEST

static int child_fd0(void)
{
    struct wf_config cfg;
    struct wf_listener l;
    int lfd = unix_socket_at(sock_path, 5);

    CHILD_CHECK(dup2(lfd, 0) == 0);
    close(lfd);
    cfg_from(&cfg, ARGV("app.py"));
    CHILD_CHECK(wf_listen_open(&cfg, &l, err, sizeof err) == 0);
    CHILD_CHECK(l.source == WF_SRC_FD0);
    CHILD_CHECK(l.fd == 0);
    CHILD_CHECK(l.family == AF_UNIX);
    CHILD_CHECK(l.inherited == 1);
    wf_config_free(&cfg);
    return 0;
}

START_TEST(source_fd0)
{
    in_child(child_fd0);
}
END_TEST

static int null_stdin(void)
{
    int fd = open("/dev/null", O_RDONLY);

    if (fd < 0 || dup2(fd, 0) != 0)
        return -1;
    close(fd);
    return 0;
}

static int child_systemd(void)
{
    struct wf_config cfg;
    struct wf_listener l;
    char pid[32];
    int lfd = unix_socket_at(sock_path, 5);

    CHILD_CHECK(null_stdin() == 0);
    CHILD_CHECK(dup2(lfd, 3) == 3);
    close(lfd);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_FDNAMES", "app", 1);
    cfg_from(&cfg, ARGV("app.py"));
    CHILD_CHECK(wf_listen_open(&cfg, &l, err, sizeof err) == 0);
    CHILD_CHECK(l.source == WF_SRC_SYSTEMD);
    CHILD_CHECK(l.fd == 3);
    CHILD_CHECK(l.family == AF_UNIX);
    CHILD_CHECK(l.inherited == 1);
    /* The variables were for this process only. */
    CHILD_CHECK(getenv("LISTEN_PID") == NULL);
    CHILD_CHECK(getenv("LISTEN_FDS") == NULL);
    CHILD_CHECK(getenv("LISTEN_FDNAMES") == NULL);
    wf_config_free(&cfg);
    return 0;
}

START_TEST(source_systemd)
{
    in_child(child_systemd);
}
END_TEST

static int child_systemd_two(void)
{
    struct wf_config cfg;
    struct wf_listener l;
    char pid[32];

    CHILD_CHECK(null_stdin() == 0);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "2", 1);
    cfg_from(&cfg, ARGV("app.py"));
    err[0] = '\0';
    CHILD_CHECK(wf_listen_open(&cfg, &l, err, sizeof err) == -1);
    CHILD_CHECK(err[0] != '\0');
    wf_config_free(&cfg);
    return 0;
}

START_TEST(source_systemd_two_fds)
{
    in_child(child_systemd_two);
}
END_TEST

static int child_nothing(void)
{
    struct wf_config cfg;
    struct wf_listener l;

    CHILD_CHECK(null_stdin() == 0);
    setenv("LISTEN_PID", "1", 1);     /* for another process */
    setenv("LISTEN_FDS", "1", 1);
    cfg_from(&cfg, ARGV("app.py"));
    CHILD_CHECK(wf_listen_open(&cfg, &l, err, sizeof err) == 0);
    CHILD_CHECK(l.source == WF_SRC_CGI);
    CHILD_CHECK(l.fd == -1);
    wf_config_free(&cfg);
    return 0;
}

START_TEST(source_fallback_cgi)
{
    in_child(child_nothing);
}
END_TEST

Suite *suite_listen(void)
{
    Suite *s = suite_create("listen");
    TCase *env = tcase_create("systemd_vars");
    TCase *probe = tcase_create("probe");
    TCase *un = tcase_create("unix");
    TCase *tcp = tcase_create("tcp");
    TCase *src = tcase_create("sources");

    tcase_add_test(env, systemd_vars);
    tcase_add_test(env, systemd_malformed);
    suite_add_tcase(s, env);

    tcase_add_checked_fixture(probe, tmpdir_setup, tmpdir_teardown);
    tcase_add_test(probe, probe_kinds);
    suite_add_tcase(s, probe);

    tcase_add_checked_fixture(un, tmpdir_setup, tmpdir_teardown);
    tcase_add_test(un, unix_create);
    tcase_add_test(un, unix_mode_option);
    tcase_add_test(un, unix_world_writable_warns);
    tcase_add_test(un, unix_socket_owner);
    tcase_add_test(un, unix_live_path_refused);
    tcase_add_test(un, unix_live_foreign_socket_refused);
    tcase_add_test(un, unix_stale_replaced);
    tcase_add_test(un, unix_regular_file_kept);
    tcase_add_test(un, unix_directory_kept);
    tcase_add_test(un, unix_missing_directory);
    suite_add_tcase(s, un);

    tcase_add_checked_fixture(tcp, tmpdir_setup, tmpdir_teardown);
    tcase_add_test(tcp, tcp_loopback);
    tcase_add_test(tcp, tcp_ipv6_loopback);
    suite_add_tcase(s, tcp);

    tcase_add_checked_fixture(src, tmpdir_setup, tmpdir_teardown);
    tcase_add_test(src, source_cgi);
    tcase_add_test(src, source_fd_option);
    tcase_add_test(src, source_fd0);
    tcase_add_test(src, source_systemd);
    tcase_add_test(src, source_systemd_two_fds);
    tcase_add_test(src, source_fallback_cgi);
    suite_add_tcase(s, src);
    return s;
}
