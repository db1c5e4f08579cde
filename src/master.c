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
 * With --reload-mode chain the new generation grows one worker at a time
 * (chain_step): a new worker, once ready, retires one old worker, and the
 * next starts only when that one has exited, so at most N+1 workers exist.
 * --reload starts the same reload when a file of the application changes:
 * the workers send the paths (wf_watch_fd), the master watches them with
 * inotify (it learns file names, never runs Python).
 * Workers die with the master (PR_SET_PDEATHSIG), even on SIGKILL.
 *
 * --preload (zygote.h): instead of forking a worker that imports, the
 * master asks the generation's zygote (its child, which imported once) to
 * fork one; the worker is re-parented to the master (a child subreaper) and
 * from then on is supervised like any other.  A zygote that dies is
 * replaced; one that cannot load the application fails the start-up or the
 * reload, as a worker would.
 *
 * Stages: master_start (signals, sockets, pipes, privileges, scoreboard),
 * then the loop: master_signals, master_supervise (reloads, scaling,
 * spawning, limits) or master_stopping, master_wait (ppoll); then
 * master_shutdown.
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
#include <sys/inotify.h>
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
#include "zygote.h"

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

/* --preload: a zygote (zygote.h) and the generation whose workers it forks.
 * During a reload two live side by side: the old generation's (kept until
 * the new workers serve, so a failed reload still has one) and the new. */
struct zygote {
    pid_t pid;                /* 0: this entry is free */
    int fd;                   /* our end of the command socket, or -1 */
    unsigned generation;
    int ready;                /* it said WF_ZYGOTE_READY */
    int stopping;             /* we told it to go */
    unsigned seq;
    long long started_ms;
};
#define NZYGOTES 4

/* --reload: a watched file, by the inotify watch of its directory. */
struct watched {
    int wd;
    char *name;               /* the file's name in that directory */
    char *path;               /* the whole path, for the log */
};

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
    unsigned long long zygote_restarts;            /* zygotes that died and were replaced */
    struct zygote zyg[NZYGOTES];                   /* --preload */
    long long zygote_backoff, next_zygote;
    int watch_rd, watch_wr;   /* --reload: workers write module file paths */
    int inotify_fd;
    struct watched *watched;
    size_t nwatched;
    char watch_buf[4096];     /* a partial line from watch_rd */
    size_t watch_len;
    int reload_pending;       /* --reload: a file changed during a reload */
};

static struct wf_worker_slot *slot(struct master *m, unsigned i)
{
    return wf_scoreboard_slot(m->board, i);
}

/* In a new child of the master (a worker or a zygote): the death signal,
 * default dispositions with the control signals still blocked, and none of
 * the master's descriptors but the listening socket and the write ends of
 * its pipes. */
static void child_reset(struct master *m)
{
    struct sigaction sa;
    sigset_t ctl;
    size_t k;

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
    if (m->watch_rd >= 0)
        close(m->watch_rd);
    wf_watch_fd = m->watch_wr;
    if (m->inotify_fd >= 0)
        close(m->inotify_fd);
    for (k = 0; k < NZYGOTES; k++)
        if (m->zyg[k].fd >= 0)
            close(m->zyg[k].fd);
}

static void child_main(struct master *m, unsigned i)
{
    child_reset(m);
    wf_my_slot = slot(m, i);
    _exit(wf_worker_run(m->cfg, m->l));
}

static void signal_generation(struct master *m, unsigned generation, int sig);
static void describe_status(int status, char *buf, size_t len);

/* ---- --preload: zygotes ------------------------------------------------------ */

static struct zygote *zygote_of(struct master *m, unsigned generation)
{
    unsigned k;

    for (k = 0; k < NZYGOTES; k++)
        if (m->zyg[k].pid && !m->zyg[k].stopping && m->zyg[k].generation == generation)
            return &m->zyg[k];
    return NULL;
}

/* Tells a zygote to go (SIGTERM: it is idle, it exits at once; SIGKILL)
 * and closes our end of its socket; it is forgotten when reaped. */
static void zygote_stop(struct master *m, struct zygote *z, int sig)
{
    (void)m;
    if (!z->pid)
        return;
    kill(z->pid, sig);
    z->stopping = 1;
    z->ready = 0;
    if (z->fd >= 0)
        close(z->fd);
    z->fd = -1;
}

