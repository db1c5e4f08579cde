/*
 * io.h - small descriptor helpers: whole writes and reads across short
 * transfers and EINTR, and descriptor flags.  All return 0 / -1 (errno set).
 */
#ifndef WF_IO_H
#define WF_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Writes all len bytes; -1 with errno on failure (EPIPE when the peer left). */
int wf_write_all(int fd, const void *buf, size_t len);
/* Reads up to len bytes, retrying short reads until len or end of file;
 * returns the count (less than len only at end of file) or -1. */
ssize_t wf_read_full(int fd, void *buf, size_t len);
/* For non-blocking sockets, bounded by a deadline on progress: each call
 * waits at most timeout_ms (<= 0: forever) for the descriptor to become
 * ready whenever no byte can move, and fails with ETIMEDOUT when none did.
 *
 * wf_recv_some reads up to len bytes: the count (at least 1), 0 at end of
 * stream, or -1.  wf_send_all and wf_sendv_all write everything or fail
 * (EPIPE/ECONNRESET when the peer left); wf_sendv_all consumes iov. */
ssize_t wf_recv_some(int fd, void *buf, size_t len, int timeout_ms);
int wf_send_all(int fd, const void *buf, size_t len, int timeout_ms);
int wf_sendv_all(int fd, struct iovec *iov, int cnt, int timeout_ms);

/* Before closing a connection whose peer may still be sending (the rest of
 * a body that was refused): shutdown(SHUT_WR), so the peer sees the end of
 * the response, then reads and discards what arrives until end of file or
 * for at most ms milliseconds.  Closing at once with unread data would make
 * the kernel reset the connection, and the peer could lose the response it
 * has not read yet.  The caller closes fd. */
#define WF_LINGER_MS 1000
void wf_linger(int fd, int ms);
int wf_set_cloexec(int fd, int on);
int wf_set_nonblock(int fd, int on);

#endif
