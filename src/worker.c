/*
 * worker.c - one serving process: signals, the interpreter, the
 * application, and N request threads.
 *
 * DESIGN
 * The main thread sets up everything in a fixed order: the front ends'
 * process-wide init (libfcgi's FCGX_Init, which installs signal handlers of
 * its own, and the check that libfcgi does its I/O through us), then our
 * signal policy (SIGPIPE ignored, the control signals blocked in every
 * thread), then Python, then the application, then the dispatcher (the
 * connection loop, dispatch.c).  Then it releases the GIL, starts the
 * request threads and waits for control signals with sigwait(): no
 * asynchronous signal handler runs in this process at all, so no system
 * call in a request thread is interrupted.
 *
 * The N request threads take turns at the dispatcher, which hands each one
 * a connection whose whole request head has arrived; the thread serves that
 * request and gives the connection back (kept or closed).  Each thread
 * holds one Python thread state for its whole life (so threading.local data
 * and context survive between requests) but holds the GIL only while
 * Python code runs: a thread waiting for work waits without it.  That is
 * what lets N threads overlap I/O.
 *
 * Stopping: SIGTERM/SIGINT set srv.stopping and make the wake pipe
 * readable; the dispatcher stops accepting and closes idle connections,
 * threads finish the requests in hand (and heads already complete), leave
 * their loop, and are joined; then Python is finalised and the process
 * exits 0.  SIGQUIT exits at once.
 *
 * The stages are named functions: worker_init_process, worker_load,
 * worker_serve, worker_shutdown.  With --preload a zygote runs the first
 * two once (the import with the collector off, then gc.freeze) and each
 * worker it forks runs the last two: the zygote never starts a thread, so
 * the fork copies a consistent single-threaded process, bracketed by
 * PyOS_BeforeFork / PyOS_AfterFork_Parent / PyOS_AfterFork_Child.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "front.h"
#include "io.h"
#include "log.h"
#include "py.h"
#include "scoreboard.h"
#include "worker.h"
#include "wsgi.h"
#include "zygote.h"

struct thread_ctx {
    struct wf_server *srv;
    const struct wf_config *cfg;
    unsigned index;
    pthread_t tid;
};

static _Atomic unsigned long served;   /* requests of this process */

/* Appends s (of length n) to a log line, escaping quotes, backslashes and
 * control bytes so that a line is always one line. */
static size_t put_escaped(char *out, size_t pos, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n && pos + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            out[pos++] = '\\';
            out[pos++] = 'x';
            out[pos++] = hex[c >> 4];
            out[pos++] = hex[c & 15];
        } else {
            out[pos++] = (char)c;
        }
    }
    return pos;
}

static size_t put_raw(char *out, size_t pos, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (pos + n >= cap)
        n = pos < cap ? cap - pos - 1 : 0;
    memcpy(out + pos, s, n);
    return pos + n;
}

static size_t put_param(char *out, size_t pos, size_t cap, const struct wf_request *req,
                        const char *name)
{
    const struct wf_param *p = wf_req_param(req, name);

    if (!p || p->value_len == 0) {
        if (pos + 1 < cap)
            out[pos++] = '-';
        return pos;
    }
    return put_escaped(out, pos, cap, p->value, p->value_len);
}

/* The access log line: Apache combined format plus the duration in
 * microseconds. */