static void zygotes_stop_all(struct master *m, int sig)
{
    unsigned k;

    for (k = 0; k < NZYGOTES; k++)
        if (m->zyg[k].pid && (!m->zyg[k].stopping || sig == SIGKILL))
            zygote_stop(m, &m->zyg[k], sig);
}

/* Forks a zygote for generation: it imports the application and says
 * WF_ZYGOTE_READY (zygote_read).  0, or -1 (logged). */
static int zygote_start(struct master *m, unsigned generation)
{
    struct zygote *z = NULL;
    int sv[2];
    unsigned k;
    pid_t pid;

    for (k = 0; k < NZYGOTES && !z; k++)
        if (!m->zyg[k].pid)
            z = &m->zyg[k];
    if (!z)
        return -1;                   /* old ones still exiting: later */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        wf_log(WF_LOG_ERROR, "--preload: socketpair: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        wf_log(WF_LOG_ERROR, "--preload: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        child_reset(m);
        wf_my_slot = NULL;
        _exit(wf_zygote_run(m->cfg, m->l, sv[1]));
    }
    close(sv[1]);
    wf_set_nonblock(sv[0], 1);
    memset(z, 0, sizeof *z);
    z->pid = pid;
    z->fd = sv[0];
    z->generation = generation;
    z->started_ms = wf_now_ms();
    wf_log(WF_LOG_INFO, "--preload: zygote %d imports the application for generation %u; "
           "the workers will be forked from it", (int)pid, generation);
    return 0;
}

/* Reads what a zygote sent outside a fork request: its WF_ZYGOTE_READY
 * (answers that arrive too late are dropped). */
static void zygote_read(struct master *m, struct zygote *z)
{
    struct wf_zygote_msg msg;
    ssize_t n = -1;

    (void)m;
    while (z->fd >= 0 && (n = recv(z->fd, &msg, sizeof msg, 0)) == (ssize_t)sizeof msg) {
        if (msg.kind == WF_ZYGOTE_READY && !z->ready) {
            z->ready = 1;
            wf_log(WF_LOG_INFO, "--preload: zygote %d ready (%lld ms): forking the workers of "
                   "generation %u", (int)z->pid, wf_now_ms() - z->started_ms, z->generation);
        }
    }
    /* Its end closed (it is exiting; SIGCHLD follows): stop watching a
     * socket that would stay readable for ever. */
    if (z->fd >= 0 && (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))) {
        close(z->fd);
        z->fd = -1;
    }
}

/* Asks a ready zygote for a worker in slot i and waits (10 s at most) for
 * its pid.  The pid, or -1 (logged; a zygote that does not answer is
 * killed, and a new one is started). */
static pid_t zygote_spawn(struct master *m, struct zygote *z, unsigned i)
{
    struct wf_zygote_cmd cmd;
    long long deadline = wf_now_ms() + 10000;

    cmd.seq = ++z->seq;
    cmd.slot = i;
    if (send(z->fd, &cmd, sizeof cmd, MSG_NOSIGNAL) != (ssize_t)sizeof cmd) {
        wf_log(WF_LOG_ERROR, "--preload: zygote %d: cannot ask for a worker: %s", (int)z->pid,
               strerror(errno));
        zygote_stop(m, z, SIGKILL);
        return -1;
    }
    for (;;) {
        struct wf_zygote_msg msg;
        struct pollfd p = { z->fd, POLLIN, 0 };
        long long left = deadline - wf_now_ms();
        ssize_t n;
        int r;

        if (left <= 0) {
            wf_log(WF_LOG_ERROR, "--preload: zygote %d did not fork a worker within 10 s; "
                   "killing it", (int)z->pid);
            zygote_stop(m, z, SIGKILL);
            return -1;
        }
        r = poll(&p, 1, (int)left);
        if (r <= 0)
            continue;
        n = recv(z->fd, &msg, sizeof msg, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0) {
            wf_log(WF_LOG_ERROR, "--preload: zygote %d went away while forking a worker",
                   (int)z->pid);
            zygote_stop(m, z, SIGKILL);
            return -1;
        }
        if (n != (ssize_t)sizeof msg || msg.seq != cmd.seq ||
            (msg.kind != WF_ZYGOTE_FORKED && msg.kind != WF_ZYGOTE_FAILED))
            continue;
        if (msg.kind == WF_ZYGOTE_FORKED && msg.pid > 0)
            return msg.pid;
        wf_log(WF_LOG_ERROR, "--preload: zygote %d: fork: %s", (int)z->pid, strerror(msg.err));
        return -1;
    }
}

