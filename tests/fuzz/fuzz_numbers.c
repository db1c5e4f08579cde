/*
 * fuzz_numbers.c - the number parsers: CONTENT_LENGTH
 * (wf_parse_content_length, src/request.c, used by the FastCGI and SCGI
 * fronts and --max-body), and the option values wf_parse_uint and
 * wf_parse_mode (src/config.c).
 *
 * Input: a control byte selecting wf_parse_uint's range, then the text.
 *
 * Invariants, each against a reference written from the contract:
 *   - CONTENT_LENGTH: 1 to 18 decimal digits and nothing else (no sign,
 *     blank or second number), read exactly (leading zeros allowed); -1 for
 *     anything else, and never a negative value otherwise;
 *   - wf_parse_uint: digits only, value within [min, max], no overflow
 *     (checked with arithmetic that cannot overflow), a message on refusal;
 *   - wf_parse_mode: 1 to 5 octal digits, at most 07777;
 *   - socket activation (wf_listen_systemd_fd, src/listen.c): LISTEN_PID
 *     a number in [1, 2^31-1] (our pid: the descriptor 3; another: 0) and
 *     LISTEN_FDS in [0, 1024] (0: none, 1: descriptor 3, more: refused),
 *     anything else refused with a message.
 */
#include "autoconfig.h"

#include <limits.h>

#include "config.h"
#include "fuzz.h"
#include "listen.h"
#include "request.h"

static const unsigned long ranges[8][2] = {
    { 0, 0 }, { 1, 1024 }, { 256, 16 * 1024 * 1024 }, { 0, 65535 },
    { 1, 1000000000UL }, { 1, ULONG_MAX }, { 0, ULONG_MAX }, { 10, 9 },
};

/* Decimal text compared with max by length first, so nothing overflows:
 * 1 when s (digits only, leading zeros allowed) is <= max. */
static int fits(const char *s, unsigned long max, unsigned long *v)
{
    char m[32];
    size_t n, ml;

    while (*s == '0' && s[1])
        s++;
    n = strlen(s);
    ml = (size_t)snprintf(m, sizeof m, "%lu", max);
    if (n != ml)
        return n < ml ? (*v = strtoul(s, NULL, 10), 1) : 0;
    if (strcmp(s, m) > 0)
        return 0;
    *v = strtoul(s, NULL, 10);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    unsigned ctl = fuzz_byte(&in);
    unsigned char *exact = fuzz_dup(in.p, in.n);
    char *z = malloc(in.n + 1), err[512];
    long long cl = wf_parse_content_length((const char *)exact, in.n);
    unsigned long min = ranges[ctl & 7][0], max = ranges[ctl & 7][1], v = 12345, rv = 0;
    unsigned mode = 0;
    int digits = in.n > 0, octal = in.n > 0, r;
    size_t i;

    if (!z)
        abort();
    FUZZ_CHECK(cl == fuzz_ref_digits(exact, in.n), "CONTENT_LENGTH %lld, expected %lld", cl,
               fuzz_ref_digits(exact, in.n));
    FUZZ_CHECK(wf_parse_content_length(NULL, 0) == -1, "NULL parsed");

    memcpy(z, in.p, in.n);
    z[in.n] = '\0';
    for (i = 0; i < strlen(z); i++) {
        digits &= z[i] >= '0' && z[i] <= '9';
        octal &= z[i] >= '0' && z[i] <= '7';
    }
    if (strlen(z) != in.n || strlen(z) == 0)
        digits = octal = 0;    /* a NUL inside: the option ends there, so compare that */
    err[0] = '\0';
    r = wf_parse_uint("--x", z, min, max, &v, err, sizeof err);
    if (digits && fits(z, max, &rv) && rv >= min) {
        FUZZ_CHECK(r == 0 && v == rv, "'%s' in [%lu, %lu]: r %d v %lu, expected %lu", z, min, max, r, v, rv);
    } else if (strlen(z) == in.n) {
        FUZZ_CHECK(r == -1 && err[0] && v == 12345, "'%s' in [%lu, %lu] accepted as %lu", z, min, max, v);
    }

    err[0] = '\0';
    r = wf_parse_mode("--m", z, &mode, err, sizeof err);
    if (octal && strlen(z) <= 5 && strtoul(z, NULL, 8) <= 07777) {
        FUZZ_CHECK(r == 0 && mode == strtoul(z, NULL, 8), "mode '%s' -> %o", z, mode);
    } else if (strlen(z) == in.n) {
        FUZZ_CHECK(r == -1 && err[0], "mode '%s' accepted as %o", z, mode);
    }

    /* LISTEN_PID = the text, LISTEN_FDS = 1, our pid 42; then the other
     * way round. */
    {
        unsigned long pv = 0, nv = 0;
        int pid_ok = digits && fits(z, 0x7fffffffUL, &pv) && pv >= 1;
        int fds_ok = digits && fits(z, 1024, &nv);
        int want;

        if (strlen(z) == in.n) {
            err[0] = '\0';
            r = wf_listen_systemd_fd(z, "1", 42, err, sizeof err);
            want = !pid_ok ? -1 : pv == 42 ? 3 : 0;
            FUZZ_CHECK(r == want && (r >= 0 || err[0]), "LISTEN_PID '%s': %d, expected %d", z, r, want);
            err[0] = '\0';
            r = wf_listen_systemd_fd("42", z, 42, err, sizeof err);
            want = !fds_ok ? -1 : nv == 0 ? 0 : nv == 1 ? 3 : -1;
            FUZZ_CHECK(r == want && (r >= 0 || err[0]), "LISTEN_FDS '%s': %d, expected %d", z, r, want);
        }
    }
    free(z);
    free(exact);
    return 0;
}