static void access_log(const struct wf_request *req, long long start_us, long long end_us)
{
    char line[4096], date[64];
    size_t pos = 0, cap = sizeof line - 2;
    struct timespec ts;
    struct tm tm;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    pos = put_param(line, pos, cap, req, "REMOTE_ADDR");
    pos = put_raw(line, pos, cap, " - ");
    pos = put_param(line, pos, cap, req, "REMOTE_USER");
    n = snprintf(line + pos, cap - pos, " [%s] \"", date);
    pos += n > 0 ? (size_t)n : 0;
    pos = put_param(line, pos, cap, req, "REQUEST_METHOD");
    pos = put_raw(line, pos, cap, " ");
    pos = put_param(line, pos, cap, req, wf_req_param(req, "REQUEST_URI") ? "REQUEST_URI" : "PATH_INFO");
    pos = put_raw(line, pos, cap, " ");
    pos = put_param(line, pos, cap, req, "SERVER_PROTOCOL");
    n = snprintf(line + pos, cap - pos, "\" %d %llu \"", req->status ? req->status : 0,
                 req->body_bytes);
    pos += n > 0 ? (size_t)n : 0;
    pos = put_param(line, pos, cap, req, "HTTP_REFERER");
    pos = put_raw(line, pos, cap, "\" \"");
    pos = put_param(line, pos, cap, req, "HTTP_USER_AGENT");
    if (pos >= cap)
        pos = cap - 1;
    n = snprintf(line + pos, sizeof line - pos, "\" %lld\n", end_us - start_us);
    pos += n > 0 ? (size_t)n : 0;
    if (pos > sizeof line)
        pos = sizeof line;
    wf_access_log_write(line, pos);
}

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Publishes the request in hand on the scoreboard (for --timeout, --stats). */
static void board_begin(const struct thread_ctx *ctx, const struct wf_request *req)
{
    struct wf_thread_slot *t;

    if (!wf_my_slot)
        return;
    t = &wf_my_slot->threads[ctx->index];
    if (ctx->cfg->timeout)        /* the label's only reader */
        wf_req_label(req, t->label, sizeof t->label);
    atomic_fetch_add(&wf_my_slot->in_flight, 1);
    atomic_store(&t->tid, wf_gettid());      /* --timeout: where to send the dump signal */
    atomic_store(&t->start_ms, wf_now_ms());
}

static void board_end(const struct thread_ctx *ctx, const struct wf_request *req)
{
    if (!wf_my_slot)
        return;
    atomic_store(&wf_my_slot->threads[ctx->index].start_ms, 0);
    atomic_fetch_sub(&wf_my_slot->in_flight, 1);
    atomic_fetch_add(&wf_my_slot->requests, 1);
    if (req->status >= 500 || req->abort)
        atomic_fetch_add(&wf_my_slot->errors, 1);
}

/* One request from start to finish: the front's start, the application,
 * the access log line, the front's finish.  Returns whether the connection
 * may be kept. */
static int serve_request(const struct thread_ctx *ctx, const struct wf_front *front, void *state,
                         struct wf_conn *c, struct wf_request *req)
{
    long long start;
    int keep;

    if (front->start(state, c, req) < 0)
        return 0;
    start = now_us();
    board_begin(ctx, req);
    if (wf_req_limit_body(req, ctx->cfg->max_body) == 0)   /* else answered 413 */
        wf_wsgi_handle(req);
    /* The params live until finish: log first. */
    if (wf_access_log_enabled())
        access_log(req, start, now_us());
    keep = front->finish(state, req);
    board_end(ctx, req);
    if (wf_my_slot && c)
        wf_counters_request(&wf_my_slot->counters, c->proto == WF_PROTO_SCGI,
                            req->status, now_us() - start);
    return keep;
}

static void *serve(void *arg)
{
    struct thread_ctx *ctx = arg;
    struct wf_server *srv = ctx->srv;
    struct wf_request req;
    void *fcgi = wf_front_fcgi.thread_new(srv), *scgi = wf_front_scgi.thread_new(srv);
    unsigned long max = ctx->cfg->max_requests;
    struct wf_conn *c;

    if (!fcgi || !scgi) {
        wf_log(WF_LOG_ERROR, "cannot start a request thread: out of memory");
        goto out;
    }
    wf_req_init(&req);
    wf_py_thread_attach();
    /* Past --max-requests the worker stops: the dispatcher takes no new
     * connection, but requests already received are served. */
    while ((c = wf_dispatch_next(srv->dispatch))) {
        int scgi_conn = c->proto == WF_PROTO_SCGI;
        int keep = serve_request(ctx, scgi_conn ? &wf_front_scgi : &wf_front_fcgi,
                                 scgi_conn ? scgi : fcgi, c, &req);

        wf_dispatch_done(srv->dispatch, c, keep);
        wf_rss_after_request((unsigned long long)ctx->cfg->max_rss * 1024);   /* --max-rss */
        wf_req_reset(&req);
        if (max && atomic_fetch_add(&served, 1) + 1 == max) {
            /* Recycle: stop taking requests at once, and let the main
             * thread stop this process gracefully. */
            srv->stopping = 1;
            if (write(srv->wake_wr, "x", 1) < 0)
                wf_log(WF_LOG_ERROR, "wake pipe: %s", strerror(errno));
            kill(getpid(), SIGUSR2);
        }
    }
    wf_py_thread_detach();
    wf_req_release(&req);
out:
    if (fcgi)
        wf_front_fcgi.thread_free(fcgi);
    if (scgi)
        wf_front_scgi.thread_free(scgi);
    return NULL;
}