/* A zygote ended.  Expected when we stopped it; before it was ready it
 * could not load the application (at start-up: exit; in a reload: the
 * reload fails, the old workers stay); a ready one that dies is replaced
 * (the new one imports the application again), with back-off. */
static void zygote_reaped(struct master *m, struct zygote *z, int status)
{
    char how[128];
    long long lived = wf_now_ms() - z->started_ms;
    int ready = z->ready, stopping = z->stopping;
    unsigned generation = z->generation;
    pid_t pid = z->pid;

    describe_status(status, how, sizeof how);
    if (z->fd >= 0)
        close(z->fd);
    memset(z, 0, sizeof *z);
    z->fd = -1;
    if (stopping || m->stopping) {
        wf_log(WF_LOG_INFO, "--preload: zygote %d (generation %u) %s", (int)pid, generation, how);
        return;
    }
    if (!ready) {
        if (m->reloading && generation == m->generation) {
            wf_log(WF_LOG_ERROR, "reload failed: the new zygote %d %s before it loaded the "
                   "application; the previous workers keep serving", (int)pid, how);
            signal_generation(m, m->generation, SIGTERM);
            m->generation = m->old_generation;
            m->reloading = 0;
            return;
        }
        if (!m->ever_ready) {
            wf_log(WF_LOG_ERROR, "--preload: zygote %d %s: the application cannot be loaded; "
                   "exiting", (int)pid, how);
            m->fatal = 1;
            return;
        }
        wf_log(WF_LOG_ERROR, "--preload: zygote %d %s before it loaded the application",
               (int)pid, how);
    } else {
        wf_log(WF_LOG_WARNING, "--preload: zygote %d (generation %u) %s after %lld ms; starting "
               "a new one (it imports the application again); the workers keep serving",
               (int)pid, generation, how, lived);
    }
    m->zygote_restarts++;
    if (lived < 2000)
        m->zygote_backoff = m->zygote_backoff
            ? (m->zygote_backoff * 2 > 30000 ? 30000 : m->zygote_backoff * 2) : 100;
    else
        m->zygote_backoff = 0;
    m->next_zygote = wf_now_ms() + m->zygote_backoff;
}

/* Keeps one zygote for the generation being served, and the previous
 * generation's only while a reload may still fall back to it. */
static void zygotes_tend(struct master *m, long long now)
{
    unsigned k;

    for (k = 0; k < NZYGOTES; k++) {
        struct zygote *z = &m->zyg[k];
        if (!z->pid || z->stopping || z->generation == m->generation ||
            (m->reloading && z->generation == m->old_generation))
            continue;
        wf_log(WF_LOG_INFO, "--preload: zygote %d of generation %u is no longer needed",
               (int)z->pid, z->generation);
        zygote_stop(m, z, SIGTERM);
    }
    if (!zygote_of(m, m->generation) && now >= m->next_zygote && zygote_start(m, m->generation) < 0)
        m->next_zygote = now + 1000;
}

/* Forks a worker into a free slot (with --preload: has the generation's
 * zygote fork it).  0, 1 when it cannot be done yet (the zygote is still
 * loading), -1 on failure. */
