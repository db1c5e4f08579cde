/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share: an invariant
 * check that aborts with a message (libFuzzer saves the input as a crash),
 * a reader that takes bytes off the front of the fuzzer's input, and a
 * small deterministic generator (the same input always runs the same way).
 *
 * Every target checks properties of the parser it drives, not only that it
 * does not crash; see each file's opening comment.
 */
#ifndef WF_FUZZ_H
#define WF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                      \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n  ", __FILE__, __LINE__,  \
                    #cond);                                                        \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* The fuzzer's input, consumed from the front. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline unsigned fuzz_byte(struct fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline unsigned fuzz_u16(struct fuzz_in *in)
{
    unsigned hi = fuzz_byte(in);
    return (hi << 8) | fuzz_byte(in);
}

/* xorshift64*, seeded from the input bytes: piece sizes and the like. */
static inline uint64_t fuzz_seed(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h ? h : 1;
}

static inline uint64_t fuzz_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

/* The oracle for a Content-Length: 1..18 ASCII digits, else -1.  Derived
 * another way than the parser under test (strspn and strtoll on a copy). */
static inline long long fuzz_ref_digits(const unsigned char *s, size_t n)
{
    char buf[19];

    if (n == 0 || n > sizeof buf - 1)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strspn(buf, "0123456789") != n)   /* a NUL in s stops it short too */
        return -1;
    return strtoll(buf, NULL, 10);
}

/* A heap copy of exactly n bytes, so a read past them is an ASan report. */
static inline unsigned char *fuzz_dup(const void *p, size_t n)
{
    unsigned char *b = malloc(n ? n : 1);

    if (!b)
        abort();
    if (n)
        memcpy(b, p, n);
    else
        b[0] = 0;
    return b;
}

#endif
