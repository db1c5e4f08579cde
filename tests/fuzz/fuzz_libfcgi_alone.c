/*
 * fuzz_libfcgi_alone.c - a probe of libfcgi itself, not a test of ours: the
 * bytes of one connection go straight to an instrumented libfcgi
 * (tests/fuzz/build-libfcgi.sh), with no walker in front, as a responder
 * that uses libfcgi alone would run it: FCGX_Accept_r, FCGX_GetStr to the
 * end of the body, FCGX_PutStr, FCGX_Finish_r, the next request on a kept
 * connection.  Every crash or sanitizer report here is a defect of
 * libfcgi.  `fuzz.sh probe SECONDS` runs it, keeps going after crashes, and
 * replays each crash input again with FUZZ_VERDICT=1: the target then
 * prints our record walker's verdict and gives libfcgi only what would
 * reach it behind the walker and the dispatcher.  A crash on that replay
 * is a hole in our fence.
 *
 * Input: the bytes of the connection.  OS_IpcClose is ours (a plain close):
 * libfcgi's own waits up to 2 s for the peer to close first.
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcgi_walk.h"
#include "fuzz.h"

#define MAX_REQUESTS 64
/* The largest --max-header-size allowed: the fence must hold at any. */
#define MAX_HEAD (16 * 1024 * 1024)

static int lsock = -1;
static int verdict_only;

int OS_IpcClose(int ipcFd, int shutdown);

int OS_IpcClose(int ipcFd, int shutdown)
{
    return ipcFd >= 0 ? close(ipcFd) : 0;
}

/* What libfcgi gets of the stream behind our walker and dispatcher:
 * complete requests (head and body), the body so far of a request refused
 * or aborted inside its body, no management record (the dispatcher answers
 * and drops them), nothing of a head refused or left incomplete.  Prints
 * the walker's verdict; returns the bytes in a new buffer. */
static unsigned char *behind_walker(const uint8_t *data, size_t size, size_t *out_len)
{
    struct wf_fcgi_walk w;
    size_t pos = 0, prev = 0, used, n = 0;
    unsigned char *out = malloc(size ? size : 1);
    int in_body = 0;
    const char *how = NULL;

    if (!out)
        abort();
    wf_fcgi_walk_init(&w, MAX_HEAD);
    while (!how) {
        enum wf_fw_event ev = wf_fcgi_walk(&w, data + pos, size - pos, &used);
        pos += used;
        switch (ev) {
        case WF_FW_MGMT:
            prev = pos;
            break;
        case WF_FW_HEAD:
        case WF_FW_END:
            memcpy(out + n, data + prev, pos - prev);
            n += pos - prev;
            prev = pos;
            in_body = ev == WF_FW_HEAD;
            if (ev == WF_FW_END)
                wf_fcgi_walk_next(&w);
            break;
        case WF_FW_MORE:
            if (in_body) {
                memcpy(out + n, data + prev, size - prev);
                n += size - prev;
            }
            how = in_body ? "the stream ends inside a body" : "the stream ends between requests or "
                                                              "inside a head (nothing passed)";
            break;
        case WF_FW_ERROR:
        case WF_FW_ABORT:
            if (in_body && w.rec_start > prev) {
                memcpy(out + n, data + prev, (size_t)w.rec_start - prev);
                n += (size_t)w.rec_start - prev;
            }
            how = ev == WF_FW_ABORT ? "aborted" : w.why;
            break;
        }
    }
    printf("walker: %s at byte %zu of %zu; %zu bytes reach libfcgi\n", how, pos, size, n);
    *out_len = n;
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct sockaddr_un un;

    verdict_only = getenv("FUZZ_VERDICT") != NULL;
    signal(SIGPIPE, SIG_IGN);
    /* A listening socket with nobody connecting: when libfcgi gives up a
     * connection and wants the next, accept fails (EAGAIN) and
     * FCGX_Accept_r returns. */
    lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    if (lsock < 0 || bind(lsock, (struct sockaddr *)&un, sizeof(sa_family_t)) < 0 || listen(lsock, 1) < 0)
        abort();
    if (FCGX_Init() != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FCGX_Request fx;
    int sv[2], i;
    size_t sent = 0;
    char buf[4096];

    unsigned char *filtered = NULL;

    if (verdict_only) {
        filtered = behind_walker(data, size, &size);
        fflush(stdout);
        data = filtered;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    while (sent < size) {
        ssize_t w = send(sv[1], data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    FCGX_InitRequest(&fx, lsock, 0);
    fx.ipcFd = sv[0];
    fx.keepConnection = 1;
    for (i = 0; i < MAX_REQUESTS; i++) {
        if (FCGX_Accept_r(&fx) < 0)
            break;
        while (FCGX_GetStr(buf, sizeof buf, fx.in) > 0)
            ;
        FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n", fx.out);
        FCGX_Finish_r(&fx);
        while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
            ;
        if (fx.ipcFd < 0)
            break;
    }
    FCGX_Free(&fx, 1);
    if (fx.ipcFd >= 0)
        close(fx.ipcFd);
    close(sv[1]);
    free(filtered);
    return 0;
}