static int spawn(struct master *m)
{
    unsigned i;
    pid_t pid;
    struct wf_worker_slot *s = NULL;
    struct zygote *z = NULL;

    if (m->cfg->preload) {
        z = zygote_of(m, m->generation);
        if (!z || !z->ready)
            return 1;
    }

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
    if (z) {
        pid = zygote_spawn(m, z, i);
        if (pid < 0) {
            atomic_store(&s->state, WF_SLOT_FREE);
            return -1;
        }
        s->pid = pid;
        return 0;
    }
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

        for (i = 0; i < NZYGOTES; i++)
            if (m->zyg[i].pid == pid)
                break;
        if (i < NZYGOTES) {
            zygote_reaped(m, &m->zyg[i], status);
            continue;
        }

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

/* ---- --reload: files of the application's modules, watched with inotify ---- */

/* Watches path (absolute) through its directory, so that an editor that
 * writes a new file and renames it over the old one is seen too. */
static void watch_add(struct master *m, const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    struct watched *v;
    size_t k, dlen;
    int wd;

    if (path[0] != '/' || !slash || !slash[1])
        return;
    for (k = 0; k < m->nwatched; k++)
        if (strcmp(m->watched[k].path, path) == 0)
            return;
    dlen = slash == path ? 1 : (size_t)(slash - path);
    if (dlen >= sizeof dir)
        return;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    wd = inotify_add_watch(m->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) {
        wf_log(WF_LOG_WARNING, "--reload: cannot watch %s: %s", dir, strerror(errno));
        return;
    }
    v = realloc(m->watched, (m->nwatched + 1) * sizeof *v);
    if (!v)
        return;
    m->watched = v;
    v[m->nwatched].wd = wd;
    v[m->nwatched].path = strdup(path);
    v[m->nwatched].name = v[m->nwatched].path ? v[m->nwatched].path + (slash - path) + 1 : NULL;
    if (!v[m->nwatched].path)
        return;
    m->nwatched++;
    wf_log(WF_LOG_DEBUG, "--reload: watching %s", path);
}

/* Reads the paths the workers sent (one per line). */
static void watch_read_paths(struct master *m)
{
    for (;;) {
        ssize_t n = read(m->watch_rd, m->watch_buf + m->watch_len, sizeof m->watch_buf - m->watch_len);
        size_t start = 0, i;

        if (n <= 0)
            return;
        m->watch_len += (size_t)n;
        for (i = 0; i < m->watch_len; i++) {
            if (m->watch_buf[i] != '\n')
                continue;
            m->watch_buf[i] = '\0';
            watch_add(m, m->watch_buf + start);
            start = i + 1;
        }
        if (start == 0 && m->watch_len == sizeof m->watch_buf)
            start = m->watch_len;                /* an overlong line: dropped */
        memmove(m->watch_buf, m->watch_buf + start, m->watch_len - start);
        m->watch_len -= start;
    }
}

static void master_reload(struct master *m, const char *why);

/* Reads inotify events; a watched file written or renamed into place
 * starts a reload (or one after the reload in progress). */
static void watch_events(struct master *m)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    const char *changed = NULL;
    ssize_t n;

    while ((n = read(m->inotify_fd, buf, sizeof buf)) > 0) {
        char *p = buf;
        while (p < buf + n) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            size_t k;
            if (ev->len)
                for (k = 0; k < m->nwatched && !changed; k++)
                    if (m->watched[k].wd == ev->wd && strcmp(m->watched[k].name, ev->name) == 0)
                        changed = m->watched[k].path;
            p += sizeof *ev + ev->len;
        }
    }
    if (!changed || m->stopping)
        return;
    if (m->reloading) {
        wf_log(WF_LOG_INFO, "--reload: %s changed; reloading once the reload in progress is done",
               changed);
        m->reload_pending = 1;
        return;
    }
    {
        char why[4200];
        snprintf(why, sizeof why, "--reload: %s changed", changed);
        master_reload(m, why);
    }
}

/* ---- the master's lifecycle: start-up, loop, reload, shutdown ---------------- */

/* Signals, the --stats socket, the traceback and --reload pipes, the
 * pidfile, privileges, the scoreboard.  0, or -1 (logged). */
