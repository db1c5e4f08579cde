/*
 * fcgi-load.c - a FastCGI / SCGI load generator for bench/run.
 *
 * DESIGN
 * One thread per connection (N <= 1024; meant for N <= 64).  Each thread
 * loops: connect (unless it holds a kept connection), send one request, read
 * the whole response, verify it, record the latency.  With --threads T, T
 * threads instead each drive their share of the connections through epoll
 * (the same steps, non-blocking; see "--threads" below), so the client's own
 * thread count stays T however many connections there are.  The records are
 * written here, without libfcgi, the way nginx writes them: BEGIN_REQUEST
 * (request id 1, responder, FCGI_KEEP_CONN with --keep), one PARAMS record
 * with about twenty nginx-like params, an empty PARAMS, the body in STDIN
 * records of --stdin-record bytes, an empty STDIN.  SCGI is a netstring
 * header, the body, and a connection per request.
 *
 * Every response is checked: a status of 200 (a "Status:" header, an
 * "HTTP/1.x NNN" line, or none meaning 200), the body length (--expect-len),
 * optionally the exact bytes (--expect-body) or their SHA-256
 * (--expect-sha256), and for FastCGI an END_REQUEST record with
 * FCGI_REQUEST_COMPLETE.  Bodies are streamed through the checks, never
 * held whole, so a 10 MiB download costs no memory.
 *
 * A kept connection the server closed between two requests (EOF or EPIPE
 * before any byte of the answer) is reopened and the request sent again,
 * once, as nginx does: that counts as a reconnect, not an error.
 *
 * Everything is bounded in time: every socket has send/receive timeouts
 * (--timeout), the run stops at --duration or after --requests, and an
 * alarm(2) kills the process if it is still alive well after that.
 *
 * Every latency is kept (microseconds, from connect or first byte sent to the
 * last byte read, 4 bytes a request), so the percentiles (p50, p90, p99,
 * p99.9: nearest rank over all requests) and the maximum are exact.
 *
 * Output: one JSON line on stdout.  Exit 0 when there were no errors, 1 when
 * there were, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- options ---------------------------------------------------------- */

static struct {
    const char *addr;
    int conns;
    double duration;          /* seconds; 0 = use requests */
    long requests;            /* 0 = use duration */
    int keep;
    int scgi;
    const char *method;
    const char *path;
    const char *query;
    long body_size;
    int stdin_record;
    long expect_len;          /* -1 = any */
    const char *expect_body;  /* unescaped */
    size_t expect_body_len;
    uint8_t expect_sha[32];
    int have_sha;
    double timeout;
    int expect_status;
    const char *label;
    int threads;              /* > 0: that many event-loop threads share the connections */
} opt = {
    .conns = 1, .duration = 0, .requests = 0, .method = NULL, .path = "/",
    .query = "", .stdin_record = 8192, .expect_len = -1, .timeout = 10,
    .expect_status = 200, .label = NULL,
};

/* ---- SHA-256 (FIPS 180-4), for --expect-sha256 ------------------------- */

struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
};

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->n = 0;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n)
{
    s->len += n;
    while (n > 0) {
        if (s->n == 0 && n >= 64) {
            sha256_block(s, p);
            p += 64;
            n -= 64;
            continue;
        }
        size_t k = 64 - s->n < n ? 64 - s->n : n;
        memcpy(s->buf + s->n, p, k);
        s->n += k;
        p += k;
        n -= k;
        if (s->n == 64) {
            sha256_block(s, s->buf);
            s->n = 0;
        }
    }
}

