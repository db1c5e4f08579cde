/*
 * master.c - the prefork supervisor.
 *
 * DESIGN
 * The master owns the listening socket and forks the workers, which inherit
 * it; it never initialises Python, so a reload is simply new workers
 * importing the application afresh.  All its signals stay blocked except
 * inside ppoll(), whose atomically swapped mask is the only place a handler
 * can run; the handlers only set flags, and the loop acts on them.  No
 * SIGCHLD can be lost between a check and a wait.
 *
 * Workers publish their state in a shared scoreboard (scoreboard.h): ready
 * once the application is loaded, counters, and per thread the start time
 * and label of the request in hand.  From it the master
 *   - tells a start-up failure (the worker died before it was ready) from a
 *     crash: at start-up it exits 1 instead of forking forever; later it
 *     respawns with exponential back-off while workers die young;
 *   - kills a worker whose request outlives --timeout, with a log line
 *     naming that request and, first, the Python traceback of each of the
 *     worker's threads: the master sends WF_SIG_TRACEBACK to the stuck
 *     thread, the worker's faulthandler writes the dump (without the GIL)
 *     into a pipe the master reads, and the master logs it line by line;
 *   - replaces a worker grown past --max-rss: the worker publishes its
 *     resident set after each request and asks to be replaced; the master
 *     starts the replacement first and sends the old one SIGTERM (it
 *     finishes its requests) only once the replacement is ready;
 *   - answers --stats with a JSON snapshot.
 * SIGHUP starts a new generation; the old one gets SIGTERM (and finishes
 * its requests) only once every new worker is ready, so no connection is
 * refused and a reload that cannot load the new code keeps the old workers.
 * Workers die with the master (PR_SET_PDEATHSIG), even on SIGKILL.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "master.h"
#include "scoreboard.h"
#include "stats.h"
#include "worker.h"

static volatile sig_atomic_t sig_chld, sig_term, sig_int, sig_quit, sig_hup, sig_ttin, sig_ttou,
    sig_usr1, sig_dump;

static void on_signal(int sig)
{
    int saved = errno;

    if (sig == WF_SIG_TRACEBACK)     /* not a constant: SIGRTMIN + 2 */
        sig_dump = 1;
    switch (sig) {
    case SIGCHLD: sig_chld = 1; break;
    case SIGTERM: sig_term = 1; break;
    case SIGINT: sig_int = 1; break;
    case SIGQUIT: sig_quit = 1; break;
    case SIGHUP: sig_hup = 1; break;
    case SIGTTIN: sig_ttin = 1; break;
    case SIGTTOU: sig_ttou = 1; break;
    case SIGUSR1: sig_usr1 = 1; break;
    }
    errno = saved;
}

static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1 };
#define NHANDLED (sizeof handled / sizeof handled[0])

struct master {
    const struct wf_config *cfg;
    struct wf_listener *l;
    struct wf_scoreboard *board;
    pid_t pid;
    long long started_ms;
    unsigned target;          /* workers wanted */
    unsigned generation;      /* the generation being served */
    unsigned old_generation;  /* the generation a reload replaces, or 0 */
    int reloading;
    int ever_ready;           /* some worker has loaded the application */
    int stopping;             /* 1 graceful, 2 immediate */
    long long stop_deadline;
    long long next_spawn;     /* back-off: not before this time */
    long long backoff;
    int fatal;
    int stats_fd;
    struct wf_stats stats;    /* --stats clients */
    int dump_rd, dump_wr;     /* --timeout tracebacks: the workers write, we read */
    unsigned long long reaped;
    struct wf_counter_totals retired;              /* counters of workers gone */
    unsigned long long restarts[WF_STOP_CAUSES];   /* workers replaced, by cause */
};

static struct wf_worker_slot *slot(struct master *m, unsigned i)
{
    return wf_scoreboard_slot(m->board, i);
}

