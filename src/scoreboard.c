/*
 * scoreboard.c - the shared memory between the master and its workers.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scoreboard.h"

struct wf_worker_slot *wf_my_slot;
struct wf_scoreboard *wf_board;
int wf_dump_fd = -1;
int wf_watch_fd = -1;
int wf_handoff_fd[2] = { -1, -1 };

int wf_gettid(void)
{
    static __thread int tid;

    if (!tid)
        tid = (int)syscall(SYS_gettid);
    return tid;
}

static size_t board_size(unsigned nslots, size_t slot_size)
{
    return sizeof(struct wf_scoreboard) + (size_t)nslots * slot_size;
}

struct wf_scoreboard *wf_scoreboard_new(unsigned nslots, unsigned threads)
{
    size_t slot_size = sizeof(struct wf_worker_slot) + (size_t)threads * sizeof(struct wf_thread_slot);
    struct wf_scoreboard *sb;

    slot_size = (slot_size + 63) & ~(size_t)63;   /* a cache line each */
    sb = mmap(NULL, board_size(nslots, slot_size), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sb == MAP_FAILED)
        return NULL;
    memset(sb, 0, board_size(nslots, slot_size));
    sb->nslots = nslots;
    sb->threads = threads;
    sb->slot_size = slot_size;
    return sb;
}

void wf_scoreboard_free(struct wf_scoreboard *sb)
{
    if (sb)
        munmap(sb, board_size(sb->nslots, sb->slot_size));
}

struct wf_worker_slot *wf_scoreboard_slot(struct wf_scoreboard *sb, unsigned i)
{
    return (struct wf_worker_slot *)(sb->slots + (size_t)i * sb->slot_size);
}

/* 1 ms to 60 s, in the 1-2.5-5 steps Prometheus users expect. */
const unsigned long long wf_duration_bounds_us[WF_DURATION_BUCKETS - 1] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};

void wf_counters_request(struct wf_counters *c, int protocol, int status, long long duration_us)
{
    int cls = status >= 100 && status < 600 ? status / 100 : 0;
    unsigned b = 0;

    if (duration_us < 0)
        duration_us = 0;
    while (b < WF_DURATION_BUCKETS - 1 && (unsigned long long)duration_us > wf_duration_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&c->by_status[protocol ? 1 : 0][cls], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->duration[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->duration_sum_us, (unsigned long long)duration_us, memory_order_relaxed);
}

void wf_counters_add(struct wf_counter_totals *t, const struct wf_counters *c)
{
    unsigned i, k;

    for (i = 0; i < WF_PROTOS; i++)
        for (k = 0; k < WF_STATUS_CLASSES; k++)
            t->by_status[i][k] += atomic_load_explicit(&c->by_status[i][k], memory_order_relaxed);
    for (i = 0; i < WF_DURATION_BUCKETS; i++)
        t->duration[i] += atomic_load_explicit(&c->duration[i], memory_order_relaxed);
    t->duration_sum_us += atomic_load_explicit(&c->duration_sum_us, memory_order_relaxed);
    t->conns_accepted += atomic_load_explicit(&c->conns_accepted, memory_order_relaxed);
    t->conns_timed_out += atomic_load_explicit(&c->conns_timed_out, memory_order_relaxed);
    t->conns_evicted += atomic_load_explicit(&c->conns_evicted, memory_order_relaxed);
    t->conns_refused += atomic_load_explicit(&c->conns_refused, memory_order_relaxed);
    t->conns_handed += atomic_load_explicit(&c->conns_handed, memory_order_relaxed);
}

long long wf_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Atomic int statm_fd = -1;

/* The resident set in KiB from /proc/self/statm (its second field, in
 * pages), or -1. */
static long long resident_kb(void)
{
    char buf[128];
    int fd = atomic_load(&statm_fd);
    ssize_t n;
    char *p, *end;
    unsigned long long pages;

    if (fd < 0) {
        int expected = -1;
        fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        if (!atomic_compare_exchange_strong(&statm_fd, &expected, fd)) {
            close(fd);          /* another thread opened it first */
            fd = expected;
        }
    }
    n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strchr(buf, ' ');
    if (!p)
        return -1;
    pages = strtoull(p + 1, &end, 10);
    if (end == p + 1)
        return -1;
    return (long long)(pages * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024);
}

void wf_rss_after_request(unsigned long long limit_kb)
{
    long long kb;

    if (!limit_kb || !wf_my_slot || atomic_load(&wf_my_slot->retire))
        return;                 /* asked already: rss_kb keeps that figure */
    kb = resident_kb();
    if (kb < 0)
        return;
    /* The largest figure: request threads measure at once, and a smaller
     * one stored after a larger one made the worker ask to retire would
     * log a figure under the limit. */
    for (long long seen = atomic_load(&wf_my_slot->rss_kb);
         kb > seen && !atomic_compare_exchange_weak(&wf_my_slot->rss_kb, &seen, kb);)
        ;
    if ((unsigned long long)kb > limit_kb)
        atomic_store(&wf_my_slot->retire, WF_RETIRE_MAX_RSS);
}
