/*
 * stats.c - see stats.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "stats.h"

#define WRITE_TIMEOUT_MS 1000

/* ---- what the documents are made of -------------------------------------- */

static long rss_kb(pid_t pid)
{
    char path[64], buf[256];
    long pages = 0, resident = 0;
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (sscanf(buf, "%ld %ld", &pages, &resident) != 2)
        return -1;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Connections waiting in the listening socket's accept queue, or -1. */
static long long unix_backlog(int fd)
{
    struct stat st;
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req r;
    } req;
    union {
        struct nlmsghdr nlh;
        char buf[8192];
    } resp;
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
    long long depth = -1;
    ssize_t n;
    int s;

    if (fstat(fd, &st) < 0)
        return -1;
    s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (s < 0)
        return -1;
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.r.sdiag_family = AF_UNIX;
    req.r.udiag_states = 1u << 10;              /* TCP_LISTEN */
    req.r.udiag_ino = (unsigned)st.st_ino;
    req.r.udiag_show = UDIAG_SHOW_RQLEN;
    req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0u;   /* no cookie */
    if (sendto(s, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) == (ssize_t)sizeof req) {
        struct timeval tv = { 0, 200000 };
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        n = recv(s, &resp, sizeof resp, 0);
        if (n > 0 && NLMSG_OK(&resp.nlh, (size_t)n) && resp.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            struct unix_diag_msg *m = NLMSG_DATA(&resp.nlh);
            struct rtattr *a = (struct rtattr *)(m + 1);
            int left = (int)resp.nlh.nlmsg_len - (int)NLMSG_LENGTH(sizeof *m);
            for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
                if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
                    struct unix_diag_rqlen q;
                    memcpy(&q, RTA_DATA(a), sizeof q);
                    depth = q.udiag_rqueue;   /* of a listening socket: its accept queue */
                    break;
                }
            }
        }
    }
    close(s);
    return depth;
}

static long long listen_backlog(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        /* For a listening TCP socket, tcpi_unacked is its accept queue. */
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
            return -1;
        return ti.tcpi_unacked;
    }
    if (ss.ss_family == AF_UNIX)
        return unix_backlog(fd);
    return -1;
}

/* Every live worker's counters plus those of workers that are gone. */
static void sum_counters(const struct wf_stats_view *v, struct wf_counter_totals *t)
{
    unsigned i;

    *t = *v->retired;
    for (i = 0; i < v->board->nslots; i++) {
        struct wf_worker_slot *s = wf_scoreboard_slot(v->board, i);
        if (s->pid)
            wf_counters_add(t, &s->counters);
    }
}

/* ---- the JSON snapshot ---------------------------------------------------- */