static void child_main(struct master *m, unsigned i)
{
    struct sigaction sa;
    sigset_t ctl;
    size_t k;
    int rc;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != m->pid)
        _exit(1);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (k = 0; k < NHANDLED; k++)
        sigaction(handled[k], &sa, NULL);
    sigaction(WF_SIG_TRACEBACK, &sa, NULL);
    /* The control signals stay blocked: the worker waits for them with
     * sigwait(), and one sent right after the fork (a stop just as a worker
     * starts) must wait there rather than kill it with the default action. */
    sigemptyset(&ctl);
    sigaddset(&ctl, SIGTERM);
    sigaddset(&ctl, SIGINT);
    sigaddset(&ctl, SIGQUIT);
    sigaddset(&ctl, SIGHUP);
    sigaddset(&ctl, SIGUSR1);
    sigaddset(&ctl, SIGUSR2);
    sigprocmask(SIG_SETMASK, &ctl, NULL);
    if (m->stats_fd >= 0)
        close(m->stats_fd);
    wf_stats_close(&m->stats);     /* the child's copies of the clients */
    if (m->dump_rd >= 0)
        close(m->dump_rd);
    wf_dump_fd = m->dump_wr;
    wf_board = m->board;
    wf_my_slot = slot(m, i);
    rc = wf_worker_run(m->cfg, m->l);
    _exit(rc);
}

static int spawn(struct master *m)
{
    unsigned i;
    pid_t pid;
    struct wf_worker_slot *s = NULL;

    for (i = 0; i < m->board->nslots; i++) {
        s = slot(m, i);
        if (atomic_load(&s->state) == WF_SLOT_FREE && s->pid == 0)
            break;
    }
    if (i == m->board->nslots) {
        wf_log(WF_LOG_ERROR, "no free worker slot (%u in use)", m->board->nslots);
        return -1;
    }
    memset(s, 0, m->board->slot_size);
    s->generation = m->generation;
    s->started_ms = wf_now_ms();
    atomic_store(&s->state, WF_SLOT_STARTING);
    pid = fork();
    if (pid < 0) {
        wf_log(WF_LOG_ERROR, "fork: %s", strerror(errno));
        atomic_store(&s->state, WF_SLOT_FREE);
        return -1;
    }
    if (pid == 0)
        child_main(m, i);
    s->pid = pid;
    return 0;
}

static unsigned count(struct master *m, unsigned generation, int ready_only)
{
    unsigned i, n = 0;

    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        int st = atomic_load(&s->state);
        if (s->pid && s->generation == generation && st != WF_SLOT_STOPPING && !s->replacing &&
            (!ready_only || st == WF_SLOT_READY))
            n++;
    }
    return n;
}

static void signal_generation(struct master *m, unsigned generation, int sig)
{
    unsigned i;

    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        if (s->pid && (generation == 0 || s->generation == generation)) {
            if ((sig == SIGTERM || sig == SIGKILL) && !atomic_load(&s->stop_cause))
                atomic_store(&s->stop_cause, m->stopping || m->fatal ? WF_STOP_SHUTDOWN : WF_STOP_RELOAD);
            if (sig == SIGTERM) {
                atomic_store(&s->state, WF_SLOT_STOPPING);
                if (!s->stop_ms)
                    s->stop_ms = wf_now_ms();
            }
            kill(s->pid, sig);
        }
    }
}

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(buf, len, "ended with status 0x%x", status);
}

