/*
 * scoreboard.h - what workers publish to the master: one slot per worker
 * process in memory shared across fork (MAP_SHARED), holding its state, its
 * counters and, per request thread, when the request in hand started and
 * what it is (for --timeout and --stats).  Written with relaxed atomics by
 * the worker, read by the master; no locks, no Python.
 */
#ifndef WF_SCOREBOARD_H
#define WF_SCOREBOARD_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define WF_LABEL_LEN 112

enum wf_slot_state { WF_SLOT_FREE = 0, WF_SLOT_STARTING, WF_SLOT_READY, WF_SLOT_STOPPING };

/* Why a worker asks the master to replace it (wf_worker_slot.retire). */
enum wf_retire_cause { WF_RETIRE_NONE = 0, WF_RETIRE_MAX_RSS };

/* Why a worker ended (wf_worker_slot.stop_cause, set by whoever stopped
 * it; a worker that dies with none set crashed).  The restart counts of
 * --stats' metrics are kept by cause. */
enum wf_stop_cause {
    WF_STOP_NONE = 0,          /* still running, or it crashed */
    WF_STOP_TIMEOUT,           /* killed by --timeout */
    WF_STOP_MAX_REQUESTS,
    WF_STOP_MAX_RSS,
    WF_STOP_RELOAD,            /* SIGHUP */
    WF_STOP_SCALE_DOWN,        /* SIGTTOU */
    WF_STOP_SHUTDOWN,          /* the master stops: not a restart */
    WF_STOP_CAUSES
};

/* Request and connection counters of one worker, by the labels of the
 * metrics: protocol (FastCGI, SCGI) x status class (none, 1xx ... 5xx;
 * none: no status was sent), and request durations in buckets whose upper
 * bounds are wf_duration_bounds_us (the last bucket has none). */
#define WF_PROTOS 2
#define WF_STATUS_CLASSES 6
#define WF_DURATION_BUCKETS 16
extern const unsigned long long wf_duration_bounds_us[WF_DURATION_BUCKETS - 1];

struct wf_counters {
    _Atomic unsigned long long by_status[WF_PROTOS][WF_STATUS_CLASSES];
    _Atomic unsigned long long duration[WF_DURATION_BUCKETS];
    _Atomic unsigned long long duration_sum_us;
    _Atomic unsigned long long conns_accepted, conns_timed_out, conns_evicted, conns_refused;
    _Atomic unsigned long long conns_handed;   /* kept ones given to other workers at a stop */
};

/* The same, summed over workers that are gone (the master's, no atomics). */
struct wf_counter_totals {
    unsigned long long by_status[WF_PROTOS][WF_STATUS_CLASSES];
    unsigned long long duration[WF_DURATION_BUCKETS];
    unsigned long long duration_sum_us;
    unsigned long long conns_accepted, conns_timed_out, conns_evicted, conns_refused;
    unsigned long long conns_handed;
};

/* Counts one request of a worker: protocol 0 FastCGI, 1 SCGI. */
void wf_counters_request(struct wf_counters *c, int protocol, int status, long long duration_us);
/* Adds a worker's counters into totals. */
void wf_counters_add(struct wf_counter_totals *t, const struct wf_counters *c);

struct wf_thread_slot {
    _Atomic long long start_ms;      /* monotonic ms the request began; 0 = idle */
    _Atomic int tid;                 /* the request thread's kernel tid (gettid) */
    char label[WF_LABEL_LEN];        /* "GET /path" of that request */
};

struct wf_worker_slot {
    _Atomic int state;               /* enum wf_slot_state */
    pid_t pid;
    unsigned generation;
    long long started_ms;            /* monotonic, set by the master at fork */
    long long stop_ms;               /* when the master sent SIGTERM, or 0 */
    _Atomic unsigned long long requests;
    _Atomic unsigned long long errors;   /* 5xx answers and aborted responses */
    _Atomic int in_flight;
    /* The worker's connections, by state (dispatch.h), and how many of
     * them have been kept for another request. */
    _Atomic unsigned conns_reading, conns_idle, conns_ready, conns_busy, conns_kept;
    _Atomic long long rss_kb;        /* the largest resident set measured after
                                      * a request (with --max-rss); once it asked
                                      * to retire, the figure that made it */
    _Atomic int retire;              /* enum wf_retire_cause, set by the worker */
    _Atomic int stop_cause;          /* enum wf_stop_cause */
    struct wf_counters counters;
    int replacing;                   /* master only: a replacement is on its way
                                      * (this worker no longer counts) */
    struct wf_thread_slot threads[]; /* scoreboard->threads entries */
};

struct wf_scoreboard {
    unsigned nslots;
    unsigned threads;
    size_t slot_size;
    _Alignas(64) char slots[];       /* slot_size bytes each, cache-line aligned */
};

/* Creates a scoreboard for nslots workers of threads threads each (shared
 * across fork).  NULL on failure (errno set). */
struct wf_scoreboard *wf_scoreboard_new(unsigned nslots, unsigned threads);
void wf_scoreboard_free(struct wf_scoreboard *sb);
struct wf_worker_slot *wf_scoreboard_slot(struct wf_scoreboard *sb, unsigned i);

/* --max-rss, in a worker after each request: reads its resident set
 * (one pread(2) of /proc/self/statm on a descriptor kept open), publishes
 * it in its slot and, once it exceeds limit_kb, asks the master to replace
 * it (retire = WF_RETIRE_MAX_RSS).  Does nothing when limit_kb is 0 or
 * there is no master.  Any thread; no locks. */
void wf_rss_after_request(unsigned long long limit_kb);

/* Monotonic clock in milliseconds. */
long long wf_now_ms(void);

/* The calling worker's slot (NULL when there is no master). */
extern struct wf_worker_slot *wf_my_slot;
extern struct wf_scoreboard *wf_board;

/* --timeout tracebacks.  A worker has Python's faulthandler dump the
 * traceback of every thread into wf_dump_fd (the write end of a pipe the
 * master reads; -1 when there is no master) on WF_SIG_TRACEBACK, a signal
 * no worker thread blocks.  The master sends it to the stuck thread itself
 * (tgkill with the tid above), so faulthandler marks that thread "Current
 * thread"; faulthandler writes without taking the GIL. */
#define WF_SIG_TRACEBACK (SIGRTMIN + 2)
extern int wf_dump_fd;

/* --reload: the write end of a pipe the master reads, -1 without --reload.
 * A worker (and a zygote) writes there the files of the application's
 * modules, one absolute path and '\n' per line (each line one write, at
 * most PIPE_BUF bytes, so lines of several processes never mix); the
 * master watches them with inotify and reloads when one changes. */
extern int wf_watch_fd;

/* Kept connections of a stopping worker go to the others: a datagram
 * socket pair the master makes and every worker inherits; [0] sends,
 * [1] receives (SCM_RIGHTS).  -1, -1 without a master. */
extern int wf_handoff_fd[2];

/* The calling thread's kernel tid (cached per thread). */
int wf_gettid(void);

#endif
