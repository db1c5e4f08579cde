/*
 * io.h - small descriptor helpers: whole writes and reads across short
 * transfers and EINTR, and descriptor flags.  All return 0 / -1 (errno set).
 */
#ifndef WF_IO_H
#define WF_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes; -1 with errno on failure (EPIPE when the peer left). */
int wf_write_all(int fd, const void *buf, size_t len);
/* Reads up to len bytes, retrying short reads until len or end of file;
 * returns the count (less than len only at end of file) or -1. */
ssize_t wf_read_full(int fd, void *buf, size_t len);
int wf_set_cloexec(int fd, int on);
int wf_set_nonblock(int fd, int on);

#endif