static void reap(struct master *m)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        unsigned i;
        struct wf_worker_slot *s = NULL;
        char how[128];
        int state, expected;
        long long lived;

        for (i = 0; i < m->board->nslots; i++)
            if (slot(m, i)->pid == pid) {
                s = slot(m, i);
                break;
            }
        if (!s)
            continue;
        m->reaped++;
        state = atomic_load(&s->state);
        lived = wf_now_ms() - s->started_ms;
        describe_status(status, how, sizeof how);
        expected = state == WF_SLOT_STOPPING && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        wf_log(expected ? WF_LOG_INFO : WF_LOG_WARNING, "worker %d %s after %lld ms (%llu requests)",
               (int)pid, how, lived, (unsigned long long)atomic_load(&s->requests));
        if (state == WF_SLOT_STARTING && !m->stopping) {
            if (m->reloading && s->generation == m->generation) {
                wf_log(WF_LOG_ERROR, "reload failed: a new worker could not load the application; "
                       "the previous workers keep serving");
                signal_generation(m, m->generation, SIGTERM);
                m->generation = m->old_generation;
                m->reloading = 0;
            } else if (!m->ever_ready) {
                wf_log(WF_LOG_ERROR, "the application cannot be loaded; exiting");
                m->fatal = 1;
            }
        }
        {
            int cause = atomic_load(&s->stop_cause);
            /* A worker that ended without a cause was not stopped: it
             * crashed (or could not start). */
            if (!expected && cause != WF_STOP_TIMEOUT && state != WF_SLOT_STOPPING)
                cause = WF_STOP_NONE;
            if (cause != WF_STOP_SHUTDOWN && !(m->stopping && cause == WF_STOP_NONE && expected))
                m->restarts[cause]++;
        }
        wf_counters_add(&m->retired, &s->counters);
        if (!expected && state != WF_SLOT_STOPPING && !m->stopping) {
            /* Back off while workers die young; forget it once one lives. */
            if (lived < 2000)
                m->backoff = m->backoff ? (m->backoff * 2 > 30000 ? 30000 : m->backoff * 2) : 100;
            else
                m->backoff = 0;
            m->next_spawn = wf_now_ms() + m->backoff;
            if (m->backoff >= 1600)
                wf_log(WF_LOG_WARNING, "workers keep dying; next start in %lld ms", m->backoff);
        }
        memset(s, 0, m->board->slot_size);
        atomic_store(&s->state, WF_SLOT_FREE);
    }
}

/* Reads a traceback dump from the workers' pipe until it has been quiet for
 * 100 ms (or nothing came within first_ms; 2 s at most) and logs it line by
 * line at level, naming the worker (pid 0: one the master did not ask
 * for). */
static void collect_dump(struct master *m, pid_t pid, enum wf_log_level level, int first_ms)
{
    size_t cap = 1 << 20, len = 0, i, start_line = 0;
    char *buf = malloc(cap);
    long long start = wf_now_ms();
    int got = 0;

    if (!buf)
        return;
    for (;;) {
        char discard[4096];
        struct pollfd p = { m->dump_rd, POLLIN, 0 };
        long long elapsed = wf_now_ms() - start;
        int wait = got ? 100 : (elapsed < first_ms ? first_ms - (int)elapsed : 0);
        ssize_t n;
        int r;

        if (elapsed >= 2000)
            break;
        r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (len < cap)
            n = read(m->dump_rd, buf + len, cap - len);
        else
            n = read(m->dump_rd, discard, sizeof discard);   /* beyond 1 MiB: dropped */
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        if (len < cap)
            len += (size_t)n;
        got = 1;
    }
    for (i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        if (i > start_line) {
            int l = (int)(i - start_line);
            if (pid)
                wf_log(level, "worker %d: %.*s", (int)pid, l, buf + start_line);
            else
                wf_log(WF_LOG_WARNING, "traceback dump (a worker got SIGRTMIN+2 from outside): %.*s",
                       l, buf + start_line);
        }
        start_line = i + 1;
    }
    if (pid && !got)
        wf_log(level, "worker %d: no traceback within %d ms (its thread did not run the dump "
               "handler)", (int)pid, first_ms);
    free(buf);
}

/* Has the stuck thread dump every thread's Python traceback (faulthandler,
 * no GIL needed) and logs it; then the caller kills the worker. */
static void dump_tracebacks(struct master *m, struct wf_worker_slot *s, unsigned t)
{
    int tid = atomic_load(&s->threads[t].tid);

    if (m->dump_rd < 0 || tid <= 0)
        return;
    collect_dump(m, 0, WF_LOG_WARNING, 0);                   /* anything stale first */
    if (syscall(SYS_tgkill, (int)s->pid, tid, WF_SIG_TRACEBACK) < 0) {
        wf_log(WF_LOG_WARNING, "worker %d: cannot signal thread %d for its traceback: %s",
               (int)s->pid, tid, strerror(errno));
        return;
    }
    collect_dump(m, s->pid, WF_LOG_ERROR, 1000);
}

/* SIGRTMIN+2 to the master: every worker's threads' tracebacks, one worker
 * after the other; nothing is killed. */