/* CGI mode: one request, in the main thread. */
static void serve_cgi(const struct thread_ctx *ctx)
{
    struct wf_request req;
    void *state = wf_front_cgi.thread_new(ctx->srv);

    if (!state) {
        wf_log(WF_LOG_ERROR, "out of memory");
        return;
    }
    wf_req_init(&req);
    wf_py_thread_attach();
    serve_request(ctx, &wf_front_cgi, state, NULL, &req);
    wf_py_thread_detach();
    wf_req_release(&req);
    wf_front_cgi.thread_free(state);
}

/* Makes room for the connections a worker may hold: raises the soft limit
 * on descriptors toward the hard one, or lowers --max-connections to fit. */
static unsigned fit_connections(unsigned want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return want;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return want;
    } else if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
            return want;
    }
    {
        unsigned fit = rl.rlim_cur > 64 + 16 ? (unsigned)(rl.rlim_cur - 64) : 16;
        wf_log(WF_LOG_WARNING, "the descriptor limit (ulimit -n %llu) allows %u connections per "
               "worker, not --max-connections %u", (unsigned long long)rl.rlim_cur, fit, want);
        return fit;
    }
}

/* The dispatcher's counts go to this worker's scoreboard slot. */
static void publish_counts(void *ctx, const struct wf_dispatch_counts *c)
{
    struct wf_worker_slot *s = wf_my_slot;

    if (!s)
        return;
    atomic_store_explicit(&s->conns_reading, c->reading, memory_order_relaxed);
    atomic_store_explicit(&s->conns_idle, c->idle, memory_order_relaxed);
    atomic_store_explicit(&s->conns_ready, c->ready, memory_order_relaxed);
    atomic_store_explicit(&s->conns_busy, c->busy, memory_order_relaxed);
    atomic_store_explicit(&s->conns_kept, c->kept, memory_order_relaxed);
    atomic_store_explicit(&s->counters.conns_accepted, c->accepted, memory_order_relaxed);
    atomic_store_explicit(&s->counters.conns_timed_out, c->timed_out, memory_order_relaxed);
    atomic_store_explicit(&s->counters.conns_evicted, c->evicted, memory_order_relaxed);
    atomic_store_explicit(&s->counters.conns_refused, c->refused, memory_order_relaxed);
    atomic_store_explicit(&s->counters.conns_handed, c->handed, memory_order_relaxed);
}

/* Whether other workers serve on once this one stops: not when the master
 * shuts the whole server down. */
static int successor(void *ctx)
{
    (void)ctx;
    return wf_my_slot && atomic_load(&wf_my_slot->stop_cause) != WF_STOP_SHUTDOWN;
}

static int start_dispatch(const struct wf_config *cfg, struct wf_server *srv, const struct wf_listener *l,
                          char *err, size_t errlen)
{
    struct wf_dispatch_opts o;

    memset(&o, 0, sizeof o);
    o.listen_fd = l->fd;
    o.listen_family = l->family;
    o.shared = cfg->processes > 1 || l->inherited;
    o.acl = &cfg->acl;
    o.wake_fd = srv->wake_fd;
    o.stopping = &srv->stopping;
    o.protocol = cfg->protocol == WF_PROTOCOL_SCGI ? WF_PROTO_SCGI
               : cfg->protocol == WF_PROTOCOL_AUTO ? WF_PROTO_AUTO : WF_PROTO_FCGI;
    o.max_head = cfg->max_header;
    o.header_timeout_ms = cfg->header_timeout * 1000;
    o.io_timeout_ms = cfg->io_timeout * 1000;
    o.max_conns = fit_connections(cfg->max_connections);
    o.fcgi_max_conns = (unsigned long)o.max_conns * cfg->processes;
    o.fcgi_max_reqs = (unsigned long)cfg->threads * cfg->processes;
    o.publish = publish_counts;
    o.handoff_fd[0] = wf_handoff_fd[0];
    o.handoff_fd[1] = wf_handoff_fd[1];
    o.successor = successor;
    srv->dispatch = wf_dispatch_new(&o, err, errlen);
    return srv->dispatch ? 0 : -1;
}

static void cgi_fail_response(void)
{
    static const char msg[] =
        "Status: 500 Internal Server Error\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "500 Internal Server Error: the application could not be loaded.\n";
    /* fd 1 may have been redirected to the log by the CGI front end. */
    int fd = wf_front_cgi_out_fd();

    wf_write_all(fd >= 0 ? fd : 1, msg, sizeof msg - 1);
}