static int master_start(struct master *m, sigset_t *waitmask, struct wf_listener *stats)
{
    const struct wf_config *cfg = m->cfg;
    struct sigaction sa;
    sigset_t block;
    char err[512];
    size_t k;

    sigemptyset(&block);
    for (k = 0; k < NHANDLED; k++)
        sigaddset(&block, handled[k]);
    sigaddset(&block, WF_SIG_TRACEBACK);
    sigprocmask(SIG_BLOCK, &block, waitmask);
    for (k = 0; k < NHANDLED; k++)
        sigdelset(waitmask, handled[k]);
    sigdelset(waitmask, WF_SIG_TRACEBACK);
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
        if (wf_listen_open_addr(&cfg->stats_addr, 0660, NULL, 64, stats, err, sizeof err) < 0) {
            wf_log(WF_LOG_ERROR, "--stats: %s", err);
            return -1;
        }
        m->stats_fd = stats->fd;
        wf_set_nonblock(m->stats_fd, 1);
        wf_stats_init(&m->stats, m->stats_fd);
    }
    {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) == 0) {
            m->dump_rd = fds[0];
            m->dump_wr = fds[1];
            wf_set_nonblock(m->dump_rd, 1);
        } else {
            wf_log(WF_LOG_WARNING, "pipe: %s: --timeout will kill without tracebacks", strerror(errno));
        }
    }
    /* Kept connections a stopping worker hands to the others (dispatch.c);
     * the master only keeps the pair open across generations. */
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, wf_handoff_fd) < 0) {
        wf_log(WF_LOG_WARNING, "socketpair: %s: a stopping worker will close its kept "
               "connections instead of handing them over", strerror(errno));
        wf_handoff_fd[0] = wf_handoff_fd[1] = -1;
    }
    if (cfg->reload) {
        int fds[2];
        m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (m->inotify_fd < 0 || pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
            wf_log(WF_LOG_ERROR, "--reload: %s", strerror(errno));
            return -1;
        }
        m->watch_rd = fds[0];
        m->watch_wr = fds[1];
    }
    /* --preload: workers are the zygote's grandchildren, re-parented to us. */
    if (cfg->preload && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        wf_log(WF_LOG_ERROR, "--preload: PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
        return -1;
    }
    if (cfg->pidfile && write_pidfile(cfg->pidfile, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        return -1;
    }
    if (drop_privileges(cfg, err, sizeof err) < 0) {
        wf_log(WF_LOG_ERROR, "%s", err);
        return -1;
    }
    /* Room for SIGTTIN up to processes + 32 workers, and for a full second
     * generation of those during a reload. */
    m->board = wf_scoreboard_new((cfg->processes + 32) * 2, cfg->threads);
    if (!m->board) {
        wf_log(WF_LOG_ERROR, "scoreboard: %s", strerror(errno));
        return -1;
    }
    wf_log(WF_LOG_INFO, "wsgi-fcgi %s master %d: %s over %s on %s, %u process%s x %u thread%s, "
           "Python %s%s%s%s%s%s", PACKAGE_VERSION, (int)m->pid, cfg->app_arg,
           wf_protocol_name(cfg->protocol), m->l->desc, m->target, m->target > 1 ? "es" : "",
           cfg->threads, cfg->threads > 1 ? "s" : "", WF_PYTHON_VERSION,
           cfg->stats_arg ? ", stats on " : "", cfg->stats_arg ? cfg->stats_arg : "",
           cfg->preload ? ", preload (one import in a zygote, workers forked from it)" : "",
           cfg->reload_mode == WF_RELOAD_CHAIN ? ", chain reloads" : "",
           cfg->reload ? ", reload on file changes (--reload)" : "");
    warn_exposure(cfg, m->l);
    return 0;
}

/* SIGHUP (or --reload): new workers with a fresh import.  Generation mode:
 * all of them at once, the old ones stop when every new one is ready;
 * chain mode: one at a time (chain_step).  With --preload a new zygote
 * imports the application first. */
static void master_reload(struct master *m, const char *why)
{
    if (m->reloading) {
        wf_log(WF_LOG_WARNING, "%s: a reload is already in progress", why);
        return;
    }
    if (m->cfg->reload_mode == WF_RELOAD_CHAIN)
        wf_log(WF_LOG_INFO, "%s: replacing the %u worker%s one at a time with a fresh import%s",
               why, m->target, m->target > 1 ? "s" : "",
               m->cfg->preload ? " (a new zygote imports the application first)" : "");
    else
        wf_log(WF_LOG_INFO, "%s: starting %u new worker%s with a fresh import%s", why, m->target,
               m->target > 1 ? "s" : "",
               m->cfg->preload ? " (a new zygote imports the application first)" : "");
    m->old_generation = m->generation;
    m->generation++;
    m->reloading = 1;
    m->next_spawn = 0;
    m->backoff = 0;
    m->next_zygote = 0;
    m->zygote_backoff = 0;
}

/* Every worker process that exists, stopping ones included. */
static unsigned live_workers(struct master *m)
{
    unsigned i, n = 0;

    for (i = 0; i < m->board->nslots; i++)
        if (slot(m, i)->pid)
            n++;
    return n;
}

/* One step of a chain reload: while old workers remain, start one new
 * worker (never more than target + 1 worker processes in all), and once it
 * is ready stop one old worker; the next new one starts when that one has
 * exited. */
static void chain_step(struct master *m, long long now)
{
    unsigned old = count(m, m->old_generation, 0);
    unsigned fresh = count(m, m->generation, 0), ready = count(m, m->generation, 1);
    unsigned i;

    if (old == 0) {
        wf_log(WF_LOG_INFO, "chain reload: every worker replaced");
        signal_generation(m, m->old_generation, SIGTERM);     /* any left behind */
        m->reloading = 0;
        return;
    }
    if (fresh > ready)
        return;                                   /* a replacement is starting */
    if (fresh + old > m->target) {
        struct wf_worker_slot *oldest = NULL;
        for (i = 0; i < m->board->nslots; i++) {
            struct wf_worker_slot *s = slot(m, i);
            if (s->pid && s->generation == m->old_generation && !s->replacing &&
                atomic_load(&s->state) != WF_SLOT_STOPPING &&
                (!oldest || s->started_ms < oldest->started_ms))
                oldest = s;
        }
        if (!oldest)
            return;
        wf_log(WF_LOG_INFO, "chain reload: a new worker is ready; worker %d finishes its requests "
               "and exits (%u old one%s left)", (int)oldest->pid, old - 1, old - 1 == 1 ? "" : "s");
        atomic_store(&oldest->stop_cause, WF_STOP_RELOAD);
        atomic_store(&oldest->state, WF_SLOT_STOPPING);
        oldest->stop_ms = now;
        kill(oldest->pid, SIGTERM);
        return;
    }
    if (live_workers(m) < m->target + 1 && now >= m->next_spawn) {
        int r = spawn(m);
        if (r < 0)
            m->next_spawn = now + 1000;
    }
}

/* The flags the signal handlers set, acted on. */
static void master_signals(struct master *m, long long now)
{
    const struct wf_config *cfg = m->cfg;
    unsigned k;

    if (sig_chld) {
        sig_chld = 0;
        reap(m);
    }
    if (m->fatal && m->stopping < 2) {
        signal_generation(m, 0, SIGKILL);
        zygotes_stop_all(m, SIGKILL);
        m->stopping = 2;
    }
    if (sig_quit && m->stopping < 2) {
        wf_log(WF_LOG_INFO, "SIGQUIT: stopping now");
        m->stopping = 2;
        signal_generation(m, 0, SIGKILL);
        zygotes_stop_all(m, SIGKILL);
    }
    if ((sig_term || sig_int) && !m->stopping) {
        wf_log(WF_LOG_INFO, "%s: stopping gracefully (up to %u s for requests in flight)",
               sig_term ? "SIGTERM" : "SIGINT", cfg->graceful_timeout);
        m->stopping = 1;
        m->stop_deadline = now + (long long)cfg->graceful_timeout * 1000;
        signal_generation(m, 0, SIGTERM);
        zygotes_stop_all(m, SIGTERM);
    }
    sig_term = sig_int = sig_quit = 0;
    if (sig_dump) {
        sig_dump = 0;
        dump_all(m);
    }
    if (sig_usr1) {
        sig_usr1 = 0;
        if (cfg->log_file && wf_log_reopen(cfg->log_file) < 0)
            wf_log(WF_LOG_ERROR, "reopening %s: %s", cfg->log_file, strerror(errno));
        else if (cfg->log_file || cfg->access_log)
            wf_log(WF_LOG_INFO, "SIGUSR1: log files reopened");
        wf_access_log_reopen();
        signal_generation(m, 0, SIGUSR1);
        for (k = 0; k < NZYGOTES; k++)
            if (m->zyg[k].pid && !m->zyg[k].stopping)
                kill(m->zyg[k].pid, SIGUSR1);
    }
}

/* While serving: reloads, scaling, replacements, limits. */
static void master_supervise(struct master *m, long long now)
{
    unsigned i;

    if (sig_hup) {
        sig_hup = 0;
        master_reload(m, "SIGHUP");
    }
    if (!m->reloading && m->reload_pending) {
        m->reload_pending = 0;
        master_reload(m, "--reload: a file changed during the last reload");
    }
    if (sig_ttin) {
        sig_ttin = 0;
        if ((m->target + 1) * 2 <= m->board->nslots) {
            m->target++;
            wf_log(WF_LOG_INFO, "SIGTTIN: now %u workers", m->target);
        } else {
            wf_log(WF_LOG_WARNING, "SIGTTIN: already at the limit of %u workers",
                   m->board->nslots / 2);
        }
    }
    if (sig_ttou) {
        sig_ttou = 0;
        if (m->target > 1) {
            m->target--;
            wf_log(WF_LOG_INFO, "SIGTTOU: now %u workers", m->target);
        }
    }
    if (m->cfg->preload)
        zygotes_tend(m, now);
    /* Too many workers (SIGTTOU): retire the newest. */
    while (count(m, m->generation, 0) > m->target) {
        struct wf_worker_slot *newest = NULL;
        for (i = 0; i < m->board->nslots; i++) {
            struct wf_worker_slot *s = slot(m, i);
            if (s->pid && s->generation == m->generation &&
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
    check_rss(m);
    if (m->reloading && m->cfg->reload_mode == WF_RELOAD_CHAIN) {
        chain_step(m, now);
    } else {
        while (count(m, m->generation, 0) < m->target && now >= m->next_spawn) {
            int r = spawn(m);
            if (r < 0)
                m->next_spawn = now + 1000;
            if (r != 0)
                break;
        }
    }
    for (i = 0; i < m->board->nslots; i++)
        if (atomic_load(&slot(m, i)->state) == WF_SLOT_READY)
            m->ever_ready = 1;
    if (m->reloading && m->cfg->reload_mode != WF_RELOAD_CHAIN &&
        count(m, m->generation, 1) >= m->target) {
        wf_log(WF_LOG_INFO, "reload: new workers ready; the previous ones finish and exit");
        signal_generation(m, m->old_generation, SIGTERM);
        m->reloading = 0;
    }
    retire_replaced(m, now);
    check_timeouts(m, now);
    check_retiring(m, now);
}

/* After SIGTERM/SIGINT/SIGQUIT: 1 once every worker and zygote is gone. */
static int master_stopping(struct master *m, long long now)
{
    unsigned i;

    sig_hup = sig_ttin = sig_ttou = 0;
    if (m->stopping == 1 && now > m->stop_deadline) {
        wf_log(WF_LOG_WARNING, "--graceful-timeout expired: killing the remaining workers");
        signal_generation(m, 0, SIGKILL);
        zygotes_stop_all(m, SIGKILL);
        m->stopping = 2;
    }
    for (i = 0; i < m->board->nslots; i++)
        if (slot(m, i)->pid)
            return 0;
    for (i = 0; i < NZYGOTES; i++)
        if (m->zyg[i].pid)
            return 0;
    return 1;
}

/* Waits (100 ms at most) for a signal, a traceback dump, a zygote's
 * message, --reload's paths and events, and --stats clients, and serves
 * the latter. */
static void master_wait(struct master *m, const sigset_t *waitmask)
{
    struct pollfd p[1 + NZYGOTES + 2 + WF_STATS_CLIENTS + 1];
    struct zygote *zp[NZYGOTES];
    struct timespec ts = { 0, 100 * 1000000L };
    struct wf_stats_view view;
    int np = 0, nz = 0, nstats, k, watch_at = -1;

    p[np].fd = m->dump_rd;
    p[np].events = POLLIN;
    p[np++].revents = 0;
    for (k = 0; k < NZYGOTES; k++) {
        if (m->zyg[k].fd < 0 || m->zyg[k].ready)
            continue;
        zp[nz++] = &m->zyg[k];
        p[np].fd = m->zyg[k].fd;
        p[np].events = POLLIN;
        p[np++].revents = 0;
    }
    if (m->inotify_fd >= 0) {
        watch_at = np;
        p[np].fd = m->watch_rd;
        p[np].events = POLLIN;
        p[np++].revents = 0;
        p[np].fd = m->inotify_fd;
        p[np].events = POLLIN;
        p[np++].revents = 0;
    }
    nstats = wf_stats_pollfds(&m->stats, p + np);
    if (ppoll(p, (nfds_t)(np + nstats), &ts, waitmask) > 0) {
        /* ppoll delivers a pending signal only when it is interrupted: with
         * descriptors ready it returns first.  Let the handlers run now, so
         * that busy descriptors never starve the signals. */
        struct timespec zero = { 0, 0 };
        sigset_t pending;
        sigpending(&pending);
        for (k = 0; k < (int)NHANDLED; k++)
            if (sigismember(&pending, handled[k]))
                break;
        if (k < (int)NHANDLED || sigismember(&pending, WF_SIG_TRACEBACK))
            ppoll(NULL, 0, &zero, waitmask);
        if (p[0].revents & POLLIN)
            collect_dump(m, 0, WF_LOG_WARNING, 0);
        for (k = 0; k < nz; k++)
            if (p[1 + k].revents & (POLLIN | POLLHUP | POLLERR))
                zygote_read(m, zp[k]);
        if (watch_at >= 0 && (p[watch_at].revents & POLLIN))
            watch_read_paths(m);
        if (watch_at >= 0 && (p[watch_at + 1].revents & POLLIN))
            watch_events(m);
    }
    view.pid = m->pid;
    view.started_ms = m->started_ms;
    view.target = m->target;
    view.generation = m->generation;
    view.stopping = m->stopping;
    view.reaped = m->reaped;
    view.board = m->board;
    view.retired = &m->retired;
    view.restarts = m->restarts;
    view.zygote_restarts = m->zygote_restarts;
    view.listen_fd = m->l->fd;
    {
        struct zygote *z = zygote_of(m, m->generation);
        view.zygote = z && z->ready ? z->pid : 0;
    }
    wf_stats_handle(&m->stats, p + np, nstats, &view, wf_now_ms());
}

static void master_shutdown(struct master *m, struct wf_listener *stats)
{
    const struct wf_config *cfg = m->cfg;
    size_t k;

    wf_log(WF_LOG_INFO, "master exiting");
    wf_stats_close(&m->stats);
    wf_listen_close(stats);
    if (m->dump_rd >= 0)
        close(m->dump_rd);
    if (m->dump_wr >= 0)
        close(m->dump_wr);
    for (k = 0; k < 2; k++)
        if (wf_handoff_fd[k] >= 0)
            close(wf_handoff_fd[k]);
    if (m->watch_rd >= 0)
        close(m->watch_rd);
    if (m->watch_wr >= 0)
        close(m->watch_wr);
    if (m->inotify_fd >= 0)
        close(m->inotify_fd);
    for (k = 0; k < m->nwatched; k++)
        free(m->watched[k].path);
    free(m->watched);
    for (k = 0; k < NZYGOTES; k++)
        if (m->zyg[k].fd >= 0)
            close(m->zyg[k].fd);
    if (cfg->pidfile && unlink(cfg->pidfile) < 0 && errno != ENOENT)
        wf_log(WF_LOG_WARNING, "cannot remove --pidfile %s: %s", cfg->pidfile, strerror(errno));
    wf_scoreboard_free(m->board);
}

int wf_master_run(const struct wf_config *cfg, struct wf_listener *l)
{
    struct master m;
    sigset_t waitmask;
    struct wf_listener stats;
    size_t k;
    int rc = 1;

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
    m.watch_rd = m.watch_wr = m.inotify_fd = -1;
    for (k = 0; k < NZYGOTES; k++)
        m.zyg[k].fd = -1;

    if (master_start(&m, &waitmask, &stats) == 0) {
        for (;;) {
            long long now = wf_now_ms();

            master_signals(&m, now);
            if (!m.stopping)
                master_supervise(&m, now);
            else if (master_stopping(&m, now))
                break;
            master_wait(&m, &waitmask);
        }
        rc = m.fatal ? 1 : 0;
    }
    master_shutdown(&m, &stats);
    return rc;
}