static void dump_all(struct master *m)
{
    unsigned i;

    if (m->dump_rd < 0)
        return;
    wf_log(WF_LOG_INFO, "SIGRTMIN+2: the Python tracebacks of every worker's threads");
    collect_dump(m, 0, WF_LOG_WARNING, 0);
    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        if (!s->pid || atomic_load(&s->state) != WF_SLOT_READY)
            continue;
        if (kill(s->pid, WF_SIG_TRACEBACK) == 0)
            collect_dump(m, s->pid, WF_LOG_INFO, 1000);
    }
}

static void check_timeouts(struct master *m, long long now)
{
    unsigned i, t;
    long long limit = (long long)m->cfg->timeout * 1000;

    if (!limit)
        return;
    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        long long oldest = 0;
        unsigned stuck = 0;
        char label[WF_LABEL_LEN];

        if (!s->pid)
            continue;
        /* The request that has run longest is the one named and marked. */
        for (t = 0; t < m->board->threads; t++) {
            long long start = atomic_load(&s->threads[t].start_ms);
            if (start && now - start > limit && (!oldest || start < oldest)) {
                oldest = start;
                stuck = t;
            }
        }
        if (!oldest)
            continue;
        memcpy(label, s->threads[stuck].label, sizeof label);
        label[sizeof label - 1] = '\0';
        wf_log(WF_LOG_ERROR, "worker %d: request \"%s\" ran longer than --timeout %u s; "
               "killing the worker after the Python traceback of each of its threads "
               "(the stuck one is \"Current thread\")", (int)s->pid, label, m->cfg->timeout);
        for (t = 0; t < m->board->threads; t++)
            atomic_store(&s->threads[t].start_ms, 0);
        atomic_store(&s->stop_cause, WF_STOP_TIMEOUT);
        dump_tracebacks(m, s, stuck);
        kill(s->pid, SIGKILL);
    }
}

/* --max-rss: a worker that grew past the limit after a request asked to be
 * replaced.  It stops counting, so the spawn step starts its replacement;
 * it keeps serving until that one is ready (retire_replaced). */
static void check_rss(struct master *m)
{
    unsigned i;

    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        if (!s->pid || s->replacing || s->generation != m->generation ||
            atomic_load(&s->state) != WF_SLOT_READY ||
            atomic_load(&s->retire) != WF_RETIRE_MAX_RSS)
            continue;
        /* Rounded up: a figure over the limit never reads as equal to it. */
        wf_log(WF_LOG_WARNING, "worker %d: RSS %lld MiB > --max-rss %lu MiB after a request; "
               "replacing it", (int)s->pid, (atomic_load(&s->rss_kb) + 1023) / 1024, m->cfg->max_rss);
        s->replacing = 1;
    }
}

/* A worker being replaced stops (SIGTERM: it finishes its requests) only
 * once its generation has as many other workers ready as it should have
 * (a ready replacement counts even if it asked to be replaced in turn). */
static void retire_replaced(struct master *m, long long now)
{
    unsigned i, k;

    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        unsigned others = 0;
        if (!s->pid || !s->replacing || atomic_load(&s->state) == WF_SLOT_STOPPING)
            continue;
        for (k = 0; k < m->board->nslots; k++) {
            struct wf_worker_slot *o = slot(m, k);
            if (o != s && o->pid && o->generation == s->generation &&
                atomic_load(&o->state) == WF_SLOT_READY)
                others++;
        }
        if (others < m->target)
            continue;
        wf_log(WF_LOG_INFO, "worker %d: its replacement is ready; it finishes its requests and exits",
               (int)s->pid);
        atomic_store(&s->stop_cause, WF_STOP_MAX_RSS);
        atomic_store(&s->state, WF_SLOT_STOPPING);
        s->stop_ms = now;
        kill(s->pid, SIGTERM);
    }
}

/* Workers retired by a reload or SIGTTOU get --graceful-timeout to finish
 * their requests, like all workers after SIGTERM. */
