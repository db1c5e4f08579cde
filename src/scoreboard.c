/*
 * scoreboard.c - the shared memory between the master and its workers.
 */
#include "autoconfig.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "scoreboard.h"

struct wf_worker_slot *wf_my_slot;
struct wf_scoreboard *wf_board;

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

long long wf_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
