/*
 * fuzz_fcgi_libfcgi.c - the whole FastCGI input path, in process, with an
 * instrumented libfcgi (tests/fuzz/build-libfcgi.sh): the bytes a peer sends
 * on one connection go through the dispatcher's head walker (dispatch.c,
 * compiled into this file to reach its connection handling), then
 * libfcgi's FCGX_Accept_r, FCGX_GetStr, FCGX_PutStr and FCGX_Finish_r as
 * src/fcgi.c calls them, reading through our OS_Read over a socketpair,
 * exactly as a worker's request thread does; keep-alive connections go back
 * to the dispatcher and serve the next request.
 *
 * Input: a control byte (bits 0-1: --max-header-size; bits 2-3: how the
 * "application" reads the body: not at all, 1 byte, 100 bytes or 8 KiB at
 * a time; bit 4: --protocol auto), then the bytes of the connection.  They
 * are written to the peer's end of the socketpair, which is then shut down
 * for writing, so every read ends without waiting.
 *
 * Invariants (beyond ASan/UBSan staying quiet inside libfcgi):
 *   - libfcgi reads only through our OS_Read (the calls are counted through
 *     the linker's --wrap), and FCGX_Accept_r never refuses a head that the
 *     walker accepted;
 *   - libfcgi finds exactly the pairs the walker counted;
 *   - everything sent back is well-formed FastCGI records of the types a
 *     responder sends, for id 0 (management answers) or a request's id;
 *   - every connection is closed in the end, its descriptor with it.
 */
#include "dispatch.c"

#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>

#include "front.h"
#include "fuzz.h"

static struct wf_dispatch *disp;
static void *fcgi_state, *scgi_state;
static struct wf_server server;
static unsigned long os_reads;

#ifdef WF_FUZZ_REPLAY
/* Built by make check against the shared libfcgi (tests/fuzz/replay.c):
 * no --wrap there to count libfcgi's reads; the front's start-up self-test
 * still proves that they come to our OS_Read. */
#define COUNT_READS 0
#else
#define COUNT_READS 1
int __real_OS_Read(int fd, char *buf, size_t len);
int __wrap_OS_Read(int fd, char *buf, size_t len);

int __wrap_OS_Read(int fd, char *buf, size_t len)
{
    os_reads++;
    return __real_OS_Read(fd, buf, len);
}
#endif

static const size_t max_heads[4] = { 256, 4096, 65536, 1 << 20 };
static const size_t read_sizes[4] = { 0, 1, 100, 8192 };

#define MAX_REQUESTS 256
#define OUT_MAX (1 << 20)

struct peer {
    int fd;
    unsigned char *out;       /* what the server sent, up to OUT_MAX */
    size_t out_len;
    int truncated;            /* more than OUT_MAX: not checked */
};

static void drain(struct peer *p)
{
    for (;;) {
        static unsigned char scratch[65536];
        ssize_t r;
        if (p->out_len == OUT_MAX) {
            p->truncated = 1;
            r = recv(p->fd, scratch, sizeof scratch, MSG_DONTWAIT);
        } else {
            r = recv(p->fd, p->out + p->out_len, OUT_MAX - p->out_len, MSG_DONTWAIT);
            if (r > 0)
                p->out_len += (size_t)r;
        }
        if (r <= 0)
            return;
    }
}

/* The server's bytes: records of the types a responder sends, one
 * END_REQUEST per request at most.  (A management answer that did not fit
 * the socket may end cut: the connection was closed there.) */