static void sha256_final(struct sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    int i;

    sha256_update(s, &pad, 1);
    while (s->n != 56)
        sha256_update(s, &zero, 1);
    for (i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, lenb, 8);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* ---- shared state ------------------------------------------------------ */

enum err_kind { E_CONNECT, E_IO, E_TIMEOUT, E_PROTO, E_STATUS, E_LENGTH, E_BODY, E_NKINDS };
static const char *const err_names[E_NKINDS] = {"connect", "io", "timeout", "protocol",
                                                "status", "length", "body"};

static atomic_long claimed;         /* requests handed out (--requests mode) */
static atomic_int stop_flag;
static struct timespec t_end;       /* --duration mode */
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static int msgs_printed;

static struct sockaddr_storage peer;
static socklen_t peer_len;

static uint8_t *req_prelude;        /* everything before the body */
static size_t req_prelude_len;
static uint8_t *body_chunk;         /* --stdin-record bytes of body */
static uint8_t *req_full;           /* --threads: the whole request, body included */
static size_t req_full_len;

struct worker {
    pthread_t tid;
    int idx;
    long done, errors, reconnects;
    long errs[E_NKINDS];
    uint64_t bytes_in, bytes_out;
    uint32_t *lat;                  /* microseconds */
    size_t nlat, caplat;
    int nconns;                     /* --threads: the connections this thread drives */
    int first;                      /* --threads: the index of its first connection */
    struct econn *conns;
};

static long conn_done[1024];        /* requests answered right, per connection */

static void note(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&msg_lock);
    if (msgs_printed < 10) {
        va_start(ap, fmt);
        fputs("fcgi-load: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (msgs_printed == 10) {
        fputs("fcgi-load: (further messages suppressed)\n", stderr);
    }
    msgs_printed++;
    pthread_mutex_unlock(&msg_lock);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- request construction --------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) {
            perror("fcgi-load: realloc");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void fcgi_len(struct buf *b, size_t n)
{
    uint8_t l[4];

    if (n < 128) {
        l[0] = (uint8_t)n;
        buf_put(b, l, 1);
    } else {
        l[0] = (uint8_t)((n >> 24) | 0x80);
        l[1] = (uint8_t)(n >> 16);
        l[2] = (uint8_t)(n >> 8);
        l[3] = (uint8_t)n;
        buf_put(b, l, 4);
    }
}

static void fcgi_header(struct buf *b, int type, size_t len, int pad)
{
    uint8_t h[8] = {1, (uint8_t)type, 0, 1, (uint8_t)(len >> 8), (uint8_t)len, (uint8_t)pad, 0};

    buf_put(b, h, 8);
}

struct param {
    char name[32];
    char value[1024];
};

static int make_params(struct param *ps)
{
    int n = 0;
    char uri[600];
    char clen[32];

    if (opt.query[0])
        snprintf(uri, sizeof uri, "%s?%s", opt.path, opt.query);
    else
        snprintf(uri, sizeof uri, "%s", opt.path);
    /* nginx's FastCGI params send an empty CONTENT_LENGTH without a body;
     * its SCGI module always sends a number, as the SCGI spec requires. */
    if (opt.body_size > 0 || opt.scgi || strcmp(opt.method, "POST") == 0)
        snprintf(clen, sizeof clen, "%ld", opt.body_size);
    else
        clen[0] = '\0';

#define P(N, V) do { snprintf(ps[n].name, sizeof ps[n].name, "%s", N); \
                     snprintf(ps[n].value, sizeof ps[n].value, "%s", V); n++; } while (0)
    /* SCGI wants CONTENT_LENGTH first; nginx's fastcgi_params order after it. */
    P("CONTENT_LENGTH", clen);
    P("QUERY_STRING", opt.query);
    P("REQUEST_METHOD", opt.method);
    P("CONTENT_TYPE", opt.body_size > 0 ? "application/octet-stream" : "");
    P("SCRIPT_NAME", "");
    P("PATH_INFO", opt.path);
    P("REQUEST_URI", uri);
    P("DOCUMENT_URI", opt.path);
    P("DOCUMENT_ROOT", "/var/www/html");
    P("SERVER_PROTOCOL", "HTTP/1.1");
    P("REQUEST_SCHEME", "http");
    P("GATEWAY_INTERFACE", "CGI/1.1");
    P("SERVER_SOFTWARE", "nginx/1.22.1");
    P("REMOTE_ADDR", "127.0.0.1");
    P("REMOTE_PORT", "53422");
    P("SERVER_ADDR", "127.0.0.1");
    P("SERVER_PORT", "80");
    P("SERVER_NAME", "localhost");
    P("HTTP_HOST", "localhost");
    P("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
    P("HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
    P("HTTP_ACCEPT_ENCODING", "gzip, deflate");
    P("HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5");
    if (opt.scgi)
        P("SCGI", "1");
#undef P
    return n;
}

static void build_request(void)
{
    struct param ps[32];
    int np = make_params(ps), i;
    struct buf b = {0}, pb = {0};
    static const uint8_t zeros[8];

    if (opt.scgi) {
        for (i = 0; i < np; i++) {
            buf_put(&pb, ps[i].name, strlen(ps[i].name) + 1);
            buf_put(&pb, ps[i].value, strlen(ps[i].value) + 1);
        }
        char lenbuf[32];
        int k = snprintf(lenbuf, sizeof lenbuf, "%zu:", pb.n);
        buf_put(&b, lenbuf, (size_t)k);
        buf_put(&b, pb.p, pb.n);
        buf_put(&b, ",", 1);
    } else {
        uint8_t begin[8] = {0, 1, (uint8_t)(opt.keep ? 1 : 0), 0, 0, 0, 0, 0};

        fcgi_header(&b, 1, 8, 0);
        buf_put(&b, begin, 8);
        for (i = 0; i < np; i++) {
            size_t nl = strlen(ps[i].name), vl = strlen(ps[i].value);
            fcgi_len(&pb, nl);
            fcgi_len(&pb, vl);
            buf_put(&pb, ps[i].name, nl);
            buf_put(&pb, ps[i].value, vl);
        }
        if (pb.n > 65535) {
            fprintf(stderr, "fcgi-load: params too long\n");
            exit(2);
        }
        int pad = (int)((8 - pb.n % 8) % 8);
        fcgi_header(&b, 4, pb.n, pad);
        buf_put(&b, pb.p, pb.n);
        buf_put(&b, zeros, (size_t)pad);
        fcgi_header(&b, 4, 0, 0);
        if (opt.body_size == 0)
            fcgi_header(&b, 5, 0, 0);
    }
    free(pb.p);
    req_prelude = b.p;
    req_prelude_len = b.n;
}

/* ---- connections ------------------------------------------------------ */

static int parse_addr(const char *a)
{
    memset(&peer, 0, sizeof peer);
    if (strncmp(a, "unix:", 5) == 0 || strchr(a, '/')) {
        struct sockaddr_un *su = (struct sockaddr_un *)&peer;
        const char *p = strncmp(a, "unix:", 5) == 0 ? a + 5 : a;
        if (strlen(p) >= sizeof su->sun_path)
            return -1;
        su->sun_family = AF_UNIX;
        strcpy(su->sun_path, p);
        peer_len = sizeof *su;
        return 0;
    }
    char host[256];
    const char *colon = strrchr(a, ':');
    if (!colon || (size_t)(colon - a) >= sizeof host)
        return -1;
    memcpy(host, a, (size_t)(colon - a));
    host[colon - a] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        size_t l = strlen(h);
        if (l && h[l - 1] == ']')
            h[l - 1] = '\0';
    }
    if (!h[0])
        h = "127.0.0.1";
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(h, colon + 1, &hints, &res) != 0 || !res)
        return -1;
    memcpy(&peer, res->ai_addr, res->ai_addrlen);
    peer_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int open_conn(void)
{
    int fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv;

    if (fd < 0)
        return -1;
    tv.tv_sec = (time_t)opt.timeout;
    tv.tv_usec = (suseconds_t)((opt.timeout - (double)tv.tv_sec) * 1e6);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (peer.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (connect(fd, (struct sockaddr *)&peer, peer_len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int write_all(int fd, const void *p, size_t n, uint64_t *count)
{
    const uint8_t *c = p;

    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
        *count += (uint64_t)w;
    }
    return 0;
}

static int writev_all(int fd, struct iovec *iov, int cnt, uint64_t *count)
{
    while (cnt > 0) {
        struct msghdr mh = {0};
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)cnt;
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        *count += (uint64_t)w;
        while (cnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int send_request(int fd, struct worker *w)
{
    if (write_all(fd, req_prelude, req_prelude_len, &w->bytes_out) < 0)
        return -1;
    long left = opt.body_size;
    if (opt.scgi) {
        while (left > 0) {
            size_t k = left > opt.stdin_record ? (size_t)opt.stdin_record : (size_t)left;
            if (write_all(fd, body_chunk, k, &w->bytes_out) < 0)
                return -1;
            left -= (long)k;
        }
        return 0;
    }
    if (left == 0)
        return 0;
    /* STDIN records, several per sendmsg. */
    static const uint8_t zeros[8];
    while (left > 0) {
        struct iovec iov[48];
        uint8_t hdr[16][8];
        int cnt = 0, h = 0;
        while (left > 0 && h < 15) {
            size_t k = left > opt.stdin_record ? (size_t)opt.stdin_record : (size_t)left;
            int pad = (int)((8 - k % 8) % 8);
            uint8_t *x = hdr[h++];
            x[0] = 1; x[1] = 5; x[2] = 0; x[3] = 1;
            x[4] = (uint8_t)(k >> 8); x[5] = (uint8_t)k; x[6] = (uint8_t)pad; x[7] = 0;
            iov[cnt].iov_base = x; iov[cnt++].iov_len = 8;
            iov[cnt].iov_base = body_chunk; iov[cnt++].iov_len = k;
            if (pad) {
                iov[cnt].iov_base = (void *)zeros; iov[cnt++].iov_len = (size_t)pad;
            }
            left -= (long)k;
        }
        if (left == 0) {
            uint8_t *x = hdr[h++];
            x[0] = 1; x[1] = 5; x[2] = 0; x[3] = 1; x[4] = 0; x[5] = 0; x[6] = 0; x[7] = 0;
            iov[cnt].iov_base = x; iov[cnt++].iov_len = 8;
        }
        if (writev_all(fd, iov, cnt, &w->bytes_out) < 0)
            return -1;
    }
    return 0;
}

/* ---- response parsing -------------------------------------------------- */

/* Receives the CGI-style response stream (FastCGI STDOUT content or the SCGI
 * connection's bytes): headers up to the blank line, then the body, which is
 * counted and checked without being kept. */
struct resp {
    char head[16384];
    size_t nhead;
    int in_body;
    int status;
    long content_length;     /* -1 = none */
    uint64_t body_len;
    struct sha256 sha;
    size_t body_cmp_ok;      /* bytes matched against --expect-body */
    int body_mismatch;
};

static void resp_init(struct resp *r)
{
    r->nhead = 0;
    r->in_body = 0;
    r->status = -1;
    r->content_length = -1;
    r->body_len = 0;
    r->body_cmp_ok = 0;
    r->body_mismatch = 0;
    if (opt.have_sha)
        sha256_init(&r->sha);
}

static void resp_body(struct resp *r, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (opt.have_sha)
        sha256_update(&r->sha, p, n);
    if (opt.expect_body && !r->body_mismatch) {
        if (r->body_len + n > opt.expect_body_len ||
            memcmp(opt.expect_body + r->body_len, p, n) != 0)
            r->body_mismatch = 1;
    }
    r->body_len += n;
}

static int parse_head(struct resp *r)
{
    char *p = r->head, *end = r->head + r->nhead;
    int first = 1;

    r->status = 200;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        char *le = eol;
        if (le > p && le[-1] == '\r')
            le--;
        *le = '\0';
        if (first && strncmp(p, "HTTP/", 5) == 0) {
            char *sp = strchr(p, ' ');
            r->status = sp ? atoi(sp + 1) : -1;
        } else if (strncasecmp(p, "Status:", 7) == 0) {
            r->status = atoi(p + 7);
        } else if (strncasecmp(p, "Content-Length:", 15) == 0) {
            r->content_length = atol(p + 15);
        }
        first = 0;
        p = eol + 1;
    }
    return 0;
}

/* Returns -1 when the header block is too large. */
static int resp_feed(struct resp *r, const uint8_t *p, size_t n)
{
    if (r->in_body) {
        resp_body(r, p, n);
        return 0;
    }
    while (n > 0) {
        if (r->nhead >= sizeof r->head - 1)
            return -1;
        r->head[r->nhead++] = (char)*p++;
        n--;
        size_t k = r->nhead;
        if ((k >= 4 && memcmp(r->head + k - 4, "\r\n\r\n", 4) == 0) ||
            (k >= 2 && memcmp(r->head + k - 2, "\n\n", 2) == 0)) {
            r->in_body = 1;
            r->nhead = k;
            r->head[k] = '\0';
            parse_head(r);
            resp_body(r, p, n);
            return 0;
        }
    }
    return 0;
}

static int resp_check(struct resp *r, char *why, size_t whylen)
{
    if (!r->in_body) {
        snprintf(why, whylen, "no end of headers in the response");
        return E_PROTO;
    }
    if (r->status != opt.expect_status) {
        char first[81];
        snprintf(first, sizeof first, "%.80s", r->head);
        for (char *c = first; *c; c++)
            if (*c == '\r' || *c == '\n')
                *c = ' ';
        snprintf(why, whylen, "status %d (%s)", r->status, first);
        return E_STATUS;
    }
    if (r->content_length >= 0 && (uint64_t)r->content_length != r->body_len) {
        snprintf(why, whylen, "Content-Length %ld but %llu body bytes", r->content_length,
                 (unsigned long long)r->body_len);
        return E_LENGTH;
    }
    if (opt.expect_len >= 0 && r->body_len != (uint64_t)opt.expect_len) {
        snprintf(why, whylen, "body of %llu bytes, expected %ld", (unsigned long long)r->body_len,
                 opt.expect_len);
        return E_LENGTH;
    }
    if (opt.expect_body && (r->body_mismatch || r->body_len != opt.expect_body_len)) {
        snprintf(why, whylen, "body differs from the expected bytes");
        return E_BODY;
    }
    if (opt.have_sha) {
        uint8_t d[32];
        sha256_final(&r->sha, d);
        if (memcmp(d, opt.expect_sha, 32) != 0) {
            snprintf(why, whylen, "body SHA-256 differs");
            return E_BODY;
        }
    }
    return -1;
}

enum { RES_OK = 0, RES_RETRY = 1, RES_ERR = 2 };

static int io_kind(void)
{
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? E_TIMEOUT : E_IO;
}

/* An incremental reader of one FastCGI response: it is fed whatever recv()
 * returned, in pieces of any size, and passes STDOUT content to resp_feed. */
struct fparse {
    uint8_t hdr[8];
    size_t nhdr;                /* header bytes so far; 8 = inside the record */
    int type;
    size_t clen, total, seen;   /* content length, content + padding, consumed */
    uint8_t endbody[8];
};

static void fparse_init(struct fparse *f)
{
    f->nhdr = 0;
}

/* Returns 0 when it wants more, 1 when END_REQUEST was read (and nothing
 * followed it), -1 on a protocol error (*kind and why set). */
static int fparse_feed(struct fparse *f, struct resp *r, const uint8_t *p, size_t n, int *kind,
                       char *why, size_t wl)
{
    for (;;) {
        if (f->nhdr < 8) {
            if (n == 0)
                return 0;
            size_t k = 8 - f->nhdr < n ? 8 - f->nhdr : n;
            memcpy(f->hdr + f->nhdr, p, k);
            f->nhdr += k;
            p += k;
            n -= k;
            if (f->nhdr < 8)
                return 0;
            const uint8_t *h = f->hdr;
            unsigned reqid = (unsigned)h[2] << 8 | h[3];
            if (h[0] != 1) {
                *kind = E_PROTO;
                snprintf(why, wl, "record version %u", h[0]);
                return -1;
            }
            if (reqid != 1) {
                *kind = E_PROTO;
                snprintf(why, wl, "record for request id %u", reqid);
                return -1;
            }
            f->type = h[1];
            if (f->type != 3 && f->type != 6 && f->type != 7) {
                *kind = E_PROTO;
                snprintf(why, wl, "unexpected record type %d", f->type);
                return -1;
            }
            f->clen = (size_t)h[4] << 8 | h[5];
            f->total = f->clen + h[6];
            f->seen = 0;
        }
        /* content + padding, streamed; the part of [seen, seen+k) that is content */
        size_t k = f->total - f->seen < n ? f->total - f->seen : n;
        size_t ck = f->seen < f->clen ? (f->clen - f->seen < k ? f->clen - f->seen : k) : 0;
        if (f->type == 6 && ck) {
            if (resp_feed(r, p, ck) < 0) {
                *kind = E_PROTO;
                snprintf(why, wl, "response headers too long");
                return -1;
            }
        } else if (f->type == 3) {
            for (size_t i = 0; i < ck && f->seen + i < 8; i++)
                f->endbody[f->seen + i] = p[i];
        }
        p += k;
        n -= k;
        f->seen += k;
        if (f->seen < f->total)
            return 0;                   /* n is 0: the rest comes later */
        f->nhdr = 0;                    /* the record is whole */
        if (f->type == 3) {
            if (f->clen < 8) {
                *kind = E_PROTO;
                snprintf(why, wl, "short END_REQUEST");
                return -1;
            }
            if (f->endbody[4] != 0) {
                *kind = E_PROTO;
                snprintf(why, wl, "END_REQUEST protocolStatus %u", f->endbody[4]);
                return -1;
            }
            if (n > 0) {
                *kind = E_PROTO;
                snprintf(why, wl, "%zu bytes after END_REQUEST", n);
                return -1;
            }
            return 1;
        }
    }
}

/* Reads one FastCGI response.  *got says whether any byte arrived. */
static int read_fcgi(int fd, struct worker *w, struct resp *r, int *kind, char *why, size_t wl,
                     int *got)
{
    static __thread uint8_t rb[65536];
    struct fparse f;

    fparse_init(&f);
    *got = 0;
    for (;;) {
        ssize_t n = recv(fd, rb, sizeof rb, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            *kind = n == 0 ? E_IO : io_kind();
            snprintf(why, wl, "%s before END_REQUEST", n == 0 ? "connection closed" : strerror(errno));
            return RES_ERR;
        }
        *got = 1;
        w->bytes_in += (uint64_t)n;
        int rc = fparse_feed(&f, r, rb, (size_t)n, kind, why, wl);
        if (rc != 0)
            return rc > 0 ? RES_OK : RES_ERR;
    }
}

static int read_scgi(int fd, struct worker *w, struct resp *r, int *kind, char *why, size_t wl,
                     int *got)
{
    static __thread uint8_t rb[65536];

    *got = 0;
    for (;;) {
        ssize_t n = recv(fd, rb, sizeof rb, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *kind = io_kind();
            snprintf(why, wl, "%s", strerror(errno));
            return RES_ERR;
        }
        if (n == 0)
            return RES_OK;
        *got = 1;
        w->bytes_in += (uint64_t)n;
        if (resp_feed(r, rb, (size_t)n) < 0) {
            *kind = E_PROTO;
            snprintf(why, wl, "response headers too long");
            return RES_ERR;
        }
    }
}

/* ---- the per-connection loop ------------------------------------------- */

static int should_stop(void)
{
    if (atomic_load(&stop_flag))
        return 1;
    if (opt.requests > 0)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec > t_end.tv_sec || (ts.tv_sec == t_end.tv_sec && ts.tv_nsec >= t_end.tv_nsec);
}

static int claim(void)
{
    if (opt.requests <= 0)
        return !should_stop();
    if (atomic_load(&stop_flag))
        return 0;
    return atomic_fetch_add(&claimed, 1) < opt.requests;
}

static void record_latency(struct worker *w, uint64_t us)
{
    if (w->nlat == w->caplat) {
        size_t cap = w->caplat ? w->caplat * 2 : 65536;
        uint32_t *p = realloc(w->lat, cap * sizeof *p);
        if (!p)
            return;
        w->lat = p;
        w->caplat = cap;
    }
    w->lat[w->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct resp *r = malloc(sizeof *r);
    int fd = -1;
    char why[256];

    if (!r)
        return NULL;
    while (claim()) {
        uint64_t t0 = now_us();
        int attempt, rc = RES_ERR, kind = E_IO;

        for (attempt = 0; attempt < 2; attempt++) {
            int reused = fd >= 0, got = 0;
            if (fd < 0) {
                fd = open_conn();
                if (fd < 0) {
                    kind = E_CONNECT;
                    snprintf(why, sizeof why, "connect %s: %s", opt.addr, strerror(errno));
                    rc = RES_ERR;
                    usleep(1000);     /* do not spin on a refused socket */
                    break;
                }
            }
            resp_init(r);
            if (send_request(fd, w) < 0) {
                kind = io_kind();
                snprintf(why, sizeof why, "send: %s", strerror(errno));
                rc = RES_ERR;
                got = 0;
            } else {
                rc = opt.scgi ? read_scgi(fd, w, r, &kind, why, sizeof why, &got)
                              : read_fcgi(fd, w, r, &kind, why, sizeof why, &got);
            }
            if (rc == RES_ERR && reused && !got && kind == E_IO && !opt.scgi) {
                /* the server closed the kept connection: reopen, once */
                close(fd);
                fd = -1;
                w->reconnects++;
                continue;
            }
            break;
        }
        if (rc == RES_OK) {
            int bad = resp_check(r, why, sizeof why);
            if (bad >= 0) {
                kind = bad;
                rc = RES_ERR;
            }
        }
        if (rc == RES_OK) {
            w->done++;
            conn_done[w->idx]++;
            record_latency(w, now_us() - t0);
            if (!opt.keep || opt.scgi) {
                close(fd);
                fd = -1;
            }
        } else {
            w->errors++;
            w->errs[kind]++;
            note("conn %d: %s: %s", w->idx, err_names[kind], why);
            if (fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    free(r);
    return NULL;
}

/* ---- --threads: event loops, each driving many connections ------------- */

/* Like nginx's workers, a few threads each multiplex their share of the
 * connections with epoll, so the load generator's own thread count (and its
 * share of the CPUs) does not grow with --conns.  The request is sent from
 * one prebuilt buffer (body included); the answer is read as it comes and
 * checked as in the blocking mode; a kept connection closed by the server
 * before any byte of the answer is reopened once (a reconnect). */
struct econn {
    int fd;
    int busy;                   /* a request is in flight */
    int reused, got, retried, want_out;
    uint64_t t0, last;          /* request start, last progress (µs) */
    size_t sent;
    struct fparse fp;
    struct resp r;
};

static void build_full_request(void)
{
    struct buf b = {0};
    static const uint8_t zeros[8];
    long left = opt.body_size;

    buf_put(&b, req_prelude, req_prelude_len);
    while (left > 0) {
        size_t k = left > opt.stdin_record ? (size_t)opt.stdin_record : (size_t)left;
        if (!opt.scgi) {
            int pad = (int)((8 - k % 8) % 8);
            uint8_t h[8] = {1, 5, 0, 1, (uint8_t)(k >> 8), (uint8_t)k, (uint8_t)pad, 0};
            buf_put(&b, h, 8);
            buf_put(&b, body_chunk, k);
            buf_put(&b, zeros, (size_t)pad);
        } else {
            buf_put(&b, body_chunk, k);
        }
        left -= (long)k;
    }
    if (!opt.scgi && opt.body_size > 0) {
        uint8_t h[8] = {1, 5, 0, 1, 0, 0, 0, 0};
        buf_put(&b, h, 8);
    }
    req_full = b.p;
    req_full_len = b.n;
}

static void ev_close(struct econn *c)
{
    if (c->fd >= 0) {
        close(c->fd);           /* leaves the epoll set with it */
        c->fd = -1;
    }
    c->want_out = 0;
}

static void ev_want_out(int ep, struct econn *c, int on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};

    if (c->want_out != on && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_out = on;
}

/* Sends what the socket takes; 0 (done or waiting for EPOLLOUT) or -1. */
static int ev_send(int ep, struct worker *w, struct econn *c)
{
    while (c->sent < req_full_len) {
        ssize_t k = send(c->fd, req_full + c->sent, req_full_len - c->sent, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ev_want_out(ep, c, 1);
                return 0;
            }
            return -1;
        }
        c->sent += (size_t)k;
        w->bytes_out += (uint64_t)k;
        c->last = now_us();
    }
    ev_want_out(ep, c, 0);
    return 0;
}

static int ev_attempt(int ep, struct worker *w, struct econn *c);

/* The attempt failed.  A kept connection the server closed before any byte
 * of the answer is reopened and the request resent, once; anything else is
 * an error.  Returns 0 when a new attempt is in flight. */
static int ev_fail(int ep, struct worker *w, struct econn *c, int kind, const char *why)
{
    int retry = c->reused && !c->got && kind == E_IO && !opt.scgi && !c->retried;

    ev_close(c);
    if (retry) {
        w->reconnects++;
        c->retried = 1;
        return ev_attempt(ep, w, c);
    }
    w->errors++;
    w->errs[kind]++;
    note("conn %d: %s: %s", w->idx, err_names[kind], why);
    return -1;
}

/* Sends the request on the kept connection or a new one; 0 when it is in flight. */
static int ev_attempt(int ep, struct worker *w, struct econn *c)
{
    char why[256];

    c->reused = c->fd >= 0;
    if (c->fd < 0) {
        c->fd = open_conn();
        if (c->fd < 0) {
            snprintf(why, sizeof why, "connect %s: %s", opt.addr, strerror(errno));
            usleep(1000);             /* do not spin on a refused socket */
            return ev_fail(ep, w, c, E_CONNECT, why);
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            snprintf(why, sizeof why, "epoll_ctl: %s", strerror(errno));
            return ev_fail(ep, w, c, E_IO, why);
        }
    }
    c->got = 0;
    c->sent = 0;
    c->last = now_us();
    resp_init(&c->r);
    fparse_init(&c->fp);
    if (ev_send(ep, w, c) < 0) {
        int kind = io_kind();
        snprintf(why, sizeof why, "send: %s", strerror(errno));
        return ev_fail(ep, w, c, kind, why);
    }
    return 0;
}

/* Starts the next request on this connection while there are requests to
 * send; closes it when there are none. */
static void ev_next(int ep, struct worker *w, struct econn *c)
{
    while (claim()) {
        c->t0 = now_us();
        c->retried = 0;
        if (ev_attempt(ep, w, c) == 0) {
            c->busy = 1;
            return;
        }
    }
    ev_close(c);
    c->busy = 0;
}

static void ev_done(int ep, struct worker *w, struct econn *c)
{
    char why[256];
    int bad = resp_check(&c->r, why, sizeof why);

    if (bad >= 0) {
        w->errors++;
        w->errs[bad]++;
        note("conn %d: %s: %s", w->idx, err_names[bad], why);
        ev_close(c);
    } else {
        w->done++;
        conn_done[w->first + (c - w->conns)]++;
        record_latency(w, now_us() - c->t0);
        if (!opt.keep || opt.scgi)
            ev_close(c);
    }
    ev_next(ep, w, c);
}

static void ev_readable(int ep, struct worker *w, struct econn *c)
{
    static __thread uint8_t rb[65536];
    char why[256];
    int kind = E_IO;

    for (;;) {
        ssize_t n = recv(c->fd, rb, sizeof rb, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            if (n == 0 && opt.scgi) {
                ev_done(ep, w, c);
                return;
            }
            kind = n == 0 ? E_IO : io_kind();
            snprintf(why, sizeof why, "%s before the end of the answer",
                     n == 0 ? "connection closed" : strerror(errno));
            break;
        }
        c->got = 1;
        c->last = now_us();
        w->bytes_in += (uint64_t)n;
        if (opt.scgi) {
            if (resp_feed(&c->r, rb, (size_t)n) < 0) {
                kind = E_PROTO;
                snprintf(why, sizeof why, "response headers too long");
                break;
            }
            continue;
        }
        int rc = fparse_feed(&c->fp, &c->r, rb, (size_t)n, &kind, why, sizeof why);
        if (rc > 0) {
            ev_done(ep, w, c);
            return;
        }
        if (rc < 0)
            break;
    }
    if (ev_fail(ep, w, c, kind, why) != 0)
        ev_next(ep, w, c);
}

static void *event_main(void *arg)
{
    struct worker *w = arg;
    struct econn *cs = calloc((size_t)w->nconns, sizeof *cs);

    w->conns = cs;
    int ep = epoll_create1(EPOLL_CLOEXEC), i, busy;
    uint64_t tmo = (uint64_t)(opt.timeout * 1e6), last_scan = now_us();

    if (!cs || ep < 0) {
        perror("fcgi-load: event loop");
        exit(2);
    }
    for (i = 0; i < w->nconns; i++) {
        cs[i].fd = -1;
        ev_next(ep, w, &cs[i]);
    }
    for (;;) {
        for (busy = 0, i = 0; i < w->nconns; i++)
            busy += cs[i].busy;
        if (!busy)
            break;
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 100);
        for (int k = 0; k < n; k++) {
            struct econn *c = evs[k].data.ptr;
            if (c->fd < 0 || !c->busy)
                continue;
            if ((evs[k].events & EPOLLOUT) && c->sent < req_full_len &&
                ev_send(ep, w, c) < 0) {
                char why[256];
                int kind = io_kind();
                snprintf(why, sizeof why, "send: %s", strerror(errno));
                if (ev_fail(ep, w, c, kind, why) != 0)
                    ev_next(ep, w, c);
                continue;
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                ev_readable(ep, w, c);
        }
        uint64_t now = now_us();
        if (now - last_scan >= 50000) {        /* per-connection timeouts */
            last_scan = now;
            for (i = 0; i < w->nconns; i++) {
                struct econn *c = &cs[i];
                if (c->busy && c->fd >= 0 && now - c->last > tmo) {
                    c->got = 1;                 /* a timeout is not retried */
                    if (ev_fail(ep, w, c, E_TIMEOUT, "no progress within --timeout") != 0)
                        ev_next(ep, w, c);
                }
            }
        }
    }
    close(ep);
    free(cs);
    return NULL;
}

/* ---- main -------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fputs("Usage: fcgi-load [OPTIONS] ADDR\n"
          "ADDR is unix:PATH, a PATH with a '/', or HOST:PORT.\n"
          "  --conns N           concurrent connections, one thread each (1)\n"
          "  --threads T         instead: T threads, each driving its share of the\n"
          "                      connections with epoll (like nginx's workers)\n"
          "  --duration SEC      run for SEC seconds, or\n"
          "  --requests N        send N requests in all\n"
          "  --keep              FastCGI FCGI_KEEP_CONN: reuse each connection\n"
          "                      (default: a new connection per request, like nginx)\n"
          "  --scgi              speak SCGI (a connection per request)\n"
          "  --method M          request method (GET, or POST with a body)\n"
          "  --path /x           PATH_INFO (and REQUEST_URI) (/)\n"
          "  --query Q           QUERY_STRING\n"
          "  --body-size N       request body of N bytes\n"
          "  --stdin-record N    body bytes per STDIN record / write (8192, max 65535)\n"
          "  --expect-len N      body length every response must have\n"
          "  --expect-body S     exact body (C escapes \\n \\r \\t \\\\ allowed)\n"
          "  --expect-sha256 HEX SHA-256 of the body\n"
          "  --expect-status N   expected status (200)\n"
          "  --timeout SEC       per-socket send/receive timeout (10)\n"
          "  --label S           copied into the JSON line\n"
          "Prints one JSON line; exit 0 when no request failed, 1 otherwise.\n",
          f);
}

static char *unescape(const char *s, size_t *len)
{
    char *o = malloc(strlen(s) + 1), *p = o;

    if (!o)
        exit(2);
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *p++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : *s;
        } else {
            *p++ = *s;
        }
    }
    *len = (size_t)(p - o);
    return o;
}

static double num_arg(const char *name, const char *v, double lo, double hi)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);

    if (errno || end == v || *end || d < lo || d > hi) {
        fprintf(stderr, "fcgi-load: bad %s: '%s' (%g..%g)\n", name, v, lo, hi);
        exit(2);
    }
    return d;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { fprintf(stderr, "fcgi-load: %s needs a value\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "--conns")) { NEEDV(); opt.conns = (int)num_arg(a, v, 1, 1024); }
        else if (!strcmp(a, "--duration")) { NEEDV(); opt.duration = num_arg(a, v, 0.01, 86400); }
        else if (!strcmp(a, "--requests")) { NEEDV(); opt.requests = (long)num_arg(a, v, 1, 1e10); }
        else if (!strcmp(a, "--threads")) { NEEDV(); opt.threads = (int)num_arg(a, v, 1, 256); }
        else if (!strcmp(a, "--keep")) opt.keep = 1;
        else if (!strcmp(a, "--scgi")) opt.scgi = 1;
        else if (!strcmp(a, "--method")) { NEEDV(); opt.method = v; }
        else if (!strcmp(a, "--path")) { NEEDV(); opt.path = v; }
        else if (!strcmp(a, "--query")) { NEEDV(); opt.query = v; }
        else if (!strcmp(a, "--body-size")) { NEEDV(); opt.body_size = (long)num_arg(a, v, 0, 1e10); }
        else if (!strcmp(a, "--stdin-record")) { NEEDV(); opt.stdin_record = (int)num_arg(a, v, 1, 65535); }
        else if (!strcmp(a, "--expect-len")) { NEEDV(); opt.expect_len = (long)num_arg(a, v, -1, 1e12); }
        else if (!strcmp(a, "--expect-body")) { NEEDV(); opt.expect_body = unescape(v, &opt.expect_body_len); }
        else if (!strcmp(a, "--expect-status")) { NEEDV(); opt.expect_status = (int)num_arg(a, v, 100, 999); }
        else if (!strcmp(a, "--timeout")) { NEEDV(); opt.timeout = num_arg(a, v, 0.001, 3600); }
        else if (!strcmp(a, "--label")) { NEEDV(); opt.label = v; }
        else if (!strcmp(a, "--expect-sha256")) {
            NEEDV();
            if (strlen(v) != 64) { fprintf(stderr, "fcgi-load: --expect-sha256 wants 64 hex digits\n"); return 2; }
            for (int k = 0; k < 32; k++) {
                unsigned x;
                if (sscanf(v + 2 * k, "%2x", &x) != 1) { fprintf(stderr, "fcgi-load: bad hex\n"); return 2; }
                opt.expect_sha[k] = (uint8_t)x;
            }
            opt.have_sha = 1;
        }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (a[0] == '-' ) { fprintf(stderr, "fcgi-load: unknown option %s\n", a); usage(stderr); return 2; }
        else if (!opt.addr) opt.addr = a;
        else { fprintf(stderr, "fcgi-load: extra argument %s\n", a); return 2; }
#undef NEEDV
    }
    if (!opt.addr || (opt.duration > 0) == (opt.requests > 0)) {
        fprintf(stderr, "fcgi-load: give ADDR and exactly one of --duration or --requests\n");
        usage(stderr);
        return 2;
    }
    if (!opt.method)
        opt.method = opt.body_size > 0 ? "POST" : "GET";
    if (opt.scgi && opt.keep) {
        fprintf(stderr, "fcgi-load: SCGI has no kept connections; --keep ignored\n");
        opt.keep = 0;
    }
    if (parse_addr(opt.addr) < 0) {
        fprintf(stderr, "fcgi-load: bad address %s\n", opt.addr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    build_request();
    body_chunk = malloc((size_t)opt.stdin_record);
    if (!body_chunk)
        return 2;
    for (i = 0; i < opt.stdin_record; i++)
        body_chunk[i] = (uint8_t)('a' + i % 26);
    if (opt.threads > 0) {
        if (opt.body_size > 64L * 1024 * 1024) {
            fprintf(stderr, "fcgi-load: --threads sends bodies of at most 64 MiB\n");
            return 2;
        }
        build_full_request();
    }

    /* The hard bound: whatever happens, this process is gone by then. */
    {
        double bound = opt.duration > 0 ? opt.duration + 2 * opt.timeout + 30
                                        : 3600 + 2 * opt.timeout;
        alarm((unsigned)bound);
    }

    int nw = opt.threads > 0 ? (opt.threads < opt.conns ? opt.threads : opt.conns) : opt.conns;
    struct worker *ws = calloc((size_t)nw, sizeof *ws);
    if (!ws)
        return 2;
    double t0 = now_s();
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    if (opt.duration > 0) {
        double whole = (double)(long)opt.duration;
        t_end.tv_sec += (time_t)whole;
        t_end.tv_nsec += (long)((opt.duration - whole) * 1e9);
        if (t_end.tv_nsec >= 1000000000L) {
            t_end.tv_sec++;
            t_end.tv_nsec -= 1000000000L;
        }
    }
    for (i = 0; i < nw; i++) {
        ws[i].idx = i;
        ws[i].nconns = opt.conns / nw + (i < opt.conns % nw);
        ws[i].first = i ? ws[i - 1].first + ws[i - 1].nconns : 0;
        if (pthread_create(&ws[i].tid, NULL, opt.threads > 0 ? event_main : worker_main,
                           &ws[i]) != 0) {
            perror("fcgi-load: pthread_create");
            atomic_store(&stop_flag, 1);
            nw = i;
            break;
        }
    }
    for (i = 0; i < nw; i++)
        pthread_join(ws[i].tid, NULL);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    double elapsed = now_s() - t0;

    long done = 0, errors = 0, reconnects = 0, errs[E_NKINDS] = {0};
    long cmin = conn_done[0], cmax = conn_done[0];
    for (i = 1; i < opt.conns; i++) {
        cmin = conn_done[i] < cmin ? conn_done[i] : cmin;
        cmax = conn_done[i] > cmax ? conn_done[i] : cmax;
    }
    uint64_t bin = 0, bout = 0;
    size_t nlat = 0;
    for (i = 0; i < nw; i++) {
        done += ws[i].done;
        errors += ws[i].errors;
        reconnects += ws[i].reconnects;
        bin += ws[i].bytes_in;
        bout += ws[i].bytes_out;
        nlat += ws[i].nlat;
        for (int k = 0; k < E_NKINDS; k++)
            errs[k] += ws[i].errs[k];
    }
    uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    size_t off = 0;
    for (i = 0; i < nw && lat; i++) {
        if (ws[i].nlat)
            memcpy(lat + off, ws[i].lat, ws[i].nlat * sizeof *lat);
        off += ws[i].nlat;
        free(ws[i].lat);
    }
    if (lat && nlat)
        qsort(lat, nlat, sizeof *lat, cmp_u32);
#define PCT(q) (nlat && lat ? lat[(size_t)((double)(nlat - 1) * (q) + 0.5)] : 0)
    printf("{");
    if (opt.label) {
        printf("\"label\":");
        json_str(opt.label);
        printf(",");
    }
    printf("\"proto\":\"%s\",\"keep\":%s,\"conns\":%d,\"threads\":%d,\"client_cpu_s\":%.3f,"
           "\"path\":", opt.scgi ? "scgi" : "fcgi", opt.keep ? "true" : "false", opt.conns, nw, cpu);
    json_str(opt.path);
    printf(",\"body_size\":%ld,\"requests\":%ld,\"errors\":%ld,\"reconnects\":%ld,"
           "\"elapsed_s\":%.4f,\"rps\":%.1f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,"
           "\"p999_us\":%u,\"max_us\":%u,\"conn_requests_min\":%ld,\"conn_requests_max\":%ld,\"bytes_in\":%llu,\"bytes_out\":%llu,\"error_kinds\":{",
           opt.body_size, done, errors, reconnects, elapsed, elapsed > 0 ? done / elapsed : 0.0,
           PCT(0.50), PCT(0.90), PCT(0.99), PCT(0.999), nlat && lat ? lat[nlat - 1] : 0, cmin, cmax,
           (unsigned long long)bin, (unsigned long long)bout);
    int first = 1;
    for (int k = 0; k < E_NKINDS; k++) {
        if (!errs[k])
            continue;
        printf("%s\"%s\":%ld", first ? "" : ",", err_names[k], errs[k]);
        first = 0;
    }
    printf("}}\n");
    fflush(stdout);
    free(lat);
    free(ws);
    return errors ? 1 : 0;
}