static void check_retiring(struct master *m, long long now)
{
    unsigned i;
    long long limit = (long long)m->cfg->graceful_timeout * 1000;

    for (i = 0; i < m->board->nslots; i++) {
        struct wf_worker_slot *s = slot(m, i);
        if (s->pid && s->stop_ms && now - s->stop_ms > limit) {
            wf_log(WF_LOG_WARNING, "worker %d still busy %u s after SIGTERM (--graceful-timeout); "
                   "killing it", (int)s->pid, m->cfg->graceful_timeout);
            s->stop_ms = 0;
            kill(s->pid, SIGKILL);
        }
    }
}


static int drop_privileges(const struct wf_config *cfg, char *err, size_t errlen)
{
    struct passwd *pw = NULL;
    struct group *gr = NULL;
    gid_t gid;

    if (!cfg->user && !cfg->group)
        return 0;
    if (cfg->user && !(pw = getpwnam(cfg->user))) {
        snprintf(err, errlen, "--user: no such user '%s'", cfg->user);
        return -1;
    }
    if (cfg->group && !(gr = getgrnam(cfg->group))) {
        snprintf(err, errlen, "--group: no such group '%s'", cfg->group);
        return -1;
    }
    gid = gr ? gr->gr_gid : pw->pw_gid;
    if (geteuid() != 0) {
        if ((pw && pw->pw_uid != geteuid()) || gid != getegid()) {
            snprintf(err, errlen, "--user/--group need root privileges");
            return -1;
        }
        return 0;
    }
    /* Supplementary groups first, then the group, then the user. */
    if ((pw ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) < 0) {
        snprintf(err, errlen, "setting supplementary groups: %s", strerror(errno));
        return -1;
    }
    if (setgid(gid) < 0) {
        snprintf(err, errlen, "setgid(%d): %s", (int)gid, strerror(errno));
        return -1;
    }
    if (pw && setuid(pw->pw_uid) < 0) {
        snprintf(err, errlen, "setuid(%d): %s", (int)pw->pw_uid, strerror(errno));
        return -1;
    }
    if (pw && pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "privileges could not be dropped for good");
        return -1;
    }
    return 0;
}