static void check_output(const unsigned char *b, size_t n, unsigned long requests)
{
    size_t pos = 0;
    unsigned long ends = 0, refusals = 0;

    while (n - pos >= 8) {
        unsigned type = b[pos + 1], id = ((unsigned)b[pos + 2] << 8) | b[pos + 3];
        size_t clen = ((size_t)b[pos + 4] << 8) | b[pos + 5];
        FUZZ_CHECK(b[pos] == 1, "version %u sent at %zu", b[pos], pos);
        FUZZ_CHECK(type == WF_FCGI_STDOUT || type == WF_FCGI_STDERR || type == WF_FCGI_END_REQUEST ||
                   type == WF_FCGI_GET_VALUES_RESULT || type == WF_FCGI_UNKNOWN_TYPE,
                   "a record of type %u sent", type);
        FUZZ_CHECK((id == 0) == (type == WF_FCGI_GET_VALUES_RESULT || type == WF_FCGI_UNKNOWN_TYPE),
                   "type %u sent for id %u", type, id);
        if (type == WF_FCGI_END_REQUEST) {
            FUZZ_CHECK(clen == 8, "END_REQUEST of %zu bytes", clen);
            if (pos + 13 <= n && b[pos + 12] == WF_FCGI_UNKNOWN_ROLE)
                refusals++;     /* a role refused by the dispatcher */
            else
                ends++;
        }
        pos += 8 + clen + b[pos + 6];
        if (pos > n)
            break;
    }
    FUZZ_CHECK(ends <= requests, "%lu END_REQUEST records for %lu requests", ends, requests);
    FUZZ_CHECK(refusals <= 1, "%lu roles refused on one connection", refusals);
}

