/*
 * io.c - EINTR- and short-transfer-safe descriptor I/O.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

int wf_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

ssize_t wf_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Waits until fd is ready for events; 0, or -1 with ETIMEDOUT. */
static int wait_ready(int fd, short events, int timeout_ms)
{
    struct pollfd p = { fd, events, 0 };
    int rc;

    do
        rc = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

ssize_t wf_recv_some(int fd, void *buf, size_t len, int timeout_ms)
{
    for (;;) {
        ssize_t r = recv(fd, buf, len, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (wait_ready(fd, POLLIN, timeout_ms) < 0)
            return -1;
    }
}

int wf_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    struct iovec iov = { (void *)buf, len };

    return wf_sendv_all(fd, &iov, 1, timeout_ms);
}

int wf_sendv_all(int fd, struct iovec *iov, int cnt, int timeout_ms)
{
    while (cnt > 0) {
        ssize_t w;

        if (iov->iov_len == 0) {
            iov++;
            cnt--;
            continue;
        }
        w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            if (wait_ready(fd, POLLOUT, timeout_ms) < 0)
                return -1;
            continue;
        }
        while (cnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wf_linger(int fd, int ms)
{
    char sink[65536];
    long long deadline = mono_ms() + ms;

    if (shutdown(fd, SHUT_WR) == 0) {
        for (;;) {
            long long left = deadline - mono_ms();
            struct pollfd p = { fd, POLLIN, 0 };
            ssize_t r;

            if (left <= 0)
                break;
            r = poll(&p, 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            r = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
            if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
                continue;
            if (r <= 0)
                break;
        }
    }
}

int wf_set_cloexec(int fd, int on)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags < 0)
        return -1;
    flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
    return fcntl(fd, F_SETFD, flags) < 0 ? -1 : 0;
}

int wf_set_nonblock(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}