/* ---- lifecycle stages --------------------------------------------------------
 *
 * A worker goes through worker_init_process (fronts, signal policy),
 * worker_load (the interpreter and the application), worker_serve (the
 * dispatcher, the request threads and the control-signal loop) and
 * worker_shutdown (threads joined, Python finalised).  Without --preload
 * one process runs all four; with it a zygote runs the first two once and
 * each worker it forks runs the last two (wf_zygote_run). */

struct worker {
    const struct wf_config *cfg;
    struct wf_listener *l;
    int cgi;
    struct wf_server srv;
    int wake[2];
    sigset_t ctl;                  /* the control signals, waited for */
    struct thread_ctx *threads;
    unsigned started;
    int py_up;                     /* Python initialised */
    int app_up;                    /* the application loaded */
    pid_t zygote;                  /* the zygote this worker was forked from, or 0 */
    int is_zygote;                 /* this process is the zygote */
};

static int worker_init_process(struct worker *w, const struct wf_config *cfg, struct wf_listener *l)
{
    struct sigaction sa;
    char err[1024];

    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->l = l;
    w->cgi = l->source == WF_SRC_CGI;
    w->wake[0] = w->wake[1] = -1;
    w->srv.listen_fd = l->fd;
    w->srv.listen_family = l->family;
    w->srv.threads = w->cgi ? 1 : cfg->threads;
    if (pipe2(w->wake, O_CLOEXEC) < 0) {
        wf_log(WF_LOG_ERROR, "pipe: %s", strerror(errno));
        return -1;
    }
    w->srv.wake_fd = w->wake[0];
    w->srv.wake_wr = w->wake[1];

    if ((w->cgi && wf_front_cgi.init(&w->srv, err, sizeof err) < 0) ||
        (!w->cgi && cfg->protocol != WF_PROTOCOL_SCGI && wf_front_fcgi.init(&w->srv, err, sizeof err) < 0) ||
        (!w->cgi && cfg->protocol != WF_PROTOCOL_FASTCGI && wf_front_scgi.init(&w->srv, err, sizeof err) < 0)) {
        wf_log(WF_LOG_ERROR, "%s", err);
        return -1;
    }
    /* After FCGX_Init, which installs handlers where dispositions are
     * default: ours win. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&w->ctl);
    sigaddset(&w->ctl, SIGTERM);
    sigaddset(&w->ctl, SIGINT);
    sigaddset(&w->ctl, SIGQUIT);
    sigaddset(&w->ctl, SIGHUP);
    sigaddset(&w->ctl, SIGUSR1);
    sigaddset(&w->ctl, SIGUSR2);
    if (!w->cgi)
        pthread_sigmask(SIG_BLOCK, &w->ctl, NULL);
    return 0;
}

/* The interpreter and the application; returns with the GIL held by this
 * (the main) thread.  preload: in a zygote, with the collector off during
 * the import (see wf_py_gc_disable). */
static int worker_load(struct worker *w, int preload)
{
    struct wf_wsgi_opts opts;
    char err[1024];

    if (wf_py_init(w->cfg, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        if (w->cgi)
            cgi_fail_response();
        return -1;
    }
    w->py_up = 1;
    opts.multithread = w->srv.threads > 1;
    opts.multiprocess = w->cgi || w->l->inherited || w->cfg->processes > 1;
    opts.run_once = w->cgi;
    if (preload)
        wf_py_gc_disable();
    if (wf_wsgi_setup(w->cfg, &opts, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        if (w->cgi)
            cgi_fail_response();
        return -1;
    }
    w->app_up = 1;
    return 0;
}

/* Releases the GIL, starts the dispatcher and the request threads, and
 * waits for control signals until told to stop.  Returns the exit status. */
static int worker_serve(struct worker *w)
{
    const struct wf_config *cfg = w->cfg;
    char err[1024];
    char from[64] = "";
    unsigned i;
    int sig = 0;

    wf_py_release_main();
    if (w->cgi) {
        struct thread_ctx one = { &w->srv, cfg, 0, 0 };
        serve_cgi(&one);
        return 0;
    }
    if (start_dispatch(cfg, &w->srv, w->l, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        return 1;
    }
    w->threads = calloc(w->srv.threads, sizeof *w->threads);
    if (!w->threads) {
        wf_log(WF_LOG_ERROR, "out of memory");
        return 1;
    }
    if (wf_my_slot)
        atomic_store(&wf_my_slot->state, WF_SLOT_READY);
    if (w->zygote)
        snprintf(from, sizeof from, ", forked from zygote %d", (int)w->zygote);
    wf_log(WF_LOG_INFO, "wsgi-fcgi %s serving %s over %s on %s (1 process x %u thread%s, Python %s%s)",
           PACKAGE_VERSION, cfg->app_arg, wf_protocol_name(cfg->protocol), w->l->desc,
           w->srv.threads, w->srv.threads > 1 ? "s" : "", wf_py_version(), from);
    for (i = 0; i < w->srv.threads; i++) {
        int e;
        w->threads[i].srv = &w->srv;
        w->threads[i].cfg = cfg;
        w->threads[i].index = i;
        e = pthread_create(&w->threads[i].tid, NULL, serve, &w->threads[i]);
        if (e != 0) {
            wf_log(WF_LOG_ERROR, "cannot start request thread %u: %s", i + 1, strerror(e));
            break;
        }
        w->started++;
    }
    if (w->started == 0)
        return 1;
    for (;;) {
        if (sigwait(&w->ctl, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT) {
            wf_log(WF_LOG_INFO, "%s: finishing requests in flight, then exiting",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (sig == SIGUSR2) {
            if (wf_my_slot)
                atomic_store(&wf_my_slot->stop_cause, WF_STOP_MAX_REQUESTS);
            wf_log(WF_LOG_INFO, "served %lu requests (--max-requests): recycling this worker",
                   (unsigned long)atomic_load(&served));
            break;
        }
        if (sig == SIGUSR1) {
            if (cfg->log_file && wf_log_reopen(cfg->log_file) < 0)
                wf_log(WF_LOG_ERROR, "reopening %s: %s", cfg->log_file, strerror(errno));
            wf_access_log_reopen();
            continue;
        }
        if (sig == SIGQUIT) {
            /* The listening socket (and its file) is the master's: a
             * worker told to quit must leave it for the others. */
            wf_log(WF_LOG_INFO, "SIGQUIT: exiting now");
            _exit(0);
        }
        wf_log(WF_LOG_INFO, "signal %d ignored", sig);
    }
    return 0;
}

/* Stops the request threads (they finish what they hold), then the
 * application and the interpreter. */
static void worker_shutdown(struct worker *w)
{
    unsigned i;

    if (w->started) {
        w->srv.stopping = 1;
        if (wf_my_slot)
            atomic_store(&wf_my_slot->state, WF_SLOT_STOPPING);
        if (write(w->wake[1], "x", 1) < 0)
            wf_log(WF_LOG_ERROR, "wake pipe: %s", strerror(errno));
        for (i = 0; i < w->started; i++)
            pthread_join(w->threads[i].tid, NULL);
    }
    wf_dispatch_free(w->srv.dispatch);
    w->srv.dispatch = NULL;
    if (w->py_up) {
        wf_py_reacquire_main();
        wf_wsgi_teardown();
        wf_py_finalize();
        if (!w->cgi && w->app_up && !w->is_zygote)
            wf_log(WF_LOG_INFO, "stopped");
    }
    free(w->threads);
    w->threads = NULL;
    if (w->wake[0] >= 0)
        close(w->wake[0]);
    if (w->wake[1] >= 0)
        close(w->wake[1]);
}

int wf_worker_run(const struct wf_config *cfg, struct wf_listener *l)
{
    struct worker w;
    int rc = 1;

    if (worker_init_process(&w, cfg, l) == 0 && worker_load(&w, 0) == 0)
        rc = worker_serve(&w);
    worker_shutdown(&w);
    return rc;
}

/* ---- --preload: the zygote ---------------------------------------------------- */

static void zygote_send(int fd, const struct wf_zygote_msg *msg)
{
    while (send(fd, msg, sizeof *msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* In a worker just forked through the intermediate: waits until the
 * master has adopted it (it is the parent) and recorded its pid in the
 * slot, then arms the death signal against the master.  0, or -1 when
 * that does not happen within 30 s (the master gave up on this fork). */
static int worker_adopted(pid_t master, struct wf_worker_slot *s)
{
    long long deadline = wf_now_ms() + 30000;
    struct timespec tick = { 0, 1000000L };
    pid_t forker = getppid();         /* the intermediate, or already the master */

    while (getppid() != master || s->pid != getpid()) {
        pid_t parent = getppid();
        if (wf_now_ms() > deadline || (parent != master && parent != forker))
            return -1;                /* the master is gone */
        nanosleep(&tick, NULL);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    return getppid() == master ? 0 : -1;
}

/* Forks one worker for the command's slot.  Returns 1 in the new worker
 * (which goes on to serve), 0 in the zygote. */
static int zygote_fork(struct worker *w, int ctl_fd, const struct wf_zygote_cmd *cmd)
{
    struct wf_zygote_msg msg;
    pid_t pid;
    int status;

    memset(&msg, 0, sizeof msg);
    msg.seq = cmd->seq;
    if (!wf_board || cmd->slot >= wf_board->nslots) {
        msg.kind = WF_ZYGOTE_FAILED;
        msg.err = EINVAL;
        zygote_send(ctl_fd, &msg);
        return 0;
    }
    wf_py_gc_freeze();            /* what the zygote made since the last fork */
    wf_py_before_fork();
    pid = fork();
    if (pid == 0) {
        /* The intermediate: it forks the worker, reports it and exits, so
         * the worker is re-parented to the master (a child subreaper). */
        pid_t worker;
        prctl(PR_SET_NAME, WF_FORKER_COMM);
        worker = fork();
        if (worker == 0)
            return 1;
        msg.kind = worker > 0 ? WF_ZYGOTE_FORKED : WF_ZYGOTE_FAILED;
        msg.pid = worker > 0 ? worker : 0;
        msg.err = worker > 0 ? 0 : errno;
        zygote_send(ctl_fd, &msg);
        _exit(0);
    }
    wf_py_after_fork_parent();
    if (pid < 0) {
        msg.kind = WF_ZYGOTE_FAILED;
        msg.err = errno;
        zygote_send(ctl_fd, &msg);
        return 0;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

int wf_zygote_run(const struct wf_config *cfg, struct wf_listener *l, int ctl_fd)
{
    struct worker w;
    struct wf_zygote_msg ready;
    char comm[16] = "";
    pid_t master = getppid(), self = getpid();
    long long t0 = wf_now_ms();
    long frozen, threads;
    int rc = 1;

    prctl(PR_GET_NAME, comm);
    prctl(PR_SET_NAME, WF_ZYGOTE_COMM);
    if (worker_init_process(&w, cfg, l) < 0)
        goto out;
    w.is_zygote = 1;
    if (worker_load(&w, 1) < 0)
        goto out;
    frozen = wf_py_gc_freeze();
    threads = wf_py_thread_count();
    wf_log(WF_LOG_INFO, "zygote: %s imported in %lld ms (--preload); %ld objects frozen "
           "(gc.freeze); forking the workers from here", cfg->app_arg, wf_now_ms() - t0, frozen);
    if (threads > 1)
        wf_log(WF_LOG_WARNING, "zygote: the application started %ld threads at import; "
               "they do not exist in the workers forked from it", threads - 1);
    memset(&ready, 0, sizeof ready);
    ready.kind = WF_ZYGOTE_READY;
    zygote_send(ctl_fd, &ready);
    rc = 0;
    for (;;) {
        struct pollfd p = { ctl_fd, POLLIN, 0 };
        struct timespec zero = { 0, 0 };
        struct wf_zygote_cmd cmd;
        ssize_t n;
        int sig, r = poll(&p, 1, 500);

        while ((sig = sigtimedwait(&w.ctl, NULL, &zero)) > 0) {
            if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
                goto out;
            if (sig == SIGUSR1 && cfg->log_file && wf_log_reopen(cfg->log_file) < 0)
                wf_log(WF_LOG_ERROR, "reopening %s: %s", cfg->log_file, strerror(errno));
        }
        if (r <= 0)
            continue;
        n = recv(ctl_fd, &cmd, sizeof cmd, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            goto out;                       /* the master closed its end */
        if (n != (ssize_t)sizeof cmd)
            continue;
        if (zygote_fork(&w, ctl_fd, &cmd) == 1) {
            /* The new worker. */
            close(ctl_fd);
            wf_py_after_fork_child();
            prctl(PR_SET_NAME, comm);
            wf_my_slot = wf_scoreboard_slot(wf_board, cmd.slot);
            if (worker_adopted(master, wf_my_slot) < 0)
                _exit(1);
            wf_py_gc_enable();
            w.zygote = self;
            w.is_zygote = 0;
            rc = worker_serve(&w);
            worker_shutdown(&w);
            return rc;
        }
    }
out:
    worker_shutdown(&w);
    if (rc == 0)
        wf_log(WF_LOG_INFO, "zygote exiting");
    return rc;
}
