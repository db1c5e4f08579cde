/*
 * stats.h - the --stats socket, served by the master: a JSON snapshot of
 * the master and its workers (a plain connection that sends nothing, or
 * GET / over HTTP), and the Prometheus text exposition format 0.0.4 on
 * GET /metrics, aggregated over every worker and kept across worker
 * restarts.  Everything comes from the shared scoreboard and the master's
 * own counts: no Python, no worker is asked.
 *
 * Clients are handled without blocking the master: a connection is read as
 * its bytes arrive; one that has sent nothing after WF_STATS_SILENCE_MS
 * gets the JSON snapshot, as a plain connect-and-read health check expects.
 */
#ifndef WF_STATS_H
#define WF_STATS_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "scoreboard.h"

#define WF_STATS_CLIENTS 16
#define WF_STATS_SILENCE_MS 200

/* What the master shows. */
struct wf_stats_view {
    pid_t pid;
    long long started_ms;
    unsigned target, generation;
    int stopping;
    unsigned long long reaped;
    struct wf_scoreboard *board;
    const struct wf_counter_totals *retired;    /* workers that are gone */
    const unsigned long long *restarts;         /* [WF_STOP_CAUSES] */
    int listen_fd;                              /* for the backlog depth */
    pid_t zygote;                               /* --preload: the serving
                                                 * generation's zygote, or 0 */
    unsigned long long zygote_restarts;         /* zygotes that died and were
                                                 * replaced */
};

struct wf_stats_client {
    int fd;                     /* -1: free */
    long long deadline_ms;      /* silent until then: the JSON snapshot */
    size_t len;
    char req[1024];
};

struct wf_stats {
    int listen_fd;
    struct wf_stats_client clients[WF_STATS_CLIENTS];
};

void wf_stats_init(struct wf_stats *st, int listen_fd);
/* Fills p with the descriptors to watch (at most WF_STATS_CLIENTS + 1);
 * returns how many. */
int wf_stats_pollfds(const struct wf_stats *st, struct pollfd *p);
/* After poll: accepts, reads and answers (p, n as filled and polled). */
void wf_stats_handle(struct wf_stats *st, const struct pollfd *p, int n, const struct wf_stats_view *v,
                     long long now);
void wf_stats_close(struct wf_stats *st);

/* The two documents (malloc'd, NUL-terminated; NULL when out of memory). */
char *wf_stats_json(const struct wf_stats_view *v, size_t *len);
char *wf_stats_metrics(const struct wf_stats_view *v, size_t *len);

#endif
