/*
 * accept.c - the accept loop shared by the socket front ends.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front.h"
#include "io.h"
#include "log.h"
#include "scoreboard.h"

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

int wf_accept_init(struct wf_server *srv, char *err, size_t errlen)
{
    if (wf_set_nonblock(srv->listen_fd, 1) < 0) {
        snprintf(err, errlen, "listening socket: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int wf_accept_waiting(void)
{
    unsigned i;

    /* Idle acceptors of every live worker count (every socket server runs
     * under a master).  Per-slot counts die with their worker: the master
     * clears a reaped slot. */
    if (!wf_board)
        return 0;
    for (i = 0; i < wf_board->nslots; i++) {
        struct wf_worker_slot *s = wf_scoreboard_slot(wf_board, i);
        if (atomic_load(&s->state) != WF_SLOT_FREE && atomic_load(&s->acceptors) > 0)
            return 1;
    }
    return 0;
}

/* Under load a connection is usually waiting: try accept first and poll
 * only when there is none (the socket is non-blocking). */
static int try_accept(struct wf_server *srv)
{
    int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd >= 0)
        return fd;
    switch (errno) {
    case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN:
    case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH:
    case EOPNOTSUPP: case ENETUNREACH: case ECONNRESET: case ETIMEDOUT:
        break;
    default:
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM: back off, keep serving. */
        wf_log(WF_LOG_ERROR, "accept: %s", strerror(errno));
        usleep(100000);
    }
    return -1;
}

int wf_accept(struct wf_server *srv)
{
    int fd = -1;

    pthread_mutex_lock(&accept_lock);
    while (!srv->stopping && (fd = try_accept(srv)) < 0) {
        struct pollfd p[2] = { { srv->listen_fd, POLLIN, 0 }, { srv->wake_fd, POLLIN, 0 } };
        int rc;

        if (wf_my_slot)
            atomic_fetch_add(&wf_my_slot->acceptors, 1);
        rc = poll(p, 2, -1);
        if (wf_my_slot)
            atomic_fetch_sub(&wf_my_slot->acceptors, 1);
        if (rc < 0 && errno != EINTR) {
            wf_log(WF_LOG_ERROR, "poll on the listening socket: %s", strerror(errno));
            usleep(100000);
        }
    }
    pthread_mutex_unlock(&accept_lock);
    if (fd >= 0 && (srv->listen_family == AF_INET || srv->listen_family == AF_INET6)) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}
