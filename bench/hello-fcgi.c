/*
 * hello-fcgi.c - the plain-C floor for bench/run: a libfcgi responder with
 * no Python, written the way fcgi2's examples/threaded.c is.
 *
 *   hello-fcgi [-p PROCS] [-t THREADS] [-s unix:PATH | -s HOST:PORT]
 *
 * Without -s it serves the listening socket it inherited as fd 0 (the
 * FCGI_LISTENSOCK_FILENO contract).  PROCS processes (forked after the socket
 * is open, the parent only waits and forwards SIGTERM/SIGINT) each run THREADS
 * threads; each thread owns an FCGX_Request and calls FCGX_Accept_r under a
 * mutex, as in threaded.c (but not while it holds a kept connection).
 * libfcgi's own accept, read, write and close paths are used unchanged (see /work/shared/LIBFCGI.md #4 and #5: a thread sticks
 * to a kept connection, so with FCGI_KEEP_CONN give it a thread per
 * connection; without it, closing waits for the peer's close).
 *
 *   /download?n=N   N bytes (default 10 MiB) of 'x', in 64 KiB FCGX_PutStr calls
 *   /upload         reads the whole body in 64 KiB reads, answers its length
 *   anything else   "Hello, world!\n" (14 bytes)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static int listen_fd;
static char chunk[65536];   /* read-only after start-up: the download bytes */

static const char HELLO[] = "Hello, world!\n";

static void serve(FCGX_Request *rq)
{
    const char *path = FCGX_GetParam("PATH_INFO", rq->envp);
    const char *qs = FCGX_GetParam("QUERY_STRING", rq->envp);

    if (!path)
        path = FCGX_GetParam("SCRIPT_NAME", rq->envp);
    if (!path)
        path = "/";
    if (strcmp(path, "/download") == 0) {
        long n = 10L * 1024 * 1024;
        if (qs && strncmp(qs, "n=", 2) == 0)
            n = atol(qs + 2);
        FCGX_FPrintF(rq->out,
                     "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %ld\r\n\r\n",
                     n);
        while (n > 0) {
            int k = n > (long)sizeof chunk ? (int)sizeof chunk : (int)n;
            if (FCGX_PutStr(chunk, k, rq->out) < 0)
                break;
            n -= k;
        }
    } else if (strcmp(path, "/upload") == 0) {
        static __thread char rbuf[65536];
        long total = 0;
        int k;
        while ((k = FCGX_GetStr(rbuf, (int)sizeof rbuf, rq->in)) > 0)
            total += k;
        char body[32];
        int bl = snprintf(body, sizeof body, "%ld", total);
        FCGX_FPrintF(rq->out,
                     "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                     bl, body);
    } else {
        FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n",
                  rq->out);
        FCGX_PutStr(HELLO, (int)sizeof HELLO - 1, rq->out);
    }
}

static void *thread_main(void *arg)
{
    FCGX_Request rq;

    (void)arg;
    if (FCGX_InitRequest(&rq, listen_fd, 0) != 0)
        return NULL;
    for (;;) {
        int rc;
        /* threaded.c serialises FCGX_Accept_r.  A thread whose request still
         * holds a kept connection must not take the lock: it would sit in
         * accept() holding it, once its peer goes, while other threads'
         * kept connections carry requests nobody reads. */
        if (rq.ipcFd >= 0) {
            rc = FCGX_Accept_r(&rq);
        } else {
            pthread_mutex_lock(&accept_lock);
            rc = FCGX_Accept_r(&rq);
            pthread_mutex_unlock(&accept_lock);
        }
        if (rc < 0)
            break;
        serve(&rq);
        FCGX_Finish_r(&rq);
    }
    return NULL;
}

static int open_listener(const char *a)
{
    int fd;

    if (strncmp(a, "unix:", 5) == 0 || strchr(a, '/')) {
        struct sockaddr_un su = {0};
        const char *p = strncmp(a, "unix:", 5) == 0 ? a + 5 : a;
        if (strlen(p) >= sizeof su.sun_path)
            return -1;
        su.sun_family = AF_UNIX;
        strcpy(su.sun_path, p);
        unlink(p);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&su, sizeof su) < 0)
            return -1;
    } else {
        char host[256];
        const char *colon = strrchr(a, ':');
        struct addrinfo hints = {0}, *res = NULL;
        int one = 1;
        if (!colon || (size_t)(colon - a) >= sizeof host)
            return -1;
        memcpy(host, a, (size_t)(colon - a));
        host[colon - a] = '\0';
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        if (getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &res) != 0)
            return -1;
        fd = socket(res->ai_family, SOCK_STREAM, 0);
        if (fd >= 0)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
            freeaddrinfo(res);
            return -1;
        }
        freeaddrinfo(res);
    }
    if (listen(fd, 1024) < 0)
        return -1;
    return fd;
}

static volatile sig_atomic_t got_term;
static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

static int run_worker(int threads)
{
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    int i;

    if (!t)
        return 1;
    for (i = 1; i < threads; i++)
        pthread_create(&t[i], NULL, thread_main, NULL);
    thread_main(NULL);
    return 0;
}

int main(int argc, char **argv)
{
    int procs = 1, threads = 1, c;
    const char *addr = NULL;

    while ((c = getopt(argc, argv, "p:t:s:h")) != -1) {
        switch (c) {
        case 'p': procs = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 's': addr = optarg; break;
        default:
            fprintf(stderr, "usage: hello-fcgi [-p PROCS] [-t THREADS] [-s unix:PATH|HOST:PORT]\n");
            return 2;
        }
    }
    if (procs < 1 || procs > 256 || threads < 1 || threads > 1024) {
        fprintf(stderr, "hello-fcgi: -p 1..256, -t 1..1024\n");
        return 2;
    }
    memset(chunk, 'x', sizeof chunk);
    if (FCGX_Init() != 0)
        return 1;
    listen_fd = 0;
    if (addr) {
        listen_fd = open_listener(addr);
        if (listen_fd < 0) {
            fprintf(stderr, "hello-fcgi: cannot listen on %s: %s\n", addr, strerror(errno));
            return 1;
        }
    }
    if (procs == 1)
        return run_worker(threads);

    pid_t *kids = calloc((size_t)procs, sizeof *kids);
    struct sigaction sa = {0};
    sigset_t block, old;
    int i, alive = 0;

    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    for (i = 0; i < procs; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            sigprocmask(SIG_SETMASK, &old, NULL);
            _exit(run_worker(threads));
        }
        if (pid > 0) {
            kids[i] = pid;
            alive++;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* The parent waits; on SIGTERM/SIGINT it stops its children. */
    while (alive > 0) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid > 0) {
            alive--;
            continue;
        }
        if (errno == EINTR && got_term) {
            for (i = 0; i < procs; i++)
                if (kids[i] > 0)
                    kill(kids[i], SIGTERM);
            got_term = 0;
        } else if (errno == ECHILD) {
            break;
        }
    }
    return 0;
}