char *wf_stats_json(const struct wf_stats_view *v, size_t *lenp)
{
    static const char *const names[] = { "free", "starting", "ready", "stopping" };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    long long now = wf_now_ms();
    unsigned i, t, first = 1;

    if (!f)
        return NULL;
    fprintf(f, "{\"master\": {\"pid\": %d, \"uptime\": %.3f, \"workers\": %u, \"threads\": %u, "
            "\"generation\": %u, \"stopping\": %s, \"reaped\": %llu, \"rss_kb\": %ld, "
            "\"zygote\": %d},\n \"workers\": [",
            (int)v->pid, (now - v->started_ms) / 1000.0, v->target, v->board->threads,
            v->generation, v->stopping ? "true" : "false", v->reaped, rss_kb(v->pid), (int)v->zygote);
    for (i = 0; i < v->board->nslots; i++) {
        struct wf_worker_slot *s = wf_scoreboard_slot(v->board, i);
        int st = atomic_load(&s->state);
        unsigned busy = 0;
        if (!s->pid)
            continue;
        for (t = 0; t < v->board->threads; t++)
            if (atomic_load(&s->threads[t].start_ms))
                busy++;
        fprintf(f, "%s\n  {\"pid\": %d, \"state\": \"%s\", \"generation\": %u, \"requests\": %llu, "
                "\"in_flight\": %d, \"busy_threads\": %u, \"errors\": %llu, \"rss_kb\": %ld, \"uptime\": %.3f, "
                "\"connections\": {\"reading\": %u, \"idle\": %u, \"queued\": %u, \"busy\": %u}}",
                first ? "" : ",", (int)s->pid, names[st & 3], s->generation,
                (unsigned long long)atomic_load(&s->requests), atomic_load(&s->in_flight), busy,
                (unsigned long long)atomic_load(&s->errors), rss_kb(s->pid),
                (now - s->started_ms) / 1000.0, atomic_load(&s->conns_reading),
                atomic_load(&s->conns_idle), atomic_load(&s->conns_ready), atomic_load(&s->conns_busy));
        first = 0;
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *lenp = len;
    return buf;
}

/* ---- Prometheus text exposition, format 0.0.4 ------------------------------ */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *wf_stats_metrics(const struct wf_stats_view *v, size_t *lenp)
{
    static const char *const protos[WF_PROTOS] = { "fastcgi", "scgi" };
    static const char *const classes[WF_STATUS_CLASSES] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
    static const struct { int cause; const char *name; } restarts[] = {
        { WF_STOP_NONE, "crash" }, { WF_STOP_TIMEOUT, "timeout" },
        { WF_STOP_MAX_REQUESTS, "max_requests" }, { WF_STOP_MAX_RSS, "max_rss" },
        { WF_STOP_RELOAD, "reload" }, { WF_STOP_SCALE_DOWN, "scale_down" },
    };
    struct wf_counter_totals t;
    unsigned long long cum = 0, in_flight = 0, conns[4] = { 0, 0, 0, 0 };
    unsigned workers[4] = { 0, 0, 0, 0 };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    long long backlog;
    unsigned i, k;

    if (!f)
        return NULL;
    sum_counters(v, &t);
    for (i = 0; i < v->board->nslots; i++) {
        struct wf_worker_slot *s = wf_scoreboard_slot(v->board, i);
        int n;
        if (!s->pid)
            continue;
        workers[atomic_load(&s->state) & 3]++;
        n = atomic_load(&s->in_flight);
        in_flight += n > 0 ? (unsigned)n : 0;
        conns[0] += atomic_load(&s->conns_reading);
        conns[1] += atomic_load(&s->conns_idle);
        conns[2] += atomic_load(&s->conns_ready);
        conns[3] += atomic_load(&s->conns_busy);
    }

    family(f, "wsgi_fcgi_requests_total", "counter",
           "Requests served, by protocol and status class (none: no status was sent).");
    for (i = 0; i < WF_PROTOS; i++)
        for (k = 0; k < WF_STATUS_CLASSES; k++)
            fprintf(f, "wsgi_fcgi_requests_total{protocol=\"%s\",status=\"%s\"} %llu\n", protos[i],
                    classes[k], t.by_status[i][k]);
    family(f, "wsgi_fcgi_request_duration_seconds", "histogram",
           "Time from a request's complete head to the end of its response.");
    for (i = 0; i < WF_DURATION_BUCKETS; i++) {
        cum += t.duration[i];
        if (i < WF_DURATION_BUCKETS - 1)
            fprintf(f, "wsgi_fcgi_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                    wf_duration_bounds_us[i] / 1e6, cum);
        else
            fprintf(f, "wsgi_fcgi_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    fprintf(f, "wsgi_fcgi_request_duration_seconds_sum %.6f\n", t.duration_sum_us / 1e6);
    fprintf(f, "wsgi_fcgi_request_duration_seconds_count %llu\n", cum);
    family(f, "wsgi_fcgi_requests_in_flight", "gauge", "Requests being served now.");
    fprintf(f, "wsgi_fcgi_requests_in_flight %llu\n", in_flight);
    family(f, "wsgi_fcgi_connections", "gauge",
           "Connections the workers hold, by state: reading a request head, idle (kept between "
           "requests), queued (head complete, waiting for a thread), busy (in a request).");
    fprintf(f, "wsgi_fcgi_connections{state=\"reading\"} %llu\n", conns[0]);
    fprintf(f, "wsgi_fcgi_connections{state=\"idle\"} %llu\n", conns[1]);
    fprintf(f, "wsgi_fcgi_connections{state=\"queued\"} %llu\n", conns[2]);
    fprintf(f, "wsgi_fcgi_connections{state=\"busy\"} %llu\n", conns[3]);
    family(f, "wsgi_fcgi_dispatch_queue_length", "gauge",
           "Connections with a complete request head waiting for a request thread.");
    fprintf(f, "wsgi_fcgi_dispatch_queue_length %llu\n", conns[2]);
    backlog = listen_backlog(v->listen_fd);
    if (backlog >= 0) {
        family(f, "wsgi_fcgi_listen_backlog", "gauge",
               "Connections waiting in the listening socket's backlog to be accepted.");
        fprintf(f, "wsgi_fcgi_listen_backlog %lld\n", backlog);
    }
    family(f, "wsgi_fcgi_connections_accepted_total", "counter", "Connections accepted.");
    fprintf(f, "wsgi_fcgi_connections_accepted_total %llu\n", t.conns_accepted);
    family(f, "wsgi_fcgi_connections_closed_total", "counter",
           "Connections closed by the server before a request: header_timeout (no complete head "
           "in --header-timeout), evicted (idle, for room under --max-connections), refused "
           "(not in --allow-from).");
    fprintf(f, "wsgi_fcgi_connections_closed_total{reason=\"header_timeout\"} %llu\n", t.conns_timed_out);
    fprintf(f, "wsgi_fcgi_connections_closed_total{reason=\"evicted\"} %llu\n", t.conns_evicted);
    fprintf(f, "wsgi_fcgi_connections_closed_total{reason=\"refused\"} %llu\n", t.conns_refused);
    family(f, "wsgi_fcgi_connections_handed_over_total", "counter",
           "Kept connections a stopping worker (reload, --max-requests, --max-rss) handed to the "
           "workers that go on instead of closing them.");
    fprintf(f, "wsgi_fcgi_connections_handed_over_total %llu\n", t.conns_handed);
    family(f, "wsgi_fcgi_worker_restarts_total", "counter",
           "Workers that ended and were replaced, by cause.");
    for (i = 0; i < sizeof restarts / sizeof restarts[0]; i++)
        fprintf(f, "wsgi_fcgi_worker_restarts_total{cause=\"%s\"} %llu\n", restarts[i].name,
                v->restarts[restarts[i].cause]);
    family(f, "wsgi_fcgi_zygote_restarts_total", "counter",
           "--preload: zygotes that died unexpectedly and were replaced (their workers serve on).");
    fprintf(f, "wsgi_fcgi_zygote_restarts_total %llu\n", v->zygote_restarts);
    family(f, "wsgi_fcgi_workers", "gauge", "Worker processes, by state.");
    fprintf(f, "wsgi_fcgi_workers{state=\"starting\"} %u\n", workers[WF_SLOT_STARTING]);
    fprintf(f, "wsgi_fcgi_workers{state=\"ready\"} %u\n", workers[WF_SLOT_READY]);
    fprintf(f, "wsgi_fcgi_workers{state=\"stopping\"} %u\n", workers[WF_SLOT_STOPPING]);
    family(f, "wsgi_fcgi_worker_resident_memory_bytes", "gauge", "Resident memory of each worker.");
    for (i = 0; i < v->board->nslots; i++) {
        struct wf_worker_slot *s = wf_scoreboard_slot(v->board, i);
        long kb;
        if (!s->pid || (kb = rss_kb(s->pid)) < 0)
            continue;
        fprintf(f, "wsgi_fcgi_worker_resident_memory_bytes{pid=\"%d\"} %lld\n", (int)s->pid,
                (long long)kb * 1024);
    }
    family(f, "wsgi_fcgi_master_resident_memory_bytes", "gauge", "Resident memory of the master.");
    fprintf(f, "wsgi_fcgi_master_resident_memory_bytes %lld\n", (long long)rss_kb(v->pid) * 1024);
    family(f, "wsgi_fcgi_uptime_seconds", "gauge", "Seconds since the master started.");
    fprintf(f, "wsgi_fcgi_uptime_seconds %.3f\n", (wf_now_ms() - v->started_ms) / 1000.0);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *lenp = len;
    return buf;
}

/* ---- clients --------------------------------------------------------------- */

void wf_stats_init(struct wf_stats *st, int listen_fd)
{
    unsigned i;

    st->listen_fd = listen_fd;
    for (i = 0; i < WF_STATS_CLIENTS; i++)
        st->clients[i].fd = -1;
}

int wf_stats_pollfds(const struct wf_stats *st, struct pollfd *p)
{
    unsigned i;
    int n = 0;

    if (st->listen_fd < 0)
        return 0;
    p[n].fd = st->listen_fd;
    p[n].events = POLLIN;
    p[n++].revents = 0;
    for (i = 0; i < WF_STATS_CLIENTS; i++)
        if (st->clients[i].fd >= 0) {
            p[n].fd = st->clients[i].fd;
            p[n].events = POLLIN;
            p[n++].revents = 0;
        }
    return n;
}

static void drop(struct wf_stats_client *c)
{
    close(c->fd);
    c->fd = -1;
}

static void respond(struct wf_stats_client *c, const char *status, const char *type, const char *body,
                    size_t body_len, int http, int head_only)
{
    char hdr[256];
    struct iovec iov[2];
    int n = 0;

    if (http) {
        n = snprintf(hdr, sizeof hdr, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, type, body_len);
    }
    iov[0].iov_base = hdr;
    iov[0].iov_len = n > 0 ? (size_t)n : 0;
    iov[1].iov_base = (void *)body;
    iov[1].iov_len = head_only ? 0 : body_len;
    if (wf_sendv_all(c->fd, iov, 2, WRITE_TIMEOUT_MS) < 0 && errno != EPIPE && errno != ECONNRESET)
        wf_log(WF_LOG_DEBUG, "--stats: writing an answer: %s", strerror(errno));
    drop(c);
}

static void answer(struct wf_stats_client *c, const struct wf_stats_view *v, int http)
{
    char *doc = NULL, method[8] = "", path[256] = "";
    size_t len = 0;
    int head = 0;

    if (!http) {
        doc = wf_stats_json(v, &len);
        if (doc)
            respond(c, NULL, NULL, doc, len, 0, 0);
        else
            drop(c);
        free(doc);
        return;
    }
    c->req[c->len < sizeof c->req ? c->len : sizeof c->req - 1] = '\0';
    if (sscanf(c->req, "%7s %255s", method, path) != 2) {
        respond(c, "400 Bad Request", "text/plain", "bad request\n", 12, 1, 0);
        return;
    }
    head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond(c, "405 Method Not Allowed", "text/plain", "GET only\n", 9, 1, 0);
        return;
    }
    path[strcspn(path, "?")] = '\0';
    if (strcmp(path, "/metrics") == 0) {
        doc = wf_stats_metrics(v, &len);
        if (doc)
            respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", doc, len, 1, head);
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/stats") == 0) {
        doc = wf_stats_json(v, &len);
        if (doc)
            respond(c, "200 OK", "application/json", doc, len, 1, head);
    } else {
        respond(c, "404 Not Found", "text/plain", "try /metrics or /\n", 18, 1, 0);
        return;
    }
    if (!doc)
        respond(c, "500 Internal Server Error", "text/plain", "out of memory\n", 14, 1, 0);
    free(doc);
}

/* An HTTP request line has come in (or a whole head): which is it? 1 when
 * the client speaks HTTP and its head is complete, 0 when more is needed,
 * -1 when it is not HTTP. */
static int http_state(const struct wf_stats_client *c)
{
    static const char *const methods[] = { "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS " };
    size_t i, n;

    for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        n = strlen(methods[i]);
        if (memcmp(c->req, methods[i], c->len < n ? c->len : n) == 0)
            break;
    }
    if (i == sizeof methods / sizeof methods[0])
        return -1;
    if (c->len < strlen(methods[i]))
        return 0;
    if (c->len == sizeof c->req || memmem(c->req, c->len, "\r\n\r\n", 4) || memmem(c->req, c->len, "\n\n", 2))
        return 1;
    return 0;
}

static void on_readable(struct wf_stats_client *c, const struct wf_stats_view *v)
{
    ssize_t r = recv(c->fd, c->req + c->len, sizeof c->req - c->len, MSG_DONTWAIT);
    int h;

    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r < 0) {
        drop(c);
        return;
    }
    if (r == 0) {                       /* the peer is done sending */
        h = c->len ? http_state(c) : -1;
        answer(c, v, h >= 0);
        return;
    }
    c->len += (size_t)r;
    h = http_state(c);
    if (h != 0)
        answer(c, v, h > 0);
}

void wf_stats_handle(struct wf_stats *st, const struct pollfd *p, int n, const struct wf_stats_view *v,
                     long long now)
{
    unsigned i;
    int k;

    for (k = 1; k < n; k++) {
        if (!p[k].revents)
            continue;
        for (i = 0; i < WF_STATS_CLIENTS; i++)
            if (st->clients[i].fd == p[k].fd) {
                on_readable(&st->clients[i], v);
                break;
            }
    }
    for (i = 0; i < WF_STATS_CLIENTS; i++)
        if (st->clients[i].fd >= 0 && now >= st->clients[i].deadline_ms)
            answer(&st->clients[i], v, 0);    /* silent: the JSON snapshot */
    if (n > 0 && (p[0].revents & POLLIN)) {
        for (;;) {
            struct wf_stats_client *c = NULL;
            int fd;
            for (i = 0; i < WF_STATS_CLIENTS; i++)
                if (st->clients[i].fd < 0) {
                    c = &st->clients[i];
                    break;
                }
            if (!c)
                break;              /* full: the rest wait in the backlog */
            fd = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                break;
            c->fd = fd;
            c->len = 0;
            c->deadline_ms = now + WF_STATS_SILENCE_MS;
            on_readable(c, v);
        }
    }
}

void wf_stats_close(struct wf_stats *st)
{
    unsigned i;

    for (i = 0; i < WF_STATS_CLIENTS; i++)
        if (st->clients[i].fd >= 0)
            drop(&st->clients[i]);
}
