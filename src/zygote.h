/*
 * zygote.h - --preload: the messages between the master and a zygote, the
 * process that imports the application once and forks the workers from it.
 *
 * The master never runs Python, so it cannot fork workers that already hold
 * the application.  With --preload it forks a zygote instead, which loads
 * the application, freezes the garbage collector's view of what it loaded
 * and then only forks on request.  They talk over a SOCK_SEQPACKET socket
 * pair (one message per send, never split): the master sends
 * wf_zygote_cmd, the zygote (or its short-lived forking child) answers
 * with wf_zygote_msg.
 *
 * A worker must be the master's own child, so the master's supervision
 * (waitpid, crash detection, recycling, timeouts) stays what it is without
 * a zygote.  The master is a child subreaper (PR_SET_CHILD_SUBREAPER); the
 * zygote forks a short-lived intermediate process, which forks the worker,
 * reports its pid to the master and exits: the orphaned worker is
 * re-parented to the master.  The worker waits until it is (and until the
 * master has recorded its pid in the slot) before it serves, and only then
 * arms PR_SET_PDEATHSIG against the master.
 */
#ifndef WF_ZYGOTE_H
#define WF_ZYGOTE_H

#include <sys/types.h>

/* Master to zygote: fork a worker for scoreboard slot `slot`. */
struct wf_zygote_cmd {
    unsigned seq;       /* echoed in the answer */
    unsigned slot;
};

enum wf_zygote_kind {
    WF_ZYGOTE_READY = 1,    /* the application is loaded: ask for workers */
    WF_ZYGOTE_FORKED,       /* answer: pid is the new worker */
    WF_ZYGOTE_FAILED        /* answer: fork failed with errno err */
};

struct wf_zygote_msg {
    int kind;           /* enum wf_zygote_kind */
    unsigned seq;       /* the command's, for FORKED and FAILED */
    pid_t pid;
    int err;
};

/* The process name (comm) of a zygote and of its forking intermediate, so
 * that ps and tests tell them from the workers. */
#define WF_ZYGOTE_COMM "wf-zygote"
#define WF_FORKER_COMM "wf-forker"

#endif
