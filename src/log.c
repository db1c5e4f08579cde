/*
 * log.c - the single writer of log lines.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"

static int log_fd = 2;
static enum wf_log_level log_min = WF_LOG_INFO;

static __thread wf_log_mirror_fn mirror_fn;
static __thread void *mirror_ctx;

void wf_log_set_mirror(wf_log_mirror_fn fn, void *ctx)
{
    mirror_fn = fn;
    mirror_ctx = ctx;
}

static const char *const level_names[] = { "debug", "info", "warning", "error", "app" };

void wf_log_set_level(enum wf_log_level level) { log_min = level; }
void wf_log_set_fd(int fd) { log_fd = fd; }
int wf_log_get_fd(void) { return log_fd; }

/* Writes the prefix into buf (at least 64 bytes); returns its length. */
static size_t log_prefix(char *buf, size_t cap, enum wf_log_level level)
{
    struct timespec ts;
    struct tm tm;
    size_t n;
    int m;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, cap, "[%Y-%m-%d %H:%M:%S +0000] ", &tm);
    m = snprintf(buf + n, cap - n, "[%ld] [%s] ", (long)getpid(), level_names[level]);
    if (m < 0)
        return n;
    return n + (size_t)m < cap ? n + (size_t)m : cap - 1;
}

/* Lines that could not be written (a full disk, a file gone), counted so
 * that the next line that can be written first says how many were lost. */
static _Atomic unsigned long lost_lines, lost_access;
static _Atomic int lost_errno;

/* A line a full disk cut short.  The part written is taken back when the
 * file still ends with it (on a full disk nobody else can have appended
 * since); where it cannot be (a pipe, a race with freed space), the next
 * line written to that file starts with a newline, so the fragment stands
 * alone.  Either way the lines after it are whole. */
static _Atomic int log_cut, access_cut;

static void unwrite(int fd, _Atomic int *cut, size_t n)
{
    int e = errno;
    off_t end = lseek(fd, 0, SEEK_CUR);
    struct stat st;

    if (end < (off_t)n || fstat(fd, &st) < 0 || st.st_size != end ||
        ftruncate(fd, end - (off_t)n) < 0)
        atomic_store(cut, 1);
    errno = e;
}

/* Writes one whole line; -1 (errno set) when it could not. */
static int write_line(int fd, _Atomic int *cut, const char *buf, size_t len)
{
    size_t done = 0;

    if (atomic_exchange(cut, 0) && wf_write_all(fd, "\n", 1) < 0) {
        atomic_store(cut, 1);
        return -1;
    }
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (done)
                unwrite(fd, cut, done);
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

/* A fresh (empty) file holds no cut line to end. */
static void forget_cut(int fd, _Atomic int *cut)
{
    struct stat st;

    if (fstat(fd, &st) == 0 && st.st_size == 0)
        atomic_store(cut, 0);
}

static void report_losses(void)
{
    unsigned long lines = atomic_exchange(&lost_lines, 0), access = atomic_exchange(&lost_access, 0);
    char line[512];
    size_t n;
    int m;

    if (!lines && !access)
        return;
    n = log_prefix(line, sizeof line, WF_LOG_WARNING);
    m = snprintf(line + n, sizeof line - n, "%lu log line%s and %lu access log line%s could not be "
                 "written (%s)\n", lines, lines == 1 ? "" : "s", access, access == 1 ? "" : "s",
                 strerror(atomic_load(&lost_errno)));
    if (m > 0)
        n += (size_t)m < sizeof line - n ? (size_t)m : sizeof line - n - 1;
    if (write_line(log_fd, &log_cut, line, n) < 0) {
        atomic_fetch_add(&lost_lines, lines);
        atomic_fetch_add(&lost_access, access);
    }
}

static void log_write(const char *buf, size_t len)
{
    if (mirror_fn)
        mirror_fn(mirror_ctx, buf, len);
    if (atomic_load_explicit(&lost_lines, memory_order_relaxed) ||
        atomic_load_explicit(&lost_access, memory_order_relaxed))
        report_losses();
    if (write_line(log_fd, &log_cut, buf, len) < 0) {
        atomic_store(&lost_errno, errno);
        atomic_fetch_add(&lost_lines, 1);
    }
}

void wf_log(enum wf_log_level level, const char *fmt, ...)
{
    char line[4096];
    size_t n;
    int m;
    va_list ap;

    if (level < log_min)
        return;
    n = log_prefix(line, sizeof line, level);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    line[n++] = '\n';
    log_write(line, n);
}

void wf_log_text(enum wf_log_level level, const char *text, size_t len)
{
    char line[4096];

    if (level < log_min)
        return;
    while (len > 0) {
        const char *nl = memchr(text, '\n', len);
        size_t linelen = nl ? (size_t)(nl - text) : len;
        size_t n = log_prefix(line, sizeof line, level);
        size_t room = sizeof line - n - 1;
        size_t take = linelen < room ? linelen : room;

        memcpy(line + n, text, take);
        n += take;
        line[n++] = '\n';
        log_write(line, n);
        if (!nl)
            break;
        len -= linelen + 1;
        text = nl + 1;
    }
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int wf_log_open_file(const char *path)
{
    int fd = open_append(path);

    if (fd < 0)
        return -1;
    if (dup2(fd, 2) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    log_fd = 2;
    forget_cut(log_fd, &log_cut);
    return 0;
}

int wf_log_reopen(const char *path)
{
    if (wf_log_open_file(path) < 0)
        return -1;
    report_losses();      /* what the old file could not take, if anything */
    return 0;
}

static int access_fd = -1;
static const char *access_path;

int wf_access_log_open(const char *path)
{
    if (strcmp(path, "-") == 0) {
        access_fd = 2;
        access_path = NULL;
        return 0;
    }
    access_fd = open_append(path);
    access_path = path;
    return access_fd < 0 ? -1 : 0;
}

void wf_access_log_reopen(void)
{
    int fd;

    if (!access_path || access_fd < 0)
        return;
    fd = open_append(access_path);
    if (fd < 0) {
        wf_log(WF_LOG_ERROR, "reopening %s: %s", access_path, strerror(errno));
        return;
    }
    dup2(fd, access_fd);
    close(fd);
    forget_cut(access_fd, &access_cut);
}

int wf_access_log_enabled(void)
{
    return access_fd >= 0;
}

void wf_access_log_write(const char *line, size_t len)
{
    if (access_fd >= 0 && write_line(access_fd, &access_cut, line, len) < 0) {
        atomic_store(&lost_errno, errno);
        atomic_fetch_add(&lost_access, 1);
    }
}