static int write_pidfile(const char *path, char *err, size_t errlen)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || wf_write_all(fd, buf, (size_t)n) < 0) {
        snprintf(err, errlen, "--pidfile %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* A TCP socket that hosts beyond this one can reach, with no --allow-from:
 * anyone who reaches it can send any params. */
static void warn_exposure(const struct wf_config *cfg, const struct wf_listener *l)
{
    int loopback = wf_listen_loopback_only(l->fd);

    if (loopback < 0 && cfg->acl.n)
        wf_log(WF_LOG_WARNING, "--allow-from and FCGI_WEB_SERVER_ADDRS apply to TCP sockets; %s "
               "is not one: they are ignored", l->desc);
    if (loopback == 0 && cfg->acl.n == 0)
        wf_log(WF_LOG_WARNING, "%s accepts connections from other hosts and no --allow-from "
               "is set: anyone who can reach it can send any params (REMOTE_USER, HTTPS); "
               "bind to a loopback address or give --allow-from", l->desc);
}

int wf_master_run(const struct wf_config *cfg, struct wf_listener *l)
{
    struct master m;
    struct sigaction sa;
    sigset_t block, waitmask;
    struct wf_listener stats;
    char err[512];
    size_t k;
    unsigned i;

    memset(&m, 0, sizeof m);
    memset(&stats, 0, sizeof stats);
    stats.fd = -1;
    m.cfg = cfg;
    m.l = l;
    m.pid = getpid();
    m.started_ms = wf_now_ms();
    m.target = cfg->processes;
    m.generation = 1;
    m.stats_fd = -1;
    wf_stats_init(&m.stats, -1);
    m.dump_rd = m.dump_wr = -1;

    sigemptyset(&block);
    for (k = 0; k < NHANDLED; k++)
        sigaddset(&block, handled[k]);
    sigaddset(&block, WF_SIG_TRACEBACK);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    for (k = 0; k < NHANDLED; k++)
        sigdelset(&waitmask, handled[k]);
    sigdelset(&waitmask, WF_SIG_TRACEBACK);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    for (k = 0; k < NHANDLED; k++)
        sigaction(handled[k], &sa, NULL);
    sigaction(WF_SIG_TRACEBACK, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);

    if (cfg->stats_arg) {
        if (wf_listen_open_addr(&cfg->stats_addr, 0660, NULL, 64, &stats, err, sizeof err) < 0) {
            wf_log(WF_LOG_ERROR, "--stats: %s", err);
            return 1;
        }
        m.stats_fd = stats.fd;
        wf_set_nonblock(m.stats_fd, 1);
        wf_stats_init(&m.stats, m.stats_fd);
    }
    {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) == 0) {
            m.dump_rd = fds[0];
            m.dump_wr = fds[1];
            wf_set_nonblock(m.dump_rd, 1);
        } else {
            wf_log(WF_LOG_WARNING, "pipe: %s: --timeout will kill without tracebacks", strerror(errno));
        }
    }
    if (cfg->pidfile && write_pidfile(cfg->pidfile, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        wf_listen_close(&stats);
        return 1;
    }
    if (drop_privileges(cfg, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        goto out;
    }
    /* Room for SIGTTIN up to processes + 32 workers, and for a full second
     * generation of those during a reload. */
    m.board = wf_scoreboard_new((cfg->processes + 32) * 2, cfg->threads);
    if (!m.board) {
        wf_log(WF_LOG_ERROR, "scoreboard: %s", strerror(errno));
        goto out;
    }
    wf_log(WF_LOG_INFO, "wsgi-fcgi %s master %d: %s over %s on %s, %u process%s x %u thread%s, "
           "Python %s%s%s", PACKAGE_VERSION, (int)m.pid, cfg->app_arg,
           wf_protocol_name(cfg->protocol), l->desc, m.target, m.target > 1 ? "es" : "",
           cfg->threads, cfg->threads > 1 ? "s" : "", WF_PYTHON_VERSION,
           cfg->stats_arg ? ", stats on " : "", cfg->stats_arg ? cfg->stats_arg : "");
    warn_exposure(cfg, l);

    for (;;) {
        long long now = wf_now_ms();
        struct pollfd p[1 + WF_STATS_CLIENTS + 1];
        struct timespec ts = { 0, 100 * 1000000L };
        struct wf_stats_view view;
        int np;

        if (sig_chld) {
            sig_chld = 0;
            reap(&m);
        }
        if (m.fatal) {
            signal_generation(&m, 0, SIGKILL);
            m.stopping = 2;
        }
        if (sig_quit && m.stopping < 2) {
            wf_log(WF_LOG_INFO, "SIGQUIT: stopping now");
            m.stopping = 2;
            signal_generation(&m, 0, SIGKILL);
        }
        if ((sig_term || sig_int) && !m.stopping) {
            wf_log(WF_LOG_INFO, "%s: stopping gracefully (up to %u s for requests in flight)",
                   sig_term ? "SIGTERM" : "SIGINT", cfg->graceful_timeout);
            m.stopping = 1;
            m.stop_deadline = now + (long long)cfg->graceful_timeout * 1000;
            signal_generation(&m, 0, SIGTERM);
        }
        sig_term = sig_int = sig_quit = 0;
        if (sig_dump) {
            sig_dump = 0;
            dump_all(&m);
        }
        if (sig_usr1) {
            sig_usr1 = 0;
            if (cfg->log_file && wf_log_reopen(cfg->log_file) < 0)
                wf_log(WF_LOG_ERROR, "reopening %s: %s", cfg->log_file, strerror(errno));
            else if (cfg->log_file || cfg->access_log)
                wf_log(WF_LOG_INFO, "SIGUSR1: log files reopened");
            wf_access_log_reopen();
            signal_generation(&m, 0, SIGUSR1);
        }
        if (!m.stopping) {
            if (sig_hup) {
                sig_hup = 0;
                if (m.reloading) {
                    wf_log(WF_LOG_WARNING, "SIGHUP: a reload is already in progress");
                } else {
                    wf_log(WF_LOG_INFO, "SIGHUP: starting %u new worker%s with a fresh import",
                           m.target, m.target > 1 ? "s" : "");
                    m.old_generation = m.generation;
                    m.generation++;
                    m.reloading = 1;
                    m.next_spawn = 0;
                    m.backoff = 0;
                }
            }
            if (sig_ttin) {
                sig_ttin = 0;
                if ((m.target + 1) * 2 <= m.board->nslots) {
                    m.target++;
                    wf_log(WF_LOG_INFO, "SIGTTIN: now %u workers", m.target);
                } else {
                    wf_log(WF_LOG_WARNING, "SIGTTIN: already at the limit of %u workers",
                           m.board->nslots / 2);
                }
            }
            if (sig_ttou) {
                sig_ttou = 0;
                if (m.target > 1) {
                    m.target--;
                    wf_log(WF_LOG_INFO, "SIGTTOU: now %u workers", m.target);
                }
            }
            /* Too many workers (SIGTTOU): retire the newest. */
            while (count(&m, m.generation, 0) > m.target) {
                struct wf_worker_slot *newest = NULL;
                for (i = 0; i < m.board->nslots; i++) {
                    struct wf_worker_slot *s = slot(&m, i);
                    if (s->pid && s->generation == m.generation &&
                        atomic_load(&s->state) != WF_SLOT_STOPPING &&
                        (!newest || s->started_ms > newest->started_ms))
                        newest = s;
                }
                if (!newest)
                    break;
                atomic_store(&newest->stop_cause, WF_STOP_SCALE_DOWN);
                atomic_store(&newest->state, WF_SLOT_STOPPING);
                newest->stop_ms = now;
                kill(newest->pid, SIGTERM);
            }
            check_rss(&m);
            while (count(&m, m.generation, 0) < m.target && now >= m.next_spawn) {
                if (spawn(&m) < 0) {
                    m.next_spawn = now + 1000;
                    break;
                }
            }
            for (i = 0; i < m.board->nslots; i++)
                if (atomic_load(&slot(&m, i)->state) == WF_SLOT_READY)
                    m.ever_ready = 1;
            if (m.reloading && count(&m, m.generation, 1) >= m.target) {
                wf_log(WF_LOG_INFO, "reload: new workers ready; the previous ones finish and exit");
                signal_generation(&m, m.old_generation, SIGTERM);
                m.reloading = 0;
            }
            retire_replaced(&m, now);
            check_timeouts(&m, now);
            check_retiring(&m, now);
        } else {
            sig_hup = sig_ttin = sig_ttou = 0;
            if (m.stopping == 1 && now > m.stop_deadline) {
                wf_log(WF_LOG_WARNING, "--graceful-timeout expired: killing the remaining workers");
                signal_generation(&m, 0, SIGKILL);
                m.stopping = 2;
            }
            for (i = 0; i < m.board->nslots; i++)
                if (slot(&m, i)->pid)
                    break;
            if (i == m.board->nslots)
                break;
        }
        p[0].fd = m.dump_rd;
        p[0].events = POLLIN;
        p[0].revents = 0;
        np = 1 + wf_stats_pollfds(&m.stats, p + 1);
        if (ppoll(p, (nfds_t)np, &ts, &waitmask) > 0 && (p[0].revents & POLLIN))
            collect_dump(&m, 0, WF_LOG_WARNING, 0);
        view.pid = m.pid;
        view.started_ms = m.started_ms;
        view.target = m.target;
        view.generation = m.generation;
        view.stopping = m.stopping;
        view.reaped = m.reaped;
        view.board = m.board;
        view.retired = &m.retired;
        view.restarts = m.restarts;
        view.listen_fd = l->fd;
        wf_stats_handle(&m.stats, p + 1, np - 1, &view, wf_now_ms());
    }
out:
    wf_log(WF_LOG_INFO, "master exiting");
    wf_stats_close(&m.stats);
    wf_listen_close(&stats);
    if (m.dump_rd >= 0)
        close(m.dump_rd);
    if (m.dump_wr >= 0)
        close(m.dump_wr);
    if (cfg->pidfile && unlink(cfg->pidfile) < 0 && errno != ENOENT)
        wf_log(WF_LOG_WARNING, "cannot remove --pidfile %s: %s", cfg->pidfile, strerror(errno));
    wf_scoreboard_free(m.board);
    return m.fatal ? 1 : (m.board ? 0 : 1);
}