/* An SCGI request (--protocol auto): the other front, the same way. */
static int serve_scgi(struct wf_conn *c, size_t read_size)
{
    struct wf_request req;
    static const char resp[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n";
    int keep = 0;

    wf_req_init(&req);
    if (wf_front_scgi.start(scgi_state, c, &req) < 0) {
        wf_req_release(&req);
        return 0;
    }
    FUZZ_CHECK(req.content_length >= 0, "an SCGI request without CONTENT_LENGTH");
    if (read_size) {
        char buf[8192];
        ssize_t r;
        while ((r = req.ops->read(&req, buf, read_size)) > 0)
            ;
        if (r < 0)
            req.client_gone = 1;
    }
    if (!req.client_gone && req.ops->write(&req, resp, sizeof resp - 1) < 0)
        req.client_gone = 1;
    keep = wf_front_scgi.finish(scgi_state, &req);
    FUZZ_CHECK(keep == 0, "an SCGI connection kept");
    wf_req_release(&req);
    return keep;
}

/* One request on c, as worker.c runs it, with a trivial application. */
static int serve(struct wf_conn *c, size_t read_size)
{
    struct wf_request req;
    unsigned long reads_before = os_reads;
    unsigned walker_pairs = c->walk.nparams;
    static const char resp[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n";
    int keep = 0;

    wf_req_init(&req);
    if (wf_front_fcgi.start(fcgi_state, c, &req) < 0) {
        FUZZ_CHECK(0, "FCGX_Accept_r refused a head the walker accepted");
    }
    FUZZ_CHECK(!COUNT_READS || os_reads > reads_before, "FCGX_Accept_r did not read through our OS_Read");
    FUZZ_CHECK(req.nparams == walker_pairs, "libfcgi found %zu pairs, the walker %u", req.nparams,
               walker_pairs);
    if (read_size) {
        char buf[8192];
        ssize_t r;
        unsigned long long total = 0;
        while ((r = req.ops->read(&req, buf, read_size)) > 0 && total < (1u << 24))
            total += (unsigned long long)r;
        if (r < 0)
            req.client_gone = 1;
    }
    if (!req.client_gone && req.ops->write(&req, resp, sizeof resp - 1) < 0)
        req.client_gone = 1;
    keep = wf_front_fcgi.finish(fcgi_state, &req);
    wf_req_release(&req);
    return keep;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct wf_dispatch_opts o;
    int wake[2], lfd, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char err[256];
    static volatile sig_atomic_t stopping;

    signal(SIGPIPE, SIG_IGN);
    if (devnull >= 0)
        wf_log_set_fd(devnull);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || pipe2(wake, O_CLOEXEC) < 0)
        abort();
    memset(&o, 0, sizeof o);
    o.listen_fd = lfd;
    o.listen_family = AF_UNIX;
    o.wake_fd = wake[0];
    o.stopping = &stopping;
    o.protocol = WF_PROTO_FCGI;
    o.max_head = 1 << 20;
    o.header_timeout_ms = 5000;
    o.io_timeout_ms = 2000;
    o.max_conns = 16;
    o.fcgi_max_conns = 4;
    o.fcgi_max_reqs = 4;
    o.handoff_fd[0] = o.handoff_fd[1] = -1;
    disp = wf_dispatch_new(&o, err, sizeof err);
    if (!disp) {
        fprintf(stderr, "wf_dispatch_new: %s\n", err);
        abort();
    }
    server.listen_fd = lfd;
    server.threads = 1;
    server.dispatch = disp;
    /* FCGX_Init and the start-up self-test that libfcgi's reads come to
     * our OS_Read. */
    if (wf_front_fcgi.init(&server, err, sizeof err) < 0) {
        fprintf(stderr, "the FastCGI front refused to start: %s\n", err);
        abort();
    }
    FUZZ_CHECK(!COUNT_READS || os_reads > 0, "the self-test did not go through OS_Read");
    fcgi_state = wf_front_fcgi.thread_new(&server);
    scgi_state = wf_front_scgi.thread_new(&server);
    if (!fcgi_state || !scgi_state)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);
    int sv[2];
    struct peer peer;
    struct wf_conn *c;
    size_t sent = 0, read_size = read_sizes[(ctl >> 2) & 3];
    unsigned long requests = 0;
    int scgi = 0;
    long long now = wf_now_ms();

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    peer.fd = sv[1];
    peer.out = malloc(OUT_MAX);
    peer.out_len = 0;
    peer.truncated = 0;
    if (!peer.out)
        abort();
    while (sent < in.n) {
        ssize_t w = send(sv[1], in.p + sent, in.n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0)
            break;        /* the socket buffer is full: the rest is not sent */
        sent += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    wf_set_nonblock(sv[0], 1);

    /* accept_one(), for the connection made above. */
    pthread_mutex_lock(&disp->lock);
    disp->o.max_head = max_heads[ctl & 3];
    c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->fd = sv[0];
    c->proto = (ctl & 0x10) ? WF_PROTO_AUTO : WF_PROTO_FCGI;
    c->io_timeout_ms = (int)disp->o.io_timeout_ms;
    wf_fcgi_walk_init(&c->walk, disp->o.max_head);
    c->state = WF_CONN_BUSY;
    set_state(disp, c, WF_CONN_READING, now);
    disp->nconns++;
    conn_input(disp, c, now);
    pthread_mutex_unlock(&disp->lock);

    while (requests < MAX_REQUESTS) {
        struct wf_conn *next;
        pthread_mutex_lock(&disp->lock);
        if (disp->ready.n) {
            pthread_mutex_unlock(&disp->lock);
            next = wf_dispatch_next(disp);
            FUZZ_CHECK(next && (next->proto == WF_PROTO_FCGI || (next->proto == WF_PROTO_SCGI && (ctl & 0x10))),
                       "a ready connection of protocol %d", next ? (int)next->proto : -1);
            requests++;
            if (next->proto == WF_PROTO_SCGI) {
                scgi = 1;
                wf_dispatch_done(disp, next, serve_scgi(next, read_size));
            } else {
                wf_dispatch_done(disp, next, serve(next, read_size));
            }
            drain(&peer);
            continue;
        }
        next = disp->reading.head ? disp->reading.head : disp->idle.head;
        if (!next) {
            pthread_mutex_unlock(&disp->lock);
            break;
        }
        conn_input(disp, next, wf_now_ms());
        pthread_mutex_unlock(&disp->lock);
    }
    /* What is left (MAX_REQUESTS served) is closed, as at worker exit. */
    pthread_mutex_lock(&disp->lock);
    while (disp->reading.head)
        conn_close(disp, disp->reading.head);
    while (disp->idle.head)
        conn_close(disp, disp->idle.head);
    while (disp->ready.head)
        conn_close(disp, disp->ready.head);
    FUZZ_CHECK(disp->nconns == 0 && disp->busy == 0, "%u connections left", disp->nconns);
    pthread_mutex_unlock(&disp->lock);
    FUZZ_CHECK(fcntl(sv[0], F_GETFD) < 0, "the connection's descriptor is still open");

    drain(&peer);
    if (!peer.truncated && !scgi)
        check_output(peer.out, peer.out_len, requests);
    close(sv[1]);
    free(peer.out);
    return 0;
}
